/**
 * The control API (DESIGN.md "Control"): the one programmatic surface the HTTP API and the CLI map onto.
 * It validates JSON-shaped input (EmulatorError with stable codes, messages naming the field), converts
 * base64url ↔ bytes, and delegates: faults and history to the fault engine, state to authenticator.control
 * (every state change logged in the history), presence / sensor / templates to their ports.
 */
import { deflateRawSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Authenticator } from '../../ctap/authenticator/authenticator.ts';
import { CORRUPT_TARGETS, type CorruptTarget, type StoredCredential } from '../../ctap/authenticator/control.ts';
import type { CompressedBlob } from '../../ctap/authenticator/largeBlobArray.ts';
import { CoseAlg } from '../../ctap/authenticator/env.ts';
import type { Template } from '../../ctap/authenticator/state.ts';
import { toHex } from '../../ctap/bytes.ts';
import { MAX_PIN_BYTES } from '../../ctap/pin/policy.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import { encodeCoseKey } from '../../ctap/webauthn/cose.ts';
import type { ConfigurablePresence, PresenceMode } from '../env/presence.ts';
import type { SimulatedSensor } from '../env/verification.ts';
import type { FaultEngine } from '../faults/engine.ts';
import { stateOperations } from '../faults/state.ts';
import { publicKeyOf, rawPrivateKey, toPkcs8 } from './keys.ts';
import type { Bytes, CredentialInfo, CredentialInput, DeviceControl, StateSummary, TemplateInfo } from './types.ts';

export interface DeviceControlDeps {
  engine: FaultEngine;
  authenticator: Authenticator;
  presence: ConfigurablePresence;
  sensor?: SimulatedSensor;
  powerCycle(): Promise<void>;
  logger: Logger;
}

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

function invalid(message: string): EmulatorError {
  return new EmulatorError('EMU_ERR_INVALID_ARGUMENT', message);
}

/** Options of the argument checks. `secret`: a PIN, a private key, a token — never quoted in a message. */
export interface ArgOptions {
  secret?: boolean;
}

/**
 * What a message says it got: the value itself, or for a secret only its type and length (a PIN one
 * character too long must not end up in an HTTP answer, a log or a CI transcript).
 */
export function describeArg(v: unknown, { secret = false }: ArgOptions = {}): string {
  if (!secret) return JSON.stringify(v) ?? String(v);
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length} items`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** base64url (no padding; padding tolerated) or a Uint8Array. */
export function bytesArg(v: unknown, what: string, o: ArgOptions = {}): Uint8Array {
  if (v instanceof Uint8Array) return v.slice();
  if (typeof v === 'string' && /^[A-Za-z0-9_-]*={0,2}$/.test(v) && v.replace(/=+$/, '').length % 4 !== 1) {
    return new Uint8Array(Buffer.from(v, 'base64url'));
  }
  throw invalid(`${what}: expected base64url bytes, got ${describeArg(v, o)}`);
}

export function stringArg(v: unknown, what: string, max = 255, o: ArgOptions = {}): string {
  if (typeof v === 'string' && v.length > 0 && v.length <= max) return v;
  throw invalid(`${what}: expected a non-empty string (at most ${max} characters), got ${describeArg(v, o)}`);
}

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v.length <= 255) return v;
  throw invalid(`${what}: expected a string (at most 255 characters)`);
}

function intArg(v: unknown, what: string): number {
  if (Number.isSafeInteger(v) && (v as number) >= 0) return v as number;
  throw invalid(`${what}: expected a non-negative integer, got ${JSON.stringify(v)}`);
}

function boolArg(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  throw invalid(`${what}: expected true or false`);
}

function modalityArg(v: unknown): 'fingerprint' | 'face' {
  if (v === 'fingerprint' || v === 'face') return v;
  throw invalid(`modality: expected fingerprint or face, got ${JSON.stringify(v)}`);
}

function uuid(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function templateInfo(t: Template): TemplateInfo {
  return { id: b64(t.id), modality: t.modality, ...(t.friendlyName !== undefined ? { name: t.friendlyName } : {}) };
}

/**
 * The uncompressed blob, or undefined. CTAP 2.1 §6.10.3: DEFLATE [RFC 1951], and the result must be origSize
 * bytes. Entries in zlib framing [RFC 1950] are read too, as libfido2 does: python-fido2 0.9.x and libfido2
 * before 1.11 wrote them that way.
 */
function inflateBlob(blob: CompressedBlob | undefined): Uint8Array | undefined {
  if (!blob) return undefined;
  for (const inflate of [inflateRawSync, inflateSync]) {
    try {
      const out = inflate(blob.compressed, { maxOutputLength: Math.max(1, blob.origSize) });
      if (out.length === blob.origSize) return new Uint8Array(out);
    } catch {
      // not this framing
    }
  }
  return undefined;
}

function credentialInfo(s: StoredCredential, includePrivateKey: boolean, largeBlob?: Uint8Array): CredentialInfo {
  const c = s.credential;
  const info: CredentialInfo = {
    credentialId: b64(c.credentialId),
    rpId: c.rpId,
    alg: c.alg,
    signCount: s.discoverable ? s.credential.signCount : s.signCount,
    discoverable: s.discoverable,
    status: s.status,
    publicKey: b64(encodeCoseKey(c.alg, publicKeyOf(c.alg, c.privateKey))),
  };
  if (c.user !== undefined) {
    info.user = {
      id: b64(c.user.id),
      ...(c.user.name !== undefined ? { name: c.user.name } : {}),
      ...(c.user.displayName !== undefined ? { displayName: c.user.displayName } : {}),
    };
  }
  if (c.rpName !== undefined) info.rpName = c.rpName;
  if (includePrivateKey) info.privateKey = b64(toPkcs8(c.alg, c.privateKey));
  if (largeBlob !== undefined) info.largeBlob = b64(largeBlob);
  return info;
}

const PRESENCE_MODES: readonly PresenceMode[] = ['approve', 'deny', 'timeout'];

export function createDeviceControl(d: DeviceControlDeps): DeviceControl {
  const { engine, authenticator, presence, sensor } = d;
  const ac = authenticator.control;
  const profile = authenticator.profile;
  const op = stateOperations(engine, d.logger);

  function requireSensor(): SimulatedSensor {
    if (!sensor) throw new EmulatorError('EMU_ERR_UNSUPPORTED', `profile ${profile.name} has no built-in user verification (no sensor)`);
    return sensor;
  }

  function findInfo(id: Uint8Array): StoredCredential {
    const found = ac.credentials().find((s) => Buffer.compare(Buffer.from(s.credential.credentialId), Buffer.from(id)) === 0);
    if (!found) throw new EmulatorError('EMU_ERR_UNKNOWN_CREDENTIAL', `no credential with id ${b64(id)} on this device`);
    return found;
  }

  /** The credential as JSON, with its large blob when the array holds one for it. */
  const info = (s: StoredCredential, includePrivateKey: boolean): CredentialInfo =>
    credentialInfo(s, includePrivateKey, inflateBlob(ac.largeBlob(s.credential.credentialId)));

  async function summary(): Promise<StateSummary> {
    const s = ac.state();
    const aside = s.setAside ?? [];
    const serverSide = s.serverSideCredentials ?? [];
    const maxPin = profile.pin?.maxPinRetries ?? 0;
    const maxUv = profile.uv?.maxUvRetries ?? 0;
    return {
      profile: profile.name,
      aaguid: uuid(profile.aaguid),
      attestationCertificates: s.attestation.certChain.map((c) => Buffer.from(c).toString('base64')),
      suspended: s.suspended === true,
      uptimeMs: Math.round(ac.uptimeMs()),
      pin: {
        supported: profile.pin !== undefined,
        set: s.pin !== undefined,
        retries: s.pinRetries,
        maxRetries: maxPin,
        forceChange: s.forcePinChange,
        minLength: s.minPinLength,
        blocked: profile.pin !== undefined && s.pinRetries === 0,
        powerCycleRequired: ac.pinAuthBlocked(),
      },
      uv: {
        supported: profile.uv !== undefined,
        retries: s.uvRetries,
        maxRetries: maxUv,
        blocked: profile.uv !== undefined && s.uvRetries === 0,
        modalities: [...(profile.uv?.modalities ?? [])],
        templates: s.templates.map(templateInfo),
      },
      credentials: {
        discoverable: s.residentCredentials.length,
        capacity: profile.residentCredentialCapacity,
        deactivated: aside.filter((x) => x.reason === 'deactivated').length + serverSide.filter((c) => c.status === 'deactivated').length,
        damaged: aside.filter((x) => x.reason === 'damaged').length + serverSide.filter((c) => c.status === 'damaged').length,
        nonDiscoverable: serverSide.length,
        nonDiscoverableCounters: s.counters.size,
      },
      presence: { mode: presence.mode, delayMs: presence.delayMs, timeoutMs: presence.timeoutMs },
      faults: engine.list().length,
    };
  }

  const pinSetRetries = async (n: unknown): Promise<void> => {
    const v = intArg(n, 'retries');
    return op('pin.setRetries', { retries: v }, () => ac.setPinRetries(v));
  };
  const forceChange = async (on: unknown = true): Promise<void> => {
    const v = boolArg(on, 'on');
    return op('pin.forceChange', { on: v }, () => ac.setForcePinChange(v));
  };

  const control: DeviceControl = {
    faults: {
      add: (rule) => engine.add(rule),
      list: () => engine.list(),
      remove: (id) => engine.remove(stringArg(id, 'id', 64)),
      clear: () => engine.clear(),
    },
    history: { list: () => engine.history(), clear: () => engine.clearHistory() },
    state: { get: summary },

    credentials: {
      async list(opts = {}) {
        const include = opts.includePrivateKeys === undefined ? false : boolArg(opts.includePrivateKeys, 'includePrivateKeys');
        const rpId = optionalString(opts.rpId, 'rpId');
        return ac
          .credentials()
          .filter((s) => rpId === undefined || s.credential.rpId === rpId)
          .map((s) => info(s, include));
      },
      async add(c: CredentialInput) {
        if (typeof c !== 'object' || c === null) throw invalid('credential: expected { rpId, user: { id }, … }');
        const rpId = stringArg(c.rpId, 'rpId');
        const discoverable = c.discoverable === undefined ? true : boolArg(c.discoverable, 'discoverable');
        let user: { id: Uint8Array; name?: string; displayName?: string } | undefined;
        if (c.user !== undefined || discoverable) {
          if (typeof c.user !== 'object' || c.user === null) {
            throw invalid(`user: expected { id, name?, displayName? }${discoverable ? ' (required for a discoverable credential)' : ''}`);
          }
          const userId = bytesArg(c.user.id, 'user.id');
          if (userId.length < 1 || userId.length > 64) throw invalid('user.id: 1 to 64 bytes (WebAuthn user handle)');
          user = { id: userId };
          const name = optionalString(c.user.name, 'user.name');
          const displayName = optionalString(c.user.displayName, 'user.displayName');
          if (name !== undefined) user.name = name;
          if (displayName !== undefined) user.displayName = displayName;
        }
        const alg = c.alg === undefined ? profile.algorithms[0]! : c.alg;
        if (alg !== CoseAlg.ES256 && alg !== CoseAlg.EdDSA) throw invalid(`alg: expected -7 (ES256) or -8 (EdDSA), got ${JSON.stringify(c.alg)}`);
        const rpName = optionalString(c.rpName, 'rpName');
        const credentialId = c.credentialId === undefined ? undefined : bytesArg(c.credentialId, 'credentialId');
        const privateKey =
          c.privateKey === undefined ? undefined : rawPrivateKey(alg, bytesArg(c.privateKey, 'privateKey', { secret: true }), 'privateKey');
        const signCount = c.signCount === undefined ? undefined : intArg(c.signCount, 'signCount');
        // WebAuthn L3 §10.1.5 (largeBlob): the client DEFLATE-compresses (RFC 1951) before encrypting; so does this.
        const blob = c.largeBlob === undefined ? undefined : bytesArg(c.largeBlob, 'largeBlob');
        const largeBlob = blob === undefined ? undefined : { compressed: new Uint8Array(deflateRawSync(blob)), origSize: blob.length };
        return op('credentials.add', { rpId, discoverable }, async () => {
          const rec = await ac.addCredential({
            rpId,
            alg,
            discoverable,
            ...(user ? { user } : {}),
            ...(rpName !== undefined ? { rpName } : {}),
            ...(credentialId ? { credentialId } : {}),
            ...(privateKey ? { privateKey } : {}),
            ...(signCount !== undefined ? { signCount } : {}),
            ...(largeBlob ? { largeBlob } : {}),
          });
          return credentialInfo(rec, false, blob);
        });
      },
      async remove(id) {
        const b = bytesArg(id, 'id');
        return op('credentials.remove', { credentialId: b64(b) }, () => ac.removeCredential(b));
      },
      async deactivate(id) {
        const b = bytesArg(id, 'id');
        return op('credentials.deactivate', { credentialId: b64(b) }, () => ac.deactivateCredential(b));
      },
      async restore(id) {
        const b = bytesArg(id, 'id');
        return op('credentials.restore', { credentialId: b64(b) }, () => ac.restoreCredential(b));
      },
      async corrupt(id, target) {
        const b = bytesArg(id, 'id');
        if (!CORRUPT_TARGETS.includes(target)) throw invalid(`target: expected one of ${CORRUPT_TARGETS.join(', ')}, got ${JSON.stringify(target)}`);
        findInfo(b);
        return op('credentials.corrupt', { credentialId: b64(b), target }, async () =>
          info(await ac.corruptCredential(b, target as CorruptTarget), false),
        );
      },
      async setCounter(id, value, opts = {}) {
        const b = bytesArg(id, 'id');
        const v = intArg(value, 'value');
        if (v > 0xffffffff) throw invalid('value: a signature counter is at most 4294967295');
        const rpId = optionalString(opts.rpId, 'rpId');
        return op('credentials.setCounter', { credentialId: b64(b), value: v }, () => ac.setCounter(b, v, rpId));
      },
    },

    pin: {
      async set(pin) {
        const p = stringArg(pin, 'pin', MAX_PIN_BYTES, { secret: true }); // a cheap bound; the PIN rules are ctap/pin/policy.ts's (setPin)
        return op('pin.set', undefined, () => ac.setPin(p)); // the PIN itself never goes into the history
      },
      clear: () => op('pin.clear', undefined, () => ac.setPin(undefined)),
      setRetries: pinSetRetries,
      block: () => op('pin.block', undefined, () => ac.setPinRetries(0)),
      forceChange,
    },
    uv: {
      async setRetries(n) {
        const v = intArg(n, 'retries');
        return op('uv.setRetries', { retries: v }, () => ac.setUvRetries(v));
      },
      block: () => op('uv.block', undefined, () => ac.setUvRetries(0)),
    },
    forcePinChange: forceChange,
    lock: () => op('lock', undefined, () => ac.setSuspended(true)),
    unlock: () => op('unlock', undefined, () => ac.setSuspended(false)),
    powerCycle: () => op('powerCycle', undefined, () => d.powerCycle()),
    reset: () => op('reset', undefined, () => ac.factoryReset()),

    presence: {
      set(p) {
        if (typeof p !== 'object' || p === null) throw invalid('presence: expected { mode?, delayMs?, timeoutMs? }');
        if (p.mode !== undefined && !PRESENCE_MODES.includes(p.mode)) {
          throw invalid(`mode: expected one of ${PRESENCE_MODES.join(', ')}, got ${JSON.stringify(p.mode)}`);
        }
        try {
          presence.set(p);
        } catch (e) {
          throw invalid((e as Error).message);
        }
        engine.record({ fault: 'control', seam: 'state', effect: 'presence.set', detail: { ...p } });
      },
      get: () => ({ mode: presence.mode, delayMs: presence.delayMs, timeoutMs: presence.timeoutMs }),
    },
    sensor: {
      script(modality, steps) {
        const m = modalityArg(modality);
        try {
          requireSensor().script(m, steps);
        } catch (e) {
          if (e instanceof EmulatorError) throw e;
          throw invalid((e as Error).message);
        }
        engine.record({ fault: 'control', seam: 'state', effect: 'sensor.script', detail: { modality: m, steps: structuredClone(steps) } });
      },
      setPolicy(modality, behaviour) {
        const m = modalityArg(modality);
        try {
          requireSensor().setPolicy(m, behaviour);
        } catch (e) {
          if (e instanceof EmulatorError) throw e;
          throw invalid((e as Error).message);
        }
        engine.record({ fault: 'control', seam: 'state', effect: 'sensor.setPolicy', detail: { modality: m, behaviour: structuredClone(behaviour) } });
      },
      attempts: () =>
        requireSensor().attempts.map((a) => ({
          modality: a.modality,
          outcome: a.outcome,
          command: a.command,
          at: a.at,
          ...(a.templateId ? { templateId: b64(a.templateId) } : {}),
          ...(a.rpId !== undefined ? { rpId: a.rpId } : {}),
        })),
    },
    templates: {
      async enroll(t) {
        if (typeof t !== 'object' || t === null) throw invalid('template: expected { modality, name? }');
        const modality = modalityArg(t.modality);
        const name = optionalString(t.name, 'name');
        return op('templates.enroll', { modality }, async () =>
          templateInfo(await authenticator.enrollTemplate(name === undefined ? { modality } : { modality, name })),
        );
      },
      list: () => authenticator.templates().map(templateInfo),
    },
  };
  return Object.freeze(control);
}
