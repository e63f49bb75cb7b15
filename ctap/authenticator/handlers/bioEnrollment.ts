/**
 * authenticatorBioEnrollment (0x09) and its prototype alias (0x40), CTAP 2.1 §6.7 / §6.12: fingerprint
 * templates. This file: request checks, authentication, sensor info, enumerate / rename / remove; enrolling
 * is in bioEnrollmentCapture.ts. Decisions where the spec leaves room are marked "Decision:".
 */
import { concat, equal } from '../../bytes.ts';
import type { CborMap } from '../../cbor.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import {
  BioModality,
  BioSubCommand,
  parseBioEnrollmentRequest,
  type BioEnrollmentResponse,
} from '../../messages/bioEnrollment.ts';
import { missing } from '../../messages/fields.ts';
import { Permission, authorizeToken } from '../../pin/authorize.ts';
import type { HandlerContext } from '../context.ts';
import { fingerprintSensor } from '../features.ts';
import { friendlyNameFits, templatesOf } from '../templates.ts';
import {
  cancelCurrentEnrollment,
  enrollBegin,
  enrollCaptureNextSample,
  type BioSubCommandHandler,
} from './bioEnrollmentCapture.ts';

type Sub = BioSubCommandHandler;

const enumerateEnrollments: Sub = async (h) => {
  const fps = templatesOf(h.device.persistent, 'fingerprint');
  // CHECKLIST B7 [C]: nothing enrolled → CTAP2_ERR_INVALID_OPTION (python-fido2 reads it as "no templates").
  if (fps.length === 0) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, 'no fingerprint enrolled');
  // Decision (interop): an unnamed template is listed with an empty templateFriendlyName. The member is
  // optional in CTAP 2.1, but python-fido2 0.9.1 (Debian's) reads it unconditionally.
  return { templateInfos: fps.map((t) => ({ templateId: t.id.slice(), templateFriendlyName: t.friendlyName ?? '' })) };
};

function findFingerprint(h: HandlerContext, id: Uint8Array | undefined): Uint8Array {
  if (id === undefined) throw missing('subCommandParams.templateId');
  const t = templatesOf(h.device.persistent, 'fingerprint').find((x) => equal(x.id, id));
  // CHECKLIST B7 [C]: an unknown templateId → CTAP2_ERR_INVALID_OPTION.
  if (!t) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, 'no enrolled fingerprint has this templateId');
  return t.id;
}

const setFriendlyName: Sub = async (h, p, fp) => {
  if (p.templateId === undefined) throw missing('subCommandParams.templateId');
  if (p.templateFriendlyName === undefined) throw missing('subCommandParams.templateFriendlyName');
  const id = findFingerprint(h, p.templateId);
  // CTAP 2.1 §6.7 (CHECKLIST B7, "e.g."): longer than maxTemplateFriendlyName bytes → CTAP1_ERR_INVALID_LENGTH.
  if (!friendlyNameFits(h.profile, p.templateFriendlyName)) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_LENGTH, `templateFriendlyName exceeds ${fp.maxTemplateFriendlyName} bytes`);
  }
  const s = h.device.persistent;
  const name = p.templateFriendlyName;
  await h.device.commit({ ...s, templates: s.templates.map((t) => (equal(t.id, id) ? { ...t, friendlyName: name } : t)) });
  return {};
};

const removeEnrollment: Sub = async (h, p) => {
  const id = findFingerprint(h, p.templateId);
  const s = h.device.persistent;
  await h.device.commit({ ...s, templates: s.templates.filter((t) => !equal(t.id, id)) });
  return {};
};

const getFingerprintSensorInfo: Sub = async (_h, _p, fp) => ({
  modality: BioModality.fingerprint,
  fingerprintKind: fp.kind,
  maxCaptureSamplesRequiredForEnroll: fp.maxCaptureSamplesRequiredForEnroll,
  maxTemplateFriendlyName: fp.maxTemplateFriendlyName,
});

/** Subcommand table: `auth` = needs a pinUvAuthToken with the be permission (CHECKLIST B7). */
const SUBCOMMANDS = new Map<number, { run: Sub; auth: boolean }>([
  [BioSubCommand.enrollBegin, { run: enrollBegin, auth: true }],
  [BioSubCommand.enrollCaptureNextSample, { run: enrollCaptureNextSample, auth: true }],
  [BioSubCommand.cancelCurrentEnrollment, { run: cancelCurrentEnrollment, auth: false }],
  [BioSubCommand.enumerateEnrollments, { run: enumerateEnrollments, auth: true }],
  [BioSubCommand.setFriendlyName, { run: setFriendlyName, auth: true }],
  [BioSubCommand.removeEnrollment, { run: removeEnrollment, auth: true }],
  [BioSubCommand.getFingerprintSensorInfo, { run: getFingerprintSensorInfo, auth: false }],
]);

export async function bioEnrollment(h: HandlerContext, params: CborMap | undefined): Promise<BioEnrollmentResponse> {
  // A profile without a fingerprint sensor never gets here: its dispatcher does not have the command (served.ts),
  // so it answers CTAP1_ERR_INVALID_COMMAND whatever the parameters.
  const fp = fingerprintSensor(h.profile);
  if (!fp) throw new Error(`authenticatorBioEnrollment dispatched on profile ${h.profile.name}, which has no fingerprint sensor`);
  const req = parseBioEnrollmentRequest(params);
  // CTAP 2.1 §6.7.3 (CHECKLIST B7.1): getModality needs neither subcommand nor authentication.
  if (req.getModality === true) return { modality: BioModality.fingerprint };
  if (req.subCommand === undefined) throw missing('subCommand');
  if (req.modality === undefined) throw missing('modality');
  // Decision: a modality other than fingerprint (the only one CTAP 2.1 defines, CHECKLIST B7.5) is an
  // invalid parameter value, as an unsupported pinUvAuthProtocol is.
  if (req.modality !== BioModality.fingerprint) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, `modality ${req.modality} is not supported`);
  }
  const sub = SUBCOMMANDS.get(req.subCommand);
  // CTAP 2.1 §8.2 / CHECKLIST B5.1: an unknown subcommand → CTAP2_ERR_INVALID_SUBCOMMAND.
  if (!sub) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_SUBCOMMAND, `subCommand ${req.subCommand}`);
  if (sub.auth) {
    // CTAP 2.1 §6.7 (CHECKLIST B7.2): pinUvAuthParam = authenticate(pinUvAuthToken,
    // modality || subCommand || CBOR(subCommandParams)), with the be permission.
    const message = concat(new Uint8Array([req.modality, req.subCommand]), req.subCommandParamsCbor ?? new Uint8Array(0));
    authorizeToken(h, {
      protocol: req.pinUvAuthProtocol,
      param: req.pinUvAuthParam,
      message,
      permission: Permission.be,
    });
  }
  return sub.run(h, req.subCommandParams ?? {}, fp);
}
