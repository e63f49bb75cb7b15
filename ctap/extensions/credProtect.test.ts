/** credProtect (CTAP 2.1 §12.1): levels, storage (record and credential ID), getAssertion and excludeList rules. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator/authenticator.ts';
import { unwrapCredentialId } from '../authenticator/credentialId.ts';
import { decodeState } from '../authenticator/state.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { createTestEnv, ctapCall, getAssertionParams, makeCredentialParams, type MakeCredentialSpec } from '../../test/helpers/testEnv.ts';
import { PinClient, Perm } from '../../test/helpers/pinClient.ts';
import { extensionOutputs } from '../../test/helpers/extensions.ts';
import { parseAuthData, sha256 } from '../../test/helpers/webauthn.ts';
import { countsForExcludeList, parseCredProtectInput, usableForAssertion } from './credProtect.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;
const PIN = '1234';

async function setup() {
  const t = createTestEnv({ seed: 'cred-protect' });
  const auth = await createAuthenticator({ env: t.env });
  const pin = new PinClient((p) => ctapCall(auth, CtapCommand.authenticatorClientPIN, p), 2);
  const state = () => decodeState(t.store.snapshot()!);
  const make = async (level: unknown, spec: MakeCredentialSpec = {}) => {
    const extra: [number, unknown][] = level === undefined ? [] : [[6, new Map([['credProtect', level]])]];
    const r = await ctapCall(auth, MC, makeCredentialParams({ ...spec, extra: [...extra, ...(spec.extra ?? [])] }));
    const authData = r.status === 0 ? (r.body!.get(2) as Uint8Array) : undefined;
    return { status: r.status, id: authData && parseAuthData(authData).credentialId!, outputs: authData && extensionOutputs(authData) };
  };
  /** getAssertion, with a fresh ga token (UV) when `uv`; returns the status and the asserted credential IDs. */
  const assert = async (o: { uv?: boolean; allowList?: Uint8Array[] } = {}) => {
    const cdh = sha256('ga');
    const extra: [number, unknown][] = [[2, cdh]];
    if (o.uv) {
      const token = await pin.tokenOrThrow({ pin: PIN, permissions: Perm.ga, rpId: 'example.com' });
      extra.push([6, pin.param(token, cdh)], [7, 2]);
    }
    const r = await ctapCall(auth, GA, getAssertionParams({ ...(o.allowList ? { allowList: o.allowList } : {}), extra }));
    return { status: r.status, count: (r.body?.get(5) as number | undefined) ?? (r.status === 0 ? 1 : 0) };
  };
  return { t, auth, pin, state, make, assert };
}

describe('credProtect (CTAP 2.1 §12.1)', () => {
  /** Spec: §6.2.2 step 7.4/7.5 and §6.1.2 step 12.2 as tables. */
  it('rules: level 3 needs UV; level 2 needs UV or an allowList; in the excludeList level 3 counts only with UV', () => {
    for (const level of [0, 1]) {
      expect(usableForAssertion(level, { uv: false, allowList: false })).toBe(true);
      expect(countsForExcludeList(level, false)).toBe(true);
    }
    expect(usableForAssertion(2, { uv: false, allowList: false })).toBe(false);
    expect(usableForAssertion(2, { uv: false, allowList: true })).toBe(true);
    expect(usableForAssertion(2, { uv: true, allowList: false })).toBe(true);
    expect(usableForAssertion(3, { uv: false, allowList: true })).toBe(false);
    expect(usableForAssertion(3, { uv: true, allowList: false })).toBe(true);
    expect(countsForExcludeList(2, false)).toBe(true);
    expect(countsForExcludeList(3, false)).toBe(false);
    expect(countsForExcludeList(3, true)).toBe(true);
  });

  /** Decision: integers other than 1..3 are ignored; other CBOR types → CTAP2_ERR_CBOR_UNEXPECTED_TYPE. */
  it('input parsing: 1..3 kept, other integers ignored, other types rejected', () => {
    expect([1, 2, 3].map(parseCredProtectInput)).toEqual([1, 2, 3]);
    expect(parseCredProtectInput(0)).toBeUndefined();
    expect(parseCredProtectInput(4)).toBeUndefined();
    for (const wrong of ['userVerificationRequired', true, new Uint8Array([3])]) {
      expect(() => parseCredProtectInput(wrong)).toThrow(
        expect.objectContaining({ status: CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE }) as CtapError,
      );
    }
  });

  /** Spec: §12.1 output = the credProtect value applied; stored with the credential (record and wrapped ID). */
  it.each([1, 2, 3] as const)('level %i: output = level; stored in the record and in the credential ID (rk and non-rk)', async (level) => {
    const { make, state } = await setup();
    const rk = await make(level, { options: { rk: true } });
    const nonRk = await make(level, { userId: new Uint8Array([9]) });
    for (const c of [rk, nonRk]) {
      expect(c.status).toBe(CtapStatus.CTAP2_OK);
      expect([...c.outputs!.entries()]).toEqual([['credProtect', level]]);
    }
    const s = state();
    expect(s.residentCredentials.map((c) => c.credProtect)).toEqual([level]);
    const rpIdHash = sha256('example.com');
    // The wrapped ID carries the level for both (ctap/authenticator/credentialId.ts plaintext byte 2).
    const { crypto } = createTestEnv().env;
    expect(unwrapCredentialId(crypto, s.masterKey, rpIdHash, rk.id!)?.credProtect).toBe(level);
    expect(unwrapCredentialId(crypto, s.masterKey, rpIdHash, nonRk.id!)?.credProtect).toBe(level);
  });

  it('an out-of-range level (4) is ignored: no output, no ED, no level stored; a wrong type → CBOR_UNEXPECTED_TYPE', async () => {
    const { make, state } = await setup();
    const c = await make(4, { options: { rk: true } });
    expect(c.status).toBe(CtapStatus.CTAP2_OK);
    expect(c.outputs).toBeUndefined();
    expect(state().residentCredentials[0]!.credProtect).toBeUndefined();
    expect((await make('high')).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
  });

  /** Spec: §6.2.2 step 7: discoverable look-up without UV hides levels 2 and 3; with UV all are found. */
  it('discoverable credentials: without UV only level 1 (or none) is found; with UV all three', async () => {
    const { make, pin, assert } = await setup();
    for (const [i, level] of [undefined, 2, 3].entries()) {
      expect((await make(level, { options: { rk: true }, userId: new Uint8Array([i]) })).status).toBe(0);
    }
    expect(await assert()).toEqual({ status: 0, count: 1 });
    expect(await pin.setPin(PIN)).toBe(0);
    expect(await assert({ uv: true })).toEqual({ status: 0, count: 3 });
  });

  /** Spec: §6.2.2 step 7: an empty applicable list → CTAP2_ERR_NO_CREDENTIALS, before any touch. */
  it('level 2: found with its ID in the allowList, not by discovery; level 3: never without UV', async () => {
    const { t, make, pin, assert } = await setup();
    const two = await make(2, { options: { rk: true }, userId: new Uint8Array([2]) });
    const three = await make(3, { userId: new Uint8Array([3]) }); // non-discoverable: the level is in the ID
    const touches = t.presence.requests.length;
    expect((await assert()).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect((await assert({ allowList: [three.id!] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect(t.presence.requests.length).toBe(touches);
    expect((await assert({ allowList: [two.id!] })).status).toBe(CtapStatus.CTAP2_OK);
    expect(await pin.setPin(PIN)).toBe(0);
    expect((await assert({ uv: true, allowList: [three.id!] })).status).toBe(CtapStatus.CTAP2_OK);
  });

  /** Spec: §6.1.2 step 12.2.2: a level-3 credential is removed from the excludeList when UV was not collected. */
  it('excludeList: level 3 is skipped without UV, excludes with UV; level 2 excludes without UV', async () => {
    const { make, pin } = await setup();
    const three = await make(3, { userId: new Uint8Array([3]) });
    const two = await make(2, { userId: new Uint8Array([2]) });
    expect((await make(undefined, { excludeList: [three.id!] })).status).toBe(CtapStatus.CTAP2_OK);
    expect((await make(undefined, { excludeList: [two.id!] })).status).toBe(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED);
    expect(await pin.setPin(PIN)).toBe(0);
    const token = await pin.tokenOrThrow({ pin: PIN, permissions: Perm.mc, rpId: 'example.com' });
    const cdh = sha256('mc');
    const withUv = await make(undefined, {
      clientDataHash: cdh,
      excludeList: [three.id!],
      extra: [
        [8, pin.param(token, cdh)],
        [9, 2],
      ],
    });
    expect(withUv.status).toBe(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED);
  });
});
