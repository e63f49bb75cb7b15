import { describe, expect, it } from 'vitest';
import { createSensor, type CreateSensorOptions } from './verification.ts';
import { MAX_DELAY_MS } from '../limits.ts';
import { createSeededRng } from './rng.ts';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import { CtapError } from '../../ctap/errors.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { UvModality } from '../../ctap/authenticator/env.ts';

const LEFT = { id: new Uint8Array([0, 1]), name: 'Left index' };
const RIGHT = { id: new Uint8Array([0, 2]), name: 'Right thumb' };
const FACE = { id: new Uint8Array([0, 3]) };

function sensor(o: Partial<CreateSensorOptions> = {}) {
  const scheduler = new ManualScheduler();
  return { scheduler, s: createSensor({ scheduler, rng: createSeededRng('sensor-test'), ...o }) };
}

function uv(modality: UvModality = 'fingerprint', signal = new AbortController().signal) {
  const templates = modality === 'face' ? [FACE] : [LEFT, RIGHT];
  return { command: 'clientPIN', modality, templates, rpId: 'example.com', signal };
}

function enroll(signal = new AbortController().signal) {
  return { modality: 'fingerprint' as const, templateId: new Uint8Array([0, 9]), signal };
}

async function peek<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; pending: boolean }> {
  const out: { value?: T; error?: unknown; pending: boolean } = { pending: true };
  p.then(
    (v) => Object.assign(out, { value: v, pending: false }),
    (e) => Object.assign(out, { error: e, pending: false }),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return out;
}

describe('createSensor: verification', () => {
  it('matches the first enrolled template of the modality by default', async () => {
    const { s } = sensor();
    expect(await s.verify(uv())).toEqual({ result: 'match', templateId: LEFT.id });
    expect(await s.verify(uv('face'))).toEqual({ result: 'match', templateId: FACE.id });
  });

  it('a fixed policy answers every attempt the same way', async () => {
    const { s } = sensor({ fingerprint: { policy: 'mismatch' }, face: { policy: 'sensor-error' } });
    for (let i = 0; i < 3; i++) expect(await s.verify(uv())).toEqual({ result: 'mismatch' });
    expect(await s.verify(uv('face'))).toEqual({ result: 'sensor-error' });
  });

  it('a script runs attempt by attempt, then falls back to `then`', async () => {
    const { s } = sensor({ fingerprint: { script: ['mismatch', 'no-sample', 'match'], then: 'mismatch' } });
    const results = [];
    for (let i = 0; i < 5; i++) results.push((await s.verify(uv())).result);
    expect(results).toEqual(['mismatch', 'no-sample', 'match', 'mismatch', 'mismatch']);
  });

  it('scripts are per modality: face attempts do not consume the fingerprint script', async () => {
    const { s } = sensor({ fingerprint: { script: ['mismatch'] } });
    expect((await s.verify(uv('face'))).result).toBe('match');
    expect((await s.verify(uv())).result).toBe('mismatch');
    expect((await s.verify(uv())).result).toBe('match');
  });

  it('a script step may name the enrolled finger that matches', async () => {
    const { s } = sensor({ fingerprint: { script: [{ match: 'Right thumb' }, { match: 'Little finger' }] } });
    expect(await s.verify(uv())).toEqual({ result: 'match', templateId: RIGHT.id });
    // A finger that is not enrolled is not recognised.
    expect(await s.verify(uv())).toEqual({ result: 'mismatch' });
  });

  it('a match with nothing enrolled of that modality is a mismatch', async () => {
    const { s } = sensor();
    expect(await s.verify({ ...uv(), templates: [] })).toEqual({ result: 'mismatch' });
  });

  it('script() replaces the queue and keeps the policy; setPolicy() replaces both', async () => {
    const { s } = sensor({ fingerprint: { policy: 'mismatch' } });
    s.script('fingerprint', ['match']);
    expect((await s.verify(uv())).result).toBe('match');
    expect((await s.verify(uv())).result).toBe('mismatch');
    s.script('fingerprint', ['no-sample', 'no-sample']);
    s.setPolicy('fingerprint', 'match');
    expect((await s.verify(uv())).result).toBe('match');
    s.setPolicy('fingerprint', { script: ['sensor-error'] });
    expect((await s.verify(uv())).result).toBe('sensor-error');
    expect((await s.verify(uv())).result).toBe('match');
  });

  it('falseRejectionRate 0 always matches, 1 always rejects', async () => {
    const { s } = sensor({ fingerprint: { falseRejectionRate: 0 }, face: { falseRejectionRate: 1 } });
    for (let i = 0; i < 20; i++) {
      expect((await s.verify(uv())).result).toBe('match');
      expect((await s.verify(uv('face'))).result).toBe('mismatch');
    }
  });

  it('falseRejectionRate is reproducible for a seed and roughly honoured', async () => {
    const run = async (seed: string) => {
      const s = createSensor({ scheduler: new ManualScheduler(), rng: createSeededRng(seed), fingerprint: { falseRejectionRate: 0.3 } });
      const out: string[] = [];
      for (let i = 0; i < 400; i++) out.push((await s.verify(uv())).result);
      return out;
    };
    const a = await run('frr');
    expect(await run('frr')).toEqual(a);
    expect(await run('frr-other')).not.toEqual(a);
    const rejected = a.filter((r) => r === 'mismatch').length;
    expect(rejected).toBeGreaterThan(80);
    expect(rejected).toBeLessThan(160);
  });

  it('records every answered attempt with modality, outcome, template, command and time', async () => {
    const { s, scheduler } = sensor({ fingerprint: { script: ['mismatch'] }, delayMs: 100 });
    const p1 = s.verify(uv());
    scheduler.advance(100);
    await p1;
    const p2 = s.verify(uv());
    scheduler.advance(100);
    await p2;
    expect(s.attempts).toEqual([
      { modality: 'fingerprint', outcome: 'mismatch', command: 'clientPIN', rpId: 'example.com', at: 100 },
      { modality: 'fingerprint', outcome: 'match', templateId: LEFT.id, command: 'clientPIN', rpId: 'example.com', at: 200 },
    ]);
    s.clearHistory();
    expect(s.attempts).toEqual([]);
  });

  it('answers only after the configured delay', async () => {
    const { s, scheduler } = sensor({ delayMs: 250 });
    const p = s.verify(uv());
    scheduler.advance(249);
    expect((await peek(p)).pending).toBe(true);
    scheduler.advance(1);
    expect((await peek(p)).value).toEqual({ result: 'match', templateId: LEFT.id });
    s.setDelay(0);
    expect((await peek(s.verify(uv()))).pending).toBe(false);
  });

  /** Spec: CTAP 2.1 §11.2.9.1.5 — a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL. */
  it('a cancel settles at once with KEEPALIVE_CANCEL, disarms the timer and consumes no script step', async () => {
    const { s, scheduler } = sensor({ fingerprint: { script: ['mismatch'] }, delayMs: 1_000 });
    const ac = new AbortController();
    const p = s.verify(uv('fingerprint', ac.signal));
    expect(scheduler.pending).toBe(1);
    ac.abort();
    const r = await peek(p);
    expect(r.error).toBeInstanceOf(CtapError);
    expect((r.error as CtapError).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
    expect(scheduler.pending).toBe(0);
    expect(s.attempts).toEqual([]);
    // Already aborted: rejects without waiting.
    await expect(s.verify(uv('fingerprint', ac.signal))).rejects.toMatchObject({ status: CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL });
    s.setDelay(0);
    expect((await s.verify(uv())).result).toBe('mismatch');
  });

  it('rejects malformed behaviours with a message naming the field', () => {
    const scheduler = new ManualScheduler();
    const rng = createSeededRng(1);
    expect(() => createSensor({ scheduler, rng, fingerprint: { policy: 'maybe' as never } })).toThrow(/fingerprint\.policy/);
    expect(() => createSensor({ scheduler, rng, face: { falseRejectionRate: 1.5 } })).toThrow(/face\.falseRejectionRate/);
    expect(() => createSensor({ scheduler, rng, fingerprint: { script: ['match', 'nope' as never] } })).toThrow(/script\[1\]/);
    expect(() => createSensor({ scheduler, rng, enrollSamples: [0, 300] })).toThrow(/enrollSamples\[1\]/);
    expect(() => createSensor({ scheduler, rng, delayMs: -1 })).toThrow(RangeError);
    // Regression: beyond setTimeout's range a delay fired at once; one hour (MAX_DELAY_MS) is the bound.
    expect(() => createSensor({ scheduler, rng, delayMs: 3e9 })).toThrow(/^delayMs: expected a number of ms 0\.\.3600000 ms/);
    const s = createSensor({ scheduler, rng });
    expect(() => s.setDelay(MAX_DELAY_MS + 1)).toThrow(RangeError);
    s.setDelay(MAX_DELAY_MS);
    expect(() => s.script('iris' as never, ['match'])).toThrow(/modality/);
  });
});

describe('createSensor: enrollment samples', () => {
  it('every sample is good by default', async () => {
    const { s } = sensor();
    expect(await s.captureEnrollSample(enroll())).toEqual({ status: 0x00 });
  });

  it('scripted samples come in order, then good ones; timeout is no sample at all', async () => {
    const { s } = sensor({ enrollSamples: [0x01, 'timeout'] });
    expect(await s.captureEnrollSample(enroll())).toEqual({ status: 0x01 });
    expect(await s.captureEnrollSample(enroll())).toEqual({ result: 'timeout' });
    expect(await s.captureEnrollSample(enroll())).toEqual({ status: 0x00 });
    s.scriptEnrollSamples([0x07]);
    expect(await s.captureEnrollSample(enroll())).toEqual({ status: 0x07 });
    expect(s.enrollCaptures.map((c) => c.sample)).toEqual([0x01, 'timeout', 0x00, 0x07]);
    expect(s.enrollCaptures[0]!.templateId).toEqual(new Uint8Array([0, 9]));
  });

  it('a cancelled capture rejects with KEEPALIVE_CANCEL', async () => {
    const { s } = sensor({ delayMs: 50 });
    const ac = new AbortController();
    const p = s.captureEnrollSample(enroll(ac.signal));
    ac.abort();
    await expect(p).rejects.toMatchObject({ status: CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL });
    expect(s.enrollCaptures).toEqual([]);
  });
});
