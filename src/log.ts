/**
 * The root logger (pino). Only this file imports pino. Human-readable (pino-pretty) on a terminal,
 * newline-delimited JSON otherwise. Secrets are redacted by path before anything is written.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };
export type LogLevel = LevelWithSilent;
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Field names whose values never reach a log line, at the top level or nested up to two levels. */
const SECRET_FIELDS = [
  'pin',
  'newPin',
  'currentPin',
  'pinHash',
  'pinHashEnc',
  'newPinEnc',
  'pinUvAuthParam',
  'pinUvAuthToken',
  'pinToken',
  'token',
  'privateKey',
  'masterKey',
  'key',
  'secret',
  'sharedSecret',
  'hmacSecret',
  'salt',
  'saltEnc',
  'credRandom',
  'largeBlobKey',
  'password',
  'controlToken',
];

export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);
export const REDACTED = '[Redacted]';

export interface LoggerOptions {
  level?: LogLevel;
  /** Human-readable output. Default: when stdout is a TTY. */
  pretty?: boolean;
  /** Where lines go. Default: stdout, written synchronously (no lines lost on exit). */
  destination?: DestinationStream | NodeJS.WritableStream;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function createLogger({ level = 'info', pretty: wantPretty, destination }: LoggerOptions = {}): Logger {
  const usePretty = wantPretty ?? (destination === undefined && process.stdout.isTTY === true);
  const options = {
    level,
    base: { name: 'vfido' },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
  const dest = destination ?? pino.destination({ dest: 1, sync: true });
  if (usePretty) {
    // pino-pretty as an in-process stream (no worker thread), so lines are written before exit.
    const stream = pretty({
      destination: dest as NodeJS.WritableStream,
      sync: true,
      colorize: destination === undefined && process.stdout.isTTY === true,
      ignore: 'pid,hostname,name',
      translateTime: 'HH:MM:ss.l',
    });
    return pino(options, stream);
  }
  return pino(options, dest);
}

/** A logger that writes nothing (library default, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
