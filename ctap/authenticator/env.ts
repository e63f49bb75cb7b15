/**
 * Env: everything effectful the pure authenticator needs, injected (OpenSK's `Env`).
 * ctap/ never reads the clock, draws randomness, touches storage or asks the user except through these.
 * Real implementations live in src/env; tests use fakes. Fault decorators (later) wrap these ports.
 */
import type { KeepaliveStatus } from '../constants/commands.ts';

/** COSE algorithm identifiers vfido implements. */
export const CoseAlg = { ES256: -7, EdDSA: -8 } as const;
export type CoseAlg = (typeof CoseAlg)[keyof typeof CoseAlg];

/** Monotonic milliseconds plus timers. Tests use a manual scheduler; src/env uses real timers. */
export interface Scheduler {
  now(): number;
  /** Run `cb` after `ms` milliseconds; the returned function cancels it. */
  setTimer(ms: number, cb: () => void): () => void;
}

export interface Rng {
  randomBytes(n: number): Uint8Array;
}

/** A credential key pair. `privateKey` is the raw 32-byte P-256 scalar or Ed25519 seed. */
export interface KeyPair {
  alg: CoseAlg;
  privateKey: Uint8Array;
  /** ES256: uncompressed point 0x04||x||y (65 bytes). EdDSA: 32-byte public key. */
  publicKey: Uint8Array;
}

export interface Crypto {
  sha256(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** New key pair; private key material drawn from the injected Rng (so seeded runs are reproducible). */
  generateKeyPair(alg: CoseAlg): KeyPair;
  /** The public key of a private key from generateKeyPair, encoded as KeyPair.publicKey (credential management). */
  publicKeyOf(alg: CoseAlg, privateKey: Uint8Array): Uint8Array;
  /** ES256: ECDSA P-256 / SHA-256, DER-encoded. EdDSA: raw 64-byte Ed25519. */
  sign(alg: CoseAlg, privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** AES-256-GCM seal; returns ciphertext || 16-byte tag. */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** AES-256-GCM open; undefined when authentication fails. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
  /**
   * P-256 ECDH: the 32-byte x-coordinate of privateKey · peer. `peerPublicKey` is an uncompressed point
   * (0x04 || x || y); undefined when it is not a valid point on the curve (CTAP 2.1 §6.5.6: → INVALID_PARAMETER).
   */
  ecdhP256(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | undefined;
  /** AES-256-CBC without padding; the input length must be a multiple of 16 (else throws RangeError). */
  aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** HKDF-SHA-256 (RFC 5869). */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
}

/** Outcome of asking the user for presence (a touch). */
export type PresenceResult = 'approved' | 'denied' | 'timeout';

export interface PresenceRequest {
  /** The CTAP command asking, e.g. 'makeCredential'. */
  command: string;
  rpId?: string;
  /** Aborted when the platform sends CTAPHID_CANCEL; the port must then settle promptly. */
  signal: AbortSignal;
}

export interface UserPresence {
  request(req: PresenceRequest): Promise<PresenceResult>;
}

/** Built-in user verification modalities vfido simulates. */
export type UvModality = 'fingerprint' | 'face';

/** Outcome of one built-in UV attempt, as the (simulated) sensor reports it. */
export type UvOutcome =
  /** The sample matched this enrolled template. */
  | { result: 'match'; templateId: Uint8Array }
  /** A sample was taken and matched no enrolled template (`closest`: the template it was wrongly compared to, if any). */
  | { result: 'mismatch'; closest?: Uint8Array }
  /** No finger / face was presented before the sensor gave up (user action timeout). */
  | { result: 'no-sample' }
  /** The sensor failed (hardware error). */
  | { result: 'sensor-error' };

export interface UvRequest {
  command: string;
  modality: UvModality;
  /** Enrolled templates of that modality the sample is compared against. */
  templates: readonly { id: Uint8Array; name?: string }[];
  rpId?: string;
  signal: AbortSignal;
}

/** lastEnrollSampleStatus codes, CTAP 2.1 §6.7.2 (authenticatorBioEnrollment). */
export const EnrollSampleStatus = {
  CTAP2_ENROLL_FEEDBACK_FP_GOOD: 0x00,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_HIGH: 0x01,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_LOW: 0x02,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_LEFT: 0x03,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_RIGHT: 0x04,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_FAST: 0x05,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_SLOW: 0x06,
  CTAP2_ENROLL_FEEDBACK_FP_POOR_QUALITY: 0x07,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_SKEWED: 0x08,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_SHORT: 0x09,
  CTAP2_ENROLL_FEEDBACK_FP_MERGE_FAILURE: 0x0a,
  CTAP2_ENROLL_FEEDBACK_FP_EXISTS: 0x0b,
  CTAP2_ENROLL_FEEDBACK_NO_USER_ACTIVITY: 0x0d,
  CTAP2_ENROLL_FEEDBACK_NO_USER_PRESENCE_TRANSITION: 0x0e,
} as const;

export interface EnrollSampleRequest {
  modality: 'fingerprint';
  templateId: Uint8Array;
  /** From the request's timeoutMilliseconds, if any. */
  timeoutMs?: number;
  signal: AbortSignal;
}

/** One enrollment sample: a lastEnrollSampleStatus code, or no sample at all before the timeout. */
export type EnrollSampleResult = { status: number } | { result: 'timeout' };

/** The biometric sensor (fingerprint and/or face). Absent from Env = the device has no built-in UV. */
export interface UserVerification {
  verify(req: UvRequest): Promise<UvOutcome>;
  captureEnrollSample(req: EnrollSampleRequest): Promise<EnrollSampleResult>;
}

/** EmulatorError code a Store's save rejects with when it has no room left (→ CTAP2_ERR_KEY_STORE_FULL). */
export const STORE_FULL = 'EMU_ERR_STORE_FULL';

/** Persistent storage of the whole persistent state, as one opaque CBOR-encodable value. */
export interface Store {
  /** undefined when nothing was stored yet (fresh device). Throws when the stored data is corrupt. */
  load(): Promise<Uint8Array | undefined>;
  /**
   * Replace the stored state atomically: afterwards a load returns either the old or the new bytes.
   * Rejects with EmulatorError(STORE_FULL) when there is no room for them (nothing is changed then).
   */
  save(data: Uint8Array): Promise<void>;
}

/** Per-request context from the transport layer (CTAPHID channel). */
export interface RequestContext {
  /** Channel (CID) the request came in on; stateful commands are bound to it. */
  channel: number;
  /** Aborted by CTAPHID_CANCEL on this channel. */
  signal: AbortSignal;
  /** Report what the device is doing; the HID layer repeats it as KEEPALIVE at least every 100 ms. */
  keepalive(status: KeepaliveStatus): void;
}

export interface Env {
  scheduler: Scheduler;
  rng: Rng;
  crypto: Crypto;
  store: Store;
  presence: UserPresence;
  /** The simulated biometric sensor; absent on devices without built-in user verification. */
  verification?: UserVerification;
}
