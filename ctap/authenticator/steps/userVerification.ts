/**
 * User verification for makeCredential and getAssertion (CTAP 2.1 §6.1.2 steps 1–2, 5–8, 11, 14 and §6.2.2
 * steps 1–2, 4–6, 9): the zero-length pinUvAuthParam touch probe, the pinUvAuthToken check, built-in UV
 * (uv=true), and the presence step that consumes the token.
 */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { authorizeToken, requireProtocol } from '../../pin/authorize.ts';
import type { HandlerContext } from '../context.ts';
import { isCtap21 } from '../profile.ts';
import { versionedStatus } from '../versionedStatus.ts';
import { builtInUvConfigured, performBuiltInUv } from './builtInUv.ts';
import { collectUserPresence, requireUserPresence } from './presence.ts';

type McGa = 'makeCredential' | 'getAssertion';

/** getInfo clientPin option is true: a PIN is set. */
export function clientPinSet(h: HandlerContext): boolean {
  return h.profile.pin !== undefined && h.device.persistent.pin !== undefined;
}

/** "Protected by some form of user verification": clientPin option true or uv option true (CTAP 2.1 §6.1.2). */
export function protectedByUv(h: HandlerContext): boolean {
  return clientPinSet(h) || builtInUvConfigured(h);
}

/**
 * The recurring "if clientPin is usable for mc/ga (noMcGaPermissionsWithClientPin absent) → PUAT_REQUIRED,
 * else → OPERATION_DENIED". `pinUsable` is either "the clientPin option ID is present" (alwaysUv, step 6.2)
 * or "the clientPin option ID is true" (steps 7–8, built-in UV failure), as each step says.
 */
export function uvRequired(pinUsable: boolean, why: string): CtapError {
  return pinUsable
    ? new CtapError(CtapStatus.CTAP2_ERR_PUAT_REQUIRED, why)
    : new CtapError(CtapStatus.CTAP2_ERR_OPERATION_DENIED, why);
}

/**
 * Steps 1–2. Step 1 (only "if authenticator supports either pinUvAuthToken or clientPin features"): a
 * zero-length pinUvAuthParam asks for a touch (CTAP 2.0 "select an authenticator"): declined / timed out →
 * OPERATION_DENIED, otherwise PIN_NOT_SET or PIN_INVALID. Step 2: pinUvAuthParam present → pinUvAuthProtocol
 * absent → MISSING_PARAMETER, unsupported → INVALID_PARAMETER (a CTAP 2.0 profile: PIN_AUTH_INVALID,
 * versionedStatus.ts). authorizeToken resolves the protocol again when it verifies the param.
 */
export async function pinUvAuthPrecheck(
  h: HandlerContext,
  command: McGa,
  rpId: string,
  req: { pinUvAuthParam?: Uint8Array; pinUvAuthProtocol?: number },
): Promise<void> {
  if (req.pinUvAuthParam === undefined) return;
  if (req.pinUvAuthParam.length === 0 && (h.profile.pin || h.profile.uv)) {
    const touch = await collectUserPresence(h, command, rpId);
    if (touch !== 'approved') throw new CtapError(CtapStatus.CTAP2_ERR_OPERATION_DENIED, `user presence ${touch}`);
    if (clientPinSet(h)) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_INVALID, 'touched: a PIN is set');
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_NOT_SET, 'touched: no PIN is set');
  }
  requireProtocol(h, req.pinUvAuthProtocol, versionedStatus(h.profile, 'unsupportedPinProtocol'));
}

/**
 * Step 5 (mc) / 4 (ga) for "uv": absent → false; forced false when pinUvAuthParam is present; true without an
 * enabled built-in UV method → CTAP2_ERR_INVALID_OPTION.
 */
export function uvOption(h: HandlerContext, uv: boolean | undefined, hasParam: boolean): boolean {
  if (hasParam || uv !== true) return false;
  if (!builtInUvConfigured(h)) {
    throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, 'uv=true but built-in user verification is not enabled');
  }
  return true;
}

export interface UvOutcome {
  /** The response's "uv" bit. */
  uv: boolean;
  /** Built-in UV supplied evidence of user interaction (fingerprint, face): "up" without a separate touch. */
  upEvidence: boolean;
}

/**
 * Step 11 (mc) / 6 (ga), when the authenticator is protected by UV. With pinUvAuthParam (already checked by
 * pinUvAuthPrecheck): authorizeToken over clientDataHash with the mc / ga permission (a bound RP ID must match,
 * the userVerified flag must still be set; an unbound token is bound to this RP). Any failure → PIN_AUTH_INVALID.
 * With uv=true: performBuiltInUv(internalRetry = true).
 */
export async function verifyUser(
  h: HandlerContext,
  o: { command: McGa; rpId: string; clientDataHash: Uint8Array; param?: Uint8Array; protocol?: number; uv: boolean; permission: number },
): Promise<UvOutcome> {
  if (!protectedByUv(h)) return { uv: false, upEvidence: false };
  if (o.param !== undefined) {
    authorizeToken(h, { protocol: o.protocol, param: o.param, message: o.clientDataHash, permission: o.permission, rpId: o.rpId });
    return { uv: true, upEvidence: false };
  }
  if (o.uv) {
    await builtInUv(h, o.command, o.rpId);
    return { uv: true, upEvidence: true };
  }
  return { uv: false, upEvidence: false };
}

/**
 * performBuiltInUv(internalRetry = true) for the legacy uv=true path. Error: user action timeout →
 * USER_ACTION_TIMEOUT; "If the ClientPin option ID is true and noMcGaPermissionsWithClientPin is absent or
 * false → CTAP2_ERR_PUAT_REQUIRED" (CTAP 2.1 §6.2.2 step 6.2 in the current text; applied to makeCredential too,
 * as the Passport firmware's quote of §6.1.2 step 11.2 has it, since a PIN fallback exists there as well; it
 * comes before the uvRetries check, so a blocked sensor with a PIN set also asks for a token); uvRetries 0 →
 * PIN_BLOCKED (sic: the spec's asymmetry); otherwise OPERATION_DENIED.
 */
async function builtInUv(h: HandlerContext, command: McGa, rpId: string): Promise<void> {
  const r = await performBuiltInUv(h, { command, rpId, internalRetry: true });
  if (r.ok) return;
  if (r.reason === 'timeout') throw new CtapError(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT, 'no finger / face presented in time');
  if (clientPinSet(h)) throw new CtapError(CtapStatus.CTAP2_ERR_PUAT_REQUIRED, `built-in UV failed (${r.reason}); use the PIN`);
  if (r.reason === 'blocked') throw new CtapError(CtapStatus.CTAP2_ERR_PIN_BLOCKED, 'built-in UV is blocked (uvRetries 0)');
  throw new CtapError(CtapStatus.CTAP2_ERR_OPERATION_DENIED, `built-in UV failed (${r.reason})`);
}

/**
 * Step 12 (mc excludeList): was user presence already established? With pinUvAuthParam:
 * getUserPresentFlagValue(); otherwise only if built-in UV gave evidence of user interaction.
 */
export function userPresentAlready(h: HandlerContext, hasParam: boolean, outcome: UvOutcome): boolean {
  return hasParam ? h.device.pin?.token.userPresentFlag() === true : outcome.upEvidence;
}

/**
 * Step 14 (mc) / 9 (ga), "up" true: request a touch unless the token's userPresent flag (with a param) or
 * built-in UV already supplied presence; declined / timed out → OPERATION_DENIED. Then "set the up bit,
 * clearUserPresentFlag(), clearUserVerifiedFlag(), clearPinUvAuthTokenPermissionsExceptLbw()": one token, one
 * mc/ga. (Steps 13 / 8: when built-in UV supplied the evidence, the up bit is set and this step is skipped.)
 * A CTAP 2.0 pinToken is not consumed: it serves every mc/ga until power cycle or PIN change.
 */
export async function establishPresence(h: HandlerContext, command: McGa, rpId: string, hasParam: boolean, outcome: UvOutcome): Promise<void> {
  if (outcome.upEvidence) return;
  // No PIN session yet (nothing PIN-related since power-up): there is no token to consult or consume.
  const token = h.device.pin?.token;
  if (!(hasParam && token?.userPresentFlag())) await requireUserPresence(h, command, rpId);
  // CTAP 2.0 §5.5 (pinToken): generated at power-up and valid until the next power cycle or PIN change; the
  // one-token-one-mc/ga rule is CTAP 2.1's.
  if (!isCtap21(h.profile)) return;
  token?.clearUserPresentFlag();
  token?.clearUserVerifiedFlag();
  token?.clearPermissionsExceptLbw();
}
