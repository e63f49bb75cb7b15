/**
 * U2F_AUTHENTICATE (INS 0x02), FIDO U2F Raw Message Formats v1.2 §5: check a key handle, or sign with it.
 * Key handles are credential IDs (register.ts): a CTAP2 credential made for the rpId whose SHA-256 is the
 * application parameter works too, on the same signature counter (CTAP 2.1 §11, CHECKLIST E6).
 */
import { concat, u32be } from '../bytes.ts';
import type { HandlerContext } from '../authenticator/context.ts';
import type { AssertionCandidate } from '../authenticator/deviceState.ts';
import { CoseAlg } from '../authenticator/env.ts';
import { incrementCounter } from '../authenticator/steps/assertion.ts';
import { credentialById } from '../authenticator/steps/credentials.ts';
import { ApduError, U2fControl, U2fStatus, type CommandApdu } from './apdu.ts';
import { u2fPresence } from './presence.ts';

const PARAM_LENGTH = 32;
/** CTAP 2.1 §12.1 credProtect userVerificationRequired: never usable without user verification. */
const CRED_PROTECT_UV_REQUIRED = 3;
/** §5.4: user presence byte. */
const UP_VERIFIED = 0x01;
const UP_NOT_VERIFIED = 0x00;

/**
 * The credential a key handle denotes for this application, if this device can sign with it over U2F: the
 * device's one ID look-up with application as rpIdHash (steps/credentials.ts credentialById: a stored record
 * under exactly these bytes for this RP, else a handle that opens under the master key; so foreign handles,
 * other applications and handles from before a reset all fail), ES256 (U2F signs with P-256 only), and not
 * demanding user verification (credProtect level 3; U2F cannot verify the user).
 */
export function locateU2fCredential(h: HandlerContext, application: Uint8Array, keyHandle: Uint8Array): AssertionCandidate | undefined {
  const c = credentialById(h.env.crypto, h.device.persistent, application, keyHandle);
  if (!c || c.alg !== CoseAlg.ES256 || c.credProtect === CRED_PROTECT_UV_REQUIRED) return undefined;
  return c;
}

export async function u2fAuthenticate(h: HandlerContext, apdu: CommandApdu): Promise<Uint8Array> {
  // §5.1: challenge parameter (32) || application parameter (32) || key handle length (1) || key handle.
  const { data } = apdu;
  if (data.length < 2 * PARAM_LENGTH + 1 || data.length !== 2 * PARAM_LENGTH + 1 + data[2 * PARAM_LENGTH]!) {
    throw new ApduError(U2fStatus.SW_WRONG_LENGTH, `U2F_AUTHENTICATE data of ${data.length} bytes does not match its key handle length`);
  }
  const control = apdu.p1;
  // §5.1 defines control bytes 0x07, 0x03 and 0x08; others are refused like a bad handle (OpenSK; CHECKLIST E4).
  if (
    control !== U2fControl.CHECK_ONLY &&
    control !== U2fControl.ENFORCE_USER_PRESENCE_AND_SIGN &&
    control !== U2fControl.DONT_ENFORCE_USER_PRESENCE_AND_SIGN
  ) {
    throw new ApduError(U2fStatus.SW_WRONG_DATA, `control byte 0x${control.toString(16)}`);
  }
  const challenge = data.subarray(0, PARAM_LENGTH);
  const application = data.subarray(PARAM_LENGTH, 2 * PARAM_LENGTH);
  const keyHandle = data.subarray(2 * PARAM_LENGTH + 1);
  // §5.3 / §3.3: a key handle that is not ours for this application → SW_WRONG_DATA, at once (before any touch,
  // so a host probing a list of handles is not made to wait on a foreign one).
  const credential = locateU2fCredential(h, application, keyHandle);
  if (!credential) throw new ApduError(U2fStatus.SW_WRONG_DATA, 'unknown key handle for this application');
  // §5.1 check-only: a valid handle is answered with the test-of-user-presence-required status, meaning "known".
  if (control === U2fControl.CHECK_ONLY) {
    throw new ApduError(U2fStatus.SW_CONDITIONS_NOT_SATISFIED, 'check-only: the key handle is valid');
  }
  let up = UP_NOT_VERIFIED;
  if (control === U2fControl.ENFORCE_USER_PRESENCE_AND_SIGN) {
    if (!u2fPresence(h).consume('u2fAuthenticate')) {
      throw new ApduError(U2fStatus.SW_CONDITIONS_NOT_SATISFIED, 'waiting for a touch');
    }
    up = UP_VERIFIED;
  }
  // §5.4: the counter is incremented for every signature; the credential's own counter, persisted first (as
  // CTAP2 getAssertion does it), so CTAP1 and CTAP2 assertions share one strictly rising sequence.
  const { next, signCount } = incrementCounter(h, credential);
  await h.device.commit(next);
  const upAndCounter = concat(Uint8Array.of(up), u32be(signCount));
  // §5.4: signature over application (32) || user presence (1) || counter (4) || challenge (32), DER ECDSA.
  const signature = h.env.crypto.sign(CoseAlg.ES256, credential.privateKey, concat(application, upAndCounter, challenge));
  return concat(upAndCounter, signature);
}
