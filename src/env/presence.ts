/**
 * UserPresence port implementation: a scripted "user" that touches the key (approve), refuses (deny) or
 * never shows up (timeout). Time goes through the injected Scheduler so tests run on a manual clock.
 * Every mode honours the request's AbortSignal (CTAPHID_CANCEL): the promise rejects at once with
 * CtapError(CTAP2_ERR_KEEPALIVE_CANCEL), which the handler lets through to the wire.
 */
import { cancelled } from '../../ctap/errors.ts';
import type { PresenceRequest, PresenceResult, Scheduler, UserPresence } from '../../ctap/authenticator/env.ts';
import { DELAY_RANGE, isDelayMs } from '../limits.ts';

export type PresenceMode = 'approve' | 'deny' | 'timeout';

export interface PresenceOptions {
  scheduler: Scheduler;
  /** What the user does. Default 'approve'. */
  mode?: PresenceMode;
  /** Time the user takes to touch (approve) or refuse (deny). Default 0 ms; at most MAX_DELAY_MS (src/limits.ts). */
  delayMs?: number;
  /** How long the device waits for a touch that never comes ('timeout' mode). Default 30 000 ms; at most MAX_DELAY_MS. */
  timeoutMs?: number;
}

export const DEFAULT_PRESENCE_TIMEOUT_MS = 30_000;

/** A UserPresence whose mode and delay can be changed while the device runs (the control API will). */
export interface ConfigurablePresence extends UserPresence {
  readonly mode: PresenceMode;
  readonly delayMs: number;
  readonly timeoutMs: number;
  set(opts: { mode?: PresenceMode; delayMs?: number; timeoutMs?: number }): void;
}

function checkMs(v: number, what: string): number {
  if (!isDelayMs(v)) throw new RangeError(`${what}: expected a number of ms ${DELAY_RANGE}, got ${v}`);
  return v;
}

export function createPresence({
  scheduler,
  mode = 'approve',
  delayMs = 0,
  timeoutMs = DEFAULT_PRESENCE_TIMEOUT_MS,
}: PresenceOptions): ConfigurablePresence {
  let state = { mode, delayMs: checkMs(delayMs, 'delayMs'), timeoutMs: checkMs(timeoutMs, 'timeoutMs') };

  function request(req: PresenceRequest): Promise<PresenceResult> {
    const { mode: m, delayMs: delay, timeoutMs: timeout } = state;
    const outcome: PresenceResult = m === 'approve' ? 'approved' : m === 'deny' ? 'denied' : 'timeout';
    const wait = m === 'timeout' ? timeout : delay;
    // CTAP 2.1 §11.2.9.1.5: a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL.
    if (req.signal.aborted) return Promise.reject(cancelled());
    if (wait === 0) return Promise.resolve(outcome);
    return new Promise<PresenceResult>((resolve, reject) => {
      const onAbort = (): void => {
        cancelTimer();
        reject(cancelled());
      };
      const cancelTimer = scheduler.setTimer(wait, () => {
        req.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      });
      req.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  return {
    request,
    get mode() {
      return state.mode;
    },
    get delayMs() {
      return state.delayMs;
    },
    get timeoutMs() {
      return state.timeoutMs;
    },
    set(opts) {
      state = {
        mode: opts.mode ?? state.mode,
        delayMs: opts.delayMs === undefined ? state.delayMs : checkMs(opts.delayMs, 'delayMs'),
        timeoutMs: opts.timeoutMs === undefined ? state.timeoutMs : checkMs(opts.timeoutMs, 'timeoutMs'),
      };
    },
  };
}
