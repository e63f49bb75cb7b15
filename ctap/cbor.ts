/**
 * The one wrapper of cbor-x. Everything CBOR in vfido goes through here.
 *
 * Invariants (CTAP 2.1 §8 "CTAP2 canonical CBOR encoding form"):
 * - encode: definite lengths, shortest integer/length forms, map keys sorted by their encoded bytes
 *   (length-first then byte-wise; for int and text keys this equals RFC 8949 deterministic order),
 *   no tags, no floats, byte strings as major type 2.
 * - decode (strict): the input must be exactly one item, already in canonical form (checked by
 *   re-encoding and comparing bytes — catches non-shortest forms, indefinite lengths, unsorted and
 *   duplicate keys, trailing bytes), made only of uint / nint / bytes / text / array / map / bool /
 *   null, with maps and arrays nested at most `maxDepth` deep. Any violation → CTAP2_ERR_INVALID_CBOR.
 * - decoded maps are JS `Map`s (integer keys stay integers); byte strings are plain Uint8Arrays.
 */
import { Decoder, Encoder } from 'cbor-x';
import { CtapStatus } from './constants/status.ts';
import { CtapError } from './errors.ts';
import { asU8, equal } from './bytes.ts';

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | CborValue[]
  | CborMap
  | { [key: string]: CborValue | undefined };
export type CborMap = Map<CborKey, CborValue>;
export type CborKey = number | string;

const decoder = new Decoder({
  useRecords: false,
  mapsAsObjects: false,
  copyBuffers: true,
  int64AsType: 'bigint',
} as ConstructorParameters<typeof Decoder>[0]);

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  tagUint8Array: false,
  useTag259ForMaps: false,
  variableMapSize: true,
  copyBuffers: true,
  useFloat32: 0,
} as ConstructorParameters<typeof Encoder>[0]);

/** CTAP 2.1 §8: authenticators must support, and platforms must not exceed, nesting depth 4. */
export const MAX_CBOR_DEPTH = 4;

function invalid(message: string, cause?: unknown): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_INVALID_CBOR, message, { cause });
}

/** Encoded map keys, memoised: CTAP uses a small, fixed vocabulary of keys, and sorting needs their bytes. */
const keyBytesCache = new Map<CborKey, Uint8Array>();
const KEY_CACHE_LIMIT = 4096;

function keyBytes(k: CborKey): Uint8Array {
  let b = keyBytesCache.get(k);
  if (b === undefined) {
    b = new Uint8Array(encoder.encode(k));
    if (keyBytesCache.size < KEY_CACHE_LIMIT) keyBytesCache.set(k, b);
  }
  return b;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Turn a value into the form cbor-x encodes canonically: Maps with sorted keys, plain Uint8Arrays. */
function canonicalize(v: unknown, depth: number): unknown {
  if (depth > 16) throw new TypeError('CBOR value nested too deeply to encode');
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError(`CBOR encode: only integers are allowed, got ${v}`);
    return v;
  }
  if (v instanceof Uint8Array) return asU8(v);
  if (Array.isArray(v)) return v.map((x) => canonicalize(x, depth + 1));
  const entries: [unknown, unknown][] =
    v instanceof Map ? [...v.entries()] : Object.entries(v as Record<string, unknown>);
  const sorted = entries
    .filter(([, val]) => val !== undefined)
    .map(([k, val]) => {
      if (typeof k !== 'number' && typeof k !== 'string') throw new TypeError(`CBOR encode: bad map key ${String(k)}`);
      return { k, kb: keyBytes(k), val: canonicalize(val, depth + 1) };
    })
    .sort((a, b) => compareBytes(a.kb, b.kb));
  const out = new Map<unknown, unknown>();
  for (const e of sorted) {
    if (out.has(e.k)) throw new TypeError(`CBOR encode: duplicate key ${String(e.k)}`);
    out.set(e.k, e.val);
  }
  return out;
}

/** Encode in CTAP2 canonical form. Accepts Maps (any key order) and plain objects; undefined members are dropped. */
export function encode(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(canonicalize(value, 0)));
}

function checkShape(v: unknown, depth: number, maxDepth: number): void {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw invalid('floating-point values are not allowed');
    return;
  }
  if (typeof v === 'bigint') return;
  if (v instanceof Uint8Array) return;
  if (Array.isArray(v) || v instanceof Map) {
    if (depth >= maxDepth) throw invalid(`nesting deeper than ${maxDepth}`);
    if (Array.isArray(v)) for (const x of v) checkShape(x, depth + 1, maxDepth);
    else
      for (const [k, x] of v) {
        if (typeof k !== 'number' && typeof k !== 'string' && typeof k !== 'bigint' && !(k instanceof Uint8Array))
          throw invalid('map key of an unsupported type');
        checkShape(x, depth + 1, maxDepth);
      }
    return;
  }
  throw invalid(`unsupported CBOR item (${Object.prototype.toString.call(v)}): tags, undefined and simple values are not allowed`);
}

/**
 * Strict canonical decode of exactly one CBOR item.
 * Throws CtapError(CTAP2_ERR_INVALID_CBOR) on anything that is not canonical CTAP2 CBOR.
 */
export function decodeCanonical(bytes: Uint8Array, maxDepth = MAX_CBOR_DEPTH): CborValue {
  if (bytes.length === 0) throw invalid('empty input');
  let value: unknown;
  try {
    // cbor-x caches a DataView as a property on the buffer it decodes: decode a private copy so callers'
    // arrays stay plain (and comparable) Uint8Arrays.
    value = decoder.decode(bytes.slice());
  } catch (e) {
    throw invalid('malformed CBOR', e);
  }
  checkShape(value, 0, maxDepth);
  let again: Uint8Array;
  try {
    again = encode(value);
  } catch (e) {
    throw invalid('CBOR cannot be re-encoded canonically', e);
  }
  if (!equal(again, bytes)) throw invalid('not in CTAP2 canonical form (or trailing bytes / duplicate keys)');
  return value as CborValue;
}

/** Lenient decode for data vfido wrote itself (store files): no canonical check, any depth. */
export function decodeLenient(bytes: Uint8Array): unknown {
  return decoder.decode(bytes.slice());
}
