/** `vfido start`: run a virtual key on UDP until SIGINT / SIGTERM. */
import { startDevice, type AttestationMode, type Device, type StartDeviceOptions } from '../device.ts';
import { defaultStorePath } from '../env/fileStore.ts';
import type { PresenceMode } from '../env/presence.ts';
import { createLogger, isLogLevel, LOG_LEVELS, type LogLevel } from '../log.ts';
import { DEFAULT_UDP_HOST, DEFAULT_UDP_PORT, formatPeer } from '../../transports/udp.ts';
import { errnoCode } from '../errno.ts';
import { CliError, nonEmpty, parseMs, parsePort } from './errors.ts';
import type { CliIo } from './io.ts';
import { startControlServer, type ControlServer } from '../control/http/server.ts';
import { isHostName } from '../control/http/security.ts';
import { DEFAULT_CONTROL_PORT, defaultTokenPath, removeTokenFile, writeTokenFile } from '../control/http/tokenFile.ts';
import type { ProfileOverrides } from '../faults/compat.ts';
import { applyScenario, loadScenario, type AppliedScenario, type Scenario } from '../scenarios/index.ts';

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
  /** `--no-control` sets this to false. */
  control?: boolean;
  controlPort?: string;
  controlHost?: string;
  controlAllowRemote?: boolean;
  /** `--control-allowed-host NAME`, repeatable: more names accepted in the control API's Host header. */
  controlAllowedHost?: string[];
  tokenFile?: string;
  /** `--profile-override k=v`, repeatable. */
  profileOverride?: string[];
  /** A YAML scenario (src/scenarios): device options, initial state, fault rules. */
  scenario?: string;
}

const ATTESTATIONS: readonly AttestationMode[] = ['none', 'self', 'basic'];
const PRESENCE_MODES: readonly PresenceMode[] = ['approve', 'deny', 'timeout'];

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`${what} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** The HTTP control API of a started key (src/control/http); undefined with --no-control. */
export interface ControlPlan {
  host: string;
  port: number;
  allowRemote: boolean;
  /** --control-allowed-host: names (no port) accepted in Host besides loopback and the bind address. */
  allowedHosts?: string[];
  /** Explicit --token-file; default: defaultTokenPath(actual port). */
  tokenFile?: string;
}

export interface StartPlan {
  options: StartDeviceOptions;
  logLevel: LogLevel;
  /** What the listening line says about the store. */
  storeLabel: string;
  control?: ControlPlan;
  /** --scenario: applied after the start (its device options are merged in by runStart, flags winning). */
  scenario?: string;
}

/** `--profile-override maxCredentialCountInList=1` (repeatable) → ProfileOverrides; startDevice checks names and ranges. */
export function parseProfileOverrides(pairs: readonly string[]): ProfileOverrides | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(\d+)$/.exec(pair.trim());
    if (!m) throw new CliError(`--profile-override must be NAME=INTEGER (e.g. maxCredentialCountInList=1), got ${JSON.stringify(pair)}`);
    out[m[1]!] = Number(m[2]);
  }
  return out as ProfileOverrides;
}

/**
 * The control API: on by default (the CLI's control commands need it), on 127.0.0.1:8112, or on any free port
 * when the UDP port is 0 (a throwaway key gets a throwaway control port). `--no-control` turns it off.
 */
function planControl(flags: StartFlags, env: NodeJS.ProcessEnv, udpPort: number): ControlPlan | undefined {
  if (flags.control === false) return undefined;
  const portText = flags.controlPort ?? nonEmpty(env.VFIDO_CONTROL_PORT);
  const port =
    portText === undefined ? (udpPort === 0 ? 0 : DEFAULT_CONTROL_PORT) : parsePort(portText, flags.controlPort ? '--control-port' : 'VFIDO_CONTROL_PORT');
  const allowedHosts = (flags.controlAllowedHost ?? []).map((h) => {
    const name = h.trim();
    if (!isHostName(name)) {
      throw new CliError(`--control-allowed-host must be a host name or address without a port, got ${JSON.stringify(h)}`);
    }
    return name;
  });
  return {
    host: flags.controlHost ?? '127.0.0.1',
    port,
    allowRemote: flags.controlAllowRemote === true,
    ...(allowedHosts.length ? { allowedHosts } : {}),
    ...(flags.tokenFile !== undefined ? { tokenFile: flags.tokenFile } : {}),
  };
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
  } else if (flags.scenario !== undefined && flags.store === undefined) {
    // A scenario describes a starting state: it goes into a fresh memory store, not the user's key, unless --store.
    store = 'memory';
    storeLabel = 'memory, scenario state';
  } else {
    const storePath = flags.store ?? nonEmpty(env.VFIDO_STORE) ?? defaultStorePath('default', { env });
    store = { path: storePath };
    storeLabel = storePath;
  }

  const presence: NonNullable<StartDeviceOptions['presence']> = {};
  if (flags.presence !== undefined) presence.mode = oneOf(flags.presence, PRESENCE_MODES, '--presence');
  if (flags.presenceDelay !== undefined) presence.delayMs = parseMs(flags.presenceDelay, '--presence-delay');
  if (flags.presenceTimeout !== undefined) presence.timeoutMs = parseMs(flags.presenceTimeout, '--presence-timeout');

  const profileOverrides = parseProfileOverrides(flags.profileOverride ?? []);
  const options: StartDeviceOptions = {
    transport: 'udp',
    host: flags.host ?? DEFAULT_UDP_HOST,
    port,
    store,
    presence,
    ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
    ...(flags.attestation !== undefined ? { attestation: oneOf(flags.attestation, ATTESTATIONS, '--attestation') } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(profileOverrides ? { profileOverrides } : {}),
  };
  const control = planControl(flags, env, port);
  return {
    options,
    logLevel: levelText,
    storeLabel,
    ...(control ? { control } : {}),
    ...(flags.scenario !== undefined ? { scenario: flags.scenario } : {}),
  };
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

/** Control server startup failures → one sentence. */
export function describeControlError(e: unknown, plan: ControlPlan): string {
  const where = `http://${plan.host.includes(':') ? `[${plan.host}]` : plan.host}:${plan.port}`;
  switch (errnoCode(e)) {
    case 'EADDRINUSE':
      return `cannot serve the control API on ${where}: the port is in use (another vfido running? try --control-port, or --no-control)`;
    case 'EADDRNOTAVAIL':
      return `cannot serve the control API on ${where}: no such local address`;
    case 'EACCES':
      return `cannot serve the control API on ${where}: permission denied`;
  }
  return e instanceof Error ? e.message : String(e);
}

interface RunningControl {
  server: ControlServer;
  tokenFile: string;
}

/** Serve the started key as authenticator "default" and leave the token where the CLI commands look. */
async function startControl(plan: ControlPlan, device: Device, logger: ReturnType<typeof createLogger>, io: CliIo): Promise<RunningControl> {
  let server: ControlServer;
  try {
    server = await startControlServer({
      host: plan.host,
      port: plan.port,
      allowRemote: plan.allowRemote,
      ...(plan.allowedHosts ? { allowedHosts: plan.allowedHosts } : {}),
      logger,
      authenticators: { default: device },
    });
  } catch (e) {
    throw new CliError(describeControlError(e, plan));
  }
  const tokenFile = plan.tokenFile ?? defaultTokenPath(server.port, { env: io.env });
  try {
    await writeTokenFile(tokenFile, server.token);
  } catch (e) {
    await server.close();
    throw new CliError(`cannot write the control token file ${tokenFile}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { server, tokenFile };
}

/** The scenario's device options under the command line's: flags win, presence merges field by field. */
export function withScenario(options: StartDeviceOptions, scenario: Scenario): StartDeviceOptions {
  const d = scenario.device;
  const presence = { ...d.presence, ...options.presence };
  return {
    ...options,
    ...(options.profile === undefined && d.profile !== undefined ? { profile: d.profile } : {}),
    ...(options.seed === undefined && d.seed !== undefined ? { seed: d.seed } : {}),
    ...(options.attestation === undefined && d.attestation !== undefined ? { attestation: d.attestation } : {}),
    ...(d.verification !== undefined ? { verification: d.verification } : {}),
    ...(d.profileOverrides !== undefined || options.profileOverrides !== undefined
      ? { profileOverrides: { ...d.profileOverrides, ...options.profileOverrides } }
      : {}),
    presence,
  };
}

async function readScenario(path: string): Promise<Scenario> {
  try {
    return await loadScenario(path);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

/** Run until a stop signal. Resolves with the exit status. */
export async function runStart(flags: StartFlags, io: CliIo): Promise<number> {
  const plan = planStart(flags, io.env);
  const scenario = plan.scenario !== undefined ? await readScenario(plan.scenario) : undefined;
  const options = scenario ? withScenario(plan.options, scenario) : plan.options;
  const logger = createLogger({ level: plan.logLevel });
  const stopped = io.stopSignal();
  let device: Device;
  try {
    device = await startDevice({ ...options, logger });
  } catch (e) {
    throw new CliError(describeStartError(e, options));
  }
  let control: RunningControl | undefined;
  let applied: AppliedScenario | undefined;
  try {
    // The scenario's state and faults go in before anyone can connect through the control API.
    if (scenario) applied = await applyScenario(device, scenario);
    if (plan.control) control = await startControl(plan.control, device, logger, io);
  } catch (e) {
    await device.close();
    if (e instanceof CliError) throw e;
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  const { host, port } = device.address!;
  io.out(`vfido: virtual key listening on udp://${formatPeer(host, port)} (store: ${plan.storeLabel})`);
  if (scenario && applied) {
    const n = Object.keys(applied.credentials).length;
    io.out(`vfido: scenario "${scenario.name}" applied (${n} credential${n === 1 ? '' : 's'}, ${applied.faults.length} fault${applied.faults.length === 1 ? '' : 's'} armed)`);
  }
  if (control) {
    io.out(`vfido: control API on ${control.server.url} (authenticator "default"; token file: ${control.tokenFile})`);
    // The token itself only on a terminal: non-interactive output usually ends up in CI logs.
    if (io.interactive) io.out(`vfido: control token: ${control.server.token}`);
  }
  const signal = await stopped;
  logger.info({ signal }, 'stopping');
  if (control) {
    await control.server.close();
    await removeTokenFile(control.tokenFile).catch(() => undefined);
  }
  await device.close();
  return 0;
}
