/**
 * The device's guard around its Store port: never overwrite state that could not be loaded.
 *
 * A power-up can fail after the store's own load succeeded: the file's envelope is fine but the state inside
 * does not decode (written by another program or a newer vfido, damaged by a `store.corrupt` fault on a
 * memory store). The authenticator then still holds the previous state in memory, and its next save would
 * replace the stored bytes for good. So after a failed power-up (a load error or a state the authenticator
 * could not use) every save is refused with the power-up's error until a later power-up succeeds; the store's
 * own load error (a file store's bad header or checksum) counts the same way. A save's own failure (store full,
 * power loss, a write error) during power-up does not: what was loaded is good.
 *
 * close() waits for the saves in flight (so a store lock is released only after the last write), then refuses
 * everything.
 */
import type { Store } from '../../ctap/authenticator/env.ts';
import { EmulatorError } from '../../ctap/errors.ts';

export interface GuardedStore extends Store {
  /**
   * The power-up that loaded from this store failed with `reason`: refuse saves until the next successful load
   * (the next power-up). A reason that is (or is caused by) one of this store's own save failures is ignored.
   */
  powerUpFailed(reason: unknown): void;
  /** Wait for the saves in flight, then refuse every load and save. Idempotent. */
  close(): Promise<void>;
}

/** The error code of a refused save: the power-up's own code when it had one. */
function codeOf(e: unknown): string {
  return e instanceof EmulatorError ? e.code : 'EMU_ERR_STATE_CORRUPT';
}

export function guardStore(inner: Store): GuardedStore {
  let failure: unknown;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  const saveErrors = new WeakSet<object>();

  const isSaveError = (e: unknown): boolean => {
    for (let x: unknown = e; typeof x === 'object' && x !== null; x = (x as { cause?: unknown }).cause) {
      if (saveErrors.has(x)) return true;
    }
    return false;
  };
  const closedError = (): EmulatorError => new EmulatorError('EMU_ERR_STORE_CLOSED', 'the device is closed: its store is no longer used');

  return Object.freeze({
    async load(): Promise<Uint8Array | undefined> {
      if (closed) throw closedError();
      try {
        const data = await inner.load();
        failure = undefined;
        return data;
      } catch (e) {
        failure = e;
        throw e;
      }
    },
    save(data: Uint8Array): Promise<void> {
      if (closed) return Promise.reject(closedError());
      if (failure !== undefined) {
        const why = failure instanceof Error ? failure.message : String(failure);
        return Promise.reject(
          new EmulatorError(
            codeOf(failure),
            `refusing to save: the last power-up could not load the stored state (${why}); the stored data is left as it is ` +
              'until a power-up succeeds (repair or move it aside, then power-cycle)',
            { cause: failure },
          ),
        );
      }
      const run = inner.save(data);
      inFlight.add(run);
      // Registered before the caller's handlers: a save error is known as one before anyone sees it.
      run.then(
        () => inFlight.delete(run),
        (e: unknown) => {
          inFlight.delete(run);
          if (typeof e === 'object' && e !== null) saveErrors.add(e);
        },
      );
      return run;
    },
    powerUpFailed(reason: unknown): void {
      if (!isSaveError(reason)) failure = reason ?? new Error('power-up failed');
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  });
}
