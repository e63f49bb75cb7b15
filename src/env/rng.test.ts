import { describe, expect, it } from 'vitest';
import { createHmacDrbg as nobleDrbg } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../ctap/bytes.ts';
import { createHmacDrbg, createRandomRng, createSeededRng } from './rng.ts';

describe('createSeededRng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = createSeededRng('alpha');
    const b = createSeededRng('alpha');
    const c = createSeededRng('beta');
    const sa = [a.randomBytes(16), a.randomBytes(40), a.randomBytes(1)].map(toHex);
    const sb = [b.randomBytes(16), b.randomBytes(40), b.randomBytes(1)].map(toHex);
    expect(sa).toEqual(sb);
    expect(toHex(c.randomBytes(16))).not.toBe(sa[0]);
  });

  it('accepts number, string and byte seeds; a number seeds like its decimal string', () => {
    expect(toHex(createSeededRng(42).randomBytes(32))).toBe(toHex(createSeededRng('42').randomBytes(32)));
    expect(toHex(createSeededRng(new Uint8Array([52, 50])).randomBytes(32))).toBe(
      toHex(createSeededRng('42').randomBytes(32)),
    );
    expect(toHex(createSeededRng(43).randomBytes(32))).not.toBe(toHex(createSeededRng(42).randomBytes(32)));
  });

  it('successive draws differ and are the requested length', () => {
    const r = createSeededRng(1);
    const x = r.randomBytes(32);
    const y = r.randomBytes(32);
    expect(toHex(x)).not.toBe(toHex(y));
    expect(r.randomBytes(0).length).toBe(0);
    expect(r.randomBytes(100).length).toBe(100);
  });

  it('rejects bad lengths', () => {
    expect(() => createSeededRng(1).randomBytes(-1)).toThrow(RangeError);
    expect(() => createSeededRng(1).randomBytes(1.5)).toThrow(RangeError);
  });

  it('fork(label) depends only on the seed and the label, not on how much the parent has drawn', () => {
    const p1 = createSeededRng('s');
    const p2 = createSeededRng('s');
    p2.randomBytes(1000);
    const f1 = toHex(p1.fork('cid').randomBytes(32));
    expect(toHex(p2.fork('cid').randomBytes(32))).toBe(f1);
    expect(toHex(p1.fork('creds').randomBytes(32))).not.toBe(f1);
    expect(toHex(createSeededRng('s').randomBytes(32))).not.toBe(f1);
    // nested forks are deterministic too
    expect(toHex(p1.fork('a').fork('b').randomBytes(8))).toBe(toHex(p2.fork('a').fork('b').randomBytes(8)));
  });
});

describe('createHmacDrbg', () => {
  /** Spec: NIST SP 800-90A §10.1.2 HMAC_DRBG; cross-checked against noble's independent RFC 6979 DRBG. */
  it('matches an independent HMAC-DRBG(SHA-256) implementation for the first two generate calls', () => {
    const seed = new Uint8Array(48).map((_, i) => i * 7 + 3);
    const ours = createHmacDrbg(seed);
    const first = ours.randomBytes(64);
    const second = ours.randomBytes(64);
    const ref = nobleDrbg<Uint8Array>(32, 64, (k: Uint8Array, m: Uint8Array) => hmac(sha256, k, m));
    let calls = 0;
    const refOut: Uint8Array[] = [];
    ref(seed, (b: Uint8Array) => {
      refOut.push(b);
      return ++calls === 2 ? b : undefined;
    });
    expect(toHex(first)).toBe(toHex(refOut[0]!));
    expect(toHex(second)).toBe(toHex(refOut[1]!));
  });
});

describe('createRandomRng', () => {
  it('returns plain Uint8Arrays of the requested length that differ between calls', () => {
    const r = createRandomRng();
    const a = r.randomBytes(32);
    expect(a.constructor).toBe(Uint8Array);
    expect(a.length).toBe(32);
    expect(toHex(r.randomBytes(32))).not.toBe(toHex(a));
    expect(r.fork('x').randomBytes(8).length).toBe(8);
  });
});
