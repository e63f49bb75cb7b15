/**
 * authenticatorData builder, WebAuthn L3 §6.1:
 * rpIdHash(32) | flags(1) | signCount(4, big-endian) | [attestedCredentialData] | [extensions (CBOR map)].
 */
import { concat, u16be, u32be } from '../bytes.ts';
import { AuthDataFlag } from './flags.ts';

export interface AttestedCredentialData {
  aaguid: Uint8Array;
  credentialId: Uint8Array;
  /** Canonical CBOR COSE_Key. */
  credentialPublicKey: Uint8Array;
}

export interface AuthDataInput {
  rpIdHash: Uint8Array;
  /** UP / UV (and BE / BS) bits; AT and ED are derived from the optional parts below. */
  flags: number;
  signCount: number;
  attestedCredentialData?: AttestedCredentialData;
  /** Canonical CBOR of the extension outputs map. */
  extensions?: Uint8Array;
}

/** WebAuthn L3 §6.5.1: aaguid(16) | credentialIdLength(2, big-endian) | credentialId | credentialPublicKey. */
export function encodeAttestedCredentialData(a: AttestedCredentialData): Uint8Array {
  if (a.aaguid.length !== 16) throw new TypeError(`aaguid: expected 16 bytes, got ${a.aaguid.length}`);
  // WebAuthn L3 §6.5.1: credentialIdLength is at most 1023.
  if (a.credentialId.length > 1023) throw new TypeError(`credentialId too long: ${a.credentialId.length} bytes`);
  return concat(a.aaguid, u16be(a.credentialId.length), a.credentialId, a.credentialPublicKey);
}

export function buildAuthData(input: AuthDataInput): Uint8Array {
  if (input.rpIdHash.length !== 32) throw new TypeError(`rpIdHash: expected 32 bytes, got ${input.rpIdHash.length}`);
  if (!Number.isInteger(input.signCount) || input.signCount < 0 || input.signCount > 0xffffffff) {
    throw new RangeError(`signCount out of range: ${input.signCount}`);
  }
  let flags = input.flags & ~(AuthDataFlag.AT | AuthDataFlag.ED);
  // WebAuthn L3 §6.1: AT iff attested credential data is included; ED iff extension data is included.
  if (input.attestedCredentialData) flags |= AuthDataFlag.AT;
  if (input.extensions) flags |= AuthDataFlag.ED;
  const parts = [input.rpIdHash, new Uint8Array([flags]), u32be(input.signCount)];
  if (input.attestedCredentialData) parts.push(encodeAttestedCredentialData(input.attestedCredentialData));
  if (input.extensions) parts.push(input.extensions);
  return concat(...parts);
}
