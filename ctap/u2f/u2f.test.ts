/**
 * CTAP1/U2F through Authenticator.handleMsg: REGISTER / AUTHENTICATE / VERSION (FIDO U2F Raw Message Formats
 * v1.2), key handles shared with CTAP2 (CTAP 2.1 §11, CHECKLIST E6). Signatures are checked with node:crypto
 * (test/helpers/u2f.ts), not with vfido's code.
 */
import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { createAuthenticator, type Authenticator } from '../authenticator/authenticator.ts';
import { defaultProfile, pinlessProfile, u2fProfile, type Profile } from '../authenticator/profile.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, createTestRequest, ctapCall, getAssertionParams, makeCredentialParams, type TestEnv } from '../../test/helpers/testEnv.ts';
import {
  INS,
  P1,
  SW,
  apdu,
  authenticateApdu,
  p256Key,
  parseAuthentication,
  parseRegistration,
  registerApdu,
  splitResponse,
  verifyAuthentication,
  verifyRegistration,
  type Registration,
} from '../../test/helpers/u2f.ts';
import { coseToKeyObject, parseAuthData, sha256, verifySignature } from '../../test/helpers/webauthn.ts';

const flush = () => new Promise<void>((r) => setImmediate(r));
const CHALLENGE = sha256('client data');
const APP = sha256('example.com');

async function setup(profile: Profile = defaultProfile, t: TestEnv = createTestEnv()) {
  const errors: unknown[] = [];
  const auth = await createAuthenticator({ env: t.env, profile, onInternalError: (e) => errors.push(e) });
  const send = async (bytes: Uint8Array) => splitResponse(await auth.handleMsg(bytes, createTestRequest().ctx));
  /** Like a host: send, and once more after the background touch when the first answer is 0x6985. */
  const touchAndSend = async (bytes: Uint8Array) => {
    const first = await send(bytes);
    if (first.sw !== SW.CONDITIONS_NOT_SATISFIED) return first;
    await flush();
    return send(bytes);
  };
  return { t, auth, errors, send, touchAndSend };
}

async function register(s: Awaited<ReturnType<typeof setup>>, app = APP): Promise<Registration> {
  const r = await s.touchAndSend(registerApdu(CHALLENGE, app));
  expect(r.sw).toBe(SW.NO_ERROR);
  return parseRegistration(r.data);
}

describe('U2F_VERSION (§6)', () => {
  it('answers "U2F_V2"; data → SW_WRONG_LENGTH', async () => {
    const s = await setup();
    const r = await s.send(apdu(INS.VERSION));
    expect(r.sw).toBe(SW.NO_ERROR);
    expect(Buffer.from(r.data).toString('latin1')).toBe('U2F_V2');
    expect((await s.send(apdu(INS.VERSION, Uint8Array.of(1)))).sw).toBe(SW.WRONG_LENGTH);
  });

  /** Spec: ISO 7816 via U2F §3.3: unknown INS → 0x6D00, CLA ≠ 0 → 0x6E00, malformed length → 0x6700. */
  it('unknown INS, CLA ≠ 0 and bad lengths get their status words', async () => {
    const s = await setup();
    expect((await s.send(apdu(0x55))).sw).toBe(SW.INS_NOT_SUPPORTED);
    expect((await s.send(apdu(INS.VERSION, undefined, 0, 0x80))).sw).toBe(SW.CLA_NOT_SUPPORTED);
    expect((await s.send(Uint8Array.of(0, 3, 0)))).toEqual({ sw: SW.WRONG_LENGTH, data: new Uint8Array(0) });
  });
});

describe('U2F_REGISTER (§4)', () => {
  /** Spec: §4.3 response layout and attestation signature; §3.3 non-blocking user presence (CHECKLIST E5). */
  it('asks for a touch first (0x6985), then returns a key, key handle, the attestation certificate and its signature', async () => {
    const s = await setup();
    const first = await s.send(registerApdu(CHALLENGE, APP));
    expect(first).toEqual({ sw: SW.CONDITIONS_NOT_SATISFIED, data: new Uint8Array(0) });
    expect(s.t.presence.requests.map((r) => r.command)).toEqual(['u2fRegister']);
    await flush();
    const r = await s.send(registerApdu(CHALLENGE, APP));
    expect(r.sw).toBe(SW.NO_ERROR);
    const reg = parseRegistration(r.data);
    expect(reg.publicKey[0]).toBe(0x04);
    expect(reg.keyHandle.length).toBeGreaterThan(0);
    // The certificate is the device's attestation certificate (the leaf of its chain), and it signed the response.
    expect(new X509Certificate(Buffer.from(reg.certificate)).raw).toEqual(Buffer.from(await exportLeaf(s.auth)));
    expect(verifyRegistration(reg, APP, CHALLENGE)).toBe(true);
    expect(verifyRegistration(reg, APP, sha256('other challenge'))).toBe(false);
    // One touch, one registration.
    expect((await s.send(registerApdu(CHALLENGE, APP))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('wrong data length → SW_WRONG_LENGTH without asking for a touch', async () => {
    const s = await setup();
    expect((await s.send(apdu(INS.REGISTER, new Uint8Array(63)))).sw).toBe(SW.WRONG_LENGTH);
    expect(s.t.presence.requests).toHaveLength(0);
  });

  it('each registration makes a new key and key handle', async () => {
    const s = await setup();
    const a = await register(s);
    const b = await register(s);
    expect(a.publicKey).not.toEqual(b.publicKey);
    expect(a.keyHandle).not.toEqual(b.keyHandle);
  });
});

/** The attestation leaf certificate, read back through the CTAP2 side: a packed basic attestation carries it in x5c. */
async function exportLeaf(auth: Authenticator): Promise<Uint8Array> {
  const r = await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ rpId: 'leaf.example' }));
  const attStmt = r.body!.get(3) as Map<string, unknown>;
  return (attStmt.get('x5c') as Uint8Array[])[0]!;
}

describe('U2F_AUTHENTICATE (§5)', () => {
  /** Spec: §5.4 response and signature; the counter rises with every signature. */
  it('enforce-user-presence: 0x6985 until touched, then UP 1, a rising counter and a valid signature', async () => {
    const s = await setup();
    const reg = await register(s);
    const key = p256Key(reg.publicKey);
    const counters: number[] = [];
    for (const challenge of [sha256('c1'), sha256('c2')]) {
      const first = await s.send(authenticateApdu(challenge, APP, reg.keyHandle, P1.ENFORCE));
      expect(first.sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
      await flush();
      const r = await s.send(authenticateApdu(challenge, APP, reg.keyHandle, P1.ENFORCE));
      expect(r.sw).toBe(SW.NO_ERROR);
      const a = parseAuthentication(r.data);
      expect(a.userPresence).toBe(1);
      expect(verifyAuthentication(key, a, APP, challenge)).toBe(true);
      counters.push(a.counter);
    }
    expect(counters).toEqual([1, 2]);
  });

  /** Spec: §5.1 check-only: a valid handle → 0x6985, another application's or a foreign one → 0x6A80; no touch. */
  it('check-only says whether the handle is ours for this application, without a touch', async () => {
    const s = await setup();
    const reg = await register(s);
    const asked = s.t.presence.requests.length;
    expect((await s.send(authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.CHECK_ONLY))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect((await s.send(authenticateApdu(CHALLENGE, sha256('other.example'), reg.keyHandle, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
    const bogus = reg.keyHandle.slice();
    bogus[bogus.length - 1]! ^= 1;
    expect((await s.send(authenticateApdu(CHALLENGE, APP, bogus, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
    expect((await s.send(authenticateApdu(CHALLENGE, APP, reg.keyHandle.subarray(0, 10), P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
    // A foreign handle is refused at once even when signing is asked for: no touch is wasted on it.
    expect((await s.send(authenticateApdu(CHALLENGE, sha256('other.example'), reg.keyHandle, P1.ENFORCE))).sw).toBe(SW.WRONG_DATA);
    expect(s.t.presence.requests).toHaveLength(asked);
  });

  it("dont-enforce-user-presence signs without a touch, UP byte 0, same counter", async () => {
    const s = await setup();
    const reg = await register(s);
    const asked = s.t.presence.requests.length;
    const r = await s.send(authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.DONT_ENFORCE));
    expect(r.sw).toBe(SW.NO_ERROR);
    const a = parseAuthentication(r.data);
    expect([a.userPresence, a.counter]).toEqual([0, 1]);
    expect(verifyAuthentication(p256Key(reg.publicKey), a, APP, CHALLENGE)).toBe(true);
    expect(s.t.presence.requests).toHaveLength(asked);
  });

  it('an undefined control byte → SW_WRONG_DATA; a key handle length that does not match → SW_WRONG_LENGTH', async () => {
    const s = await setup();
    const reg = await register(s);
    expect((await s.send(authenticateApdu(CHALLENGE, APP, reg.keyHandle, 0x05))).sw).toBe(SW.WRONG_DATA);
    const data = Uint8Array.of(...CHALLENGE, ...APP, reg.keyHandle.length + 1, ...reg.keyHandle);
    expect((await s.send(apdu(INS.AUTHENTICATE, data, P1.ENFORCE))).sw).toBe(SW.WRONG_LENGTH);
    expect((await s.send(apdu(INS.AUTHENTICATE, new Uint8Array(64), P1.ENFORCE))).sw).toBe(SW.WRONG_LENGTH);
  });
});

describe('U2F and CTAP2 share credentials and counters (CTAP 2.1 §11, CHECKLIST E6)', () => {
  it('a U2F key handle works in CTAP2 getAssertion for the rpId whose hash is the application, on the same counter', async () => {
    const s = await setup();
    const reg = await register(s, sha256('u2f.example'));
    const u = await s.send(authenticateApdu(CHALLENGE, sha256('u2f.example'), reg.keyHandle, P1.DONT_ENFORCE));
    expect(parseAuthentication(u.data).counter).toBe(1);
    const cdh = sha256('ctap2');
    const ga = await ctapCall(s.auth, CtapCommand.authenticatorGetAssertion, getAssertionParams({ rpId: 'u2f.example', clientDataHash: cdh, allowList: [reg.keyHandle] }));
    expect(ga.status).toBe(CtapStatus.CTAP2_OK);
    const authData = ga.body!.get(2) as Uint8Array;
    const ad = parseAuthData(authData);
    expect(ad.rpIdHash).toEqual(sha256('u2f.example'));
    expect(ad.signCount).toBe(2);
    expect(verifySignature(p256Key(reg.publicKey), -7, authData, cdh, ga.body!.get(3) as Uint8Array)).toBe(true);
    // Another rpId: the handle is bound to its application.
    const other = await ctapCall(s.auth, CtapCommand.authenticatorGetAssertion, getAssertionParams({ rpId: 'other.example', allowList: [reg.keyHandle] }));
    expect(other.status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
  });

  it('a CTAP2 ES256 credential (non-discoverable or discoverable) works as a U2F key handle for SHA-256(rpId)', async () => {
    const s = await setup();
    for (const rk of [false, true]) {
      const mc = await ctapCall(s.auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ rpId: 'shared.example', options: { rk } }));
      expect(mc.status).toBe(CtapStatus.CTAP2_OK);
      const ad = parseAuthData(mc.body!.get(2) as Uint8Array);
      const id = ad.credentialId!;
      const key = coseToKeyObject(ad.publicKey!);
      const ga = await ctapCall(s.auth, CtapCommand.authenticatorGetAssertion, getAssertionParams({ rpId: 'shared.example', allowList: [id] }));
      expect(parseAuthData(ga.body!.get(2) as Uint8Array).signCount).toBe(1);
      const app = sha256('shared.example');
      expect((await s.send(authenticateApdu(CHALLENGE, app, id, P1.CHECK_ONLY))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
      const r = await s.touchAndSend(authenticateApdu(CHALLENGE, app, id, P1.ENFORCE));
      expect(r.sw).toBe(SW.NO_ERROR);
      const a = parseAuthentication(r.data);
      expect(a.counter).toBe(2);
      expect(verifyAuthentication(key, a, app, CHALLENGE)).toBe(true);
      expect((await s.send(authenticateApdu(CHALLENGE, sha256('other.example'), id, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
    }
  });

  it('EdDSA credentials, credProtect userVerificationRequired ones and handles from before a reset are not U2F key handles', async () => {
    const s = await setup();
    const app = sha256('example.com');
    const ed = await ctapCall(s.auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ algs: [-8] }));
    const edId = parseAuthData(ed.body!.get(2) as Uint8Array).credentialId!;
    expect((await s.send(authenticateApdu(CHALLENGE, app, edId, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
    const cp3 = await ctapCall(
      s.auth,
      CtapCommand.authenticatorMakeCredential,
      makeCredentialParams({ options: { rk: true }, extra: [[6, { credProtect: 3 }]] }),
    );
    expect(cp3.status).toBe(CtapStatus.CTAP2_OK);
    const cp3Id = parseAuthData(cp3.body!.get(2) as Uint8Array).credentialId!;
    expect((await s.send(authenticateApdu(CHALLENGE, app, cp3Id, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
    const reg = await register(s);
    expect((await ctapCall(s.auth, CtapCommand.authenticatorReset)).status).toBe(CtapStatus.CTAP2_OK);
    expect((await s.send(authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);
  });

  /** Spec: CTAP 2.1 §6.3 / CHECKLIST B0.6: any other command discards the getNextAssertion state. */
  it('a U2F message ends a getAssertion / getNextAssertion sequence', async () => {
    const s = await setup();
    for (const id of [1, 2]) {
      await ctapCall(s.auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ userId: Uint8Array.of(id), options: { rk: true } }));
    }
    const ga = await ctapCall(s.auth, CtapCommand.authenticatorGetAssertion, getAssertionParams());
    expect(ga.body!.get(5)).toBe(2);
    await s.send(apdu(INS.VERSION));
    expect((await ctapCall(s.auth, CtapCommand.authenticatorGetNextAssertion)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });
});

describe('when U2F is off', () => {
  /** Spec: CHECKLIST E8 (OpenSK): alwaysUv disables CTAP1 (0x6986) and getInfo drops U2F_V2. */
  it('alwaysUv: every APDU → SW_COMMAND_NOT_ALLOWED, and versions lose U2F_V2', async () => {
    const s = await setup({ ...defaultProfile, options: { ...defaultProfile.options, alwaysUv: true } });
    expect((await s.send(apdu(INS.VERSION))).sw).toBe(SW.COMMAND_NOT_ALLOWED);
    expect((await s.send(registerApdu(CHALLENGE, APP))).sw).toBe(SW.COMMAND_NOT_ALLOWED);
    expect(s.auth.info().versions).not.toContain('U2F_V2');
    expect(s.t.presence.requests).toHaveLength(0);
  });

  /** Regression (review finding 3): the suspended ("locked") check was in the CBOR dispatcher only. */
  it('suspended: every APDU → SW_COMMAND_NOT_ALLOWED, no touch asked, nothing signed; unlocked, U2F works again', async () => {
    const s = await setup();
    const reg = await register(s);
    const touches = s.t.presence.requests.length;
    await s.auth.control.setSuspended(true);
    for (const bytes of [
      registerApdu(CHALLENGE, APP),
      authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.ENFORCE),
      authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.DONT_ENFORCE),
      apdu(INS.VERSION),
    ]) {
      expect(await s.touchAndSend(bytes)).toEqual({ sw: SW.COMMAND_NOT_ALLOWED, data: new Uint8Array(0) });
    }
    await flush();
    expect(s.t.presence.requests).toHaveLength(touches);
    await s.auth.control.setSuspended(false);
    expect((await s.send(authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.DONT_ENFORCE))).sw).toBe(SW.NO_ERROR);
    expect((await s.touchAndSend(registerApdu(CHALLENGE, APP))).sw).toBe(SW.NO_ERROR);
  });

  it('a profile without U2F answers SW_INS_NOT_SUPPORTED (its CTAPHID layer refuses MSG before that)', async () => {
    const s = await setup(pinlessProfile);
    expect((await s.send(apdu(INS.VERSION))).sw).toBe(SW.INS_NOT_SUPPORTED);
  });

  it('a power cycle forgets a touch nobody used', async () => {
    const s = await setup();
    expect((await s.send(registerApdu(CHALLENGE, APP))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    await flush();
    await s.auth.powerCycle();
    expect((await s.send(registerApdu(CHALLENGE, APP))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('a store that cannot be written → SW_UNKNOWN (0x6F00), reported as an internal error; no signature escapes', async () => {
    const s = await setup();
    const reg = await register(s);
    s.t.store.failSave = new Error('disk full');
    const r = await s.send(authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.DONT_ENFORCE));
    expect(r).toEqual({ sw: SW.UNKNOWN, data: new Uint8Array(0) });
    expect(s.errors).toHaveLength(1);
  });
});

describe('the U2F-only profile', () => {
  it('registers and authenticates; CTAP2 commands are unknown to it', async () => {
    const s = await setup(u2fProfile);
    const reg = await register(s);
    expect(verifyRegistration(reg, APP, CHALLENGE)).toBe(true);
    const r = await s.touchAndSend(authenticateApdu(CHALLENGE, APP, reg.keyHandle, P1.ENFORCE));
    expect(verifyAuthentication(p256Key(reg.publicKey), parseAuthentication(r.data), APP, CHALLENGE)).toBe(true);
    expect((await ctapCall(s.auth, CtapCommand.authenticatorGetInfo)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
  });
});

describe('CTAP2 reset', () => {
  it('forgets a U2F touch nobody used', async () => {
    const s = await setup();
    expect((await s.send(registerApdu(CHALLENGE, APP))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    await flush();
    expect((await ctapCall(s.auth, CtapCommand.authenticatorReset)).status).toBe(CtapStatus.CTAP2_OK);
    expect((await s.send(registerApdu(CHALLENGE, APP))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});
