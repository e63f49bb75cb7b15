/**
 * Interop: python-fido2 0.9.1 (Debian python3-fido2) PIN, pinUvAuthToken and fingerprint enrollment against
 * an in-process vfido device over UDP. python-fido2's ClientPin with an explicit PinProtocolV1 / V2 does the
 * key agreement, encrypts the PIN and computes every pinUvAuthParam, so the device must agree with an
 * independent implementation byte for byte (test/interop/python/{client_pin,pin_lockout,bio_enroll}.py).
 * Each test starts its own device, so tests run concurrently.
 * Missing packages fail these tests: run `bash scripts/setup-system.sh`.
 */
import { describe, it } from 'vitest';
import { EnrollSampleStatus } from '../../ctap/authenticator/env.ts';
import { python, requireChecks, withPythonDevice as withDevice, type InteropDevice } from './helpers.ts';

const PROTOCOLS = [1, 2] as const;

function pinLimits(d: InteropDevice) {
  const pin = d.profile.pin;
  if (!pin) throw new Error(`profile ${d.profile.name} has no clientPIN support`);
  return pin;
}

/** getPINRetries powerCycleState when no power cycle is needed: false, or absent (null in the report). */
const NO_POWER_CYCLE_NEEDED = [false, null];

describe.concurrent('python-fido2 clientPIN over UDP', () => {
  /**
   * Spec: CTAP 2.1 §6.5.5.5 setPIN, §6.5.5.6 changePIN, §6.5.5.7 getPinToken /
   * getPinUvAuthTokenUsingPinWithPermissions, §6.5.2.1 (one token authorises one mc/ga, for its RP and
   * permissions), §6.1.2 / §6.2.2 pinUvAuthParam = authenticate(token, clientDataHash) → UV flag;
   * §6.1.2 makeCredUvNotRqd (rk still needs UV: PUAT_REQUIRED).
   */
  it.for(PROTOCOLS)('protocol %i: setPIN, tokens, makeCredential/getAssertion with pinUvAuthParam, changePIN', async (protocol, { expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const max = pinLimits(d).maxPinRetries;
      const r = await python('client_pin', d, '--protocol', String(protocol));
      const c = requireChecks(r, [
        'pin.info',
        'pin.set_pin',
        'pin.token',
        'pin.make_credential_get_assertion',
        'pin.token_single_use',
        'pin.token_scope',
        'pin.uv_requirement',
        'pin.legacy_token',
        'pin.wrong_pin_once',
        'pin.client',
        'pin.change_pin',
      ]);
      expect(c['pin.info']).toMatchObject({
        clientPin: false,
        pinUvAuthToken: true,
        pinUvAuthProtocols: pinLimits(d).protocols,
        minPinLength: pinLimits(d).minPinLength,
        protocolUsed: protocol,
      });
      expect(c['pin.set_pin']).toMatchObject({ tokenBeforeSetPin: 'PIN_NOT_SET', pinRetries: max, setPinAgain: 'PIN_AUTH_INVALID' });
      expect(NO_POWER_CYCLE_NEEDED).toContain(c['pin.set_pin']!.powerCycleState);
      // CTAP 2.1 §6.5.2.1: the token is 32 random bytes for both protocols.
      expect(c['pin.token']).toEqual({ tokenLength: 32 });
      expect(c['pin.make_credential_get_assertion']).toMatchObject({
        flags: { up: true, uv: true, at: true },
        assertionFlags: { up: true, uv: true, at: false },
        // CTAP 2.1 §6.2.2: user name and displayName only after user verification.
        user: { name: 'pat', displayName: 'Pat' },
      });
      expect(c['pin.token_single_use']).toEqual({ first: 'OK', second: 'PIN_AUTH_INVALID' });
      expect(c['pin.token_scope']).toEqual({
        otherRp: 'PIN_AUTH_INVALID',
        withoutMcPermission: 'PIN_AUTH_INVALID',
        macOverOtherHash: 'PIN_AUTH_INVALID',
      });
      expect(c['pin.uv_requirement']).toMatchObject({
        rkWithoutUv: 'PUAT_REQUIRED',
        nonRkFlags: { up: true, uv: false },
        assertionFlags: { up: true, uv: false },
      });
      expect(c['pin.legacy_token']).toMatchObject({ tokenLength: 32, flags: { uv: true } });
      expect(c['pin.wrong_pin_once']).toMatchObject({ wrong: 'PIN_INVALID', pinRetriesAfterWrong: max - 1, pinRetriesAfterRight: max });
      expect(NO_POWER_CYCLE_NEEDED).toContain(c['pin.wrong_pin_once']!.powerCycleStateAfterWrong);
      expect(c['pin.client']).toMatchObject({ protocol, flags: { up: true, uv: true }, assertionFlags: { up: true, uv: true } });
      expect(c['pin.change_pin']).toEqual({ wrongOldPin: 'PIN_INVALID', oldPinAfterChange: 'PIN_INVALID', newPin: 'OK', pinRetries: max });
    });
  });

  /**
   * Spec: CTAP 2.1 §6.5.5.7 — pinRetries is decremented before each comparison; the 3rd consecutive
   * mismatch in one power cycle → PIN_AUTH_BLOCKED, and every PIN attempt (even the right PIN) gets
   * PIN_AUTH_BLOCKED without costing a retry until the next power-up; getPINRetries reports powerCycleState.
   */
  it.for(PROTOCOLS)('protocol %i: 3 wrong PINs → PIN_AUTH_BLOCKED until the power-cycle datagram', async (protocol, { expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const max = pinLimits(d).maxPinRetries;
      const r = await python('pin_lockout', d, '--protocol', String(protocol), '--mode', 'soft');
      const c = requireChecks(r, ['lockout.setup', 'lockout.soft_block', 'lockout.after_power_cycle']);
      expect(c['lockout.setup']!.pinRetries).toBe(max);
      expect(c['lockout.soft_block']).toEqual({
        attempts: ['PIN_INVALID', 'PIN_INVALID', 'PIN_AUTH_BLOCKED'],
        afterThree: { pinRetries: max - 3, powerCycleState: true },
        rightPin: 'PIN_AUTH_BLOCKED',
        fourthWrong: 'PIN_AUTH_BLOCKED',
        after: { pinRetries: max - 3, powerCycleState: true },
      });
      const after = c['lockout.after_power_cycle']!;
      expect(after).toMatchObject({ beforeRightPin: { pinRetries: max - 3 }, rightPin: 'OK', after: { pinRetries: max } });
      expect(NO_POWER_CYCLE_NEEDED).toContain((after.beforeRightPin as Record<string, unknown>).powerCycleState);
    });
  });

  /**
   * Spec: CTAP 2.1 §6.5.5.7 — pinRetries reaching 0 → PIN_BLOCKED on every PIN path, across power cycles;
   * §6.6 authenticatorReset (within the reset window after power-up) removes the PIN and restores
   * pinRetries.
   */
  it.for(PROTOCOLS)('protocol %i: 8 wrong PINs → PIN_BLOCKED, kept across power cycles, cleared only by reset', async (protocol, { expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const max = pinLimits(d).maxPinRetries;
      expect(max).toBe(8);
      const r = await python('pin_lockout', d, '--protocol', String(protocol), '--mode', 'blocked');
      const c = requireChecks(r, ['lockout.setup', 'lockout.hard_block', 'lockout.blocked_after_power_cycle', 'lockout.reset_clears']);
      const blocked = ['PIN_INVALID', 'PIN_INVALID', 'PIN_AUTH_BLOCKED'];
      expect(c['lockout.hard_block']).toMatchObject({
        rounds: [
          { attempts: blocked, after: { pinRetries: 5, powerCycleState: true } },
          { attempts: blocked, after: { pinRetries: 2, powerCycleState: true } },
          // The 8th mismatch takes the last retry: PIN_BLOCKED, not PIN_AUTH_BLOCKED.
          { attempts: ['PIN_INVALID', 'PIN_BLOCKED'], after: { pinRetries: 0 } },
        ],
        rightPin: 'PIN_BLOCKED',
        changePin: 'PIN_BLOCKED',
      });
      expect(c['lockout.blocked_after_power_cycle']).toMatchObject({
        retries: { pinRetries: 0 },
        rightPin: 'PIN_BLOCKED',
        // The PIN is still set (only blocked): a discoverable credential still needs a pinUvAuthToken.
        makeCredentialRkWithoutPin: 'PUAT_REQUIRED',
      });
      expect(c['lockout.reset_clears']).toMatchObject({
        clientPinAfterReset: false,
        tokenAfterReset: 'PIN_NOT_SET',
        afterReset: { pinRetries: max },
        newPin: 'OK',
      });
    });
  });
});

describe.concurrent('python-fido2 bioEnrollment over UDP', () => {
  const { CTAP2_ENROLL_FEEDBACK_FP_GOOD: GOOD, CTAP2_ENROLL_FEEDBACK_FP_TOO_HIGH: TOO_HIGH, CTAP2_ENROLL_FEEDBACK_FP_POOR_QUALITY: POOR_QUALITY } =
    EnrollSampleStatus;
  const samples = [TOO_HIGH, GOOD, POOR_QUALITY, GOOD, GOOD, GOOD];

  /**
   * Spec: CTAP 2.1 §6.7 authenticatorBioEnrollment (fingerprint): getFingerprintSensorInfo, enrollBegin /
   * enrollCaptureNextSample (lastEnrollSampleStatus inside a successful response; a bad sample leaves
   * remainingSamples unchanged), enumerateEnrollments (none → INVALID_OPTION), setFriendlyName,
   * removeEnrollment, pinUvAuthParam over modality || subCommand || subCommandParams with a `be` token;
   * §6.4 getInfo uv / bioEnroll follow the enrolled templates; §6.5.5.7.3 getPinUvAuthTokenUsingUv.
   */
  it.for(PROTOCOLS)('protocol %i: enroll with scripted sample feedback, name, built-in UV, remove', async (protocol, { expect }) => {
    await withDevice({ attestation: 'none', profile: 'ctap21-fingerprint', verification: { enrollSamples: samples } }, async (d) => {
      const uv = d.profile.uv;
      const fp = uv?.fingerprint;
      if (!uv || !fp) throw new Error(`profile ${d.profile.name} has no fingerprint sensor`);
      const r = await python('bio_enroll', d, '--protocol', String(protocol));
      const c = requireChecks(r, [
        'bio.info_before',
        'bio.sensor_info',
        'bio.set_pin',
        'bio.enroll',
        'bio.enumerate_set_name',
        'bio.info_enrolled',
        'bio.uv_option',
        'bio.uv_token',
        'bio.client',
        'bio.remove',
      ]);
      // The preview command 0x40 is served too (libfido2 uses it): FIDO_2_1_PRE and userVerificationMgmtPreview.
      expect(c['bio.info_before']).toMatchObject({
        options: { clientPin: false, pinUvAuthToken: true, uv: false, bioEnroll: false, userVerificationMgmtPreview: false },
        uvModality: 0x02, // FIDO registry USER_VERIFY_FINGERPRINT_INTERNAL
      });
      expect(c['bio.info_before']!.versions).toEqual(expect.arrayContaining(['FIDO_2_1', 'FIDO_2_1_PRE']));
      expect(c['bio.sensor_info']).toMatchObject({
        modality: 1,
        sensorInfo: { '2': fp.kind, '3': fp.maxCaptureSamplesRequiredForEnroll },
      });
      expect(c['bio.set_pin']).toEqual({ enumerateEmpty: 'INVALID_OPTION', pythonEnumerate: {} });

      // The feedback python-fido2 reported is the scripted samples; remainingSamples only drops on good ones.
      let left = fp.maxCaptureSamplesRequiredForEnroll;
      const remaining = samples.map((s) => (s === GOOD ? --left : left));
      expect(left).toBe(0);
      expect(c['bio.enroll']).toMatchObject({ feedback: samples, remaining });
      expect(d.device.sensor?.enrollCaptures.map((e) => e.sample)).toEqual(samples);

      expect(c['bio.enumerate_set_name']).toMatchObject({ nameAfter: 'left thumb', tokenWithoutBe: 'PIN_AUTH_INVALID' });
      expect(c['bio.info_enrolled']).toMatchObject({ options: { uv: true, bioEnroll: true, userVerificationMgmtPreview: true } });
      expect(c['bio.uv_option']).toMatchObject({ flags: { up: true, uv: true, at: true }, assertionFlags: { up: true, uv: true } });
      expect(c['bio.uv_token']).toMatchObject({ uvRetriesBefore: uv.maxUvRetries, uvRetriesAfter: uv.maxUvRetries, tokenLength: 32 });
      expect(c['bio.client']).toMatchObject({ flags: { uv: true }, assertionFlags: { uv: true } });
      expect(c['bio.remove']).toMatchObject({
        enumerateAfter: 'INVALID_OPTION',
        options: { uv: false, bioEnroll: false, userVerificationMgmtPreview: false },
        uvOptionAfter: 'INVALID_OPTION',
        removeAgain: 'INVALID_OPTION',
      });
      // Every built-in UV above went to the sensor and matched.
      const attempts = d.device.sensor?.attempts ?? [];
      expect(attempts.length).toBeGreaterThanOrEqual(6);
      expect(attempts.every((a) => a.modality === 'fingerprint' && a.outcome === 'match')).toBe(true);
    });
  });
});
