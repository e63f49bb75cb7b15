/**
 * CTAP2 conformance over every transport (memory and UDP): one suite, a transport factory.
 * Signatures and authData are checked with test/helpers/webauthn.ts (node:crypto), not with vfido's own code.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { parseAuthData, coseToKeyObject, verifySignature, sha256 } from '../helpers/webauthn.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';
import type { CborMap } from '../../ctap/cbor.ts';

const ES256 = -7;
const EdDSA = -8;

function mcParams(o: {
  rpId?: string;
  userId?: Uint8Array;
  userName?: string;
  algs?: number[];
  rk?: boolean;
  up?: boolean;
  excludeList?: Uint8Array[];
  cdh?: Uint8Array;
}): Map<number, unknown> {
  const m = new Map<number, unknown>([
    [1, o.cdh ?? sha256('client-data')],
    [2, { id: o.rpId ?? 'example.com', name: 'Example' }],
    [3, { id: o.userId ?? new Uint8Array([1, 2, 3]), name: o.userName ?? 'alice', displayName: 'Alice' }],
    [4, (o.algs ?? [ES256]).map((alg) => ({ alg, type: 'public-key' }))],
  ]);
  if (o.excludeList) m.set(5, o.excludeList.map((id) => ({ id, type: 'public-key' })));
  const options: Record<string, boolean> = {};
  if (o.rk !== undefined) options.rk = o.rk;
  if (o.up !== undefined) options.up = o.up;
  if (Object.keys(options).length) m.set(7, options);
  return m;
}

function gaParams(o: { rpId?: string; allow?: Uint8Array[]; up?: boolean; cdh?: Uint8Array }): Map<number, unknown> {
  const m = new Map<number, unknown>([
    [1, o.rpId ?? 'example.com'],
    [2, o.cdh ?? sha256('client-data-ga')],
  ]);
  if (o.allow) m.set(3, o.allow.map((id) => ({ id, type: 'public-key' })));
  if (o.up !== undefined) m.set(5, { up: o.up });
  return m;
}

describe.each(TRANSPORTS)('CTAP2 conformance over %s', (transport) => {
  let h: Harness;
  let c: CtapHidClient;

  beforeEach(async () => {
    h = await openHarness(transport, { seed: `conformance-${transport}` });
    c = await h.client();
  });
  afterEach(async () => {
    await h.close();
  });

  async function makeCredential(o: Parameters<typeof mcParams>[0] = {}) {
    const r = await c.cbor(CtapCommand.authenticatorMakeCredential, mcParams(o));
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    const m = r.data as CborMap;
    const authData = m.get(2) as Uint8Array;
    const parsed = parseAuthData(authData);
    return { fmt: m.get(1) as string, authData, attStmt: m.get(3) as CborMap, parsed, id: parsed.credentialId! };
  }

  /** Spec: CTAP 2.1 §6.4 authenticatorGetInfo — versions, aaguid(16), options, algorithms; answered without UP. */
  it('getInfo describes the device', async () => {
    const r = await c.cbor(CtapCommand.authenticatorGetInfo);
    expect(r.status).toBe(0);
    const info = r.data as CborMap;
    const versions = info.get(1) as string[];
    expect(versions).toContain('FIDO_2_0');
    expect((info.get(3) as Uint8Array).length).toBe(16);
    const options = info.get(4) as CborMap;
    expect(options.get('rk')).toBe(true);
    expect(options.get('up')).toBe(true);
    // The default key supports a PIN (none set yet: clientPin false) and PIN/UV auth protocols two and one;
    // it has no built-in UV, so it MUST NOT list uv (CTAP 2.1 §6.4).
    expect(options.get('clientPin')).toBe(false);
    expect(options.get('pinUvAuthToken')).toBe(true);
    expect(options.has('uv')).toBe(false);
    expect(info.get(6)).toEqual([2, 1]);
    const algs = (info.get(10) as CborMap[]).map((a) => a.get('alg'));
    expect(algs).toEqual(expect.arrayContaining([ES256, EdDSA]));
    expect(info.get(5)).toBeGreaterThanOrEqual(1024);
  });

  /** Spec: WebAuthn §6.1 authData; packed attestation §8.2 with x5c chain from the device's test CA. */
  it('makeCredential (ES256, packed x5c) returns verifiable attestation', async () => {
    const cdh = sha256('mc-basic');
    const { fmt, authData, attStmt, parsed } = await makeCredential({ cdh });
    expect(fmt).toBe('packed');
    expect(parsed.rpIdHash).toEqual(sha256('example.com'));
    expect(parsed.up).toBe(true);
    expect(parsed.at).toBe(true);
    expect(parsed.signCount).toBe(0);
    expect(parsed.publicKey!.get(3)).toBe(ES256);
    const x5c = attStmt.get('x5c') as Uint8Array[];
    expect(x5c.length).toBeGreaterThanOrEqual(1);
    const leaf = new X509Certificate(Buffer.from(x5c[0]!));
    expect(leaf.subject).toContain('OU=Authenticator Attestation');
    expect(leaf.ca).toBe(false);
    if (x5c[1]) expect(leaf.verify(new X509Certificate(Buffer.from(x5c[1])).publicKey)).toBe(true);
    expect(attStmt.get('alg')).toBe(ES256);
    expect(verifySignature(leaf.publicKey, ES256, authData, cdh, attStmt.get('sig') as Uint8Array)).toBe(true);
  });

  /** Spec: CTAP 2.1 §6.1.2 step 3 — the first supported algorithm in the RP's order is used. */
  it('makeCredential picks the first supported algorithm in the RP order (EdDSA before ES256)', async () => {
    const { parsed } = await makeCredential({ algs: [-999, EdDSA, ES256] });
    expect(parsed.publicKey!.get(3)).toBe(EdDSA);
    expect(parsed.publicKey!.get(1)).toBe(1);
  });

  /** Spec: CTAP 2.1 §6.1.2 — no supported algorithm → CTAP2_ERR_UNSUPPORTED_ALGORITHM. */
  it('makeCredential with no supported algorithm → UNSUPPORTED_ALGORITHM', async () => {
    const r = await c.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ algs: [-257, -999] }));
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_UNSUPPORTED_ALGORITHM);
  });

  /** Spec: CTAP 2.1 §6.1.2 — options.up=false in makeCredential → CTAP2_ERR_INVALID_OPTION. */
  it('makeCredential with up=false → INVALID_OPTION', async () => {
    const r = await c.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ up: false }));
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
  });

  /** Spec: CTAP 2.1 §6.1.2 — an excludeList hit waits for a touch, then CTAP2_ERR_CREDENTIAL_EXCLUDED. */
  it('excludeList hit → CREDENTIAL_EXCLUDED; other RP ids are not matched', async () => {
    const { id } = await makeCredential({});
    const r = await c.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ excludeList: [id] }));
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED);
    const other = await c.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ rpId: 'other.example', excludeList: [id] }));
    expect(other.status).toBe(0);
  });

  /** Spec: CTAP 2.1 §6.2.2 — allowList assertion, signature over authData || clientDataHash, counter increases. */
  it.each([ES256, EdDSA])('getAssertion with allowList verifies (alg %i) and counts', async (alg) => {
    const { id, parsed } = await makeCredential({ algs: [alg] });
    const key = coseToKeyObject(parsed.publicKey!);
    let last = 0;
    for (let i = 0; i < 2; i++) {
      const cdh = sha256(`ga-${i}`);
      const r = await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({ allow: [new Uint8Array(8), id], cdh }));
      expect(r.status).toBe(0);
      const m = r.data as CborMap;
      expect((m.get(1) as CborMap).get('id')).toEqual(id);
      const authData = m.get(2) as Uint8Array;
      const a = parseAuthData(authData);
      expect(a.at).toBe(false);
      expect(a.up).toBe(true);
      expect(a.signCount).toBeGreaterThan(last);
      last = a.signCount;
      expect(verifySignature(key, alg, authData, cdh, m.get(3) as Uint8Array)).toBe(true);
      expect(m.has(5)).toBe(false);
    }
  });

  /** Spec: CTAP 2.1 §6.2.2 — credentials bound to another RP are not found → NO_CREDENTIALS. */
  it('getAssertion for another RP → NO_CREDENTIALS', async () => {
    const { id } = await makeCredential({});
    const r = await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({ rpId: 'evil.example', allow: [id] }));
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
  });

  /** Spec: CTAP 2.1 §6.2.2 — up=false is a silent probe: UP flag clear. */
  it('getAssertion with up=false leaves UP clear', async () => {
    const { id } = await makeCredential({});
    const r = await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({ allow: [id], up: false }));
    expect(r.status).toBe(0);
    expect(parseAuthData((r.data as CborMap).get(2) as Uint8Array).up).toBe(false);
  });

  /** Spec: CTAP 2.1 §6.2.2 / §6.3 — discoverable credentials newest first, numberOfCredentials, then getNextAssertion. */
  it('discoverable getAssertion walks 3 credentials with getNextAssertion, newest first', async () => {
    const ids: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await makeCredential({ rk: true, userId: new Uint8Array([i + 1]), userName: `user${i}` });
      ids.push(id);
    }
    const first = await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({}));
    expect(first.status).toBe(0);
    const m0 = first.data as CborMap;
    expect(m0.get(5)).toBe(3);
    const seen = [m0];
    for (let i = 0; i < 2; i++) {
      const n = await c.cbor(CtapCommand.authenticatorGetNextAssertion);
      expect(n.status).toBe(0);
      expect((n.data as CborMap).has(5)).toBe(false);
      seen.push(n.data as CborMap);
    }
    expect(seen.map((m) => (m.get(1) as CborMap).get('id'))).toEqual([ids[2], ids[1], ids[0]]);
    expect(seen.map((m) => (m.get(4) as CborMap).get('id'))).toEqual([
      new Uint8Array([3]),
      new Uint8Array([2]),
      new Uint8Array([1]),
    ]);
    // Without UV the user entity carries the id only.
    for (const m of seen) expect((m.get(4) as CborMap).has('name')).toBe(false);
    const done = await c.cbor(CtapCommand.authenticatorGetNextAssertion);
    expect(done.status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });

  /** Spec: CTAP 2.1 §6.1.2 step 17 — same (rpId, user.id) overwrites the resident credential. */
  it('a second rk credential for the same user replaces the first', async () => {
    await makeCredential({ rk: true, userId: new Uint8Array([9]) });
    const { id } = await makeCredential({ rk: true, userId: new Uint8Array([9]) });
    const r = await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({}));
    expect(r.status).toBe(0);
    expect((r.data as CborMap).has(5)).toBe(false);
    expect(((r.data as CborMap).get(1) as CborMap).get('id')).toEqual(id);
  });

  /** Spec: CTAP 2.1 §8 — malformed CBOR, wrong types and missing members get their exact codes. */
  it('bad requests get the exact status', async () => {
    const raw = async (bytes: number[]) => c.call(0x10, new Uint8Array(bytes));
    expect((await raw([0x01, 0xa1, 0x01]))[0]).toBe(CtapStatus.CTAP2_ERR_INVALID_CBOR);
    expect((await raw([0x01, 0xa2, 0x02, 0x00, 0x01, 0x00]))[0]).toBe(CtapStatus.CTAP2_ERR_INVALID_CBOR); // unsorted keys
    expect((await raw([0x42]))[0]).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
    const missing = mcParams({});
    missing.delete(3);
    expect((await c.cbor(CtapCommand.authenticatorMakeCredential, missing)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    const wrongType = mcParams({});
    wrongType.set(1, 'not bytes');
    expect((await c.cbor(CtapCommand.authenticatorMakeCredential, wrongType)).status).toBe(
      CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE,
    );
    // Unknown top-level keys, option keys and extensions are ignored.
    const extra = mcParams({});
    extra.set(6, { 'unknown-ext': true });
    extra.set(7, { frobnicate: true });
    extra.set(0x1f, 5);
    expect((await c.cbor(CtapCommand.authenticatorMakeCredential, extra)).status).toBe(0);
  });

  /** Spec: CTAP 2.1 §6.6 reset — within 10 s of power-up wipes credentials; selection needs a touch. */
  it('reset wipes credentials; old credential ids stop working', async () => {
    const { id } = await makeCredential({ rk: true });
    const r = await c.cbor(CtapCommand.authenticatorReset);
    expect(r.status).toBe(0);
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({}))).status).toBe(
      CtapStatus.CTAP2_ERR_NO_CREDENTIALS,
    );
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({ allow: [id] }))).status).toBe(
      CtapStatus.CTAP2_ERR_NO_CREDENTIALS,
    );
    expect((await c.cbor(CtapCommand.authenticatorSelection)).status).toBe(0);
  });

  /** Spec: CTAP 2.1 §6.3 — any other command clears the getNextAssertion state. */
  it('getNextAssertion state is cleared by another command and by a power cycle', async () => {
    for (let i = 0; i < 2; i++) await makeCredential({ rk: true, userId: new Uint8Array([i + 1]) });
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({}))).status).toBe(0);
    await c.cbor(CtapCommand.authenticatorGetInfo);
    expect((await c.cbor(CtapCommand.authenticatorGetNextAssertion)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({}))).status).toBe(0);
    await h.device.powerCycle();
    if (transport === 'memory') c = await h.client();
    expect((await c.cbor(CtapCommand.authenticatorGetNextAssertion)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    // Persistent state survived the power cycle.
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams({}))).status).toBe(0);
  });
});

describe.each(TRANSPORTS)('CTAPHID conformance over %s', (transport) => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  /** Spec: CTAP 2.1 §11.2.9.1.1 PING echoes data; messages up to 7609 bytes. */
  it('PING echoes a maximum-size message', async () => {
    h = await openHarness(transport, {});
    const c = await h.client();
    const data = new Uint8Array(7609).map((_, i) => (i * 7) & 0xff);
    expect(await c.ping(data)).toEqual(data);
  });

  /** Spec: CTAP 2.1 §11.2.4 — other channels get CHANNEL_BUSY while a transaction waits for the user. */
  it('a second client gets CHANNEL_BUSY while the first waits for a touch, then proceeds', async () => {
    h = await openHarness(transport, { presence: { mode: 'approve', delayMs: 400 } });
    const a = await h.client();
    const b = await h.client();
    const keepalives: number[] = [];
    const pending = a.call(0x10, new Uint8Array([CtapCommand.authenticatorSelection]), {
      onKeepalive: (s) => keepalives.push(s),
    });
    await new Promise((r) => setTimeout(r, 150));
    await expect(b.ping(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: 0x06 });
    const res = await pending;
    expect(res[0]).toBe(0);
    expect(keepalives).toContain(2); // UPNEEDED
    expect(keepalives.length).toBeGreaterThanOrEqual(3); // ≥ 1 per 100 ms over 400 ms
    expect(await b.ping(new Uint8Array([4]))).toEqual(new Uint8Array([4]));
  });

  /** Spec: CTAP 2.1 §11.2.9.1.5 CANCEL — no reply to it; the pending request answers KEEPALIVE_CANCEL. */
  it('CANCEL ends a pending touch with KEEPALIVE_CANCEL', async () => {
    h = await openHarness(transport, { presence: { mode: 'approve', delayMs: 5000 } });
    const a = await h.client();
    const ac = new AbortController();
    const pending = a.call(0x10, new Uint8Array([CtapCommand.authenticatorSelection]), { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const res = await pending;
    expect(res[0]).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
  });
});
