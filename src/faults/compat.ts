/**
 * Compatibility (seam 5): "run as another profile" is the `profile` start option; old-firmware limits are
 * profile overrides, advertised in getInfo and enforced by the real checks (steps/requestChecks.ts,
 * makeCredential's store capacity), so a device with `maxCredentialCountInList: 1` is simply such a device.
 */
import { CREDENTIAL_ID_LENGTH } from '../../ctap/authenticator/credentialId.ts';
import type { Profile } from '../../ctap/authenticator/profile.ts';
import { invalidArgument } from './rules.ts';

export interface ProfileOverrides {
  /** getInfo maxCredentialCountInList: longer allowList / excludeList → CTAP2_ERR_LIMIT_EXCEEDED. */
  maxCredentialCountInList?: number;
  /** getInfo maxCredentialIdLength (at least the device's own ID length). */
  maxCredentialIdLength?: number;
  /** Discoverable credentials that fit (remainingDiscoverableCredentials; beyond → KEY_STORE_FULL). */
  residentCredentialCapacity?: number;
  /** getInfo firmwareVersion. */
  firmwareVersion?: number;
}

const LIMITS: Record<keyof ProfileOverrides, { min: number; max: number }> = {
  maxCredentialCountInList: { min: 1, max: 1000 },
  maxCredentialIdLength: { min: CREDENTIAL_ID_LENGTH, max: 1023 },
  residentCredentialCapacity: { min: 0, max: 100_000 },
  firmwareVersion: { min: 0, max: 0xffffffff },
};

/** The profile with these limits; EMU_ERR_INVALID_ARGUMENT names a bad or unknown field. */
export function applyProfileOverrides(profile: Profile, overrides: ProfileOverrides | undefined): Profile {
  if (overrides === undefined) return profile;
  if (typeof overrides !== 'object' || overrides === null) throw invalidArgument('profileOverrides: expected an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    const lim = LIMITS[k as keyof ProfileOverrides];
    if (!lim) throw invalidArgument(`profileOverrides.${k}: unknown (known: ${Object.keys(LIMITS).join(', ')})`);
    if (!Number.isSafeInteger(v) || v < lim.min || v > lim.max) {
      throw invalidArgument(`profileOverrides.${k}: expected an integer ${lim.min}..${lim.max}, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return Object.freeze({ ...profile, ...out });
}
