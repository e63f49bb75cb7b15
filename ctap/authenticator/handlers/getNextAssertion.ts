/** authenticatorGetNextAssertion (0x08), CTAP 2.1 §6.3. */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import type { GetAssertionResponse } from '../../messages/getAssertion.ts';
import type { HandlerContext } from '../context.ts';
import { signAssertion } from '../steps/assertion.ts';

/** CTAP 2.1 §6.3: the remembered getAssertion expires 30 seconds after the last GA / GNA. */
export const GET_NEXT_ASSERTION_TIMEOUT_MS = 30_000;

export async function getNextAssertion(h: HandlerContext): Promise<GetAssertionResponse> {
  const st = h.device.stateful;
  // "If authenticator does not remember any authenticatorGetAssertion parameters, return CTAP2_ERR_NOT_ALLOWED."
  // (The dispatcher already dropped state from another channel or interrupted by another command.)
  if (!st || st.kind !== 'getAssertion') throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, 'no getAssertion to continue');
  // "If the timer since the last call to authenticatorGetAssertion/authenticatorGetNextAssertion is greater
  // than 30 seconds, discard the current authenticatorGetAssertion state and return CTAP2_ERR_NOT_ALLOWED."
  if (h.env.scheduler.now() - st.lastAt > GET_NEXT_ASSERTION_TIMEOUT_MS) {
    h.device.stateful = undefined;
    throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, 'getAssertion state expired');
  }
  // "If the credentialCounter is equal to or greater than numberOfCredentials, return CTAP2_ERR_NOT_ALLOWED."
  const credential = st.credentials[st.next];
  if (!credential) {
    h.device.stateful = undefined;
    throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, 'no more credentials');
  }
  // Sign with credentials[credentialCounter] (own counter, own authData), reset the timer, increment the counter.
  const res = await signAssertion(h, {
    rpIdHash: st.rpIdHash,
    clientDataHash: st.clientDataHash,
    userPresent: st.userPresent,
    userVerified: st.userVerified,
    credential,
    ...(st.extensions ? { extensions: st.extensions } : {}),
  });
  st.next += 1;
  st.lastAt = h.env.scheduler.now();
  return res;
}
