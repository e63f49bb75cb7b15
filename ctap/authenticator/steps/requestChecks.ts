/** Checks shared by makeCredential and getAssertion before any credential is touched (pinUvAuth: userVerification.ts). */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import type { CredentialDescriptor } from '../../messages/entities.ts';
import type { Profile } from '../profile.ts';
import { isCtap21 } from '../served.ts';

/**
 * excludeList / allowList limits advertised in getInfo (maxCredentialCountInList, maxCredentialIdLength):
 * CTAP 2.1 §8.2 CTAP2_ERR_LIMIT_EXCEEDED ("a limit has been exceeded"), as Chromium's virtual authenticator
 * does [CHECKLIST B1.12]. Platforms split longer lists and drop longer IDs themselves.
 */
export function checkCredentialListLimits(profile: Profile, list: CredentialDescriptor[] | undefined, name: string): void {
  // A CTAP 2.0 getInfo has no maxCredentialCountInList / maxCredentialIdLength (infoLevel.ts): what is not
  // advertised is not enforced (platforms send such a key whole lists).
  if (!list || !isCtap21(profile)) return;
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
