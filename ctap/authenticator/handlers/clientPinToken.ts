/**
 * authenticatorClientPIN token subcommands, CTAP 2.1 §6.5.5.7: getPinToken (0x05, superseded),
 * getPinUvAuthTokenUsingPinWithPermissions (0x09), getPinUvAuthTokenUsingUvWithPermissions (0x06).
 */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { requireMembers, type ClientPinRequest, type ClientPinResponse } from '../../messages/clientPin.ts';
import { Permission, PERMISSION_PCMR, requireProtocol } from '../../pin/authorize.ts';
import type { PinUvAuthProtocol } from '../../pin/protocol.ts';
import { pinSession } from '../../pin/session.ts';
import type { HandlerContext } from '../context.ts';
import { isCtap21 } from '../profile.ts';
import { buildInfo } from './getInfo.ts';
import { builtInUvConfigured, performBuiltInUv } from '../steps/builtInUv.ts';
import { checkPinUsable, verifyPinHashEnc } from '../steps/pinEntry.ts';

/**
 * Steps "create a new pinUvAuthToken by calling resetPinUvAuthToken() for all pinUvAuthProtocols",
 * beginUsingPinUvAuthToken(userIsPresent), assign the permissions, associate the rpId if present, and return
 * encrypt(shared secret, pinUvAuthToken). A CTAP 2.0 device has one pinToken per power cycle (CTAP 2.0 §5.5:
 * generated at power-up, changed with the PIN): getPinToken hands out that one, so a token another platform
 * holds keeps working.
 */
function issueToken(
  h: HandlerContext,
  protocol: PinUvAuthProtocol,
  shared: Uint8Array,
  o: { userIsPresent: boolean; permissions: number; rpId?: string },
): ClientPinResponse {
  const token = pinSession(h).token;
  if (isCtap21(h.profile) || !token.inUse) token.reset();
  token.begin(protocol.version, o.userIsPresent);
  token.setPermissions(o.permissions);
  if (o.rpId !== undefined) token.bindRpId(o.rpId);
  return { pinUvAuthToken: protocol.encrypt(shared, token.value) };
}

/** Step 3: "If the authenticator receives a permissions parameter with value 0, return CTAP1_ERR_INVALID_PARAMETER." */
function checkPermissionsNonZero(permissions: number): void {
  if (permissions === 0) throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, 'permissions is 0');
}

/**
 * Step 4: for each requested permission whose getInfo condition holds → CTAP2_ERR_UNAUTHORIZED_PERMISSION;
 * undefined bits are ignored. PIN path: cm ← credMgmt false/absent, be ← bioEnroll absent, lbw ← largeBlobs
 * false/absent, acfg ← authnrCfg false/absent, mc/ga ← noMcGaPermissionsWithClientPin true. UV path: be ←
 * uvBioEnroll false/absent, acfg ← uvAcfg false/absent, mc and ga always authorised. CTAP 2.2 pcmr ←
 * perCredMgmtRO false/absent (refused rather than ignored, so a 2.2 platform is not handed a token without it).
 */
function checkAuthorized(h: HandlerContext, permissions: number, via: 'pin' | 'uv'): void {
  const o = buildInfo(h.profile, h.device.persistent).options;
  const refused: [number, boolean][] = [
    [Permission.mc, via === 'pin' && o.noMcGaPermissionsWithClientPin === true],
    [Permission.ga, via === 'pin' && o.noMcGaPermissionsWithClientPin === true],
    [Permission.cm, o.credMgmt !== true],
    [Permission.be, via === 'pin' ? o.bioEnroll === undefined : o.uvBioEnroll !== true],
    [Permission.lbw, o.largeBlobs !== true],
    [Permission.acfg, via === 'pin' ? o.authnrCfg !== true : o.uvAcfg !== true],
    [PERMISSION_PCMR, o.perCredMgmtRO !== true],
  ];
  for (const [bit, no] of refused) {
    if ((permissions & bit) !== 0 && no) {
      throw new CtapError(CtapStatus.CTAP2_ERR_UNAUTHORIZED_PERMISSION, `permission 0x${bit.toString(16)} is not authorised`);
    }
  }
}

/** getPinToken (0x05): the CTAP 2.0 way; the token gets the default permissions mc and ga, no RP ID. */
export async function getPinToken(h: HandlerContext, req: ClientPinRequest): Promise<ClientPinResponse> {
  requireMembers(req, ['pinUvAuthProtocol', 'keyAgreement', 'pinHashEnc']); // step 1
  const protocol = requireProtocol(h, req.pinUvAuthProtocol); // step 2
  // Steps 3–4: permissions or rpId present → CTAP1_ERR_INVALID_PARAMETER.
  if (req.permissions !== undefined || req.rpId !== undefined) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, 'getPinToken takes neither permissions nor rpId');
  }
  const stored = checkPinUsable(h); // step 5 (+ PIN_NOT_SET, PIN_AUTH_BLOCKED)
  const shared = protocol.decapsulate(req.keyAgreement); // step 6 (no display: no consent step 7)
  await verifyPinHashEnc(h, stored, protocol, shared, req.pinHashEnc); // steps 8–10
  // Step 11: "If the value of the forcePINChange member ... is true, authenticator returns CTAP2_ERR_PIN_INVALID."
  if (h.device.persistent.forcePinChange) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_INVALID, 'forcePINChange: change the PIN first');
  // Steps 12–15: userIsPresent false (a PIN is no evidence of presence); default permissions mc | ga.
  return issueToken(h, protocol, shared, { userIsPresent: false, permissions: Permission.mc | Permission.ga });
}

export async function getPinUvAuthTokenUsingPinWithPermissions(h: HandlerContext, req: ClientPinRequest): Promise<ClientPinResponse> {
  requireMembers(req, ['pinUvAuthProtocol', 'keyAgreement', 'pinHashEnc', 'permissions']); // step 1
  const protocol = requireProtocol(h, req.pinUvAuthProtocol); // step 2
  checkPermissionsNonZero(req.permissions); // step 3
  checkAuthorized(h, req.permissions, 'pin'); // step 4
  const stored = checkPinUsable(h); // step 5 (+ PIN_NOT_SET, PIN_AUTH_BLOCKED)
  const shared = protocol.decapsulate(req.keyAgreement); // step 6 (no display: no consent step 7)
  await verifyPinHashEnc(h, stored, protocol, shared, req.pinHashEnc); // steps 8–10
  // Step 11: forcePINChange → CTAP2_ERR_PIN_POLICY_VIOLATION ("Platform ... SHOULD direct the user to change the PIN").
  if (h.device.persistent.forcePinChange) {
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION, 'forcePINChange: change the PIN first');
  }
  // Steps 13–17.
  return issueToken(h, protocol, shared, {
    userIsPresent: false,
    permissions: req.permissions,
    ...(req.rpId !== undefined ? { rpId: req.rpId } : {}),
  });
}

export async function getPinUvAuthTokenUsingUvWithPermissions(h: HandlerContext, req: ClientPinRequest): Promise<ClientPinResponse> {
  requireMembers(req, ['pinUvAuthProtocol', 'keyAgreement', 'permissions']); // step 1
  const protocol = requireProtocol(h, req.pinUvAuthProtocol); // step 2
  checkPermissionsNonZero(req.permissions); // step 3
  checkAuthorized(h, req.permissions, 'uv'); // step 4
  // Step 5: "If a built-in user verification method is supported but not configured → CTAP2_ERR_NOT_ALLOWED."
  if (!builtInUvConfigured(h)) throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, 'no template is enrolled');
  // Step 6: "If preferredPlatformUvAttempts > 1 then let internalRetry be false ... Else let internalRetry be true."
  const internalRetry = !((h.profile.uv?.preferredPlatformUvAttempts ?? 1) > 1);
  // Step 7: "If the uvRetries counter is 0, return CTAP2_ERR_UV_BLOCKED error."
  if (h.device.persistent.uvRetries === 0) throw new CtapError(CtapStatus.CTAP2_ERR_UV_BLOCKED, 'uvRetries is 0');
  // The shared secret is needed for the answer; a bad key is refused before the user is asked (decision:
  // the spec's list has no decapsulate step here; doing it first never spends a UV attempt on a doomed request).
  const shared = protocol.decapsulate(req.keyAgreement);
  const r = await performBuiltInUv(h, { command: 'clientPIN', ...(req.rpId !== undefined ? { rpId: req.rpId } : {}), internalRetry });
  if (!r.ok) {
    // Step 10: timeout → USER_ACTION_TIMEOUT; uvRetries 0 → UV_BLOCKED; otherwise UV_INVALID ("the platform
    // SHOULD retry"). A sensor error is "otherwise" too (decision: UV_INVALID, no retry was spent on it).
    if (r.reason === 'timeout') throw new CtapError(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT, 'no finger / face presented in time');
    if (r.reason === 'blocked') throw new CtapError(CtapStatus.CTAP2_ERR_UV_BLOCKED, 'built-in UV is now blocked');
    if (r.reason === 'not-configured') throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, 'no template is enrolled');
    throw new CtapError(CtapStatus.CTAP2_ERR_UV_INVALID, `built-in UV failed (${r.reason})`);
  }
  // Steps 12–16: fingerprint and face supply evidence of user interaction → beginUsingPinUvAuthToken(true).
  return issueToken(h, protocol, shared, {
    userIsPresent: true,
    permissions: req.permissions,
    ...(req.rpId !== undefined ? { rpId: req.rpId } : {}),
  });
}
