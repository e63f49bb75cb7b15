/**
 * decodeCanonical with its one-pass fast path (ctap/cborDecoder.ts) against the strict path alone (cbor-x
 * decode, shape check, re-encode, compare; rebuilt below as the oracle — this test imports cbor-x because the
 * claim is "the same verdict as before"): for valid requests, mutated ones and random bytes, the same value or
 * the same refusal (CTAP2_ERR_INVALID_CBOR, same message).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Decoder } from 'cbor-x';
import { decodeCanonical, encode, MAX_CBOR_DEPTH } from '../../ctap/cbor.ts';
import { decodePlainCanonical } from '../../ctap/cborDecoder.ts';
import { equal, fromHex, toHex } from '../../ctap/bytes.ts';
import { isCtapError } from '../../ctap/errors.ts';

const strictDecoder = new Decoder({
  useRecords: false,
  mapsAsObjects: false,
  copyBuffers: true,
  int64AsType: 'bigint',
} as ConstructorParameters<typeof Decoder>[0]);

/** The strict path of ctap/cbor.ts decodeCanonical, verbatim in behaviour (without the fast path). */
function strict(bytes: Uint8Array, maxDepth = MAX_CBOR_DEPTH): unknown {
  const fail = (m: string) => new Error(`INVALID_CBOR: ${m}`);
  if (bytes.length === 0) throw fail('empty input');
  let value: unknown;
  try {
    value = strictDecoder.decode(bytes.slice());
  } catch {
    throw fail('malformed CBOR');
  }
  const check = (v: unknown, depth: number): void => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint' || v instanceof Uint8Array) return;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw fail('floating-point values are not allowed');
      return;
    }
    if (Array.isArray(v) || v instanceof Map) {
      if (depth >= maxDepth) throw fail(`nesting deeper than ${maxDepth}`);
      if (Array.isArray(v)) for (const x of v) check(x, depth + 1);
      else
        for (const [k, x] of v) {
          if (typeof k !== 'number' && typeof k !== 'string' && typeof k !== 'bigint' && !(k instanceof Uint8Array))
            throw fail('map key of an unsupported type');
          check(x, depth + 1);
        }
      return;
    }
    throw fail('unsupported CBOR item');
  };
  check(value, 0);
  let again: Uint8Array;
  try {
    again = encode(value);
  } catch {
    throw fail('CBOR cannot be re-encoded canonically');
  }
  if (!equal(again, bytes)) throw fail('not in CTAP2 canonical form');
  return value;
}

/** A value's structure with constructor names, so a Buffer never passes for a Uint8Array. */
function describeValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { [v.constructor.name]: toHex(v) };
  if (Array.isArray(v)) return v.map(describeValue);
  if (v instanceof Map) return { Map: [...v].map(([k, x]) => [describeValue(k), describeValue(x)]) };
  if (typeof v === 'bigint') return { bigint: v.toString() };
  if (Object.is(v, -0)) return '-0';
  return v;
}

function verdict(f: (b: Uint8Array, d?: number) => unknown, bytes: Uint8Array, depth?: number): unknown {
  try {
    return { ok: describeValue(f(bytes, depth)) };
  } catch (e) {
    if (isCtapError(e)) return 'INVALID_CBOR';
    if (e instanceof Error && e.message.startsWith('INVALID_CBOR')) return 'INVALID_CBOR';
    throw e;
  }
}

function same(bytes: Uint8Array, depth?: number): void {
  expect(verdict(decodeCanonical, bytes, depth), toHex(bytes)).toEqual(verdict(strict, bytes, depth));
}

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyText = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: codeUnit, maxLength: 70 }));
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -0x1_0000_0000, max: 0xffff_ffff }),
    anyText,
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 80 }),
    tie('array'),
    tie('map'),
  ),
  array: fc.array(tie('value'), { maxLength: 6 }),
  map: fc.array(fc.tuple(fc.oneof(fc.integer({ min: -30, max: 300 }), anyText), tie('value')), { maxLength: 6 }).map((es) => new Map(es)),
})).value;

/** Valid encodings, then damaged: flipped, cut, stretched, spliced. */
const mutated = fc
  .tuple(value, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { maxLength: 3 }))
  .map(([v, edits]) => {
    let b = encode(v);
    for (const [at, x, kind] of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (kind === 0) b[i] = x;
      else if (kind === 1) b = b.slice(0, i);
      else if (kind === 2) b = new Uint8Array([...b.subarray(0, i), x, ...b.subarray(i)]);
      else b = new Uint8Array([...b, x]);
    }
    return b;
  });

describe('decodeCanonical fast path = the strict path', () => {
  it('same value for valid encodings, at every depth limit', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 6 }), (v, depth) => {
        same(encode(v), depth);
      }),
      { numRuns: 1500 },
    );
  });

  it('same verdict for damaged encodings and random bytes', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ minLength: 1, maxLength: 40 })), (b) => same(b)),
      { numRuns: 3000 },
    );
  });

  it('same verdict at the edges the fast path leaves to the strict one', () => {
    const long = (hex: string, n: number) => hex.repeat(n);
    const edges = [
      '1b0000000000000001', // 8-byte head for a small value
      '3b0000000000000001',
      'fb41f0000000000000', // 2^32 as a float64
      'fb3ff0000000000000', // 1.0
      'f93c00',
      'c249010000000000000000', // bignum 2^64
      'c24101', // bignum 1
      'd84043010203', // tag 64 (typed array)
      'f7',
      'f0',
      '63efbbbf', // text: a lone byte-order mark
      `78${(0x43).toString(16)}efbbbf${long('61', 0x40)}`, // a long text starting with one
      '63eda080', // a surrogate in WTF-8 form
      '62c080', // an overlong NUL
      '61ff',
      `78${(0x50).toString(16)}${long('c3a9', 0x28)}`, // long non-ASCII text
      '5f41014102ff', // indefinite byte string
      '9f01ff',
      'a2616201616101', // unsorted text keys
      'a2616101616101', // duplicate text keys
      'a1a0a0', // map as a key
      'a14101a0', // byte-string key
      'a1f5a0', // boolean key
      '818181818101', // depth 5
      '8181818101',
      '1817',
      '190017',
      '1a0000ffff',
      '0000',
      '',
    ];
    for (const hex of edges) same(fromHex(hex));
  });

  it('leaves a Buffer to the strict path (whose copies would be Buffers)', () => {
    expect(decodePlainCanonical(Buffer.from([0xa1, 0x01, 0x02]), MAX_CBOR_DEPTH)).toBeUndefined();
    expect(decodePlainCanonical(new Uint8Array([0xa1, 0x01, 0x02]), MAX_CBOR_DEPTH)).toEqual(new Map([[1, 2]]));
  });
});
