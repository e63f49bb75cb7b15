import { describe, expect, it } from 'vitest';
import { MAX_INTERNAL_UV_ATTEMPTS, builtInUvConfigured, performBuiltInUv } from './builtInUv.ts';
import { DeviceState } from '../deviceState.ts';
import { userVerificationDefaults } from '../authenticator.ts';
import { defaultProfile, type Profile } from '../profile.ts';
import { configDefaults, STATE_SCHEMA_VERSION, decodeState, type PersistentState } from '../state.ts';
import { enrollTemplateDirectly } from '../templates.ts';
import type { HandlerContext } from '../context.ts';
import type { UvModality } from '../env.ts';
import { KeepaliveStatus } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import { createTestEnv, createTestRequest, type TestEnv, type TestRequest } from '../../../test/helpers/testEnv.ts';
import type { SensorOptions } from '../../../src/env/verification.ts';

const MAX_UV_RETRIES = 5;

function bioProfile(modalities: UvModality[]): Profile {
  return {
    ...defaultProfile,
    name: 'test-bio',
    uv: {
      modalities,
      maxUvRetries: MAX_UV_RETRIES,
      preferredPlatformUvAttempts: 3,
      templateCapacity: 5,
      ...(modalities.includes('fingerprint') ? { fingerprint: { kind: 1, maxCaptureSamplesRequiredForEnroll: 4, maxTemplateFriendlyName: 64 } } : {}),
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

interface Setup {
  t: TestEnv;
  device: DeviceState;
  profile: Profile;
  /** A handler context for one request. */
  ctx(req?: TestRequest): HandlerContext;
  /** uvRetries as saved in the store (not as held in memory). */
  storedRetries(): number;
  /** Unplug and replug: a new DeviceState over the same store. */
  powerCycle(): Promise<void>;
}

async function setup(o: {
  sensor?: SensorOptions | false;
  modalities?: UvModality[];
  templates?: { modality: UvModality; name?: string }[];
} = {}): Promise<Setup> {
  const profile = bioProfile(o.modalities ?? ['fingerprint']);
  const t = createTestEnv(o.sensor === false ? {} : { sensor: o.sensor ?? {} });
  const s: Setup = {
    t,
    profile,
    device: new DeviceState(t.env, () => freshState(profile)),
    ctx: (req = createTestRequest()) => ({ env: t.env, profile, attestation: 'none', resetWindowMs: 10_000, device: s.device, request: req.ctx }),
    storedRetries: () => decodeState(t.store.snapshot()!).uvRetries,
    async powerCycle() {
      s.device = new DeviceState(t.env, () => freshState(profile));
      await s.device.powerUp();
    },
  };
  await s.device.powerUp();
  for (const tpl of o.templates ?? [{ modality: 'fingerprint', name: 'Left index' }, { modality: 'fingerprint', name: 'Right thumb' }]) {
    await enrollTemplateDirectly(profile, s.device, tpl);
  }
  return s;
}

const once = { command: 'clientPIN', internalRetry: false } as const;

describe('performBuiltInUv', () => {
  it('a match verifies against the first enrolled template, restores uvRetries and counts the UV', async () => {
    const s = await setup();
    const req = createTestRequest();
    const r = await performBuiltInUv(s.ctx(req), { command: 'getAssertion', rpId: 'example.com', internalRetry: false });
    const left = s.device.persistent.templates[0]!;
    expect(r).toEqual({ ok: true, templateId: left.id, modality: 'fingerprint' });
    expect(s.device.persistent.uvCountSinceLastPinEntry).toBe(1);
    expect(s.storedRetries()).toBe(MAX_UV_RETRIES);
    expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
    expect(s.t.sensor!.attempts).toMatchObject([{ modality: 'fingerprint', outcome: 'match', command: 'getAssertion', rpId: 'example.com' }]);
  });

  it('a scripted named finger matches that template', async () => {
    const s = await setup({ sensor: { fingerprint: { script: [{ match: 'Right thumb' }] } } });
    const r = await performBuiltInUv(s.ctx(), once);
    expect(r).toEqual({ ok: true, templateId: s.device.persistent.templates[1]!.id, modality: 'fingerprint' });
  });

  /** Spec: CHECKLIST G4 / G12 — each failed match decrements uvRetries, persisted before the result is reported. */
  it('internalRetry=false: exactly one attempt; a mismatch is saved before it is reported', async () => {
    const s = await setup({ sensor: { fingerprint: { policy: 'mismatch' } } });
    const saves = s.t.store.saves;
    expect(await performBuiltInUv(s.ctx(), once)).toEqual({ ok: false, reason: 'mismatch' });
    expect(s.t.sensor!.attempts).toHaveLength(1);
    expect(s.t.store.saves).toBe(saves + 1);
    expect(s.storedRetries()).toBe(MAX_UV_RETRIES - 1);
  });

  it('mismatch, mismatch, then match: retries go 5 → 4 → 3 → back to 5', async () => {
    const s = await setup({ sensor: { fingerprint: { script: ['mismatch', 'mismatch'], then: 'match' } } });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await performBuiltInUv(s.ctx(), once);
      expect(r.ok).toBe(i === 2);
      seen.push(s.storedRetries());
    }
    expect(seen).toEqual([4, 3, 5]);
  });

  it('uvRetries survive a power cycle', async () => {
    const s = await setup({ sensor: { fingerprint: { policy: 'mismatch' } } });
    await performBuiltInUv(s.ctx(), once);
    await performBuiltInUv(s.ctx(), once);
    await s.powerCycle();
    expect(s.device.persistent.uvRetries).toBe(MAX_UV_RETRIES - 2);
  });

  /** Spec: CTAP 2.1 §6.5.5.7.2 steps 7 and 10.2 — uvRetries 0 → blocked, and no attempt is made any more. */
  it('blocks at 0: the last mismatch reports blocked, later calls do not touch the sensor, even after a power cycle', async () => {
    const s = await setup({ sensor: { fingerprint: { policy: 'mismatch' } } });
    const reasons = [];
    for (let i = 0; i < MAX_UV_RETRIES; i++) reasons.push(await performBuiltInUv(s.ctx(), once));
    expect(reasons.slice(0, -1).every((r) => !r.ok && r.reason === 'mismatch')).toBe(true);
    expect(reasons.at(-1)).toEqual({ ok: false, reason: 'blocked' });
    expect(s.storedRetries()).toBe(0);
    s.t.sensor!.setPolicy('fingerprint', 'match');
    await s.powerCycle();
    const req = createTestRequest();
    expect(await performBuiltInUv(s.ctx(req), once)).toEqual({ ok: false, reason: 'blocked' });
    expect(s.t.sensor!.attempts).toHaveLength(MAX_UV_RETRIES);
    expect(req.keepalives).toEqual([]);
  });

  it('internalRetry=true re-samples within one operation, at most MAX_INTERNAL_UV_ATTEMPTS times', async () => {
    const s = await setup({ sensor: { fingerprint: { script: ['mismatch', 'mismatch'], then: 'match' } } });
    const r = await performBuiltInUv(s.ctx(), { command: 'getAssertion', internalRetry: true });
    expect(r.ok).toBe(true);
    expect(s.t.sensor!.attempts.map((a) => a.outcome)).toEqual(['mismatch', 'mismatch', 'match']);
    expect(s.storedRetries()).toBe(MAX_UV_RETRIES);

    s.t.sensor!.setPolicy('fingerprint', 'mismatch');
    s.t.sensor!.clearHistory();
    expect(await performBuiltInUv(s.ctx(), { command: 'getAssertion', internalRetry: true })).toEqual({ ok: false, reason: 'mismatch' });
    expect(s.t.sensor!.attempts).toHaveLength(MAX_INTERNAL_UV_ATTEMPTS);
    expect(s.storedRetries()).toBe(MAX_UV_RETRIES - MAX_INTERNAL_UV_ATTEMPTS);
    // Only the retries that are left are tried, then blocked.
    expect(await performBuiltInUv(s.ctx(), { command: 'getAssertion', internalRetry: true })).toEqual({ ok: false, reason: 'blocked' });
    expect(s.t.sensor!.attempts).toHaveLength(MAX_UV_RETRIES);
  });

  it('no finger (timeout) and a sensor error end the operation without costing a retry', async () => {
    const s = await setup({ sensor: { fingerprint: { script: ['no-sample', 'sensor-error'] } } });
    expect(await performBuiltInUv(s.ctx(), { command: 'x', internalRetry: true })).toEqual({ ok: false, reason: 'timeout' });
    expect(await performBuiltInUv(s.ctx(), { command: 'x', internalRetry: true })).toEqual({ ok: false, reason: 'sensor-error' });
    expect(s.t.sensor!.attempts).toHaveLength(2);
    expect(s.device.persistent.uvRetries).toBe(MAX_UV_RETRIES);
  });

  it('not configured: nothing enrolled, no sensor attached', async () => {
    const empty = await setup({ templates: [] });
    expect(builtInUvConfigured(empty.ctx())).toBe(false);
    expect(await performBuiltInUv(empty.ctx(), once)).toEqual({ ok: false, reason: 'not-configured' });
    const noSensor = await setup({ sensor: false });
    expect(await performBuiltInUv(noSensor.ctx(), once)).toEqual({ ok: false, reason: 'not-configured' });
    const configured = await setup();
    expect(builtInUvConfigured(configured.ctx())).toBe(true);
    expect(builtInUvConfigured({ profile: defaultProfile, device: configured.device })).toBe(false);
  });

  it('uses the first profile modality that has templates', async () => {
    const s = await setup({ modalities: ['fingerprint', 'face'], templates: [{ modality: 'face' }] });
    const r = await performBuiltInUv(s.ctx(), once);
    expect(r).toMatchObject({ ok: true, modality: 'face' });
    expect(s.t.sensor!.attempts.map((a) => a.modality)).toEqual(['face']);
  });

  /** FAULT_MODEL S4: "try the other biometric method" inside one operation, within the same uvRetries budget. */
  it('internal retries alternate modalities: fingerprint rejected, face accepted', async () => {
    const s = await setup({
      modalities: ['fingerprint', 'face'],
      templates: [{ modality: 'fingerprint' }, { modality: 'face' }],
      sensor: { fingerprint: { policy: 'mismatch' } },
    });
    const r = await performBuiltInUv(s.ctx(), { command: 'getAssertion', internalRetry: true });
    expect(r).toEqual({ ok: true, modality: 'face', templateId: s.device.persistent.templates[1]!.id });
    expect(s.t.sensor!.attempts.map((a) => `${a.modality}:${a.outcome}`)).toEqual(['fingerprint:mismatch', 'face:match']);
    // Without internal retry the platform's single attempt always goes to the first modality.
    expect(await performBuiltInUv(s.ctx(), once)).toEqual({ ok: false, reason: 'mismatch' });
  });

  /** Spec: CTAP 2.1 §11.2.9.1.5 — CTAPHID_CANCEL while waiting for the finger → KEEPALIVE_CANCEL, no retry consumed. */
  it('waits for the sensor on the scheduler and honours a cancel', async () => {
    const s = await setup({ sensor: { delayMs: 500, fingerprint: { policy: 'mismatch' } } });
    const req = createTestRequest();
    const p = performBuiltInUv(s.ctx(req), once);
    const settled = p.then(() => 'settled', () => 'settled');
    s.t.scheduler.advance(499);
    expect(await Promise.race([settled, Promise.resolve('pending')])).toBe('pending');
    req.cancel();
    await expect(p).rejects.toMatchObject({ status: CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL });
    expect(req.keepalives).toEqual([KeepaliveStatus.UPNEEDED, KeepaliveStatus.PROCESSING]);
    expect(s.device.persistent.uvRetries).toBe(MAX_UV_RETRIES);
    expect(s.t.sensor!.attempts).toHaveLength(0);

    const p2 = performBuiltInUv(s.ctx(), once);
    s.t.scheduler.advance(500);
    expect(await p2).toEqual({ ok: false, reason: 'mismatch' });
  });
});
