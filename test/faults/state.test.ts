/**
 * State seam (faults-api.md §5): the control API changes what the device holds; the real handlers then
 * answer from that state (PIN_BLOCKED, UV_BLOCKED, NO_CREDENTIALS, OPERATION_DENIED), seen here on the wire.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign as nodeSign, X509Certificate } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { decodeCanonical, type CborMap } from '../../ctap/cbor.ts';
import { assert, b64, CtapCommand, mcParams, faultDevice, GA_CDH, parseAuthData, pinClient, register, signatureValid, verifySignature, coseToKeyObject, RP } from './helpers.ts';

const coseOf = (b64key: string): CborMap => decodeCanonical(Buffer.from(b64key, 'base64url')) as CborMap;

describe('state control: PIN and UV', () => {
  it('pin.set / setRetries / block: clientPIN reports them and a blocked PIN is PIN_BLOCKED', async () => {
    const { device, client } = await faultDevice();
    const pin = pinClient(client);
    await device.control.pin.set('1234');
    expect((await pin.token({ pin: '1234', permissions: 0x02, rpId: RP })).status).toBe(0);
    await device.control.pin.setRetries(2);
    expect((await pin.retries()).pinRetries).toBe(2);
    await device.control.pin.block();
    expect((await pin.retries()).pinRetries).toBe(0);
    expect((await pin.token({ pin: '1234', permissions: 0x02, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_PIN_BLOCKED);
    const st = await device.control.state.get();
    expect(st.pin).toMatchObject({ supported: true, set: true, retries: 0, blocked: true });
    // the PIN never reaches the history
    expect(JSON.stringify(device.control.history.list())).not.toContain('1234');
    expect(device.control.history.list().map((e) => e.effect)).toEqual(['pin.set', 'pin.setRetries', 'pin.block']);
  });

  it('state.get exports the attestation chain: the CA it names is the trust anchor of packed x5c attestation', async () => {
    const { device, client } = await faultDevice({ attestation: 'basic' });
    const st = await device.control.state.get();
    expect(st.attestationCertificates).toHaveLength(2);
    const [leaf, ca] = st.attestationCertificates.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
    expect(ca!.ca).toBe(true);
    expect(leaf!.verify(ca!.publicKey)).toBe(true);
    const r = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams());
    const x5c = ((r.data as CborMap).get(3) as CborMap).get('x5c') as Uint8Array[];
    expect(Buffer.from(x5c[0]!).toString('base64')).toBe(st.attestationCertificates[0]);
    expect(new X509Certificate(Buffer.from(x5c[0]!)).verify(ca!.publicKey)).toBe(true);
  });

  it('forcePinChange: a PIN token is refused until the PIN is changed', async () => {
    const { device, client } = await faultDevice();
    const pin = pinClient(client);
    await device.control.pin.set('1234');
    await device.control.forcePinChange();
    expect((await pin.token({ pin: '1234', permissions: 0x02, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect(await pin.changePin('1234', '5678')).toBe(0);
    expect((await pin.token({ pin: '5678', permissions: 0x02, rpId: RP })).status).toBe(0);
  });

  it('uv.block: built-in UV answers UV_BLOCKED; uv.setRetries shows in getUVRetries', async () => {
    const { device, client } = await faultDevice({ profile: 'ctap21-fingerprint', verification: { templates: [{ modality: 'fingerprint' }] } });
    const pin = pinClient(client);
    await device.control.pin.set('1234');
    await device.control.uv.setRetries(3);
    expect(await pin.uvRetries()).toBe(3);
    await device.control.uv.block();
    expect((await pin.token({ permissions: 0x02, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_UV_BLOCKED);
    expect((await device.control.state.get()).uv).toMatchObject({ supported: true, retries: 0, blocked: true });
  });

  it('input errors are EmulatorErrors with stable codes', async () => {
    const { device } = await faultDevice();
    await expect(device.control.pin.setRetries(9)).rejects.toMatchObject({ code: 'EMU_ERR_INVALID_ARGUMENT' });
    await expect(device.control.uv.setRetries(1)).rejects.toMatchObject({ code: 'EMU_ERR_UNSUPPORTED' });
    await expect(device.control.pin.set('12')).rejects.toMatchObject({ code: 'EMU_ERR_INVALID_ARGUMENT' });
    expect(() => device.control.sensor.script('fingerprint', ['match'])).toThrow(expect.objectContaining({ code: 'EMU_ERR_UNSUPPORTED' }));
    await expect(device.control.credentials.remove('AAAA')).rejects.toMatchObject({ code: 'EMU_ERR_UNKNOWN_CREDENTIAL' });
    await expect(device.control.credentials.remove('not base64!')).rejects.toMatchObject({ code: 'EMU_ERR_INVALID_ARGUMENT' });
    expect(() => device.control.presence.set({ mode: 'sometimes' as never })).toThrow(expect.objectContaining({ code: 'EMU_ERR_INVALID_ARGUMENT' }));
  });
});

describe('state control: lock, power, reset', () => {
  it('lock: every command but getInfo is OPERATION_DENIED, across a power cycle, until unlock', async () => {
    const { device, client, connect } = await faultDevice();
    const reg = await register(client);
    await device.control.lock();
    expect((await assert(client, { allow: [reg.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    expect((await client.cbor(CtapCommand.authenticatorGetInfo)).status).toBe(0);
    await device.control.powerCycle(); // memory transport: a replug, the client opens a new channel
    const again = await connect();
    expect((await device.control.state.get()).suspended).toBe(true);
    expect((await assert(again, { allow: [reg.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    await device.control.unlock();
    expect((await assert(again, { allow: [reg.credentialId] })).status).toBe(0);
  });

  it('powerCycle drops the volatile state: a PIN soft-lock clears', async () => {
    const { device, client, connect } = await faultDevice();
    const pin = pinClient(client);
    await device.control.pin.set('1234');
    for (let i = 0; i < 3; i++) await pin.token({ pin: '0000', permissions: 0x02, rpId: RP });
    expect((await device.control.state.get()).pin.powerCycleRequired).toBe(true);
    expect((await pin.token({ pin: '1234', permissions: 0x02, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED);
    await device.control.powerCycle();
    expect((await pinClient(await connect()).token({ pin: '1234', permissions: 0x02, rpId: RP })).status).toBe(0);
  });

  it('reset: a factory reset without touch or window; old credentials are gone', async () => {
    const { device, client } = await faultDevice({ presence: { mode: 'deny' }, resetWindowMs: 0 });
    device.control.presence.set({ mode: 'approve' });
    const reg = await register(client, { rk: true });
    await device.control.pin.set('1234');
    device.control.presence.set({ mode: 'deny' });
    await device.control.reset();
    expect((await assert(client, { allow: [reg.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    const st = await device.control.state.get();
    expect(st.pin.set).toBe(false);
    expect(st.credentials.discoverable).toBe(0);
  });
});

describe('state control: credentials', () => {
  it('add: an injected credential with a given PKCS#8 key signs assertions verifiable with that key', async () => {
    const { device, client } = await faultDevice();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = b64(new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })));
    const info = await device.control.credentials.add({ rpId: RP, user: { id: b64(new Uint8Array([7])), name: 'bob' }, privateKey: pkcs8, signCount: 41 });
    expect(info).toMatchObject({ rpId: RP, status: 'active', signCount: 41, discoverable: true });
    expect(info.privateKey).toBeUndefined();
    const a = await assert(client); // discoverable: no allowList
    expect(a.status).toBe(0);
    expect(b64((a.body!.get(1) as CborMap).get('id') as Uint8Array)).toBe(info.credentialId);
    expect(parseAuthData(a.authData!).signCount).toBe(42);
    expect(verifySignature(publicKey, -7, a.authData!, GA_CDH, a.signature!)).toBe(true);
    const [listed] = await device.control.credentials.list({ includePrivateKeys: true });
    expect(listed!.privateKey).toBe(pkcs8);
    // a generated key: the listed COSE public key verifies
    const gen = await device.control.credentials.add({ rpId: 'other.example', user: { id: 'AQ' } });
    const g = await assert(client, { rpId: 'other.example' });
    expect(verifySignature(coseToKeyObject(coseOf(gen.publicKey)), -7, g.authData!, GA_CDH, g.signature!)).toBe(true);
    expect(nodeSign).toBeTypeOf('function');
  });

  it('add non-discoverable with a chosen ID (WebDriver isResidentCredential false): listed apart, found only by ID', async () => {
    const { device, client } = await faultDevice();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = b64(new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })));
    const id = new Uint8Array([0xc0, 0xff, 0xee]);
    const info = await device.control.credentials.add({ rpId: RP, credentialId: b64(id), discoverable: false, privateKey: pkcs8, signCount: 2 });
    expect(info).toMatchObject({ credentialId: b64(id), rpId: RP, discoverable: false, signCount: 2, status: 'active' });
    expect(info.user).toBeUndefined();
    expect((await assert(client)).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    const a = await assert(client, { allow: [id] });
    expect(parseAuthData(a.authData!).signCount).toBe(3);
    expect(verifySignature(publicKey, -7, a.authData!, GA_CDH, a.signature!)).toBe(true);
    expect(await device.control.credentials.list()).toMatchObject([{ credentialId: b64(id), discoverable: false, signCount: 3 }]);
    expect((await device.control.state.get()).credentials).toMatchObject({ discoverable: 0, nonDiscoverable: 1 });
    expect(device.control.history.list().at(-1)).toMatchObject({ effect: 'credentials.add', detail: { rpId: RP, discoverable: false } });
    await expect(device.control.credentials.add({ rpId: RP, user: { id: 'AQ' }, credentialId: b64(id) })).rejects.toMatchObject({
      code: 'EMU_ERR_DUPLICATE_CREDENTIAL',
    });
  });

  it('add with largeBlob: listed back; an entry in zlib framing (older platforms) is read too', async () => {
    const { device } = await faultDevice();
    const blob = Buffer.from('hello large blob');
    const info = await device.control.credentials.add({ rpId: RP, user: { id: 'AQ' }, largeBlob: b64(blob) });
    expect(info.largeBlob).toBe(b64(blob));
    expect((await device.control.credentials.list())[0]!.largeBlob).toBe(b64(blob));
    // As python-fido2 0.9.x writes it: zlib (RFC 1950) rather than raw DEFLATE.
    const older = Buffer.from('written by an older platform');
    const rec = await device.authenticator.control.addCredential({
      rpId: 'older.example',
      user: { id: new Uint8Array([2]) },
      alg: -7,
      largeBlob: { compressed: new Uint8Array(deflateSync(older)), origSize: older.length },
    });
    const listed = await device.control.credentials.list({ rpId: 'older.example' });
    expect(listed.map((c) => [c.credentialId, c.largeBlob])).toEqual([[b64(rec.credential.credentialId), b64(older)]]);
  });

  it('deactivate / restore: invisible to the real look-up (NO_CREDENTIALS, no exclusion), then back', async () => {
    const { device, client: first, connect } = await faultDevice();
    let client = first;
    const reg = await register(client, { rk: true });
    const id = b64(reg.credentialId);
    await device.control.credentials.deactivate(id);
    expect((await assert(client, { allow: [reg.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect((await assert(client)).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect((await device.control.credentials.list())[0]).toMatchObject({ credentialId: id, status: 'deactivated' });
    expect((await device.control.state.get()).credentials).toMatchObject({ discoverable: 0, deactivated: 1 });
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ exclude: [reg.credentialId] }))).status).toBe(0);
    await device.control.powerCycle(); // persisted
    client = await connect();
    await device.control.credentials.restore(id);
    const a = await assert(client, { allow: [reg.credentialId] });
    expect(signatureValid(reg, a)).toBe(true);
  });

  it('corrupt privateKey: assertions are produced but no longer verify', async () => {
    const { device, client } = await faultDevice();
    const reg = await register(client, { rk: true });
    await device.control.credentials.corrupt(b64(reg.credentialId), 'privateKey');
    const a = await assert(client, { allow: [reg.credentialId] });
    expect(a.status).toBe(0);
    expect(signatureValid(reg, a)).toBe(false);
  });

  it('corrupt credentialId / record / rpId: the RP’s credential is not recognised', async () => {
    for (const target of ['credentialId', 'record', 'rpId'] as const) {
      const { device, client } = await faultDevice();
      const reg = await register(client, { rk: true });
      const after = await device.control.credentials.corrupt(b64(reg.credentialId), target);
      expect((await assert(client, { allow: [reg.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
      if (target === 'credentialId') {
        // a discoverable request returns an ID the RP never saw
        const a = await assert(client);
        expect(b64((a.body!.get(1) as CborMap).get('id') as Uint8Array)).toBe(after.credentialId);
        expect(after.credentialId).not.toBe(b64(reg.credentialId));
      }
      if (target === 'record') expect(after.status).toBe('damaged');
    }
  });

  it('corrupt userId: the user handle returned changes', async () => {
    const { device, client } = await faultDevice();
    const reg = await register(client, { rk: true, userId: new Uint8Array([1, 2, 3]) });
    await device.control.credentials.corrupt(b64(reg.credentialId), 'userId');
    const a = await assert(client, { allow: [reg.credentialId] });
    expect((a.body!.get(4) as CborMap).get('id')).toEqual(new Uint8Array([1, 2, 2]));
  });

  it('setCounter: a real, persisted regression of a discoverable and a non-discoverable counter', async () => {
    const { device, client } = await faultDevice();
    const rk = await register(client, { rk: true, userId: new Uint8Array([1]) });
    const nonRk = await register(client, { userId: new Uint8Array([2]) });
    for (let i = 0; i < 5; i++) await assert(client, { allow: [rk.credentialId] });
    await device.control.credentials.setCounter(b64(rk.credentialId), 2);
    expect(parseAuthData((await assert(client, { allow: [rk.credentialId] })).authData!).signCount).toBe(3);
    await expect(device.control.credentials.setCounter(b64(nonRk.credentialId), 100)).rejects.toMatchObject({ code: 'EMU_ERR_UNKNOWN_CREDENTIAL' });
    await device.control.credentials.setCounter(b64(nonRk.credentialId), 100, { rpId: RP });
    expect(parseAuthData((await assert(client, { allow: [nonRk.credentialId] })).authData!).signCount).toBe(101);
  });

  it('remove: gone for good; capacity is enforced for injection', async () => {
    const { device, client } = await faultDevice({ profileOverrides: { residentCredentialCapacity: 1 } });
    const reg = await register(client, { rk: true });
    await expect(device.control.credentials.add({ rpId: RP, user: { id: 'Bw' } })).rejects.toMatchObject({ code: 'EMU_ERR_CREDENTIAL_STORE_FULL' });
    await device.control.credentials.remove(b64(reg.credentialId));
    expect((await assert(client, { allow: [reg.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect(await device.control.credentials.list()).toEqual([]);
  });

  it('templates.enroll / list through the control API', async () => {
    const { device } = await faultDevice({ profile: 'ctap21-face' });
    const t = await device.control.templates.enroll({ modality: 'face', name: 'me' });
    expect(device.control.templates.list()).toEqual([t]);
    await expect(device.control.templates.enroll({ modality: 'fingerprint' })).rejects.toMatchObject({ code: 'EMU_ERR_UNSUPPORTED_MODALITY' });
  });
});
