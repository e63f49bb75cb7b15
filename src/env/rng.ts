/**
 * Rng port implementations: the OS CSPRNG for normal runs, and a seeded HMAC-DRBG (NIST SP 800-90A §10.1.2,
 * SHA-256, no reseeding, no prediction resistance) for reproducible runs: the same seed gives the same stream.
 * Streams are NOT chunking-independent: randomBytes(32)+randomBytes(32) differs from randomBytes(64).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Rng } from '../../ctap/authenticator/env.ts';
import { concat, utf8 } from '../../ctap/bytes.ts';

/** An Rng that can derive independent child streams (e.g. one for CIDs, one for credential keys). */
export interface ForkableRng extends Rng {
  /**
   * A new, independent stream for `label`. For a seeded Rng the child depends only on the parent's seed and
   * the label, not on how many bytes the parent has produced, so adding draws in one stream never shifts another.
   */
  fork(label: string): ForkableRng;
}

function checkLength(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`randomBytes: expected a non-negative integer, got ${n}`);
}

/** Fresh randomness from node:crypto. */
export function createRandomRng(): ForkableRng {
  return {
    randomBytes(n: number): Uint8Array {
      checkLength(n);
      return new Uint8Array(nodeRandomBytes(n));
    },
    fork: () => createRandomRng(),
  };
}

/** Seed material → bytes. Numbers are used by their decimal form, so 42 and '42' give the same stream. */
function seedBytes(seed: string | number | Uint8Array): Uint8Array {
  if (seed instanceof Uint8Array) return new Uint8Array(seed);
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) throw new RangeError(`createSeededRng: seed must be finite, got ${seed}`);
    return utf8(String(seed));
  }
  return utf8(seed);
}

const DOMAIN = utf8('vfido/seeded-rng/v1');
const ZERO = new Uint8Array([0]);
const ONE = new Uint8Array([1]);

/** Deterministic HMAC-DRBG(SHA-256) keyed by SHA-256(domain || seed). */
export function createSeededRng(seed: string | number | Uint8Array): ForkableRng {
  return createHmacDrbg(sha256(concat(DOMAIN, seedBytes(seed))));
}

/** The raw HMAC-DRBG(SHA-256) instantiated with `material` as its seed material (exported for tests). */
export function createHmacDrbg(material: Uint8Array): ForkableRng {
  material = new Uint8Array(material);
  // SP 800-90A §10.1.2.3 (instantiate): K = 0x00.., V = 0x01.., then update(seed material).
  let k: Uint8Array = new Uint8Array(32);
  let v: Uint8Array = new Uint8Array(32).fill(1);
  const update = (data: Uint8Array | undefined): void => {
    // SP 800-90A §10.1.2.2 (update)
    k = hmac(sha256, k, data ? concat(v, ZERO, data) : concat(v, ZERO));
    v = hmac(sha256, k, v);
    if (!data) return;
    k = hmac(sha256, k, concat(v, ONE, data));
    v = hmac(sha256, k, v);
  };
  update(material);
  return {
    randomBytes(n: number): Uint8Array {
      checkLength(n);
      // SP 800-90A §10.1.2.5 (generate)
      const out = new Uint8Array(n);
      for (let off = 0; off < n; off += 32) {
        v = hmac(sha256, k, v);
        out.set(n - off >= 32 ? v : v.subarray(0, n - off), off);
      }
      update(undefined);
      return out;
    },
    fork(label: string): ForkableRng {
      return createHmacDrbg(sha256(concat(material, utf8('/fork/'), utf8(label))));
    },
  };
}

