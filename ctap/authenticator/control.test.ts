/** The pure control surface: persisted through the store, invisible set-aside credentials, reset, suspension. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticator.ts';
import { decodeState } from './state.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, getAssertionParams } from '../../test/helpers/testEnv.ts';

const GA = 0x02;
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
