/**
 * Collecting user presence through the UserPresence port, with the CTAPHID keepalive status around it:
 * UPNEEDED while waiting for the touch, back to PROCESSING afterwards (CTAP 2.1 §11.2.9.2.1).
 * A cancelled request (CTAPHID_CANCEL aborts the signal) ends with CTAP2_ERR_KEEPALIVE_CANCEL.
 */
import { KeepaliveStatus } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError, cancelled, isCtapError } from '../../errors.ts';
import type { HandlerContext } from '../context.ts';
import type { PresenceResult } from '../env.ts';

export async function collectUserPresence(h: HandlerContext, command: string, rpId?: string): Promise<PresenceResult> {
  const { signal } = h.request;
  // CTAP 2.1 §11.2.9.1.5: a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL.
  if (signal.aborted) throw cancelled();
  h.request.keepalive(KeepaliveStatus.UPNEEDED);
  let result: PresenceResult;
  try {
    result = await h.env.presence.request(rpId === undefined ? { command, signal } : { command, rpId, signal });
  } catch (e) {
    if (signal.aborted) throw cancelled();
    if (isCtapError(e)) throw e;
    throw new Error(`user presence port failed during ${command}`, { cause: e });
  } finally {
    h.request.keepalive(KeepaliveStatus.PROCESSING);
  }
  if (signal.aborted) throw cancelled();
  return result;
}

/**
 * makeCredential / getAssertion: CTAP 2.1 §6.1.2 step 14 and §6.2.2 step 9: "If the user declines permission,
 * or the operation times out, then end the operation by returning CTAP2_ERR_OPERATION_DENIED."
 */
export async function requireUserPresence(h: HandlerContext, command: string, rpId: string): Promise<void> {
  const result = await collectUserPresence(h, command, rpId);
  if (result !== 'approved') throw new CtapError(CtapStatus.CTAP2_ERR_OPERATION_DENIED, `user presence ${result}`);
}

/**
 * reset / selection (CTAP 2.1 §6.6, §6.9): declined → CTAP2_ERR_OPERATION_DENIED,
 * timed out → CTAP2_ERR_USER_ACTION_TIMEOUT.
 */
export async function requireUserPresenceOrTimeout(h: HandlerContext, command: string): Promise<void> {
  const result = await collectUserPresence(h, command);
  if (result === 'denied') throw new CtapError(CtapStatus.CTAP2_ERR_OPERATION_DENIED, 'user declined');
  if (result === 'timeout') throw new CtapError(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT, 'no touch in time');
}
