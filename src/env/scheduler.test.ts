import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import { createDeviceScheduler, realScheduler } from './scheduler.ts';

describe('realScheduler', () => {
  it('now() is monotonic and advances with real time', async () => {
    const a = realScheduler.now();
    await new Promise((r) => setTimeout(r, 15));
    const b = realScheduler.now();
    expect(b - a).toBeGreaterThanOrEqual(10);
  });

  it('fires a timer after roughly the delay', async () => {
    const start = realScheduler.now();
    const firedAt = await new Promise<number>((resolve) => realScheduler.setTimer(20, () => resolve(realScheduler.now())));
    expect(firedAt - start).toBeGreaterThanOrEqual(15);
  });

  it('a cancelled timer never fires; cancelling twice or after firing is harmless', async () => {
    let fired = 0;
    const cancel = realScheduler.setTimer(5, () => fired++);
    cancel();
    cancel();
    const cancelLate = realScheduler.setTimer(0, () => fired++);
    await new Promise((r) => setTimeout(r, 30));
    cancelLate();
    expect(fired).toBe(1);
  });

  it('treats negative and non-finite delays as 0', async () => {
    const order: string[] = [];
    realScheduler.setTimer(-5, () => order.push('neg'));
    realScheduler.setTimer(Number.NaN, () => order.push('nan'));
    await new Promise((r) => setTimeout(r, 10));
    expect(order.sort()).toEqual(['nan', 'neg']);
  });
});

describe('realScheduler: delays beyond setTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Regression: setTimeout fires a delay over 2^31−1 ms at once (with a warning), so "wait 35 days" meant "now". */
  it('a delay longer than 2^31−1 ms is waited in full', () => {
    vi.useFakeTimers();
    let fired = false;
    realScheduler.setTimer(3e9, () => (fired = true));
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(3e9 - 2 ** 31 - 1000 + 1);
    expect(fired).toBe(true);
  });

  it('cancelling a long delay cancels its later steps too', () => {
    vi.useFakeTimers();
    let fired = false;
    const cancel = realScheduler.setTimer(3e9, () => (fired = true));
    vi.advanceTimersByTime(2 ** 31);
    cancel();
    vi.advanceTimersByTime(3e9);
    expect(fired).toBe(false);
  });
});

describe('createDeviceScheduler', () => {
  /** Regression: a closed device kept its U2F touch wait (10 s) and presence timers, holding the process open. */
  it('close() cancels every pending timer and ignores new ones; timers that fired or were cancelled are forgotten', () => {
    const base = new ManualScheduler();
    const s = createDeviceScheduler(base);
    const fired: string[] = [];
    s.setTimer(10, () => fired.push('early'));
    s.setTimer(10_000, () => fired.push('u2f window'));
    const cancel = s.setTimer(20_000, () => fired.push('cancelled'));
    cancel();
    base.advance(10);
    expect(fired).toEqual(['early']);
    s.close();
    expect(base.pending).toBe(0);
    s.setTimer(1, () => fired.push('after close'));
    base.advance(60_000);
    expect(fired).toEqual(['early']);
    expect(s.now()).toBe(base.now());
  });
});
