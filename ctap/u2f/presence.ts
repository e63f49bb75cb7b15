/**
 * U2F user presence: non-blocking, as on hardware (U2F Raw Message Formats v1.2 §3.3, CHECKLIST E5).
 *
 * A U2F command never waits for the user. Without a recent touch it is answered SW_CONDITIONS_NOT_SATISFIED at
 * once, and the key starts "blinking": a background request to the UserPresence port. The host polls (libfido2
 * every 100 ms, Chromium every 200 ms) with the same command; once the user has touched, the touch is latched and
 * the next command that needs presence consumes it. Details (decisions; OpenSK keeps similar windows):
 * - The background request stays open while the host keeps polling: each poll re-arms a REQUEST_WINDOW_MS timer,
 *   and when the host has been silent that long the request is aborted (the key stops blinking).
 * - A latched touch is good for TOUCH_VALID_MS and for one command; then it is forgotten.
 * - A declined or timed-out request just ends; the next poll starts a new one (U2F has no "denied" answer).
 * - One touch, one device: the latch is shared by all channels. Volatile: a power cycle or reset drops it.
 * Time comes only from the Scheduler.
 */
import type { HandlerContext } from '../authenticator/context.ts';
import type { Env } from '../authenticator/env.ts';

/** How long a background presence request stays open after the host's last poll. */
export const REQUEST_WINDOW_MS = 10_000;
/** How long a touch stays usable before a command consumes it. */
export const TOUCH_VALID_MS = 10_000;

interface Pending {
  abort: AbortController;
  /** Cancels the REQUEST_WINDOW_MS timer. */
  cancelWindow: () => void;
}

export class U2fPresence {
  /** scheduler.now() of the latched touch, if any. */
  #touchedAt: number | undefined;
  /** The background request in flight, if any. */
  #pending: Pending | undefined;
  #disposed = false;

  constructor(private readonly env: Pick<Env, 'scheduler' | 'presence'>) {}

  /** A touch is latched and still valid. */
  get touched(): boolean {
    return this.#touchedAt !== undefined && this.env.scheduler.now() - this.#touchedAt <= TOUCH_VALID_MS;
  }

  /** A background presence request is open (the key is blinking). */
  get waiting(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Consume a valid latched touch (true), or make sure a background request is open and report that presence
   * is still missing (false).
   */
  consume(command: string): boolean {
    if (this.touched) {
      this.#touchedAt = undefined;
      return true;
    }
    this.#touchedAt = undefined;
    if (this.#disposed) return false;
    if (this.#pending) this.#rearmWindow(this.#pending);
    else this.#start(command);
    return false;
  }

  /** Drop the latch and abort the background request (power cycle, reset). */
  dispose(): void {
    this.#disposed = true;
    this.#touchedAt = undefined;
    this.#end();
  }

  #start(command: string): void {
    const pending: Pending = { abort: new AbortController(), cancelWindow: () => {} };
    this.#pending = pending;
    this.#rearmWindow(pending);
    const settle = (touched: boolean): void => {
      if (this.#pending !== pending) return; // aborted, disposed or superseded meanwhile
      this.#end();
      if (touched) this.#touchedAt = this.env.scheduler.now();
    };
    let request: Promise<unknown>;
    try {
      request = this.env.presence.request({ command, signal: pending.abort.signal });
    } catch (e) {
      request = Promise.reject(e);
    }
    request.then(
      (result) => settle(result === 'approved'),
      () => settle(false), // aborted or a failing port: no touch; the next poll asks again
    );
  }

  #rearmWindow(pending: Pending): void {
    pending.cancelWindow();
    pending.cancelWindow = this.env.scheduler.setTimer(REQUEST_WINDOW_MS, () => {
      if (this.#pending === pending) this.#end();
    });
  }

  #end(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    p.cancelWindow();
    p.abort.abort();
  }
}

/** The device's latch (volatile DeviceState), created on first use. */
export function u2fPresence(h: Pick<HandlerContext, 'env' | 'device'>): U2fPresence {
  h.device.u2fPresence ??= new U2fPresence(h.env);
  return h.device.u2fPresence;
}
