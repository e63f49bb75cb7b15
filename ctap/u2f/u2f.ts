/**
 * CTAP1/U2F over CTAPHID_MSG (CTAP 2.1 §11.2.9.1.1; FIDO U2F Raw Message Formats v1.2): command APDU in,
 * response APDU out. Every outcome is a status word; only a failing port (the store) escapes as an exception.
 */
import type { HandlerContext } from '../authenticator/context.ts';
import { refusedWhileSuspended } from '../authenticator/suspension.ts';
import { ApduError, encodeResponseApdu, parseCommandApdu, U2fIns, U2fStatus } from './apdu.ts';
import { u2fAuthenticate } from './authenticate.ts';
import { u2fRegister } from './register.ts';

/** §6.3: the version string of U2F v1.2. Also the getInfo versions entry of a U2F-capable key (CTAP 2.1 §6.4). */
export const U2F_VERSION = 'U2F_V2';

const VERSION_BYTES = new TextEncoder().encode(U2F_VERSION);

async function dispatch(h: HandlerContext, bytes: Uint8Array): Promise<Uint8Array> {
  const apdu = parseCommandApdu(bytes);
  switch (apdu.ins) {
    case U2fIns.U2F_REGISTER:
      return u2fRegister(h, apdu);
    case U2fIns.U2F_AUTHENTICATE:
      return u2fAuthenticate(h, apdu);
    case U2fIns.U2F_VERSION:
      // §6.1: no request data.
      if (apdu.data.length !== 0) throw new ApduError(U2fStatus.SW_WRONG_LENGTH, 'U2F_VERSION takes no data');
      return VERSION_BYTES.slice();
    default:
      throw new ApduError(U2fStatus.SW_INS_NOT_SUPPORTED, `INS 0x${apdu.ins.toString(16)}`);
  }
}

/** Process one command APDU; resolves to `data || SW1 SW2`. Rejects only on port failures (a bug otherwise). */
export async function handleApdu(h: HandlerContext, bytes: Uint8Array): Promise<Uint8Array> {
  // CTAP 2.1 §6.3 / CHECKLIST B0.6: any other command discards a stateful command (getNextAssertion, credMgmt
  // enumeration) — a U2F message included.
  h.device.endStatefulCommand();
  try {
    // Not a U2F device: no instruction is supported (the CTAPHID layer normally refuses MSG before this).
    if (!h.profile.u2f) throw new ApduError(U2fStatus.SW_INS_NOT_SUPPORTED, 'this profile does not implement CTAP1/U2F');
    // CTAP 2.1 alwaysUv (CHECKLIST E8; OpenSK): U2F cannot verify the user, so CTAP1 is off while alwaysUv is on,
    // and getInfo drops "U2F_V2" from versions.
    if (h.device.persistent.alwaysUv) throw new ApduError(U2fStatus.SW_COMMAND_NOT_ALLOWED, 'CTAP1 is disabled while alwaysUv is on');
    // A suspended ("locked") device (suspension.ts) refuses CTAP1 the same way: no registration, no signature.
    if (refusedWhileSuspended(h.device, 'u2f')) throw new ApduError(U2fStatus.SW_COMMAND_NOT_ALLOWED, 'the device is suspended');
    return encodeResponseApdu(U2fStatus.SW_NO_ERROR, await dispatch(h, bytes));
  } catch (e) {
    if (e instanceof ApduError) return encodeResponseApdu(e.sw);
    throw e;
  }
}
