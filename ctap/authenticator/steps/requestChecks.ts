/** Checks shared by makeCredential and getAssertion before any credential is touched. */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import type { CredentialDescriptor } from '../../messages/entities.ts';
import type { Profile } from '../profile.ts';

/**
 * CTAP 2.1 §6.1.2 steps 1–2 / §6.2.2 steps 1–2, for a profile with neither clientPin nor pinUvAuthToken:
 * step 1 (zero-length pinUvAuthParam → touch, PIN_NOT_SET / PIN_INVALID) applies only "if authenticator
 * supports either pinUvAuthToken or clientPin features", so it is skipped. Step 2 applies to everyone:
 * "If the pinUvAuthParam parameter is present: if the pinUvAuthProtocol parameter is absent, return
 * CTAP2_ERR_MISSING_PARAMETER; if its value is not supported, return CTAP1_ERR_INVALID_PARAMETER" —
 * and this profile supports no protocol at all. A pinUvAuthProtocol without pinUvAuthParam is ignored.
 */
export function checkPinUvAuthParams(req: { pinUvAuthParam?: Uint8Array; pinUvAuthProtocol?: number }): void {
  if (req.pinUvAuthParam === undefined) return;
  if (req.pinUvAuthProtocol === undefined) {
    throw new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, 'pinUvAuthParam without pinUvAuthProtocol');
  }
  throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, `pinUvAuthProtocol ${req.pinUvAuthProtocol} is not supported`);
}

/**
 * excludeList / allowList limits advertised in getInfo (maxCredentialCountInList, maxCredentialIdLength):
 * CTAP 2.1 §8.2 CTAP2_ERR_LIMIT_EXCEEDED ("a limit has been exceeded"), as Chromium's virtual authenticator
 * does [CHECKLIST B1.12]. Platforms split longer lists and drop longer IDs themselves.
 */
export function checkCredentialListLimits(profile: Profile, list: CredentialDescriptor[] | undefined, name: string): void {
  if (!list) return;
  if (list.length > profile.maxCredentialCountInList) {
    throw new CtapError(
      CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED,
      `${name} has ${list.length} entries, maxCredentialCountInList is ${profile.maxCredentialCountInList}`,
    );
  }
  for (const d of list) {
    if (d.id.length > profile.maxCredentialIdLength) {
      throw new CtapError(
        CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED,
        `${name} has a ${d.id.length}-byte id, maxCredentialIdLength is ${profile.maxCredentialIdLength}`,
      );
    }
  }
}
