/** authenticatorClientPIN setPIN (0x03) and changePIN (0x04), CTAP 2.1 §6.5.5.5 and §6.5.5.6. */
import { concat, equal } from '../../bytes.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { requireMembers, type ClientPinRequest, type ClientPinResponse } from '../../messages/clientPin.ts';
import { requireProtocol } from '../../pin/authorize.ts';
import { maxPinRetries, parseNewPin, pinHash, type NewPin } from '../../pin/policy.ts';
import type { PinUvAuthProtocol } from '../../pin/protocol.ts';
import { pinSession } from '../../pin/session.ts';
import type { HandlerContext } from '../context.ts';
import { checkPinUsable, verifyPinHashEnc } from '../steps/pinEntry.ts';

function pinAuthInvalid(message: string): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID, message);
}

/** "decrypt(shared secret, newPinEnc) to produce paddedNewPin. If an error results → PIN_AUTH_INVALID", then the PIN rules. */
function decryptNewPin(h: HandlerContext, protocol: PinUvAuthProtocol, shared: Uint8Array, newPinEnc: Uint8Array): NewPin {
  const padded = protocol.decrypt(shared, newPinEnc);
  if (!padded) throw pinAuthInvalid('newPinEnc cannot be decrypted');
  return parseNewPin(padded, h.device.persistent.minPinLength);
}

export async function setPin(h: HandlerContext, req: ClientPinRequest): Promise<ClientPinResponse> {
  requireMembers(req, ['pinUvAuthProtocol', 'keyAgreement', 'pinUvAuthParam', 'newPinEnc']); // step 1
  const protocol = requireProtocol(h, req.pinUvAuthProtocol); // step 2
  // Step 3: "If a PIN has already been set, authenticator returns CTAP2_ERR_PIN_AUTH_INVALID error."
  if (h.device.persistent.pin) throw pinAuthInvalid('a PIN is already set (use changePIN)');
  const shared = protocol.decapsulate(req.keyAgreement); // step 4: error → INVALID_PARAMETER
  // Step 5: verify(shared secret, newPinEnc, pinUvAuthParam); error → PIN_AUTH_INVALID.
  if (!protocol.verify(shared, req.newPinEnc, req.pinUvAuthParam)) throw pinAuthInvalid('pinUvAuthParam does not verify');
  const pin = decryptNewPin(h, protocol, shared, req.newPinEnc); // steps 6–10
  // Steps 11–12: remember PINCodePointLength, store LEFT(SHA-256(newPin), 16), pinRetries to the maximum.
  await h.device.commit({
    ...h.device.persistent,
    pin: { hash: pinHash(h.env.crypto, pin.bytes), codePoints: pin.codePoints },
    pinRetries: maxPinRetries(h.profile),
  });
  pinSession(h).token.reset(); // [I] any earlier (UV-issued) token stops (CHECKLIST B5.6 step 13)
  return {};
}

export async function changePin(h: HandlerContext, req: ClientPinRequest): Promise<ClientPinResponse> {
  requireMembers(req, ['pinUvAuthProtocol', 'keyAgreement', 'pinUvAuthParam', 'newPinEnc', 'pinHashEnc']); // step 1
  const protocol = requireProtocol(h, req.pinUvAuthProtocol); // step 2
  const current = checkPinUsable(h); // step 3: PIN_BLOCKED (and PIN_NOT_SET, PIN_AUTH_BLOCKED)
  const shared = protocol.decapsulate(req.keyAgreement); // step 4
  // Step 5: verify(shared secret, newPinEnc || pinHashEnc, pinUvAuthParam); error → PIN_AUTH_INVALID.
  if (!protocol.verify(shared, concat(req.newPinEnc, req.pinHashEnc), req.pinUvAuthParam)) {
    throw pinAuthInvalid('pinUvAuthParam does not verify');
  }
  await verifyPinHashEnc(h, current, protocol, shared, req.pinHashEnc); // steps 6–8
  const pin = decryptNewPin(h, protocol, shared, req.newPinEnc); // steps 9–12, 14
  const hash = pinHash(h.env.crypto, pin.bytes);
  // Step 13: "If the forcePINChange member ... is true and LEFT(SHA-256(newPin), 16) is equal to its internal
  // stored LEFT(SHA-256(curPin), 16) then authenticator returns CTAP2_ERR_PIN_POLICY_VIOLATION."
  if (h.device.persistent.forcePinChange && equal(hash, current.hash)) {
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION, 'forcePINChange: the new PIN must differ from the old one');
  }
  // Steps 15–18: PINCodePointLength, forcePINChange false, the new CurrentStoredPIN, pinRetries to the maximum.
  await h.device.commit({
    ...h.device.persistent,
    pin: { hash, codePoints: pin.codePoints },
    forcePinChange: false,
    pinRetries: maxPinRetries(h.profile),
  });
  // Step 19: resetPinUvAuthToken() for all protocols (no persistent token: CTAP 2.2 pcmr is not implemented).
  pinSession(h).token.reset();
  return {};
}
