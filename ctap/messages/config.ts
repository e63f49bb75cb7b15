/** authenticatorConfig (0x0D) messages, CTAP 2.1 §6.11. The response is always empty (status byte only). */
import type { CborMap } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { arrayOf, bool, optional, parseSubCommandEnvelope, required, text, uint } from './fields.ts';

/** Request map keys, CTAP 2.1 §6.11 (authenticatorConfig parameters). */
export const ConfigKey = { subCommand: 0x01, subCommandParams: 0x02, pinUvAuthProtocol: 0x03, pinUvAuthParam: 0x04 } as const;

export const ConfigSubCommand = {
  enableEnterpriseAttestation: 0x01,
  toggleAlwaysUv: 0x02,
  setMinPINLength: 0x03,
  vendorPrototype: 0xff,
} as const;

/** setMinPINLength subCommandParams keys, CTAP 2.1 §6.11.4. */
export const SetMinPinLengthKey = { newMinPINLength: 0x01, minPinLengthRPIDs: 0x02, forceChangePin: 0x03 } as const;

export interface SetMinPinLengthParams {
  newMinPINLength?: number;
  minPinLengthRPIDs?: string[];
  forceChangePin?: boolean;
}

export interface ConfigRequest {
  subCommand: number;
  /** The raw map (each subcommand reads its own members). */
  subCommandParams?: CborMap;
  /** CBOR(subCommandParams) as sent (strict canonical decode, so re-encoding gives back the same bytes). */
  subCommandParamsCbor?: Uint8Array;
  pinUvAuthProtocol?: number;
  pinUvAuthParam?: Uint8Array;
}

/** No parameters at all, or no subCommand → CTAP2_ERR_MISSING_PARAMETER. */
export function parseConfigRequest(m: CborMap | undefined): ConfigRequest {
  if (!m) throw new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, 'parameters are required');
  const K = ConfigKey;
  const req: ConfigRequest = { subCommand: required(m, K.subCommand, uint, 'subCommand') };
  Object.assign(req, parseSubCommandEnvelope(m, K, (params: CborMap) => params));
  return req;
}

export function parseSetMinPinLengthParams(m: CborMap | undefined): SetMinPinLengthParams {
  const p: SetMinPinLengthParams = {};
  if (!m) return p;
  const K = SetMinPinLengthKey;
  const min = optional(m, K.newMinPINLength, uint, 'subCommandParams.newMinPINLength');
  if (min !== undefined) p.newMinPINLength = min;
  const rpIds = optional(m, K.minPinLengthRPIDs, arrayOf(text), 'subCommandParams.minPinLengthRPIDs');
  if (rpIds !== undefined) p.minPinLengthRPIDs = rpIds;
  const force = optional(m, K.forceChangePin, bool, 'subCommandParams.forceChangePin');
  if (force !== undefined) p.forceChangePin = force;
  return p;
}
