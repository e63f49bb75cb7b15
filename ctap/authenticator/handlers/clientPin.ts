/**
 * authenticatorClientPIN (0x06), CTAP 2.1 §6.5.5: subcommand dispatch, getPINRetries, getKeyAgreement,
 * getUVRetries. setPIN / changePIN: clientPinSetPin.ts; the token subcommands: clientPinToken.ts.
 */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import {
  ClientPinSubCommand as S,
  requireMembers,
  type ClientPinRequest,
  type ClientPinResponse,
} from '../../messages/clientPin.ts';
import { requireProtocol } from '../../pin/authorize.ts';
import type { HandlerContext } from '../context.ts';
import { isCtap21 } from '../served.ts';
import { changePin, setPin } from './clientPinSetPin.ts';
import { getPinToken, getPinUvAuthTokenUsingPinWithPermissions, getPinUvAuthTokenUsingUvWithPermissions } from './clientPinToken.ts';

type Subcommand = (h: HandlerContext, req: ClientPinRequest) => Promise<ClientPinResponse>;

/** CTAP 2.1 §6.5.5.2: pinRetries, and powerCycleState = true once 3 consecutive mismatches need a power cycle. */
async function getPinRetries(h: HandlerContext): Promise<ClientPinResponse> {
  const pinRetries = h.device.persistent.pinRetries;
  // powerCycleState (0x04) is a CTAP 2.1 member; a CTAP 2.0 authenticator answers pinRetries alone.
  if (!isCtap21(h.profile)) return { pinRetries };
  return { pinRetries, powerCycleState: h.device.pin?.pinAuthBlocked ?? false };
}

/** CTAP 2.1 §6.5.5.4: keyAgreement = getPublicKey() of the selected protocol. */
async function getKeyAgreement(h: HandlerContext, req: ClientPinRequest): Promise<ClientPinResponse> {
  requireMembers(req, ['pinUvAuthProtocol']);
  return { keyAgreement: requireProtocol(h, req.pinUvAuthProtocol).getPublicKey() };
}

/** CTAP 2.1 §6.5.5.3: uvRetries. */
async function getUvRetries(h: HandlerContext): Promise<ClientPinResponse> {
  return { uvRetries: h.device.persistent.uvRetries };
}

/** The subcommands this profile implements: the PIN ones with clientPin, the UV ones with built-in UV. */
function subcommandsOf(h: HandlerContext): Map<number, Subcommand> {
  const m = new Map<number, Subcommand>();
  if (h.profile.pin || h.profile.uv) m.set(S.getKeyAgreement, getKeyAgreement);
  if (h.profile.pin) {
    m.set(S.getPINRetries, getPinRetries);
    m.set(S.setPIN, setPin);
    m.set(S.changePIN, changePin);
    m.set(S.getPinToken, getPinToken);
    // CTAP 2.0 §5.5 defines subcommands 0x01–0x05 only: pinUvAuthToken permissions are CTAP 2.1.
    if (isCtap21(h.profile)) m.set(S.getPinUvAuthTokenUsingPinWithPermissions, getPinUvAuthTokenUsingPinWithPermissions);
  }
  if (h.profile.uv) {
    m.set(S.getPinUvAuthTokenUsingUvWithPermissions, getPinUvAuthTokenUsingUvWithPermissions);
    m.set(S.getUVRetries, getUvRetries);
  }
  return m;
}

/**
 * A profile with neither clientPin nor built-in UV never gets here: its dispatcher does not have the command
 * (served.ts), so it answers CTAP1_ERR_INVALID_COMMAND.
 */
export async function clientPin(h: HandlerContext, req: ClientPinRequest): Promise<ClientPinResponse> {
  const run = subcommandsOf(h).get(req.subCommand);
  // CTAP 2.1 §8.1: an unknown or unimplemented subcommand MUST give CTAP2_ERR_INVALID_SUBCOMMAND.
  if (!run) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_SUBCOMMAND, `clientPIN subcommand ${req.subCommand}`);
  return run(h, req);
}
