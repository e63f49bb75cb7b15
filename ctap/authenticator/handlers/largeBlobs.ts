/**
 * authenticatorLargeBlobs (0x0C), CTAP 2.1 §6.10.2: read a slice of the serialized large-blob array, or write a
 * new one in fragments (offset 0 first, with the total length), committed atomically once complete and its
 * truncated SHA-256 trailer checks out. The authenticator never looks inside the array (CHECKLIST B10.9).
 */
import { concat, equal } from '../../bytes.ts';
import type { CborMap } from '../../cbor.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { parseLargeBlobsRequest, type LargeBlobsRequest, type LargeBlobsResponse } from '../../messages/largeBlobs.ts';
import { Permission, authorizeToken } from '../../pin/authorize.ts';
import type { HandlerContext } from '../context.ts';
import { protectedByUv } from '../steps/userVerification.ts';

/** CTAP 2.1 §6.10.1: maxFragmentLength = maxMsgSize − 64. */
export function maxFragmentLength(h: HandlerContext): number {
  return h.profile.maxMsgSize - 64;
}

/** The serialized array is at least an empty CBOR array (1 byte) and its 16-byte truncated hash. */
const MIN_ARRAY_LENGTH = 17;
const TRAILER_LENGTH = 16;

function invalidParameter(why: string): CtapError {
  return new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, why);
}

/** 32 × 0xff || h'0c00' || uint32LittleEndian(offset) || SHA-256(set): what pinUvAuthParam authenticates. */
function lbwMessage(h: HandlerContext, offset: number, fragment: Uint8Array): Uint8Array {
  const le = new Uint8Array(4);
  new DataView(le.buffer).setUint32(0, offset, true);
  return concat(new Uint8Array(32).fill(0xff), new Uint8Array([0x0c, 0x00]), le, h.env.crypto.sha256(fragment));
}

/** §6.10.2 step 4 (get). */
function get(h: HandlerContext, req: LargeBlobsRequest, count: number): LargeBlobsResponse {
  // Step 4.1–4.2: length, pinUvAuthParam and pinUvAuthProtocol belong to set only.
  if (req.length !== undefined) throw invalidParameter('length is not allowed with get');
  if (req.pinUvAuthParam !== undefined || req.pinUvAuthProtocol !== undefined) {
    throw invalidParameter('pinUvAuthParam / pinUvAuthProtocol are not allowed with get');
  }
  // Step 4.3: "If the value of get is greater than maxFragmentLength, return CTAP1_ERR_INVALID_LENGTH."
  if (count > maxFragmentLength(h)) throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_LENGTH, `get exceeds ${maxFragmentLength(h)}`);
  const stored = h.device.persistent.largeBlobArray;
  // Step 4.4: offset beyond the stored array → CTAP1_ERR_INVALID_PARAMETER.
  if (req.offset > stored.length) throw invalidParameter(`offset ${req.offset} is beyond the ${stored.length}-byte array`);
  // Step 4.5: up to `get` bytes from offset; fewer at the end (zero at offset = length).
  return { config: stored.slice(req.offset, req.offset + count) };
}

/** §6.10.2 step 5 (set). */
async function set(h: HandlerContext, req: LargeBlobsRequest, fragment: Uint8Array): Promise<LargeBlobsResponse> {
  // Step 5.1: "If the length of the value of set is greater than maxFragmentLength → CTAP1_ERR_INVALID_LENGTH."
  if (fragment.length > maxFragmentLength(h)) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_LENGTH, `set exceeds ${maxFragmentLength(h)} bytes`);
  }
  const { offset } = req;
  if (offset === 0) {
    // Step 5.2: length required; above the capacity → LARGE_BLOB_STORAGE_FULL; below 17 → INVALID_PARAMETER;
    // expectedLength = length, expectedNextOffset = 0 (a write in progress is abandoned).
    if (req.length === undefined) throw invalidParameter('length is required with offset 0');
    const capacity = h.profile.largeBlobs?.maxSerializedLargeBlobArray ?? 0;
    if (req.length > capacity) {
      throw new CtapError(CtapStatus.CTAP2_ERR_LARGE_BLOB_STORAGE_FULL, `length ${req.length} exceeds ${capacity}`);
    }
    if (req.length < MIN_ARRAY_LENGTH) throw invalidParameter(`length ${req.length} is below ${MIN_ARRAY_LENGTH}`);
    h.device.largeBlobWrite = { expectedLength: req.length, fragments: [], received: 0 };
  } else if (req.length !== undefined) {
    // Step 5.3: "If length is present, return CTAP1_ERR_INVALID_PARAMETER."
    throw invalidParameter('length is only allowed with offset 0');
  }
  // Step 5.4: "If the value of offset is not equal to expectedNextOffset, return CTAP1_ERR_INVALID_SEQ."
  const pending = h.device.largeBlobWrite;
  if (!pending || offset !== pending.received) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_SEQ, `offset ${offset}, expected ${pending?.received ?? 0}`);
  }
  // Step 5.5: "If the authenticator is protected by some form of user verification or the alwaysUv option ID
  // is present and true": pinUvAuthParam over the lbw message, with the lbw permission.
  if (protectedByUv(h) || h.device.persistent.alwaysUv) {
    authorizeToken(h, {
      protocol: req.pinUvAuthProtocol,
      param: req.pinUvAuthParam,
      message: lbwMessage(h, offset, fragment),
      permission: Permission.lbw,
    });
  }
  // Step 5.6: "If the sum of offset and the length of the value of set is greater than the value of
  // expectedLength, return CTAP1_ERR_INVALID_PARAMETER."
  if (offset + fragment.length > pending.expectedLength) {
    throw invalidParameter(`the fragment ends at ${offset + fragment.length}, past length ${pending.expectedLength}`);
  }
  // Steps 5.7–5.9: append; expectedNextOffset is the new length.
  pending.fragments.push(fragment.slice());
  pending.received += fragment.length;
  if (pending.received < pending.expectedLength) return {}; // step 5.11: more data is needed
  // Step 5.10: the final 16 bytes must be LEFT(SHA-256(preceding bytes), 16), else CTAP2_ERR_INTEGRITY_FAILURE
  // and the stored array is unchanged; otherwise commit the buffer as the new array.
  h.device.largeBlobWrite = undefined;
  const array = concat(...pending.fragments);
  const body = array.subarray(0, array.length - TRAILER_LENGTH);
  const trailer = array.subarray(array.length - TRAILER_LENGTH);
  const expected = h.env.crypto.sha256(body).subarray(0, TRAILER_LENGTH);
  if (!equal(trailer, expected)) {
    throw new CtapError(CtapStatus.CTAP2_ERR_INTEGRITY_FAILURE, 'the large-blob array trailer is not its truncated SHA-256');
  }
  await h.device.commit({ ...h.device.persistent, largeBlobArray: array });
  return {};
}

/**
 * The handler parses the map itself. A profile without the feature never gets here: its dispatcher does not have
 * the command (served.ts, features.ts largeBlobsSupported), so it answers CTAP1_ERR_INVALID_COMMAND.
 */
export async function largeBlobs(h: HandlerContext, params: CborMap | undefined): Promise<LargeBlobsResponse> {
  const req = parseLargeBlobsRequest(params);
  if (req.get !== undefined) return get(h, req, req.get);
  if (req.set !== undefined) return set(h, req, req.set);
  throw invalidParameter('exactly one of get and set is required'); // the parser already ensured one

}
