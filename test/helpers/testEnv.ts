/**
 * A deterministic Env for authenticator tests (OpenSK's TestEnv): seeded RNG, deterministic signatures,
 * a manual clock, a scriptable user and an inspectable in-memory store.
 */
import type { Env, PresenceRequest, PresenceResult, RequestContext, Store, UserPresence } from '../../ctap/authenticator/env.ts';
import type { Authenticator } from '../../ctap/authenticator/authenticator.ts';
import { decodeCanonical, encode, type CborMap } from '../../ctap/cbor.ts';
import type { KeepaliveStatus } from '../../ctap/constants/commands.ts';
import { createCrypto } from '../../src/env/crypto.ts';
import { createSeededRng } from '../../src/env/rng.ts';
import { createSensor, type SensorOptions, type SimulatedSensor } from '../../src/env/verification.ts';
import { ManualScheduler } from './scheduler.ts';

/** 'hold' leaves every request pending until the test settles it with `resolve()`. */
export type TestPresenceMode = 'approve' | 'deny' | 'timeout' | 'hold';

export interface TestPresence extends UserPresence {
  /** What the user does for requests without a queued answer. */
  mode: TestPresenceMode;
  /** Every request the device made, in order. */
  readonly requests: PresenceRequest[];
  /** Requests currently held (mode 'hold'). */
  readonly pending: number;
  /** Answer the next requests with these results, before falling back to `mode`. */
  queue(...results: PresenceResult[]): void;
  /** Settle the oldest held request. */
  resolve(result: PresenceResult): void;
}

export interface TestStore extends Store {
  /** The bytes last saved (undefined if none). */
  snapshot(): Uint8Array | undefined;
  /** Number of successful saves. */
  readonly saves: number;
  /** When set, load() rejects with this error. */
  failLoad: Error | undefined;
  /** When set, save() rejects with this error (the stored bytes stay as they were). */
  failSave: Error | undefined;
}

export interface TestEnvOptions {
  seed?: string | number;
  presence?: TestPresenceMode;
  /** Start from these stored bytes (e.g. another TestEnv's snapshot). */
  stored?: Uint8Array;
  /**
   * Attach a simulated biometric sensor (env.verification) with these behaviours, on the manual clock and a
   * forked seeded stream. `templates` is not applied here (use authenticator.enrollTemplate).
   */
  sensor?: SensorOptions;
}

export interface TestEnv {
  env: Env;
  scheduler: ManualScheduler;
  presence: TestPresence;
  store: TestStore;
  /** The simulated sensor, when `sensor` was given. */
  sensor?: SimulatedSensor;
}

function abortError(): Error {
  return Object.assign(new Error('presence request aborted'), { name: 'AbortError' });
}

export function createTestPresence(mode: TestPresenceMode = 'approve'): TestPresence {
  const requests: PresenceRequest[] = [];
  const queued: PresenceResult[] = [];
  const held: { resolve(r: PresenceResult): void }[] = [];
  const presence: TestPresence = {
    mode,
    requests,
    get pending() {
      return held.length;
    },
    queue(...results) {
      queued.push(...results);
    },
    resolve(result) {
      const next = held.shift();
      if (!next) throw new Error('no presence request is pending');
      next.resolve(result);
    },
    request(req) {
      requests.push(req);
      if (req.signal.aborted) return Promise.reject(abortError());
      const answer = queued.shift();
      if (answer) return Promise.resolve(answer);
      if (presence.mode === 'approve') return Promise.resolve('approved');
      if (presence.mode === 'deny') return Promise.resolve('denied');
      if (presence.mode === 'timeout') return Promise.resolve('timeout');
      return new Promise<PresenceResult>((resolve, reject) => {
        const entry = {
          resolve: (r: PresenceResult) => {
            req.signal.removeEventListener('abort', onAbort);
            resolve(r);
          },
        };
        const onAbort = (): void => {
          const i = held.indexOf(entry);
          if (i >= 0) held.splice(i, 1);
          reject(abortError());
        };
        req.signal.addEventListener('abort', onAbort, { once: true });
        held.push(entry);
      });
    },
  };
  return presence;
}

export function createTestStore(initial?: Uint8Array): TestStore {
  let data = initial ? new Uint8Array(initial) : undefined;
  let saves = 0;
  const store: TestStore = {
    failLoad: undefined,
    failSave: undefined,
    get saves() {
      return saves;
    },
    snapshot: () => (data ? new Uint8Array(data) : undefined),
    async load() {
      if (store.failLoad) throw store.failLoad;
      return data ? new Uint8Array(data) : undefined;
    },
    async save(next) {
      if (store.failSave) throw store.failSave;
      data = new Uint8Array(next);
      saves += 1;
    },
  };
  return store;
}

export function createTestEnv({ seed = 'vfido-test', presence = 'approve', stored, sensor }: TestEnvOptions = {}): TestEnv {
  const scheduler = new ManualScheduler();
  const rng = createSeededRng(seed);
  const crypto = createCrypto({ rng, deterministic: true });
  const testPresence = createTestPresence(presence);
  const store = createTestStore(stored);
  const env: Env = { scheduler, rng, crypto, store, presence: testPresence };
  const out: TestEnv = { env, scheduler, presence: testPresence, store };
  if (sensor) {
    out.sensor = createSensor({ ...sensor, scheduler, rng: rng.fork('sensor') });
    env.verification = out.sensor;
  }
  return out;
}

export interface TestRequest {
  ctx: RequestContext;
  /** Keepalive statuses reported, in order. */
  keepalives: KeepaliveStatus[];
  /** CTAPHID_CANCEL on this request's channel. */
  cancel(): void;
}

export function createTestRequest(channel = 1): TestRequest {
  const controller = new AbortController();
  const keepalives: KeepaliveStatus[] = [];
  return {
    ctx: { channel, signal: controller.signal, keepalive: (s) => keepalives.push(s) },
    keepalives,
    cancel: () => controller.abort(),
  };
}

export interface CtapReply {
  status: number;
  /** The response map, decoded strictly (so a non-canonical response fails the test). */
  body: CborMap | undefined;
  raw: Uint8Array;
}

/** Send `cmd || CBOR(params)` to the authenticator and decode the reply strictly. */
export async function ctapCall(
  auth: Authenticator,
  cmd: number,
  params?: unknown,
  request: TestRequest = createTestRequest(),
): Promise<CtapReply> {
  const payload = params === undefined ? new Uint8Array([cmd]) : new Uint8Array([cmd, ...encode(params)]);
  const raw = await auth.handleCbor(payload, request.ctx);
  const status = raw[0]!;
  let body: CborMap | undefined;
  if (raw.length > 1) {
    const decoded = decodeCanonical(raw.subarray(1), 16);
    if (!(decoded instanceof Map)) throw new Error('response body is not a CBOR map');
    body = decoded;
  }
  return { status, body, raw };
}

export interface MakeCredentialSpec {
  clientDataHash?: Uint8Array;
  rpId?: string;
  rpName?: string;
  userId?: Uint8Array;
  userName?: string;
  displayName?: string;
  /** pubKeyCredParams algorithms, in the RP's order. Default [-7]. */
  algs?: number[];
  excludeList?: Uint8Array[];
  options?: Record<string, unknown>;
  /** Extra or replacement top-level entries. */
  extra?: [number, unknown][];
}

/** authenticatorMakeCredential parameters (integer keys, CTAP 2.1 §6.1). */
export function makeCredentialParams(s: MakeCredentialSpec = {}): Map<number, unknown> {
  const user: Record<string, unknown> = { id: s.userId ?? new Uint8Array([1, 2, 3, 4]) };
  if (s.userName !== undefined) user.name = s.userName;
  if (s.displayName !== undefined) user.displayName = s.displayName;
  const rp: Record<string, unknown> = { id: s.rpId ?? 'example.com' };
  if (s.rpName !== undefined) rp.name = s.rpName;
  const m = new Map<number, unknown>([
    [1, s.clientDataHash ?? new Uint8Array(32).fill(0xcd)],
    [2, rp],
    [3, user],
    [4, (s.algs ?? [-7]).map((alg) => ({ alg, type: 'public-key' }))],
  ]);
  if (s.excludeList) m.set(5, s.excludeList.map((id) => ({ id, type: 'public-key' })));
  if (s.options) m.set(7, s.options);
  for (const [k, v] of s.extra ?? []) m.set(k, v);
  return m;
}

export interface GetAssertionSpec {
  rpId?: string;
  clientDataHash?: Uint8Array;
  allowList?: Uint8Array[];
  options?: Record<string, unknown>;
  extra?: [number, unknown][];
}

/** authenticatorGetAssertion parameters (integer keys, CTAP 2.1 §6.2). */
export function getAssertionParams(s: GetAssertionSpec = {}): Map<number, unknown> {
  const m = new Map<number, unknown>([
    [1, s.rpId ?? 'example.com'],
    [2, s.clientDataHash ?? new Uint8Array(32).fill(0xab)],
  ]);
  if (s.allowList) m.set(3, s.allowList.map((id) => ({ id, type: 'public-key' })));
  if (s.options) m.set(5, s.options);
  for (const [k, v] of s.extra ?? []) m.set(k, v);
  return m;
}
