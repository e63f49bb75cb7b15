/**
 * CTAP 2.1 §12 extensions over every transport (memory and UDP): credProtect, hmac-secret (PIN/UV auth
 * protocols one and two), hmac-secret-mc, credBlob, largeBlobKey, minPinLength. The platform side (key
 * agreement, salts, tokens) is node:crypto (test/helpers/pinClient.ts, test/helpers/extensions.ts); authData
 * is parsed and signatures are verified with test/helpers/webauthn.ts.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { clientPinCall } from '../helpers/clientPinCall.ts';
import { coseToKeyObject, parseAuthData, sha256, verifySignature } from '../helpers/webauthn.ts';
import { PinClient, Perm, authenticate, type Protocol } from '../helpers/pinClient.ts';
import { extensionOutputs, hmacSecretRequest, salt } from '../helpers/extensions.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { encode, type CborMap } from '../../ctap/cbor.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';

const PIN = '1234';
const RP = 'ext.example';

describe.each(TRANSPORTS)('extensions conformance over %s', (transport) => {
  let h: Harness;
  let c: CtapHidClient;
  const call = clientPinCall(() => c);

  beforeEach(async () => {
    h = await openHarness(transport, { seed: `extensions-${transport}` });
    c = await h.client();
  });
  afterEach(async () => {
    await h.close();
  });

  async function makeCredential(o: { ext?: [string, unknown][]; rk?: boolean; userId?: number; uv?: { pin: PinClient; token: Uint8Array } } = {}) {
    const cdh = sha256(`mc-${o.userId ?? 0}`);
    const m = new Map<number, unknown>([
      [1, cdh],
      [2, { id: RP, name: 'Ext' }],
      [3, { id: new Uint8Array([o.userId ?? 1]), name: 'u', displayName: 'U' }],
      [4, [{ alg: -7, type: 'public-key' }]],
    ]);
    if (o.ext) m.set(6, new Map(o.ext));
    if (o.rk) m.set(7, { rk: true });
    if (o.uv) m.set(8, o.uv.pin.param(o.uv.token, cdh)).set(9, o.uv.pin.protocol);
    const r = await c.cbor(CtapCommand.authenticatorMakeCredential, m);
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    const body = r.data as CborMap;
    const authData = body.get(2) as Uint8Array;
    const parsed = parseAuthData(authData);
    return { body, parsed, id: parsed.credentialId!, outputs: extensionOutputs(authData) };
  }

  async function getAssertion(o: { ext?: [string, unknown][]; allow?: Uint8Array[]; uv?: { pin: PinClient; token: Uint8Array } } = {}) {
    const cdh = sha256('ga');
    const m = new Map<number, unknown>([
      [1, RP],
      [2, cdh],
    ]);
    if (o.allow) m.set(3, o.allow.map((id) => ({ id, type: 'public-key' })));
    if (o.ext) m.set(4, new Map(o.ext));
    if (o.uv) m.set(6, o.uv.pin.param(o.uv.token, cdh)).set(7, o.uv.pin.protocol);
    const r = await c.cbor(CtapCommand.authenticatorGetAssertion, m);
    return { status: r.status, body: r.data as CborMap | undefined, cdh };
  }

  /** Spec: CTAP 2.1 §6.4: extensions (0x02); maxCredBlobLength (0x0F) present iff credBlob is listed. */
  it('getInfo lists the extensions and maxCredBlobLength', async () => {
    const info = (await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    const ext = info.get(0x02) as string[];
    expect(new Set(ext)).toEqual(new Set(['credProtect', 'hmac-secret', 'hmac-secret-mc', 'credBlob', 'largeBlobKey', 'minPinLength']));
    expect(info.get(0x0f)).toBeGreaterThanOrEqual(32);
  });

  /** Spec: §12.5 with protocols one and two; the UV bit selects CredRandomWithUV; the assertion still verifies. */
  it.each([1, 2] as const)('hmac-secret, protocol %i: stable per salt, two salts, different with UV; signature valid', async (p: Protocol) => {
    const pin = new PinClient(call, p);
    const made = await makeCredential({ ext: [['hmac-secret', true]] });
    expect(made.outputs!.get('hmac-secret')).toBe(true);

    const req1 = await hmacSecretRequest(pin, [salt('one')]);
    const r1 = await getAssertion({ allow: [made.id], ext: [['hmac-secret', req1.input]] });
    expect(r1.status).toBe(CtapStatus.CTAP2_OK);
    const authData = r1.body!.get(2) as Uint8Array;
    expect(verifySignature(coseToKeyObject(made.parsed.publicKey!), -7, authData, r1.cdh, r1.body!.get(3) as Uint8Array)).toBe(true);
    const [a] = req1.open(extensionOutputs(authData)!.get('hmac-secret') as Uint8Array);

    const req2 = await hmacSecretRequest(pin, [salt('one'), salt('two')]);
    const r2 = await getAssertion({ allow: [made.id], ext: [['hmac-secret', req2.input]] });
    const [a2, b] = req2.open(extensionOutputs(r2.body!.get(2) as Uint8Array)!.get('hmac-secret') as Uint8Array);
    expect(a2).toEqual(a);
    expect(b).not.toEqual(a);
    expect(b!.length).toBe(32);

    expect(await pin.setPin(PIN)).toBe(0);
    const token = await pin.tokenOrThrow({ pin: PIN, permissions: Perm.ga, rpId: RP });
    const req3 = await hmacSecretRequest(pin, [salt('one')]);
    const r3 = await getAssertion({ allow: [made.id], ext: [['hmac-secret', req3.input]], uv: { pin, token } });
    expect(r3.status).toBe(CtapStatus.CTAP2_OK);
    expect(parseAuthData(r3.body!.get(2) as Uint8Array).uv).toBe(true);
    const [withUv] = req3.open(extensionOutputs(r3.body!.get(2) as Uint8Array)!.get('hmac-secret') as Uint8Array);
    expect(withUv).not.toEqual(a);
  });

  it('hmac-secret errors: wrong saltAuth → PIN_AUTH_INVALID; 48 bytes of salts → INVALID_PARAMETER; up=false → UNSUPPORTED_OPTION', async () => {
    const pin = new PinClient(call, 2);
    const made = await makeCredential({ ext: [['hmac-secret', true]] });
    const bad = await hmacSecretRequest(pin, [salt('x')], { tamper: true });
    expect((await getAssertion({ allow: [made.id], ext: [['hmac-secret', bad.input]] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    const odd = await hmacSecretRequest(pin, [], { plaintext: new Uint8Array(48) });
    expect((await getAssertion({ allow: [made.id], ext: [['hmac-secret', odd.input]] })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    const ok = await hmacSecretRequest(pin, [salt('x')]);
    const silent = new Map<number, unknown>([
      [1, RP],
      [2, sha256('silent')],
      [3, [{ id: made.id, type: 'public-key' }]],
      [4, new Map([['hmac-secret', ok.input]])],
      [5, { up: false }],
    ]);
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, silent)).status).toBe(CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION);
  });

  /** Spec: CTAP 2.2 §12.8: the makeCredential output equals a later getAssertion output for the same salt (no UV). */
  it('hmac-secret-mc returns at creation what getAssertion returns later', async () => {
    const pin = new PinClient(call, 2);
    const mcReq = await hmacSecretRequest(pin, [salt('prf')]);
    const made = await makeCredential({ ext: [['hmac-secret', true], ['hmac-secret-mc', mcReq.input]] });
    const [atCreation] = mcReq.open(made.outputs!.get('hmac-secret-mc') as Uint8Array);
    const gaReq = await hmacSecretRequest(pin, [salt('prf')]);
    const r = await getAssertion({ allow: [made.id], ext: [['hmac-secret', gaReq.input]] });
    expect(gaReq.open(extensionOutputs(r.body!.get(2) as Uint8Array)!.get('hmac-secret') as Uint8Array)).toEqual([atCreation]);
  });

  /** Spec: §12.1 and §6.2.2 step 7: level 3 only with UV, level 2 only with UV or an allowList. */
  it('credProtect: output = level; level 2 hidden from discovery without UV, level 3 hidden without UV', async () => {
    const two = await makeCredential({ ext: [['credProtect', 2]], rk: true, userId: 2 });
    const three = await makeCredential({ ext: [['credProtect', 3]], rk: true, userId: 3 });
    expect(two.outputs!.get('credProtect')).toBe(2);
    expect(three.outputs!.get('credProtect')).toBe(3);
    expect((await getAssertion()).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect((await getAssertion({ allow: [two.id] })).status).toBe(CtapStatus.CTAP2_OK);
    expect((await getAssertion({ allow: [three.id] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    const pin = new PinClient(call, 1);
    expect(await pin.setPin(PIN)).toBe(0);
    const token = await pin.tokenOrThrow({ pin: PIN, permissions: Perm.ga, rpId: RP });
    const r = await getAssertion({ uv: { pin, token } });
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(r.body!.get(5)).toBe(2);
  });

  /** Spec: §12.2 credBlob and §12.3 largeBlobKey round trips on a discoverable credential. */
  it('credBlob and largeBlobKey: stored at creation, returned on assertion', async () => {
    const blob = new Uint8Array([0xc0, 0xff, 0xee]);
    const made = await makeCredential({ ext: [['credProtect', 1], ['credBlob', blob], ['largeBlobKey', true]], rk: true });
    expect(made.outputs!.get('credBlob')).toBe(true);
    const key = made.body.get(0x05) as Uint8Array;
    expect(key.length).toBe(32);
    const r = await getAssertion({ ext: [['credBlob', true], ['largeBlobKey', true]] });
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(extensionOutputs(r.body!.get(2) as Uint8Array)!.get('credBlob')).toEqual(blob);
    expect(r.body!.get(0x07)).toEqual(key);
    const refused = await c.cbor(
      CtapCommand.authenticatorMakeCredential,
      new Map<number, unknown>([
        [1, sha256('x')],
        [2, { id: RP }],
        [3, { id: new Uint8Array([9]) }],
        [4, [{ alg: -7, type: 'public-key' }]],
        [6, new Map([['largeBlobKey', false]])],
      ]),
    );
    expect(refused.status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
  });

  /** Spec: §12.4 with authenticatorConfig setMinPINLength (§6.11.4) naming the RP. */
  it('minPinLength: no output until setMinPINLength lists the RP, then the current minimum', async () => {
    expect((await makeCredential({ ext: [['minPinLength', true]] })).outputs).toBeUndefined();
    const pin = new PinClient(call, 2);
    expect(await pin.setPin('123456')).toBe(0);
    const token = await pin.tokenOrThrow({ pin: '123456', permissions: 0x20 }); // acfg
    const params = new Map<number, unknown>([
      [1, 6],
      [2, [RP]],
    ]);
    const message = new Uint8Array([...new Uint8Array(32).fill(0xff), 0x0d, 0x03, ...encode(params)]);
    const config = await c.cbor(
      CtapCommand.authenticatorConfig,
      new Map<number, unknown>([
        [1, 0x03],
        [2, params],
        [3, 2],
        [4, authenticate(2, token, message)],
      ]),
    );
    expect(config.status).toBe(CtapStatus.CTAP2_OK);
    const mcToken = await pin.tokenOrThrow({ pin: '123456', permissions: Perm.mc, rpId: RP });
    const made = await makeCredential({ ext: [['minPinLength', true]], uv: { pin, token: mcToken } });
    expect([...made.outputs!.entries()]).toEqual([['minPinLength', 6]]);
  });
});
