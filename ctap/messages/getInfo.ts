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
  maxSerializedLargeBlobArray: 0x0b,
  forcePINChange: 0x0c,
  minPINLength: 0x0d,
  firmwareVersion: 0x0e,
  maxRPIDsForSetMinPINLength: 0x10,
  maxCredBlobLength: 0x0f,
  preferredPlatformUvAttempts: 0x11,
  uvModality: 0x12,
  remainingDiscoverableCredentials: 0x14,
  /** CTAP 2.2. */
  uvCountSinceLastPinEntry: 0x17,
  /** CTAP 2.2. */
  maxPINLength: 0x1d,
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
  /** maxCredentialCountInList … algorithms, firmwareVersion, remainingDiscoverableCredentials: CTAP 2.1 members, absent from a CTAP 2.0 getInfo. */
  maxCredentialCountInList?: number;
  maxCredentialIdLength?: number;
  transports?: string[];
  algorithms?: { alg: number; type: 'public-key' }[];
  /** Present iff the largeBlobs option is (CTAP 2.1 §6.4: at least 1024). */
  maxSerializedLargeBlobArray?: number;
  /** Present on PIN-capable devices. */
  forcePINChange?: boolean;
  minPINLength?: number;
  firmwareVersion?: number;
  /** Present iff the setMinPINLength option is (CTAP 2.1 §6.4). */
  maxRPIDsForSetMinPINLength?: number;
  /** Present iff credBlob is listed in extensions (CTAP 2.1 §6.4: at least 32). */
  maxCredBlobLength?: number;
  /** Present on devices with built-in UV. */
  preferredPlatformUvAttempts?: number;
  /** FIDO Registry user verification method bits (fingerprint 0x02, face 0x10), OR-ed. */
  uvModality?: number;
  remainingDiscoverableCredentials?: number;
  uvCountSinceLastPinEntry?: number;
  maxPINLength?: number;
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
  if (info.maxCredentialCountInList !== undefined) m.set(K.maxCredentialCountInList, info.maxCredentialCountInList);
  if (info.maxCredentialIdLength !== undefined) m.set(K.maxCredentialIdLength, info.maxCredentialIdLength);
  if (info.transports !== undefined) m.set(K.transports, info.transports);
  if (info.algorithms !== undefined) m.set(K.algorithms, info.algorithms.map((a) => ({ alg: a.alg, type: a.type })));
  if (info.maxSerializedLargeBlobArray !== undefined) m.set(K.maxSerializedLargeBlobArray, info.maxSerializedLargeBlobArray);
  if (info.forcePINChange !== undefined) m.set(K.forcePINChange, info.forcePINChange);
  if (info.minPINLength !== undefined) m.set(K.minPINLength, info.minPINLength);
  if (info.firmwareVersion !== undefined) m.set(K.firmwareVersion, info.firmwareVersion);
  if (info.maxRPIDsForSetMinPINLength !== undefined) m.set(K.maxRPIDsForSetMinPINLength, info.maxRPIDsForSetMinPINLength);
  if (info.maxCredBlobLength !== undefined) m.set(K.maxCredBlobLength, info.maxCredBlobLength);
  if (info.preferredPlatformUvAttempts !== undefined) m.set(K.preferredPlatformUvAttempts, info.preferredPlatformUvAttempts);
  if (info.uvModality !== undefined) m.set(K.uvModality, info.uvModality);
  if (info.remainingDiscoverableCredentials !== undefined) {
    m.set(K.remainingDiscoverableCredentials, info.remainingDiscoverableCredentials);
  }
  if (info.uvCountSinceLastPinEntry !== undefined) m.set(K.uvCountSinceLastPinEntry, info.uvCountSinceLastPinEntry);
  if (info.maxPINLength !== undefined) m.set(K.maxPINLength, info.maxPINLength);
  return encode(m);
}
