import { describe, expect, it } from 'vitest';
import { createAuthenticator, type AttestationMode } from './authenticator.ts';
import { defaultProfile, fingerprintProfile, type Profile } from './profile.ts';
import { decodeState, encodeState, STATE_SCHEMA_VERSION } from './state.ts';
import { fromHex, toHex } from '../bytes.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { EmulatorError } from '../errors.ts';
import {
  createTestEnv,
  ctapCall,
  getAssertionParams,
  makeCredentialParams,
  type TestEnv,
} from '../../test/helpers/testEnv.ts';
import { parseAuthData } from '../../test/helpers/webauthn.ts';
import { Perm, PinClient } from '../../test/helpers/pinClient.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;

async function credentialId(auth: Awaited<ReturnType<typeof createAuthenticator>>, rk: boolean, userId = 1) {
  const r = await ctapCall(auth, MC, makeCredentialParams({ userId: new Uint8Array([userId]), options: { rk } }));
  expect(r.status).toBe(CtapStatus.CTAP2_OK);
  return parseAuthData(r.body!.get(2) as Uint8Array).credentialId!;
}

async function signCount(auth: Awaited<ReturnType<typeof createAuthenticator>>, id?: Uint8Array) {
  const r = await ctapCall(auth, GA, getAssertionParams(id ? { allowList: [id] } : {}));
  expect(r.status).toBe(CtapStatus.CTAP2_OK);
  return parseAuthData(r.body!.get(2) as Uint8Array).signCount;
}

describe('createAuthenticator and persistence', () => {
  it('a fresh store is initialised and saved once: schema version, 32-byte master key, attestation chain for the AAGUID', async () => {
    const t = createTestEnv();
    await createAuthenticator({ env: t.env });
    expect(t.store.saves).toBe(1);
    const state = decodeState(t.store.snapshot()!);
    expect(state.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect(state.masterKey.length).toBe(32);
    expect(state.attestation.aaguid).toEqual(defaultProfile.aaguid);
    expect(state.attestation.certChain).toHaveLength(2);
    expect(state.residentCredentials).toEqual([]);
  });

  it('an existing store is loaded, not rewritten', async () => {
    const a = createTestEnv();
    await createAuthenticator({ env: a.env });
    const b = createTestEnv({ seed: 'other', stored: a.store.snapshot()! });
    await createAuthenticator({ env: b.env });
    expect(b.store.saves).toBe(0);
  });

  it('a store that throws on load → createAuthenticator rejects with that error', async () => {
    const t = createTestEnv();
    const err = new Error('unreadable');
    t.store.failLoad = err;
    await expect(createAuthenticator({ env: t.env })).rejects.toBe(err);
  });

  it.each([
    ['not CBOR', 'ff', 'EMU_ERR_STATE_CORRUPT'],
    ['a map without schemaVersion', 'a1617801', 'EMU_ERR_STATE_CORRUPT'],
    ['another schema version', 'a16d736368656d6156657273696f6e1863', 'EMU_ERR_STATE_VERSION'],
  ])('stored bytes that are %s → rejects with %s, and the store is not overwritten', async (_name, hex, code) => {
    const t = createTestEnv({ stored: fromHex(hex) });
    const p = createAuthenticator({ env: t.env });
    await expect(p).rejects.toBeInstanceOf(EmulatorError);
    await expect(p).rejects.toMatchObject({ code });
    expect(t.store.saves).toBe(0);
  });

  it('a profile rejected up front: bad AAGUID length, no or unsupported algorithms', async () => {
    const env = createTestEnv().env;
    await expect(createAuthenticator({ env, profile: { ...defaultProfile, aaguid: new Uint8Array(15) } })).rejects.toThrow(/aaguid/);
    await expect(createAuthenticator({ env, profile: { ...defaultProfile, algorithms: [] } })).rejects.toThrow(/algorithm/);
    await expect(
      createAuthenticator({ env, profile: { ...defaultProfile, algorithms: [-257 as -7] } }),
    ).rejects.toThrow(/unsupported algorithm/);
  });

  /** Review finding 11: "has a fingerprint sensor" has one definition, so the modality and its settings go together. */
  it('a profile whose fingerprint modality and uv.fingerprint disagree is rejected', async () => {
    const env = createTestEnv().env;
    const uv = fingerprintProfile.uv!;
    await expect(createAuthenticator({ env, profile: { ...fingerprintProfile, uv: { ...uv, modalities: ['face'] } } })).rejects.toThrow(/uv\.fingerprint/);
    const { fingerprint: _settings, ...withoutSettings } = uv;
    await expect(createAuthenticator({ env, profile: { ...fingerprintProfile, uv: withoutSettings } })).rejects.toThrow(/uv\.fingerprint/);
    await expect(createAuthenticator({ env, profile: fingerprintProfile })).resolves.toBeDefined();
  });

  it('a store written for another AAGUID gets a new attestation certificate for the profile AAGUID', async () => {
    const t = createTestEnv();
    await createAuthenticator({ env: t.env });
    const before = decodeState(t.store.snapshot()!).attestation;
    const profile: Profile = { ...defaultProfile, aaguid: new Uint8Array(16).fill(0x42) };
    await createAuthenticator({ env: t.env, profile });
    const after = decodeState(t.store.snapshot()!).attestation;
    expect(after.aaguid).toEqual(profile.aaguid);
    expect(after.certChain[0]).not.toEqual(before.certChain[0]);
  });

  it('discoverable credentials and all counters survive powerCycle and a new instance on the same store', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env });
    const resident = await credentialId(auth, true);
    const plain = await credentialId(auth, false, 2);
    expect(await signCount(auth, resident)).toBe(1);
    expect(await signCount(auth, plain)).toBe(1);
    await auth.powerCycle();
    expect(await signCount(auth, resident)).toBe(2);
    expect(await signCount(auth, plain)).toBe(2);
    const again = await createAuthenticator({ env: createTestEnv({ stored: t.store.snapshot()! }).env });
    expect(await signCount(again)).toBe(3); // discoverable
    expect(await signCount(again, plain)).toBe(3);
  });

  it('a counter is saved before the signature is returned: a failing save fails the assertion and the counter stays', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env });
    const id = await credentialId(auth, false);
    expect(await signCount(auth, id)).toBe(1);
    t.store.failSave = new Error('write failed');
    expect((await ctapCall(auth, GA, getAssertionParams({ allowList: [id] }))).status).toBe(CtapStatus.CTAP1_ERR_OTHER);
    t.store.failSave = undefined;
    expect(await signCount(auth, id)).toBe(2);
  });

  it('powerCycle reloads the persistent state from the store', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env });
    const fresh = t.store.snapshot()!;
    await credentialId(auth, true);
    expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity - 1);
    await t.env.store.save(fresh); // the flash goes back to the state at creation
    await auth.powerCycle();
    expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity);
  });

  /**
   * Regression (review finding 1): powerUp awaited the load before dropping volatile state, so a failed power
   * cycle left the pinUvAuthToken, the consecutive-mismatch count and the getAssertion state alive.
   */
  it('a power cycle whose load fails still drops the pinUvAuthToken, the mismatch count and getNextAssertion', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env, attestation: 'none' });
    await credentialId(auth, true, 1);
    await credentialId(auth, true, 2);
    const pin = new PinClient((params) => ctapCall(auth, CtapCommand.authenticatorClientPIN, params), 2);
    expect(await pin.setPin('1234')).toBe(0);
    const token = await pin.tokenOrThrow({ pin: '1234', permissions: Perm.mc, rpId: 'example.com' });
    // Two mismatches: a third in a row would be PIN_AUTH_BLOCKED until a power cycle.
    for (let i = 0; i < 2; i++) expect((await pin.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
    expect((await ctapCall(auth, GA, getAssertionParams())).body!.get(5)).toBe(2); // getNextAssertion has one more
    const err = new Error('unreadable');
    t.store.failLoad = err;
    await expect(auth.powerCycle()).rejects.toBe(err);
    t.store.failLoad = undefined;
    expect((await ctapCall(auth, CtapCommand.authenticatorGetNextAssertion)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    const cdh = new Uint8Array(32).fill(1);
    const mc = makeCredentialParams({ clientDataHash: cdh, extra: [[8, pin.param(token, cdh)], [9, 2]] });
    expect((await ctapCall(auth, MC, mc)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await pin.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
  });

  it('the persisted state is CBOR that round-trips through decodeState / encodeState', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env });
    await credentialId(auth, true);
    await signCount(auth, await credentialId(auth, false, 3));
    const bytes = t.store.snapshot()!;
    expect(toHex(encodeState(decodeState(bytes.slice())))).toBe(toHex(bytes));
  });
});

describe('determinism (seeded Env)', () => {
  async function run(t: TestEnv, attestation: AttestationMode): Promise<Uint8Array[]> {
    const auth = await createAuthenticator({ env: t.env, attestation });
    const out: Uint8Array[] = [];
    const call = async (cmd: number, params?: unknown) => {
      const r = await ctapCall(auth, cmd, params);
      out.push(r.raw);
      return r;
    };
    await call(CtapCommand.authenticatorGetInfo);
    for (const [i, alg] of [-7, -8, -7].entries()) {
      await call(MC, makeCredentialParams({ userId: new Uint8Array([i]), algs: [alg], options: { rk: i !== 1 } }));
    }
    await call(GA, getAssertionParams());
    await call(CtapCommand.authenticatorGetNextAssertion);
    out.push(t.store.snapshot()!);
    return out;
  }

  it.each(['none', 'self', 'basic'] as const)('two authenticators, same seed, same requests → identical bytes (%s)', async (mode) => {
    const a = await run(createTestEnv({ seed: 's1' }), mode);
    const b = await run(createTestEnv({ seed: 's1' }), mode);
    for (const r of a.slice(0, 6)) expect(r[0]).toBe(CtapStatus.CTAP2_OK);
    expect(b).toEqual(a);
  });

  it('another seed gives other credentials and signatures', async () => {
    const a = await run(createTestEnv({ seed: 's1' }), 'basic');
    const b = await run(createTestEnv({ seed: 's2' }), 'basic');
    expect(b[0]).toEqual(a[0]); // getInfo does not depend on the seed
    expect(b[1]).not.toEqual(a[1]);
    expect(b[4]).not.toEqual(a[4]);
  });
});
