/**
 * The large-blob array as a *platform* reads and writes it (CTAP 2.1 §6.10.3 "Large, per-credential blobs"),
 * for the emulator's control API only (WebDriver Add Credential `largeBlob`, Get Credentials): the
 * authenticatorLargeBlobs handler itself never looks inside the array (CHECKLIST B10.9).
 *
 *   serialized array = CBOR array of entries || LEFT(SHA-256(CBOR array), 16)
 *   entry = { 1: ciphertext (AES-256-GCM, tag appended), 2: nonce (12 bytes), 3: origSize }
 *   key = the credential's largeBlobKey; AAD = "blob" || uint64LittleEndian(origSize); plaintext = DEFLATE(blob)
 * Compression (RFC 1951) is the caller's (src/control), like the platform's: ctap/ stays free of zlib.
 */
import { concat, equal, utf8 } from '../bytes.ts';
import { decodeLenient, encode, type CborMap } from '../cbor.ts';
import type { Crypto, Rng } from './env.ts';

const NONCE_LENGTH = 12;
const TRAILER_LENGTH = 16;

/** A blob as the array holds it: DEFLATE-compressed, with its original (uncompressed) length. */
export interface CompressedBlob {
  compressed: Uint8Array;
  origSize: number;
}

function associatedData(origSize: number): Uint8Array {
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(origSize), true);
  return concat(utf8('blob'), size);
}

/**
 * The entries of a serialized array. §6.10.3: a platform that finds the trailing hash wrong (or no CBOR array)
 * treats the array as empty, and so does this.
 */
export function largeBlobEntries(crypto: Crypto, serialized: Uint8Array): unknown[] {
  if (serialized.length < 1 + TRAILER_LENGTH) return [];
  const body = serialized.subarray(0, serialized.length - TRAILER_LENGTH);
  if (!equal(crypto.sha256(body).subarray(0, TRAILER_LENGTH), serialized.subarray(serialized.length - TRAILER_LENGTH))) return [];
  try {
    const v = decodeLenient(body);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** The serialized array of `entries` (canonical CBOR: the entries a platform wrote come out byte for byte). */
export function serializeLargeBlobArray(crypto: Crypto, entries: unknown[]): Uint8Array {
  const body = encode(entries);
  return concat(body, crypto.sha256(body).subarray(0, TRAILER_LENGTH));
}

/** A new entry holding `blob` for the credential whose largeBlobKey is `key`. */
export function sealLargeBlob(crypto: Crypto, rng: Rng, key: Uint8Array, blob: CompressedBlob): CborMap {
  const nonce = rng.randomBytes(NONCE_LENGTH);
  const ciphertext = crypto.aeadSeal(key, nonce, blob.compressed, associatedData(blob.origSize));
  return new Map<number, Uint8Array | number>([
    [1, ciphertext],
    [2, nonce],
    [3, blob.origSize],
  ]);
}

/** §6.10.3: the first entry that decrypts under `key` is the credential's blob; undefined when none does. */
export function openLargeBlob(crypto: Crypto, key: Uint8Array, entries: unknown[]): CompressedBlob | undefined {
  for (const e of entries) {
    if (!(e instanceof Map)) continue;
    const ciphertext: unknown = e.get(1);
    const nonce: unknown = e.get(2);
    const origSize: unknown = e.get(3);
    if (!(ciphertext instanceof Uint8Array) || !(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) continue;
    if (typeof origSize !== 'number' || !Number.isSafeInteger(origSize) || origSize < 0) continue;
    const compressed = crypto.aeadOpen(key, nonce, ciphertext, associatedData(origSize));
    if (compressed) return { compressed, origSize };
  }
  return undefined;
}
