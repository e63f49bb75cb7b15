/**
 * credProtect (CTAP 2.1 §12.1 `#sctn-credProtect-extension`): a credential's protection level, chosen at
 * makeCredential, stored with the credential (its record and its wrapped credential ID) and enforced when
 * credentials are located for getAssertion (§6.2.2 step 7) and for the excludeList (§6.1.2 step 12).
 */
import type { CborValue } from '../cbor.ts';
import { int } from '../messages/fields.ts';

export const CRED_PROTECT = 'credProtect';

/** CTAP 2.1 §12.1 credProtect values. */
export const CredProtect = {
  userVerificationOptional: 1,
  userVerificationOptionalWithCredentialIDList: 2,
  userVerificationRequired: 3,
} as const;
export type CredProtectLevel = (typeof CredProtect)[keyof typeof CredProtect];

function isLevel(n: number): n is CredProtectLevel {
  return n === 1 || n === 2 || n === 3;
}

/**
 * makeCredential input: an unsigned integer, 1, 2 or 3. A value of another CBOR type → CBOR_UNEXPECTED_TYPE.
 * Decision: the spec names no error for an integer outside 1..3; it is ignored (no level stored, no output),
 * and the platform sees the extension was not applied (as Solo/Trussed keys do). Returns undefined then.
 */
export function parseCredProtectInput(v: CborValue): CredProtectLevel | undefined {
  const n = int(v, `extensions.${CRED_PROTECT}`);
  return isLevel(n) ? n : undefined;
}

/**
 * CTAP 2.1 §6.2.2 step 7: "if credential protection for a credential is marked as userVerificationRequired,
 * and the "uv" bit is false in the response, remove that credential"; "if ... marked as
 * userVerificationOptionalWithCredentialIDList and there is no allowList passed by the client and the "uv"
 * bit is false in the response, remove that credential". `level` 0 = none set (userVerificationOptional).
 */
export function usableForAssertion(level: number, o: { uv: boolean; allowList: boolean }): boolean {
  if (level === CredProtect.userVerificationRequired) return o.uv;
  if (level === CredProtect.userVerificationOptionalWithCredentialIDList) return o.uv || o.allowList;
  return true;
}

/**
 * CTAP 2.1 §6.1.2 step 12: a listed credential whose credProtect is userVerificationRequired counts for the
 * excludeList only when user verification was collected in step 11; otherwise "remove the credential from the
 * excludeList and continue parsing the rest of the list". Every other level always counts.
 */
export function countsForExcludeList(level: number, uv: boolean): boolean {
  return level !== CredProtect.userVerificationRequired || uv;
}
