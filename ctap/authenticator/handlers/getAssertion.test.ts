import { describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthenticatorOptions } from '../authenticator.ts';
import { defaultProfile, pinlessProfile } from '../profile.ts';
import { CtapCommand, KeepaliveStatus } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { CborMap } from '../../cbor.ts';
import {
  createTestEnv,
  createTestRequest,
  ctapCall,
  getAssertionParams,
  makeCredentialParams,
  type GetAssertionSpec,
  type MakeCredentialSpec,
  type TestEnvOptions,
  type TestRequest,
} from '../../../test/helpers/testEnv.ts';
import { coseToKeyObject, parseAuthData, sha256, verifySignature } from '../../../test/helpers/webauthn.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;
const GNA = CtapCommand.authenticatorGetNextAssertion;

interface Created {
  id: Uint8Array;
  alg: number;
  key: ReturnType<typeof coseToKeyObject>;
}

async function setup(o: Partial<Omit<AuthenticatorOptions, 'env'>> & TestEnvOptions = {}) {
  const t = createTestEnv(o);
  const auth = await createAuthenticator({ attestation: 'none', ...o, env: t.env });
  const make = async (spec: MakeCredentialSpec = {}): Promise<Created> => {
    const r = await ctapCall(auth, MC, makeCredentialParams(spec));
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    const parsed = parseAuthData(r.body!.get(2) as Uint8Array);
    return { id: parsed.credentialId!, alg: parsed.publicKey!.get(3) as number, key: coseToKeyObject(parsed.publicKey!) };
  };
  const ga = (spec: GetAssertionSpec = {}, req: TestRequest = createTestRequest()) =>
    ctapCall(auth, GA, getAssertionParams(spec), req);
  const gna = (req: TestRequest = createTestRequest()) => ctapCall(auth, GNA, undefined, req);
  return { t, auth, make, ga, gna };
}

function assertion(body: CborMap | undefined) {
  const authData = body!.get(2) as Uint8Array;
  return {
    credential: body!.get(1) as CborMap,
    authData,
    parsed: parseAuthData(authData),
    signature: body!.get(3) as Uint8Array,
    user: body!.get(4) as CborMap | undefined,
    numberOfCredentials: body!.get(5) as number | undefined,
    keys: [...body!.keys()],
  };
}

describe('authenticatorGetAssertion (CTAP 2.1 §6.2.2)', () => {
  it('allowList: signs authData || clientDataHash with the credential key; rpIdHash, UP flag, counter 1', async () => {
    const { make, ga } = await setup();
    for (const alg of [-7, -8]) {
      const c = await make({ rpId: 'a.example', algs: [alg] });
      const cdh = sha256(`cd${alg}`);
      const r = await ga({ rpId: 'a.example', clientDataHash: cdh, allowList: [c.id] });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      const a = assertion(r.body);
      expect(a.keys).toEqual([1, 2, 3]); // no user for a non-resident credential, no numberOfCredentials
      expect(a.credential.get('id')).toEqual(c.id);
      expect(a.credential.get('type')).toBe('public-key');
      expect(a.parsed.rpIdHash).toEqual(sha256('a.example'));
      expect(a.parsed.flags).toBe(0x01); // UP only: no UV, no AT (MUST NOT on assertions), no ED
      expect(a.parsed.signCount).toBe(1);
      expect(a.authData.length).toBe(37);
      expect(verifySignature(c.key, alg, a.authData, cdh, a.signature)).toBe(true);
    }
  });

  it('per-credential signature counters are incremented by 1 on every assertion (G9)', async () => {
    const { make, ga } = await setup();
    const c1 = await make();
    const c2 = await make({ userId: new Uint8Array([2]) });
    const count = async (id: Uint8Array) => assertion((await ga({ allowList: [id] })).body).parsed.signCount;
    expect(await count(c1.id)).toBe(1);
    expect(await count(c1.id)).toBe(2);
    expect(await count(c2.id)).toBe(1);
    expect(await count(c1.id)).toBe(3);
  });

  it('allowList: unknown IDs are skipped and the first applicable credential is used', async () => {
    const { make, ga } = await setup();
    const c = await make();
    const r = await ga({ allowList: [new Uint8Array(64).fill(1), new Uint8Array(10), c.id] });
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(assertion(r.body).credential.get('id')).toEqual(c.id);
  });

  it('no applicable credential → CTAP2_ERR_NO_CREDENTIALS immediately, before any touch (B2.7)', async () => {
    const { t, make, ga } = await setup();
    const other = await make({ rpId: 'other.example' });
    t.presence.requests.length = 0;
    expect((await ga({ allowList: [other.id] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS); // bound to another RP
    expect((await ga({ allowList: [new Uint8Array(64)] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect((await ga()).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS); // no discoverable credential
    expect(t.presence.requests).toHaveLength(0);
  });

  it('a descriptor whose type is not "public-key" does not match', async () => {
    const { make, ga } = await setup();
    const c = await make();
    const r = await ga({ extra: [[3, [{ id: c.id, type: 'other' }]]] });
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
  });

  it('"up": false is a silent assertion: no touch, UP bit 0, and the counter still advances', async () => {
    const { t, make, ga } = await setup();
    const c = await make();
    t.presence.requests.length = 0;
    const req = createTestRequest();
    const r = await ga({ allowList: [c.id], options: { up: false } }, req);
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    const a = assertion(r.body);
    expect(a.parsed.up).toBe(false);
    expect(a.parsed.flags).toBe(0);
    expect(a.parsed.signCount).toBe(1);
    expect(t.presence.requests).toHaveLength(0);
    expect(req.keepalives).toEqual([]);
  });

  it('asks for a touch with the command and rpId, keepalive UPNEEDED then PROCESSING', async () => {
    const { t, make, ga } = await setup();
    const c = await make();
    t.presence.requests.length = 0;
    const req = createTestRequest();
    expect((await ga({ allowList: [c.id] }, req)).status).toBe(CtapStatus.CTAP2_OK);
    expect(t.presence.requests[0]).toMatchObject({ command: 'getAssertion', rpId: 'example.com' });
    expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
  });

  it.each(['deny', 'timeout'] as const)('touch %s → CTAP2_ERR_OPERATION_DENIED, and the counter does not move', async (mode) => {
    const { t, make, ga } = await setup();
    const c = await make();
    t.presence.mode = mode;
    expect((await ga({ allowList: [c.id] })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    t.presence.mode = 'approve';
    expect(assertion((await ga({ allowList: [c.id] })).body).parsed.signCount).toBe(1);
  });

  it('CTAPHID_CANCEL while waiting for the touch → CTAP2_ERR_KEEPALIVE_CANCEL', async () => {
    const { t, make, ga } = await setup();
    const c = await make();
    t.presence.mode = 'hold';
    const req = createTestRequest();
    const pending = ga({ allowList: [c.id] }, req);
    await new Promise((r) => setTimeout(r, 0));
    req.cancel();
    expect((await pending).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
  });

  it('"uv": true without built-in UV → CTAP2_ERR_INVALID_OPTION; "rk" present → CTAP2_ERR_UNSUPPORTED_OPTION', async () => {
    const { make, ga } = await setup();
    const c = await make();
    expect((await ga({ allowList: [c.id], options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await ga({ allowList: [c.id], options: { rk: false } })).status).toBe(CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION);
    expect((await ga({ allowList: [c.id], options: { up: true, uv: false, other: 1 } })).status).toBe(CtapStatus.CTAP2_OK);
  });

  it('pinUvAuthParam on a key without PIN/UV: without protocol → MISSING_PARAMETER, with an (unsupported) protocol → CTAP1_ERR_INVALID_PARAMETER', async () => {
    const { make, ga } = await setup({ profile: pinlessProfile });
    const c = await make();
    expect((await ga({ allowList: [c.id], extra: [[6, new Uint8Array(16)]] })).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect((await ga({ allowList: [c.id], extra: [[6, new Uint8Array(0)], [7, 1]] })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
  });

  it('request checks: missing rpId / clientDataHash, wrong types, clientDataHash length, list limits', async () => {
    const { auth, make, ga } = await setup();
    const c = await make();
    const noRp = getAssertionParams({ allowList: [c.id] });
    noRp.delete(1);
    expect((await ctapCall(auth, GA, noRp)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    const noCdh = getAssertionParams({ allowList: [c.id] });
    noCdh.delete(2);
    expect((await ctapCall(auth, GA, noCdh)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect((await ga({ extra: [[1, new Uint8Array(3)]] })).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    expect((await ga({ extra: [[3, 'x']] })).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    expect((await ga({ extra: [[4, 1]] })).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    expect((await ga({ extra: [[5, { up: 'yes' }]] })).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    expect((await ga({ clientDataHash: new Uint8Array(20), allowList: [c.id] })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_LENGTH);
    const many = Array.from({ length: defaultProfile.maxCredentialCountInList + 1 }, () => c.id);
    expect((await ga({ allowList: many })).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
    expect((await ga({ allowList: [new Uint8Array(defaultProfile.maxCredentialIdLength + 1)] })).status).toBe(
      CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED,
    );
    expect((await ga({ allowList: [c.id], extra: [[4, { unknown: true }], [0x10, 'future']] })).status).toBe(CtapStatus.CTAP2_OK);
  });

  describe('discoverable credentials (B2.12)', () => {
    it('no allowList: the newest credential first, numberOfCredentials, user with id only (no UV → no name/displayName)', async () => {
      const { make, ga } = await setup();
      const creds: Created[] = [];
      for (let i = 1; i <= 3; i++) {
        creds.push(await make({ userId: new Uint8Array([i]), userName: `user${i}`, displayName: `User ${i}`, options: { rk: true } }));
      }
      await make({ rpId: 'other.example', options: { rk: true } });
      const cdh = sha256('discover');
      const r = await ga({ clientDataHash: cdh });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      const a = assertion(r.body);
      expect(a.keys).toEqual([1, 2, 3, 4, 5]);
      expect(a.numberOfCredentials).toBe(3);
      expect(a.credential.get('id')).toEqual(creds[2]!.id);
      expect([...a.user!.entries()]).toEqual([['id', new Uint8Array([3])]]);
      expect(verifySignature(creds[2]!.key, -7, a.authData, cdh, a.signature)).toBe(true);
    });

    it('an empty allowList is treated as absent', async () => {
      const { make, ga } = await setup();
      const c = await make({ options: { rk: true } });
      const r = await ga({ allowList: [] });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      expect(assertion(r.body).credential.get('id')).toEqual(c.id);
    });

    it('a single discoverable credential: no numberOfCredentials, and getNextAssertion is not allowed', async () => {
      const { make, ga, gna } = await setup();
      await make({ options: { rk: true } });
      const a = assertion((await ga()).body);
      expect(a.numberOfCredentials).toBeUndefined();
      expect(a.user!.get('id')).toEqual(new Uint8Array([1, 2, 3, 4]));
      expect((await gna()).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    });

    it('a discoverable credential named in the allowList comes with its user id, without numberOfCredentials', async () => {
      const { make, ga } = await setup();
      const c = await make({ userName: 'alice', options: { rk: true } });
      await make({ userId: new Uint8Array([8]), options: { rk: true } });
      const a = assertion((await ga({ allowList: [c.id] })).body);
      expect(a.keys).toEqual([1, 2, 3, 4]);
      expect([...a.user!.keys()]).toEqual(['id']);
    });

    it('discoverable counters live in the credential record: each advances on its own', async () => {
      const { make, ga } = await setup();
      const c = await make({ options: { rk: true } });
      expect(assertion((await ga()).body).parsed.signCount).toBe(1);
      expect(assertion((await ga({ allowList: [c.id] })).body).parsed.signCount).toBe(2);
    });
  });
});

describe('authenticatorGetNextAssertion (CTAP 2.1 §6.3)', () => {
  async function threeCredentials() {
    const s = await setup();
    const creds: Created[] = [];
    for (let i = 1; i <= 3; i++) creds.push(await s.make({ userId: new Uint8Array([i]), options: { rk: true } }));
    return { ...s, creds };
  }

  it('returns the remaining credentials in order, each with its own authData, counter and signature; then NOT_ALLOWED', async () => {
    const { t, ga, gna, creds } = await threeCredentials();
    const cdh = sha256('next');
    const req = createTestRequest(5);
    const first = assertion((await ga({ clientDataHash: cdh }, req)).body);
    expect(first.credential.get('id')).toEqual(creds[2]!.id);
    const touches = t.presence.requests.length;
    for (const expected of [creds[1]!, creds[0]!]) {
      t.scheduler.advance(1000);
      const r = await gna(createTestRequest(5));
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      const a = assertion(r.body);
      expect(a.keys).toEqual([1, 2, 3, 4]); // no numberOfCredentials on Next responses
      expect(a.credential.get('id')).toEqual(expected.id);
      expect(a.parsed.signCount).toBe(1);
      expect(a.parsed.up).toBe(true);
      expect(verifySignature(expected.key, -7, a.authData, cdh, a.signature)).toBe(true);
    }
    expect(t.presence.requests.length).toBe(touches); // no further touch
    expect((await gna(createTestRequest(5))).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  it('"If authenticator does not remember any authenticatorGetAssertion parameters, return CTAP2_ERR_NOT_ALLOWED"', async () => {
    const { gna } = await setup();
    expect((await gna()).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  it('the state expires 30 s after the last GA/GNA; each GNA restarts the timer', async () => {
    const { t, ga, gna } = await threeCredentials();
    await ga();
    t.scheduler.advance(30_000);
    expect((await gna()).status).toBe(CtapStatus.CTAP2_OK); // exactly 30 s: not yet "greater than 30 seconds"
    t.scheduler.advance(30_001);
    expect((await gna()).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  it('any other command in between clears the state (B0.6), even getInfo', async () => {
    const { auth, ga, gna } = await threeCredentials();
    await ga();
    expect((await ctapCall(auth, CtapCommand.authenticatorGetInfo)).status).toBe(CtapStatus.CTAP2_OK);
    expect((await gna()).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  it('a failed command in between also clears it', async () => {
    const { auth, ga, gna } = await threeCredentials();
    await ga();
    expect((await auth.handleCbor(new Uint8Array([0x55]), createTestRequest().ctx))[0]).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
    expect((await gna()).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  it('the state belongs to the channel of the getAssertion: GNA on another channel → NOT_ALLOWED and the state is gone', async () => {
    const { ga, gna } = await threeCredentials();
    await ga({}, createTestRequest(1));
    expect((await gna(createTestRequest(2))).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    expect((await gna(createTestRequest(1))).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  it('a silent (up=false) getAssertion continues silently', async () => {
    const { ga, gna } = await threeCredentials();
    expect(assertion((await ga({ options: { up: false } })).body).parsed.up).toBe(false);
    expect(assertion((await gna()).body).parsed.up).toBe(false);
  });

  it('an allowList getAssertion leaves nothing to continue', async () => {
    const { ga, gna, creds } = await threeCredentials();
    await ga({ allowList: creds.map((c) => c.id) });
    expect((await gna()).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  it('a power cycle drops the state', async () => {
    const { auth, ga, gna } = await threeCredentials();
    await ga();
    await auth.powerCycle();
    expect((await gna()).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });
});
