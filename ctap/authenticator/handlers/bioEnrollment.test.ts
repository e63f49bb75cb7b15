import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { servedTable } from '../served.ts';
import { createDispatcher, type Dispatch } from '../dispatch.ts';
import { DeviceState } from '../deviceState.ts';
import { userVerificationDefaults } from '../authenticator.ts';
import { defaultProfile, type Profile } from '../profile.ts';
import { configDefaults, STATE_SCHEMA_VERSION, decodeState, type PersistentState } from '../state.ts';
import { enrollTemplateDirectly } from '../templates.ts';
import type { UvModality } from '../env.ts';
import { pinSession } from '../../pin/session.ts';
import { Permission } from '../../pin/authorize.ts';
import { decodeCanonical, encode, type CborMap } from '../../cbor.ts';
import { CtapCommand, KeepaliveStatus } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import { createTestEnv, createTestRequest, type TestEnv, type TestRequest } from '../../../test/helpers/testEnv.ts';
import type { SensorOptions } from '../../../src/env/verification.ts';

const BIO = CtapCommand.authenticatorBioEnrollment;
const FINGERPRINT = 1;
const Sub = { begin: 1, next: 2, cancel: 3, enumerate: 4, setName: 5, remove: 6, sensorInfo: 7 } as const;
const GOOD = 0x00;
const TOO_HIGH = 0x01;
const POOR_QUALITY = 0x07;
const SAMPLES = 4;
const CAPACITY = 5;

function bioProfile(modalities: UvModality[] = ['fingerprint']): Profile {
  return {
    ...defaultProfile,
    name: 'test-bio',
    uv: {
      modalities,
      maxUvRetries: 5,
      preferredPlatformUvAttempts: 3,
      templateCapacity: CAPACITY,
      ...(modalities.includes('fingerprint')
        ? { fingerprint: { kind: 1, maxCaptureSamplesRequiredForEnroll: SAMPLES, maxTemplateFriendlyName: 16 } }
        : {}),
    },
  };
}

function freshState(profile: Profile): PersistentState {
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    masterKey: new Uint8Array(32).fill(7),
    attestation: { aaguid: profile.aaguid, privateKey: new Uint8Array(32).fill(1), certChain: [new Uint8Array([0x30, 0])] },
    residentCredentials: [],
    counters: new Map(),
    nextSeq: 0,
    ...userVerificationDefaults(profile),
    ...configDefaults(),
  };
}

interface Reply {
  status: number;
  body?: CborMap;
}

async function setup(o: { profile?: Profile; sensor?: SensorOptions } = {}) {
  const profile = o.profile ?? bioProfile();
  const t: TestEnv = createTestEnv({ sensor: o.sensor ?? {} });
  const s = {
    t,
    profile,
    device: new DeviceState(t.env, () => freshState(profile)),
    dispatch: undefined as unknown as Dispatch,
    /** Grant a protocol-two pinUvAuthToken with these permissions, as getPinUvAuthToken* would. */
    grant(permissions: number): Uint8Array {
      const session = pinSession({ env: t.env, profile, device: s.device });
      session.token.reset();
      session.token.begin(2, false);
      session.token.setPermissions(permissions);
      return session.token.value.slice();
    },
    async call(cmd: number, params: Map<number, unknown> | undefined, req: TestRequest = createTestRequest()): Promise<Reply> {
      const payload = params === undefined ? new Uint8Array([cmd]) : new Uint8Array([cmd, ...encode(params)]);
      const raw = await s.dispatch(payload, req.ctx);
      const reply: Reply = { status: raw[0]! };
      if (raw.length > 1) reply.body = decodeCanonical(raw.subarray(1)) as CborMap;
      return reply;
    },
    /** A bioEnrollment request authenticated with `token` (protocol two: HMAC-SHA-256, computed here independently). */
    bio(sub: number, params?: Map<number, unknown>, token?: Uint8Array, req?: TestRequest, cmd: number = BIO): Promise<Reply> {
      const m = new Map<number, unknown>([
        [1, FINGERPRINT],
        [2, sub],
      ]);
      if (params) m.set(3, params);
      if (token) {
        const message = Buffer.concat([Buffer.from([FINGERPRINT, sub]), params ? Buffer.from(encode(params)) : Buffer.alloc(0)]);
        m.set(4, 2);
        m.set(5, new Uint8Array(createHmac('sha256', token).update(message).digest()));
      }
      return s.call(cmd, m, req);
    },
  };
  s.dispatch = createDispatcher({
    table: servedTable(profile), // as createAuthenticator builds it
    device: s.device,
    context: (request) => ({ env: t.env, profile, attestation: 'none', resetWindowMs: 10_000, device: s.device, request }),
  });
  await s.device.powerUp();
  return s;
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Enroll one fingerprint with all-good samples; returns its template ID. */
async function enrollOne(s: Setup, token: Uint8Array): Promise<Uint8Array> {
  const begin = await s.bio(Sub.begin, undefined, token);
  expect(begin.status).toBe(CtapStatus.CTAP2_OK);
  const id = begin.body!.get(4) as Uint8Array;
  for (let left = SAMPLES - 1; left > 0; left--) {
    const r = await s.bio(Sub.next, new Map([[1, id]]), token);
    expect(r.body!.get(6)).toBe(left - 1);
  }
  return id;
}

describe('authenticatorBioEnrollment (CTAP 2.1 §6.7)', () => {
  /** Spec: CTAP 2.1 §6.7.3 — getModality answers {modality: fingerprint}, without subcommand or token. */
  it('getModality and getFingerprintSensorInfo need no token', async () => {
    const s = await setup();
    expect(await s.call(BIO, new Map([[6, true]]))).toEqual({ status: 0, body: new Map([[1, FINGERPRINT]]) });
    expect(await s.bio(Sub.sensorInfo)).toEqual({
      status: 0,
      body: new Map([
        [1, FINGERPRINT],
        [2, 1],
        [3, SAMPLES],
        [8, 16],
      ]),
    });
  });

  it('a device without a fingerprint sensor does not have the command (0x09 nor 0x40), whatever the parameters', async () => {
    for (const profile of [defaultProfile, bioProfile(['face'])]) {
      const s = await setup({ profile });
      for (const cmd of [BIO, CtapCommand.authenticatorBioEnrollmentPreview]) {
        expect((await s.call(cmd, new Map([[6, true]]))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
        expect((await s.call(cmd, new Map([[2, 'x']]))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
      }
    }
  });

  it('request checks: missing members, other modality, unknown subcommand, wrong types', async () => {
    const s = await setup();
    expect((await s.call(BIO, undefined)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect((await s.call(BIO, new Map([[1, FINGERPRINT]]))).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect((await s.call(BIO, new Map([[2, Sub.sensorInfo]]))).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    const face = new Map([
      [1, 2],
      [2, Sub.sensorInfo],
    ]);
    expect((await s.call(BIO, face)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    expect((await s.bio(0x08)).status).toBe(CtapStatus.CTAP2_ERR_INVALID_SUBCOMMAND);
    const badType = new Map<number, unknown>([
      [1, FINGERPRINT],
      [2, 'enumerate'],
    ]);
    expect((await s.call(BIO, badType)).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
  });

  /** Spec: CHECKLIST B7.2 — pinUvAuthParam = authenticate(token, modality || subCommand || CBOR(params)), `be` permission. */
  it('subcommands other than cancel and sensor info need a token with the be permission', async () => {
    const s = await setup();
    expect((await s.bio(Sub.enumerate)).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
    const noProtocol = new Map<number, unknown>([
      [1, FINGERPRINT],
      [2, Sub.enumerate],
      [5, new Uint8Array(32)],
    ]);
    expect((await s.call(BIO, noProtocol)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    const mcOnly = s.grant(Permission.mc | Permission.ga);
    expect((await s.bio(Sub.enumerate, undefined, mcOnly)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    const be = s.grant(Permission.be);
    expect((await s.bio(Sub.enumerate, undefined, new Uint8Array(32).fill(9))).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await s.bio(Sub.enumerate, undefined, be)).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect(s.t.sensor!.enrollCaptures).toHaveLength(0);
    // The subCommandParams bytes are covered: a MAC over modality || subCommand alone does not verify.
    const m = new Map<number, unknown>([
      [1, FINGERPRINT],
      [2, Sub.begin],
      [3, new Map([[3, 1000]])],
      [4, 2],
      [5, new Uint8Array(createHmac('sha256', be).update(Buffer.from([FINGERPRINT, Sub.begin])).digest())],
    ]);
    expect((await s.call(BIO, m)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  /** Spec: CHECKLIST B7.3 — sample feedback is inside a success response; only good samples count. */
  it('enrolls with scripted sample feedback; the template is stored without a name when remainingSamples reaches 0', async () => {
    const s = await setup({ sensor: { enrollSamples: [TOO_HIGH, GOOD, POOR_QUALITY, GOOD, GOOD, GOOD] } });
    const token = s.grant(Permission.be);
    const req = createTestRequest();
    const begin = await s.bio(Sub.begin, new Map([[3, 10_000]]), token, req);
    expect(begin.status).toBe(CtapStatus.CTAP2_OK);
    expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
    const id = begin.body!.get(4) as Uint8Array;
    expect(id.length).toBeGreaterThan(0);
    expect([begin.body!.get(5), begin.body!.get(6)]).toEqual([TOO_HIGH, SAMPLES]);
    const seen: [unknown, unknown][] = [];
    for (let i = 0; i < 5; i++) {
      const r = await s.bio(Sub.next, new Map<number, unknown>([[1, id], [3, 10_000]]), token);
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      expect(r.body!.has(4)).toBe(false);
      seen.push([r.body!.get(5), r.body!.get(6)]);
    }
    expect(seen).toEqual([
      [GOOD, 3],
      [POOR_QUALITY, 3],
      [GOOD, 2],
      [GOOD, 1],
      [GOOD, 0],
    ]);
    const stored = decodeState(s.t.store.snapshot()!).templates;
    expect(stored).toEqual([{ id, modality: 'fingerprint' }]);
    expect(s.t.sensor!.enrollCaptures.every((c) => c.templateId.every((b, i) => b === id[i]))).toBe(true);
    // Finished: no enrollment in progress any more.
    expect((await s.bio(Sub.next, new Map([[1, id]]), token)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
  });

  it('the prototype command 0x40 behaves the same', async () => {
    const s = await setup();
    const token = s.grant(Permission.be);
    const begin = await s.bio(Sub.begin, undefined, token, undefined, CtapCommand.authenticatorBioEnrollmentPreview);
    expect([begin.status, begin.body!.get(5), begin.body!.get(6)]).toEqual([0, GOOD, SAMPLES - 1]);
  });

  it('enrollCaptureNextSample needs the templateId of the enrollment in progress', async () => {
    const s = await setup();
    const token = s.grant(Permission.be);
    expect((await s.bio(Sub.next, new Map([[1, new Uint8Array([0, 1])]]), token)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    const id = (await s.bio(Sub.begin, undefined, token)).body!.get(4) as Uint8Array;
    expect((await s.bio(Sub.next, new Map([[3, 100]]), token)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect((await s.bio(Sub.next, new Map([[1, new Uint8Array([9, 9])]]), token)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    expect((await s.bio(Sub.next, new Map([[1, id]]), token)).status).toBe(CtapStatus.CTAP2_OK);
    // cancelCurrentEnrollment needs no token, and is fine with nothing in progress.
    expect(await s.bio(Sub.cancel)).toEqual({ status: CtapStatus.CTAP2_OK });
    expect(await s.bio(Sub.cancel)).toEqual({ status: CtapStatus.CTAP2_OK });
    expect((await s.bio(Sub.next, new Map([[1, id]]), token)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    expect(decodeState(s.t.store.snapshot()!).templates).toEqual([]);
  });

  it('a power cycle abandons the enrollment in progress', async () => {
    const s = await setup();
    const token = s.grant(Permission.be);
    const id = (await s.bio(Sub.begin, undefined, token)).body!.get(4) as Uint8Array;
    await s.device.powerUp();
    const fresh = s.grant(Permission.be);
    expect((await s.bio(Sub.next, new Map([[1, id]]), fresh)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
  });

  /** CHECKLIST B7.4: no finger before the timeout → CTAP2_ERR_USER_ACTION_TIMEOUT (decision; NO_USER_ACTIVITY is a status). */
  it('a sample timeout: on enrollBegin nothing is in progress; on a later sample the enrollment goes on', async () => {
    const s = await setup({ sensor: { enrollSamples: ['timeout', GOOD, 'timeout', 0x0d, GOOD, GOOD, GOOD] } });
    const token = s.grant(Permission.be);
    expect((await s.bio(Sub.begin, undefined, token)).status).toBe(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT);
    const begin = await s.bio(Sub.begin, undefined, token);
    const id = begin.body!.get(4) as Uint8Array;
    expect((await s.bio(Sub.next, new Map([[1, id]]), token)).status).toBe(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT);
    const noActivity = await s.bio(Sub.next, new Map([[1, id]]), token);
    expect([noActivity.body!.get(5), noActivity.body!.get(6)]).toEqual([0x0d, SAMPLES - 1]);
    for (let i = 0; i < SAMPLES - 1; i++) expect((await s.bio(Sub.next, new Map([[1, id]]), token)).status).toBe(0);
    expect(decodeState(s.t.store.snapshot()!).templates).toHaveLength(1);
  });

  /** Spec: CTAP 2.1 §11.2.9.1.5 — CTAPHID_CANCEL while waiting for the finger → KEEPALIVE_CANCEL. */
  it('a cancel while waiting for the first sample answers KEEPALIVE_CANCEL and leaves nothing in progress', async () => {
    const s = await setup({ sensor: { delayMs: 1_000 } });
    const token = s.grant(Permission.be);
    const req = createTestRequest();
    const p = s.bio(Sub.begin, undefined, token, req);
    s.t.scheduler.advance(500);
    req.cancel();
    expect((await p).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
    expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
    expect(s.device.enrollment).toBeUndefined();
  });

  it('enumerate, rename, remove', async () => {
    const s = await setup({ profile: bioProfile(['fingerprint', 'face']) });
    await enrollTemplateDirectly(s.profile, s.device, { modality: 'face', name: 'Face' });
    const token = s.grant(Permission.be);
    // Face templates are not managed over CTAP (CHECKLIST B7.5): nothing to enumerate yet.
    expect((await s.bio(Sub.enumerate, undefined, token)).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    const a = await enrollOne(s, token);
    const b = await enrollOne(s, token);
    expect(a).not.toEqual(b);
    const list = await s.bio(Sub.enumerate, undefined, token);
    // Decision (python-fido2 0.9.1 interop): unnamed templates are listed with an empty name.
    expect(list.body!.get(7)).toEqual([
      new Map<number, unknown>([[1, a], [2, '']]),
      new Map<number, unknown>([[1, b], [2, '']]),
    ]);

    expect(await s.bio(Sub.setName, new Map<number, unknown>([[1, a], [2, 'Left index']]), token)).toEqual({ status: 0 });
    expect(decodeState(s.t.store.snapshot()!).templates.find((t) => t.modality === 'fingerprint')).toEqual({
      id: a,
      modality: 'fingerprint',
      friendlyName: 'Left index',
    });
    // maxTemplateFriendlyName counts UTF-8 bytes: 8 two-byte characters fit in 16, 9 do not.
    expect((await s.bio(Sub.setName, new Map<number, unknown>([[1, b], [2, 'é'.repeat(8)]]), token)).status).toBe(0);
    expect((await s.bio(Sub.setName, new Map<number, unknown>([[1, b], [2, 'é'.repeat(9)]]), token)).status).toBe(
      CtapStatus.CTAP1_ERR_INVALID_LENGTH,
    );
    expect((await s.bio(Sub.setName, new Map<number, unknown>([[1, new Uint8Array([7])], [2, 'x']]), token)).status).toBe(
      CtapStatus.CTAP2_ERR_INVALID_OPTION,
    );
    expect((await s.bio(Sub.setName, new Map<number, unknown>([[1, a]]), token)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    const named = await s.bio(Sub.enumerate, undefined, token);
    expect((named.body!.get(7) as CborMap[]).map((t) => t.get(2))).toEqual(['Left index', 'é'.repeat(8)]);

    expect(await s.bio(Sub.remove, new Map([[1, a]]), token)).toEqual({ status: 0 });
    expect((await s.bio(Sub.remove, new Map([[1, a]]), token)).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await s.bio(Sub.remove, new Map<number, unknown>(), token)).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect(await s.bio(Sub.remove, new Map([[1, b]]), token)).toEqual({ status: 0 });
    expect((await s.bio(Sub.enumerate, undefined, token)).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    // The face template is untouched.
    expect(decodeState(s.t.store.snapshot()!).templates).toMatchObject([{ modality: 'face', friendlyName: 'Face' }]);
  });

  /** Spec: CTAP 2.1 §8.2 CTAP2_ERR_FP_DATABASE_FULL "fingerprint database is full, e.g., during enrollment". */
  it('enrollBegin with the template store full (all modalities count) → FP_DATABASE_FULL, no sample taken', async () => {
    const s = await setup({ profile: bioProfile(['fingerprint', 'face']) });
    await enrollTemplateDirectly(s.profile, s.device, { modality: 'face' });
    const token = s.grant(Permission.be);
    for (let i = 1; i < CAPACITY; i++) await enrollOne(s, token);
    const captures = s.t.sensor!.enrollCaptures.length;
    expect((await s.bio(Sub.begin, undefined, token)).status).toBe(CtapStatus.CTAP2_ERR_FP_DATABASE_FULL);
    expect(s.t.sensor!.enrollCaptures).toHaveLength(captures);
    const ids = s.device.persistent.templates.map((t) => Array.from(t.id).join('.'));
    expect(new Set(ids).size).toBe(CAPACITY);
  });
});
