/** authenticatorGetAssertion (0x02), CTAP 2.1 §6.2.2. */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { usableForAssertion } from '../../extensions/credProtect.ts';
import { openGetAssertionExtensions, readGetAssertionExtensions } from '../../extensions/getAssertion.ts';
import type { GetAssertionRequest, GetAssertionResponse } from '../../messages/getAssertion.ts';
import { Permission } from '../../pin/authorize.ts';
import type { HandlerContext } from '../context.ts';
import type { AssertionCandidate } from '../deviceState.ts';
import { signAssertion } from '../steps/assertion.ts';
import { discoverableCredentials, locateCredential, rpIdHashOf } from '../steps/credentials.ts';
import { checkCredentialListLimits } from '../steps/requestChecks.ts';
import { establishPresence, pinUvAuthPrecheck, uvOption, verifyUser } from '../steps/userVerification.ts';
import { getAssertionUvPolicy } from '../steps/uvPolicy.ts';
import { versionedStatus } from '../versionedStatus.ts';

/** CTAP 2.1 §6.2.2 step 4: options. Returns the effective "up" and "uv". */
function checkOptions(h: HandlerContext, req: GetAssertionRequest): { up: boolean; uv: boolean } {
  const { rk, up } = req.options;
  // "uv" absent → false; pinUvAuthParam present → false; true without enabled built-in UV → INVALID_OPTION.
  const uv = uvOption(h, req.options.uv, req.pinUvAuthParam !== undefined);
  // CTAP 2.1: "If the "rk" option is present then: return CTAP2_ERR_UNSUPPORTED_OPTION" (CTAP 2.0: INVALID_OPTION).
  if (rk !== undefined) throw new CtapError(versionedStatus(h.profile, 'getAssertionRkOption'), 'rk is not a getAssertion option');
  // "If the "up" option is not present then let the "up" option be treated as being present with the value true."
  return { up: up ?? true, uv };
}

export async function getAssertion(h: HandlerContext, req: GetAssertionRequest): Promise<GetAssertionResponse> {
  checkCredentialListLimits(h.profile, req.allowList, 'allowList');
  await pinUvAuthPrecheck(h, 'getAssertion', req.rpId, req); // steps 1–2
  const hasParam = req.pinUvAuthParam !== undefined;
  const options = checkOptions(h, req); // step 4
  // Step 10's inputs, validated before any user interaction (hmac-secret with up=false → UNSUPPORTED_OPTION).
  const extensionInputs = readGetAssertionExtensions(h, req.extensions, { up: options.up });
  const uv = getAssertionUvPolicy(h, { ...options, hasParam }); // step 5 (alwaysUv)
  const rpIdHash = rpIdHashOf(h, req.rpId);
  // Step 6: the pinUvAuthToken (ga permission, RP ID) or built-in UV, when protected by some form of UV.
  const outcome = await verifyUser(h, {
    command: 'getAssertion',
    rpId: req.rpId,
    clientDataHash: req.clientDataHash,
    ...(req.pinUvAuthParam ? { param: req.pinUvAuthParam } : {}),
    protocol: req.pinUvAuthProtocol,
    uv,
    permission: Permission.ga,
  });

  // Step 7: with a non-empty allowList, the listed credentials this device created for rpId (others are
  // skipped); otherwise the RP's discoverable credentials, newest first (step 12).
  const allowList = req.allowList ?? [];
  const fromAllowList = allowList.length > 0;
  const located: AssertionCandidate[] = fromAllowList
    ? allowList.flatMap((d) => locateCredential(h, rpIdHash, d) ?? [])
    : discoverableCredentials(h, req.rpId);
  // Step 7 (credProtect, CTAP 2.1 §12.1): userVerificationRequired needs the "uv" bit;
  // userVerificationOptionalWithCredentialIDList needs the "uv" bit or an allowList.
  const credentials = located.filter((c) => usableForAssertion(c.credProtect, { uv: outcome.uv, allowList: fromAllowList }));
  // Step 7 (CTAP 2.1 order): no applicable credential → CTAP2_ERR_NO_CREDENTIALS, before any touch.
  if (credentials.length === 0) throw new CtapError(CtapStatus.CTAP2_ERR_NO_CREDENTIALS, `no credential for ${req.rpId}`);

  // Step 8: built-in UV supplied evidence of user interaction → "up" bit set. Step 9: "up" true → presence from
  // the token's UP flag or a touch (declined / timed out → OPERATION_DENIED), then the token is consumed;
  // "up" false → silent assertion, UP bit 0, the token is left as it is.
  const userPresent = outcome.upEvidence || options.up;
  if (options.up) await establishPresence(h, 'getAssertion', req.rpId, hasParam, outcome);
  // Step 10: extensions (ctap/extensions): the enabled ones are processed (hmac-secret: key agreement, saltAuth,
  // salts), unknown ones ignored; the outputs are built per credential when it is signed for.
  const extensions = openGetAssertionExtensions(h, extensionInputs);

  // Steps 11–14: allowList → any applicable credential (the first); otherwise the newest discoverable one.
  const userVerified = outcome.uv;
  const res = await signAssertion(h, {
    rpIdHash,
    clientDataHash: req.clientDataHash,
    userPresent,
    userVerified,
    credential: credentials[0]!,
    extensions,
  });
  if (!fromAllowList && credentials.length > 1) {
    // Step 12 (no display): numberOfCredentials, and remember the request for getNextAssertion (30 s timer).
    res.numberOfCredentials = credentials.length;
    h.device.stateful = {
      kind: 'getAssertion',
      channel: h.request.channel,
      rpIdHash,
      clientDataHash: req.clientDataHash,
      userPresent,
      userVerified,
      credentials,
      extensions,
      next: 1,
      lastAt: h.env.scheduler.now(),
    };
  }
  return res;
}
