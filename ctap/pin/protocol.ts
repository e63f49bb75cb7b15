/**
 * PIN/UV auth protocols one and two (CTAP 2.1 §6.5.6 `#pinProto1`, §6.5.7 `#pinProto2`), authenticator side,
 * over the Crypto port. Each protocol object holds its own key-agreement key (volatile: generated at power-up
 * and by regenerate()); the pinUvAuthToken itself lives in token.ts.
 */
import { concat, equal } from '../bytes.ts';
import type { CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { CoseAlg, type Crypto, type KeyPair, type Rng } from '../authenticator/env.ts';

export type PinProtocolVersion = 1 | 2;

export function isPinProtocolVersion(v: number): v is PinProtocolVersion {
  return v === 1 || v === 2;
}

/** COSE_Key members of the key-agreement key (CTAP 2.1 §6.5.6 getPublicKey). */
export const COSE_KTY_EC2 = 2;
/** ECDH-ES+HKDF-256: a label only, "NOT the algorithm actually used". */
export const COSE_ALG_ECDH_ES_HKDF_256 = -25;
export const COSE_CRV_P256 = 1;

export type CoseKeyAgreement = Map<number, number | Uint8Array>;

export interface PinUvAuthProtocol {
  readonly version: PinProtocolVersion;
  /** Length of authenticate() output, i.e. of a valid pinUvAuthParam: 16 (one) or 32 (two). */
  readonly macLength: number;
  /** Generate a fresh key-agreement key (called at power-up and after every PIN mismatch). */
  regenerate(): void;
  /** The key-agreement public key as COSE_Key {1: 2, 3: -25, -1: 1, -2: x, -3: y}. */
  getPublicKey(): CoseKeyAgreement;
  /**
   * ECDH with the platform's COSE_Key, then kdf: the shared secret (32 bytes for one, 64 for two).
   * A malformed key or a point not on P-256 → CTAP1_ERR_INVALID_PARAMETER.
   */
  decapsulate(peerCoseKey: CborValue | undefined): Uint8Array;
  encrypt(key: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** undefined when the ciphertext cannot be decrypted (wrong length). */
  decrypt(key: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
  authenticate(key: Uint8Array, message: Uint8Array): Uint8Array;
  /** True iff `signature` has exactly the protocol's MAC length and equals authenticate(key, message). */
  verify(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

const ZERO_IV = new Uint8Array(16);
const HKDF_SALT = new Uint8Array(32);
const enc = new TextEncoder();
const HMAC_KEY_INFO = enc.encode('CTAP2 HMAC key');
const AES_KEY_INFO = enc.encode('CTAP2 AES key');

function invalidKey(message: string): CtapError {
  return new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, `keyAgreement: ${message}`);
}

/**
 * CTAP 2.1 §6.5.6 ecdh: "Parse peerCoseKey as specified for getPublicKey ... and produce a P-256 point, Y.
 * If unsuccessful, or if the resulting point is not on the curve, return error." kty must be EC2 and crv
 * P-256 with 32-byte coordinates; alg, when present, must be -25 (decision: an absent alg is tolerated).
 * Returns the uncompressed point 0x04 || x || y.
 */
export function platformPoint(cose: CborValue | undefined): Uint8Array {
  if (!(cose instanceof Map)) throw invalidKey('not a COSE_Key map');
  const x = cose.get(-2);
  const y = cose.get(-3);
  if (cose.get(1) !== COSE_KTY_EC2) throw invalidKey('kty is not EC2');
  if (cose.get(-1) !== COSE_CRV_P256) throw invalidKey('crv is not P-256');
  const alg = cose.get(3);
  if (alg !== undefined && alg !== COSE_ALG_ECDH_ES_HKDF_256) throw invalidKey('alg is not -25');
  if (!(x instanceof Uint8Array) || x.length !== 32 || !(y instanceof Uint8Array) || y.length !== 32) {
    throw invalidKey('coordinates are not 32-byte strings');
  }
  return concat(new Uint8Array([0x04]), x, y);
}

abstract class BaseProtocol implements PinUvAuthProtocol {
  abstract readonly version: PinProtocolVersion;
  abstract readonly macLength: number;
  #key: KeyPair;

  constructor(protected readonly crypto: Crypto) {
    this.#key = crypto.generateKeyPair(CoseAlg.ES256);
  }

  regenerate(): void {
    this.#key = this.crypto.generateKeyPair(CoseAlg.ES256);
  }

  getPublicKey(): CoseKeyAgreement {
    const p = this.#key.publicKey;
    return new Map<number, number | Uint8Array>([
      [1, COSE_KTY_EC2],
      [3, COSE_ALG_ECDH_ES_HKDF_256],
      [-1, COSE_CRV_P256],
      [-2, p.slice(1, 33)],
      [-3, p.slice(33, 65)],
    ]);
  }

  decapsulate(peerCoseKey: CborValue | undefined): Uint8Array {
    // §6.5.6 ecdh: Z = the x-coordinate of the shared point; off-curve points fail in the port.
    const z = this.crypto.ecdhP256(this.#key.privateKey, platformPoint(peerCoseKey));
    if (!z) throw invalidKey('not a point on P-256');
    return this.kdf(z);
  }

  verify(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== this.macLength) return false;
    return equal(this.authenticate(key, message), signature);
  }

  protected abstract kdf(z: Uint8Array): Uint8Array;
  abstract encrypt(key: Uint8Array, plaintext: Uint8Array): Uint8Array;
  abstract decrypt(key: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
  abstract authenticate(key: Uint8Array, message: Uint8Array): Uint8Array;
}

/** CTAP 2.1 §6.5.6 PIN/UV auth protocol one. */
class ProtocolOne extends BaseProtocol {
  readonly version = 1;
  readonly macLength = 16;

  /** kdf(Z) = SHA-256(Z). */
  protected kdf(z: Uint8Array): Uint8Array {
    return this.crypto.sha256(z);
  }

  /** AES-256-CBC, IV = 0, no padding (the plaintext is whole blocks). */
  encrypt(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return this.crypto.aes256CbcEncrypt(key, ZERO_IV, plaintext);
  }

  /** "If the size of demCiphertext is not a multiple of the AES block length, return error." */
  decrypt(key: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
    if (ciphertext.length % 16 !== 0) return undefined;
    return this.crypto.aes256CbcDecrypt(key, ZERO_IV, ciphertext);
  }

  /** LEFT(HMAC-SHA-256(key, message), 16). */
  authenticate(key: Uint8Array, message: Uint8Array): Uint8Array {
    return this.crypto.hmacSha256(key, message).slice(0, 16);
  }
}

/** CTAP 2.1 §6.5.7 PIN/UV auth protocol two. */
class ProtocolTwo extends BaseProtocol {
  readonly version = 2;
  readonly macLength = 32;

  constructor(
    crypto: Crypto,
    private readonly rng: Rng,
  ) {
    super(crypto);
  }

  /** HKDF-SHA-256(salt = 32 zero bytes, IKM = Z, L = 32) with info "CTAP2 HMAC key" || with "CTAP2 AES key". */
  protected kdf(z: Uint8Array): Uint8Array {
    return concat(
      this.crypto.hkdfSha256(z, HKDF_SALT, HMAC_KEY_INFO, 32),
      this.crypto.hkdfSha256(z, HKDF_SALT, AES_KEY_INFO, 32),
    );
  }

  /** "Discard the first 32 bytes of key" (the AES key is the second half); random IV; output IV || ciphertext. */
  encrypt(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const iv = this.rng.randomBytes(16);
    return concat(iv, this.crypto.aes256CbcEncrypt(aesKey(key), iv, plaintext));
  }

  /** "If demCiphertext is less than 16 bytes in length, return an error"; the rest must be whole blocks. */
  decrypt(key: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
    if (ciphertext.length < 16 || ciphertext.length % 16 !== 0) return undefined;
    return this.crypto.aes256CbcDecrypt(aesKey(key), ciphertext.subarray(0, 16), ciphertext.subarray(16));
  }

  /** HMAC-SHA-256 with the first 32 bytes of key (the whole key when it is the 32-byte token); 32 bytes. */
  authenticate(key: Uint8Array, message: Uint8Array): Uint8Array {
    return this.crypto.hmacSha256(key.subarray(0, 32), message);
  }
}

/** The AES half of a 64-byte protocol-two shared secret. */
function aesKey(key: Uint8Array): Uint8Array {
  if (key.length !== 64) throw new TypeError(`PIN protocol two: expected a 64-byte shared secret, got ${key.length} bytes`);
  return key.subarray(32, 64);
}

/** A protocol instance with a freshly generated key-agreement key (`initialize()` in the spec). */
export function createPinUvAuthProtocol(version: PinProtocolVersion, env: { crypto: Crypto; rng: Rng }): PinUvAuthProtocol {
  return version === 1 ? new ProtocolOne(env.crypto) : new ProtocolTwo(env.crypto, env.rng);
}
