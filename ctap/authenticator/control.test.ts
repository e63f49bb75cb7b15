/** The pure control surface: persisted through the store, invisible set-aside credentials, reset, suspension. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticator.ts';
import { decodeState } from './state.ts';
import { CtapStatus } from '../constants/status.ts';
import { Perm, PinClient } from '../../test/helpers/pinClient.ts';
import { createTestEnv, createTestRequest, ctapCall, getAssertionParams, makeCredentialParams } from '../../test/helpers/testEnv.ts';

const MC = 0x01;
const GA = 0x02;
const GNA = 0x08;
const INFO = 0x04;

async function setup() {
  const t = createTestEnv({ seed: 'control' });
  const auth = await createAuthenticator({ env: t.env, attestation: 'none' });
  return { t, auth };
}

describe('authenticator control', () => {
  it('set-aside credentials are persisted, invisible to getAssertion, restorable, wiped by reset', async () => {
    const { t, auth } = await setup();
    const { credential: c } = await auth.control.addCredential({ rpId: 'example.com', user: { id: new Uint8Array([9]) }, alg: -7 });
    expect((await ctapCall(auth, GA, getAssertionParams())).status).toBe(0);
    await auth.control.deactivateCredential(c.credentialId);
    expect((await ctapCall(auth, GA, getAssertionParams({ allowList: [c.credentialId] }))).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    const stored = decodeState(t.store.snapshot()!);
    expect(stored.residentCredentials).toHaveLength(0);
    expect(stored.setAside).toMatchObject([{ reason: 'deactivated', credential: { rpId: 'example.com' } }]);
    // a second authenticator on the same bytes sees the same thing
    const again = await createAuthenticator({ env: createTestEnv({ stored: t.store.snapshot()! }).env, attestation: 'none' });
    expect(again.control.credentials()).toMatchObject([{ status: 'deactivated' }]);
    await auth.control.restoreCredential(c.credentialId);
    expect((await ctapCall(auth, GA, getAssertionParams({ allowList: [c.credentialId] }))).status).toBe(0);
    await auth.control.corruptCredential(c.credentialId, 'record');
    await auth.control.factoryReset();
    expect(auth.control.credentials()).toEqual([]);
    expect(decodeState(t.store.snapshot()!).setAside).toBeUndefined();
  });

  it('suspended: every command but getInfo is OPERATION_DENIED; the flag is persisted and cleared by unlock', async () => {
    const { t, auth } = await setup();
    await auth.control.setSuspended(true);
    expect((await ctapCall(auth, GA, getAssertionParams())).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    expect((await ctapCall(auth, INFO)).status).toBe(0);
    expect(decodeState(t.store.snapshot()!).suspended).toBe(true);
    await auth.control.setSuspended(false);
    expect(decodeState(t.store.snapshot()!).suspended).toBeUndefined();
    expect((await ctapCall(auth, GA, getAssertionParams())).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
  });

  /**
   * Regression (review finding 2): the wipe relied on the dispatcher to drop the stateful command, and
   * factoryReset does not go through it, so getNextAssertion went on signing with a wiped credential.
   */
  it('factoryReset ends a getAssertion / getNextAssertion sequence in progress', async () => {
    const { auth } = await setup();
    for (const id of [1, 2, 3]) {
      expect((await ctapCall(auth, MC, makeCredentialParams({ userId: Uint8Array.of(id), options: { rk: true } }))).status).toBe(0);
    }
    const req = createTestRequest(5);
    const ga = await ctapCall(auth, GA, getAssertionParams(), req);
    expect(ga.body!.get(5)).toBe(3);
    await auth.control.factoryReset();
    expect(auth.control.credentials()).toEqual([]);
    expect((await ctapCall(auth, GNA, undefined, req)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  /** Spec: CTAP 2.1 §6.5.5.5 (the rules of setPIN, pin/policy.ts checkPinPolicy): code points, at most 63 bytes. */
  it('setPin follows the setPIN rules: minPINLength in code points, at most 63 bytes; the PIN then works', async () => {
    const { auth } = await setup();
    const invalid = { code: 'EMU_ERR_INVALID_ARGUMENT' };
    await expect(auth.control.setPin('\u{1F600}'.repeat(3))).rejects.toMatchObject(invalid); // 12 bytes, 3 code points
    await expect(auth.control.setPin('7'.repeat(64))).rejects.toMatchObject(invalid);
    expect(auth.control.state().pin).toBeUndefined();
    await auth.control.setPin('7'.repeat(63));
    await auth.control.setPin('\u{1F600}'.repeat(4)); // 16 bytes, 4 code points
    expect(auth.control.state().pin?.codePoints).toBe(4);
    const pin = new PinClient((params) => ctapCall(auth, 0x06, params), 2);
    expect((await pin.token({ pin: '\u{1F600}'.repeat(4), permissions: Perm.mc })).status).toBe(0);
  });

  it('a store that is full makes the commit answer KEY_STORE_FULL and keeps the old state', async () => {
    const { t, auth } = await setup();
    const { EmulatorError } = await import('../errors.ts');
    t.store.failSave = new EmulatorError('EMU_ERR_STORE_FULL', 'full');
    const params = new Map<number, unknown>([
      [1, new Uint8Array(32)],
      [2, { id: 'example.com' }],
      [3, { id: new Uint8Array([1]) }],
      [4, [{ alg: -7, type: 'public-key' }]],
      [7, { rk: true }],
    ]);
    expect((await ctapCall(auth, 0x01, params)).status).toBe(CtapStatus.CTAP2_ERR_KEY_STORE_FULL);
    expect(auth.control.credentials()).toEqual([]);
  });
});
