/**
 * U2F_REGISTER (INS 0x01), FIDO U2F Raw Message Formats v1.2 §4: a new P-256 key for an application, its key
 * handle and a fido-u2f attestation (WebAuthn L3 §8.6) by the device's attestation key.
 *
 * The key handle is an ordinary non-resident credential ID (credentialId.ts) wrapped with the application
 * parameter as its rpIdHash, so CTAP2 getAssertion accepts it for the rpId whose SHA-256 is that parameter, and
 * its signature counter is the one CTAP2 uses (CTAP 2.1 §11 / CHECKLIST E6).
 */
import { concat } from '../bytes.ts';
import type { HandlerContext } from '../authenticator/context.ts';
import { wrapCredentialId } from '../authenticator/credentialId.ts';
import { CoseAlg } from '../authenticator/env.ts';
import { ApduError, U2fStatus, type CommandApdu } from './apdu.ts';
import { u2fPresence } from './presence.ts';

/** U2F Raw Message Formats v1.2 §4.3: the reserved first byte of a registration response. */
const REGISTER_RESERVED_BYTE = 0x05;
/** §4.3: the reserved first byte of the signed data. */
const REGISTER_SIGNED_RESERVED_BYTE = 0x00;
const PARAM_LENGTH = 32;

export async function u2fRegister(h: HandlerContext, apdu: CommandApdu): Promise<Uint8Array> {
  // §4.1: the request data is challenge parameter (32) || application parameter (32). P1 (0x03 from Chromium,
  // 0x83 asking for individual attestation, 0x00 from python-fido2) does not change what this device does.
  if (apdu.data.length !== 2 * PARAM_LENGTH) {
    throw new ApduError(U2fStatus.SW_WRONG_LENGTH, `U2F_REGISTER takes 64 bytes of data, got ${apdu.data.length}`);
  }
  const challenge = apdu.data.subarray(0, PARAM_LENGTH);
  const application = apdu.data.subarray(PARAM_LENGTH);
  // §3.3: no test of user presence yet → SW_CONDITIONS_NOT_SATISFIED (the host polls until the touch).
  if (!u2fPresence(h).consume('u2fRegister')) {
    throw new ApduError(U2fStatus.SW_CONDITIONS_NOT_SATISFIED, 'waiting for a touch');
  }
  const { crypto, rng } = h.env;
  const key = crypto.generateKeyPair(CoseAlg.ES256); // §4.3: user public key, uncompressed P-256 point (65 bytes)
  const keyHandle = wrapCredentialId(crypto, rng, h.device.persistent.masterKey, application, {
    alg: CoseAlg.ES256,
    privateKey: key.privateKey,
    resident: false,
    credProtect: 0,
  });
  const attestation = h.device.persistent.attestation;
  const certificate = attestation.certChain[0]!;
  // §4.3: signature = ECDSA(attestation key, 0x00 || application || challenge || key handle || user public key), DER.
  const signed = concat(Uint8Array.of(REGISTER_SIGNED_RESERVED_BYTE), application, challenge, keyHandle, key.publicKey);
  const signature = crypto.sign(CoseAlg.ES256, attestation.privateKey, signed);
  // §4.3: 0x05 || user public key (65) || key handle length (1) || key handle || attestation certificate || signature.
  return concat(
    Uint8Array.of(REGISTER_RESERVED_BYTE),
    key.publicKey,
    Uint8Array.of(keyHandle.length),
    keyHandle,
    certificate,
    signature,
  );
}
