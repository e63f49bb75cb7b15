/**
 * Crypto port implementation. Two modes behind one interface:
 * - fast (default): node:crypto (OpenSSL) for everything, with KeyObjects cached per private key.
 * - deterministic: @noble/curves for signatures (RFC 6979 ECDSA, RFC 8032 Ed25519), so a seeded run is
 *   byte-identical end to end. SHA-256, HMAC and AES-GCM are deterministic already and stay on node:crypto.
 * In both modes private keys come from the injected Rng.
 */
import * as nc from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { CoseAlg } from '../../ctap/authenticator/env.ts';
import type { Crypto, KeyPair, Rng } from '../../ctap/authenticator/env.ts';

/** Order of the P-256 group (FIPS 186-4 D.1.2.3). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const GCM_TAG_LENGTH = 16;
const KEY_CACHE_LIMIT = 1024;

export interface CryptoOptions {
  rng: Rng;
  /** Use RFC 6979 / noble signatures so seeded runs are byte-identical. Default false (node:crypto, faster). */
  deterministic?: boolean;
}

/**
 * SHA-256 in one call: node:crypto's one-shot hash() where the runtime has it (Node ≥ 20.12; a third of the
 * cost of a Hash object for the short inputs CTAP hashes), createHash otherwise. Same bytes either way.
 */
const sha256: (data: Uint8Array) => Uint8Array =
  typeof nc.hash === 'function'
    ? (data) => u8(nc.hash('sha256', data, 'buffer'))
    : (data) => u8(nc.createHash('sha256').update(data).digest());

/**
 * A plain Uint8Array of a Buffer's bytes, never a view into Node's shared pool: a Buffer that owns its whole
 * ArrayBuffer (what node:crypto returns for digests, signatures, cipher output) is re-wrapped without copying;
 * anything else (a pooled Buffer.concat result) is copied. Copies above 64 bytes cost an allocation outside
 * the V8 heap, as much as a few SHA-256 runs.
 */
function u8(b: Buffer): Uint8Array {
  return b.byteOffset === 0 && b.buffer.byteLength === b.length ? new Uint8Array(b.buffer, 0, b.length) : new Uint8Array(b);
}

const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

function bytesToBigInt(b: Uint8Array): bigint {
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return x;
}

function expectLength(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw new TypeError(`${what}: expected ${n} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`);
  }
}

/** FIPS 186-5 A.2.2 (rejection sampling): draw 32 bytes until the scalar is in [1, n-1]. */
function drawP256Scalar(rng: Rng): Uint8Array {
  for (;;) {
    const d = rng.randomBytes(32);
    const x = bytesToBigInt(d);
    if (x >= 1n && x < P256_N) return d;
  }
}

/** Uncompressed public point 0x04||x||y for a P-256 scalar (via OpenSSL). */
function p256PublicKey(d: Uint8Array): Uint8Array {
  const ecdh = nc.createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  return u8(ecdh.getPublicKey(undefined, 'uncompressed'));
}

/** PKCS#8 prefix for an Ed25519 private key (RFC 8410 §7): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI prefix for an Ed25519 public key (RFC 8410 §4): the 32-byte key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function ed25519PrivateKeyObject(seed: Uint8Array): nc.KeyObject {
  return nc.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function p256PrivateKeyObject(d: Uint8Array): nc.KeyObject {
  const pub = p256PublicKey(d);
  const jwk = { kty: 'EC', crv: 'P-256', d: b64u(d), x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33, 65)) };
  return nc.createPrivateKey({ key: jwk, format: 'jwk' });
}

/** Bounded LRU of private KeyObjects: parsing a key costs more than an ECDSA signature. */
class KeyCache {
  private readonly map = new Map<string, nc.KeyObject>();
  get(alg: CoseAlg, priv: Uint8Array): nc.KeyObject {
    const id = `${alg}:${Buffer.from(priv.buffer, priv.byteOffset, priv.byteLength).toString('latin1')}`;
    let key = this.map.get(id);
    if (key) {
      this.map.delete(id); // move to most-recently-used
    } else {
      key = alg === CoseAlg.ES256 ? p256PrivateKeyObject(priv) : ed25519PrivateKeyObject(priv);
      if (this.map.size >= KEY_CACHE_LIMIT) this.map.delete(this.map.keys().next().value!);
    }
    this.map.set(id, key);
    return key;
  }
}

function checkAlg(alg: number): asserts alg is CoseAlg {
  if (alg !== CoseAlg.ES256 && alg !== CoseAlg.EdDSA) throw new TypeError(`unsupported COSE algorithm ${alg}`);
}

export function createCrypto({ rng, deterministic = false }: CryptoOptions): Crypto {
  const cache = new KeyCache();

  const publicKeyOf = (alg: CoseAlg, privateKey: Uint8Array): Uint8Array => {
    checkAlg(alg);
    expectLength(privateKey, 32, 'publicKeyOf: private key');
    if (alg === CoseAlg.ES256) {
      return new Uint8Array(deterministic ? p256.getPublicKey(privateKey, false) : p256PublicKey(privateKey));
    }
    return new Uint8Array(
      deterministic
        ? ed25519.getPublicKey(privateKey)
        : u8(nc.createPublicKey(cache.get(alg, privateKey)).export({ format: 'der', type: 'spki' }).subarray(12)),
    );
  };

  const generateKeyPair = (alg: CoseAlg): KeyPair => {
    checkAlg(alg);
    // FIPS 186-5 A.2.2 for P-256; RFC 8032 §5.1.5: the Ed25519 private key is a 32-byte random seed.
    const privateKey = alg === CoseAlg.ES256 ? drawP256Scalar(rng) : rng.randomBytes(32);
    return { alg, privateKey, publicKey: publicKeyOf(alg, privateKey) };
  };

  const sign = (alg: CoseAlg, privateKey: Uint8Array, message: Uint8Array): Uint8Array => {
    checkAlg(alg);
    expectLength(privateKey, 32, 'sign: private key');
    if (deterministic) {
      if (alg === CoseAlg.ES256) {
        // RFC 6979 k; lowS off: OpenSSL and hardware authenticators do not normalise s, verifiers accept both.
        return new Uint8Array(p256.sign(message, privateKey, { prehash: true, format: 'der', lowS: false }));
      }
      return new Uint8Array(ed25519.sign(message, privateKey));
    }
    const key = cache.get(alg, privateKey);
    if (alg === CoseAlg.ES256) return u8(nc.sign('sha256', message, { key, dsaEncoding: 'der' }));
    return u8(nc.sign(null, message, key));
  };

  return Object.freeze({
    sha256,
    hmacSha256: (key: Uint8Array, data: Uint8Array): Uint8Array =>
      u8(nc.createHmac('sha256', key).update(data).digest()),
    generateKeyPair,
    publicKeyOf,
    sign,
    aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
      expectLength(key, 32, 'aeadSeal: key');
      const c = nc.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_LENGTH });
      c.setAAD(aad);
      return u8(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
    },
    aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
      expectLength(key, 32, 'aeadOpen: key');
      if (sealed.length < GCM_TAG_LENGTH) return undefined;
      const d = nc.createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_LENGTH });
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_LENGTH));
      // GCM is a stream mode: update() returns the whole plaintext, final() only checks the tag.
      const plaintext = d.update(sealed.subarray(0, sealed.length - GCM_TAG_LENGTH));
      try {
        d.final();
      } catch {
        return undefined; // authentication failed
      }
      return u8(plaintext);
    },
    ecdhP256(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | undefined {
      expectLength(privateKey, 32, 'ecdhP256: private key');
      if (peerPublicKey.length !== 65 || peerPublicKey[0] !== 0x04) return undefined;
      try {
        const ecdh = nc.createECDH('prime256v1');
        ecdh.setPrivateKey(privateKey);
        // OpenSSL rejects points that are not on the curve (and the point at infinity).
        return u8(ecdh.computeSecret(peerPublicKey));
      } catch {
        return undefined;
      }
    },
    aes256CbcEncrypt: (key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array =>
      aesCbc(true, key, iv, plaintext),
    aes256CbcDecrypt: (key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array =>
      aesCbc(false, key, iv, ciphertext),
    hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
      return new Uint8Array(nc.hkdfSync('sha256', ikm, salt, info, length));
    },
  });
}

/** AES-256-CBC without padding (CTAP 2.1 §6.5.6/§6.5.7 PIN protocols): input must be whole blocks. */
function aesCbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  expectLength(key, 32, 'AES-256-CBC key');
  expectLength(iv, 16, 'AES-256-CBC iv');
  if (data.length % 16 !== 0) throw new RangeError(`AES-256-CBC: ${data.length} bytes is not a multiple of the block size`);
  const c = encrypt ? nc.createCipheriv('aes-256-cbc', key, iv) : nc.createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return u8(Buffer.concat([c.update(data), c.final()]));
}

/** A node:crypto public KeyObject from a COSE-style raw public key (ES256 uncompressed point, Ed25519 32 bytes). */
export function publicKeyObject(alg: CoseAlg, publicKey: Uint8Array): nc.KeyObject {
  checkAlg(alg);
  if (alg === CoseAlg.ES256) {
    expectLength(publicKey, 65, 'ES256 public key');
    if (publicKey[0] !== 0x04) throw new TypeError('ES256 public key: expected an uncompressed point (0x04 prefix)');
    const jwk = { kty: 'EC', crv: 'P-256', x: b64u(publicKey.subarray(1, 33)), y: b64u(publicKey.subarray(33)) };
    return nc.createPublicKey({ key: jwk, format: 'jwk' });
  }
  expectLength(publicKey, 32, 'Ed25519 public key');
  return nc.createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

/** Verify a signature made by Crypto.sign (ES256 DER or raw Ed25519) with node:crypto. False on any malformed input. */
export function verify(alg: CoseAlg, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = publicKeyObject(alg, publicKey);
    if (alg === CoseAlg.ES256) return nc.verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
    return nc.verify(null, message, key, signature);
  } catch {
    return false;
  }
}
