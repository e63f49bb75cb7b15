import { describe, it, expect } from 'vitest';
import { encode, decodeCanonical } from './cbor.ts';
import { fromHex, toHex } from './bytes.ts';
import { CtapStatus } from './constants/status.ts';

const invalid = (hex: string) => {
  try {
    decodeCanonical(fromHex(hex));
  } catch (e) {
    return (e as { status?: number }).status;
  }
  return 'accepted';
};

describe('ctap/cbor', () => {
  /** Spec: CTAP 2.1 §8 canonical form — map keys sorted by encoded bytes (length first), shortest integers. */
  it('encodes canonically whatever the key order', () => {
    const m = new Map<number | string, unknown>([
      [-1, 1],
      [3, -7],
      [1, 2],
    ]);
    expect(toHex(encode(m))).toBe('a3010203262001');
    expect(toHex(encode({ type: 'public-key', alg: -7, id: new Uint8Array([1]) }))).toBe(
      'a3626964410163616c672664747970656a7075626c69632d6b6579',
    );
    expect(toHex(encode(500))).toBe('1901f4');
  });

  it('drops undefined members and refuses floats', () => {
    expect(toHex(encode({ a: 1, b: undefined }))).toBe('a1616101');
    expect(() => encode(1.5)).toThrow();
  });

  /** Spec: CTAP 2.1 §8 — non-canonical, duplicate keys, tags, floats, trailing bytes, depth > 4 → INVALID_CBOR. */
  it.each([
    ['a20201 0100', 'unsorted keys'],
    ['a201020103', 'duplicate keys'],
    ['1817', 'non-shortest integer'],
    ['f93c00', 'half float'],
    ['c11a514b67b0', 'tag'],
    ['5f41014102ff', 'indefinite byte string'],
    ['0000', 'trailing bytes'],
    ['a101', 'truncated'],
    ['818181818101', 'nesting deeper than 4'],
    ['f7', 'undefined'],
  ])('rejects %s (%s) with INVALID_CBOR', (hex) => {
    expect(invalid(hex)).toBe(CtapStatus.CTAP2_ERR_INVALID_CBOR);
  });

  it('accepts canonical input at the depth limit and leaves the input untouched', () => {
    const b = fromHex('8181818101');
    expect(decodeCanonical(b)).toEqual([[[[1]]]]);
    expect(Object.keys(b)).toEqual(['0', '1', '2', '3', '4']);
    const m = decodeCanonical(fromHex('a201020343020304')) as Map<number, unknown>;
    expect(m.get(1)).toBe(2);
    expect(m.get(3)).toEqual(new Uint8Array([2, 3, 4]));
  });
});
