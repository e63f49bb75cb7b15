/** authenticatorSelection (0x0B), CTAP 2.1 §6.9: the platform asks the user to touch the key they want. */
import type { HandlerContext } from '../context.ts';
import { requireUserPresenceOrTimeout } from '../steps/presence.ts';

export async function selection(h: HandlerContext): Promise<void> {
  // Approved → CTAP2_OK; declined → OPERATION_DENIED; timeout → USER_ACTION_TIMEOUT; cancel → KEEPALIVE_CANCEL.
  await requireUserPresenceOrTimeout(h, 'selection');
}
