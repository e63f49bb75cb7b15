/**
 * The canonical CBOR encoder behind `encode` (ctap/cbor.ts): one pass over the value, writing into a reused
 * buffer. It replaced "canonicalize into sorted Maps, then cbor-x" (which built a copy of every value and
 * walked it twice) and writes exactly the bytes that pipeline wrote, quirks included — test/property/
 * cborEncoder.property.test.ts checks that against cbor-x itself:
 * - CTAP 2.1 §8 (CTAP2 canonical CBOR): definite lengths, shortest heads, map keys sorted by their encoded
 *   bytes (shorter first, then byte-wise), no tags, byte strings as major type 2, undefined members dropped.
 * - Values: safe integers, bigint, string, boolean, null, Uint8Array, arrays, Maps with number/text keys and
 *   any other object by its own enumerable members; at most 16 levels deep. Anything else is a TypeError.
 * - cbor-x's number rule: an integer outside [-2^32, 2^32) is written as a float64 (major 7), and a bigint
 *   always takes the 8-byte form (or a tag 2/3 bignum beyond 64 bits). Kept as they were: no caller sends
 *   such values and the strict decoder rejects them, so changing them would only change error cases.
 * - cbor-x's text rule: strings shorter than 64 UTF-16 units are converted by its own loop (a lone surrogate
 *   becomes its 3-byte form), longer ones by the platform's UTF-8 encoder (a lone surrogate becomes U+FFFD).
 */

/** Nesting limit of values handed to encode (the depth at which the old canonicalize step gave up). */
const MAX_ENCODE_DEPTH = 16;
/** Short strings: converted code unit by code unit, as cbor-x does below this length. */
const SHORT_STRING = 0x40;
const TWO_64 = 1n << 64n;
/** A writer buffer that grew beyond this is dropped after use (one huge value must not pin its memory). */
const KEEP_BUFFER_LIMIT = 64 * 1024;
const INITIAL_BUFFER = 4096;

interface Writer {
  buf: Uint8Array;
  view: DataView;
  pos: number;
  /** Per nesting depth, the members of the map being written there (reused between maps and calls). */
  members: Members[];
}

function newWriter(size = INITIAL_BUFFER): Writer {
  const buf = new Uint8Array(size);
  return { buf, view: new DataView(buf.buffer), pos: 0, members: [] };
}

/** The writer encode() uses; `shared` is undefined while it is in use (a re-entrant call gets its own). */
let shared: Writer | undefined = newWriter();

function reserve(w: Writer, n: number): void {
  const need = w.pos + n;
  if (need <= w.buf.length) return;
  let size = w.buf.length * 2;
  while (size < need) size *= 2;
  const next = new Uint8Array(size);
  next.set(w.buf.subarray(0, w.pos));
  w.buf = next;
  w.view = new DataView(next.buffer);
}

function byte(w: Writer, b: number): void {
  reserve(w, 1);
  w.buf[w.pos++] = b;
}

/** RFC 8949 §4.2.1: the shortest head for major type `major` and argument `n` (an integer in [0, 2^32)). */
function head(w: Writer, major: number, n: number): void {
  reserve(w, 5);
  const b = w.buf;
  const m = major << 5;
  if (n < 24) b[w.pos++] = m | n;
  else if (n < 0x100) {
    b[w.pos++] = m | 24;
    b[w.pos++] = n;
  } else if (n < 0x10000) {
    b[w.pos++] = m | 25;
    b[w.pos++] = n >> 8;
    b[w.pos++] = n & 0xff;
  } else {
    b[w.pos++] = m | 26;
    w.view.setUint32(w.pos, n);
    w.pos += 4;
  }
}

function writeNumber(w: Writer, v: number): void {
  if (v >>> 0 === v) return head(w, 0, v); // 0 ≤ v < 2^32 (and -0)
  if (v < 0 && v >= -0x100000000 && Math.floor(v) === v) return head(w, 1, -1 - v);
  // cbor-x's rule for every other number (see the header): a float64.
  reserve(w, 9);
  w.buf[w.pos++] = 0xfb;
  w.view.setFloat64(w.pos, v);
  w.pos += 8;
}

function writeBigInt(w: Writer, v: bigint): void {
  if (v >= 0n && v < TWO_64) {
    reserve(w, 9);
    w.buf[w.pos++] = 0x1b;
    w.view.setBigUint64(w.pos, v);
    w.pos += 8;
    return;
  }
  if (v < 0n && v > -TWO_64) {
    reserve(w, 9);
    w.buf[w.pos++] = 0x3b;
    w.view.setBigUint64(w.pos, -1n - v);
    w.pos += 8;
    return;
  }
  // RFC 8949 §3.4.3 bignum: tag 2 (positive) or 3 (negative, -1 - n), big-endian magnitude without leading zeros.
  byte(w, v >= 0n ? 0xc2 : 0xc3);
  let m = v >= 0n ? v : -1n - v;
  const digits: number[] = [];
  while (m > 0n) {
    digits.push(Number(m & 0xffn));
    m >>= 8n;
  }
  writeBytes(w, new Uint8Array(digits.reverse()));
}

function writeBytes(w: Writer, b: Uint8Array): void {
  head(w, 2, b.length);
  reserve(w, b.length);
  w.buf.set(b, w.pos);
  w.pos += b.length;
}

const textEncoder = new TextEncoder();

function writeString(w: Writer, s: string): void {
  const n = s.length;
  if (n >= SHORT_STRING) {
    // Encode after room for the longest head, then move the bytes next to the real head.
    reserve(w, 5 + 3 * n);
    const start = w.pos;
    const { written } = textEncoder.encodeInto(s, w.buf.subarray(start + 5));
    head(w, 3, written);
    w.buf.copyWithin(w.pos, start + 5, start + 5 + written);
    w.pos += written;
    return;
  }
  let len = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      len += 4;
      i++;
    } else len += 3;
  }
  head(w, 3, len);
  reserve(w, len);
  const b = w.buf;
  let p = w.pos;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) b[p++] = c;
    else if (c < 0x800) {
      b[p++] = (c >> 6) | 0xc0;
      b[p++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      b[p++] = (c >> 18) | 0xf0;
      b[p++] = ((c >> 12) & 0x3f) | 0x80;
      b[p++] = ((c >> 6) & 0x3f) | 0x80;
      b[p++] = (c & 0x3f) | 0x80;
    } else {
      b[p++] = (c >> 12) | 0xe0;
      b[p++] = ((c >> 6) & 0x3f) | 0x80;
      b[p++] = (c & 0x3f) | 0x80;
    }
  }
  w.pos = p;
}

/** Encoded map keys, memoised: CTAP uses a small, fixed vocabulary of keys, and sorting needs their bytes. */
const keyBytesCache = new Map<number | string, Uint8Array>();
const KEY_CACHE_LIMIT = 4096;

function keyBytes(k: number | string): Uint8Array {
  let b = keyBytesCache.get(k);
  if (b === undefined) {
    const w = newWriter(16);
    if (typeof k === 'number') writeNumber(w, k);
    else writeString(w, k);
    b = w.buf.slice(0, w.pos);
    if (keyBytesCache.size < KEY_CACHE_LIMIT) keyBytesCache.set(k, b);
  }
  return b;
}

/** CTAP 2.1 §8 key order: shorter encoding first, then byte-wise. */
function compareKeys(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** The members of one map being written: encoded keys and values, kept in canonical key order as they come. */
interface Members {
  keys: Uint8Array[];
  vals: unknown[];
  n: number;
}

/** The writer's member list for maps at `depth` (maps nested inside it use deeper ones), emptied. */
function members(w: Writer, depth: number): Members {
  let m = w.members[depth];
  if (m === undefined) {
    m = { keys: [], vals: [], n: 0 };
    w.members[depth] = m;
  }
  m.n = 0;
  return m;
}

/** Add one member in its sorted place (insertion sort: CTAP maps are small and often built in order). */
function addMember(m: Members, k: unknown, value: unknown): void {
  if (value === undefined) return; // undefined members are dropped
  if (typeof k !== 'number' && typeof k !== 'string') throw new TypeError(`CBOR encode: bad map key ${String(k)}`);
  const kb = keyBytes(k);
  const { keys, vals } = m;
  let j = m.n;
  let c = 1;
  while (j > 0 && (c = compareKeys(keys[j - 1]!, kb)) > 0) {
    keys[j] = keys[j - 1]!;
    vals[j] = vals[j - 1];
    j--;
  }
  if (j > 0 && c === 0) throw new TypeError(`CBOR encode: duplicate key ${String(k)}`);
  keys[j] = kb;
  vals[j] = value;
  m.n++;
}

function writeMembers(w: Writer, m: Members, depth: number): void {
  const n = m.n;
  head(w, 5, n);
  for (let i = 0; i < n; i++) {
    const kb = m.keys[i]!;
    reserve(w, kb.length);
    w.buf.set(kb, w.pos);
    w.pos += kb.length;
    const value = m.vals[i];
    m.vals[i] = undefined; // the shared writer must not keep the caller's values alive
    writeValue(w, value, depth + 1);
  }
}

function writeMap(w: Writer, map: Map<unknown, unknown>, depth: number): void {
  const m = members(w, depth);
  for (const [k, v] of map) addMember(m, k, v);
  writeMembers(w, m, depth);
}

/**
 * The canonical member order of objects with one list of member names (objects built by one piece of code,
 * like every record of a state, share it): the names' indices sorted by encoded key, and those keys.
 */
interface Shape {
  names: readonly string[];
  order: number[];
  keys: Uint8Array[];
}

/** Shapes seen, by member count; a small bounded memo (objects come from vfido's own code, not from input). */
const shapes = new Map<number, Shape[]>();
const SHAPES_PER_COUNT = 8;

function shapeOf(names: readonly string[]): Shape {
  let list = shapes.get(names.length);
  if (list !== undefined) {
    search: for (const shape of list) {
      for (let i = 0; i < names.length; i++) if (shape.names[i] !== names[i]) continue search;
      return shape;
    }
  } else {
    list = [];
    shapes.set(names.length, list);
  }
  const byKey = names.map((name, i) => ({ i, key: keyBytes(name) }));
  byKey.sort((a, b) => compareKeys(a.key, b.key)); // object member names are distinct, so are their keys
  const shape: Shape = { names: [...names], order: byKey.map((e) => e.i), keys: byKey.map((e) => e.key) };
  if (list.length < SHAPES_PER_COUNT) list.push(shape);
  return shape;
}

/** Any other object: its own enumerable string-keyed members (Object.keys order), as a map with text keys. */
function writeObject(w: Writer, o: object, depth: number): void {
  const names = Object.keys(o);
  const shape = shapeOf(names);
  // Each member is read once (a getter runs once), in Object.keys order, before anything is written.
  const m = members(w, depth);
  const values = m.vals;
  let n = 0;
  for (let i = 0; i < names.length; i++) {
    const v = (o as Record<string, unknown>)[names[i]!];
    values[i] = v;
    if (v !== undefined) n++;
  }
  head(w, 5, n);
  for (let j = 0; j < shape.order.length; j++) {
    const i = shape.order[j]!;
    const value = values[i];
    if (value === undefined) continue; // undefined members are dropped
    values[i] = undefined; // the shared writer must not keep the caller's values alive
    const kb = shape.keys[j]!;
    reserve(w, kb.length);
    w.buf.set(kb, w.pos);
    w.pos += kb.length;
    writeValue(w, value, depth + 1);
  }
}

function writeValue(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_ENCODE_DEPTH) throw new TypeError('CBOR value nested too deeply to encode');
  switch (typeof v) {
    case 'number':
      if (!Number.isSafeInteger(v)) throw new TypeError(`CBOR encode: only integers are allowed, got ${v}`);
      return writeNumber(w, v);
    case 'string':
      return writeString(w, v);
    case 'boolean':
      return byte(w, v ? 0xf5 : 0xf4);
    case 'bigint':
      return writeBigInt(w, v);
    case 'object':
      if (v === null) return byte(w, 0xf6);
      if (v instanceof Uint8Array) return writeBytes(w, v);
      if (Array.isArray(v)) {
        const a = v as unknown[];
        head(w, 4, a.length);
        for (let i = 0; i < a.length; i++) {
          const x = a[i];
          // A hole in a sparse array is written as `undefined` (0xf7), as before; an undefined element is an error.
          if (x === undefined && !(i in a)) byte(w, 0xf7);
          else writeValue(w, x, depth + 1);
        }
        return;
      }
      if (v instanceof Map) return writeMap(w, v as Map<unknown, unknown>, depth);
      return writeObject(w, v, depth);
    default:
      // undefined → TypeError (as Object.keys(undefined)); functions and symbols → their own members (usually none).
      return writeObject(w, v as object, depth);
  }
}

/** Encode in CTAP2 canonical form (see the header). Returns a new Uint8Array. */
export function encodeCanonical(value: unknown): Uint8Array {
  const w = shared ?? newWriter();
  shared = undefined;
  try {
    w.pos = 0;
    writeValue(w, value, 0);
    return w.buf.slice(0, w.pos);
  } catch (e) {
    w.members = []; // a refused value leaves members behind: drop them
    throw e;
  } finally {
    shared = w.buf.length > KEEP_BUFFER_LIMIT ? newWriter() : w;
  }
}
