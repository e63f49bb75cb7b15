/** authenticatorClientPIN (0x06) request parsing and response encoding, CTAP 2.1 §6.5.5. */
import { encode, type CborMap, type CborValue } from '../cbor.ts';
import { bytes, map, missing, optional, required, text, uint } from './fields.ts';

/** Request map keys, CTAP 2.1 §6.5.5 (0x07 and 0x08 are unused). */
export const ClientPinKey = {
  pinUvAuthProtocol: 0x01,
  subCommand: 0x02,
  keyAgreement: 0x03,
  pinUvAuthParam: 0x04,
  newPinEnc: 0x05,
  pinHashEnc: 0x06,
  permissions: 0x09,
  rpId: 0x0a,
} as const;

/** Response map keys, CTAP 2.1 §6.5.5. */
export const ClientPinResponseKey = {
  keyAgreement: 0x01,
  pinUvAuthToken: 0x02,
  pinRetries: 0x03,
  powerCycleState: 0x04,
  uvRetries: 0x05,
} as const;

/** subCommand values, CTAP 2.1 §6.5.5. */
export const ClientPinSubCommand = {
  getPINRetries: 0x01,
  getKeyAgreement: 0x02,
  setPIN: 0x03,
  changePIN: 0x04,
  getPinToken: 0x05,
  getPinUvAuthTokenUsingUvWithPermissions: 0x06,
  getUVRetries: 0x07,
  getPinUvAuthTokenUsingPinWithPermissions: 0x09,
} as const;

export interface ClientPinRequest {
  /** Optional at parse time: getPINRetries / getUVRetries need none; the others check it themselves. */
  pinUvAuthProtocol?: number;
  subCommand: number;
  /** The platform's COSE_Key, validated by the protocol's decapsulate. */
  keyAgreement?: CborMap;
  pinUvAuthParam?: Uint8Array;
  newPinEnc?: Uint8Array;
  pinHashEnc?: Uint8Array;
  permissions?: number;
  rpId?: string;
}

export interface ClientPinResponse {
  keyAgreement?: Map<number, number | Uint8Array>;
  pinUvAuthToken?: Uint8Array;
  pinRetries?: number;
  powerCycleState?: boolean;
  uvRetries?: number;
}

export function parseClientPinRequest(m: CborMap): ClientPinRequest {
  const K = ClientPinKey;
  const req: ClientPinRequest = { subCommand: required(m, K.subCommand, uint, 'subCommand') };
  const protocol = optional(m, K.pinUvAuthProtocol, uint, 'pinUvAuthProtocol');
  if (protocol !== undefined) req.pinUvAuthProtocol = protocol;
  const keyAgreement = optional(m, K.keyAgreement, map, 'keyAgreement');
  if (keyAgreement !== undefined) req.keyAgreement = keyAgreement;
  const pinUvAuthParam = optional(m, K.pinUvAuthParam, bytes, 'pinUvAuthParam');
  if (pinUvAuthParam !== undefined) req.pinUvAuthParam = pinUvAuthParam;
  const newPinEnc = optional(m, K.newPinEnc, bytes, 'newPinEnc');
  if (newPinEnc !== undefined) req.newPinEnc = newPinEnc;
  const pinHashEnc = optional(m, K.pinHashEnc, bytes, 'pinHashEnc');
  if (pinHashEnc !== undefined) req.pinHashEnc = pinHashEnc;
  const permissions = optional(m, K.permissions, uint, 'permissions');
  if (permissions !== undefined) req.permissions = permissions;
  const rpId = optional(m, K.rpId, text, 'rpId');
  if (rpId !== undefined) req.rpId = rpId;
  return req;
}

/**
 * CTAP 2.1 §6.5.5.1 step 1: "If the authenticator does not receive mandatory parameters for this command, it
 * returns CTAP2_ERR_MISSING_PARAMETER" — checked for all of them (pinUvAuthProtocol included) before step 2's
 * protocol check.
 */
export function requireMembers<K extends keyof ClientPinRequest>(
  req: ClientPinRequest,
  names: K[],
): asserts req is ClientPinRequest & Required<Pick<ClientPinRequest, K>> {
  for (const n of names) if (req[n] === undefined) throw missing(n);
}

/** An empty response (setPIN, changePIN) is the status byte alone. */
export function encodeClientPinResponse(res: ClientPinResponse): Uint8Array | undefined {
  const K = ClientPinResponseKey;
  const m = new Map<number, CborValue>();
  if (res.keyAgreement) m.set(K.keyAgreement, res.keyAgreement);
  if (res.pinUvAuthToken) m.set(K.pinUvAuthToken, res.pinUvAuthToken);
  if (res.pinRetries !== undefined) m.set(K.pinRetries, res.pinRetries);
  if (res.powerCycleState !== undefined) m.set(K.powerCycleState, res.powerCycleState);
  if (res.uvRetries !== undefined) m.set(K.uvRetries, res.uvRetries);
  return m.size === 0 ? undefined : encode(m);
}
