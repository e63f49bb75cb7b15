import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, fingerprintProfile } from '../profile.ts';
import { decodeState, encodeState } from '../state.ts';
import { PinClient, Perm, type ClientPinCall } from '../../../test/helpers/pinClient.ts';
import { CtapCommand, KeepaliveStatus } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { CborMap } from '../../cbor.ts';
import { createTestEnv, createTestRequest, ctapCall, getAssertionParams, makeCredentialParams } from '../../../test/helpers/testEnv.ts';
import { parseAuthData } from '../../../test/helpers/webauthn.ts';

const RESET = CtapCommand.authenticatorReset;

async function setup(resetWindowMs?: number) {
  const t = createTestEnv();
  const auth = await createAuthenticator({ env: t.env, ...(resetWindowMs === undefined ? {} : { resetWindowMs }) });
  const make = async (rk: boolean) => {
    const r = await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ options: { rk } }));
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    return { id: parseAuthData(r.body!.get(2) as Uint8Array).credentialId!, x5c: (r.body!.get(3) as CborMap).get('x5c') };
  };
  return { t, auth, make };
}

describe('authenticatorReset (CTAP 2.1 §6.6)', () => {
  it('within the window and touched: deletes every credential (old IDs unusable) and keeps AAGUID and attestation chain', async () => {
    const { t, auth, make } = await setup();
    const resident = await make(true);
    const plain = await make(false);
    t.scheduler.advance(9_000);
    const req = createTestRequest();
    const r = await ctapCall(auth, RESET, undefined, req);
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(r.raw).toEqual(new Uint8Array([0]));
    expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
    expect(t.presence.requests.at(-1)).toMatchObject({ command: 'reset' });
    for (const id of [resident.id, plain.id]) {
      const ga = await ctapCall(auth, CtapCommand.authenticatorGetAssertion, getAssertionParams({ allowList: [id] }));
      expect(ga.status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    }
    expect((await ctapCall(auth, CtapCommand.authenticatorGetAssertion, getAssertionParams())).status).toBe(
      CtapStatus.CTAP2_ERR_NO_CREDENTIALS,
    );
    expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity);
    expect(auth.info().aaguid).toEqual(defaultProfile.aaguid);
    const after = await make(false);
    expect(plain.x5c).toHaveLength(1);
    expect(after.x5c).toEqual(plain.x5c);
  });

  it('"If the request comes after 10 seconds of powering up, the authenticator returns CTAP2_ERR_NOT_ALLOWED" (no touch asked)', async () => {
    const { t, auth, make } = await setup();
    const c = await make(true);
    t.presence.requests.length = 0;
    t.scheduler.advance(10_001);
    expect((await ctapCall(auth, RESET)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    expect(t.presence.requests).toHaveLength(0);
    expect((await ctapCall(auth, CtapCommand.authenticatorGetAssertion, getAssertionParams({ allowList: [c.id] }))).status).toBe(
      CtapStatus.CTAP2_OK,
    );
  });

  it('the window restarts at every power-up (powerCycle) and is configurable', async () => {
    const { t, auth } = await setup(2_000);
    t.scheduler.advance(2_001);
    expect((await ctapCall(auth, RESET)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    await auth.powerCycle();
    t.scheduler.advance(2_000);
    expect((await ctapCall(auth, RESET)).status).toBe(CtapStatus.CTAP2_OK);
  });

  it.each([
    ['deny', CtapStatus.CTAP2_ERR_OPERATION_DENIED],
    ['timeout', CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT],
  ] as const)('touch %s → its status (%i), nothing is deleted', async (mode, status) => {
    const { t, auth, make } = await setup();
    await make(true);
    t.presence.mode = mode;
    expect((await ctapCall(auth, RESET)).status).toBe(status);
    expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity - 1);
  });

  it('CTAPHID_CANCEL while waiting for the touch → CTAP2_ERR_KEEPALIVE_CANCEL, nothing is deleted', async () => {
    const { t, auth, make } = await setup();
    await make(true);
    t.presence.mode = 'hold';
    const req = createTestRequest();
    const pending = ctapCall(auth, RESET, undefined, req);
    await new Promise((r) => setTimeout(r, 0));
    req.cancel();
    expect((await pending).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
    expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity - 1);
  });

  it('the reset survives a power cycle (it is persisted)', async () => {
    const { auth, make } = await setup();
    const c = await make(true);
    expect((await ctapCall(auth, RESET)).status).toBe(CtapStatus.CTAP2_OK);
    await auth.powerCycle();
    expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity);
    const ga = await ctapCall(auth, CtapCommand.authenticatorGetAssertion, getAssertionParams({ allowList: [c.id] }));
    expect(ga.status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
  });

  it('removes the PIN and the templates, restores retries / minPINLength / forcePINChange / alwaysUv, drops the token (B6.3)', async () => {
    const t = createTestEnv({ sensor: {} });
    const auth = await createAuthenticator({ env: t.env, profile: fingerprintProfile });
    const call: ClientPinCall = (params) => ctapCall(auth, CtapCommand.authenticatorClientPIN, params);
    const c = new PinClient(call, 2);
    expect(await c.setPin('1234')).toBe(0);
    await auth.enrollTemplate({ modality: 'fingerprint' });
    const token = await c.tokenOrThrow({ pin: '1234', permissions: Perm.mc });
    // Damage the state as faults / authenticatorConfig would, then power up from it.
    const s = decodeState(t.store.snapshot()!);
    const stored = encodeState({ ...s, pinRetries: 3, uvRetries: 0, minPinLength: 8, forcePinChange: true, alwaysUv: true, uvCountSinceLastPinEntry: 7 });
    const t2 = createTestEnv({ sensor: {}, stored });
    const auth2 = await createAuthenticator({ env: t2.env, profile: fingerprintProfile });
    expect((await ctapCall(auth2, RESET)).status).toBe(CtapStatus.CTAP2_OK);
    const after = decodeState(t2.store.snapshot()!);
    expect(after.pin).toBeUndefined();
    expect(after.templates).toEqual([]);
    expect(after).toMatchObject({ pinRetries: 8, uvRetries: 5, minPinLength: 4, forcePinChange: false, alwaysUv: false, uvCountSinceLastPinEntry: 0 });
    expect(auth2.info().options).toMatchObject({ clientPin: false, uv: false, bioEnroll: false, alwaysUv: false });
    // On the first device: reset drops the pinUvAuthToken and the key agreement as well.
    expect((await ctapCall(auth, RESET)).status).toBe(CtapStatus.CTAP2_OK);
    expect(await c.setPin('5678')).toBe(0);
    const cdh = new Uint8Array(32);
    const mc = await ctapCall(
      auth,
      CtapCommand.authenticatorMakeCredential,
      makeCredentialParams({ clientDataHash: cdh, extra: [[8, c.param(token, cdh)], [9, 2]] }),
    );
    expect(mc.status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });
});

describe('authenticatorSelection (CTAP 2.1 §6.9)', () => {
  it('asks for a touch; approved → CTAP2_OK with no body', async () => {
    const { t, auth } = await setup();
    const req = createTestRequest();
    const r = await ctapCall(auth, CtapCommand.authenticatorSelection, undefined, req);
    expect(r.raw).toEqual(new Uint8Array([CtapStatus.CTAP2_OK]));
    expect(t.presence.requests[0]).toMatchObject({ command: 'selection' });
    expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
  });

  it.each([
    ['deny', CtapStatus.CTAP2_ERR_OPERATION_DENIED],
    ['timeout', CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT],
  ] as const)('touch %s → its status (%i)', async (mode, status) => {
    const { t, auth } = await setup();
    t.presence.mode = mode;
    expect((await ctapCall(auth, CtapCommand.authenticatorSelection)).raw).toEqual(new Uint8Array([status]));
  });

  it('cancel → CTAP2_ERR_KEEPALIVE_CANCEL; a request already cancelled never asks the user', async () => {
    const { t, auth } = await setup();
    t.presence.mode = 'hold';
    const req = createTestRequest();
    const pending = ctapCall(auth, CtapCommand.authenticatorSelection, undefined, req);
    await new Promise((r) => setTimeout(r, 0));
    req.cancel();
    expect((await pending).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
    const before = t.presence.requests.length;
    expect((await ctapCall(auth, CtapCommand.authenticatorSelection, undefined, req)).status).toBe(
      CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL,
    );
    expect(t.presence.requests.length).toBe(before);
  });
});
