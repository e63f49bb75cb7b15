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
  /** ES256: ECDSA P-256 / SHA-256, DER-encoded. EdDSA: raw 64-byte Ed25519. */
  sign(alg: CoseAlg, privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** AES-256-GCM seal; returns ciphertext || 16-byte tag. */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** AES-256-GCM open; undefined when authentication fails. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
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

/** Persistent storage of the whole persistent state, as one opaque CBOR-encodable value. */
export interface Store {
  /** undefined when nothing was stored yet (fresh device). Throws when the stored data is corrupt. */
  load(): Promise<Uint8Array | undefined>;
  /** Replace the stored state atomically: afterwards a load returns either the old or the new bytes. */
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
}
