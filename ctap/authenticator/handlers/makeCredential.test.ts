import { X509Certificate, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthenticatorOptions } from '../authenticator.ts';
import { defaultProfile, pinlessProfile, type Profile } from '../profile.ts';
import { CtapCommand, KeepaliveStatus } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { CborMap } from '../../cbor.ts';
import { toHex } from '../../bytes.ts';
import { decodeState } from '../state.ts';
import {
  createTestEnv,
  createTestRequest,
  ctapCall,
  getAssertionParams,
  makeCredentialParams,
  type MakeCredentialSpec,
  type TestEnvOptions,
} from '../../../test/helpers/testEnv.ts';
import { coseToKeyObject, parseAuthData, sha256, verifySignature } from '../../../test/helpers/webauthn.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;

async function setup(o: Partial<Omit<AuthenticatorOptions, 'env'>> & TestEnvOptions = {}) {
  const t = createTestEnv(o);
  const auth = await createAuthenticator({ ...o, env: t.env });
  const mc = (spec: MakeCredentialSpec = {}, request = createTestRequest()) =>
    ctapCall(auth, MC, makeCredentialParams(spec), request);
  return { t, auth, mc };
}

function attestation(body: CborMap | undefined) {
  const authData = body!.get(2) as Uint8Array;
  return { fmt: body!.get(1) as string, authData, attStmt: body!.get(3) as CborMap, parsed: parseAuthData(authData) };
}

describe('authenticatorMakeCredential (CTAP 2.1 §6.1.2)', () => {
  describe('credential and authenticator data', () => {
    it('creates an ES256 credential: authData = SHA-256(rp.id) | UP|AT | signCount 0 | AAGUID | id | COSE key (D1–D4)', async () => {
      const { mc } = await setup();
      const r = await mc({ rpId: 'login.example.com' });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      const { parsed } = attestation(r.body);
      expect(parsed.rpIdHash).toEqual(sha256('login.example.com'));
      expect(parsed.flags).toBe(0x41); // UP | AT, no UV, BE/BS 0, no ED
      expect(parsed.signCount).toBe(0);
      expect(parsed.aaguid).toEqual(defaultProfile.aaguid);
      expect(parsed.credentialId!.length).toBe(64);
      const key = parsed.publicKey!;
      expect([...key.keys()]).toEqual([1, 3, -1, -2, -3]);
      expect(key.get(1)).toBe(2); // EC2
      expect(key.get(3)).toBe(-7);
      expect(key.get(-1)).toBe(1); // P-256
      expect((key.get(-2) as Uint8Array).length).toBe(32);
    });

    it('chooses the first algorithm of pubKeyCredParams that it supports, in the RP order (step 3)', async () => {
      const { mc } = await setup();
      const r = await mc({ algs: [-257, -8, -7] });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      const key = attestation(r.body).parsed.publicKey!;
      expect(key.get(1)).toBe(1); // OKP
      expect(key.get(3)).toBe(-8);
      expect(key.get(-1)).toBe(6); // Ed25519
      expect([...key.keys()]).toEqual([1, 3, -1, -2]);
    });

    it('"If the loop completes and no algorithm was chosen then return CTAP2_ERR_UNSUPPORTED_ALGORITHM", before any touch', async () => {
      const { t, mc } = await setup();
      const r = await mc({ algs: [-257, -35] });
      expect(r.status).toBe(CtapStatus.CTAP2_ERR_UNSUPPORTED_ALGORITHM);
      expect(t.presence.requests).toHaveLength(0);
    });

    it('skips pubKeyCredParams entries whose type is not "public-key" (even with a supported alg)', async () => {
      const { mc } = await setup();
      const params = [
        { alg: -8, type: 'future-key' },
        { alg: -7, type: 'public-key' },
      ];
      const r = await mc({ extra: [[4, params]] });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      expect(attestation(r.body).parsed.publicKey!.get(3)).toBe(-7);
    });

    it('step 3: an element missing a required member is an error (MISSING_PARAMETER), a wrong member type is CBOR_UNEXPECTED_TYPE', async () => {
      const { mc } = await setup();
      expect((await mc({ extra: [[4, [{ type: 'public-key' }]]] })).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
      expect((await mc({ extra: [[4, [{ alg: -7 }]]] })).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
      expect((await mc({ extra: [[4, [{ alg: '-7', type: 'public-key' }]]] })).status).toBe(
        CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE,
      );
      expect((await mc({ extra: [[4, [-7]]] })).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
      // the whole array is validated even after a supported algorithm was found
      expect((await mc({ extra: [[4, [{ alg: -7, type: 'public-key' }, { type: 'public-key' }]]] })).status).toBe(
        CtapStatus.CTAP2_ERR_MISSING_PARAMETER,
      );
    });

    it('ignores unknown extensions (no ED flag), unknown top-level keys and rp/user icon members', async () => {
      const { mc } = await setup();
      const r = await mc({
        extra: [
          [2, { id: 'example.com', name: 'Example', icon: 'https://example.com/i.png' }],
          [3, { id: new Uint8Array([7]), name: 'a', displayName: 'A', icon: 'https://example.com/u.png' }],
          [6, { 'unknown-ext': true, txAuthSimple: 'Pay?' }],
          [0x0b, ['packed']],
          [0x20, 'future'],
        ],
      });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      expect(attestation(r.body).parsed.ed).toBe(false);
    });
  });

  describe('attestation (D6)', () => {
    it('basic: fmt "packed", alg -7, x5c [attestation cert] issued by the stored CA, sig over authData || clientDataHash', async () => {
      const { t, mc } = await setup({ attestation: 'basic' });
      const cdh = sha256('client data');
      const r = await mc({ clientDataHash: cdh });
      const { fmt, authData, attStmt } = attestation(r.body);
      expect(fmt).toBe('packed');
      expect([...attStmt.keys()]).toEqual(['alg', 'sig', 'x5c']);
      expect(attStmt.get('alg')).toBe(-7);
      const x5c = attStmt.get('x5c') as Uint8Array[];
      expect(x5c).toHaveLength(1); // the root stays out of x5c: the RP holds it as trust anchor
      const stored = decodeState(t.store.snapshot()!).attestation.certChain;
      expect(toHex(x5c[0]!)).toBe(toHex(stored[0]!));
      const leaf = new X509Certificate(x5c[0]!);
      const ca = new X509Certificate(stored[1]!);
      expect(ca.subject).toBe(ca.issuer);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      const ok = nodeVerify(
        'sha256',
        Buffer.concat([authData, cdh]),
        { key: leaf.publicKey, dsaEncoding: 'der' },
        attStmt.get('sig') as Uint8Array,
      );
      expect(ok).toBe(true);
    });

    it('self: fmt "packed", alg of the credential, sig by the credential key, no x5c, zero AAGUID', async () => {
      const { mc } = await setup({ attestation: 'self' });
      const cdh = sha256('self');
      for (const alg of [-7, -8]) {
        const r = await mc({ clientDataHash: cdh, algs: [alg] });
        const { fmt, authData, attStmt, parsed } = attestation(r.body);
        expect(fmt).toBe('packed');
        expect([...attStmt.keys()]).toEqual(['alg', 'sig']);
        expect(attStmt.get('alg')).toBe(alg);
        expect(parsed.aaguid).toEqual(new Uint8Array(16));
        const key = coseToKeyObject(parsed.publicKey!);
        expect(verifySignature(key, alg, authData, cdh, attStmt.get('sig') as Uint8Array)).toBe(true);
      }
    });

    it('none: fmt "none", attStmt {}', async () => {
      const { mc } = await setup({ attestation: 'none' });
      const { fmt, attStmt, parsed } = attestation((await mc()).body);
      expect(fmt).toBe('none');
      expect(attStmt.size).toBe(0);
      expect(parsed.aaguid).toEqual(defaultProfile.aaguid);
    });
  });

  describe('parameters (B0.5, F2.7)', () => {
    it.each([1, 2, 3, 4])('a missing required key 0x0%i → CTAP2_ERR_MISSING_PARAMETER', async (key) => {
      const { auth } = await setup();
      const params = makeCredentialParams();
      params.delete(key);
      expect((await ctapCall(auth, MC, params)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    });

    it('no parameters at all → CTAP2_ERR_MISSING_PARAMETER', async () => {
      const { auth } = await setup();
      expect((await ctapCall(auth, MC)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    });

    it.each([
      ['clientDataHash as text', [1, 'hash']],
      ['rp as text', [2, 'example.com']],
      ['rp.id as bytes', [2, { id: new Uint8Array([1]) }]],
      ['user.id as text', [3, { id: 'user' }]],
      ['user.name as integer', [3, { id: new Uint8Array([1]), name: 5 }]],
      ['pubKeyCredParams as map', [4, { alg: -7, type: 'public-key' }]],
      ['excludeList as map', [5, {}]],
      ['excludeList entry id as text', [5, [{ id: 'x', type: 'public-key' }]]],
      ['extensions as array', [6, []]],
      ['options as array', [7, []]],
      ['options.rk as integer', [7, { rk: 1 }]],
      ['pinUvAuthParam as text', [8, 'x']],
      ['enterpriseAttestation as text', [10, 'x']],
    ] as [string, [number, unknown]][])('%s → CTAP2_ERR_CBOR_UNEXPECTED_TYPE', async (_name, entry) => {
      const { mc } = await setup();
      expect((await mc({ extra: [entry] })).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    });

    it('excludeList entry without id → CTAP2_ERR_MISSING_PARAMETER', async () => {
      const { mc } = await setup();
      expect((await mc({ extra: [[5, [{ type: 'public-key' }]]] })).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    });

    it('clientDataHash must be 32 bytes → otherwise CTAP1_ERR_INVALID_LENGTH', async () => {
      const { mc } = await setup();
      expect((await mc({ clientDataHash: new Uint8Array(31) })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_LENGTH);
      expect((await mc({ clientDataHash: new Uint8Array(33) })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_LENGTH);
    });

    it('user.id is at most 64 bytes (WebAuthn §5.4.3): 64 accepted, 65 → CTAP1_ERR_INVALID_LENGTH', async () => {
      const { mc } = await setup();
      expect((await mc({ userId: new Uint8Array(64).fill(1) })).status).toBe(CtapStatus.CTAP2_OK);
      expect((await mc({ userId: new Uint8Array(65).fill(1) })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_LENGTH);
    });
  });

  describe('options (step 5)', () => {
    it('"uv": true without built-in user verification → CTAP2_ERR_INVALID_OPTION', async () => {
      const { t, mc } = await setup();
      expect((await mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
      expect(t.presence.requests).toHaveLength(0);
    });

    it('"up": false → CTAP2_ERR_INVALID_OPTION; "up": true and "uv": false are fine', async () => {
      const { mc } = await setup();
      expect((await mc({ options: { up: false } })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
      expect((await mc({ options: { up: true, uv: false } })).status).toBe(CtapStatus.CTAP2_OK);
    });

    /**
     * Spec: step 5 "If the rk option ID is not present in authenticatorGetInfo response → CTAP2_ERR_UNSUPPORTED_OPTION";
     * our getInfo lists rk (false), so only a request it cannot honour is refused.
     * Regression (review finding 6): { rk: false } was refused on a device without discoverable credentials.
     */
    it('"rk": true while getInfo has no rk support → CTAP2_ERR_UNSUPPORTED_OPTION; "rk": false is fine', async () => {
      // Without rk, credBlob and largeBlobKey cannot be enabled (ctap/extensions/registry.ts).
      const profile: Profile = { ...defaultProfile, options: { ...defaultProfile.options, rk: false }, extensions: [] };
      const { mc } = await setup({ profile });
      expect((await mc({ options: { rk: true } })).status).toBe(CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION);
      expect((await mc({ options: { rk: false } })).status).toBe(CtapStatus.CTAP2_OK);
      expect((await mc()).status).toBe(CtapStatus.CTAP2_OK);
    });

    it('"Treat any option keys that are not understood as absent" (any value type)', async () => {
      const { mc } = await setup();
      expect((await mc({ options: { foo: 7, bar: 'x', up: true } })).status).toBe(CtapStatus.CTAP2_OK);
    });
  });

  describe('pinUvAuthParam and enterprise attestation on a key without PIN (steps 1, 2, 9)', () => {
    it('pinUvAuthParam without pinUvAuthProtocol → CTAP2_ERR_MISSING_PARAMETER', async () => {
      const { mc } = await setup();
      expect((await mc({ extra: [[8, new Uint8Array(16)]] })).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    });

    it('pinUvAuthParam (even zero-length) with any protocol → CTAP1_ERR_INVALID_PARAMETER: no protocol is supported; no touch', async () => {
      // Step 1 (the touch probe) applies only "if authenticator supports either pinUvAuthToken or clientPin".
      const { t, mc } = await setup({ profile: pinlessProfile });
      for (const param of [new Uint8Array(0), new Uint8Array(16)]) {
        for (const protocol of [1, 2]) {
          const r = await mc({ extra: [[8, param], [9, protocol]] });
          expect(r.status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
        }
      }
      expect(t.presence.requests).toHaveLength(0);
    });

    it('a pinUvAuthProtocol without pinUvAuthParam is ignored', async () => {
      const { mc } = await setup();
      expect((await mc({ extra: [[9, 2]] })).status).toBe(CtapStatus.CTAP2_OK);
    });

    it('enterpriseAttestation on a key that is not EA-capable → CTAP1_ERR_INVALID_PARAMETER', async () => {
      const { mc } = await setup();
      expect((await mc({ extra: [[10, 1]] })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    });
  });

  describe('user presence (step 14)', () => {
    it('asks for a touch (keepalive UPNEEDED, then PROCESSING) with the command and rp.id', async () => {
      const { t, mc } = await setup();
      const req = createTestRequest(7);
      expect((await mc({ rpId: 'up.example' }, req)).status).toBe(CtapStatus.CTAP2_OK);
      expect(t.presence.requests).toHaveLength(1);
      expect(t.presence.requests[0]).toMatchObject({ command: 'makeCredential', rpId: 'up.example' });
      expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
    });

    it.each(['deny', 'timeout'] as const)('"If the user declines permission, or the operation times out" (%s) → CTAP2_ERR_OPERATION_DENIED', async (mode) => {
      const { t, auth, mc } = await setup({ presence: mode });
      expect((await mc({ options: { rk: true } })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
      expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity);
      expect(t.presence.requests).toHaveLength(1);
    });

    it('CTAPHID_CANCEL while waiting for the touch → CTAP2_ERR_KEEPALIVE_CANCEL, nothing stored', async () => {
      const { t, auth, mc } = await setup({ presence: 'hold' });
      const req = createTestRequest();
      const pending = mc({ options: { rk: true } }, req);
      await new Promise((r) => setTimeout(r, 0));
      expect(t.presence.pending).toBe(1);
      req.cancel();
      expect((await pending).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
      expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity);
    });

    it('a touch given after a hold completes the request', async () => {
      const { t, mc } = await setup({ presence: 'hold' });
      const pending = mc();
      await new Promise((r) => setTimeout(r, 0));
      t.presence.resolve('approved');
      expect((await pending).status).toBe(CtapStatus.CTAP2_OK);
    });
  });

  describe('excludeList (step 12)', () => {
    it('a credential of this device for this RP: wait for a touch, then CTAP2_ERR_CREDENTIAL_EXCLUDED whatever its outcome', async () => {
      const { t, mc } = await setup();
      const id = attestation((await mc()).body).parsed.credentialId!;
      for (const answer of ['approved', 'denied', 'timeout'] as const) {
        t.presence.queue(answer);
        const before = t.presence.requests.length;
        expect((await mc({ excludeList: [new Uint8Array(16), id] })).status).toBe(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED);
        expect(t.presence.requests.length).toBe(before + 1);
      }
    });

    it('a discoverable credential of this device is excluded too', async () => {
      const { mc } = await setup();
      const id = attestation((await mc({ options: { rk: true } })).body).parsed.credentialId!;
      expect((await mc({ userId: new Uint8Array([9]), excludeList: [id] })).status).toBe(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED);
    });

    it('credentials bound to another rp.id, foreign IDs and non-"public-key" descriptors do not match', async () => {
      const { mc } = await setup();
      const other = attestation((await mc({ rpId: 'other.example' })).body).parsed.credentialId!;
      const mine = attestation((await mc()).body).parsed.credentialId!;
      const r = await mc({
        excludeList: [other, new Uint8Array(64).fill(3)],
        extra: [[5, [{ id: other, type: 'public-key' }, { id: mine, type: 'other-type' }]]],
      });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
    });

    it('more entries than maxCredentialCountInList, or an id longer than maxCredentialIdLength → CTAP2_ERR_LIMIT_EXCEEDED', async () => {
      const { t, mc } = await setup();
      const n = defaultProfile.maxCredentialCountInList;
      const ids = Array.from({ length: n }, (_, i) => new Uint8Array(64).fill(i));
      expect((await mc({ excludeList: ids })).status).toBe(CtapStatus.CTAP2_OK);
      expect((await mc({ excludeList: [...ids, new Uint8Array(64)] })).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
      const long = new Uint8Array(defaultProfile.maxCredentialIdLength + 1);
      expect((await mc({ excludeList: [long] })).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
      expect(t.presence.requests).toHaveLength(1);
    });
  });

  describe('discoverable credentials (step 17)', () => {
    it('rk=true stores the credential: remainingDiscoverableCredentials drops and the store is written', async () => {
      const { t, auth, mc } = await setup();
      const saves = t.store.saves;
      expect((await mc({ options: { rk: true } })).status).toBe(CtapStatus.CTAP2_OK);
      expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity - 1);
      expect(t.store.saves).toBe(saves + 1);
    });

    it('rk=false (or absent) stores nothing: the credential lives in its ID', async () => {
      const { t, auth, mc } = await setup();
      const saves = t.store.saves;
      expect((await mc({ options: { rk: false } })).status).toBe(CtapStatus.CTAP2_OK);
      expect((await mc()).status).toBe(CtapStatus.CTAP2_OK);
      expect(t.store.saves).toBe(saves);
      expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity);
    });

    it('the same (rp.id, user.id) overwrites the earlier credential, whose ID stops working (B1.17)', async () => {
      const { auth, mc } = await setup();
      const first = attestation((await mc({ options: { rk: true } })).body).parsed.credentialId!;
      const second = attestation((await mc({ options: { rk: true } })).body).parsed.credentialId!;
      expect(second).not.toEqual(first);
      expect(auth.info().remainingDiscoverableCredentials).toBe(defaultProfile.residentCredentialCapacity - 1);
      const old = await ctapCall(auth, GA, getAssertionParams({ allowList: [first] }));
      expect(old.status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
      const cur = await ctapCall(auth, GA, getAssertionParams({ allowList: [second] }));
      expect(cur.status).toBe(CtapStatus.CTAP2_OK);
    });

    it('"If the authenticator does not have enough internal storage ... return CTAP2_ERR_KEY_STORE_FULL"; overwriting still works', async () => {
      const profile: Profile = { ...defaultProfile, residentCredentialCapacity: 2 };
      const { auth, mc } = await setup({ profile });
      expect((await mc({ userId: new Uint8Array([1]), options: { rk: true } })).status).toBe(CtapStatus.CTAP2_OK);
      expect((await mc({ userId: new Uint8Array([2]), options: { rk: true } })).status).toBe(CtapStatus.CTAP2_OK);
      expect(auth.info().remainingDiscoverableCredentials).toBe(0);
      expect((await mc({ userId: new Uint8Array([3]), options: { rk: true } })).status).toBe(CtapStatus.CTAP2_ERR_KEY_STORE_FULL);
      expect((await mc({ userId: new Uint8Array([2]), options: { rk: true } })).status).toBe(CtapStatus.CTAP2_OK);
      expect((await mc({ userId: new Uint8Array([3]) })).status).toBe(CtapStatus.CTAP2_OK); // non-resident needs no room
    });
  });
});
