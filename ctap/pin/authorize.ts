/**
 * Authorising a command with the pinUvAuthToken (CTAP 2.1 §6.5.5.7 permissions, §6.5.2.1 token state).
 * Shared contract (notes/issue3-contracts.md): bioEnrollment, and later credMgmt / config / largeBlobs, call
 * checkPinUvAuthParam; makeCredential / getAssertion use the lower-level helpers through
 * steps/userVerification.ts.
 */
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import type { HandlerContext } from '../authenticator/context.ts';
import type { PinUvAuthProtocol } from './protocol.ts';
import { pinSession } from './session.ts';

/** pinUvAuthToken permission bits, CTAP 2.1 §6.5.5.7. */
export const Permission = { mc: 0x01, ga: 0x02, cm: 0x04, be: 0x08, lbw: 0x10, acfg: 0x20 } as const;
/** CTAP 2.2 persistentCredentialManagementReadOnly: recognised so that it can be refused (no perCredMgmtRO). */
export const PERMISSION_PCMR = 0x40;

/**
 * CTAP 2.1 §6.5.5.1 / §6.1.2 step 2: pinUvAuthProtocol absent → CTAP2_ERR_MISSING_PARAMETER; a value this
 * profile does not list in pinUvAuthProtocols → CTAP1_ERR_INVALID_PARAMETER.
 */
export function requireProtocol(h: HandlerContext, protocol: number | undefined): PinUvAuthProtocol {
  if (protocol === undefined) throw new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, 'pinUvAuthProtocol is required');
  const p = pinSession(h).protocol(protocol);
  if (!p) throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, `pinUvAuthProtocol ${protocol} is not supported`);
  return p;
}

/**
 * verify(pinUvAuthToken, message, param): "If the key parameter value is the current pinUvAuthToken and it is
 * not in use, then return error" (§6.5.6); a token issued under another protocol does not verify either.
 */
export function verifyWithToken(h: HandlerContext, protocol: PinUvAuthProtocol, message: Uint8Array, param: Uint8Array): boolean {
  const token = pinSession(h).token;
  if (!token.inUse || token.protocol !== protocol.version) return false;
  return protocol.verify(token.value, message, param);
}

function pinAuthInvalid(message: string): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID, message);
}

/**
 * Verify pinUvAuthParam over `message` with the current pinUvAuthToken for commands other than mc/ga
 * (bioEnrollment, later credMgmt/config/largeBlobs): missing param → PUAT_REQUIRED, missing protocol →
 * MISSING_PARAMETER, unsupported protocol → INVALID_PARAMETER, MAC wrong / token not in use / permission
 * missing / rpId mismatch → PIN_AUTH_INVALID. Returns nothing; throws CtapError.
 */
export function checkPinUvAuthParam(
  h: HandlerContext,
  o: { protocol?: number; param?: Uint8Array; message: Uint8Array; permission: number; rpId?: string },
): void {
  if (o.param === undefined) throw new CtapError(CtapStatus.CTAP2_ERR_PUAT_REQUIRED, 'pinUvAuthParam is required');
  const protocol = requireProtocol(h, o.protocol);
  if (!verifyWithToken(h, protocol, o.message, o.param)) throw pinAuthInvalid('pinUvAuthParam does not verify');
  const token = pinSession(h).token;
  token.markUsed();
  if (!token.hasPermission(o.permission)) throw pinAuthInvalid('the pinUvAuthToken lacks the required permission');
  if (o.rpId !== undefined && token.rpId !== undefined && token.rpId !== o.rpId) {
    throw pinAuthInvalid('the pinUvAuthToken is bound to another RP ID');
  }
}
