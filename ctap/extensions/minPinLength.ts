/**
 * minPinLength (CTAP 2.1 §12.4 `#sctn-minpinlength-extension`): lets an RP that the authenticator's owner
 * authorised (authenticatorConfig setMinPINLength minPinLengthRPIDs) read the current minimum PIN length at
 * makeCredential.
 */
import type { CborValue } from '../cbor.ts';
import type { PersistentState } from '../authenticator/state.ts';
import { bool } from '../messages/fields.ts';

export const MIN_PIN_LENGTH = 'minPinLength';

/** makeCredential input: a boolean; true asks for the output. */
export function parseMinPinLengthInput(v: CborValue): boolean {
  return bool(v, `extensions.${MIN_PIN_LENGTH}`);
}

/**
 * The extension output: "the current minimum PIN length" (Unicode code points) iff rp.id is in the
 * minPinLengthRPIDs list (authenticatorConfig setMinPINLength); otherwise no output at all (and no ED contribution).
 */
export function minPinLengthOutput(state: PersistentState, rpId: string): number | undefined {
  return state.minPinLengthRpIds.includes(rpId) ? state.minPinLength : undefined;
}
