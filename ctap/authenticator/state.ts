/**
 * Persistent state: what the device *holds* across power cycles (DESIGN.md "Persistent state").
 * Treated as an immutable value: every mutation builds a new PersistentState, which DeviceState.commit()
 * saves first and adopts second, so memory never runs ahead of the store (write-ahead, CHECKLIST G12).
 * Encoded as one CBOR map with text keys and a schema version; decoded leniently (our own data).
 */
import { decodeLenient, encode, type CborValue } from '../cbor.ts';
import { EmulatorError } from '../errors.ts';
import type { UserEntity } from '../messages/entities.ts';
import { CoseAlg } from './env.ts';
import type { Profile } from './profile.ts';

export const STATE_SCHEMA_VERSION = 1;

export interface ResidentCredential {
  credentialId: Uint8Array;
  rpId: string;
  rpName?: string;
  user: UserEntity;
  alg: CoseAlg;
  privateKey: Uint8Array;
  signCount: number;
  /** Creation sequence number: larger is newer (CTAP 2.1 §6.2.2: "sorted by creation time, newest first"). */
  seq: number;
  /** CTAP 2.1 §12.1 credProtect level (1, 2 or 3) when the extension set one; absent = userVerificationOptional. */
  credProtect?: number;
  /** CTAP 2.1 §12.2 credBlob stored at creation (at most the profile's maxCredBlobLength bytes). */
  credBlob?: Uint8Array;
  /** CTAP 2.1 §12.3 largeBlobKey: 32 bytes, when the credential was made with the extension. */
  largeBlobKey?: Uint8Array;
}

export interface AttestationMaterial {
  /** AAGUID the certificate was issued for. */
  aaguid: Uint8Array;
  privateKey: Uint8Array;
  /** [attestation certificate, CA certificate], DER. */
  certChain: Uint8Array[];
  /**
   * Enterprise attestation certificate (same key and CA, with the device serial number), DER. Absent from
   * stores written before issue 4: enterprise attestation then uses certChain[0].
   */
  enterpriseCertificate?: Uint8Array;
}

/** An enrolled biometric template (fingerprint via bioEnrollment, face via configuration / control API). */
export interface Template {
  id: Uint8Array;
  modality: 'fingerprint' | 'face';
  friendlyName?: string;
}

/** The PIN as CTAP 2.1 §6.5.5.5 stores it: LEFT(SHA-256(pin), 16), plus its length in code points. */
export interface StoredPin {
  hash: Uint8Array;
  codePoints: number;
}

export interface PersistentState {
  schemaVersion: typeof STATE_SCHEMA_VERSION;
  /** 32-byte AES-256-GCM key wrapping every credential ID. */
  masterKey: Uint8Array;
  attestation: AttestationMaterial;
  residentCredentials: readonly ResidentCredential[];
  /** Sign counters of non-resident credentials, keyed by hex(SHA-256(credentialId)). */
  counters: ReadonlyMap<string, number>;
  /** Next creation sequence number. */
  nextSeq: number;
  /** Current PIN; undefined = no PIN set. */
  pin?: StoredPin;
  /** CTAP 2.1 §6.5.2.2 pinRetries (persistent; decremented before each comparison). */
  pinRetries: number;
  /** uvRetries of built-in user verification (persistent). */
  uvRetries: number;
  /** CTAP 2.1 §6.5 forcePINChange. */
  forcePinChange: boolean;
  /** Current minimum PIN length in code points (raised by authenticatorConfig; reset restores the profile's). */
  minPinLength: number;
  /** Current alwaysUv setting (factory value from the profile). */
  alwaysUv: boolean;
  /** Enrolled biometric templates, all modalities. */
  templates: readonly Template[];
  /** CTAP 2.2 uvCountSinceLastPinEntry: built-in UV successes since the last PIN entry. */
  uvCountSinceLastPinEntry: number;
  /** CTAP 2.1 §6.10 serialized large-blob array (CBOR array || LEFT(SHA-256(array), 16)); reset restores the initial one. */
  largeBlobArray: Uint8Array;
  /** CTAP 2.1 §6.11.4 minPinLengthRPIDs: RP IDs the minPinLength extension may report to (set by authenticatorConfig). */
  minPinLengthRpIds: readonly string[];
  /** CTAP 2.1 §6.11.1 / §7.1: enterprise attestation enabled (getInfo ep); meaningful only on an EA-capable profile. */
  enterpriseAttestation: boolean;
  /**
   * Emulator control (issue 5, ctap/authenticator/control.ts): discoverable credentials moved out of
   * residentCredentials, so no look-up can see them (deactivated, or damaged = unreadable). Absent = none.
   */
  setAside?: readonly SetAsideCredential[];
  /** Emulator control: the device is suspended ("locked"): the dispatcher answers every command but getInfo with OPERATION_DENIED. */
  suspended?: boolean;
  /**
   * Emulator control: non-discoverable credentials injected with a chosen credential ID (WebDriver "Add
   * Credential" with isResidentCredential false). Real hardware keeps nothing for a non-discoverable credential
   * (its ID wraps the key); an arbitrary ID cannot, so the device holds the key here, under the exact ID. Only the
   * ID look-up (steps/credentials.ts credentialById) reads this list: never discoverable, never in credMgmt.
   * Their signature counters live in `counters` like every non-resident one. Absent = none.
   */
  serverSideCredentials?: readonly ServerSideCredential[];
}

/** A non-discoverable credential the control API injected with its own ID (see PersistentState.serverSideCredentials). */
export interface ServerSideCredential {
  credentialId: Uint8Array;
  rpId: string;
  rpName?: string;
  /** WebDriver userHandle / names: shown by the control API only (a non-discoverable assertion names no user, CTAP 2.1 §6.2). */
  user?: UserEntity;
  alg: CoseAlg;
  privateKey: Uint8Array;
  /** Out of service (control API deactivate / corrupt 'record'): the look-up skips it. Absent = active. */
  status?: 'deactivated' | 'damaged';
}

/** A discoverable credential the control API took out of service; `restore` puts it back. */
export interface SetAsideCredential {
  reason: 'deactivated' | 'damaged';
  credential: ResidentCredential;
}

/** CTAP 2.1 §6.10.2: the initial serialized large-blob array, an empty CBOR array (0x80) and its truncated hash. */
export function initialLargeBlobArray(): Uint8Array {
  return new Uint8Array([0x80, 0x76, 0xbe, 0x8b, 0x52, 0x8d, 0x00, 0x75, 0xf7, 0xaa, 0xe9, 0x8d, 0x6f, 0xa5, 0x7a, 0x6d, 0x3c]);
}

/** Members authenticatorLargeBlobs / authenticatorConfig own, as on a fresh device and after authenticatorReset (CHECKLIST B6.3). */
export function configDefaults(): Pick<PersistentState, 'largeBlobArray' | 'minPinLengthRpIds' | 'enterpriseAttestation'> {
  return { largeBlobArray: initialLargeBlobArray(), minPinLengthRpIds: [], enterpriseAttestation: false };
}

function encodeUser(u: UserEntity): CborValue {
  return { id: u.id, name: u.name, displayName: u.displayName } as CborValue;
}

function encodeServerSide(c: ServerSideCredential): CborValue {
  return {
    credentialId: c.credentialId,
    rpId: c.rpId,
    rpName: c.rpName,
    user: c.user ? encodeUser(c.user) : undefined,
    alg: c.alg,
    privateKey: c.privateKey,
    status: c.status,
  } as CborValue;
}

function encodeResident(c: ResidentCredential): CborValue {
  return {
    credentialId: c.credentialId,
    rpId: c.rpId,
    rpName: c.rpName,
    user: encodeUser(c.user),
    alg: c.alg,
    privateKey: c.privateKey,
    signCount: c.signCount,
    seq: c.seq,
    credProtect: c.credProtect,
    credBlob: c.credBlob,
    largeBlobKey: c.largeBlobKey,
  } as CborValue;
}

export function encodeState(s: PersistentState): Uint8Array {
  return encode({
    schemaVersion: s.schemaVersion,
    masterKey: s.masterKey,
    attestation: {
      aaguid: s.attestation.aaguid,
      privateKey: s.attestation.privateKey,
      certChain: s.attestation.certChain,
      enterpriseCertificate: s.attestation.enterpriseCertificate,
    },
    residentCredentials: s.residentCredentials.map(encodeResident),
    counters: new Map([...s.counters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    nextSeq: s.nextSeq,
    pin: s.pin ? { hash: s.pin.hash, codePoints: s.pin.codePoints } : undefined,
    pinRetries: s.pinRetries,
    uvRetries: s.uvRetries,
    forcePinChange: s.forcePinChange,
    minPinLength: s.minPinLength,
    alwaysUv: s.alwaysUv,
    templates: s.templates.map((t) => ({ id: t.id, modality: t.modality, friendlyName: t.friendlyName })),
    uvCountSinceLastPinEntry: s.uvCountSinceLastPinEntry,
    largeBlobArray: s.largeBlobArray,
    minPinLengthRpIds: [...s.minPinLengthRpIds],
    enterpriseAttestation: s.enterpriseAttestation,
    setAside: s.setAside?.length ? s.setAside.map((x) => ({ reason: x.reason, credential: encodeResident(x.credential) })) : undefined,
    suspended: s.suspended ? true : undefined,
    serverSideCredentials: s.serverSideCredentials?.length ? s.serverSideCredentials.map(encodeServerSide) : undefined,
  } as CborValue);
}

function corrupt(message: string, cause?: unknown): EmulatorError {
  return new EmulatorError('EMU_ERR_STATE_CORRUPT', `stored authenticator state is invalid: ${message}`, { cause });
}

type Reader = (key: string) => unknown;

function reader(v: unknown, what: string): Reader {
  if (!(v instanceof Map)) throw corrupt(`${what} is not a map`);
  return (key) => v.get(key);
}

function bytesOf(v: unknown, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) {
    throw corrupt(`${what} is not ${length ?? 'a'}${length === undefined ? '' : '-byte'} byte string`);
  }
  return new Uint8Array(v);
}

function uintOf(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw corrupt(`${what} is not an unsigned integer`);
  return v;
}

function textOf(v: unknown, what: string): string {
  if (typeof v !== 'string') throw corrupt(`${what} is not text`);
  return v;
}

function optionalText(v: unknown, what: string): string | undefined {
  return v === undefined ? undefined : textOf(v, what);
}

function algOf(v: unknown, what: string): CoseAlg {
  if (v !== CoseAlg.ES256 && v !== CoseAlg.EdDSA) throw corrupt(`${what} is not a supported algorithm`);
  return v;
}

function decodeUser(v: unknown, what: string): UserEntity {
  const u = reader(v, what);
  const user: UserEntity = { id: bytesOf(u('id'), `${what}.id`) };
  const name = optionalText(u('name'), `${what}.name`);
  if (name !== undefined) user.name = name;
  const displayName = optionalText(u('displayName'), `${what}.displayName`);
  if (displayName !== undefined) user.displayName = displayName;
  return user;
}

function decodeServerSide(v: unknown, i: number): ServerSideCredential {
  const what = `serverSideCredentials[${i}]`;
  const r = reader(v, what);
  const cred: ServerSideCredential = {
    credentialId: bytesOf(r('credentialId'), `${what}.credentialId`),
    rpId: textOf(r('rpId'), `${what}.rpId`),
    alg: algOf(r('alg'), `${what}.alg`),
    privateKey: bytesOf(r('privateKey'), `${what}.privateKey`, 32),
  };
  const rpName = optionalText(r('rpName'), `${what}.rpName`);
  if (rpName !== undefined) cred.rpName = rpName;
  if (r('user') !== undefined) cred.user = decodeUser(r('user'), `${what}.user`);
  const status = r('status');
  if (status !== undefined) {
    if (status !== 'deactivated' && status !== 'damaged') throw corrupt(`${what}.status is not deactivated or damaged`);
    cred.status = status;
  }
  return cred;
}

function decodeResident(v: unknown, i: number): ResidentCredential {
  const what = `residentCredentials[${i}]`;
  const r = reader(v, what);
  const user = decodeUser(r('user'), `${what}.user`);
  const cred: ResidentCredential = {
    credentialId: bytesOf(r('credentialId'), `${what}.credentialId`),
    rpId: textOf(r('rpId'), `${what}.rpId`),
    user,
    alg: algOf(r('alg'), `${what}.alg`),
    privateKey: bytesOf(r('privateKey'), `${what}.privateKey`, 32),
    signCount: uintOf(r('signCount'), `${what}.signCount`),
    seq: uintOf(r('seq'), `${what}.seq`),
  };
  const rpName = optionalText(r('rpName'), `${what}.rpName`);
  if (rpName !== undefined) cred.rpName = rpName;
  // Extension members (issue 4): absent from records written before them.
  const credProtect = r('credProtect');
  if (credProtect !== undefined) {
    const level = uintOf(credProtect, `${what}.credProtect`);
    if (level < 1 || level > 3) throw corrupt(`${what}.credProtect is not 1, 2 or 3`);
    cred.credProtect = level;
  }
  const credBlob = r('credBlob');
  if (credBlob !== undefined) cred.credBlob = bytesOf(credBlob, `${what}.credBlob`);
  const largeBlobKey = r('largeBlobKey');
  if (largeBlobKey !== undefined) cred.largeBlobKey = bytesOf(largeBlobKey, `${what}.largeBlobKey`, 32);
  return cred;
}

function boolOf(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw corrupt(`${what} is not a boolean`);
  return v;
}

function decodeTemplate(v: unknown, i: number): Template {
  const what = `templates[${i}]`;
  const r = reader(v, what);
  const modality = r('modality');
  if (modality !== 'fingerprint' && modality !== 'face') throw corrupt(`${what}.modality is not fingerprint or face`);
  const t: Template = { id: bytesOf(r('id'), `${what}.id`), modality };
  const friendlyName = optionalText(r('friendlyName'), `${what}.friendlyName`);
  if (friendlyName !== undefined) t.friendlyName = friendlyName;
  return t;
}

/** Defaults for the PIN / UV members, for a fresh device and after authenticatorReset. */
export interface UserVerificationDefaults {
  maxPinRetries: number;
  maxUvRetries: number;
  minPinLength: number;
  alwaysUv: boolean;
}

export const FALLBACK_UV_DEFAULTS: UserVerificationDefaults = { maxPinRetries: 8, maxUvRetries: 5, minPinLength: 4, alwaysUv: false };

/** PIN / UV members of a fresh (or reset) device, from the profile. */
export function userVerificationDefaults(
  profile: Profile,
): Pick<PersistentState, 'pinRetries' | 'uvRetries' | 'forcePinChange' | 'minPinLength' | 'alwaysUv' | 'templates' | 'uvCountSinceLastPinEntry'> {
  return {
    pinRetries: profile.pin?.maxPinRetries ?? FALLBACK_UV_DEFAULTS.maxPinRetries,
    uvRetries: profile.uv?.maxUvRetries ?? FALLBACK_UV_DEFAULTS.maxUvRetries,
    forcePinChange: false,
    minPinLength: profile.pin?.minPinLength ?? FALLBACK_UV_DEFAULTS.minPinLength,
    alwaysUv: profile.options.alwaysUv,
    templates: [],
    uvCountSinceLastPinEntry: 0,
  };
}

/** Parse stored bytes; throws EmulatorError (EMU_ERR_STATE_CORRUPT / EMU_ERR_STATE_VERSION) on anything unexpected. */
export function decodeState(bytes: Uint8Array): PersistentState {
  let raw: unknown;
  try {
    raw = decodeLenient(bytes);
  } catch (e) {
    throw corrupt('not CBOR', e);
  }
  const r = reader(raw, 'state');
  const version = uintOf(r('schemaVersion'), 'schemaVersion');
  if (version !== STATE_SCHEMA_VERSION) {
    throw new EmulatorError(
      'EMU_ERR_STATE_VERSION',
      `stored authenticator state has schema version ${version}, this build reads ${STATE_SCHEMA_VERSION}`,
    );
  }
  const a = reader(r('attestation'), 'attestation');
  const chain = a('certChain');
  if (!Array.isArray(chain) || chain.length === 0) throw corrupt('attestation.certChain is not a non-empty array');
  const residents = r('residentCredentials');
  if (!Array.isArray(residents)) throw corrupt('residentCredentials is not an array');
  const countersRaw = r('counters');
  if (!(countersRaw instanceof Map)) throw corrupt('counters is not a map');
  const counters = new Map<string, number>();
  for (const [k, v] of countersRaw) counters.set(textOf(k, 'counters key'), uintOf(v, `counters[${String(k)}]`));
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    masterKey: bytesOf(r('masterKey'), 'masterKey', 32),
    attestation: {
      aaguid: bytesOf(a('aaguid'), 'attestation.aaguid', 16),
      privateKey: bytesOf(a('privateKey'), 'attestation.privateKey', 32),
      certChain: chain.map((c, i) => bytesOf(c, `attestation.certChain[${i}]`)),
      ...(a('enterpriseCertificate') !== undefined
        ? { enterpriseCertificate: bytesOf(a('enterpriseCertificate'), 'attestation.enterpriseCertificate') }
        : {}),
    },
    residentCredentials: residents.map(decodeResident),
    counters,
    nextSeq: uintOf(r('nextSeq'), 'nextSeq'),
    ...decodeUserVerification(r),
    ...decodeConfig(r),
    ...decodeControl(r),
  };
}

/** Emulator-control members (issue 5): absent unless the control API set them. */
function decodeControl(r: Reader): Pick<PersistentState, 'setAside' | 'suspended' | 'serverSideCredentials'> {
  const out: Pick<PersistentState, 'setAside' | 'suspended' | 'serverSideCredentials'> = {};
  const aside = r('setAside');
  if (aside !== undefined) {
    if (!Array.isArray(aside)) throw corrupt('setAside is not an array');
    out.setAside = aside.map((v, i) => {
      const x = reader(v, `setAside[${i}]`);
      const reason = x('reason');
      if (reason !== 'deactivated' && reason !== 'damaged') throw corrupt(`setAside[${i}].reason is not deactivated or damaged`);
      return { reason, credential: decodeResident(x('credential'), i) };
    });
  }
  const suspended = r('suspended');
  if (suspended !== undefined && boolOf(suspended, 'suspended')) out.suspended = true;
  const serverSide = r('serverSideCredentials');
  if (serverSide !== undefined) {
    if (!Array.isArray(serverSide)) throw corrupt('serverSideCredentials is not an array');
    out.serverSideCredentials = serverSide.map(decodeServerSide);
  }
  return out;
}

/** largeBlobs / config members, added in issue 4: a store written before them reads as factory values. */
function decodeConfig(r: Reader): ReturnType<typeof configDefaults> {
  const d = configDefaults();
  const blob = r('largeBlobArray');
  const rpIds = r('minPinLengthRpIds');
  if (rpIds !== undefined && !Array.isArray(rpIds)) throw corrupt('minPinLengthRpIds is not an array');
  const ea = r('enterpriseAttestation');
  return {
    largeBlobArray: blob === undefined ? d.largeBlobArray : bytesOf(blob, 'largeBlobArray'),
    minPinLengthRpIds: rpIds === undefined ? d.minPinLengthRpIds : rpIds.map((x, i) => textOf(x, `minPinLengthRpIds[${i}]`)),
    enterpriseAttestation: ea === undefined ? d.enterpriseAttestation : boolOf(ea, 'enterpriseAttestation'),
  };
}

/**
 * PIN / UV members. They were added to schema version 1 after its first release: a store written before
 * them has none, and reads as a device with no PIN, full retries and no templates.
 */
function decodeUserVerification(r: Reader): Pick<
  PersistentState,
  'pin' | 'pinRetries' | 'uvRetries' | 'forcePinChange' | 'minPinLength' | 'alwaysUv' | 'templates' | 'uvCountSinceLastPinEntry'
> {
  const d = FALLBACK_UV_DEFAULTS;
  const opt = <T>(key: string, parse: (v: unknown, what: string) => T, fallback: T): T => {
    const v = r(key);
    return v === undefined ? fallback : parse(v, key);
  };
  const pinRaw = r('pin');
  let pin: StoredPin | undefined;
  if (pinRaw !== undefined) {
    const p = reader(pinRaw, 'pin');
    pin = { hash: bytesOf(p('hash'), 'pin.hash', 16), codePoints: uintOf(p('codePoints'), 'pin.codePoints') };
  }
  const templatesRaw = r('templates');
  if (templatesRaw !== undefined && !Array.isArray(templatesRaw)) throw corrupt('templates is not an array');
  return {
    ...(pin ? { pin } : {}),
    pinRetries: opt('pinRetries', uintOf, d.maxPinRetries),
    uvRetries: opt('uvRetries', uintOf, d.maxUvRetries),
    forcePinChange: opt('forcePinChange', boolOf, false),
    minPinLength: opt('minPinLength', uintOf, d.minPinLength),
    alwaysUv: opt('alwaysUv', boolOf, d.alwaysUv),
    templates: (templatesRaw ?? []).map(decodeTemplate),
    uvCountSinceLastPinEntry: opt('uvCountSinceLastPinEntry', uintOf, 0),
  };
}
