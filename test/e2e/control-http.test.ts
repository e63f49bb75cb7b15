/**
 * The HTTP control API over a real socket (port 0): every endpoint, input errors naming the field, unknown ids,
 * the security guards (Host, Origin, token, Content-Type, loopback), private-key export only on request, and
 * one end to end: a credential injected over HTTP signs a real CTAP getAssertion over UDP, and the signature
 * verifies with the injected key's public key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Writable } from 'node:stream';
import { startControlServer, type ControlServer } from '../../src/control/http/server.ts';
import { createLogger } from '../../src/log.ts';
import { startDevice, type Device } from '../../src/device.ts';
import { CtapHidClient } from '../../src/client/ctaphid.ts';
import { connectUdp } from '../../transports/udp.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import { parseAuthData, sha256, verifySignature } from '../helpers/webauthn.ts';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
}

interface ReqOpts {
  body?: unknown;
  /** Raw body text (sent as is, with `contentType`). */
  raw?: string;
  contentType?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

let server: ControlServer;
let attached: Device;
const logLines: string[] = [];

function call(method: string, path: string, o: ReqOpts = {}): Promise<Res> {
  const headers: Record<string, string> = { host: `127.0.0.1:${server.port}`, ...o.headers };
  const token = o.token === undefined ? server.token : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (o.raw !== undefined) payload = o.raw;
  else if (o.body !== undefined) payload = JSON.stringify(o.body);
  if (payload !== undefined) {
    headers['content-type'] = o.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const post = (path: string, body?: unknown, o: ReqOpts = {}) => call('POST', path, { ...o, ...(body !== undefined ? { body } : {}) });
const get = (path: string, o: ReqOpts = {}) => call('GET', path, o);
const del = (path: string, o: ReqOpts = {}) => call('DELETE', path, o);

/** A WebDriver-shaped authenticator; returns its id. */
async function createAuthenticator(body: Record<string, unknown> = {}): Promise<{ id: string; port: number }> {
  const r = await post('/authenticators', body);
  expect(r.status, r.text).toBe(201);
  return { id: r.json.authenticatorId, port: r.json.udp.port };
}

function p256Key(): { pkcs8: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pkcs8: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64url'), publicKey };
}

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  attached = await startDevice({ transport: 'memory', store: 'memory', seed: 'control-http' });
  server = await startControlServer({ logger: createLogger({ level: 'debug', destination: sink, pretty: false }), authenticators: { default: attached } });
});

afterAll(async () => {
  await server?.close();
  await attached?.close();
});

describe('authenticators', () => {
  /** Spec: WebAuthn L3 §11 (Automation), Add Virtual Authenticator: the options map onto a vfido profile. */
  it('creates from WebDriver options, lists, reads, deletes', async () => {
    const a = await createAuthenticator({
      protocol: 'ctap2_1',
      transport: 'usb',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserConsenting: true,
      isUserVerified: true,
    });
    expect(a.port).toBeGreaterThan(0);
    const one = await get(`/authenticators/${a.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      authenticatorId: a.id,
      profile: 'ctap21-fingerprint',
      protocol: 'ctap2_1',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserConsenting: true,
      isUserVerified: true,
      removable: true,
      udp: { host: '127.0.0.1', port: a.port },
    });
    // hasUserVerification: true → one template enrolled, so UV is configured.
    expect((await get(`/authenticators/${a.id}/templates`)).json).toHaveLength(1);

    const list = await get('/authenticators');
    expect(list.json.map((x: { authenticatorId: string }) => x.authenticatorId)).toEqual(expect.arrayContaining(['default', a.id]));

    expect((await del(`/authenticators/${a.id}`)).status).toBe(204);
    expect((await get(`/authenticators/${a.id}`)).status).toBe(404);
    const again = await del(`/authenticators/${a.id}`);
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('EMU_ERR_UNKNOWN_AUTHENTICATOR');
  });

  it('maps protocol, hasUserVerification, hasResidentKey, isUserConsenting and backup defaults', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ protocol: 'ctap1/u2f' }, { profile: 'u2f', protocol: 'ctap1/u2f', hasResidentKey: false }],
      [{ protocol: 'ctap2' }, { profile: 'ctap20', protocol: 'ctap2' }],
      [{ protocol: 'ctap2_1', hasUserVerification: false }, { profile: 'ctap21-nopin', hasUserVerification: false }],
      [{}, { profile: 'ctap21' }],
      [{ hasResidentKey: false }, { hasResidentKey: false }],
      [{ isUserConsenting: false }, { isUserConsenting: false }],
      [{ defaultBackupEligibility: true, defaultBackupState: true }, { defaultBackupEligibility: true, defaultBackupState: true }],
      [{ profile: 'ctap21-face', seed: 's', attestation: 'self' }, { profile: 'ctap21-face', hasUserVerification: true }],
    ];
    for (const [body, want] of cases) {
      const a = await createAuthenticator(body);
      expect((await get(`/authenticators/${a.id}`)).json, JSON.stringify(body)).toMatchObject(want);
      await del(`/authenticators/${a.id}`);
    }
  });

  it('bad options → 400 naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ bogus: 1 }, /^body\.bogus: unknown field/],
      [{ hasResidentKey: 'yes' }, /^body\.hasResidentKey: must be boolean/],
      [{ protocol: 'ctap3' }, /^body\.protocol: must be one of/],
      [{ transport: 'nfc' }, /^body\.transport: must be one of "usb"/],
      [{ udp: { port: 70000 } }, /^body\.udp\.port: /],
      [{ protocol: 'ctap2', hasUserVerification: true }, /^hasUserVerification: /],
      [{ profile: 'nope' }, /^profile: unknown profile "nope"/],
      [{ profile: 'u2f', protocol: 'ctap2_1' }, /^protocol: profile u2f speaks ctap1\/u2f/],
      [{ hasUserVerification: false, extensions: ['largeBlob'] }, /^extensions\[0\]: profile ctap21-nopin does not support largeBlob/],
      [{ extensions: ['warpDrive'] }, /^extensions\[0\]: unknown extension/],
      [{ faults: [{ effect: 'presence.deny' }, { effect: { type: 'status', status: 'NOPE' } }] }, /^faults\[1\]: .*status/],
      [{ udp: { host: '192.0.2.1' } }, /^udp\.host: .*not a loopback/],
      [{ profileOverrides: { maxCredentialCountInList: 0 } }, /profileOverrides\.maxCredentialCountInList/],
    ];
    for (const [body, message] of cases) {
      const r = await post('/authenticators', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('EMU_ERR_INVALID_ARGUMENT');
      expect(r.json.error.message).toMatch(message);
    }
    // Nothing half-created is left behind.
    expect((await get('/authenticators')).json).toHaveLength(1);
  });

  /** Regression: `verification` was any object (a template name of the wrong type got stored), delays were unbounded. */
  it('verification and presence options are validated: template shapes, name lengths, delays up to one hour', async () => {
    const cases: [unknown, RegExp][] = [
      [{ profile: 'ctap21-fingerprint', verification: { templates: 'x' } }, /^body\.verification\.templates: must be array/],
      [{ profile: 'ctap21-fingerprint', verification: { templates: [{ modality: 'fingerprint', name: 5 }] } }, /^body\.verification\.templates\[0\]\.name: must be string/],
      [{ profile: 'ctap21-fingerprint', verification: { templates: [{ modality: 'iris' }] } }, /^body\.verification\.templates\[0\]\.modality: must be one of/],
      [{ profile: 'ctap21-fingerprint', verification: { templates: [{ modality: 'fingerprint', name: 'é'.repeat(40) }] } }, /^verification\.templates\[0\]\.name: at most 64 bytes/],
      [{ profile: 'ctap21-fingerprint', verification: { bogus: 1 } }, /^body\.verification\.bogus: unknown field/],
      [{ profile: 'ctap21-fingerprint', verification: { delayMs: 3e9 } }, /^body\.verification\.delayMs: must be <= 3600000/],
      [{ presence: { delayMs: 3e9 } }, /^body\.presence\.delayMs: must be <= 3600000/],
    ];
    for (const [body, message] of cases) {
      const r = await post('/authenticators', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await post('/authenticators/default/presence', { delayMs: 3e9 })).status).toBe(400);
    expect((await get('/authenticators')).json).toHaveLength(1);
  });

  it('the started key (attached) cannot be deleted over HTTP', async () => {
    const r = await del('/authenticators/default');
    expect(r.status).toBe(409);
    expect((await get('/authenticators/default')).json.removable).toBe(false);
  });

  it('vfido faults in the create body are armed before the first request', async () => {
    const a = await createAuthenticator({ faults: [{ id: 'deny-first', effect: 'presence.deny' }] });
    const rules = (await get(`/authenticators/${a.id}/faults`)).json;
    expect(rules.map((r: { id: string }) => r.id)).toEqual(['deny-first']);
    await del(`/authenticators/${a.id}`);
  });
});

describe('credentials', () => {
  it('add (WebDriver Credential Parameters), get, list, props, deactivate / restore, corrupt, counter, remove', async () => {
    const key = p256Key();
    const base = '/authenticators/default/credentials';
    const added = await post(base, {
      isResidentCredential: true,
      rpId: 'example.com',
      privateKey: key.pkcs8,
      userHandle: Buffer.from('user-1').toString('base64url'),
      signCount: 5,
      userName: 'alice',
    });
    expect(added.status, added.text).toBe(201);
    const id: string = added.json.credentialId;
    expect(added.json).toMatchObject({ isResidentCredential: true, rpId: 'example.com', signCount: 5, userName: 'alice', alg: -7, status: 'active' });
    expect(added.json.privateKey).toBeUndefined();

    // Private keys only when asked for explicitly.
    const listed = await get(base);
    expect(listed.json.find((c: { credentialId: string }) => c.credentialId === id).privateKey).toBeUndefined();
    const withKeys = await get(`${base}?includePrivateKeys=true`);
    const exported = withKeys.json.find((c: { credentialId: string }) => c.credentialId === id).privateKey as string;
    const exportedPub = createPublicKey(createPrivateKey({ key: Buffer.from(exported, 'base64url'), format: 'der', type: 'pkcs8' }));
    expect(exportedPub.export({ format: 'jwk' })).toEqual(key.publicKey.export({ format: 'jwk' }));
    expect((await get(`${base}/${id}`)).json.privateKey).toBeUndefined();
    expect((await get(`${base}/${id}?includePrivateKeys=true`)).json.privateKey).toBe(exported);
    expect((await get(`${base}?rpId=other.example`)).json).toEqual([]);

    // Set Credential Properties → BE / BS reported (a persistent flags rule does it on the wire).
    const props = await post(`${base}/${id}/props`, { backupEligibility: true, backupState: true });
    expect(props.json).toEqual({ backupEligibility: true, backupState: true });
    expect((await get(`${base}/${id}`)).json).toMatchObject({ backupEligibility: true, backupState: true });

    expect((await post(`${base}/${id}/deactivate`)).status).toBe(204);
    expect((await get(`${base}/${id}`)).json.status).toBe('deactivated');
    expect((await post(`${base}/${id}/restore`)).status).toBe(204);
    expect((await get(`${base}/${id}`)).json.status).toBe('active');

    const corrupted = await post(`${base}/${id}/corrupt`, { target: 'userName' });
    expect(corrupted.status).toBe(200);
    expect(corrupted.json.userName).not.toBe('alice');

    expect((await post(`${base}/${id}/counter`, { value: 41 })).status).toBe(204);
    expect((await get(`${base}/${id}`)).json.signCount).toBe(41);

    expect((await del(`${base}/${id}`)).status).toBe(204);
    expect((await get(`${base}/${id}`)).status).toBe(404);
    // Its props rule went with it.
    expect((await get('/authenticators/default/faults')).json).toEqual([]);
  });

  it('remove all, and an Ed25519 PKCS#8 key sets alg -8', async () => {
    const base = '/authenticators/default/credentials';
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64url');
    const r = await post(base, { rpId: 'a.example', userHandle: 'AQ', privateKey: ed });
    expect(r.status, r.text).toBe(201);
    expect(r.json.alg).toBe(-8);
    await post(base, { rpId: 'b.example', userHandle: 'Ag' });
    expect((await get(base)).json).toHaveLength(2);
    expect((await del(base)).status).toBe(204);
    expect((await get(base)).json).toEqual([]);
  });

  it('bad input → 400 naming the field; unsupported → 409; unknown → 404', async () => {
    const base = '/authenticators/default/credentials';
    const taken = await post(base, { rpId: 'example.com', userHandle: 'AQ', credentialId: 'AQID' });
    expect(taken.status, taken.text).toBe(201);
    const cases: [unknown, number, RegExp][] = [
      [{ rpId: 'example.com' }, 400, /^body\.userHandle: required/],
      [{ rpId: 'example.com', isResidentCredential: false, userName: 'x' }, 400, /^body\.userName: /],
      [{ userHandle: 'AQ' }, 400, /^body\.rpId: required/],
      [{ rpId: 'example.com', userHandle: 'not base64!' }, 400, /^body\.userHandle: must match pattern/],
      [{ rpId: 'example.com', userHandle: 'AQ', signCount: -1 }, 400, /^body\.signCount: /],
      [{ rpId: 'example.com', userHandle: 'AQ', privateKey: 'AAAA' }, 400, /^privateKey: /],
      [{ rpId: 'example.com', userHandle: 'AQ', credentialId: '' }, 400, /^body\.credentialId: /],
      [{ rpId: 'example.com', userHandle: 'AQ', credentialId: 'A'.repeat(200) }, 400, /^credentialId: expected 1 to 128 bytes/],
      [{ rpId: 'other.example', isResidentCredential: false, credentialId: 'AQID' }, 409, /^credentialId: a credential with id 010203 already exists/],
      [{ rpId: 'example.com', isResidentCredential: false, largeBlob: 'AQ' }, 409, /^largeBlob: only a discoverable credential/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(base, body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.error.message).toMatch(message);
    }
    expect((await del(`${base}/AQID`)).status).toBe(204);
    expect((await get(`${base}?includePrivateKeys=yes`)).json.error.message).toMatch(/^query\.includePrivateKeys: must be one of/);
    const missing = await get(`${base}/AAAAAAAA`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('EMU_ERR_UNKNOWN_CREDENTIAL');
    expect((await post(`${base}/AAAAAAAA/corrupt`, { target: 'privateKey' })).status).toBe(404);
    expect((await post(`${base}/AAAAAAAA/corrupt`, { target: 'everything' })).json.error.message).toMatch(/^body\.target: must be one of/);
    expect((await post(`${base}/AAAAAAAA/counter`, { value: 1 })).status).toBe(404);
    expect((await post(`${base}/AAAAAAAA/props`, {})).status).toBe(400);
    expect((await get('/authenticators/nope/credentials')).status).toBe(404);
  });
});

describe('faults and history', () => {
  it('arm, list, disarm one / all; history reads and clears', async () => {
    const base = '/authenticators/default';
    const armed = await post(`${base}/faults`, { id: 'deny-2', effect: 'presence.deny', times: 2, when: { command: 'getAssertion' } });
    expect(armed.status).toBe(201);
    expect(armed.json).toMatchObject({ id: 'deny-2', seam: 'presence', remaining: 2, fired: 0 });
    await post(`${base}/faults`, { effect: { type: 'status', status: 'CTAP2_ERR_PIN_INVALID' }, persist: true });
    expect((await get(`${base}/faults`)).json.map((r: { id: string }) => r.id)).toEqual(['deny-2', 'status#1']);

    const dup = await post(`${base}/faults`, { id: 'deny-2', effect: 'presence.deny' });
    expect(dup.status).toBe(400);
    expect(dup.json.error.code).toBe('EMU_ERR_DUPLICATE_FAULT');
    expect((await post(`${base}/faults`, { when: {} })).json.error.message).toBe('body.effect: required');
    const bad = await post(`${base}/faults`, { effect: 'presence.deny', times: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/times/);

    // '#' in a rule id travels percent-encoded.
    expect((await del(`${base}/faults/${encodeURIComponent('status#1')}`)).status).toBe(204);
    const unknown = await del(`${base}/faults/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('EMU_ERR_UNKNOWN_FAULT');
    expect((await del(`${base}/faults`)).json).toEqual({ removed: 1 });

    await post(`${base}/lock`);
    await post(`${base}/unlock`);
    const history = (await get(`${base}/history`)).json as { effect: string; seam: string }[];
    expect(history.slice(-2).map((h) => [h.seam, h.effect])).toEqual([
      ['state', 'lock'],
      ['state', 'unlock'],
    ]);
    expect((await del(`${base}/history`)).status).toBe(204);
    expect((await get(`${base}/history`)).json).toEqual([]);
  });
});

describe('device state', () => {
  it('state, lock / unlock, power-cycle, reset, pin, presence', async () => {
    const base = '/authenticators/default';
    const s = await get(`${base}/state`);
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ profile: 'ctap21', suspended: false, pin: { supported: true } });

    await post(`${base}/lock`);
    expect((await get(`${base}/state`)).json.suspended).toBe(true);
    await post(`${base}/unlock`);
    expect((await get(`${base}/state`)).json.suspended).toBe(false);

    expect((await post(`${base}/pin`, { retries: 3 })).status).toBe(204);
    expect((await get(`${base}/state`)).json.pin.retries).toBe(3);
    expect((await post(`${base}/pin`, { pin: '123456' })).status).toBe(204);
    expect((await get(`${base}/state`)).json.pin).toMatchObject({ set: true, retries: 8 });
    await post(`${base}/pin`, { forceChange: true });
    expect((await get(`${base}/state`)).json.pin.forceChange).toBe(true);
    await post(`${base}/pin`, { block: true });
    expect((await get(`${base}/state`)).json.pin.blocked).toBe(true);
    expect((await post(`${base}/pin`, { retries: 99 })).json.error.message).toMatch(/retries/);
    expect((await post(`${base}/pin`, {})).json.error.message).toMatch(/^body: must NOT have fewer than 1 properties/);
    expect((await post(`${base}/pin`, { retries: 1, block: true })).status).toBe(400);

    expect((await post(`${base}/power-cycle`)).status).toBe(204);
    expect((await post(`${base}/reset`)).status).toBe(204);
    expect((await get(`${base}/state`)).json.pin).toMatchObject({ set: false, blocked: false });

    const p = await post(`${base}/presence`, { mode: 'deny', delayMs: 5 });
    expect(p.json).toMatchObject({ mode: 'deny', delayMs: 5 });
    expect((await get(`${base}/presence`)).json.mode).toBe('deny');
    expect((await get(`/authenticators/default`)).json.isUserConsenting).toBe(false);
    await post(`${base}/presence`, { mode: 'approve', delayMs: 0 });
    expect((await post(`${base}/presence`, { mode: 'maybe' })).json.error.message).toMatch(/^body\.mode: must be one of/);
  });

  it('uv, sensor and templates on a built-in-UV key; 409 on a key without', async () => {
    const a = await createAuthenticator({ profile: 'ctap21-fingerprint' });
    const base = `/authenticators/${a.id}`;
    const t = await post(`${base}/templates`, { modality: 'fingerprint', name: 'thumb' });
    expect(t.status).toBe(201);
    expect(t.json).toMatchObject({ modality: 'fingerprint', name: 'thumb' });
    expect((await get(`${base}/templates`)).json).toHaveLength(1);
    expect((await post(`${base}/uv`, { retries: 2 })).status).toBe(204);
    expect((await get(`${base}/state`)).json.uv.retries).toBe(2);
    await post(`${base}/uv`, { block: true });
    expect((await get(`${base}/state`)).json.uv.blocked).toBe(true);
    expect((await post(`${base}/uv`, { isUserVerified: false })).status).toBe(204);
    expect((await get(base)).json.isUserVerified).toBe(false);
    expect((await post(`${base}/sensor`, { modality: 'fingerprint', script: ['mismatch', 'match'] })).status).toBe(204);
    expect((await post(`${base}/sensor`, { modality: 'fingerprint', policy: 'match' })).status).toBe(204);
    expect((await get(base)).json.isUserVerified).toBe(true);
    expect((await post(`${base}/sensor`, { modality: 'fingerprint', script: ['sideways'] })).status).toBe(400);
    expect((await get(`${base}/sensor`)).json).toEqual({ attempts: [] });
    await del(base);

    const none = '/authenticators/default';
    for (const [path, body] of [
      ['uv', { isUserVerified: true }],
      ['uv', { retries: 1 }],
      ['templates', { modality: 'fingerprint' }],
      ['sensor', { modality: 'face', policy: 'match' }],
    ] as const) {
      const r = await post(`${none}/${path}`, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(409);
    }
  });
});

describe('security', () => {
  it('a token is required on every request (401), compared exactly', async () => {
    const none = await get('/authenticators', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.json.error.code).toBe('EMU_ERR_UNAUTHORIZED');
    expect((await post('/authenticators', {}, { token: null })).status).toBe(401);
    expect((await get('/authenticators', { token: `${server.token}x` })).status).toBe(401);
    expect((await get('/authenticators', { token: server.token.slice(1) })).status).toBe(401);
    expect((await del('/authenticators/default/history', { token: 'wrong-token-wrong-token' })).status).toBe(401);
    // Not a route enumeration oracle either.
    expect((await get('/no/such/route', { token: null })).status).toBe(401);
  });

  it('unknown routes → 404 JSON', async () => {
    const r = await get('/no/such/route');
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('EMU_ERR_NOT_FOUND');
    expect((await call('PUT', '/authenticators')).status).toBe(404);
  });

  it('any Origin header → 403 (also "null"), and cross-site fetch metadata; no CORS headers', async () => {
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${server.port}`]) {
      const r = await get('/authenticators', { headers: { origin } });
      expect(r.status, origin).toBe(403);
      expect(r.json.error.code).toBe('EMU_ERR_FORBIDDEN_ORIGIN');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
    const preflight = await call('OPTIONS', '/authenticators', { token: null, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect((await post('/authenticators/default/lock', undefined, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await get('/authenticators', { headers: { 'sec-fetch-site': 'none' } })).status).toBe(200);
    expect((await get('/authenticators')).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('a Host other than 127.0.0.1 / localhost / [::1] with this port → 403 (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, `127.0.0.2:${server.port}`]) {
      const r = await get('/authenticators', { headers: { host } });
      expect(r.status, host).toBe(403);
      expect(r.json.error.code).toBe('EMU_ERR_FORBIDDEN_HOST');
    }
    for (const host of [`localhost:${server.port}`, `LOCALHOST:${server.port}`, `[::1]:${server.port}`]) {
      expect((await get('/authenticators', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('request bodies must be application/json (415): no text/plain or form posts', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await call('POST', '/authenticators', { raw: '{}', contentType: type });
      expect(r.status, type).toBe(415);
      expect(r.json.error.code).toBe('EMU_ERR_UNSUPPORTED_MEDIA_TYPE');
    }
    expect((await call('POST', '/authenticators/default/lock', { raw: '', contentType: 'application/json' })).status).toBe(204);
    await post('/authenticators/default/unlock');
    const bad = await call('POST', '/authenticators', { raw: '{"protocol":', contentType: 'application/json; charset=utf-8' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('body: not valid JSON');
  });

  /**
   * A remote client sends the address it connected to in Host. The test binds 127.0.0.1 only and plays the remote
   * client with that Host header and allowedHosts (192.0.2.10, TEST-NET-1: the name a LAN client would use).
   */
  it('binds loopback only unless allowRemote; the token still applies remotely', async () => {
    await expect(startControlServer({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'EMU_ERR_INVALID_ARGUMENT', message: /allowRemote/ });
    await expect(startControlServer({ token: 'short' })).rejects.toMatchObject({ code: 'EMU_ERR_INVALID_ARGUMENT', message: /^token: / });
    await expect(startControlServer({ allowedHosts: ['vfido.lan:8112'] })).rejects.toMatchObject({ message: /^allowedHosts\[0\]: / });
    const remote = await startControlServer({ host: '127.0.0.1', allowRemote: true, allowedHosts: ['192.0.2.10', 'vfido.lan'] });
    try {
      const status = (token: string | undefined, host = `192.0.2.10:${remote.port}`): Promise<number> =>
        new Promise((resolve, reject) => {
          const headers: Record<string, string> = { host, ...(token ? { authorization: `Bearer ${token}` } : {}) };
          httpRequest({ host: '127.0.0.1', port: remote.port, path: '/authenticators', headers, setHost: false }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          })
            .on('error', reject)
            .end();
        });
      expect(await status(undefined)).toBe(401);
      expect(await status(remote.token)).toBe(200);
      expect(await status(remote.token, `VFIDO.lan:${remote.port}`)).toBe(200);
      expect(await status(remote.token, `192.0.2.11:${remote.port}`)).toBe(403);
    } finally {
      await remote.close();
    }
  });

  /** Regression: a server reachable from the network sent private keys to whoever had the token. */
  it('private keys are exported only to a local request (loopback peer and loopback Host)', async () => {
    const remote = await startControlServer({ allowedHosts: ['192.0.2.10'], authenticators: { default: attached } });
    try {
      const key = p256Key();
      const added = await post('/authenticators/default/credentials', { rpId: 'remote.example', userHandle: 'AQ', privateKey: key.pkcs8 });
      expect(added.status).toBe(201);
      const id = added.json.credentialId as string;
      const fetchAt = (host: string, path: string): Promise<Res> =>
        new Promise((resolve, reject) => {
          httpRequest(
            { host: '127.0.0.1', port: remote.port, path, headers: { host, authorization: `Bearer ${remote.token}` }, setHost: false },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (d: string) => (text += d));
              res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, json: text ? JSON.parse(text) : undefined }));
            },
          )
            .on('error', reject)
            .end();
        });
      const lan = `192.0.2.10:${remote.port}`;
      for (const path of ['/authenticators/default/credentials?includePrivateKeys=true', `/authenticators/default/credentials/${id}?includePrivateKeys=true`]) {
        const r = await fetchAt(lan, path);
        expect(r.status, path).toBe(403);
        expect(r.json.error.code).toBe('EMU_ERR_FORBIDDEN_REMOTE');
        expect(r.text).not.toContain(key.pkcs8);
      }
      // Without the flag the remote client reads the metadata; a local one still gets the key.
      expect((await fetchAt(lan, `/authenticators/default/credentials/${id}`)).json.privateKey).toBeUndefined();
      expect((await fetchAt(`localhost:${remote.port}`, `/authenticators/default/credentials/${id}?includePrivateKeys=true`)).json.privateKey).toBeDefined();
      await del(`/authenticators/default/credentials/${id}`);
    } finally {
      await remote.close();
    }
  });

  /** Regression: a PIN or a private key that failed validation was quoted back in the error body. */
  it('error bodies describe a rejected PIN or private key, never quote it', async () => {
    const pin = `secretpin${'9'.repeat(60)}`;
    const r = await post('/authenticators/default/pin', { pin });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain(`a string of ${pin.length} characters`);
    expect(r.text).not.toContain('secretpin');
    const privateKey = 'SECRETKEYAAAASECRETKEYAAAASECRETKEYAAAASECRETKEYAAAAQ';
    const k = await post('/authenticators/default/credentials', { rpId: 'x.example', userHandle: 'AQ', privateKey });
    expect(k.status).toBe(400);
    expect(k.json.error.message).toMatch(/^privateKey: /);
    expect(k.text).not.toContain('SECRETKEY');
  });

  it('never logs the token, private keys or request bodies', async () => {
    const key = p256Key();
    const r = await post('/authenticators/default/credentials', { rpId: 'log.example', userHandle: 'AQ', privateKey: key.pkcs8 });
    const exported = (await get(`/authenticators/default/credentials/${r.json.credentialId}?includePrivateKeys=true`)).json.privateKey;
    await post('/authenticators/default/pin', { pin: '987654' });
    await get('/authenticators', { token: 'wrong-token-wrong-token' });
    const log = logLines.join('');
    expect(log).toContain('control http'); // requests are logged …
    for (const secret of [server.token, key.pkcs8, exported, '987654', 'wrong-token-wrong-token']) expect(log).not.toContain(secret);
    await del('/authenticators/default/credentials');
    await post('/authenticators/default/reset');
  });
});

describe('end to end', () => {
  /**
   * Spec: WebAuthn L3 §11 Add Credential / Get Credentials with the Credential Parameters a WebDriver client sends
   * (credentialId chosen by the client, isResidentCredential true and false, largeBlob); CTAP 2.1 §6.2.2 step 7
   * (allowList vs discoverable), §6.1.2 step 12 (excludeList), WebAuthn L3 §6.1.1 (signature counter).
   */
  it('WebDriver round trip: client-chosen IDs for a resident and a non-resident credential, both usable over UDP', async () => {
    const a = await createAuthenticator({ protocol: 'ctap2_1', transport: 'usb', hasResidentKey: true, isUserConsenting: true });
    const base = `/authenticators/${a.id}/credentials`;
    const residentKey = p256Key();
    const serverKey = p256Key();
    const residentId = Buffer.from('webdriver-resident-credential-id').toString('base64url');
    const serverId = Buffer.from('webdriver-server-side-credential').toString('base64url');
    const userHandle = Buffer.from('wd-user').toString('base64url');
    const blob = Buffer.from('per-credential blob').toString('base64url');
    const resident = await post(base, {
      credentialId: residentId,
      isResidentCredential: true,
      rpId: 'wd.example',
      privateKey: residentKey.pkcs8,
      userHandle,
      signCount: 3,
      largeBlob: blob,
    });
    expect(resident.status, resident.text).toBe(201);
    expect(resident.json).toMatchObject({ credentialId: residentId, isResidentCredential: true, rpId: 'wd.example', userHandle, signCount: 3, largeBlob: blob });
    const server = await post(base, { credentialId: serverId, isResidentCredential: false, rpId: 'wd.example', privateKey: serverKey.pkcs8, signCount: 7 });
    expect(server.status, server.text).toBe(201);
    expect(server.json).toMatchObject({ credentialId: serverId, isResidentCredential: false, rpId: 'wd.example', signCount: 7, status: 'active' });
    expect(server.json.userHandle).toBeUndefined();

    // Get Credentials: the same shape back, private keys only on request (and they are the injected ones).
    const listed = (await get(base)).json as { credentialId: string; isResidentCredential: boolean; privateKey?: string }[];
    expect(listed.map((c) => [c.credentialId, c.isResidentCredential, c.privateKey])).toEqual([
      [residentId, true, undefined],
      [serverId, false, undefined],
    ]);
    const withKeys = (await get(`${base}?includePrivateKeys=true`)).json as { credentialId: string; privateKey: string }[];
    for (const [id, key] of [[residentId, residentKey], [serverId, serverKey]] as const) {
      const exported = withKeys.find((c) => c.credentialId === id)!.privateKey;
      const pub = createPublicKey(createPrivateKey({ key: Buffer.from(exported, 'base64url'), format: 'der', type: 'pkcs8' }));
      expect(pub.export({ format: 'jwk' })).toEqual(key.publicKey.export({ format: 'jwk' }));
    }
    expect((await get(`${base}/${serverId}`)).json).toMatchObject({ credentialId: serverId, isResidentCredential: false });
    expect((await get(`/authenticators/${a.id}/state`)).json.credentials).toMatchObject({ discoverable: 1, nonDiscoverable: 1 });

    const pipe = await connectUdp({ port: a.port });
    const client = await CtapHidClient.open(pipe, { timeoutMs: 3000 });
    const cdh = sha256('wd-client-data');
    const ga = async (allow?: string[]) => {
      const m = new Map<number, unknown>([
        [1, 'wd.example'],
        [2, cdh],
      ]);
      if (allow) m.set(3, allow.map((id) => ({ id: new Uint8Array(Buffer.from(id, 'base64url')), type: 'public-key' })));
      return client.cbor(CtapCommand.authenticatorGetAssertion, m);
    };
    try {
      // The non-resident credential answers to its WebDriver-chosen ID through the allowList.
      const byId = await ga([serverId]);
      expect(byId.status).toBe(0);
      let body = byId.data as CborMap;
      expect(Buffer.from((body.get(1) as Map<string, Uint8Array>).get('id')!).toString('base64url')).toBe(serverId);
      expect(body.has(4)).toBe(false);
      let authData = body.get(2) as Uint8Array;
      expect(parseAuthData(authData).signCount).toBe(8);
      expect(verifySignature(serverKey.publicKey, -7, authData, cdh, body.get(3) as Uint8Array)).toBe(true);

      // A discoverable request finds only the resident one, under its chosen ID, with its user handle.
      const discoverable = await ga();
      expect(discoverable.status).toBe(0);
      body = discoverable.data as CborMap;
      expect(Buffer.from((body.get(1) as Map<string, Uint8Array>).get('id')!).toString('base64url')).toBe(residentId);
      expect(Buffer.from((body.get(4) as Map<string, Uint8Array>).get('id')!).toString('base64url')).toBe(userHandle);
      expect(body.has(5)).toBe(false); // numberOfCredentials: one credential only
      authData = body.get(2) as Uint8Array;
      expect(parseAuthData(authData).signCount).toBe(4);
      expect(verifySignature(residentKey.publicKey, -7, authData, cdh, body.get(3) as Uint8Array)).toBe(true);

      // excludeList: the server-side ID is recognised.
      const mc = await client.cbor(
        CtapCommand.authenticatorMakeCredential,
        new Map<number, unknown>([
          [1, cdh],
          [2, { id: 'wd.example' }],
          [3, { id: new Uint8Array([1]) }],
          [4, [{ alg: -7, type: 'public-key' }]],
          [5, [{ id: new Uint8Array(Buffer.from(serverId, 'base64url')), type: 'public-key' }]],
        ]),
      );
      expect(mc.status).toBe(0x19); // CTAP2_ERR_CREDENTIAL_EXCLUDED

      // Counter, deactivate / restore, remove work on the server-side credential too.
      expect((await post(`${base}/${serverId}/counter`, { value: 100 })).status).toBe(204);
      expect((await get(`${base}/${serverId}`)).json.signCount).toBe(100);
      expect(parseAuthData(((await ga([serverId])).data as CborMap).get(2) as Uint8Array).signCount).toBe(101);
      expect((await post(`${base}/${serverId}/deactivate`)).status).toBe(204);
      expect((await ga([serverId])).status).toBe(0x2e); // CTAP2_ERR_NO_CREDENTIALS
      expect((await post(`${base}/${serverId}/restore`)).status).toBe(204);
      expect((await ga([serverId])).status).toBe(0);
      expect((await del(`${base}/${serverId}`)).status).toBe(204);
      expect((await get(`${base}/${serverId}`)).status).toBe(404);
      expect((await ga([serverId])).status).toBe(0x2e);
    } finally {
      client.close();
      await pipe.closeAsync();
      await del(`/authenticators/${a.id}`);
    }
  });

  /**
   * Spec: WebAuthn L3 §11 Add Credential: an injected credential is usable by the authenticator. CTAP 2.1 §6.2:
   * getAssertion signs authData || clientDataHash with the credential's private key.
   */
  it('a credential injected over HTTP signs a real getAssertion over UDP; the signature verifies with its public key', async () => {
    const a = await createAuthenticator({ protocol: 'ctap2_1', transport: 'usb', hasResidentKey: true, isUserConsenting: true });
    const key = p256Key();
    const userHandle = Buffer.from('user-e2e');
    const added = await post(`/authenticators/${a.id}/credentials`, {
      isResidentCredential: true,
      rpId: 'e2e.example',
      privateKey: key.pkcs8,
      userHandle: userHandle.toString('base64url'),
      signCount: 10,
    });
    expect(added.status, added.text).toBe(201);
    const credentialId = Buffer.from(added.json.credentialId, 'base64url');

    const pipe = await connectUdp({ port: a.port });
    const client = await CtapHidClient.open(pipe, { timeoutMs: 3000 });
    try {
      const cdh = sha256('e2e-client-data');
      const withAllowList = await client.cbor(
        CtapCommand.authenticatorGetAssertion,
        new Map<number, unknown>([
          [1, 'e2e.example'],
          [2, cdh],
          [3, [{ id: new Uint8Array(credentialId), type: 'public-key' }]],
        ]),
      );
      expect(withAllowList.status).toBe(0);
      const body = withAllowList.data as CborMap;
      const authData = body.get(2) as Uint8Array;
      const ad = parseAuthData(authData);
      expect(Buffer.from(ad.rpIdHash)).toEqual(Buffer.from(sha256('e2e.example')));
      expect(ad.up).toBe(true);
      expect(ad.signCount).toBe(11);
      expect(verifySignature(key.publicKey, -7, authData, cdh, body.get(3) as Uint8Array)).toBe(true);

      // Discoverable: no allowList; the user handle comes back. Set Credential Properties' BE / BS are on the
      // wire, and the (re-signed) signature still verifies with the injected key.
      await post(`/authenticators/${a.id}/credentials/${added.json.credentialId}/props`, { backupEligibility: true, backupState: true });
      const discoverable = await client.cbor(CtapCommand.authenticatorGetAssertion, new Map<number, unknown>([[1, 'e2e.example'], [2, cdh]]));
      expect(discoverable.status).toBe(0);
      const d = discoverable.data as CborMap;
      expect(Buffer.from((d.get(4) as Map<string, Uint8Array>).get('id')!)).toEqual(userHandle);
      const dAuth = d.get(2) as Uint8Array;
      expect(dAuth[32]! & 0x18).toBe(0x18); // BE (bit 3) and BS (bit 4)
      expect(verifySignature(key.publicKey, -7, dAuth, cdh, d.get(3) as Uint8Array)).toBe(true);
    } finally {
      client.close();
      await pipe.closeAsync();
      await del(`/authenticators/${a.id}`);
    }
  });
});
