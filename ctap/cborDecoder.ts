/**
 * The fast path of decodeCanonical (ctap/cbor.ts): one pass over input that is plainly canonical CTAP2 CBOR —
 * shortest heads with arguments below 2^32, definite lengths, byte strings, well-formed UTF-8 text, arrays,
 * maps whose int / text keys are in strictly ascending canonical order, false / true / null, nesting within
 * the limit, nothing after the item. It returns the same value the strict path (cbor-x, shape check,
 * re-encode and compare) returns for such input, and gives up (undefined) on anything else: 8-byte heads,
 * floats, tags, other simple values, indefinite lengths, bad UTF-8, a leading byte-order mark, unsorted or
 * duplicate keys, truncation, trailing bytes, depth. The strict path then decides, with its own error, so
 * what is accepted and what is refused does not depend on this file (test/property/cborDecoder.property.test.ts).
 */
import type { CborMap, CborValue } from './cbor.ts';

/** Thrown inside the fast path to hand the input to the strict path. */
const GIVE_UP: unique symbol = Symbol('give up');

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface Reader {
  b: Uint8Array;
  pos: number;
  maxDepth: number;
}

/** The argument of a head with additional information `info`, in shortest form and below 2^32. */
function argument(r: Reader, info: number): number {
  if (info < 24) return info;
  const b = r.b;
  const p = r.pos;
  let v: number;
  if (info === 24) {
    if (p + 1 > b.length) throw GIVE_UP;
    v = b[p]!;
    if (v < 24) throw GIVE_UP;
    r.pos = p + 1;
  } else if (info === 25) {
    if (p + 2 > b.length) throw GIVE_UP;
    v = (b[p]! << 8) | b[p + 1]!;
    if (v < 0x100) throw GIVE_UP;
    r.pos = p + 2;
  } else if (info === 26) {
    if (p + 4 > b.length) throw GIVE_UP;
    v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    if (v < 0x10000) throw GIVE_UP;
    r.pos = p + 4;
  } else {
    throw GIVE_UP; // 8-byte arguments, reserved values, indefinite lengths
  }
  return v;
}

function text(r: Reader, len: number): string {
  const b = r.b;
  const start = r.pos;
  const end = start + len;
  if (end > b.length) throw GIVE_UP;
  r.pos = end;
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    if (len <= 64) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
      return s;
    }
    return utf8Strict.decode(b.subarray(start, end));
  }
  // A leading U+FEFF: cbor-x's JavaScript decoder drops it from long text, its native one keeps it. Leave such
  // text to the strict path, whichever decoder it runs on.
  if (len >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) throw GIVE_UP;
  try {
    return utf8Strict.decode(b.subarray(start, end));
  } catch {
    throw GIVE_UP;
  }
}

/** Canonical key order of two encoded keys b[a0..a1) < b[c0..c1): shorter first, then byte-wise. */
function ascending(b: Uint8Array, a0: number, a1: number, c0: number, c1: number): boolean {
  const la = a1 - a0;
  const lc = c1 - c0;
  if (la !== lc) return la < lc;
  for (let i = 0; i < la; i++) {
    const x = b[a0 + i]!;
    const y = b[c0 + i]!;
    if (x !== y) return x < y;
  }
  return false; // equal: a duplicate key
}

function item(r: Reader, depth: number): CborValue {
  const b = r.b;
  if (r.pos >= b.length) throw GIVE_UP;
  const initial = b[r.pos++]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return argument(r, info);
    case 1:
      return -1 - argument(r, info);
    case 2: {
      const len = argument(r, info);
      const end = r.pos + len;
      if (end > b.length) throw GIVE_UP;
      const out = b.slice(r.pos, end);
      r.pos = end;
      return out;
    }
    case 3:
      return text(r, argument(r, info));
    case 4: {
      if (depth >= r.maxDepth) throw GIVE_UP;
      const n = argument(r, info);
      if (n > b.length - r.pos) throw GIVE_UP; // every item takes at least one byte
      const out: CborValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = item(r, depth + 1);
      return out;
    }
    case 5: {
      if (depth >= r.maxDepth) throw GIVE_UP;
      const n = argument(r, info);
      if (2 * n > b.length - r.pos) throw GIVE_UP;
      const out: CborMap = new Map();
      let prevStart = -1;
      let prevEnd = -1;
      for (let i = 0; i < n; i++) {
        const start = r.pos;
        if (start >= b.length) throw GIVE_UP;
        const keyMajor = b[start]! >> 5;
        if (keyMajor !== 0 && keyMajor !== 1 && keyMajor !== 3) throw GIVE_UP;
        const key = item(r, depth + 1) as number | string;
        const end = r.pos;
        // CTAP 2.1 §8: keys sorted by their encoded bytes (length first), no duplicates.
        if (prevStart >= 0 && !ascending(b, prevStart, prevEnd, start, end)) throw GIVE_UP;
        prevStart = start;
        prevEnd = end;
        out.set(key, item(r, depth + 1));
      }
      return out;
    }
    case 7:
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw GIVE_UP;
    default:
      throw GIVE_UP; // tags
  }
}

/** The value of plainly canonical input (see the header), or undefined: let the strict path judge it. */
export function decodePlainCanonical(bytes: Uint8Array, maxDepth: number): CborValue | undefined {
  // The strict path decodes a copy made with the input's own slice(): only plain Uint8Arrays give plain results.
  if (bytes.constructor !== Uint8Array || bytes.length === 0) return undefined;
  const r: Reader = { b: bytes, pos: 0, maxDepth };
  try {
    const value = item(r, 0);
    return r.pos === bytes.length ? value : undefined;
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}
