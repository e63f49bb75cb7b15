/**
 * Interop: Yubico libfido2 1.12 (Debian libfido2-dev) PIN, built-in UV and fingerprint enrollment against
 * an in-process vfido device over UDP (test/interop/libfido2/driver_uv.c). libfido2 does the key
 * agreement, PIN encryption, pinUvAuthToken requests with permissions (vfido reports pinUvAuthToken) and
 * every pinUvAuthParam; its bio API speaks the preview command 0x40 (FIDO_2_1_PRE layout).
 * libfido2 result codes for device errors are the CTAP status bytes (FIDO_ERR_PIN_INVALID = 0x31, …).
 * Missing packages fail these tests: run `bash scripts/setup-system.sh`.
 */
import { describe, it } from 'vitest';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { EnrollSampleStatus } from '../../ctap/authenticator/env.ts';
import { libfido2Runner, requireChecks } from './helpers.ts';

const fido2 = libfido2Runner<'pin' | 'uv' | 'bio'>({ attestation: 'none' });

const OK = 0; // FIDO_OK
const {
  CTAP2_ERR_PIN_INVALID: PIN_INVALID,
  CTAP2_ERR_PIN_AUTH_INVALID: PIN_AUTH_INVALID,
  CTAP2_ERR_PIN_AUTH_BLOCKED: PIN_AUTH_BLOCKED,
  CTAP2_ERR_PUAT_REQUIRED: PUAT_REQUIRED,
  CTAP2_ERR_UV_INVALID: UV_INVALID,
  CTAP2_ERR_INVALID_OPTION: INVALID_OPTION,
} = CtapStatus;

describe.concurrent('libfido2 PIN / UV / bio over UDP', () => {
  /**
   * Spec: CTAP 2.1 §6.5.5.5 setPIN (a second setPIN → PIN_AUTH_INVALID), §6.5.5.6 changePIN, §6.5.5.7
   * tokens with permissions and RP ID, pinRetries and the 3-consecutive-mismatch block until power-up;
   * §6.1.2 / §6.2.2 pinUvAuthParam → UV flag, makeCredUvNotRqd.
   */
  it('fido_dev_set_pin, fido_dev_get_retry_count, make_cred / get_assert with a PIN, PIN_AUTH_BLOCKED until power cycle', async ({
    expect,
  }) => {
    const { d, r } = await fido2('pin', {});
    const max = d.profile.pin?.maxPinRetries;
    expect(max).toBe(8);
    const c = requireChecks(r, ['open', 'pin.set', 'pin.make_cred_get_assert', 'pin.without_pin', 'pin.wrong_once', 'pin.change', 'pin.soft_lockout']);
    expect(c.open).toEqual({ supportsPin: true, hasPin: false, supportsUv: false, hasUv: false, supportsPermissions: true });
    expect(c['pin.set']).toEqual({ pinRetries: max, setAgain: PIN_AUTH_INVALID });
    expect(c['pin.make_cred_get_assert']).toMatchObject({ flags: { up: true, uv: true, at: true }, assertionFlags: { up: true, uv: true } });
    expect(c['pin.without_pin']).toMatchObject({ rk: PUAT_REQUIRED, nonRkFlags: { up: true, uv: false } });
    expect(c['pin.wrong_once']).toEqual({ wrong: PIN_INVALID, pinRetriesAfterWrong: max! - 1, right: OK, pinRetriesAfterRight: max });
    expect(c['pin.change']).toEqual({ oldPin: PIN_INVALID, newPin: OK, pinRetries: max });
    expect(c['pin.soft_lockout']).toEqual({
      attempts: [PIN_INVALID, PIN_INVALID, PIN_AUTH_BLOCKED, PIN_AUTH_BLOCKED],
      pinRetriesBlocked: max! - 3,
      pinRetriesAfterPowerCycle: max! - 3,
      rightAfterPowerCycle: OK,
      pinRetriesAfterRight: max,
    });
  });

  /**
   * Spec: CTAP 2.1 §6.5.5.7.3 getPinUvAuthTokenUsingUvWithPermissions (libfido2 asks for it when uv is
   * FIDO_OPT_TRUE and no PIN is given): a mismatch → UV_INVALID and uvRetries - 1, a match restores
   * uvRetries; §6.5.5.3 getUVRetries; §6.4 uvModality / preferredPlatformUvAttempts.
   */
  it('built-in UV: make_cred / get_assert with uv and no PIN, fido_dev_get_uv_retry_count, UV_INVALID on mismatch', async ({ expect }) => {
    const { d, r } = await fido2('uv', {
      profile: 'ctap21-fingerprint',
      verification: {
        templates: [{ modality: 'fingerprint', name: 'right index' }],
        // make_cred, get_assert, then two mismatches and a match.
        fingerprint: { script: ['match', 'match', 'mismatch', 'mismatch', 'match'] },
      },
    });
    const uv = d.profile.uv!;
    const c = requireChecks(r, ['open', 'uv.info', 'uv.make_cred_get_assert', 'uv.mismatch_then_match']);
    expect(c.open).toMatchObject({ supportsUv: true, hasUv: true, supportsPermissions: true, hasPin: false });
    expect(c['uv.info']).toEqual({ uvModality: 0x02, preferredPlatformUvAttempts: uv.preferredPlatformUvAttempts, uvRetries: uv.maxUvRetries });
    expect(c['uv.make_cred_get_assert']).toMatchObject({ flags: { up: true, uv: true, at: true }, assertionFlags: { up: true, uv: true } });
    expect(c['uv.mismatch_then_match']).toMatchObject({
      attempts: [UV_INVALID, UV_INVALID, OK],
      uvRetries: [uv.maxUvRetries - 1, uv.maxUvRetries - 2, uv.maxUvRetries],
      assertionFlags: { up: true, uv: true },
    });
    expect(d.device.sensor?.attempts.map((a) => a.outcome)).toEqual(['match', 'match', 'mismatch', 'mismatch', 'match']);
  });

  /**
   * Spec: CTAP 2.1 §6.7 authenticatorBioEnrollment through libfido2's bio API (preview command 0x40):
   * getFingerprintSensorInfo, enrollBegin / enrollCaptureNextSample with scripted sample feedback,
   * enumerateEnrollments, setFriendlyName, removeEnrollment (then enumerate → INVALID_OPTION); the new
   * finger then serves built-in UV.
   */
  it('fido_bio_dev_*: enroll with scripted feedback, list, rename, UV with the new finger, remove', async ({ expect }) => {
    const { CTAP2_ENROLL_FEEDBACK_FP_GOOD: GOOD, CTAP2_ENROLL_FEEDBACK_FP_TOO_LOW: TOO_LOW, CTAP2_ENROLL_FEEDBACK_FP_TOO_FAST: TOO_FAST } =
      EnrollSampleStatus;
    const samples = [GOOD, TOO_LOW, GOOD, TOO_FAST, GOOD, GOOD];
    const { d, r } = await fido2('bio', { profile: 'ctap21-fingerprint', verification: { enrollSamples: samples } });
    const fp = d.profile.uv?.fingerprint;
    if (!fp) throw new Error(`profile ${d.profile.name} has no fingerprint sensor`);
    const c = requireChecks(r, ['open', 'bio.info', 'bio.enroll', 'bio.templates_set_name', 'bio.uv', 'bio.remove']);
    expect(c.open).toMatchObject({ supportsUv: true, hasUv: false });
    expect(c['bio.info']).toEqual({ type: fp.kind, maxSamples: fp.maxCaptureSamplesRequiredForEnroll });
    let left = fp.maxCaptureSamplesRequiredForEnroll;
    const remaining = samples.map((s) => (s === GOOD ? --left : left));
    expect(c['bio.enroll']).toMatchObject({ statuses: samples, remaining });
    const id = c['bio.enroll']!.templateId as string;
    expect(c['bio.templates_set_name']!.before).toEqual([expect.objectContaining({ id })]);
    expect(c['bio.templates_set_name']!.after).toEqual([{ id, name: 'right index' }]);
    expect(c['bio.uv']).toMatchObject({ hasUv: true, flags: { up: true, uv: true, at: true }, assertionFlags: { up: true, uv: true } });
    expect(c['bio.remove']).toEqual({ templateArray: INVALID_OPTION, after: [], hasUvAfter: false });
  });
});
