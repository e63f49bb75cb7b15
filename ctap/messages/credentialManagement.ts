/**
 * authenticatorCredentialManagement (0x0A; prototype 0x41 with the same layout) messages, CTAP 2.1 §6.8, §6.13.
 * Which members a subcommand needs is the handler's business; here every member is optional except subCommand.
 */
import { encode, type CborMap, type CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { credentialDescriptor, userEntity, type CredentialDescriptor, type UserEntity } from './entities.ts';
import { bytes, map, optional, required, uint, parseSubCommandEnvelope } from './fields.ts';

/** Request map keys, CTAP 2.1 §6.8 (authenticatorCredentialManagement parameters). */
export const CredMgmtKey = { subCommand: 0x01, subCommandParams: 0x02, pinUvAuthProtocol: 0x03, pinUvAuthParam: 0x04 } as const;

/** subCommandParams keys. */
export const CredMgmtParamKey = { rpIDHash: 0x01, credentialID: 0x02, user: 0x03 } as const;

/** Response map keys. */
export const CredMgmtResponseKey = {
  existingResidentCredentialsCount: 0x01,
  maxPossibleRemainingResidentCredentialsCount: 0x02,
  rp: 0x03,
  rpIDHash: 0x04,
  totalRPs: 0x05,
  user: 0x06,
  credentialID: 0x07,
  publicKey: 0x08,
  totalCredentials: 0x09,
  credProtect: 0x0a,
  largeBlobKey: 0x0b,
} as const;

export const CredMgmtSubCommand = {
  getCredsMetadata: 0x01,
  enumerateRPsBegin: 0x02,
  enumerateRPsGetNextRP: 0x03,
  enumerateCredentialsBegin: 0x04,
  enumerateCredentialsGetNextCredential: 0x05,
  deleteCredential: 0x06,
  updateUserInformation: 0x07,
} as const;

export interface CredMgmtParams {
  rpIDHash?: Uint8Array;
  credentialID?: CredentialDescriptor;
  user?: UserEntity;
}

export interface CredentialManagementRequest {
  subCommand: number;
  subCommandParams?: CredMgmtParams;
  /**
   * CBOR(subCommandParams) as the platform authenticated it: the request was decoded strictly canonically, so
   * re-encoding the received map (unknown members included) gives back exactly the bytes that were sent.
   */
  subCommandParamsCbor?: Uint8Array;
  pinUvAuthProtocol?: number;
  pinUvAuthParam?: Uint8Array;
}

/** rpIDHash is a SHA-256. Decision (as for clientDataHash): another length → CTAP1_ERR_INVALID_LENGTH. */
function rpIdHash(v: CborValue, name: string): Uint8Array {
  const b = bytes(v, name);
  if (b.length !== 32) throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_LENGTH, `${name}: expected 32 bytes, got ${b.length}`);
  return b;
}

function parseParams(m: CborMap): CredMgmtParams {
  const K = CredMgmtParamKey;
  const p: CredMgmtParams = {};
  const hash = optional(m, K.rpIDHash, rpIdHash, 'subCommandParams.rpIDHash');
  if (hash !== undefined) p.rpIDHash = hash;
  const id = optional(m, K.credentialID, credentialDescriptor, 'subCommandParams.credentialID');
  if (id !== undefined) p.credentialID = id;
  const user = optional(m, K.user, userEntity, 'subCommandParams.user');
  if (user !== undefined) p.user = user;
  return p;
}

/** No parameters at all, or no subCommand → CTAP2_ERR_MISSING_PARAMETER. */
export function parseCredentialManagementRequest(m: CborMap | undefined): CredentialManagementRequest {
  if (!m) throw new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, 'parameters are required');
  const K = CredMgmtKey;
  const req: CredentialManagementRequest = { subCommand: required(m, K.subCommand, uint, 'subCommand') };
  Object.assign(req, parseSubCommandEnvelope(m, K, parseParams));
  return req;
}

export interface CredentialManagementResponse {
  existingResidentCredentialsCount?: number;
  maxPossibleRemainingResidentCredentialsCount?: number;
  rp?: { id: string; name?: string };
  rpIDHash?: Uint8Array;
  totalRPs?: number;
  user?: UserEntity;
  credentialID?: Uint8Array;
  /** COSE_Key map. */
  publicKey?: Map<number, number | Uint8Array>;
  totalCredentials?: number;
  credProtect?: number;
  largeBlobKey?: Uint8Array;
}

/** The response map; undefined (status byte only) when it has no member (deleteCredential, updateUserInformation). */
export function encodeCredentialManagementResponse(res: CredentialManagementResponse): Uint8Array | undefined {
  const K = CredMgmtResponseKey;
  const m = new Map<number, CborValue>();
  if (res.existingResidentCredentialsCount !== undefined) m.set(K.existingResidentCredentialsCount, res.existingResidentCredentialsCount);
  if (res.maxPossibleRemainingResidentCredentialsCount !== undefined) {
    m.set(K.maxPossibleRemainingResidentCredentialsCount, res.maxPossibleRemainingResidentCredentialsCount);
  }
  if (res.rp !== undefined) m.set(K.rp, { id: res.rp.id, name: res.rp.name });
  if (res.rpIDHash !== undefined) m.set(K.rpIDHash, res.rpIDHash);
  if (res.totalRPs !== undefined) m.set(K.totalRPs, res.totalRPs);
  if (res.user !== undefined) m.set(K.user, { id: res.user.id, name: res.user.name, displayName: res.user.displayName });
  // WebAuthn L3 §5.8.3: the credential is named by a PublicKeyCredentialDescriptor.
  if (res.credentialID !== undefined) m.set(K.credentialID, { id: res.credentialID, type: 'public-key' });
  if (res.publicKey !== undefined) m.set(K.publicKey, res.publicKey);
  if (res.totalCredentials !== undefined) m.set(K.totalCredentials, res.totalCredentials);
  if (res.credProtect !== undefined) m.set(K.credProtect, res.credProtect);
  if (res.largeBlobKey !== undefined) m.set(K.largeBlobKey, res.largeBlobKey);
  return m.size === 0 ? undefined : encode(m);
}
