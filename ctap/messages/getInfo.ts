/** authenticatorGetInfo (0x04) response, CTAP 2.1 §6.4. */
import { encode, type CborValue } from '../cbor.ts';

/** Response map keys, CTAP 2.1 §6.4. */
export const GetInfoKey = {
  versions: 0x01,
  extensions: 0x02,
  aaguid: 0x03,
  options: 0x04,
  maxMsgSize: 0x05,
  pinUvAuthProtocols: 0x06,
  maxCredentialCountInList: 0x07,
  maxCredentialIdLength: 0x08,
  transports: 0x09,
  algorithms: 0x0a,
  firmwareVersion: 0x0e,
  remainingDiscoverableCredentials: 0x14,
} as const;

export interface GetInfoResponse {
  versions: string[];
  /** Omitted from the encoding when empty. */
  extensions: string[];
  aaguid: Uint8Array;
  options: Record<string, boolean>;
  maxMsgSize: number;
  /** Omitted when there is no PIN/UV auth protocol. */
  pinUvAuthProtocols?: number[];
  maxCredentialCountInList: number;
  maxCredentialIdLength: number;
  transports: string[];
  algorithms: { alg: number; type: 'public-key' }[];
  firmwareVersion: number;
  remainingDiscoverableCredentials: number;
}

export function encodeGetInfoResponse(info: GetInfoResponse): Uint8Array {
  const K = GetInfoKey;
  const m = new Map<number, CborValue>();
  m.set(K.versions, info.versions);
  if (info.extensions.length > 0) m.set(K.extensions, info.extensions);
  m.set(K.aaguid, info.aaguid);
  m.set(K.options, { ...info.options });
  m.set(K.maxMsgSize, info.maxMsgSize);
  if (info.pinUvAuthProtocols && info.pinUvAuthProtocols.length > 0) m.set(K.pinUvAuthProtocols, info.pinUvAuthProtocols);
  m.set(K.maxCredentialCountInList, info.maxCredentialCountInList);
  m.set(K.maxCredentialIdLength, info.maxCredentialIdLength);
  m.set(K.transports, info.transports);
  m.set(K.algorithms, info.algorithms.map((a) => ({ alg: a.alg, type: a.type })));
  m.set(K.firmwareVersion, info.firmwareVersion);
  m.set(K.remainingDiscoverableCredentials, info.remainingDiscoverableCredentials);
  return encode(m);
}
