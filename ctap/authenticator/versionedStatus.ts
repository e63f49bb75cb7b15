/**
 * Conditions that CTAP 2.0 and CTAP 2.1 answer with different status codes. A device answers as the version its
 * profile claims (a "ctap20" profile is a CTAP 2.0 key); the choice is made here and nowhere else.
 */
import { CtapStatus } from '../constants/status.ts';
import { isCtap21, type Profile } from './profile.ts';

const BY_VERSION = {
  /**
   * getAssertion with an "rk" option. CTAP 2.0 §5.2 step 5: an option that is known but not valid for this command
   * → CTAP2_ERR_INVALID_OPTION. CTAP 2.1 §6.2.2 step 4: "If the "rk" option is present then: Return
   * CTAP2_ERR_UNSUPPORTED_OPTION."
   */
  getAssertionRkOption: { ctap20: CtapStatus.CTAP2_ERR_INVALID_OPTION, ctap21: CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION },
  /**
   * makeCredential / getAssertion with a pinAuth (pinUvAuthParam) under a pinProtocol the device does not support.
   * CTAP 2.0 §5.1 / §5.2: "If pinAuth parameter is present and the pinProtocol is not supported, return
   * CTAP2_ERR_PIN_AUTH_INVALID". CTAP 2.1 §6.1.2 / §6.2.2 step 2: CTAP1_ERR_INVALID_PARAMETER.
   */
  unsupportedPinProtocol: { ctap20: CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID, ctap21: CtapStatus.CTAP1_ERR_INVALID_PARAMETER },
} as const;

export type VersionedCondition = keyof typeof BY_VERSION;

/** The status this profile's CTAP version gives for `condition`. */
export function versionedStatus(profile: Profile, condition: VersionedCondition): CtapStatus {
  const codes = BY_VERSION[condition];
  return isCtap21(profile) ? codes.ctap21 : codes.ctap20;
}
