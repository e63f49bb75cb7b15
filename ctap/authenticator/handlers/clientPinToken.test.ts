/**
 * getPinUvAuthTokenUsingUvWithPermissions (0x06) and getUVRetries (0x07), CTAP 2.1 §6.5.5.7.3, with the simulated
 * fingerprint / face sensor (test env `sensor`).
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { faceProfile, fingerprintProfile, type Profile } from '../profile.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { SensorOptions } from '../../../src/env/verification.ts';
import { createTestEnv, ctapCall, getAssertionParams, makeCredentialParams } from '../../../test/helpers/testEnv.ts';
import { parseAuthData } from '../../../test/helpers/webauthn.ts';
import { PinClient, Perm, type ClientPinCall } from '../../../test/helpers/pinClient.ts';

async function setup(o: { profile?: Profile; sensor?: SensorOptions; enroll?: boolean } = {}) {
  const profile = o.profile ?? fingerprintProfile;
  const t = createTestEnv({ sensor: o.sensor ?? {} });
  const auth = await createAuthenticator({ env: t.env, profile });
  if (o.enroll !== false) await auth.enrollTemplate({ modality: profile.uv!.modalities[0]! });
  const call: ClientPinCall = (params) => ctapCall(auth, CtapCommand.authenticatorClientPIN, params);
  return { t, auth, c: new PinClient(call, 2), sensor: t.sensor! };
}

describe('getPinUvAuthTokenUsingUvWithPermissions (CTAP 2.1 §6.5.5.7.3)', () => {
  it('a match issues a token with the UP flag: makeCredential with it needs no touch and gets UP|UV', async () => {
    const { t, auth, c, sensor } = await setup();
    const token = await c.tokenOrThrow({ permissions: Perm.mc, rpId: 'example.com' });
    expect(sensor.attempts.map((a) => [a.command, a.modality, a.outcome])).toEqual([['clientPIN', 'fingerprint', 'match']]);
    const cdh = new Uint8Array(32).fill(1);
    const r = await ctapCall(
      auth,
      CtapCommand.authenticatorMakeCredential,
      makeCredentialParams({ clientDataHash: cdh, extra: [[8, c.param(token, cdh)], [9, 2]] }),
    );
    expect(r.status).toBe(0);
    expect(parseAuthData(r.body!.get(2) as Uint8Array).flags & 0x05).toBe(0x05);
    expect(t.presence.requests).toHaveLength(0);
  });

  it('face works the same way (ctap21-face)', async () => {
    const { c, sensor } = await setup({ profile: faceProfile });
    expect((await c.token({ permissions: Perm.ga })).status).toBe(0);
    expect(sensor.attempts[0]?.modality).toBe('face');
  });

  it('no template enrolled → NOT_ALLOWED, before the sensor is asked', async () => {
    const { c, sensor } = await setup({ enroll: false });
    expect((await c.token({ permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    expect(sensor.attempts).toHaveLength(0);
  });

  it('a mismatch → UV_INVALID with one uvRetry less (preferredPlatformUvAttempts 3 > 1: no internal retry)', async () => {
    const { c, sensor } = await setup({ sensor: { fingerprint: { policy: 'mismatch' } } });
    expect((await c.token({ permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_UV_INVALID);
    expect(sensor.attempts).toHaveLength(1);
    expect(await c.uvRetries()).toBe(4);
  });

  it('uvRetries runs out → UV_BLOCKED, then UV_BLOCKED at once without asking the sensor', async () => {
    const { c, sensor } = await setup({ sensor: { fingerprint: { policy: 'mismatch' } } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await c.token({ permissions: Perm.mc })).status);
    expect(statuses).toEqual([
      ...Array(4).fill(CtapStatus.CTAP2_ERR_UV_INVALID),
      CtapStatus.CTAP2_ERR_UV_BLOCKED,
      CtapStatus.CTAP2_ERR_UV_BLOCKED,
    ]);
    expect(sensor.attempts).toHaveLength(5);
    expect(await c.uvRetries()).toBe(0);
  });

  it('no finger in time → USER_ACTION_TIMEOUT; a sensor error → UV_INVALID; neither costs a retry', async () => {
    const { c, sensor } = await setup({ sensor: { fingerprint: { script: ['no-sample', 'sensor-error'] } } });
    expect((await c.token({ permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT);
    expect((await c.token({ permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_UV_INVALID);
    expect(await c.uvRetries()).toBe(5);
    expect(sensor.attempts).toHaveLength(2);
  });

  it('permissions: 0 → INVALID_PARAMETER; be with UV → UNAUTHORIZED_PERMISSION (no uvBioEnroll); mc|ga without a PIN', async () => {
    const { c, auth } = await setup();
    expect(auth.info().options.clientPin).toBe(false);
    expect((await c.token({ permissions: 0 })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    expect((await c.token({ permissions: Perm.be })).status).toBe(CtapStatus.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
    expect((await c.token({ permissions: Perm.mc | Perm.ga })).status).toBe(0);
  });

  it('the rpId binds the token: getAssertion for another RP → PIN_AUTH_INVALID', async () => {
    const { auth, c } = await setup();
    await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ rpId: 'b.example', options: { rk: true } }));
    const token = await c.tokenOrThrow({ permissions: Perm.ga, rpId: 'a.example' });
    const cdh = new Uint8Array(32).fill(9);
    const ga = (rpId: string) =>
      ctapCall(auth, CtapCommand.authenticatorGetAssertion, getAssertionParams({ rpId, clientDataHash: cdh, extra: [[6, c.param(token, cdh)], [7, 2]] }));
    expect((await ga('b.example')).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });
});
