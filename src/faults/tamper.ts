/**
 * Response tampering for the dispatch middleware: authData edits (flags, rpIdHash, signCount), signature
 * damage, re-signing (a lying device signs its lie), and malformed / non-canonical CBOR bodies.
 * Layouts: WebAuthn L3 §6.1 authData = rpIdHash(32) | flags(1) | signCount(4, big-endian) | [attested
 * credential data: aaguid(16) | L(2) | credentialId(L) | key] | [extensions]; CTAP 2.1 §6.1 (MC response:
 * 1 fmt, 2 authData, 3 attStmt), §6.2 (GA response: 1 credential, 2 authData, 3 signature).
 */
import { concat, readU32be, u32be } from '../../ctap/bytes.ts';
import { decodeCanonical, encode } from '../../ctap/cbor.ts';
import { CoseAlg, type Crypto } from '../../ctap/authenticator/env.ts';
import { AuthDataFlag } from '../../ctap/webauthn/flags.ts';
import type { CborFaultMode, FaultEffect } from './types.ts';

export type ResponseKind = 'makeCredential' | 'assertion';

/** A decoded success response of makeCredential / getAssertion / getNextAssertion. */
export interface Parsed {
  kind: ResponseKind;
  body: Map<number, unknown>;
}

export function parseResponse(command: string | undefined, out: Uint8Array): Parsed | undefined {
  if (out[0] !== 0 || out.length < 2) return undefined;
  const kind: ResponseKind | undefined =
    command === 'makeCredential' ? 'makeCredential' : command === 'getAssertion' || command === 'getNextAssertion' ? 'assertion' : undefined;
  if (!kind) return undefined;
  let body: unknown;
  try {
    body = decodeCanonical(out.subarray(1));
  } catch {
    return undefined;
  }
  if (!(body instanceof Map) || !(body.get(2) instanceof Uint8Array) || (body.get(2) as Uint8Array).length < 37) return undefined;
  return { kind, body: body as Map<number, unknown> };
}

export function serialize(p: Parsed): Uint8Array {
  return concat(new Uint8Array([0]), encode(p.body));
}

export function authDataOf(p: Parsed): Uint8Array {
  return p.body.get(2) as Uint8Array;
}

const FLAG_BITS = { up: AuthDataFlag.UP, uv: AuthDataFlag.UV, be: AuthDataFlag.BE, bs: AuthDataFlag.BS, at: AuthDataFlag.AT, ed: AuthDataFlag.ED } as const;

/** Apply an authData effect; returns the new authData. */
export function editAuthData(authData: Uint8Array, e: FaultEffect, crypto: Crypto): Uint8Array {
  const out = authData.slice();
  switch (e.type) {
    case 'flags':
      for (const [k, bit] of Object.entries(FLAG_BITS)) {
        const v = e[k as keyof typeof FLAG_BITS];
        if (v === true) out[32] = out[32]! | bit;
        else if (v === false) out[32] = out[32]! & ~bit;
      }
      return out;
    case 'rpIdHash':
      out.set(crypto.sha256(new TextEncoder().encode(e.rpId ?? 'evil.example')), 0);
      return out;
    case 'counter': {
      const now = readU32be(out, 33);
      const next = e.value ?? now + (e.delta ?? 0);
      out.set(u32be(Math.min(0xffffffff, Math.max(0, next))), 33);
      return out;
    }
    default:
      return out;
  }
}

/** The credential ID inside attested credential data (makeCredential authData). */
export function attestedCredentialId(authData: Uint8Array): Uint8Array | undefined {
  if (authData.length < 55) return undefined;
  const len = (authData[53]! << 8) | authData[54]!;
  return authData.length >= 55 + len ? authData.slice(55, 55 + len) : undefined;
}

/** Flip one bit inside the signature value (ES256 DER: in s, near its end; EdDSA: in R) so it stays well-formed. */
export function damageSignature(sig: Uint8Array): Uint8Array {
  const out = sig.slice();
  const i = out.length === 64 ? 1 : Math.max(0, out.length - 2);
  out[i] = out[i]! ^ 0x01;
  return out;
}

export interface SigningKeys {
  /** Key of the credential whose ID this is, for this rpIdHash. */
  credential(rpIdHash: Uint8Array, credentialId: Uint8Array): { alg: CoseAlg; privateKey: Uint8Array } | undefined;
  /** The attestation key (ES256), for 'basic' packed attestation. */
  attestation(): Uint8Array;
}

/**
 * Sign `authData || clientDataHash` again after an edit, with the key the device used: the assertion's
 * credential key; for makeCredential the attestation key (packed with x5c) or the credential key (self).
 * `originalRpIdHash` locates the credential when the edit changed the rpIdHash. Returns false when the
 * response has no signature or the key is unknown.
 */
export function resign(p: Parsed, clientDataHash: Uint8Array | undefined, originalRpIdHash: Uint8Array, keys: SigningKeys, crypto: Crypto): boolean {
  if (!clientDataHash) return false;
  const message = concat(authDataOf(p), clientDataHash);
  if (p.kind === 'assertion') {
    const cred = p.body.get(1);
    const id = cred instanceof Map ? cred.get('id') : undefined;
    if (!(id instanceof Uint8Array)) return false;
    const key = keys.credential(originalRpIdHash, id);
    if (!key) return false;
    p.body.set(3, crypto.sign(key.alg, key.privateKey, message));
    return true;
  }
  const attStmt = p.body.get(3);
  if (p.body.get(1) !== 'packed' || !(attStmt instanceof Map)) return false;
  if (attStmt.has('x5c')) {
    attStmt.set('sig', crypto.sign(CoseAlg.ES256, keys.attestation(), message));
    return true;
  }
  const id = attestedCredentialId(authDataOf(p));
  const key = id && keys.credential(originalRpIdHash, id);
  if (!key) return false;
  attStmt.set('sig', crypto.sign(key.alg, key.privateKey, message));
  return true;
}

/** Damage the response's signature (assertion signature, or packed attStmt.sig); false when there is none. */
export function corruptSignature(p: Parsed): boolean {
  if (p.kind === 'assertion') {
    const sig = p.body.get(3);
    if (!(sig instanceof Uint8Array)) return false;
    p.body.set(3, damageSignature(sig));
    return true;
  }
  const attStmt = p.body.get(3);
  const sig = attStmt instanceof Map ? attStmt.get('sig') : undefined;
  if (!(sig instanceof Uint8Array)) return false;
  (attStmt as Map<string, unknown>).set('sig', damageSignature(sig));
  return true;
}

/** A CBOR map header for n entries (major type 5). */
function mapHeader(n: number): Uint8Array {
  if (n < 24) return new Uint8Array([0xa0 | n]);
  if (n < 256) return new Uint8Array([0xb8, n]);
  return new Uint8Array([0xb9, n >>> 8, n & 0xff]);
}

function headerLength(first: number): number {
  const info = first & 0x1f;
  return info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : 5;
}

/**
 * A malformed or non-canonical body for `status || CBOR map`; undefined when the response has no map body.
 * - truncate: the body cut in half; trailing: one extra byte after the map;
 * - indefinite: the map re-framed with indefinite length (0xBF … 0xFF);
 * - dupKey: the first entry repeated at the end;
 * - nonCanonical: the entries in reverse order (a one-entry map: its key in a non-shortest encoding);
 * - wrongType: an array of the map's values where a map is expected.
 */
export function malformBody(out: Uint8Array, mode: CborFaultMode): Uint8Array | undefined {
  const body = out.subarray(1);
  let value: unknown;
  try {
    value = decodeCanonical(body);
  } catch {
    return undefined;
  }
  if (!(value instanceof Map) || value.size === 0) return undefined;
  const status = out.subarray(0, 1);
  const entries = [...value.entries()].map(([k, v]) => concat(encode(k), encode(v)));
  const items = body.subarray(headerLength(body[0]!));
  switch (mode) {
    case 'truncate':
      return concat(status, body.slice(0, Math.max(1, Math.floor(body.length / 2))));
    case 'trailing':
      return concat(status, body, new Uint8Array([0x00]));
    case 'indefinite':
      return concat(status, new Uint8Array([0xbf]), items, new Uint8Array([0xff]));
    case 'dupKey':
      return concat(status, mapHeader(value.size + 1), items, entries[0]!);
    case 'nonCanonical': {
      if (entries.length >= 2) return concat(status, mapHeader(entries.length), ...entries.reverse());
      const [k, v] = [...value.entries()][0]!;
      if (typeof k !== 'number' || k < 0 || k > 23) return concat(status, mapHeader(2), items, entries[0]!);
      // CTAP 2.1 §8 canonical CBOR: integers in the shortest form; 0x18 k is a longer form of k.
      return concat(status, mapHeader(1), new Uint8Array([0x18, k]), encode(v));
    }
    case 'wrongType':
      return concat(status, encode([...value.values()]));
  }
}
