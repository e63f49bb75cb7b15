/**
 * credBlob (CTAP 2.1 §12.2 `#sctn-credBlob-extension`): a small opaque blob stored with a discoverable
 * credential at makeCredential and returned by getAssertion on request. getInfo maxCredBlobLength (0x0F,
 * at least 32) announces the capacity.
 */
import type { CborValue } from '../cbor.ts';
import { bool, bytes } from '../messages/fields.ts';

export const CRED_BLOB = 'credBlob';

/** CTAP 2.1 §6.4 maxCredBlobLength: "at least 32 bytes" when credBlob is supported. */
export const MIN_MAX_CRED_BLOB_LENGTH = 32;

/** makeCredential input: a byte string (another CBOR type → CBOR_UNEXPECTED_TYPE). */
export function parseCredBlobCreateInput(v: CborValue): Uint8Array {
  return bytes(v, `extensions.${CRED_BLOB}`);
}

/** getAssertion input: a boolean; true asks for the blob, false is "not requested". */
export function parseCredBlobGetInput(v: CborValue): boolean {
  return bool(v, `extensions.${CRED_BLOB}`);
}

/**
 * makeCredential processing: the blob is stored iff it fits maxCredBlobLength; the output says whether it was
 * ("true if the credBlob was successfully stored, false otherwise").
 * Decision: credBlob is a discoverable-credential extension (the data lives in the credential's record, as on
 * YubiKeys; Yubico's SDK documents it as "valid only for discoverable credentials"): for rk=false the blob is
 * not stored and the output is false.
 */
export function credBlobToStore(blob: Uint8Array, o: { rk: boolean; maxLength: number }): Uint8Array | undefined {
  return o.rk && blob.length <= o.maxLength ? blob.slice() : undefined;
}
