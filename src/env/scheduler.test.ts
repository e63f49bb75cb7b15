import { describe, expect, it } from 'vitest';
import { realScheduler } from './scheduler.ts';

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
