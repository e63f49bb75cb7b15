/**
 * Authorising a command with the pinUvAuthToken (CTAP 2.1 §6.5.5.7 permissions, §6.5.2.1 token state): one
 * authorizeToken for makeCredential / getAssertion (through steps/userVerification.ts) and every other command
 * that takes a pinUvAuthParam (bioEnrollment, credMgmt, config, largeBlobs); requireTokenScope for the permissions
 * RP ID rules a command applies after it has found what it acts on (credMgmt).
 */
import { equal } from '../bytes.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import type { HandlerContext } from '../authenticator/context.ts';
import { isCtap21 } from '../authenticator/profile.ts';
import { rpIdHashOf } from '../authenticator/steps/credentials.ts';
import type { PinUvAuthProtocol } from './protocol.ts';
import { pinSession } from './session.ts';
import type { PinUvAuthToken } from './token.ts';

/** pinUvAuthToken permission bits, CTAP 2.1 §6.5.5.7. */
export const Permission = { mc: 0x01, ga: 0x02, cm: 0x04, be: 0x08, lbw: 0x10, acfg: 0x20 } as const;
/** CTAP 2.2 persistentCredentialManagementReadOnly: recognised so that it can be refused (no perCredMgmtRO). */
export const PERMISSION_PCMR = 0x40;

/**
 * CTAP 2.1 §6.5.5.1 / §6.1.2 step 2: pinUvAuthProtocol absent → CTAP2_ERR_MISSING_PARAMETER; a value this
 * profile does not list in pinUvAuthProtocols → `unsupported` (CTAP1_ERR_INVALID_PARAMETER unless the caller's
 * step says otherwise: versionedStatus.ts 'unsupportedPinProtocol' for mc/ga).
 */
export function requireProtocol(
  h: HandlerContext,
  protocol: number | undefined,
  unsupported: CtapStatus = CtapStatus.CTAP1_ERR_INVALID_PARAMETER,
): PinUvAuthProtocol {
  if (protocol === undefined) throw new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, 'pinUvAuthProtocol is required');
  const p = pinSession(h).protocol(protocol);
  if (!p) throw new CtapError(unsupported, `pinUvAuthProtocol ${protocol} is not supported`);
  return p;
}

/**
 * verify(pinUvAuthToken, message, param): "If the key parameter value is the current pinUvAuthToken and it is
 * not in use, then return error" (§6.5.6); a token issued under another protocol does not verify either.
 */
function verifyWithToken(h: HandlerContext, protocol: PinUvAuthProtocol, message: Uint8Array, param: Uint8Array): boolean {
  const token = pinSession(h).token;
  if (!token.inUse || token.protocol !== protocol.version) return false;
  return protocol.verify(token.value, message, param);
}

function pinAuthInvalid(message: string): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID, message);
}

/**
 * What a command may act on with a token that has a permissions RP ID (CTAP 2.1 §6.5.2.1; §6.8.2–§6.8.6): the RP
 * it names (`rpId`), or the RP whose hash it names (`rpIdHash`, credMgmt enumerateCredentialsBegin), or every RP
 * ('allRps': getCredsMetadata, enumerateRPsBegin), which a bound token may not.
 */
export type TokenScope = { rpId: string } | { rpIdHash: Uint8Array } | 'allRps';

/** A token bound to a permissions RP ID serves that RP only: otherwise CTAP2_ERR_PIN_AUTH_INVALID. An unbound token serves any. */
export function requireTokenScope(h: HandlerContext, scope: TokenScope): void {
  const bound = pinSession(h).token.rpId;
  if (bound === undefined) return;
  if (scope === 'allRps') throw pinAuthInvalid('the pinUvAuthToken is bound to an RP ID');
  const same = 'rpId' in scope ? bound === scope.rpId : equal(rpIdHashOf(h, bound), scope.rpIdHash);
  if (!same) throw pinAuthInvalid('the pinUvAuthToken is bound to another RP ID');
}

export interface TokenUse {
  /** The request's pinUvAuthProtocol. */
  protocol: number | undefined;
  /** The request's pinUvAuthParam. */
  param: Uint8Array | undefined;
  /** What pinUvAuthParam authenticates (clientDataHash for mc/ga; the command's own message otherwise). */
  message: Uint8Array;
  /** The permission the command needs (Permission.*). */
  permission: number;
  /** The RP the command acts for, when it names one up front (mc/ga: rp.id / rpId). */
  rpId?: string;
}

const MC_GA = Permission.mc | Permission.ga;

/**
 * Authorise a command with the current pinUvAuthToken; returns the token. In order: pinUvAuthParam absent →
 * CTAP2_ERR_PUAT_REQUIRED; pinUvAuthProtocol absent → MISSING_PARAMETER, unsupported → INVALID_PARAMETER;
 * pinUvAuthParam does not verify (wrong MAC, token not in use, issued under the other protocol), the permission is
 * missing, or the token is bound to another RP ID → CTAP2_ERR_PIN_AUTH_INVALID. makeCredential / getAssertion
 * (CTAP 2.1 §6.1.2 step 11.1, §6.2.2 step 6.1) also need the token's userVerified flag (cleared by the previous
 * mc/ga) and associate their RP ID with an unbound token.
 * Only once every check passed is the token marked used (a refused one still expires at the initial-use limit).
 */
export function authorizeToken(h: HandlerContext, o: TokenUse): PinUvAuthToken {
  if (o.param === undefined) throw new CtapError(CtapStatus.CTAP2_ERR_PUAT_REQUIRED, 'pinUvAuthParam is required');
  const protocol = requireProtocol(h, o.protocol);
  if (!verifyWithToken(h, protocol, o.message, o.param)) throw pinAuthInvalid('pinUvAuthParam does not verify');
  const token = pinSession(h).token;
  if (!token.hasPermission(o.permission)) throw pinAuthInvalid('the pinUvAuthToken lacks the required permission');
  if (o.rpId !== undefined) requireTokenScope(h, { rpId: o.rpId });
  const mcGa = (o.permission & MC_GA) !== 0;
  if (mcGa && !token.userVerifiedFlag()) throw pinAuthInvalid('the pinUvAuthToken was already used for an mc/ga');
  token.markUsed();
  // CTAP 2.1 §6.1.2 step 11.1.2: "If the pinUvAuthToken does not have a permissions RP ID associated: Associate the
  // request's rp.id parameter value with the pinUvAuthToken as its permissions RP ID." A CTAP 2.0 pinToken is bound
  // to no RP (CTAP 2.0 §5.5: it serves every mc/ga until power cycle or PIN change).
  if (mcGa && o.rpId !== undefined && token.rpId === undefined && isCtap21(h.profile)) token.bindRpId(o.rpId);
  return token;
}
