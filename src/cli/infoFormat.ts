/**
 * authenticatorGetInfo response (CTAP 2.1 §6.4, integer-keyed map) → a named, JSON-able summary, and a
 * readable text rendering of it for `vfido info`.
 */
import type { CborMap, CborValue } from '../../ctap/cbor.ts';
import { toHex } from '../../ctap/bytes.ts';

/** CTAP 2.1 §6.4: getInfo response member names by key (2.2 additions included for display). */
const INFO_KEYS: Record<number, string> = {
  0x01: 'versions',
  0x02: 'extensions',
  0x03: 'aaguid',
  0x04: 'options',
  0x05: 'maxMsgSize',
  0x06: 'pinUvAuthProtocols',
  0x07: 'maxCredentialCountInList',
  0x08: 'maxCredentialIdLength',
  0x09: 'transports',
  0x0a: 'algorithms',
  0x0b: 'maxSerializedLargeBlobArray',
  0x0c: 'forcePINChange',
  0x0d: 'minPINLength',
  0x0e: 'firmwareVersion',
  0x0f: 'maxCredBlobLength',
  0x10: 'maxRPIDsForSetMinPINLength',
  0x11: 'preferredPlatformUvAttempts',
  0x12: 'uvModality',
  0x13: 'certifications',
  0x14: 'remainingDiscoverableCredentials',
  0x15: 'vendorPrototypeConfigCommands',
  0x16: 'attestationFormats',
  0x17: 'uvCountSinceLastPinEntry',
  0x18: 'longTouchForReset',
  0x19: 'encIdentifier',
  0x1a: 'transportsForReset',
  0x1b: 'pinComplexityPolicy',
  0x1c: 'pinComplexityPolicyURL',
  0x1d: 'maxPINLength',
};

/** IANA COSE Algorithms registry names for the identifiers an authenticator may list. */
const COSE_ALG_NAMES: Record<number, string> = {
  [-7]: 'ES256',
  [-8]: 'EdDSA',
  [-35]: 'ES384',
  [-36]: 'ES512',
  [-47]: 'ES256K',
  [-257]: 'RS256',
  [-258]: 'RS384',
  [-259]: 'RS512',
  [-37]: 'PS256',
  [-65535]: 'RS1',
};

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export function coseAlgName(alg: number): string {
  return COSE_ALG_NAMES[alg] ?? `alg(${alg})`;
}

/** 16 bytes → canonical 8-4-4-4-12 UUID text (RFC 9562 §4). */
export function uuidFromBytes(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`aaguid: expected 16 bytes, got ${b.length}`);
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function toJson(v: CborValue): JsonValue {
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof Map) {
    const o: { [k: string]: JsonValue } = {};
    for (const [k, x] of v) o[String(k)] = toJson(x);
    return o;
  }
  if (v !== null && typeof v === 'object') {
    const o: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toJson(x);
    return o;
  }
  return v;
}

/** Named summary: aaguid as a UUID, algorithms as names, unknown keys kept as `key0xNN`. */
export function describeInfo(info: CborMap): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of info) {
    const name = typeof k === 'number' ? (INFO_KEYS[k] ?? `key0x${k.toString(16).padStart(2, '0')}`) : k;
    if (name === 'aaguid' && v instanceof Uint8Array && v.length === 16) out[name] = uuidFromBytes(v);
    else if (name === 'algorithms' && Array.isArray(v)) {
      out[name] = v.map((a) => {
        const alg = a instanceof Map ? a.get('alg') : undefined;
        return typeof alg === 'number' ? coseAlgName(alg) : toJson(a);
      });
    } else out[name] = toJson(v);
  }
  return out;
}

function line(label: string, value: string): string {
  return `  ${(label + ':').padEnd(34)} ${value}`;
}

/** Human-readable text of a described getInfo. */
export function formatInfo(d: Record<string, JsonValue>): string {
  const lines: string[] = ['Authenticator info'];
  const list = (v: JsonValue | undefined): string => (Array.isArray(v) ? v.join(', ') || '(none)' : String(v));
  const first = ['versions', 'aaguid', 'extensions', 'algorithms', 'pinUvAuthProtocols', 'transports'];
  for (const k of first) if (d[k] !== undefined) lines.push(line(k, list(d[k])));
  const options = d.options;
  if (options && typeof options === 'object' && !Array.isArray(options)) {
    const parts = Object.entries(options).map(([k, v]) => `${k}=${String(v)}`);
    lines.push(line('options', parts.join(' ') || '(none)'));
  }
  for (const [k, v] of Object.entries(d)) {
    if (first.includes(k) || k === 'options') continue;
    lines.push(line(k, typeof v === 'object' && v !== null && !Array.isArray(v) ? JSON.stringify(v) : list(v)));
  }
  return lines.join('\n');
}
