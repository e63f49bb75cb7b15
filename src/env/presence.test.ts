import { describe, expect, it } from 'vitest';
import { createPresence } from './presence.ts';
import { MAX_DELAY_MS } from '../limits.ts';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import { CtapError } from '../../ctap/errors.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';

function req(signal = new AbortController().signal) {
  return { command: 'makeCredential', rpId: 'example.com', signal };
}

/** Settled state of a promise after the microtask queue drains. */
async function peek<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; pending: boolean }> {
  const out: { value?: T; error?: unknown; pending: boolean } = { pending: true };
  p.then(
    (v) => Object.assign(out, { value: v, pending: false }),
    (e) => Object.assign(out, { error: e, pending: false }),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return out;
}

describe('createPresence', () => {
  it('approves immediately by default', async () => {
    const s = new ManualScheduler();
    await expect(createPresence({ scheduler: s }).request(req())).resolves.toBe('approved');
  });

  it('approves only after the configured delay', async () => {
    const s = new ManualScheduler();
    const p = createPresence({ scheduler: s, delayMs: 250 }).request(req());
    s.advance(249);
    expect((await peek(p)).pending).toBe(true);
    s.advance(1);
    expect(await peek(p)).toMatchObject({ pending: false, value: 'approved' });
  });

  it('deny mode answers denied after the delay', async () => {
    const s = new ManualScheduler();
    const p = createPresence({ scheduler: s, mode: 'deny', delayMs: 10 }).request(req());
    s.advance(10);
    await expect(p).resolves.toBe('denied');
  });

  it('timeout mode waits timeoutMs (default 30 s) then answers timeout', async () => {
    const s = new ManualScheduler();
    const p = createPresence({ scheduler: s, mode: 'timeout' }).request(req());
    s.advance(29_999);
    expect((await peek(p)).pending).toBe(true);
    s.advance(1);
    expect(await peek(p)).toMatchObject({ pending: false, value: 'timeout' });
  });

  /** Spec: CTAP 2.1 §11.2.9.1.5 — a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL. */
  it('settles promptly with KEEPALIVE_CANCEL when the signal aborts, and disarms its timer', async () => {
    const s = new ManualScheduler();
    const ac = new AbortController();
    const p = createPresence({ scheduler: s, mode: 'timeout', timeoutMs: 5_000 }).request(req(ac.signal));
    expect(s.pending).toBe(1);
    ac.abort();
    const r = await peek(p);
    expect(r.pending).toBe(false);
    expect(r.error).toBeInstanceOf(CtapError);
    expect((r.error as CtapError).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
    expect(s.pending).toBe(0);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const p = createPresence({ scheduler: new ManualScheduler() }).request(req(ac.signal));
    await expect(p).rejects.toMatchObject({ status: CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL });
  });

  it('can be reconfigured while running', async () => {
    const s = new ManualScheduler();
    const presence = createPresence({ scheduler: s });
    presence.set({ mode: 'deny' });
    expect(presence.mode).toBe('deny');
    await expect(presence.request(req())).resolves.toBe('denied');
  });

  it('rejects a negative delay', () => {
    expect(() => createPresence({ scheduler: new ManualScheduler(), delayMs: -1 })).toThrow(RangeError);
  });

  /** Regression: a 3e9 ms delay became a 1 ms one in setTimeout (the user "refused" at once). */
  it('delays above MAX_DELAY_MS (one hour) are refused, at creation and when changed', () => {
    const scheduler = new ManualScheduler();
    expect(() => createPresence({ scheduler, delayMs: 3e9 })).toThrow(/^delayMs: expected a number of ms 0\.\.3600000 ms, got 3000000000$/);
    expect(() => createPresence({ scheduler, timeoutMs: MAX_DELAY_MS + 1 })).toThrow(/^timeoutMs: /);
    const p = createPresence({ scheduler, delayMs: MAX_DELAY_MS });
    expect(() => p.set({ timeoutMs: Infinity })).toThrow(RangeError);
    expect(p.delayMs).toBe(MAX_DELAY_MS);
  });
});
