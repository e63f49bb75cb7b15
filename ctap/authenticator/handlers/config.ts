/**
 * authenticatorConfig (0x0D), CTAP 2.1 §6.11: enableEnterpriseAttestation, toggleAlwaysUv, setMinPINLength.
 * vendorPrototype and anything else → CTAP2_ERR_INVALID_SUBCOMMAND (no vendorPrototypeConfigCommands are
 * advertised). Decisions where the spec leaves room are marked "Decision:".
 */
import { concat } from '../../bytes.ts';
import type { CborMap } from '../../cbor.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { ConfigSubCommand as Sub, parseConfigRequest, parseSetMinPinLengthParams } from '../../messages/config.ts';
import { Permission, authorizeToken } from '../../pin/authorize.ts';
import { MAX_PIN_BYTES } from '../../pin/policy.ts';
import type { HandlerContext } from '../context.ts';
import { enterpriseAttestationCapable, setMinPinLengthSupported } from '../features.ts';
import { protectedByUv } from '../steps/userVerification.ts';

type SubHandler = (h: HandlerContext, params: CborMap | undefined) => Promise<void>;

/**
 * §6.11.1 enableEnterpriseAttestation: enable EA (idempotent). Decision (CHECKLIST B11.2 [V], OpenSK): a device
 * that is not EA-capable answers CTAP1_ERR_INVALID_PARAMETER, as makeCredential does for enterpriseAttestation.
 */
const enableEnterpriseAttestation: SubHandler = async (h) => {
  if (!enterpriseAttestationCapable(h.profile)) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, 'this device is not enterprise attestation capable');
  }
  if (!h.device.persistent.enterpriseAttestation) await h.device.commit({ ...h.device.persistent, enterpriseAttestation: true });
};

/** §6.11.2 toggleAlwaysUv: flip the alwaysUv option (persistent; authenticatorReset restores the profile's value). */
const toggleAlwaysUv: SubHandler = async (h) => {
  const s = h.device.persistent;
  await h.device.commit({ ...s, alwaysUv: !s.alwaysUv });
};

/**
 * §6.11.4 setMinPINLength. newMinPINLength absent = the current one; lower than the current one →
 * PIN_POLICY_VIOLATION; forceChangePin without a PIN → PIN_NOT_SET; a minimum above the current PIN's length
 * sets forcePINChange; minPinLengthRPIDs replaces the list. Everything is checked before one commit.
 */
const setMinPINLength: SubHandler = async (h, params) => {
  const p = parseSetMinPinLengthParams(params);
  const s = h.device.persistent;
  const newMin = p.newMinPINLength ?? s.minPinLength;
  if (newMin < s.minPinLength) {
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION, `the minimum PIN length cannot go below ${s.minPinLength}`);
  }
  // Decision: a minimum no PIN can meet (more code points than maxPINLength bytes) is a policy violation too.
  if (newMin > MAX_PIN_BYTES) {
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION, `the minimum PIN length cannot exceed ${MAX_PIN_BYTES}`);
  }
  const max = h.profile.maxRPIDsForSetMinPINLength ?? 0;
  // Decision (CHECKLIST B11.4 [V]; OpenSK): more RP IDs than maxRPIDsForSetMinPINLength → CTAP2_ERR_KEY_STORE_FULL.
  if (p.minPinLengthRPIDs !== undefined && p.minPinLengthRPIDs.length > max) {
    throw new CtapError(CtapStatus.CTAP2_ERR_KEY_STORE_FULL, `at most ${max} minPinLengthRPIDs are kept`);
  }
  if (p.forceChangePin === true && s.pin === undefined) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_NOT_SET, 'no PIN to change');
  const tooShort = s.pin !== undefined && newMin > s.pin.codePoints;
  await h.device.commit({
    ...s,
    minPinLength: newMin,
    forcePinChange: s.forcePinChange || p.forceChangePin === true || tooShort,
    ...(p.minPinLengthRPIDs !== undefined ? { minPinLengthRpIds: [...p.minPinLengthRPIDs] } : {}),
  });
};

function subcommand(h: HandlerContext, sub: number): SubHandler | undefined {
  if (sub === Sub.enableEnterpriseAttestation) return enableEnterpriseAttestation;
  if (sub === Sub.toggleAlwaysUv) return toggleAlwaysUv;
  if (sub === Sub.setMinPINLength && setMinPinLengthSupported(h.profile)) return setMinPINLength;
  return undefined;
}

/**
 * A profile without the feature never gets here: its dispatcher does not have the command (served.ts, features.ts
 * configSupported), so it answers CTAP1_ERR_INVALID_COMMAND.
 */
export async function config(h: HandlerContext, params: CborMap | undefined): Promise<void> {
  const req = parseConfigRequest(params);
  const run = subcommand(h, req.subCommand);
  // CTAP 2.1 §8.2 (CHECKLIST B11.5): an unknown or unimplemented subcommand (vendorPrototype included) →
  // CTAP2_ERR_INVALID_SUBCOMMAND.
  if (!run) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_SUBCOMMAND, `subCommand ${req.subCommand}`);
  // CTAP 2.1 §6.11 (CHECKLIST B11.1, G8): once the device is protected by some form of user verification, or
  // while alwaysUv is on, pinUvAuthParam = authenticate(pinUvAuthToken, 32×0xff || 0x0d || uint8(subCommand) ||
  // subCommandParams) with the acfg permission. Decision: this holds for toggleAlwaysUv too (OpenSK exempts it
  // from the alwaysUv condition); an unprotected device with alwaysUv off needs no token.
  if (protectedByUv(h) || h.device.persistent.alwaysUv) {
    authorizeToken(h, {
      protocol: req.pinUvAuthProtocol,
      param: req.pinUvAuthParam,
      message: concat(new Uint8Array(32).fill(0xff), new Uint8Array([0x0d, req.subCommand]), req.subCommandParamsCbor ?? new Uint8Array(0)),
      permission: Permission.acfg,
    });
  }
  await run(h, req.subCommandParams);
}
