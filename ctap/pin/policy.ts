/**
 * PIN rules (CTAP 2.1 §6.5.5.5 setPIN / §6.5.5.6 changePIN): the padded new PIN, its length in Unicode code
 * points, the 63-byte maximum, the stored hash; and the retry maxima a profile implies.
 */
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import type { Crypto } from '../authenticator/env.ts';
import type { Profile } from '../authenticator/profile.ts';
import { FALLBACK_UV_DEFAULTS } from '../authenticator/state.ts';

/** CTAP 2.1 §6.5.5.5: paddedNewPin is exactly 64 bytes. */
export const PADDED_PIN_LENGTH = 64;
/** CTAP 2.1 §6.5.5.5 / CTAP 2.2 maxPINLength: at most 63 bytes of UTF-8 (one 0x00 of padding must remain). */
export const MAX_PIN_BYTES = 63;
/** CurrentStoredPIN = LEFT(SHA-256(pin), 16). */
export const PIN_HASH_LENGTH = 16;

export function maxPinRetries(profile: Profile): number {
  return profile.pin?.maxPinRetries ?? FALLBACK_UV_DEFAULTS.maxPinRetries;
}

export function maxUvRetries(profile: Profile): number {
  return profile.uv?.maxUvRetries ?? FALLBACK_UV_DEFAULTS.maxUvRetries;
}

/** LEFT(SHA-256(pin), 16). */
export function pinHash(crypto: Crypto, pin: Uint8Array): Uint8Array {
  return crypto.sha256(pin).slice(0, PIN_HASH_LENGTH);
}

export interface NewPin {
  /** UTF-8 bytes of the PIN (secret). */
  bytes: Uint8Array;
  /** PINCodePointLength. */
  codePoints: number;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function violation(message: string): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION, message);
}

/**
 * Validate a decrypted paddedNewPin (setPIN steps 7–10, changePIN steps 10–14). Messages never contain the PIN.
 * - not 64 bytes → CTAP1_ERR_INVALID_PARAMETER;
 * - drop all trailing 0x00 bytes;
 * - then checkPinPolicy.
 */
export function parseNewPin(padded: Uint8Array, minPinLength: number): NewPin {
  if (padded.length !== PADDED_PIN_LENGTH) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, `paddedNewPin is ${padded.length} bytes, expected 64`);
  }
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  return checkPinPolicy(padded.slice(0, end), minPinLength);
}

/**
 * The rules on a PIN itself, for setPIN / changePIN and the control API's setPin alike: more than 63 bytes (no
 * padding left), not UTF-8 (the platform sends NFC UTF-8; vendor constraint), or fewer code points than the
 * current minimum → CTAP2_ERR_PIN_POLICY_VIOLATION. Messages never contain the PIN.
 */
export function checkPinPolicy(bytes: Uint8Array, minPinLength: number): NewPin {
  if (bytes.length > MAX_PIN_BYTES) throw violation(`the new PIN is longer than ${MAX_PIN_BYTES} bytes`);
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    throw violation('the new PIN is not valid UTF-8');
  }
  // CTAP 2.1 §6.5.5.5 step 9: the minimum PIN length is counted in Unicode code points, not bytes.
  const codePoints = [...text].length;
  if (codePoints < minPinLength) throw violation(`the new PIN has fewer than ${minPinLength} code points`);
  return { bytes, codePoints };
}
