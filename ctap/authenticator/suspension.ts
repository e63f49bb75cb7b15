/**
 * A suspended ("locked") device (issue 5; AuthenticatorControl.setSuspended): a persistent state, not a fault
 * check. It refuses every command but CTAP2 getInfo, so a platform still sees the key but can do nothing with it:
 * CTAPHID_CBOR answers CTAP2_ERR_OPERATION_DENIED (dispatch.ts), CTAPHID_MSG (U2F) SW_COMMAND_NOT_ALLOWED (ctap/u2f).
 */
import type { DeviceState } from './deviceState.ts';

/** The device is suspended and `command` (a command table name, or 'u2f' for any CTAP1 message) is refused. */
export function refusedWhileSuspended(device: DeviceState, command: string): boolean {
  return device.persistent.suspended === true && command !== 'getInfo';
}
