/** authenticatorMakeCredential (0x01) request parsing and response encoding, CTAP 2.1 §6.1. */
import { encode, type CborMap, type CborValue } from '../cbor.ts';
import { arrayOf, bytes, optional, required, uint, setOptional } from './fields.ts';
import {
  clientDataHash,
  credentialList,
  extensionsMap,
  pubKeyCredParam,
  requestOptions,
  rpEntity,
  userEntity,
  type CredentialDescriptor,
  type PubKeyCredParam,
  type RequestOptions,
  type RpEntity,
  type UserEntity,
} from './entities.ts';

/** Request map keys, CTAP 2.1 §6.1 (authenticatorMakeCredential parameters). */
export const MakeCredentialKey = {
  clientDataHash: 0x01,
  rp: 0x02,
  user: 0x03,
  pubKeyCredParams: 0x04,
  excludeList: 0x05,
  extensions: 0x06,
  options: 0x07,
  pinUvAuthParam: 0x08,
  pinUvAuthProtocol: 0x09,
  enterpriseAttestation: 0x0a,
} as const;

/** Response map keys, CTAP 2.1 §6.1 (authenticatorMakeCredential response). */
export const MakeCredentialResponseKey = { fmt: 0x01, authData: 0x02, attStmt: 0x03, epAtt: 0x04, largeBlobKey: 0x05 } as const;

export interface MakeCredentialRequest {
  clientDataHash: Uint8Array;
  rp: RpEntity;
  user: UserEntity;
  pubKeyCredParams: PubKeyCredParam[];
  excludeList?: CredentialDescriptor[];
  extensions?: Map<string, CborValue>;
  options: RequestOptions;
  pinUvAuthParam?: Uint8Array;
  pinUvAuthProtocol?: number;
  enterpriseAttestation?: number;
}

export interface MakeCredentialResponse {
  fmt: string;
  authData: Uint8Array;
  attStmt: Record<string, CborValue>;
  /** CTAP 2.1 §6.1.2 step 9: true, only when an enterprise attestation was returned. */
  epAtt?: boolean;
  /** CTAP 2.1 §12.3 largeBlobKey extension: 32 bytes, outside authData. */
  largeBlobKey?: Uint8Array;
}

export function parseMakeCredentialRequest(m: CborMap): MakeCredentialRequest {
  const K = MakeCredentialKey;
  const req: MakeCredentialRequest = {
    clientDataHash: required(m, K.clientDataHash, clientDataHash, 'clientDataHash'),
    rp: required(m, K.rp, rpEntity, 'rp'),
    user: required(m, K.user, userEntity, 'user'),
    pubKeyCredParams: required(m, K.pubKeyCredParams, arrayOf(pubKeyCredParam), 'pubKeyCredParams'),
    options: optional(m, K.options, requestOptions, 'options') ?? {},
  };
  setOptional(req, 'excludeList', m, K.excludeList, credentialList);
  setOptional(req, 'extensions', m, K.extensions, extensionsMap);
  setOptional(req, 'pinUvAuthParam', m, K.pinUvAuthParam, bytes);
  setOptional(req, 'pinUvAuthProtocol', m, K.pinUvAuthProtocol, uint);
  setOptional(req, 'enterpriseAttestation', m, K.enterpriseAttestation, uint);
  return req;
}

export function encodeMakeCredentialResponse(res: MakeCredentialResponse): Uint8Array {
  const K = MakeCredentialResponseKey;
  const m = new Map<number, CborValue>([
    [K.fmt, res.fmt],
    [K.authData, res.authData],
    [K.attStmt, res.attStmt],
  ]);
  if (res.epAtt !== undefined) m.set(K.epAtt, res.epAtt);
  if (res.largeBlobKey !== undefined) m.set(K.largeBlobKey, res.largeBlobKey);
  return encode(m);
}
