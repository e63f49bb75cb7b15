/**
 * WebAuthn structures carried inside CTAP requests (CTAP 2.1 §6.1 parameter table; WebAuthn L3 §5.4, §5.8.3):
 * PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity, PublicKeyCredentialParameters,
 * PublicKeyCredentialDescriptor, and the options map.
 */
import type { CborMap, CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { arrayOf, bool, bytes, int, map, optional, required, text, type Check } from './fields.ts';

export interface RpEntity {
  id: string;
  name?: string;
}

export interface UserEntity {
  id: Uint8Array;
  name?: string;
  displayName?: string;
}

export interface PubKeyCredParam {
  type: string;
  /** Present for every "public-key" entry; entries of other types carry no alg we understand. */
  alg?: number;
}

export interface CredentialDescriptor {
  type: string;
  id: Uint8Array;
  transports?: string[];
}

/** The `options` map; absent keys stay undefined so handlers apply the per-command defaults. */
export interface RequestOptions {
  rk?: boolean;
  up?: boolean;
  uv?: boolean;
}

export const PUBLIC_KEY = 'public-key';
/** WebAuthn L3 §5.4.3: user.id is at most 64 bytes. */
export const MAX_USER_ID_LENGTH = 64;

/** rp: `id` required; `name` text if present; anything else (e.g. the removed `icon`) is ignored. */
export const rpEntity: Check<RpEntity> = (v, name) => {
  const m = map(v, name);
  const rp: RpEntity = { id: required(m, 'id', text, `${name}.id`) };
  const rpName = optional(m, 'name', text, `${name}.name`);
  if (rpName !== undefined) rp.name = rpName;
  return rp;
};

/** user: `id` required, at most 64 bytes; `name`, `displayName` text if present; `icon` ignored. */
export const userEntity: Check<UserEntity> = (v, name) => {
  const m = map(v, name);
  const id = required(m, 'id', bytes, `${name}.id`);
  // WebAuthn L3 §5.4.3: "The user handle ... is ... maximum size of 64 bytes". Decision: an item of the
  // wrong length → CTAP1_ERR_INVALID_LENGTH (the spec names no code for this check).
  if (id.length > MAX_USER_ID_LENGTH) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_LENGTH, `${name}.id is ${id.length} bytes, at most 64 allowed`);
  }
  const user: UserEntity = { id };
  const userName = optional(m, 'name', text, `${name}.name`);
  if (userName !== undefined) user.name = userName;
  const displayName = optional(m, 'displayName', text, `${name}.displayName`);
  if (displayName !== undefined) user.displayName = displayName;
  return user;
};

/**
 * CTAP 2.1 §6.1.2 step 3: "If the element is missing required members, including members that are mandatory
 * only for the specific type, then return an error" (we return MISSING_PARAMETER, consistent with every
 * other missing member); wrong member types → CBOR_UNEXPECTED_TYPE. `alg` is mandatory only for "public-key".
 */
export const pubKeyCredParam: Check<PubKeyCredParam> = (v, name) => {
  const m = map(v, name);
  const type = required(m, 'type', text, `${name}.type`);
  if (type !== PUBLIC_KEY) {
    const entry: PubKeyCredParam = { type };
    const alg = optional(m, 'alg', int, `${name}.alg`);
    if (alg !== undefined) entry.alg = alg;
    return entry;
  }
  return { type, alg: required(m, 'alg', int, `${name}.alg`) };
};

/** PublicKeyCredentialDescriptor: `type` and `id` required, `transports` an array of text if present. */
export const credentialDescriptor: Check<CredentialDescriptor> = (v, name) => {
  const m = map(v, name);
  const d: CredentialDescriptor = {
    type: required(m, 'type', text, `${name}.type`),
    id: required(m, 'id', bytes, `${name}.id`),
  };
  const transports = optional(m, 'transports', arrayOf(text), `${name}.transports`);
  if (transports !== undefined) d.transports = transports;
  return d;
};

export const credentialList: Check<CredentialDescriptor[]> = arrayOf(credentialDescriptor);

/**
 * options: CTAP 2.1 §6.1.2 step 5 / §6.2.2 step 5: "Treat any option keys that are not understood as absent."
 * The known keys must be booleans (CBOR_UNEXPECTED_TYPE otherwise).
 */
export const requestOptions: Check<RequestOptions> = (v, name) => {
  const m = map(v, name);
  const o: RequestOptions = {};
  for (const key of ['rk', 'up', 'uv'] as const) {
    const value = optional(m, key, bool, `${name}.${key}`);
    if (value !== undefined) o[key] = value;
  }
  return o;
};

/** extensions: a map; unknown extension identifiers are ignored (CTAP 2.1 §12). */
export const extensionsMap: Check<Map<string, CborValue>> = (v, name) => {
  const m: CborMap = map(v, name);
  const out = new Map<string, CborValue>();
  for (const [k, x] of m) if (typeof k === 'string') out.set(k, x);
  return out;
};

/** clientDataHash: a byte string of exactly 32 bytes (SHA-256). Decision: other lengths → CTAP1_ERR_INVALID_LENGTH. */
export const clientDataHash: Check<Uint8Array> = (v, name) => {
  const b = bytes(v, name);
  if (b.length !== 32) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_LENGTH, `${name}: expected 32 bytes, got ${b.length}`);
  }
  return b;
};
