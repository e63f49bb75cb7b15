/**
 * The one credential look-up by ID (credentialById): stored records by exact ID (discoverable and injected
 * server-side ones, bound to their RP), then wrapped IDs; and the handlers that use it (allowList,
 * excludeList, U2F key handles). Keys are generated with node:crypto, never with vfido's code.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createAuthenticator, type Authenticator } from '../authenticator.ts';
import { u2fProfile, type Profile } from '../profile.ts';
import { CtapStatus } from '../../constants/status.ts';
import { createTestEnv, createTestRequest, ctapCall, getAssertionParams, makeCredentialParams } from '../../../test/helpers/testEnv.ts';
import { P1, SW, authenticateApdu, parseAuthentication, splitResponse, verifyAuthentication } from '../../../test/helpers/u2f.ts';
import { parseAuthData, sha256, verifySignature } from '../../../test/helpers/webauthn.ts';
import { credentialById } from './credentials.ts';

const MC = 0x01;
const GA = 0x02;
const RP = 'example.com';
const OTHER = 'other.example';
const CDH = new Uint8Array(32).fill(0xab);

function p256(): { raw: Uint8Array; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { raw: new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')), publicKey };
}

async function setup(profile?: Profile) {
  const t = createTestEnv({ seed: 'lookup' });
  const auth = await createAuthenticator({ env: t.env, attestation: 'none', ...(profile ? { profile } : {}) });
  const find = (rpId: string, id: Uint8Array) => credentialById(t.env.crypto, auth.control.state(), sha256(rpId), id);
  return { t, auth, find };
}

async function makeCredential(auth: Authenticator, rk: boolean): Promise<Uint8Array> {
  const r = await ctapCall(auth, MC, makeCredentialParams({ options: rk ? { rk: true } : {}, userId: new Uint8Array([rk ? 1 : 2]) }));
  expect(r.status).toBe(0);
  return parseAuthData(r.body!.get(2) as Uint8Array).credentialId!;
}

describe('credentialById', () => {
  it('a discoverable credential stored under a chosen ID: found by exactly those bytes, for its own RP only', async () => {
    const { auth, find } = await setup();
    const key = p256();
    const id = new Uint8Array([1, 2, 3]);
    await auth.control.addCredential({ rpId: RP, user: { id: new Uint8Array([7]) }, alg: -7, privateKey: key.raw, credentialId: id });
    const found = find(RP, id);
    expect(found?.credentialId).toEqual(id);
    expect(found?.privateKey).toEqual(key.raw);
    expect(found?.resident?.user.id).toEqual(new Uint8Array([7]));
    expect(find(OTHER, id)).toBeUndefined();
    expect(find(RP, new Uint8Array([1, 2, 3, 4]))).toBeUndefined();
    expect(find(RP, new Uint8Array([1, 2]))).toBeUndefined();
  });

  it('a server-side credential: found by exact ID for its RP, not discoverable, skipped while out of service', async () => {
    const { auth, find } = await setup();
    const key = p256();
    const id = new Uint8Array(20).fill(0x5a);
    await auth.control.addCredential({ rpId: RP, alg: -7, privateKey: key.raw, credentialId: id, discoverable: false });
    const found = find(RP, id);
    expect(found).toMatchObject({ credentialId: id, privateKey: key.raw, credProtect: 0 });
    expect(found?.resident).toBeUndefined();
    expect(find(OTHER, id)).toBeUndefined();
    // Never discoverable: a getAssertion without an allowList finds nothing.
    expect((await ctapCall(auth, GA, getAssertionParams())).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    await auth.control.deactivateCredential(id);
    expect(find(RP, id)).toBeUndefined();
    await auth.control.restoreCredential(id);
    expect(find(RP, id)?.privateKey).toEqual(key.raw);
    await auth.control.corruptCredential(id, 'record');
    expect(find(RP, id)).toBeUndefined();
  });

  it('wrapped IDs: a non-discoverable one opens for its RP; a discoverable one counts only while its record is stored', async () => {
    const { auth, find } = await setup();
    const nonRk = await makeCredential(auth, false);
    const rk = await makeCredential(auth, true);
    expect(find(RP, nonRk)?.resident).toBeUndefined();
    expect(find(RP, nonRk)?.privateKey).toHaveLength(32);
    expect(find(OTHER, nonRk)).toBeUndefined();
    expect(find(RP, rk)?.resident?.rpId).toBe(RP);
    await auth.control.removeCredential(rk);
    // The ID still opens under the master key, but it says "discoverable" and the record is gone.
    expect(find(RP, rk)).toBeUndefined();
    // A damaged ID is foreign.
    const bogus = nonRk.slice();
    bogus[bogus.length - 1]! ^= 1;
    expect(find(RP, bogus)).toBeUndefined();
  });

  it('allowList and excludeList go through it: a server-side credential signs and excludes; its counter persists', async () => {
    const { t, auth } = await setup();
    const key = p256();
    const id = new Uint8Array([9, 9, 9, 9]);
    await auth.control.addCredential({ rpId: RP, alg: -7, privateKey: key.raw, credentialId: id, discoverable: false, signCount: 41 });
    const a = await ctapCall(auth, GA, getAssertionParams({ allowList: [new Uint8Array([1]), id] }));
    expect(a.status).toBe(0);
    expect((a.body!.get(1) as Map<string, unknown>).get('id')).toEqual(id);
    expect(a.body!.has(4)).toBe(false); // no user entity for a non-discoverable credential
    const authData = a.body!.get(2) as Uint8Array;
    expect(parseAuthData(authData).signCount).toBe(42);
    expect(verifySignature(key.publicKey, -7, authData, CDH, a.body!.get(3) as Uint8Array)).toBe(true);
    expect((await ctapCall(auth, GA, getAssertionParams({ rpId: OTHER, allowList: [id] }))).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    const mc = await ctapCall(auth, MC, makeCredentialParams({ excludeList: [id] }));
    expect(mc.status).toBe(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED);
    // A new instance on the same bytes: the record and its counter were persisted.
    const again = await createAuthenticator({ env: createTestEnv({ stored: t.store.snapshot()! }).env, attestation: 'none' });
    const b = await ctapCall(again, GA, getAssertionParams({ allowList: [id] }));
    expect(parseAuthData(b.body!.get(2) as Uint8Array).signCount).toBe(43);
  });

  it('U2F key handles go through it: a server-side credential injected into a U2F-only key authenticates', async () => {
    const { auth } = await setup(u2fProfile);
    const key = p256();
    const handle = new Uint8Array(48).fill(0x33);
    await auth.control.addCredential({ rpId: RP, alg: -7, privateKey: key.raw, credentialId: handle, discoverable: false, signCount: 5 });
    const app = sha256(RP);
    const challenge = sha256('u2f challenge');
    const send = async (b: Uint8Array) => splitResponse(await auth.handleMsg(b, createTestRequest().ctx));
    // check-only: "known" is answered as test-of-user-presence-required; another application does not know it.
    expect((await send(authenticateApdu(challenge, app, handle, P1.CHECK_ONLY))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect((await send(authenticateApdu(challenge, sha256(OTHER), handle, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
    const r = await send(authenticateApdu(challenge, app, handle, P1.DONT_ENFORCE));
    expect(r.sw).toBe(SW.NO_ERROR);
    const signed = parseAuthentication(r.data);
    expect(signed.counter).toBe(6);
    expect(verifyAuthentication(key.publicKey, signed, app, challenge)).toBe(true);
  });
});
