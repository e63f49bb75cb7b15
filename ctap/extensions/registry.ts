/**
 * The extensions this code implements and the rules a profile's extension list must follow. A profile lists
 * the ones it enables (getInfo 0x02 is that list); requests naming any other extension have it ignored
 * (CTAP 2.1 §6.1.2 step 15: "process any extensions that this authenticator supports, ignoring any that it
 * does not support").
 */
import { largeBlobsSupported } from '../authenticator/features.ts';
import type { Profile } from '../authenticator/profile.ts';
import { supportedProtocols } from '../pin/session.ts';
import { CRED_BLOB, MIN_MAX_CRED_BLOB_LENGTH } from './credBlob.ts';
import { CRED_PROTECT } from './credProtect.ts';
import { HMAC_SECRET, HMAC_SECRET_MC } from './hmacSecret.ts';
import { LARGE_BLOB_KEY } from './largeBlobKey.ts';
import { MIN_PIN_LENGTH } from './minPinLength.ts';

/** Every extension identifier implemented here (CTAP 2.1 §12; hmac-secret-mc is CTAP 2.2 §12.8). */
export const IMPLEMENTED_EXTENSIONS = [CRED_PROTECT, HMAC_SECRET, HMAC_SECRET_MC, CRED_BLOB, LARGE_BLOB_KEY, MIN_PIN_LENGTH] as const;
export type ExtensionId = (typeof IMPLEMENTED_EXTENSIONS)[number];

function isImplemented(id: string): id is ExtensionId {
  return (IMPLEMENTED_EXTENSIONS as readonly string[]).includes(id);
}

/** The profile's extensions that are implemented, in the profile's order (getInfo 0x02). */
export function enabledExtensions(profile: Profile): ExtensionId[] {
  return profile.extensions.filter(isImplemented);
}

/** True when the profile enables `id`. */
export function extensionEnabled(profile: Profile, id: ExtensionId): boolean {
  return profile.extensions.includes(id);
}

/**
 * A profile may only enable what can work on that device (DESIGN.md "never advertises what is not
 * implemented"); throws TypeError naming the first violation:
 * - every listed extension is implemented;
 * - hmac-secret and hmac-secret-mc need a PIN/UV auth protocol (the salts travel under its shared secret,
 *   obtained with authenticatorClientPIN getKeyAgreement); hmac-secret-mc also needs hmac-secret;
 * - credBlob and largeBlobKey live in discoverable credentials: they need the rk option;
 * - largeBlobKey is only useful with authenticatorLargeBlobs (Chromium asks for it only when getInfo has the
 *   largeBlobs option): it needs the profile's largeBlobs;
 * - credBlob needs credProtect (Chromium rejects a getInfo listing credBlob without credProtect) and a
 *   maxCredBlobLength of at least 32 (CTAP 2.1 §6.4);
 * - minPinLength needs clientPin (it reports the PIN policy).
 */
export function checkProfileExtensions(p: Profile): void {
  const fail = (why: string): never => {
    throw new TypeError(`profile ${p.name}: ${why}`);
  };
  for (const id of p.extensions) if (!isImplemented(id)) fail(`extension ${JSON.stringify(id)} is not implemented`);
  const has = (id: ExtensionId) => p.extensions.includes(id);
  const protocols = supportedProtocols(p).length > 0;
  if ((has(HMAC_SECRET) || has(HMAC_SECRET_MC)) && !protocols) fail('hmac-secret needs a PIN/UV auth protocol (clientPin or built-in UV)');
  if (has(HMAC_SECRET_MC) && !has(HMAC_SECRET)) fail('hmac-secret-mc needs hmac-secret');
  if ((has(CRED_BLOB) || has(LARGE_BLOB_KEY)) && !p.options.rk) fail('credBlob and largeBlobKey need discoverable credentials (rk)');
  if (has(LARGE_BLOB_KEY) && !largeBlobsSupported(p)) fail('largeBlobKey needs authenticatorLargeBlobs');
  if (has(CRED_BLOB) && !has(CRED_PROTECT)) fail('credBlob is listed without credProtect');
  if (has(CRED_BLOB) && p.maxCredBlobLength < MIN_MAX_CRED_BLOB_LENGTH) fail(`maxCredBlobLength must be at least ${MIN_MAX_CRED_BLOB_LENGTH}`);
  if (has(MIN_PIN_LENGTH) && !p.pin) fail('minPinLength needs clientPin');
}
