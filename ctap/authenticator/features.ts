/**
 * Which CTAP 2.1 management features a profile has (credential management, large blobs, authenticatorConfig,
 * setMinPINLength, enterprise attestation). getInfo advertises exactly these and the handlers refuse the
 * command otherwise (CHECKLIST B4.3: never advertise what is not implemented, never serve what is not advertised).
 */
import type { Profile, ProfileUv } from './profile.ts';

/**
 * The fingerprint sensor (authenticatorBioEnrollment, the bioEnroll option), if the profile has one: uv.fingerprint,
 * which checkProfile (authenticator.ts) pairs with the 'fingerprint' modality, so either means the same.
 */
export function fingerprintSensor(p: Profile): ProfileUv['fingerprint'] {
  return p.uv?.fingerprint;
}

/** A pinUvAuthToken can be had: clientPin or built-in UV (every management command needs one once protected). */
function hasPinUvAuthToken(p: Profile): boolean {
  return p.pin !== undefined || p.uv !== undefined;
}

/**
 * credMgmt: the command manages discoverable credentials and always needs a token with the cm permission
 * (CTAP 2.1 §6.8), so it takes rk and a PIN or built-in UV.
 */
export function credentialManagementSupported(p: Profile): boolean {
  return p.options.rk && hasPinUvAuthToken(p);
}

/**
 * largeBlobs: CTAP 2.1 §6.4 "largeBlobs" with maxSerializedLargeBlobArray; Chromium rejects a getInfo with
 * largeBlobs and without rk (CHECKLIST B4.2); writes need the lbw permission once the device is protected.
 */
export function largeBlobsSupported(p: Profile): boolean {
  return p.largeBlobs !== undefined && p.options.rk && hasPinUvAuthToken(p);
}

/** authnrCfg: authenticatorConfig (CTAP 2.1 §6.11) with toggleAlwaysUv, and the subcommands below when they apply. */
export function configSupported(p: Profile): boolean {
  return hasPinUvAuthToken(p);
}

/** setMinPINLength (CTAP 2.1 §6.11.4): there is a PIN whose minimum length can be raised. */
export function setMinPinLengthSupported(p: Profile): boolean {
  return configSupported(p) && p.pin !== undefined && p.maxRPIDsForSetMinPINLength !== undefined;
}

/** ep (CTAP 2.1 §7.1): EA-capable; it is enabled through authenticatorConfig, so that must be served too. */
export function enterpriseAttestationCapable(p: Profile): boolean {
  return p.enterpriseAttestation !== undefined && configSupported(p);
}
