/** authenticatorGetAssertion (0x02) / authenticatorGetNextAssertion (0x08) messages, CTAP 2.1 §6.2, §6.3. */
import { encode, type CborMap, type CborValue } from '../cbor.ts';
import { bytes, optional, required, text, uint, setOptional } from './fields.ts';
import {
  clientDataHash,
  credentialList,
  extensionsMap,
  requestOptions,
  type CredentialDescriptor,
  type RequestOptions,
  type UserEntity,
} from './entities.ts';

/** Request map keys, CTAP 2.1 §6.2 (authenticatorGetAssertion parameters). */
export const GetAssertionKey = {
  rpId: 0x01,
  clientDataHash: 0x02,
  allowList: 0x03,
  extensions: 0x04,
  options: 0x05,
  pinUvAuthParam: 0x06,
  pinUvAuthProtocol: 0x07,
} as const;

/** Response map keys, CTAP 2.1 §6.2 (authenticatorGetAssertion response). */
export const GetAssertionResponseKey = {
  credential: 0x01,
  authData: 0x02,
  signature: 0x03,
  user: 0x04,
  numberOfCredentials: 0x05,
  userSelected: 0x06,
  largeBlobKey: 0x07,
} as const;

export interface GetAssertionRequest {
  rpId: string;
  clientDataHash: Uint8Array;
  allowList?: CredentialDescriptor[];
  extensions?: Map<string, CborValue>;
  options: RequestOptions;
  pinUvAuthParam?: Uint8Array;
  pinUvAuthProtocol?: number;
}

export interface GetAssertionResponse {
  credential: { type: 'public-key'; id: Uint8Array };
  authData: Uint8Array;
  signature: Uint8Array;
  user?: UserEntity;
  numberOfCredentials?: number;
  /** CTAP 2.1 §12.3 largeBlobKey extension: the credential's 32-byte key, outside authData. */
  largeBlobKey?: Uint8Array;
}

export function parseGetAssertionRequest(m: CborMap): GetAssertionRequest {
  const K = GetAssertionKey;
  const req: GetAssertionRequest = {
    rpId: required(m, K.rpId, text, 'rpId'),
    clientDataHash: required(m, K.clientDataHash, clientDataHash, 'clientDataHash'),
    options: optional(m, K.options, requestOptions, 'options') ?? {},
  };
  setOptional(req, 'allowList', m, K.allowList, credentialList);
  setOptional(req, 'extensions', m, K.extensions, extensionsMap);
  setOptional(req, 'pinUvAuthParam', m, K.pinUvAuthParam, bytes);
  setOptional(req, 'pinUvAuthProtocol', m, K.pinUvAuthProtocol, uint);
  return req;
}

function encodeUser(u: UserEntity): Record<string, CborValue | undefined> {
  return { id: u.id, name: u.name, displayName: u.displayName };
}

/** Also the getNextAssertion response (same map, without numberOfCredentials). */
export function encodeGetAssertionResponse(res: GetAssertionResponse): Uint8Array {
  const K = GetAssertionResponseKey;
  const m = new Map<number, CborValue>([
    [K.credential, { id: res.credential.id, type: res.credential.type }],
    [K.authData, res.authData],
    [K.signature, res.signature],
  ]);
  if (res.user) m.set(K.user, encodeUser(res.user) as CborValue);
  if (res.numberOfCredentials !== undefined) m.set(K.numberOfCredentials, res.numberOfCredentials);
  if (res.largeBlobKey !== undefined) m.set(K.largeBlobKey, res.largeBlobKey);
  return encode(m);
}
