/**
 * authenticatorBioEnrollment and built-in UV conformance over every transport (memory and UDP), on the
 * 'ctap21-fingerprint' profile with the simulated sensor scripted through device.sensor. The platform side
 * (PIN protocol, pinUvAuthParam) is test/helpers/pinClient.ts, written on node:crypto.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { PinClient, Perm, type Protocol } from '../helpers/pinClient.ts';
import { clientPinCall } from '../helpers/clientPinCall.ts';
import { parseAuthData, sha256 } from '../helpers/webauthn.ts';
import { CtapCommand, KeepaliveStatus } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { EnrollSampleStatus } from '../../ctap/authenticator/env.ts';
import { fingerprintProfile } from '../../ctap/authenticator/profile.ts';
import { encode, type CborMap } from '../../ctap/cbor.ts';
import type { CtapHidClient, CallOptions } from '../../src/client/ctaphid.ts';
import type { StartDeviceOptions } from '../../src/device.ts';

const PIN = '1234';
const FINGERPRINT = 1;
const Sub = { begin: 1, next: 2, cancel: 3, enumerate: 4, setName: 5, remove: 6, sensorInfo: 7 } as const;
const { CTAP2_ENROLL_FEEDBACK_FP_GOOD: GOOD, CTAP2_ENROLL_FEEDBACK_FP_TOO_HIGH: TOO_HIGH, CTAP2_ENROLL_FEEDBACK_FP_POOR_QUALITY: POOR_QUALITY } =
  EnrollSampleStatus;
const UV = fingerprintProfile.uv!;
const FP = UV.fingerprint!;

describe.each(TRANSPORTS)('bioEnrollment and built-in UV over %s', (transport) => {
  let h: Harness | undefined;
  let c: CtapHidClient;
  let pin: (p?: Protocol) => PinClient;

  async function open(opts: Partial<StartDeviceOptions> = {}): Promise<Harness> {
    h = await openHarness(transport, { seed: `bio-${transport}`, profile: 'ctap21-fingerprint', ...opts });
    c = await h.client();
    const call = clientPinCall(() => c);
    pin = (p = 2) => new PinClient(call, p);
    return h;
  }
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function options(): Promise<CborMap> {
    return ((await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap).get(4) as CborMap;
  }

  /** One bioEnrollment request; with a token, pinUvAuthParam = authenticate(token, modality || sub || CBOR(params)). */
  async function bio(
    sub: number,
    o: { params?: Map<number, unknown>; token?: Uint8Array; client?: PinClient; call?: CallOptions } = {},
  ): Promise<{ status: number; body?: CborMap }> {
    const m = new Map<number, unknown>([
      [1, FINGERPRINT],
      [2, sub],
    ]);
    if (o.params) m.set(3, o.params);
    if (o.token) {
      const client = o.client ?? pin();
      const message = new Uint8Array([FINGERPRINT, sub, ...(o.params ? encode(o.params) : [])]);
      m.set(4, client.protocol);
      m.set(5, client.param(o.token, message));
    }
    const r = await c.cbor(CtapCommand.authenticatorBioEnrollment, m, o.call);
    return r.data === undefined ? { status: r.status } : { status: r.status, body: r.data as CborMap };
  }

  async function beToken(client: PinClient): Promise<Uint8Array> {
    expect(await client.setPin(PIN)).toBe(0);
    return client.tokenOrThrow({ pin: PIN, permissions: Perm.be });
  }

  /** Enroll with every sample good; returns the template ID. */
  async function enrollGood(token: Uint8Array, client: PinClient): Promise<Uint8Array> {
    const begin = await bio(Sub.begin, { token, client });
    expect(begin.status).toBe(0);
    const id = begin.body!.get(4) as Uint8Array;
    for (let left = FP.maxCaptureSamplesRequiredForEnroll - 1; left > 0; left--) {
      expect((await bio(Sub.next, { params: new Map([[1, id]]), token, client })).status).toBe(0);
    }
    return id;
  }

  /** Spec: CTAP 2.1 §6.4 bioEnroll / uv options false until a fingerprint is enrolled; §6.7 getModality, sensor info. */
  it('before enrollment: bioEnroll and uv false; getModality and getFingerprintSensorInfo need no token', async () => {
    await open();
    const o = await options();
    expect([o.get('bioEnroll'), o.get('uv')]).toEqual([false, false]);
    const modality = await c.cbor(CtapCommand.authenticatorBioEnrollment, new Map([[6, true]]));
    expect(modality).toEqual({ status: 0, data: new Map([[1, FINGERPRINT]]) });
    expect(await bio(Sub.sensorInfo)).toEqual({
      status: 0,
      body: new Map([
        [1, FINGERPRINT],
        [2, FP.kind],
        [3, FP.maxCaptureSamplesRequiredForEnroll],
        [8, FP.maxTemplateFriendlyName],
      ]),
    });
    expect((await bio(Sub.enumerate)).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
  });

  /** Spec: CTAP 2.1 §6.7 — sample feedback in successful responses; only good samples count; enumerate / rename / remove. */
  it.each([1, 2] as const)('protocol %i: enroll with scripted feedback, enumerate, rename, remove', async (p) => {
    const d = (await open()).device;
    const samples = [TOO_HIGH, GOOD, POOR_QUALITY, GOOD, GOOD, GOOD];
    d.sensor!.scriptEnrollSamples(samples);
    const client = pin(p);
    const token = await beToken(client);
    expect((await bio(Sub.enumerate, { token, client })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);

    const keepalives: number[] = [];
    const begin = await bio(Sub.begin, { params: new Map([[3, 10_000]]), token, client, call: { onKeepalive: (s) => keepalives.push(s) } });
    expect(begin.status).toBe(0);
    const id = begin.body!.get(4) as Uint8Array;
    const feedback = [[begin.body!.get(5), begin.body!.get(6)]];
    while (feedback.at(-1)![1] !== 0) {
      const r = await bio(Sub.next, { params: new Map<number, unknown>([[1, id], [3, 10_000]]), token, client });
      expect(r.status).toBe(0);
      feedback.push([r.body!.get(5), r.body!.get(6)]);
    }
    let left = FP.maxCaptureSamplesRequiredForEnroll;
    expect(feedback).toEqual(samples.map((s) => [s, s === GOOD ? --left : left]));
    expect(d.sensor!.enrollCaptures.map((e) => e.sample)).toEqual(samples);
    const o = await options();
    expect([o.get('bioEnroll'), o.get('uv')]).toEqual([true, true]);

    const listed = await bio(Sub.enumerate, { token, client });
    expect(listed.body!.get(7)).toEqual([new Map<number, unknown>([[1, id], [2, '']])]);
    expect((await bio(Sub.setName, { params: new Map<number, unknown>([[1, id], [2, 'Left index']]), token, client })).status).toBe(0);
    const tooLong = 'x'.repeat(FP.maxTemplateFriendlyName + 1);
    expect((await bio(Sub.setName, { params: new Map<number, unknown>([[1, id], [2, tooLong]]), token, client })).status).toBe(
      CtapStatus.CTAP1_ERR_INVALID_LENGTH,
    );
    expect((await bio(Sub.enumerate, { token, client })).body!.get(7)).toEqual([new Map<number, unknown>([[1, id], [2, 'Left index']])]);

    expect((await bio(Sub.remove, { params: new Map([[1, id]]), token, client })).status).toBe(0);
    expect((await bio(Sub.remove, { params: new Map([[1, id]]), token, client })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await bio(Sub.enumerate, { token, client })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    const after = await options();
    expect([after.get('bioEnroll'), after.get('uv')]).toEqual([false, false]);
  });

  it('a token without the be permission is refused', async () => {
    await open();
    const client = pin();
    expect(await client.setPin(PIN)).toBe(0);
    const token = await client.tokenOrThrow({ pin: PIN, permissions: Perm.mc, rpId: 'example.com' });
    expect((await bio(Sub.begin, { token, client })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  /** Spec: CTAP 2.1 §8.2 CTAP2_ERR_FP_DATABASE_FULL "fingerprint database is full, e.g., during enrollment". */
  it('the template store full → FP_DATABASE_FULL on enrollBegin', async () => {
    const seeded = Array.from({ length: UV.templateCapacity - 1 }, (_, i) => ({ modality: 'fingerprint' as const, name: `finger ${i}` }));
    const d = (await open({ verification: { templates: seeded } })).device;
    const client = pin();
    const token = await beToken(client);
    await enrollGood(token, client);
    const captures = d.sensor!.enrollCaptures.length;
    expect((await bio(Sub.begin, { token, client })).status).toBe(CtapStatus.CTAP2_ERR_FP_DATABASE_FULL);
    expect(d.sensor!.enrollCaptures).toHaveLength(captures);
    expect((await bio(Sub.enumerate, { token, client })).body!.get(7)).toHaveLength(UV.templateCapacity);
  });

  /** Spec: CTAP 2.1 §11.2.9.1.5 — CTAPHID_CANCEL while the sensor waits for a finger → KEEPALIVE_CANCEL. */
  it('CANCEL while waiting for an enrollment sample: KEEPALIVE_CANCEL after UPNEEDED keepalives', async () => {
    const d = (await open({ verification: { delayMs: 60_000 } })).device;
    const client = pin();
    const token = await beToken(client);
    const keepalives: number[] = [];
    const ac = new AbortController();
    const pending = bio(Sub.begin, { token, client, call: { signal: ac.signal, onKeepalive: (s) => keepalives.push(s) } });
    await new Promise((r) => setTimeout(r, 150));
    ac.abort();
    expect((await pending).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
    expect(keepalives).toContain(KeepaliveStatus.UPNEEDED);
    expect(d.sensor!.enrollCaptures).toHaveLength(0);
  });

  /**
   * Spec: CTAP 2.1 §6.5.5.7.3 getPinUvAuthTokenUsingUvWithPermissions: a mismatch → UV_INVALID and uvRetries − 1
   * (CHECKLIST G4), a match restores uvRetries; at 0 → UV_BLOCKED, then UV_BLOCKED without asking the sensor.
   */
  it('UV token (clientPIN 0x06) after scripted mismatches: UV_INVALID, match restores, then UV_BLOCKED at 0', async () => {
    const d = (await open({ verification: { templates: [{ modality: 'fingerprint', name: 'Right thumb' }] } })).device;
    const sensor = d.sensor!;
    const client = pin();
    sensor.script('fingerprint', ['mismatch', 'mismatch']);
    const seen: [number, number][] = [];
    let token: Uint8Array | undefined;
    for (let i = 0; i < 3; i++) {
      const r = await client.token({ permissions: Perm.mc, rpId: 'example.com' });
      seen.push([r.status, await client.uvRetries()]);
      token = r.token;
    }
    expect(seen).toEqual([
      [CtapStatus.CTAP2_ERR_UV_INVALID, UV.maxUvRetries - 1],
      [CtapStatus.CTAP2_ERR_UV_INVALID, UV.maxUvRetries - 2],
      [CtapStatus.CTAP2_OK, UV.maxUvRetries],
    ]);
    expect(sensor.attempts.map((a) => a.outcome)).toEqual(['mismatch', 'mismatch', 'match']);
    expect(sensor.attempts[2]!.templateId).toEqual(d.authenticator.templates()[0]!.id);

    // The UV token is a real one: makeCredential with it carries UV.
    const cdh = sha256('bio-mc');
    const mc = await c.cbor(
      CtapCommand.authenticatorMakeCredential,
      new Map<number, unknown>([
        [1, cdh],
        [2, { id: 'example.com' }],
        [3, { id: new Uint8Array([1]), name: 'alice' }],
        [4, [{ alg: -7, type: 'public-key' }]],
        [8, client.param(token!, cdh)],
        [9, client.protocol],
      ]),
    );
    expect(mc.status).toBe(0);
    expect(parseAuthData((mc.data as CborMap).get(2) as Uint8Array)).toMatchObject({ up: true, uv: true });

    sensor.setPolicy('fingerprint', 'mismatch');
    sensor.clearHistory();
    const statuses: number[] = [];
    for (let i = 0; i < UV.maxUvRetries; i++) statuses.push((await client.token({ permissions: Perm.mc, rpId: 'example.com' })).status);
    expect(statuses).toEqual([...Array<number>(UV.maxUvRetries - 1).fill(CtapStatus.CTAP2_ERR_UV_INVALID), CtapStatus.CTAP2_ERR_UV_BLOCKED]);
    expect(await client.uvRetries()).toBe(0);
    // Blocked: the sensor is not asked any more, across a power cycle too.
    await d.powerCycle();
    c = await h!.client(); // over memory the power cycle drops the channels (re-plug): allocate a new one
    expect((await client.token({ permissions: Perm.mc, rpId: 'example.com' })).status).toBe(CtapStatus.CTAP2_ERR_UV_BLOCKED);
    expect(sensor.attempts).toHaveLength(UV.maxUvRetries);
  });
});
