/**
 * Scheduler port on the real clock. Timers are plain (not unref'd): a pending keepalive or user-presence
 * timeout is real work, and the process is kept alive by its transport anyway.
 */
import { performance } from 'node:perf_hooks';
import type { Scheduler } from '../../ctap/authenticator/env.ts';

export const realScheduler: Scheduler = Object.freeze({
  /** Monotonic milliseconds (fractional); unaffected by wall-clock changes. */
  now: (): number => performance.now(),
  setTimer(ms: number, cb: () => void): () => void {
    const delay = Number.isFinite(ms) ? Math.max(0, ms) : 0;
    const t = setTimeout(cb, delay);
    return () => clearTimeout(t);
  },
});
