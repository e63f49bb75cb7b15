/**
 * authenticatorClientPIN (CTAP 2.1 §6.5.5) through the dispatcher, with a platform written on node:crypto
 * (test/helpers/pinClient.ts): subcommands, PIN rules, retries and lockout, forcePINChange, permissions.
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, fingerprintProfile, type Profile } from '../profile.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { CborMap } from '../../cbor.ts';
import { decodeState, encodeState, type PersistentState } from '../state.ts';
import { createTestEnv, ctapCall, type TestEnvOptions } from '../../../test/helpers/testEnv.ts';
import { PinClient, Perm, Sub, encrypt, pinHash, type ClientPinCall, type Protocol } from '../../../test/helpers/pinClient.ts';

const CP = CtapCommand.authenticatorClientPIN;
const PIN = '1234';

async function setup(o: TestEnvOptions & { profile?: Profile } = {}) {
  const t = createTestEnv(o);
  const auth = await createAuthenticator({ env: t.env, ...(o.profile ? { profile: o.profile } : {}) });
  const call: ClientPinCall = (params) => ctapCall(auth, CP, params);
  const client = (p: Protocol = 2) => new PinClient(call, p);
  const state = (): PersistentState => decodeState(t.store.snapshot()!);
  return { t, auth, call, client, state };
}

/** A device with PIN `PIN` set, restarted from a stored state changed by `edit` (fault-style state setter). */
async function withState(edit: (s: PersistentState) => PersistentState, profile?: Profile) {
  const first = await setup(profile ? { profile } : {});
  expect(await first.client().setPin(PIN)).toBe(0);
  return setup({ stored: encodeState(edit(first.state())), ...(profile ? { profile } : {}) });
}

describe('authenticatorClientPIN (CTAP 2.1 §6.5.5)', () => {
  describe('subcommands and parameters', () => {
    it('getPINRetries → {3: 8, 4: false}; getKeyAgreement → a COSE_Key per protocol', async () => {
      const { call, client } = await setup();
      expect(await client().retries()).toEqual({ pinRetries: 8, powerCycleState: false });
      const k1 = (await call(new Map([[1, 1], [2, Sub.getKeyAgreement]]))).body!.get(1) as CborMap;
      const k2 = (await call(new Map([[1, 2], [2, Sub.getKeyAgreement]]))).body!.get(1) as CborMap;
      expect([...k1.keys()]).toEqual([1, 3, -1, -2, -3]);
      expect(k1.get(3)).toBe(-25);
      // Each protocol has its own key-agreement key.
      expect(k1.get(-2)).not.toEqual(k2.get(-2));
    });

    it('unknown subcommands, and the UV ones on a PIN-only key → CTAP2_ERR_INVALID_SUBCOMMAND (§8.1 MUST)', async () => {
      const { call } = await setup();
      for (const sub of [0x00, 0x06, 0x07, 0x08, 0x0a, 0x20]) {
        expect((await call(new Map([[1, 2], [2, sub]]))).status).toBe(CtapStatus.CTAP2_ERR_INVALID_SUBCOMMAND);
      }
    });

    it('missing subCommand / missing pinUvAuthProtocol → MISSING_PARAMETER; unsupported protocol → INVALID_PARAMETER', async () => {
      const { auth, call } = await setup();
      expect((await ctapCall(auth, CP)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
      expect((await call(new Map([[1, 2]]))).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
      expect((await call(new Map([[2, Sub.getKeyAgreement]]))).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
      expect((await call(new Map([[1, 3], [2, Sub.getKeyAgreement]]))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
      expect((await call(new Map<number, unknown>([[1, 'two'], [2, Sub.getKeyAgreement]]))).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
      // A profile offering protocol two only refuses one.
      const only2 = await setup({ profile: { ...defaultProfile, pin: { ...defaultProfile.pin!, protocols: [2] } } });
      expect((await only2.call(new Map([[1, 1], [2, Sub.getKeyAgreement]]))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
      expect(only2.auth.info().pinUvAuthProtocols).toEqual([2]);
    });

    it('setPIN: every mandatory member is checked before the protocol (step 1 before step 2)', async () => {
      const { call, client } = await setup();
      const full = await client().setPinParams(PIN);
      for (const key of [3, 4, 5]) {
        const p = new Map(full);
        p.delete(key);
        p.set(1, 9); // an unsupported protocol too: MISSING_PARAMETER still wins
        expect((await call(p)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
      }
    });
  });

  describe.each([1, 2] as const)('setPIN / changePIN / tokens with protocol %i', (protocol) => {
    it('setPIN stores the PIN (clientPin true); a second setPIN → PIN_AUTH_INVALID', async () => {
      const { auth, client, state } = await setup();
      expect(await client(protocol).setPin(PIN)).toBe(0);
      expect(auth.info().options.clientPin).toBe(true);
      expect(state().pin?.codePoints).toBe(4);
      expect(state().pin?.hash).toEqual(pinHash(PIN));
      expect(await client(protocol).setPin('5678')).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    });

    it('setPIN with a wrong pinUvAuthParam → PIN_AUTH_INVALID, nothing stored', async () => {
      const { auth, call, client } = await setup();
      const params = await client(protocol).setPinParams(PIN);
      const mac = (params.get(4) as Uint8Array).slice();
      mac[0]! ^= 1;
      expect((await call(params.set(4, mac))).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
      expect(auth.info().options.clientPin).toBe(false);
    });

    it('setPIN rules: 4 code points minimum (4 emoji OK, 3 not), 63 bytes maximum, paddedNewPin exactly 64 bytes', async () => {
      const { call, client } = await setup();
      const c = client(protocol);
      expect(await c.setPin('😀😁😂')).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
      expect(await c.setPin('123')).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
      expect(await c.setPin('x'.repeat(64))).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
      // A 48-byte "padded" PIN (three blocks) decrypts fine but is not 64 bytes → INVALID_PARAMETER.
      const s = await c.session();
      const params = await c.setPinParams(PIN, s);
      const short = encrypt(protocol, s.sharedSecret, new Uint8Array(48).fill(0x31));
      params.set(5, short).set(4, c.param(s.sharedSecret, short));
      expect((await call(params)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
      expect(await c.setPin('😀😁😂🤣')).toBe(0);
    });

    it('setPIN with a keyAgreement that is not a P-256 point → INVALID_PARAMETER', async () => {
      const { call, client } = await setup();
      const params = await client(protocol).setPinParams(PIN);
      const bad = new Map(params.get(3) as Map<number, unknown>).set(-3, new Uint8Array(32).fill(3));
      expect((await call(params.set(3, bad))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    });

    it('getPinToken returns encrypt(shared, 32-byte token); permissions or rpId in it → INVALID_PARAMETER', async () => {
      const { call, client } = await setup();
      const c = client(protocol);
      expect(await c.setPin(PIN)).toBe(0);
      const r = await c.token({ pin: PIN });
      expect(r.status).toBe(0);
      expect(r.token!.length).toBe(32);
      const s = await c.session();
      const base = new Map<number, unknown>([
        [1, protocol],
        [2, Sub.getPinToken],
        [3, s.platformKey],
        [6, encrypt(protocol, s.sharedSecret, pinHash(PIN))],
      ]);
      expect((await call(new Map(base).set(9, Perm.mc))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
      expect((await call(new Map(base).set(10, 'example.com'))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    });

    it('changePIN: the new PIN works, the old does not; a wrong current PIN → PIN_INVALID and one retry less', async () => {
      const { client } = await setup();
      const c = client(protocol);
      expect(await c.setPin(PIN)).toBe(0);
      expect(await c.changePin('0000', '5678')).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.retries()).pinRetries).toBe(7);
      expect(await c.changePin(PIN, '5678')).toBe(0);
      expect((await c.retries()).pinRetries).toBe(8);
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.token({ pin: '5678', permissions: Perm.mc })).status).toBe(0);
    });

    it('changePIN with a bad pinUvAuthParam → PIN_AUTH_INVALID and no retry is spent; without a PIN → PIN_NOT_SET', async () => {
      const { call, client } = await setup();
      const c = client(protocol);
      expect(await c.changePin(PIN, '5678')).toBe(CtapStatus.CTAP2_ERR_PIN_NOT_SET);
      expect(await c.setPin(PIN)).toBe(0);
      const params = await c.changePinParams(PIN, '5678');
      params.set(4, new Uint8Array(protocol === 1 ? 16 : 32));
      expect((await call(params)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
      expect((await c.retries()).pinRetries).toBe(8);
    });

    it('getPinUvAuthTokenUsingPinWithPermissions: permissions 0 → INVALID_PARAMETER; no PIN → PIN_NOT_SET', async () => {
      const { client } = await setup();
      const c = client(protocol);
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_NOT_SET);
      expect(await c.setPin(PIN)).toBe(0);
      expect((await c.token({ pin: PIN, permissions: 0 })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
      expect((await c.token({ pin: PIN, permissions: Perm.mc | Perm.ga, rpId: 'example.com' })).status).toBe(0);
    });
  });

  describe('permissions (§6.5.5.7.2 step 4: UNAUTHORIZED_PERMISSION per the getInfo options)', () => {
    it('PIN-only key: be (and CTAP 2.2 pcmr) refused; mc, ga, cm, lbw, acfg granted; undefined bits ignored', async () => {
      const { client } = await setup();
      const c = client();
      expect(await c.setPin(PIN)).toBe(0);
      for (const p of [Perm.be, 0x40, Perm.mc | Perm.be]) {
        expect((await c.token({ pin: PIN, permissions: p })).status).toBe(CtapStatus.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
      }
      // credMgmt, largeBlobs and authnrCfg are advertised (issue 4), so cm, lbw and acfg are authorised.
      for (const p of [Perm.cm, Perm.lbw, Perm.acfg, Perm.mc | Perm.cm | Perm.lbw | Perm.acfg]) {
        expect((await c.token({ pin: PIN, permissions: p })).status).toBe(0);
      }
      expect((await c.token({ pin: PIN, permissions: Perm.mc | 0x80 })).status).toBe(0);
      // Refusals come before any PIN check: no retry was spent.
      expect((await c.retries()).pinRetries).toBe(8);
    });

    it('fingerprint key: be is authorised with the PIN (bioEnroll present, even with nothing enrolled)', async () => {
      const { client } = await setup({ profile: fingerprintProfile });
      const c = client();
      expect(await c.setPin(PIN)).toBe(0);
      expect((await c.token({ pin: PIN, permissions: Perm.be })).status).toBe(0);
    });
  });

  describe('retries and lockout (CHECKLIST G1–G3)', () => {
    it('a mismatch regenerates the key agreement: the old shared secret no longer carries a correct PIN', async () => {
      const { client } = await setup();
      const c = client();
      expect(await c.setPin(PIN)).toBe(0);
      const s = await c.session();
      expect((await c.token({ pin: '0000', permissions: Perm.mc, session: s })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      // Same (stale) session, right PIN: the device decrypts garbage → another mismatch.
      expect((await c.token({ pin: PIN, permissions: Perm.mc, session: s })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.retries()).pinRetries).toBe(6);
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(0);
      expect((await c.retries()).pinRetries).toBe(8);
    });

    it('pinRetries is decremented and saved before the comparison; a correct PIN then restores it', async () => {
      const { t, client } = await setup();
      const c = client();
      expect(await c.setPin(PIN)).toBe(0);
      const saved: number[] = [];
      const save = t.env.store.save.bind(t.env.store);
      t.env.store.save = async (bytes) => {
        saved.push(decodeState(bytes).pinRetries);
        return save(bytes);
      };
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(0);
      expect(saved).toEqual([7, 8]);
      saved.length = 0;
      expect((await c.token({ pin: '9999', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect(saved).toEqual([7]);
      // If the decrement cannot be saved, the PIN is not even compared (an internal error, no token).
      t.store.failSave = new Error('flash worn out');
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(CtapStatus.CTAP1_ERR_OTHER);
    });

    it('3 consecutive mismatches → PIN_AUTH_BLOCKED until power cycle, without spending more retries', async () => {
      const { auth, client } = await setup();
      const c = client(1);
      expect(await c.setPin(PIN)).toBe(0);
      expect((await c.token({ pin: '0000' })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.token({ pin: '0000' })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.token({ pin: '0000' })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED);
      expect(await c.retries()).toEqual({ pinRetries: 5, powerCycleState: true });
      // Even the right PIN, on every PIN path and with the other protocol, until the power cycle.
      expect((await c.token({ pin: PIN })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED);
      expect((await client(2).token({ pin: PIN, permissions: Perm.ga })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED);
      expect(await c.changePin(PIN, '5678')).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED);
      expect((await c.retries()).pinRetries).toBe(5);
      await auth.powerCycle();
      expect(await c.retries()).toEqual({ pinRetries: 5, powerCycleState: false });
      expect((await c.token({ pin: PIN })).status).toBe(0);
      expect((await c.retries()).pinRetries).toBe(8);
    });

    it('a correct PIN resets the consecutive count: 2 wrong, 1 right, 2 wrong → still PIN_INVALID', async () => {
      const { client } = await setup();
      const c = client();
      expect(await c.setPin(PIN)).toBe(0);
      for (const pin of ['0000', '0000', PIN, '0000']) await c.token({ pin, permissions: Perm.mc });
      expect((await c.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
    });

    /** Regression (review finding 5): the mismatch count was zeroed before the success was saved. */
    it('a correct PIN whose save fails does not end the run of mismatches: the next wrong PIN is the 3rd → PIN_AUTH_BLOCKED', async () => {
      const { t, client } = await setup();
      const c = client();
      expect(await c.setPin(PIN)).toBe(0);
      for (let i = 0; i < 2; i++) expect((await c.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      // The decrement before the comparison is saved; the restore after the match is not.
      const save = t.store.save;
      let saves = 0;
      t.store.save = async (bytes) => {
        if (++saves === 2) throw new Error('flash worn out');
        return save(bytes);
      };
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(CtapStatus.CTAP1_ERR_OTHER);
      t.store.save = save;
      expect((await c.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED);
    });

    it('8 wrong PINs across power cycles → PIN_BLOCKED, persisted, until authenticatorReset', async () => {
      const { t, auth, client } = await setup();
      const c = client();
      expect(await c.setPin(PIN)).toBe(0);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        if (i === 3 || i === 6) await auth.powerCycle();
        statuses.push((await c.token({ pin: '0000', permissions: Perm.mc })).status);
      }
      const { PIN_INVALID: I, PIN_AUTH_BLOCKED: B, PIN_BLOCKED: X } = {
        PIN_INVALID: CtapStatus.CTAP2_ERR_PIN_INVALID,
        PIN_AUTH_BLOCKED: CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED,
        PIN_BLOCKED: CtapStatus.CTAP2_ERR_PIN_BLOCKED,
      };
      expect(statuses).toEqual([I, I, B, I, I, B, I, X]);
      expect((await c.retries()).pinRetries).toBe(0);
      await auth.powerCycle();
      // Still blocked after a power cycle, for every PIN path, even with the right PIN.
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(X);
      expect((await c.token({ pin: PIN })).status).toBe(X);
      expect(await c.changePin(PIN, '5678')).toBe(X);
      expect((await c.retries()).pinRetries).toBe(0);
      // authenticatorReset (within 10 s of power-up) removes the PIN and restores the retries.
      t.scheduler.advance(1_000);
      expect((await ctapCall(auth, CtapCommand.authenticatorReset)).status).toBe(0);
      expect(auth.info().options.clientPin).toBe(false);
      expect(await c.retries()).toEqual({ pinRetries: 8, powerCycleState: false });
      expect(await c.setPin('5678')).toBe(0);
    });

    it('G2: pinRetries 1 with 2 mismatches already this power cycle → a wrong PIN gives PIN_BLOCKED, not PIN_AUTH_BLOCKED', async () => {
      const { client } = await withState((s) => ({ ...s, pinRetries: 3 }));
      const c = client();
      expect((await c.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.retries()).pinRetries).toBe(1);
      expect((await c.token({ pin: '0000', permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_BLOCKED);
      expect((await c.retries()).pinRetries).toBe(0);
    });

    it('a correct PIN also restores uvRetries to the maximum and zeroes uvCountSinceLastPinEntry (G4)', async () => {
      const { client, state } = await withState((s) => ({ ...s, uvRetries: 1, uvCountSinceLastPinEntry: 4 }), fingerprintProfile);
      expect((await client().token({ pin: PIN, permissions: Perm.mc })).status).toBe(0);
      expect(state().uvRetries).toBe(5);
      expect(state().uvCountSinceLastPinEntry).toBe(0);
    });
  });

  describe('forcePINChange', () => {
    it('getPinToken → PIN_INVALID, UsingPin → PIN_POLICY_VIOLATION (the PIN itself was right: retries restored)', async () => {
      const { client } = await withState((s) => ({ ...s, forcePinChange: true, pinRetries: 6 }));
      const c = client();
      expect((await c.token({ pin: PIN })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
      expect((await c.token({ pin: PIN, permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
      expect((await c.retries()).pinRetries).toBe(8);
    });

    it('changePIN to the same PIN → PIN_POLICY_VIOLATION; to another one clears forcePINChange', async () => {
      const { auth, client } = await withState((s) => ({ ...s, forcePinChange: true }));
      const c = client();
      expect(auth.info().forcePINChange).toBe(true);
      expect(await c.changePin(PIN, PIN)).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
      expect(await c.changePin(PIN, '5678')).toBe(0);
      expect(auth.info().forcePINChange).toBe(false);
      expect((await c.token({ pin: '5678', permissions: Perm.mc })).status).toBe(0);
    });

    it('without forcePINChange, changePIN to the same PIN is allowed', async () => {
      const { client } = await withState((s) => s);
      expect(await client().changePin(PIN, PIN)).toBe(0);
    });

    it('the current minPINLength applies to changePIN', async () => {
      const { client } = await withState((s) => ({ ...s, minPinLength: 6 }));
      expect(await client().changePin(PIN, '12345')).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
      expect(await client().changePin(PIN, '123456')).toBe(0);
    });
  });
});
