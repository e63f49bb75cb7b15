/**
 * The one-pass canonical encoder (ctap/cborEncoder.ts) against the pipeline it replaced: "canonicalize into
 * sorted Maps, then cbor-x" (copied below as the oracle; this test is the one other place that imports cbor-x,
 * because the claim under test is "the same bytes cbor-x wrote"). Same bytes for every value, the same
 * TypeError for every value it refused.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { encode, decodeCanonical } from '../../ctap/cbor.ts';
import { toHex } from '../../ctap/bytes.ts';

const oracleEncoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  tagUint8Array: false,
  useTag259ForMaps: false,
  variableMapSize: true,
  copyBuffers: true,
  useFloat32: 0,
} as ConstructorParameters<typeof Encoder>[0]);

function compare(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** The former ctap/cbor.ts canonicalize step, verbatim in behaviour. */
function canonicalize(v: unknown, depth: number): unknown {
  if (depth > 16) throw new TypeError('CBOR value nested too deeply to encode');
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError(`CBOR encode: only integers are allowed, got ${v}`);
    return v;
  }
  if (v instanceof Uint8Array) return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map((x) => canonicalize(x, depth + 1));
  const entries: [unknown, unknown][] = v instanceof Map ? [...v.entries()] : Object.entries(v as Record<string, unknown>);
  const sorted = entries
    .filter(([, val]) => val !== undefined)
    .map(([k, val]) => {
      if (typeof k !== 'number' && typeof k !== 'string') throw new TypeError(`CBOR encode: bad map key ${String(k)}`);
      return { k, kb: new Uint8Array(oracleEncoder.encode(k)), val: canonicalize(val, depth + 1) };
    })
    .sort((a, b) => compare(a.kb, b.kb));
  const out = new Map<unknown, unknown>();
  for (const e of sorted) {
    if (out.has(e.k)) throw new TypeError(`CBOR encode: duplicate key ${String(e.k)}`);
    out.set(e.k, e.val);
  }
  return out;
}

function oracle(v: unknown): Uint8Array {
  return new Uint8Array(oracleEncoder.encode(canonicalize(v, 0)));
}

type Outcome = { ok: true; hex: string } | { ok: false; error: string };

function run(f: (v: unknown) => Uint8Array, v: unknown): Outcome {
  try {
    return { ok: true, hex: toHex(f(v)) };
  } catch (e) {
    return { ok: false, error: e instanceof TypeError ? 'TypeError' : String(e) };
  }
}

/** UTF-16 code units one by one: lone surrogates included (fast-check's own units leave them out). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: codeUnit, maxLength: 80 }),
  fc.string({ unit: 'binary-ascii', minLength: 60, maxLength: 300 }),
);
const int = fc.oneof(
  fc.integer(),
  fc.integer({ min: -0x1_0000_0001, max: 0x1_0000_0001 }),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -0, 23, 24, 255, 256, 65535, 65536, -24, -25, -256, -257, -65536, -65537, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1),
);
const big = fc.oneof(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), fc.constantFrom(0n, -1n, (1n << 64n) - 1n, 1n << 64n, -(1n << 64n)));
const scalar = fc.oneof(int, text, fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 300 }), big);
const key = fc.oneof(int, text, fc.integer({ min: -30, max: 30 }), fc.constantFrom('a', 'b', 'aa', ''));

const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('map'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 30 }),
  map: fc.array(fc.tuple(key, fc.option(tie('value'), { nil: undefined })), { maxLength: 30 }).map((es) => new Map(es)),
  object: fc.dictionary(fc.oneof(text, fc.constantFrom('a', 'b', 'aa')), fc.option(tie('value'), { nil: undefined }), { maxKeys: 10 }),
})).value;

describe('canonical encoder = the former canonicalize + cbor-x pipeline', () => {
  it('same bytes for random values (integers of every width, text with lone surrogates, bigints, nesting)', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(run(encode, v)).toEqual(run(oracle, v));
      }),
      { numRuns: 1000 },
    );
  });

  it('same bytes or the same refusal at the edges', () => {
    const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
    const sparse: unknown[] = [1];
    sparse[3] = 2;
    const edges: unknown[] = [
      1.5, NaN, Infinity, 2 ** 53, -(2 ** 53), undefined, [undefined], sparse, { a: undefined }, new Map([[1.5, 1]]),
      new Map<unknown, unknown>([[1n, 1]]), new Map<unknown, unknown>([[new Uint8Array([1]), 1]]), deep(16), deep(17),
      new Uint16Array([1, 2]), new DataView(new ArrayBuffer(2)), Buffer.from([1, 2, 3]), 'x'.repeat(70_000),
      `${'y'.repeat(70)}\ud800`, `\udc00${'é'.repeat(40)}`, Symbol('s'), () => 1,
    ];
    for (const v of edges) expect(run(encode, v)).toEqual(run(oracle, v));
  });

  /** Spec: CTAP 2.1 §8 — what the encoder writes, the strict decoder accepts and gives back. */
  it('round-trips through the strict decoder', () => {
    const ctapValue = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.boolean(), fc.uint8Array(), tie('map'), tie('array')),
      array: fc.array(tie('value'), { maxLength: 5 }),
      map: fc.array(fc.tuple(fc.oneof(fc.integer({ min: -100, max: 100 }), fc.string()), tie('value')), { maxLength: 5 }).map((es) => new Map(es)),
    })).value;
    fc.assert(
      fc.property(ctapValue, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = encode(v);
        } catch {
          return; // nested too deeply for the encoder is not this property's concern
        }
        let depthOk = true;
        let decoded: unknown;
        try {
          decoded = decodeCanonical(bytes, 64);
        } catch {
          depthOk = false;
        }
        expect(depthOk).toBe(true);
        expect(encode(decoded)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });
});
