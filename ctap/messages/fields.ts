/**
 * Typed field extraction for request maps, with the exact status for each failure
 * (CTAP 2.1 §8 message encoding; CHECKLIST B0.5 / F2.7):
 * - a required key that is absent → CTAP2_ERR_MISSING_PARAMETER
 * - a known key whose value has the wrong CBOR type → CTAP2_ERR_CBOR_UNEXPECTED_TYPE
 * Unknown keys are never looked at, so they are ignored (CTAP 2.1 §8: forward compatibility).
 */
import { encode, type CborKey, type CborMap, type CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';

export function missing(name: string): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, `${name} is required`);
}

export function unexpectedType(name: string, expected: string, got: unknown): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE, `${name}: expected ${expected}, got ${describe(got)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Map) return 'map';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' || typeof v === 'bigint') return 'integer';
  return typeof v;
}

/** A checker turns a CBOR value into a typed value or throws CBOR_UNEXPECTED_TYPE. */
export type Check<T> = (v: CborValue, name: string) => T;

export const bytes: Check<Uint8Array> = (v, name) => {
  if (v instanceof Uint8Array) return v;
  throw unexpectedType(name, 'bytes', v);
};

export const text: Check<string> = (v, name) => {
  if (typeof v === 'string') return v;
  throw unexpectedType(name, 'text', v);
};

export const bool: Check<boolean> = (v, name) => {
  if (typeof v === 'boolean') return v;
  throw unexpectedType(name, 'boolean', v);
};

/** Any CBOR integer (major type 0 or 1). Values beyond 2^53 are kept approximately: they only ever fail to match. */
export const int: Check<number> = (v, name) => {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw unexpectedType(name, 'integer', v);
};

/** An unsigned integer (major type 0). */
export const uint: Check<number> = (v, name) => {
  const n = int(v, name);
  if (n < 0) throw unexpectedType(name, 'unsigned integer', v);
  return n;
};

export const map: Check<CborMap> = (v, name) => {
  if (v instanceof Map) return v;
  throw unexpectedType(name, 'map', v);
};

export const array: Check<CborValue[]> = (v, name) => {
  if (Array.isArray(v)) return v;
  throw unexpectedType(name, 'array', v);
};

export function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (v, name) => array(v, name).map((x, i) => item(x, `${name}[${i}]`));
}

/** The value of `key`, checked; undefined when absent. */
export function optional<T>(m: CborMap, key: CborKey, check: Check<T>, name: string): T | undefined {
  const v = m.get(key);
  return v === undefined ? undefined : check(v, name);
}

/** The value of `key`, checked; MISSING_PARAMETER when absent. */
/**
 * Copy an optional member onto a typed request under the field of the same name, only when it is present
 * (an absent member stays absent rather than becoming `undefined`). The field name is the error name.
 */
export function setOptional<T, F extends keyof T & string>(
  target: T,
  field: F,
  m: CborMap,
  key: CborKey,
  check: Check<NonNullable<T[F]>>,
): void {
  const v = optional(m, key, check, field);
  if (v !== undefined) target[field] = v as T[F];
}

export function required<T>(m: CborMap, key: CborKey, check: Check<T>, name: string): T {
  const v = m.get(key);
  if (v === undefined) throw missing(name);
  return check(v, name);
}

/**
 * The authenticated subcommand envelope shared by bioEnrollment, credentialManagement and config (CTAP 2.1 §6.7,
 * §6.8, §6.11): subCommandParams (typed, plus its CBOR bytes — the pinUvAuthParam is computed over them),
 * pinUvAuthProtocol and pinUvAuthParam. The three commands number these members differently.
 */
export interface SubCommandEnvelope<P> {
  subCommandParams?: P;
  /** CBOR(subCommandParams) as sent (strict canonical decode, so re-encoding gives back the same bytes). */
  subCommandParamsCbor?: Uint8Array;
  pinUvAuthProtocol?: number;
  pinUvAuthParam?: Uint8Array;
}

export function parseSubCommandEnvelope<P>(
  m: CborMap,
  keys: { subCommandParams: number; pinUvAuthProtocol: number; pinUvAuthParam: number },
  parseParams: (params: CborMap) => P,
): SubCommandEnvelope<P> {
  const out: SubCommandEnvelope<P> = {};
  const params = optional(m, keys.subCommandParams, map, 'subCommandParams');
  if (params !== undefined) {
    out.subCommandParams = parseParams(params);
    out.subCommandParamsCbor = encode(params);
  }
  const protocol = optional(m, keys.pinUvAuthProtocol, uint, 'pinUvAuthProtocol');
  if (protocol !== undefined) out.pinUvAuthProtocol = protocol;
  const param = optional(m, keys.pinUvAuthParam, bytes, 'pinUvAuthParam');
  if (param !== undefined) out.pinUvAuthParam = param;
  return out;
}
