/**
 * Scheduler port on the real clock. Timers are plain (not unref'd): a pending keepalive or user-presence
 * timeout is real work, and the process is kept alive by its transport anyway. A device gets its own
 * closable view (createDeviceScheduler), so closing it cancels whatever it still had pending.
 */
import { performance } from 'node:perf_hooks';
import type { Scheduler } from '../../ctap/authenticator/env.ts';

/** The longest delay setTimeout honours (2^31−1 ms); a longer one would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const realScheduler: Scheduler = Object.freeze({
  /** Monotonic milliseconds (fractional); unaffected by wall-clock changes. */
  now: (): number => performance.now(),
  setTimer(ms: number, cb: () => void): () => void {
    let remaining = Number.isFinite(ms) ? Math.max(0, ms) : 0;
    if (remaining <= MAX_TIMEOUT_MS) {
      // The common case, without the stepping below (every CTAPHID request arms a timer or two).
      const once = setTimeout(cb, remaining);
      return () => clearTimeout(once);
    }
    let t: ReturnType<typeof setTimeout>;
    // Inputs are bounded (src/limits.ts), but a longer wait is still a wait: in steps setTimeout can take.
    const arm = (): void => {
      const step = Math.min(remaining, MAX_TIMEOUT_MS);
      remaining -= step;
      t = setTimeout(remaining > 0 ? arm : cb, step);
    };
    arm();
    return () => clearTimeout(t);
  },
});

export interface DeviceScheduler extends Scheduler {
  /** Cancel every pending timer and ignore later ones (the device is closed). Idempotent. */
  close(): void;
}

/**
 * A device's scheduler: the base clock, with its pending timers tracked so that close() cancels them all
 * (a U2F "blinking" window, a user who takes 20 s to touch, a fault delay): a closed device keeps no timer
 * and so never holds the process open.
 */
export function createDeviceScheduler(base: Scheduler = realScheduler): DeviceScheduler {
  const pending = new Set<() => void>();
  let closed = false;
  return Object.freeze({
    now: () => base.now(),
    setTimer(ms: number, cb: () => void): () => void {
      if (closed) return () => {};
      const cancel = base.setTimer(ms, () => {
        pending.delete(cancel);
        cb();
      });
      pending.add(cancel);
      return () => {
        pending.delete(cancel);
        cancel();
      };
    },
    close(): void {
      closed = true;
      for (const cancel of pending) cancel();
      pending.clear();
    },
  });
}
