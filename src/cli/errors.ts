import { isDelayMs, MAX_DELAY_MS } from '../limits.ts';

/** A failure the CLI reports as one line on stderr (no stack) and exit status 1. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Parse a TCP/UDP port (0 = any free port). */
export function parsePort(v: string, what = 'port'): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new CliError(`${what} must be an integer 0..65535, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Parse a non-negative number of milliseconds, at most MAX_DELAY_MS (src/limits.ts). */
export function parseMs(v: string, what: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new CliError(`${what} must be a non-negative number of milliseconds, got ${JSON.stringify(v)}`);
  }
  if (!isDelayMs(n)) throw new CliError(`${what} must be at most ${MAX_DELAY_MS} milliseconds (one hour), got ${JSON.stringify(v)}`);
  return n;
}

/** An environment variable's value, with empty meaning unset. */
export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
