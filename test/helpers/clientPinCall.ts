/**
 * The ClientPinCall that the node:crypto platform (pinClient.ts) sends authenticatorClientPIN through, over a
 * CTAPHID client of a transport harness.
 */
import { CtapCommand } from '../../ctap/constants/commands.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';
import type { ClientPinCall } from './pinClient.ts';

/**
 * authenticatorClientPIN through the client `current()` returns at the time of each call (tests replace their
 * client after a memory power cycle): the status byte and the decoded response map (if any).
 */
export function clientPinCall(current: () => CtapHidClient): ClientPinCall {
  return async (params) => {
    const r = await current().cbor(CtapCommand.authenticatorClientPIN, params);
    return { status: r.status, body: r.data as CborMap | undefined };
  };
}
