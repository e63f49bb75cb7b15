/** Dispatch middleware faults (faults-api.md §3 "dispatch"): what a CTAP client sees on the wire. */
import { describe, expect, it } from 'vitest';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { decodeCanonical, type CborMap } from '../../ctap/cbor.ts';
import { HidClientFailure } from '../../src/client/ctaphid.ts';
import { CtapHidCmd } from '../../ctap/constants/commands.ts';
import { assert, b64, CtapCommand, faultDevice, GA_CDH, MC_CDH, parseAuthData, register, sha256, signatureValid, verifySignature, coseToKeyObject, RP, mcParams } from './helpers.ts';

describe('dispatch faults', () => {
  it('status: answers the status without running the command (state untouched), one-shot', async () => {
    const { device, client } = await faultDevice();
    const reg = await register(client, { rk: true });
    device.control.faults.add({ id: 'gone', when: { command: 'getAssertion' }, effect: { type: 'status', status: 'CTAP2_ERR_NO_CREDENTIALS' } });
    expect((await assert(client)).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    // not run: the counter did not move; one-shot: the next assertion is normal and counts 1
    const a = await assert(client);
    expect(a.status).toBe(0);
    expect(parseAuthData(a.authData!).signCount).toBe(1);
    expect(signatureValid(reg, a)).toBe(true);
    const h = device.control.history.list();
    expect(h.map((e) => [e.fault, e.seam, e.effect, e.command])).toEqual([['gone', 'dispatch', 'status', 'getAssertion']]);
    expect(h[0]!.detail).toEqual({ status: CtapStatus.CTAP2_ERR_NO_CREDENTIALS });
    expect(device.control.faults.list()).toEqual([]);
  });

  it('status with runHandler: the command runs (counter advances) and only its answer is replaced', async () => {
    const { device, client } = await faultDevice();
    await register(client, { rk: true });
    device.control.faults.add({ when: { command: 0x02 }, effect: { type: 'status', status: 0x7f, runHandler: true } });
    expect((await assert(client)).status).toBe(0x7f);
    expect(parseAuthData((await assert(client)).authData!).signCount).toBe(2);
  });

  it('signature.corrupt: a well-formed response whose signature does not verify', async () => {
    const { device, client } = await faultDevice();
    const reg = await register(client);
    device.control.faults.add({ effect: 'signature.corrupt' });
    const bad = await assert(client, { allow: [reg.credentialId] });
    expect(bad.status).toBe(0);
    expect(signatureValid(reg, bad)).toBe(false);
    expect(signatureValid(reg, await assert(client, { allow: [reg.credentialId] }))).toBe(true);
  });

  it('signature.corrupt on makeCredential damages the packed attestation signature', async () => {
    const { device, client } = await faultDevice({ attestation: 'self' });
    device.control.faults.add({ when: { command: 'makeCredential' }, effect: 'signature.corrupt' });
    const r = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams());
    const body = r.data as CborMap;
    const ad = parseAuthData(body.get(2) as Uint8Array);
    const sig = (body.get(3) as CborMap).get('sig') as Uint8Array;
    expect(verifySignature(coseToKeyObject(ad.publicKey!), -7, body.get(2) as Uint8Array, MC_CDH, sig)).toBe(false);
  });

  it('flags: UV/UP lies are signed by the lying device (the signature verifies), or not (resign: false)', async () => {
    const { device, client } = await faultDevice();
    const reg = await register(client);
    device.control.faults.add({ effect: { type: 'flags', uv: true, up: false } });
    const lie = await assert(client, { allow: [reg.credentialId] });
    const ad = parseAuthData(lie.authData!);
    expect([ad.uv, ad.up]).toEqual([true, false]);
    expect(signatureValid(reg, lie)).toBe(true);
    expect(device.control.history.list()[0]!.detail).toMatchObject({ uv: true, up: false, resigned: true });

    device.control.faults.add({ effect: { type: 'flags', be: true, bs: true, at: true, resign: false } });
    const raw = await assert(client, { allow: [reg.credentialId] });
    const flags = raw.authData![32]!;
    expect(flags & 0x08 && flags & 0x10 && flags & 0x40).toBeTruthy(); // BE, BS, AT in an assertion
    expect(signatureValid(reg, raw)).toBe(false);
  });

  it('rpIdHash: the authData names another RP, re-signed', async () => {
    const { device, client } = await faultDevice();
    const reg = await register(client);
    device.control.faults.add({ effect: { type: 'rpIdHash', rpId: 'evil.example' } });
    const a = await assert(client, { allow: [reg.credentialId] });
    expect(parseAuthData(a.authData!).rpIdHash).toEqual(sha256('evil.example'));
    expect(signatureValid(reg, a)).toBe(true);
  });

  it('counter: regression and stuck-at-zero in the returned authData; the stored counter keeps counting', async () => {
    const { device, client } = await faultDevice();
    const reg = await register(client);
    const count = async (): Promise<number> => parseAuthData((await assert(client, { allow: [reg.credentialId] })).authData!).signCount;
    expect([await count(), await count(), await count()]).toEqual([1, 2, 3]);
    device.control.faults.add({ effect: { type: 'counter', delta: -2 } });
    expect(await count()).toBe(2); // real 4, returned 2 ≤ 3: a clone signal for the RP
    device.control.faults.add({ id: 'zero', effect: { type: 'counter', value: 0 }, persist: true });
    expect([await count(), await count()]).toEqual([0, 0]);
    device.control.faults.remove('zero');
    expect(await count()).toBe(7);
  });

  it('counter on the credential named in the response only (when.credential)', async () => {
    const { device, client } = await faultDevice();
    const a = await register(client, { userId: new Uint8Array([1]) });
    const b = await register(client, { userId: new Uint8Array([2]) });
    device.control.faults.add({ when: { credential: b64(b.credentialId) }, effect: { type: 'counter', value: 0 }, persist: true });
    expect(parseAuthData((await assert(client, { allow: [a.credentialId] })).authData!).signCount).toBe(1);
    expect(parseAuthData((await assert(client, { allow: [b.credentialId] })).authData!).signCount).toBe(0);
  });

  it.each(['truncate', 'nonCanonical', 'indefinite', 'dupKey', 'wrongType', 'trailing'] as const)(
    'cbor %s: a strict client rejects the response',
    async (mode) => {
      const { device, client } = await faultDevice();
      device.control.faults.add({ when: { command: 'getInfo' }, effect: { type: 'cbor', mode } });
      const got = await client.cbor(CtapCommand.authenticatorGetInfo).catch((e: unknown) => e);
      if (mode === 'wrongType') {
        // canonical CBOR, but an array where the client expects the getInfo map
        expect(Array.isArray((got as { data: unknown }).data)).toBe(true);
      } else {
        expect(got).toMatchObject({ code: HidClientFailure.BAD_CBOR });
        // raw bytes: status OK kept, body damaged
        device.control.faults.add({ when: { command: 'getInfo' }, effect: { type: 'cbor', mode } });
        const raw = await client.call(CtapHidCmd.CBOR, Uint8Array.of(CtapCommand.authenticatorGetInfo));
        expect(raw[0]).toBe(0);
        expect(() => decodeCanonical(raw.subarray(1))).toThrow();
      }
      expect((await client.cbor(CtapCommand.authenticatorGetInfo)).status).toBe(0);
    },
  );

  it('delay: the answer comes later, with PROCESSING keepalives meanwhile', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { command: 'getInfo' }, effect: { type: 'delay', ms: 350 } });
    const keepalives: number[] = [];
    const t0 = Date.now();
    const r = await client.cbor(CtapCommand.authenticatorGetInfo, undefined, { onKeepalive: (s) => keepalives.push(s) });
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(keepalives.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keepalives)).toEqual(new Set([1]));
  });

  it('drop: no response (the client times out), the command ran, the next request is served', async () => {
    const { device, client } = await faultDevice({}, 400);
    const reg = await register(client);
    device.control.faults.add({ when: { command: 'getAssertion' }, effect: 'drop' });
    const err = await assert(client, { allow: [reg.credentialId] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: HidClientFailure.TIMEOUT });
    const a = await assert(client, { allow: [reg.credentialId] });
    expect(a.status).toBe(0);
    expect(parseAuthData(a.authData!).signCount).toBe(2); // the dropped one counted
  });

  it('getNextAssertion responses are re-signed over the getAssertion clientDataHash', async () => {
    const { device, client } = await faultDevice();
    await register(client, { rk: true, userId: new Uint8Array([1]) });
    await register(client, { rk: true, userId: new Uint8Array([2]) });
    const creds = await device.control.credentials.list();
    device.control.faults.add({ when: { command: 'getNextAssertion' }, effect: { type: 'flags', uv: true } });
    expect((await assert(client)).status).toBe(0);
    const r = await client.cbor(CtapCommand.authenticatorGetNextAssertion);
    const body = r.data as CborMap;
    const id = b64((body.get(1) as CborMap).get('id') as Uint8Array);
    const key = decodeCanonical(Buffer.from(creds.find((c) => c.credentialId === id)!.publicKey, 'base64url')) as CborMap;
    expect(parseAuthData(body.get(2) as Uint8Array).uv).toBe(true);
    expect(verifySignature(coseToKeyObject(key), -7, body.get(2) as Uint8Array, GA_CDH, body.get(3) as Uint8Array)).toBe(true);
    expect(RP).toBe('example.com');
  });
});
