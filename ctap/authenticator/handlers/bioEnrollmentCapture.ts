/**
 * authenticatorBioEnrollment fingerprint enrollment (CTAP 2.1 §6.7.5, §6.7.6): enrollBegin,
 * enrollCaptureNextSample and cancelCurrentEnrollment. The enrollment in progress is volatile
 * (DeviceState.enrollment); samples come from the UserVerification port. Dispatch and authentication are
 * in bioEnrollment.ts.
 */
import { equal } from '../../bytes.ts';
import { KeepaliveStatus } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError, cancelled, isCtapError } from '../../errors.ts';
import type { BioEnrollmentResponse, BioSubCommandParams } from '../../messages/bioEnrollment.ts';
import { missing } from '../../messages/fields.ts';
import type { HandlerContext } from '../context.ts';
import type { EnrollmentInProgress } from '../deviceState.ts';
import { EnrollSampleStatus, type EnrollSampleResult } from '../env.ts';
import type { ProfileUv } from '../profile.ts';
import { hasTemplateRoom, nextTemplateId, storeTemplate } from '../templates.ts';

/** One subcommand: its parameters, and the profile's fingerprint sensor description. */
export type BioSubCommandHandler = (
  h: HandlerContext,
  p: BioSubCommandParams,
  fp: NonNullable<ProfileUv['fingerprint']>,
) => Promise<BioEnrollmentResponse>;

/** Ask the sensor for one enrollment sample, with UPNEEDED keepalive while the user is expected to touch. */
async function captureSample(
  h: HandlerContext,
  templateId: Uint8Array,
  timeoutMs: number | undefined,
): Promise<{ status: number }> {
  const sensor = h.env.verification;
  if (!sensor) throw new Error('the profile has a fingerprint sensor but the Env has no verification port');
  const { signal } = h.request;
  if (signal.aborted) throw cancelled();
  h.request.keepalive(KeepaliveStatus.UPNEEDED);
  let result: EnrollSampleResult;
  try {
    result = await sensor.captureEnrollSample({
      modality: 'fingerprint',
      templateId,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw cancelled();
    if (isCtapError(e)) throw e;
    throw new Error('user verification port failed during bioEnrollment', { cause: e });
  } finally {
    h.request.keepalive(KeepaliveStatus.PROCESSING);
  }
  // CTAP 2.1 §11.2.9.1.5: a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL.
  if (signal.aborted) throw cancelled();
  // Decision (CHECKLIST B7.4, vendors differ): no finger before the timeout is CTAP2_ERR_USER_ACTION_TIMEOUT;
  // a sensor that reports it as a sample status (NO_USER_ACTIVITY, 0x0D) is scripted as that status instead.
  if ('result' in result) throw new CtapError(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT, 'no finger on the sensor in time');
  return result;
}

/**
 * CTAP 2.1 §6.7 (CHECKLIST B7.3): lastEnrollSampleStatus is feedback inside a successful response; only a
 * good sample counts towards remainingSamples. At 0 the template is stored (persisted, without a name).
 */
async function applySample(h: HandlerContext, e: EnrollmentInProgress, status: number): Promise<BioEnrollmentResponse> {
  if (status === EnrollSampleStatus.CTAP2_ENROLL_FEEDBACK_FP_GOOD) e.remainingSamples -= 1;
  if (e.remainingSamples === 0) {
    h.device.enrollment = undefined;
    // Templates may have been seeded directly (control API) since enrollBegin checked the room.
    if (!hasTemplateRoom(h.profile, h.device.persistent)) {
      throw new CtapError(CtapStatus.CTAP2_ERR_FP_DATABASE_FULL, 'no room left for the new template');
    }
    await storeTemplate(h.device, { id: e.templateId.slice(), modality: 'fingerprint' });
  }
  return { lastEnrollSampleStatus: status, remainingSamples: e.remainingSamples };
}

export const enrollBegin: BioSubCommandHandler = async (h, p, fp) => {
  // CTAP 2.1 §6.7.5: "Authenticator cancels any unfinished ongoing enrollment."
  h.device.enrollment = undefined;
  // CTAP 2.1 §8.2: CTAP2_ERR_FP_DATABASE_FULL, "fingerprint database is full, e.g., during enrollment".
  if (!hasTemplateRoom(h.profile, h.device.persistent)) {
    throw new CtapError(CtapStatus.CTAP2_ERR_FP_DATABASE_FULL, `${h.profile.uv?.templateCapacity} templates stored`);
  }
  const e: EnrollmentInProgress = { templateId: nextTemplateId(h.device), remainingSamples: fp.maxCaptureSamplesRequiredForEnroll };
  // A first sample that never comes (timeout, cancel) leaves no enrollment: the platform never saw the ID.
  const sample = await captureSample(h, e.templateId, p.timeoutMilliseconds);
  h.device.enrollment = e;
  return { templateId: e.templateId.slice(), ...(await applySample(h, e, sample.status)) };
};

export const enrollCaptureNextSample: BioSubCommandHandler = async (h, p) => {
  if (p.templateId === undefined) throw missing('subCommandParams.templateId');
  const e = h.device.enrollment;
  // Decision (CHECKLIST B7 [V]): a templateId that is not the enrollment in progress → INVALID_PARAMETER.
  if (!e || !equal(e.templateId, p.templateId)) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, 'templateId is not the enrollment in progress');
  }
  // A timed-out sample leaves the enrollment in progress: the platform may ask for the next sample again.
  const sample = await captureSample(h, e.templateId, p.timeoutMilliseconds);
  return applySample(h, e, sample.status);
};

export const cancelCurrentEnrollment: BioSubCommandHandler = async (h) => {
  // Decision: nothing in progress is not an error (the platform may cancel defensively).
  h.device.enrollment = undefined;
  return {};
};

