/**
 * Composition: the one place that wires a transport, the CTAPHID channel layer, the authenticator and the
 * real Env ports (clock, rng, crypto, store, presence) together, with logging around the seams.
 */
import type { Logger } from 'pino';
import type { Env, RequestContext, Rng, Scheduler, UvModality } from '../ctap/authenticator/env.ts';
import { createAuthenticator, type Authenticator, type AttestationMode } from '../ctap/authenticator/authenticator.ts';
import { defaultProfile, type Profile } from '../ctap/authenticator/profile.ts';
import { speaksCtap2 } from '../ctap/authenticator/served.ts';
import { parseResponseApdu, swName, U2fIns } from '../ctap/u2f/apdu.ts';
import { CtapHidDevice, type HidApplication, type HidErrorSource } from '../ctap/hid/device.ts';
import { CtapCommand, ctapCommandName } from '../ctap/constants/commands.ts';
import { CtapStatus, statusName } from '../ctap/constants/status.ts';
import { isCtapError } from '../ctap/errors.ts';
import { toHex } from '../ctap/bytes.ts';
import { createMemoryTransport, type ClientPipe } from '../transports/memory.ts';
import { createUdpTransport, DEFAULT_UDP_HOST, DEFAULT_UDP_PORT } from '../transports/udp.ts';
import type { ReportTransport } from '../transports/types.ts';
import { createCrypto } from './env/crypto.ts';
import { createRandomRng, createSeededRng } from './env/rng.ts';
import { createDeviceScheduler } from './env/scheduler.ts';
import { createMemoryStore } from './env/memoryStore.ts';
import { createFileStore, defaultStorePath } from './env/fileStore.ts';
import { acquireStoreLock, type StoreLock } from './env/storeLock.ts';
import { guardStore } from './env/storeGuard.ts';
import { createPresence, type ConfigurablePresence, type PresenceMode } from './env/presence.ts';
import { checkTemplateSeeds, createSensor, type SensorOptions, type SimulatedSensor } from './env/verification.ts';
import { profileByName, profileNames } from './profiles.ts';
import { silentLogger } from './log.ts';
import { createDeviceFaults, isPowerLoss } from './faults/compose.ts';
import { applyProfileOverrides, type ProfileOverrides } from './faults/compat.ts';
import type { FaultRuleInput } from './faults/types.ts';
import { createDeviceControl } from './control/control.ts';
import type { DeviceControl } from './control/types.ts';

export type { Authenticator, AttestationMode };
/** Profiles selectable by name (`--profile`): src/profiles.ts. */
export { profileNames };

function resolveProfile(p: string | Profile | undefined): Profile | undefined {
  if (p === undefined || typeof p !== 'string') return p;
  const found = profileByName(p);
  if (!found) throw new TypeError(`unknown profile ${JSON.stringify(p)} (known: ${profileNames().join(', ')})`);
  return found;
}

export interface StartDeviceOptions {
  transport: 'memory' | 'udp';
  /** UDP bind address, default 127.0.0.1. */
  host?: string;
  /** UDP port, default 8111; 0 picks a free one (see `Device.address`). */
  port?: number;
  /**
   * 'memory' (nothing persisted) or a store file. Default: the file at defaultStorePath(). A store file is used by
   * one device at a time (`<file>.lock`, src/env/storeLock.ts): a second start on it rejects EMU_ERR_STORE_LOCKED.
   */
  store?: 'memory' | { path: string };
  attestation?: AttestationMode;
  /** What the device is: a profile name (see profileNames()) or a Profile. Default: the default profile. */
  profile?: string | Profile;
  /** Seeded randomness + deterministic signatures: the same seed gives byte-identical runs. */
  seed?: string;
  presence?: { mode?: PresenceMode; delayMs?: number; timeoutMs?: number };
  /**
   * The simulated biometric sensor: templates seeded at start (if absent), per-modality behaviour, enrollment
   * samples. Only for a profile with built-in UV (which always gets a sensor; by default every attempt matches).
   */
  verification?: SensorOptions;
  /** How long after power-up authenticatorReset is allowed (CTAP 2.1 §6.6), passed to the authenticator. */
  resetWindowMs?: number;
  logger?: Logger;
  /** Fault rules armed before the first request (scenarios); see /work/notes/faults-api.md. */
  faults?: FaultRuleInput[];
  /** Old-firmware limits on top of the profile (advertised and enforced), e.g. { maxCredentialCountInList: 1 }. */
  profileOverrides?: ProfileOverrides;
}

export interface Device {
  /** Where a UDP device listens (the real port when 0 was asked for). Undefined for memory. */
  readonly address?: { host: string; port: number };
  /** A new in-process client pipe (memory transport only). */
  connect(): ClientPipe;
  readonly authenticator: Authenticator;
  /** The user-presence port: change mode / delay while running. */
  readonly presence: ConfigurablePresence;
  /** The biometric sensor (script attempts, change policies, read the attempt history); iff the profile has uv. */
  readonly sensor?: SimulatedSensor;
  /** The control API: faults, history, state, credentials, PIN/UV, power (src/control/control.ts). */
  readonly control: DeviceControl;
  /** Drop volatile state, reload persistent state, restart the reset window (as unplug + replug). */
  powerCycle(): Promise<void>;
  /** Stop: release the socket, abort pending requests, cancel the device's timers, release the store file. Idempotent. */
  close(): Promise<void>;
}

/** CTAP command byte → short name (authenticatorGetInfo → getInfo). */
export const commandName = ctapCommandName;

/** U2F instruction byte → name (U2F_REGISTER …). */
const U2F_INS_NAMES = new Map<number, string>(Object.entries(U2fIns).map(([name, code]) => [code, name]));

export function u2fInsName(apdu: Uint8Array): string {
  const ins = apdu[1];
  if (ins === undefined) return 'empty';
  return U2F_INS_NAMES.get(ins) ?? `unknown(0x${ins.toString(16).padStart(2, '0')})`;
}

function cidHex(cid: number): string {
  return (cid >>> 0).toString(16).padStart(8, '0');
}

/** A sensor for a profile with built-in UV (default behaviour: every attempt matches); none otherwise. */
function createDeviceSensor(
  profile: Profile,
  options: SensorOptions | undefined,
  scheduler: Scheduler,
  rng: Rng,
): SimulatedSensor | undefined {
  if (!profile.uv) {
    if (options !== undefined) {
      throw new TypeError(
        `profile ${profile.name} has no built-in user verification: the verification option needs a profile with uv ` +
          `(${profileNames().filter((n) => profileByName(n)?.uv).join(', ') || 'none registered'})`,
      );
    }
    return undefined;
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError('verification: expected { templates?, fingerprint?, face?, enrollSamples?, delayMs? }');
  }
  checkTemplateSeeds(options?.templates, profile);
  return createSensor({ ...options, scheduler, rng });
}

/**
 * Seed templates into the persistent state, as many of each (modality, name) as asked for and not yet stored:
 * restarting a device on the same store file with the same options adds nothing.
 */
async function seedTemplates(
  authenticator: Authenticator,
  templates: readonly { modality: UvModality; name?: string }[],
  log: Logger,
): Promise<void> {
  const key = (modality: string, name: string | undefined): string => JSON.stringify([modality, name ?? null]);
  const stored = new Map<string, number>();
  for (const t of authenticator.templates()) {
    const k = key(t.modality, t.friendlyName);
    stored.set(k, (stored.get(k) ?? 0) + 1);
  }
  for (const t of templates) {
    const k = key(t.modality, t.name);
    const have = stored.get(k) ?? 0;
    if (have > 0) {
      stored.set(k, have - 1);
      continue;
    }
    await authenticator.enrollTemplate(t);
    log.info({ modality: t.modality, name: t.name }, 'seeded a biometric template');
  }
}

export async function startDevice(opts: StartDeviceOptions): Promise<Device> {
  const storeOpt = opts.store ?? { path: defaultStorePath() };
  // One process per store file (src/env/storeLock.ts): taken before the file is read, released by close().
  const lock = storeOpt === 'memory' ? undefined : await acquireStoreLock(storeOpt.path);
  try {
    return await openDevice({ ...opts, store: storeOpt }, lock);
  } catch (e) {
    await lock?.release();
    throw e;
  }
}

async function openDevice(opts: StartDeviceOptions, lock: StoreLock | undefined): Promise<Device> {
  const log = opts.logger ?? silentLogger();
  // The device's own timers, all cancelled by close() (a U2F touch wait must not hold the process open).
  const scheduler = createDeviceScheduler();
  const root = opts.seed !== undefined ? createSeededRng(opts.seed) : createRandomRng();
  // Independent streams: CID allocation draws must not shift credential keys in a seeded run.
  const rng = root.fork('authenticator');
  const hidRng = root.fork('ctaphid');
  const crypto = createCrypto({ rng: rng.fork('crypto'), deterministic: opts.seed !== undefined });
  const storeOpt = opts.store ?? { path: defaultStorePath() };
  // Fault seams (src/faults): ports decorated here, the dispatch middleware and the transport decorator below.
  const faults = createDeviceFaults({ scheduler, rng: root.fork('faults'), logger: log });
  for (const rule of opts.faults ?? []) faults.engine.add(rule);
  // Outermost: the guard that refuses saves after a failed power-up (src/env/storeGuard.ts).
  const store = guardStore(
    storeOpt === 'memory' ? faults.store(createMemoryStore()) : faults.store(createFileStore(storeOpt.path), storeOpt.path),
  );
  const presence = createPresence({ scheduler, ...opts.presence });
  const named = resolveProfile(opts.profile);
  const profile = opts.profileOverrides === undefined ? named : applyProfileOverrides(named ?? defaultProfile, opts.profileOverrides);
  const sensor = createDeviceSensor(profile ?? defaultProfile, opts.verification, scheduler, root.fork('sensor'));
  const env: Env = {
    scheduler,
    rng,
    crypto,
    store,
    presence: faults.presence(presence),
    ...(sensor ? { verification: faults.verification(sensor) } : {}),
  };

  // A corrupt or unreadable store rejects here, before any socket is bound, with the store's own message.
  const authenticator = await createAuthenticator({
    env,
    ...(profile !== undefined ? { profile } : {}),
    ...(opts.attestation !== undefined ? { attestation: opts.attestation } : {}),
    ...(opts.resetWindowMs !== undefined ? { resetWindowMs: opts.resetWindowMs } : {}),
    onInternalError(err, command) {
      if (isPowerLoss(err)) return; // store.powerLoss: the request is never answered, the device power-cycles
      log.error({ err, cmd: commandName(command) }, 'internal error while handling a CTAP command (answered CTAP1_ERR_OTHER)');
    },
  });

  await seedTemplates(authenticator, opts.verification?.templates ?? [], log);

  let cycling: Promise<void> | undefined;
  // The dispatch seam: fault middleware around the authenticator (src/faults/middleware.ts).
  const handleCbor = faults.dispatch(authenticator.handleCbor, { crypto, control: authenticator.control });

  const cbor = async (payload: Uint8Array, ctx: RequestContext): Promise<Uint8Array> => {
    if (cycling) await cycling;
    const t0 = scheduler.now();
    let status: number = CtapStatus.CTAP1_ERR_OTHER;
    try {
      const out = await handleCbor(payload, ctx);
      status = out[0] ?? CtapStatus.CTAP1_ERR_OTHER;
      return out;
    } catch (e) {
      if (isCtapError(e)) {
        status = e.status;
        throw e;
      }
      status = CtapStatus.CTAP1_ERR_OTHER;
      log.error({ err: e, cid: cidHex(ctx.channel), cmd: commandName(payload[0]) }, 'internal error while handling a CTAP command');
      return new Uint8Array([CtapStatus.CTAP1_ERR_OTHER]);
    } finally {
      // The line's fields are built only when it is written (a silent logger costs nothing per request).
      if (log.isLevelEnabled('info')) {
        const ms = Math.round((scheduler.now() - t0) * 10) / 10;
        log.info({ cid: cidHex(ctx.channel), cmd: commandName(payload[0]), status: statusName(status), ms }, 'ctap');
      }
    }
  };
  // CTAP1/U2F over CTAPHID_MSG: one log line per APDU (instruction, status word, time). handleMsg never throws.
  // The dispatch seam for U2F: status (as a status word), delay, drop (src/faults/u2fMiddleware.ts).
  const handleMsg = faults.dispatchMsg((apdu, ctx) => authenticator.handleMsg(apdu, ctx));
  const msg = async (apdu: Uint8Array, ctx: RequestContext): Promise<Uint8Array> => {
    if (cycling) await cycling;
    const t0 = scheduler.now();
    const out = await handleMsg(apdu, ctx);
    if (log.isLevelEnabled('info')) {
      const sw = parseResponseApdu(out)?.sw;
      const ms = Math.round((scheduler.now() - t0) * 10) / 10;
      log.info({ cid: cidHex(ctx.channel), ins: u2fInsName(apdu), sw: sw === undefined ? 'none' : swName(sw), ms }, 'u2f');
    }
    return out;
  };
  // CTAPHID_INIT capabilities follow the profile: CBOR iff it speaks CTAP2, NMSG iff it has no U2F.
  const app: HidApplication = {
    ...(speaksCtap2(authenticator.profile) ? { cbor } : {}),
    ...(authenticator.profile.u2f ? { msg } : {}),
  };

  let transport: ReportTransport;
  let address: { host: string; port: number } | undefined;
  let connect: () => ClientPipe;
  let onPowerCycleDatagram: ((peer: string) => void) | undefined;
  if (opts.transport === 'udp') {
    const udp = await createUdpTransport({
      host: opts.host ?? DEFAULT_UDP_HOST,
      port: opts.port ?? DEFAULT_UDP_PORT,
      onIgnored: (size, peer) => log.debug({ peer, size }, 'ignored a datagram that is not a 64-byte report'),
    });
    udp.onControl((event, peer) => {
      if (event === 'power-cycle') onPowerCycleDatagram?.(peer);
    });
    transport = udp;
    address = udp.address;
    connect = () => {
      throw new Error(`connect() is for the memory transport; connect to udp://${udp.address.host}:${udp.address.port}`);
    };
  } else if (opts.transport === 'memory') {
    const mem = createMemoryTransport();
    transport = mem.device;
    connect = mem.connect;
  } else {
    throw new TypeError(`unknown transport ${JSON.stringify(opts.transport)} (expected 'memory' or 'udp')`);
  }

  transport = faults.transport(transport);
  const trace = log.isLevelEnabled('trace');
  const hid = new CtapHidDevice({
    app,
    scheduler,
    rng: hidRng,
    send(report, peer) {
      if (trace) log.trace({ peer, dir: 'out', hex: toHex(report) }, 'report');
      transport.send(report, peer);
    },
    onError(err: unknown, source: HidErrorSource) {
      log.error({ err, source }, 'CTAPHID internal error');
    },
  });
  transport.onReport((report, peer) => {
    if (trace) log.trace({ peer, dir: 'in', hex: toHex(report) }, 'report');
    hid.handleReport(report, peer);
  });

  async function powerCycle(): Promise<void> {
    if (cycling) return cycling;
    // The UDP "cable" stays plugged: its clients do not re-INIT, so their channels survive.
    hid.powerCycle({ keepChannels: opts.transport === 'udp' });
    const run = (async () => {
      try {
        await authenticator.powerCycle();
      } catch (e) {
        store.powerUpFailed(e); // the state in memory is not what is stored: no save may replace it
        throw e;
      } finally {
        cycling = undefined;
      }
    })();
    cycling = run;
    log.info('power cycle');
    return run;
  }

  faults.engine.onPowerLoss = () => {
    log.warn('power loss (fault): the device power-cycles');
    powerCycle().catch((err: unknown) => log.error({ err }, 'power cycle after a power loss failed'));
  };

  onPowerCycleDatagram = (peer) => {
    log.info({ peer }, 'power-cycle datagram');
    powerCycle().catch((err: unknown) => log.error({ err }, 'power cycle failed'));
  };

  let closing: Promise<void> | undefined;
  const device: Device = {
    ...(address ? { address } : {}),
    connect: () => connect(),
    authenticator,
    control: createDeviceControl({ engine: faults.engine, authenticator, presence, ...(sensor ? { sensor } : {}), powerCycle, logger: log }),
    presence,
    ...(sensor ? { sensor } : {}),
    powerCycle,
    close() {
      closing ??= (async () => {
        try {
          hid.close();
          await transport.close();
        } finally {
          scheduler.close(); // pending presence / U2F / fault timers
          await store.close(); // lets the saves in flight finish
          await lock?.release();
        }
      })();
      return closing;
    },
  };
  return Object.freeze(device);
}
