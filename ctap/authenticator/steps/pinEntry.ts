/**
 * Checking the current PIN (pinHashEnc) for changePIN, getPinToken and getPinUvAuthTokenUsingPinWithPermissions,
 * with the retry rules of CTAP 2.1 §6.5.5.6–7 and CHECKLIST G1–G4:
 * - pinRetries is decremented and persisted BEFORE the comparison (a power loss mid-check still costs the try);
 * - a mismatch regenerates the protocol's key-agreement key; then PIN_BLOCKED if pinRetries is now 0, else
 *   PIN_AUTH_BLOCKED on the 3rd consecutive mismatch of this power cycle, else PIN_INVALID;
 * - a match restores pinRetries and uvRetries to their maxima and zeroes uvCountSinceLastPinEntry.
 */
import { equal } from '../../bytes.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { maxPinRetries, maxUvRetries, PIN_HASH_LENGTH } from '../../pin/policy.ts';
import type { PinUvAuthProtocol } from '../../pin/protocol.ts';
import { pinSession } from '../../pin/session.ts';
import type { HandlerContext } from '../context.ts';
import type { StoredPin } from '../state.ts';

/**
 * Before any PIN comparison: no PIN → PIN_NOT_SET (decision: the spec's steps assume a PIN; OpenSK answers
 * PIN_NOT_SET and no retry is spent); "If the pinRetries counter is 0, return CTAP2_ERR_PIN_BLOCKED"; after 3
 * consecutive mismatches → PIN_AUTH_BLOCKED until power cycle, without decrementing pinRetries (CHECKLIST G2;
 * pinRetries == 0 is checked first). Returns the stored PIN.
 */
export function checkPinUsable(h: HandlerContext): StoredPin {
  const s = h.device.persistent;
  if (!s.pin) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_NOT_SET, 'no PIN is set');
  if (s.pinRetries === 0) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_BLOCKED, 'pinRetries is 0: reset required');
  if (pinSession(h).pinAuthBlocked) {
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED, '3 consecutive PIN mismatches: power cycle required');
  }
  return s.pin;
}

/**
 * Decrement pinRetries (persisted), then decrypt pinHashEnc and compare it with CurrentStoredPIN. `stored` is what
 * the caller's checkPinUsable returned (its step comes before decapsulate and verify, per each subcommand).
 */
export async function verifyPinHashEnc(
  h: HandlerContext,
  stored: StoredPin,
  protocol: PinUvAuthProtocol,
  sharedSecret: Uint8Array,
  pinHashEnc: Uint8Array,
): Promise<void> {
  const session = pinSession(h);
  // "The authenticator decrements the pinRetries counter by 1" — saved before comparing (CHECKLIST G12).
  await h.device.commit({ ...h.device.persistent, pinRetries: h.device.persistent.pinRetries - 1 });
  const hash = protocol.decrypt(sharedSecret, pinHashEnc);
  // "If an error results, or a mismatch is detected":
  if (!hash || hash.length !== PIN_HASH_LENGTH || !equal(hash, stored.hash)) {
    protocol.regenerate(); // "Calls regenerate for the selected pinUvAuthProtocol."
    session.consecutiveMismatches += 1;
    if (h.device.persistent.pinRetries === 0) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_BLOCKED, 'wrong PIN; no retries left');
    if (session.pinAuthBlocked) {
      throw new CtapError(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED, 'wrong PIN 3 times in a row: power cycle required');
    }
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_INVALID, 'wrong PIN');
  }
  // "The authenticator sets the pinRetries counter to maximum value." A correct PIN also restores uvRetries
  // (CHECKLIST G4) and restarts CTAP 2.2 uvCountSinceLastPinEntry.
  await h.device.commit({
    ...h.device.persistent,
    pinRetries: maxPinRetries(h.profile),
    uvRetries: maxUvRetries(h.profile),
    uvCountSinceLastPinEntry: 0,
  });
  // Only a match that was recorded ends the run of mismatches: if that save failed, the soft lock still counts.
  session.consecutiveMismatches = 0;
}
