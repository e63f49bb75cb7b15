/**
 * authenticatorConfig (CTAP 2.1 §6.11) through the dispatcher: acfg authentication (message 32×0xff || 0x0d ||
 * subCommand || subCommandParams, built in test/helpers/management.ts), toggleAlwaysUv, setMinPINLength,
 * enableEnterpriseAttestation, and what authenticatorReset restores.
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, fingerprintProfile, pinlessProfile, type Profile } from '../profile.ts';
import { decodeState } from '../state.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import { createTestEnv, ctapCall, makeCredentialParams } from '../../../test/helpers/testEnv.ts';
import { Perm, PinClient, authenticate } from '../../../test/helpers/pinClient.ts';
import { ConfigSub, ManagementClient, type Auth, type CborCall } from '../../../test/helpers/management.ts';

const PIN = '1234';
const S = CtapStatus;

async function setup(profile: Profile = defaultProfile) {
  const t = createTestEnv({ seed: 'config', sensor: profile.uv ? {} : undefined });
  const auth = await createAuthenticator({ env: t.env, profile });
  const call: CborCall = async (cmd, params) => {
    const r = await ctapCall(auth, cmd, params);
    return { status: r.status, body: r.body };
  };
  const pin = new PinClient((p) => call(CtapCommand.authenticatorClientPIN, p), 2);
  const m = new ManagementClient(call);
  const acfg = async (permissions: number = Perm.acfg): Promise<Auth> => ({ pin, token: await pin.tokenOrThrow({ pin: PIN, permissions }) });
  const state = () => decodeState(t.store.snapshot()!);
  return { t, auth, call, pin, m, acfg, state };
}

const minPinParams = (entries: [number, unknown][]) => new Map<number, unknown>(entries);

describe('authenticatorConfig (CTAP 2.1 §6.11)', () => {
  /** Spec: §6.11.2 toggleAlwaysUv; §6.4 alwaysUv true → makeCredUvNotRqd false. Decision: alwaysUv on needs a token. */
  it('toggleAlwaysUv on an unprotected device needs no token; once on, the device asks for one', async () => {
    const { auth, m, state } = await setup();
    expect(auth.info().options).toMatchObject({ alwaysUv: false, makeCredUvNotRqd: true, authnrCfg: true });
    expect(await m.config(ConfigSub.toggleAlwaysUv)).toEqual({ status: 0, body: undefined });
    expect(state().alwaysUv).toBe(true);
    expect(auth.info().options).toMatchObject({ alwaysUv: true, makeCredUvNotRqd: false });
    // alwaysUv now applies to makeCredential (CTAP 2.1 §6.1.2 step 6: not protected → PUAT_REQUIRED) …
    expect((await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams())).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
    // … and to authenticatorConfig itself.
    expect((await m.config(ConfigSub.toggleAlwaysUv)).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
  });

  /** Spec: §6.11 authentication — PUAT_REQUIRED, MISSING_PARAMETER, PIN_AUTH_INVALID (acfg, MAC). */
  it('with a PIN every subcommand needs an acfg token over 32×0xff || 0x0d || subCommand || params', async () => {
    const { call, pin, m, acfg, state } = await setup();
    expect(await pin.setPin(PIN)).toBe(0);
    expect((await m.config(ConfigSub.toggleAlwaysUv)).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
    expect((await call(0x0d, new Map<number, unknown>([[1, 2], [4, new Uint8Array(32)]]))).status).toBe(S.CTAP2_ERR_MISSING_PARAMETER);
    expect((await m.config(ConfigSub.toggleAlwaysUv, { auth: await acfg(Perm.cm) })).status).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    const good = await acfg();
    // The MAC over the subcommand alone (without the 32 × 0xff prefix and 0x0d) does not verify.
    const bare = await call(0x0d, new Map<number, unknown>([[1, 2], [3, 2], [4, authenticate(2, good.token, new Uint8Array([2]))]]));
    expect(bare.status).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await m.config(ConfigSub.toggleAlwaysUv, { auth: good })).status).toBe(0);
    expect(state().alwaysUv).toBe(true);
    expect((await m.config(ConfigSub.toggleAlwaysUv, { auth: good })).status).toBe(0);
    expect(state().alwaysUv).toBe(false);
  });

  /** Spec: §6.11.4 setMinPINLength — no decrease; above the PIN's length → forcePINChange; RP ID list. */
  it('setMinPINLength raises the minimum, forces a PIN change when the PIN is now too short, stores minPinLengthRPIDs', async () => {
    const { auth, pin, m, acfg, state } = await setup();
    expect(await pin.setPin(PIN)).toBe(0);
    const a = await acfg();
    const set = (entries: [number, unknown][]) => m.config(ConfigSub.setMinPINLength, { params: minPinParams(entries), auth: a });
    expect((await set([[1, 3]])).status).toBe(S.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect((await set([[1, 64]])).status).toBe(S.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect((await set([[2, ['a', 'b', 'c', 'd', 'e']]])).status).toBe(S.CTAP2_ERR_KEY_STORE_FULL);
    expect(state().minPinLength).toBe(4);
    expect((await set([[1, 4]])).status).toBe(0); // equal is no decrease; the 4-digit PIN still fits
    expect(state().forcePinChange).toBe(false);
    expect((await set([[1, 6], [2, ['rp.example']]])).status).toBe(0);
    expect(state()).toMatchObject({ minPinLength: 6, forcePinChange: true, minPinLengthRpIds: ['rp.example'] });
    expect(auth.info()).toMatchObject({ minPINLength: 6, forcePINChange: true, maxRPIDsForSetMinPINLength: 4 });
    // forcePINChange: no token with the PIN until it is changed (CTAP 2.1 §6.5.5.7.2 step 11) …
    expect((await pin.token({ pin: PIN, permissions: Perm.acfg })).status).toBe(S.CTAP2_ERR_PIN_POLICY_VIOLATION);
    // … and the new PIN must meet the new minimum.
    expect(await pin.changePin(PIN, '12345')).toBe(S.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect(await pin.changePin(PIN, '123456')).toBe(0);
    expect(state().forcePinChange).toBe(false);
    // newMinPINLength absent keeps the current minimum; the list is replaced.
    const b = { pin, token: await pin.tokenOrThrow({ pin: '123456', permissions: Perm.acfg }) };
    expect((await m.config(ConfigSub.setMinPINLength, { params: minPinParams([[2, []], [3, true]]), auth: b })).status).toBe(0);
    expect(state()).toMatchObject({ minPinLength: 6, forcePinChange: true, minPinLengthRpIds: [] });
  });

  it('setMinPINLength forceChangePin without a PIN → PIN_NOT_SET; without one the minimum can be raised freely', async () => {
    const { m, state } = await setup();
    expect((await m.config(ConfigSub.setMinPINLength, { params: minPinParams([[3, true]]) })).status).toBe(S.CTAP2_ERR_PIN_NOT_SET);
    expect((await m.config(ConfigSub.setMinPINLength, { params: minPinParams([[1, 8]]) })).status).toBe(0);
    expect(state()).toMatchObject({ minPinLength: 8, forcePinChange: false });
  });

  /** Spec: §6.11.1 enableEnterpriseAttestation; getInfo ep. */
  it('enableEnterpriseAttestation turns ep on (idempotent); a device that is not EA-capable → INVALID_PARAMETER', async () => {
    const { auth, m } = await setup();
    expect(auth.info().options.ep).toBe(false);
    expect((await m.config(ConfigSub.enableEnterpriseAttestation)).status).toBe(0);
    expect((await m.config(ConfigSub.enableEnterpriseAttestation)).status).toBe(0);
    expect(auth.info().options.ep).toBe(true);
    const { enterpriseAttestation: _ea, ...withoutEa } = defaultProfile;
    const other = await setup({ ...withoutEa, name: 'no-ea' });
    expect(other.auth.info().options).not.toHaveProperty('ep');
    expect((await other.m.config(ConfigSub.enableEnterpriseAttestation)).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER);
  });

  /** Spec: CTAP 2.1 §8.2 — unknown / unimplemented subcommands (vendorPrototype) → INVALID_SUBCOMMAND. */
  it('vendorPrototype, unknown subcommands → INVALID_SUBCOMMAND; no subCommand → MISSING_PARAMETER; none without PIN/UV', async () => {
    const { call, m } = await setup();
    expect((await m.config(ConfigSub.vendorPrototype)).status).toBe(S.CTAP2_ERR_INVALID_SUBCOMMAND);
    expect((await m.config(0x04)).status).toBe(S.CTAP2_ERR_INVALID_SUBCOMMAND);
    expect((await call(0x0d, new Map([[2, new Map()]]))).status).toBe(S.CTAP2_ERR_MISSING_PARAMETER);
    const pinless = await setup(pinlessProfile);
    expect((await pinless.m.config(ConfigSub.toggleAlwaysUv)).status).toBe(S.CTAP1_ERR_INVALID_COMMAND);
    expect(pinless.auth.info().options).not.toHaveProperty('authnrCfg');
  });

  /** Spec: CHECKLIST B6.3 — reset restores alwaysUv, minPINLength, the RP ID list and disables EA. */
  it('authenticatorReset restores the factory configuration', async () => {
    const { auth, m, state } = await setup();
    expect((await m.config(ConfigSub.setMinPINLength, { params: minPinParams([[1, 6], [2, ['rp.example']]]) })).status).toBe(0);
    expect((await m.config(ConfigSub.enableEnterpriseAttestation)).status).toBe(0);
    expect((await m.config(ConfigSub.toggleAlwaysUv)).status).toBe(0);
    expect((await ctapCall(auth, CtapCommand.authenticatorReset)).status).toBe(0);
    expect(state()).toMatchObject({ alwaysUv: false, minPinLength: 4, minPinLengthRpIds: [], enterpriseAttestation: false });
  });

  /** Spec: §6.4 uvAcfg — with built-in UV configured (no PIN), the acfg token comes from getPinUvAuthTokenUsingUv. */
  it('a fingerprint key protected only by its sensor authorises config with a UV token (uvAcfg)', async () => {
    const { auth, pin, m, state } = await setup(fingerprintProfile);
    await auth.enrollTemplate({ modality: 'fingerprint' });
    expect(auth.info().options).toMatchObject({ uv: true, uvAcfg: true, clientPin: false });
    expect((await m.config(ConfigSub.toggleAlwaysUv)).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
    const token = await pin.tokenOrThrow({ permissions: Perm.acfg });
    expect((await m.config(ConfigSub.toggleAlwaysUv, { auth: { pin, token } })).status).toBe(0);
    expect(state().alwaysUv).toBe(true);
  });
});
