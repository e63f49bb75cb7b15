/**
 * The one wrapper of cbor-x. Everything CBOR in vfido goes through here. Two one-pass helpers sit beside it:
 * ctap/cborEncoder.ts writes the canonical bytes (byte for byte what cbor-x wrote), ctap/cborDecoder.ts
 * reads plainly canonical input without the strict path's decode + re-encode.
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
import { Decoder } from 'cbor-x';
import { CtapStatus } from './constants/status.ts';
import { CtapError } from './errors.ts';
import { equal } from './bytes.ts';
import { decodePlainCanonical } from './cborDecoder.ts';
import { encodeCanonical } from './cborEncoder.ts';

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

/** CTAP 2.1 §8: authenticators must support, and platforms must not exceed, nesting depth 4. */
export const MAX_CBOR_DEPTH = 4;

function invalid(message: string, cause?: unknown): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_INVALID_CBOR, message, { cause });
}

/**
 * Encode in CTAP2 canonical form. Accepts Maps (any key order) and plain objects; undefined members are dropped.
 * The encoder (ctap/cborEncoder.ts) writes the canonical bytes in one pass, without cbor-x.
 */
export function encode(value: unknown): Uint8Array {
  return encodeCanonical(value);
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
  // Plainly canonical input (every well-formed request) is decoded in one pass (ctap/cborDecoder.ts); anything
  // else goes the strict way below, which alone decides what is refused and with which message.
  const plain = decodePlainCanonical(bytes, maxDepth);
  if (plain !== undefined) return plain;
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
  // Canonical input (what vfido writes) in one pass; the same value cbor-x gives for it (ctap/cborDecoder.ts).
  return decodePlainCanonical(bytes, Number.POSITIVE_INFINITY) ?? decoder.decode(bytes.slice());
}
