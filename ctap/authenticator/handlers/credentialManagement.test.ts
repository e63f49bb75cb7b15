/**
 * authenticatorCredentialManagement (CTAP 2.1 §6.8; prototype 0x41, §6.13) through the dispatcher, with the
 * platform side (pinUvAuthParam = authenticate(token, subCommand || subCommandParams)) built in
 * test/helpers/management.ts on node:crypto.
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, pinlessProfile, type Profile } from '../profile.ts';
import { decodeState } from '../state.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { CborMap } from '../../cbor.ts';
import { createTestEnv, createTestRequest, ctapCall, getAssertionParams, makeCredentialParams } from '../../../test/helpers/testEnv.ts';
import { Perm, PinClient, sha256 } from '../../../test/helpers/pinClient.ts';
import { CredSub, ManagementClient, type Auth, type CborCall } from '../../../test/helpers/management.ts';
import { parseAuthData } from '../../../test/helpers/webauthn.ts';

const PIN = '1234';
const S = CtapStatus;

async function setup(profile: Profile = defaultProfile) {
  const t = createTestEnv({ seed: 'credman' });
  const auth = await createAuthenticator({ env: t.env, profile });
  const call: CborCall = async (cmd, params) => {
    const r = await ctapCall(auth, cmd, params);
    return { status: r.status, body: r.body };
  };
  const pin = new PinClient((p) => call(CtapCommand.authenticatorClientPIN, p), 2);
  const m = new ManagementClient(call);
  /** A discoverable credential (made before any PIN is set, so without UV); its ID and COSE public key. */
  type Extra = { rpName?: string; algs?: number[]; displayName?: string; extensions?: unknown };
  const makeRk = async (rpId: string, userId: number, extra: Extra = {}) => {
    const r = await ctapCall(
      auth,
      CtapCommand.authenticatorMakeCredential,
      makeCredentialParams({
        rpId,
        userId: new Uint8Array([userId]),
        userName: `user${userId}`,
        ...(extra.displayName !== undefined ? { displayName: extra.displayName } : {}),
        ...(extra.rpName !== undefined ? { rpName: extra.rpName } : {}),
        ...(extra.algs ? { algs: extra.algs } : {}),
        options: { rk: true },
        ...(extra.extensions ? { extra: [[6, extra.extensions]] } : {}),
      }),
    );
    expect(r.status).toBe(0);
    const ad = parseAuthData(r.body!.get(2) as Uint8Array);
    return { id: ad.credentialId!, publicKey: ad.publicKey!, response: r.body! };
  };
  const token = async (permissions: number = Perm.cm, rpId?: string): Promise<Auth> => {
    if (decodeState(t.store.snapshot()!).pin === undefined) expect(await pin.setPin(PIN)).toBe(0);
    return { pin, token: await pin.tokenOrThrow({ pin: PIN, permissions, ...(rpId ? { rpId } : {}) }) };
  };
  return { t, auth, call, pin, m, makeRk, token };
}

const rpHash = (rpId: string) => sha256(rpId);

describe('authenticatorCredentialManagement (CTAP 2.1 §6.8)', () => {
  /** Spec: §6.8.2 getCredsMetadata; §6.8 authentication (CHECKLIST B8.1). */
  it('getCredsMetadata counts discoverable credentials; auth: PUAT_REQUIRED, MISSING_PARAMETER, PIN_AUTH_INVALID', async () => {
    const { call, m, makeRk, token } = await setup();
    await makeRk('a.example', 1);
    await makeRk('b.example', 2);
    const auth = await token();
    expect(await m.credMgmt(CredSub.getCredsMetadata, { auth })).toEqual({
      status: 0,
      body: new Map([
        [1, 2],
        [2, defaultProfile.residentCredentialCapacity - 2],
      ]),
    });
    expect((await m.credMgmt(CredSub.getCredsMetadata)).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
    const noProtocol = await call(0x0a, new Map<number, unknown>([[1, 1], [4, new Uint8Array(32)]]));
    expect(noProtocol.status).toBe(S.CTAP2_ERR_MISSING_PARAMETER);
    const wrongKey = { ...auth, token: new Uint8Array(32).fill(9) };
    expect((await m.credMgmt(CredSub.getCredsMetadata, { auth: wrongKey })).status).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    // A token without cm, and a cm token bound to an RP ID, are refused (OpenSK, CHECKLIST B8).
    expect((await m.credMgmt(CredSub.getCredsMetadata, { auth: await token(Perm.lbw) })).status).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await m.credMgmt(CredSub.getCredsMetadata, { auth: await token(Perm.cm, 'a.example') })).status).toBe(
      S.CTAP2_ERR_PIN_AUTH_INVALID,
    );
  });

  /** Spec: §6.8.3 enumerateRPsBegin / enumerateRPsGetNextRP; 30 s state; NO_CREDENTIALS when empty. */
  it('enumerates RPs (creation order, rp name, rpIDHash, totalRPs) and refuses a GetNext past the end', async () => {
    const empty = await setup();
    expect((await empty.m.credMgmt(CredSub.enumerateRPsBegin, { auth: await empty.token() })).status).toBe(S.CTAP2_ERR_NO_CREDENTIALS);
    const { m, makeRk, token } = await setup();
    await makeRk('a.example', 1, { rpName: 'A Corp' });
    await makeRk('b.example', 2);
    await makeRk('a.example', 3);
    const auth = await token();
    const first = await m.credMgmt(CredSub.enumerateRPsBegin, { auth });
    expect(first).toEqual({
      status: 0,
      body: new Map<number, unknown>([
        [3, new Map([['id', 'a.example'], ['name', 'A Corp']])],
        [4, rpHash('a.example')],
        [5, 2],
      ]),
    });
    expect(await m.credMgmt(CredSub.enumerateRPsGetNextRP)).toEqual({
      status: 0,
      body: new Map<number, unknown>([
        [3, new Map([['id', 'b.example']])],
        [4, rpHash('b.example')],
      ]),
    });
    expect((await m.credMgmt(CredSub.enumerateRPsGetNextRP)).status).toBe(S.CTAP2_ERR_NOT_ALLOWED);
    // The prototype command 0x41 serves the same subcommands.
    expect((await m.credMgmt(CredSub.enumerateRPsBegin, { auth, preview: true })).body!.get(5)).toBe(2);
  });

  /** Spec: §6.8.3 — the state needs the Begin, on the same channel, with no other command between, within 30 s. */
  it('GetNext: NOT_ALLOWED without Begin, after another command, on another channel, or after 30 s', async () => {
    const { t, auth: device, m, makeRk, token } = await setup();
    for (const [i, rp] of ['a.example', 'b.example', 'c.example'].entries()) await makeRk(rp, i);
    const auth = await token();
    expect((await m.credMgmt(CredSub.enumerateRPsGetNextRP)).status).toBe(S.CTAP2_ERR_NOT_ALLOWED);

    expect((await m.credMgmt(CredSub.enumerateRPsBegin, { auth })).status).toBe(0);
    await ctapCall(device, CtapCommand.authenticatorGetInfo);
    expect((await m.credMgmt(CredSub.enumerateRPsGetNextRP)).status).toBe(S.CTAP2_ERR_NOT_ALLOWED);

    expect((await m.credMgmt(CredSub.enumerateRPsBegin, { auth })).status).toBe(0);
    const other = await ctapCall(device, CtapCommand.authenticatorCredentialManagement, new Map([[1, 3]]), createTestRequest(2));
    expect(other.status).toBe(S.CTAP2_ERR_NOT_ALLOWED);
    expect((await m.credMgmt(CredSub.enumerateRPsGetNextRP)).status).toBe(S.CTAP2_ERR_NOT_ALLOWED);

    expect((await m.credMgmt(CredSub.enumerateRPsBegin, { auth })).status).toBe(0);
    t.scheduler.advance(29_000);
    expect((await m.credMgmt(CredSub.enumerateRPsGetNextRP)).status).toBe(0); // restarts the timer
    t.scheduler.advance(30_001);
    expect((await m.credMgmt(CredSub.enumerateRPsGetNextRP)).status).toBe(S.CTAP2_ERR_NOT_ALLOWED);

    // A credential enumeration is not continued by enumerateRPsGetNextRP, nor the other way round.
    expect((await m.credMgmt(CredSub.enumerateRPsBegin, { auth })).status).toBe(0);
    expect((await m.credMgmt(CredSub.enumerateCredentialsGetNextCredential)).status).toBe(S.CTAP2_ERR_NOT_ALLOWED);
  });

  /** Spec: §6.8.4 enumerateCredentialsBegin / GetNextCredential: user, credentialID, publicKey, totalCredentials, credProtect. */
  it('enumerates the credentials of one RP with their COSE public keys; a token bound to an RP sees only that RP', async () => {
    const { m, makeRk, token } = await setup();
    const c1 = await makeRk('a.example', 1, { displayName: 'One' });
    const c2 = await makeRk('a.example', 2, { algs: [-8] });
    await makeRk('b.example', 3);
    const params = new Map([[1, rpHash('a.example')]]);
    const auth = await token();
    const first = await m.credMgmt(CredSub.enumerateCredentialsBegin, { params, auth });
    expect(first.status).toBe(0);
    const b = first.body!;
    expect(b.get(6)).toEqual(new Map<string, unknown>([['id', new Uint8Array([1])], ['name', 'user1'], ['displayName', 'One']]));
    expect(b.get(7)).toEqual(new Map<string, unknown>([['id', c1.id], ['type', 'public-key']]));
    expect(b.get(8)).toEqual(c1.publicKey);
    expect(b.get(9)).toBe(2);
    expect(b.get(10)).toBe(1); // no credProtect requested: userVerificationOptional
    const next = await m.credMgmt(CredSub.enumerateCredentialsGetNextCredential);
    expect([...next.body!.keys()]).toEqual([6, 7, 8, 10]);
    expect((next.body!.get(7) as CborMap).get('id')).toEqual(c2.id);
    expect(next.body!.get(8)).toEqual(c2.publicKey); // the Ed25519 key
    expect((await m.credMgmt(CredSub.enumerateCredentialsGetNextCredential)).status).toBe(S.CTAP2_ERR_NOT_ALLOWED);

    const boundToB = await token(Perm.cm, 'b.example');
    expect((await m.credMgmt(CredSub.enumerateCredentialsBegin, { params, auth: boundToB })).status).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    const forB = await m.credMgmt(CredSub.enumerateCredentialsBegin, { params: new Map([[1, rpHash('b.example')]]), auth: boundToB });
    expect(forB.body!.get(9)).toBe(1);
    // (Issuing that token revoked the first one: CTAP 2.1 §6.5.5.7 resetPinUvAuthToken().)
    expect((await m.credMgmt(CredSub.enumerateCredentialsBegin, { params, auth })).status).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    const fresh = await token();
    expect((await m.credMgmt(CredSub.enumerateCredentialsBegin, { params: new Map([[1, rpHash('c.example')]]), auth: fresh })).status).toBe(
      S.CTAP2_ERR_NO_CREDENTIALS,
    );
    const byId = new Map([[2, new Map<string, unknown>([['id', c1.id], ['type', 'public-key']])]]);
    expect((await m.credMgmt(CredSub.enumerateCredentialsBegin, { params: byId, auth: fresh })).status).toBe(
      S.CTAP2_ERR_MISSING_PARAMETER,
    );
  });

  /** Spec: §6.8.4 — largeBlobKey (0x0B) and credProtect (0x0A) as stored by the extensions. */
  it('reports credProtect and the largeBlobKey of credentials made with those extensions', async () => {
    const { m, makeRk, token } = await setup();
    const c = await makeRk('a.example', 1, { extensions: new Map<string, unknown>([['credProtect', 2], ['largeBlobKey', true]]) });
    const r = await m.credMgmt(CredSub.enumerateCredentialsBegin, { params: new Map([[1, rpHash('a.example')]]), auth: await token() });
    expect(r.body!.get(10)).toBe(2);
    expect(r.body!.get(11)).toEqual(c.response.get(5));
    expect((r.body!.get(11) as Uint8Array).length).toBe(32);
  });

  /** Spec: §6.8.5 deleteCredential — the credential is gone for getAssertion too; persisted. */
  it('deleteCredential removes it (persisted); unknown ID → NO_CREDENTIALS; a token bound to another RP → PIN_AUTH_INVALID', async () => {
    const { t, auth: device, m, makeRk, token } = await setup();
    const a = await makeRk('a.example', 1);
    await makeRk('a.example', 2);
    const descriptor = new Map<string, unknown>([['id', a.id], ['type', 'public-key']]);
    const params = new Map([[2, descriptor]]);
    expect((await m.credMgmt(CredSub.deleteCredential, { params, auth: await token(Perm.cm, 'b.example') })).status).toBe(
      S.CTAP2_ERR_PIN_AUTH_INVALID,
    );
    const auth = await token(Perm.cm, 'a.example');
    expect(await m.credMgmt(CredSub.deleteCredential, { params, auth })).toEqual({ status: 0, body: undefined });
    expect(decodeState(t.store.snapshot()!).residentCredentials.map((c) => c.user.id[0])).toEqual([2]);
    expect((await m.credMgmt(CredSub.deleteCredential, { params, auth })).status).toBe(S.CTAP2_ERR_NO_CREDENTIALS);
    const ga = await ctapCall(device, CtapCommand.authenticatorGetAssertion, getAssertionParams({ rpId: 'a.example', allowList: [a.id] }));
    expect(ga.status).toBe(S.CTAP2_ERR_NO_CREDENTIALS);
    expect((await m.credMgmt(CredSub.deleteCredential, { auth })).status).toBe(S.CTAP2_ERR_MISSING_PARAMETER);
  });

  /** Spec: §6.8.6 updateUserInformation — name / displayName replaced, absent or empty removed; id must match. */
  it('updateUserInformation replaces name, removes displayName, refuses another user.id; also on 0x41 (libfido2 1.12)', async () => {
    const { t, m, makeRk, token } = await setup();
    const c = await makeRk('a.example', 7, { displayName: 'Old' });
    const descriptor = new Map<string, unknown>([['id', c.id], ['type', 'public-key']]);
    const auth = await token();
    const update = (user: Record<string, unknown>, preview = false) =>
      m.credMgmt(CredSub.updateUserInformation, { params: new Map<number, unknown>([[2, descriptor], [3, user]]), auth, preview });
    expect((await update({ id: new Uint8Array([8]), name: 'x' })).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER);
    expect((await update({ id: new Uint8Array([7]), name: 'new', displayName: '' })).status).toBe(0);
    expect(decodeState(t.store.snapshot()!).residentCredentials[0]!.user).toEqual({ id: new Uint8Array([7]), name: 'new' });
    // Decision: the prototype command serves it too (libfido2 ≤ 1.12 sends fido_credman_set_dev_rk as 0x41).
    expect((await update({ id: new Uint8Array([7]), displayName: 'Via 0x41' }, true)).status).toBe(0);
    expect(decodeState(t.store.snapshot()!).residentCredentials[0]!.user).toEqual({ id: new Uint8Array([7]), displayName: 'Via 0x41' });
  });

  it('unknown subcommand → INVALID_SUBCOMMAND; no parameters → MISSING_PARAMETER; a key without PIN/UV has no command', async () => {
    const { call, m } = await setup();
    expect((await m.credMgmt(0x08)).status).toBe(S.CTAP2_ERR_INVALID_SUBCOMMAND);
    expect((await call(0x0a)).status).toBe(S.CTAP2_ERR_MISSING_PARAMETER);
    const pinless = await setup(pinlessProfile);
    expect((await pinless.m.credMgmt(CredSub.getCredsMetadata)).status).toBe(S.CTAP1_ERR_INVALID_COMMAND);
    expect((await pinless.m.credMgmt(CredSub.getCredsMetadata, { preview: true })).status).toBe(S.CTAP1_ERR_INVALID_COMMAND);
  });
});
