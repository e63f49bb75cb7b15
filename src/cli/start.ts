/** `vfido start`: run a virtual key on UDP until SIGINT / SIGTERM. */
import { startDevice, type AttestationMode, type Device, type StartDeviceOptions } from '../device.ts';
import { defaultStorePath } from '../env/fileStore.ts';
import type { PresenceMode } from '../env/presence.ts';
import { createLogger, isLogLevel, LOG_LEVELS, type LogLevel } from '../log.ts';
import { DEFAULT_UDP_HOST, DEFAULT_UDP_PORT, formatPeer } from '../../transports/udp.ts';
import { CliError, errnoCode, nonEmpty, parseMs, parsePort } from './errors.ts';
import type { CliIo } from './io.ts';

export interface StartFlags {
  transport?: string;
  host?: string;
  port?: string;
  store?: string;
  memoryStore?: boolean;
  profile?: string;
  attestation?: string;
  seed?: string;
  logLevel?: string;
  presence?: string;
  presenceDelay?: string;
  presenceTimeout?: string;
}

const ATTESTATIONS: readonly AttestationMode[] = ['none', 'self', 'basic'];
const PRESENCE_MODES: readonly PresenceMode[] = ['approve', 'deny', 'timeout'];

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`${what} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export interface StartPlan {
  options: StartDeviceOptions;
  logLevel: LogLevel;
  /** What the listening line says about the store. */
  storeLabel: string;
}

/** Flags + environment (VFIDO_STORE, VFIDO_PORT, VFIDO_LOG_LEVEL) → device options. Flags win. */
export function planStart(flags: StartFlags, env: NodeJS.ProcessEnv): StartPlan {
  const transport = flags.transport ?? 'udp';
  if (transport === 'memory') {
    throw new CliError('the memory transport is in-process only: use startDevice() from the TypeScript API');
  }
  if (transport !== 'udp') throw new CliError(`transport must be udp, got ${JSON.stringify(transport)}`);
  if (flags.memoryStore && flags.store !== undefined) throw new CliError('use either --store PATH or --memory-store, not both');

  const portText = flags.port ?? nonEmpty(env.VFIDO_PORT);
  const port = portText === undefined ? DEFAULT_UDP_PORT : parsePort(portText, flags.port ? '--port' : 'VFIDO_PORT');
  const levelText = flags.logLevel ?? nonEmpty(env.VFIDO_LOG_LEVEL) ?? 'info';
  if (!isLogLevel(levelText)) {
    throw new CliError(`log level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(levelText)}`);
  }
  let store: StartDeviceOptions['store'];
  let storeLabel: string;
  if (flags.memoryStore) {
    store = 'memory';
    storeLabel = 'memory, nothing persisted';
  } else {
    const storePath = flags.store ?? nonEmpty(env.VFIDO_STORE) ?? defaultStorePath('default', { env });
    store = { path: storePath };
    storeLabel = storePath;
  }

  const presence: NonNullable<StartDeviceOptions['presence']> = {};
  if (flags.presence !== undefined) presence.mode = oneOf(flags.presence, PRESENCE_MODES, '--presence');
  if (flags.presenceDelay !== undefined) presence.delayMs = parseMs(flags.presenceDelay, '--presence-delay');
  if (flags.presenceTimeout !== undefined) presence.timeoutMs = parseMs(flags.presenceTimeout, '--presence-timeout');

  const options: StartDeviceOptions = {
    transport: 'udp',
    host: flags.host ?? DEFAULT_UDP_HOST,
    port,
    store,
    presence,
    ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
    ...(flags.attestation !== undefined ? { attestation: oneOf(flags.attestation, ATTESTATIONS, '--attestation') } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
  };
  return { options, logLevel: levelText, storeLabel };
}

/** Startup failures → one sentence for stderr. */
export function describeStartError(e: unknown, options: StartDeviceOptions): string {
  const where = `${options.host}:${options.port}`;
  switch (errnoCode(e)) {
    case 'EADDRINUSE':
      return `cannot listen on udp://${where}: the port is in use (another vfido or simulator running? try --port)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on udp://${where}: no such local address`;
    case 'EACCES':
      return `cannot listen on udp://${where}: permission denied`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on udp://${where}: unknown host ${JSON.stringify(options.host)}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Run until a stop signal. Resolves with the exit status. */
export async function runStart(flags: StartFlags, io: CliIo): Promise<number> {
  const plan = planStart(flags, io.env);
  const logger = createLogger({ level: plan.logLevel });
  const stopped = io.stopSignal();
  let device: Device;
  try {
    device = await startDevice({ ...plan.options, logger });
  } catch (e) {
    throw new CliError(describeStartError(e, plan.options));
  }
  const { host, port } = device.address!;
  io.out(`vfido: virtual key listening on udp://${formatPeer(host, port)} (store: ${plan.storeLabel})`);
  const signal = await stopped;
  logger.info({ signal }, 'stopping');
  await device.close();
  return 0;
}
