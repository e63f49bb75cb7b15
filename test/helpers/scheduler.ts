import type { Scheduler } from '../../ctap/authenticator/env.ts';

/** A manual clock for tests: time moves only when the test calls advance(). */
export class ManualScheduler implements Scheduler {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; cb: () => void }>();

  now(): number {
    return this.t;
  }

  setTimer(ms: number, cb: () => void): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), cb });
    return () => {
      this.timers.delete(id);
    };
  }

  /** Number of timers armed and not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in order (timers armed while firing are honoured). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId = -1;
      let next: { at: number; cb: () => void } | undefined;
      for (const [id, tm] of this.timers) {
        if (tm.at <= end && (!next || tm.at < next.at || (tm.at === next.at && id < nextId))) {
          next = tm;
          nextId = id;
        }
      }
      if (!next) break;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, next.at);
      next.cb();
    }
    this.t = end;
  }
}
