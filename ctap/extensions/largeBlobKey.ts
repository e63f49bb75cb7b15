/**
 * largeBlobKey (CTAP 2.1 §12.3 `#sctn-largeBlobKey-extension`): a 32-byte key per discoverable credential,
 * returned outside authData (makeCredential response member 0x05, getAssertion response member 0x07), used by
 * the platform to encrypt that credential's entry in the large-blob array (authenticatorLargeBlobs).
 */
import type { CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { bool } from '../messages/fields.ts';

export const LARGE_BLOB_KEY = 'largeBlobKey';
export const LARGE_BLOB_KEY_LENGTH = 32;

/**
 * Input of makeCredential and getAssertion: the boolean true (another CBOR type → CBOR_UNEXPECTED_TYPE).
 * "false" → CTAP2_ERR_INVALID_OPTION (the input's only defined value is true; OpenSK, Chromium and the FIDO
 * conformance tools agree on the status). On makeCredential the key needs a discoverable credential: rk
 * false → CTAP2_ERR_INVALID_OPTION (Chromium's virtual authenticator; the key is stored in the credential's
 * record).
 */
export function parseLargeBlobKeyInput(v: CborValue, o: { rk?: boolean } = {}): true {
  if (!bool(v, `extensions.${LARGE_BLOB_KEY}`)) {
    throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, 'largeBlobKey: the only valid input is true');
  }
  if (o.rk === false) {
    throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, 'largeBlobKey needs a discoverable credential (rk=true)');
  }
  return true;
}
