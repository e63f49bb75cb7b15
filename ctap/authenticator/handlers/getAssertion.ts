/** authenticatorGetAssertion (0x02), CTAP 2.1 §6.2.2, for a device without PIN or built-in UV. */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import type { GetAssertionRequest, GetAssertionResponse } from '../../messages/getAssertion.ts';
import type { HandlerContext } from '../context.ts';
import type { AssertionCandidate } from '../deviceState.ts';
import { signAssertion } from '../steps/assertion.ts';
import { discoverableCredentials, locateCredential, rpIdHashOf } from '../steps/credentials.ts';
import { requireUserPresence } from '../steps/presence.ts';
import { checkCredentialListLimits, checkPinUvAuthParams } from '../steps/requestChecks.ts';

/** CTAP 2.1 §6.2.2 step 5: options. Returns the effective "up". */
function checkOptions(req: GetAssertionRequest): boolean {
  const { rk, up, uv } = req.options;
  // "If the "uv" option is true then: if the authenticator does not support a built-in user verification
  // method end the operation by returning CTAP2_ERR_INVALID_OPTION."
  if (uv === true) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, 'no built-in user verification');
  // "If the "rk" option is present then: return CTAP2_ERR_UNSUPPORTED_OPTION."
  if (rk !== undefined) throw new CtapError(CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION, 'rk is not a getAssertion option');
  // "If the "up" option is not present then let the "up" option be treated as being present with the value true."
  return up ?? true;
}

export async function getAssertion(h: HandlerContext, req: GetAssertionRequest): Promise<GetAssertionResponse> {
  checkCredentialListLimits(h.profile, req.allowList, 'allowList');
  checkPinUvAuthParams(req); // steps 1–2
  const userPresent = checkOptions(req); // step 5
  const rpIdHash = rpIdHashOf(h, req.rpId);

  // Step 7: with a non-empty allowList, the listed credentials this device created for rpId (others are
  // skipped); otherwise the RP's discoverable credentials, newest first (step 12).
  const allowList = req.allowList ?? [];
  const fromAllowList = allowList.length > 0;
  const credentials: AssertionCandidate[] = fromAllowList
    ? allowList.flatMap((d) => locateCredential(h, req.rpId, rpIdHash, d) ?? [])
    : discoverableCredentials(h, req.rpId);
  // Step 7 (CTAP 2.1 order): no applicable credential → CTAP2_ERR_NO_CREDENTIALS, before any touch.
  if (credentials.length === 0) throw new CtapError(CtapStatus.CTAP2_ERR_NO_CREDENTIALS, `no credential for ${req.rpId}`);

  // Step 9: "up" true → collect UP (declined / timed out → OPERATION_DENIED); false → silent, UP bit 0.
  if (userPresent) await requireUserPresence(h, 'getAssertion', req.rpId);
  // Step 10: extensions: none are supported, unknown ones are ignored.

  // Steps 11–14: allowList → any applicable credential (the first); otherwise the newest discoverable one.
  const res = await signAssertion(h, { rpIdHash, clientDataHash: req.clientDataHash, userPresent, credential: credentials[0]! });
  if (!fromAllowList && credentials.length > 1) {
    // Step 12 (no display): numberOfCredentials, and remember the request for getNextAssertion (30 s timer).
    res.numberOfCredentials = credentials.length;
    h.device.stateful = {
      kind: 'getAssertion',
      channel: h.request.channel,
      rpIdHash,
      clientDataHash: req.clientDataHash,
      userPresent,
      credentials,
      next: 1,
      lastAt: h.env.scheduler.now(),
    };
  }
  return res;
}
