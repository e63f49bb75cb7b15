/** authenticatorLargeBlobs (0x0C) messages, CTAP 2.1 §6.10.2. */
import { encode, type CborMap, type CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { bytes, optional, uint } from './fields.ts';

/** Request map keys, CTAP 2.1 §6.10.2 (authenticatorLargeBlobs parameters). */
export const LargeBlobsKey = { get: 0x01, set: 0x02, offset: 0x03, length: 0x04, pinUvAuthParam: 0x05, pinUvAuthProtocol: 0x06 } as const;

/** Response map keys. */
export const LargeBlobsResponseKey = { config: 0x01 } as const;

export interface LargeBlobsRequest {
  get?: number;
  set?: Uint8Array;
  offset: number;
  length?: number;
  pinUvAuthParam?: Uint8Array;
  pinUvAuthProtocol?: number;
}

function invalidParameter(why: string): CtapError {
  return new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, why);
}

/**
 * CTAP 2.1 §6.10.2 step 1: offset absent, or neither or both of get and set → CTAP1_ERR_INVALID_PARAMETER
 * (not MISSING_PARAMETER: the spec names this status). Members of the wrong type → CBOR_UNEXPECTED_TYPE.
 */
export function parseLargeBlobsRequest(m: CborMap | undefined): LargeBlobsRequest {
  const params = m ?? new Map();
  const K = LargeBlobsKey;
  const get = optional(params, K.get, uint, 'get');
  const set = optional(params, K.set, bytes, 'set');
  const offset = optional(params, K.offset, uint, 'offset');
  if (offset === undefined) throw invalidParameter('offset is required');
  if ((get === undefined) === (set === undefined)) throw invalidParameter('exactly one of get and set is required');
  const req: LargeBlobsRequest = { offset };
  if (get !== undefined) req.get = get;
  if (set !== undefined) req.set = set;
  const length = optional(params, K.length, uint, 'length');
  if (length !== undefined) req.length = length;
  const param = optional(params, K.pinUvAuthParam, bytes, 'pinUvAuthParam');
  if (param !== undefined) req.pinUvAuthParam = param;
  const protocol = optional(params, K.pinUvAuthProtocol, uint, 'pinUvAuthProtocol');
  if (protocol !== undefined) req.pinUvAuthProtocol = protocol;
  return req;
}

export interface LargeBlobsResponse {
  /** get: the requested slice of the serialized large-blob array. */
  config?: Uint8Array;
}

/** {1: config} for get; the status byte alone for set. */
export function encodeLargeBlobsResponse(res: LargeBlobsResponse): Uint8Array | undefined {
  if (res.config === undefined) return undefined;
  return encode(new Map<number, CborValue>([[LargeBlobsResponseKey.config, res.config]]));
}
