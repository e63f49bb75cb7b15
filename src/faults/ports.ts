/**
 * Port decorators (seam 1): the Env ports the authenticator sees, with the armed rules in front of the real
 * ones. A rule answers in the port's own vocabulary (a presence result, a sensor outcome, a store error);
 * the real handler then does what it always does with such an answer (OPERATION_DENIED, uvRetries − 1,
 * KEY_STORE_FULL, a reload after a power loss). Without an armed rule every call goes straight through.
 */
import type { PresenceRequest, PresenceResult, Store, UserPresence, UserVerification, UvOutcome, UvRequest } from '../../ctap/authenticator/env.ts';
import { STORE_FULL } from '../../ctap/authenticator/env.ts';
import { cancelled, EmulatorError } from '../../ctap/errors.ts';
import type { FaultEngine } from './engine.ts';
import type { Facts } from './types.ts';

/** Wait `ms` on the engine's scheduler; rejects with KEEPALIVE_CANCEL when the signal aborts (CTAPHID_CANCEL). */
export function waitOrCancel(engine: FaultEngine, ms: number, signal: AbortSignal): Promise<void> {
  // CTAP 2.1 §11.2.9.1.5: a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL.
  if (signal.aborted) return Promise.reject(cancelled());
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancelTimer();
      reject(cancelled());
    };
    const cancelTimer = engine.scheduler.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function portFacts(engine: FaultEngine, command: string, rpId: string | undefined): Facts {
  const facts: Facts = { ...(engine.current ?? {}), command: engine.current?.command ?? command };
  if (rpId !== undefined) facts.rpId = rpId;
  return facts;
}

/**
 * The real port's answer as a promise, as an async wrapper would give it (a synchronous throw becomes a
 * rejection, a plain value a resolved promise), but without a promise of its own around a native one.
 */
function passThrough<T>(call: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (e) {
    return Promise.reject(e);
  }
}

export function decoratePresence(inner: UserPresence, engine: FaultEngine): UserPresence {
  async function faulted(req: PresenceRequest): Promise<PresenceResult> {
    const fired = engine.fireFirst('presence', portFacts(engine, req.command, req.rpId));
    if (!fired) return inner.request(req);
    const e = fired.effect;
    switch (e.type) {
      case 'presence.approve':
        await waitOrCancel(engine, e.afterMs ?? 0, req.signal);
        return 'approved';
      case 'presence.deny':
        await waitOrCancel(engine, e.afterMs ?? 0, req.signal);
        return 'denied';
      case 'presence.timeout':
        await waitOrCancel(engine, e.afterMs ?? 0, req.signal);
        return 'timeout';
      case 'presence.delay':
        await waitOrCancel(engine, e.ms, req.signal);
        return inner.request(req);
      case 'presence.touches': {
        // The device registers a touch only after `count` of them (a flaky button): the UPNEEDED keepalives
        // go on for count × intervalMs, then the request is approved.
        const interval = e.intervalMs ?? 100;
        for (let i = 1; i <= e.count; i++) await waitOrCancel(engine, interval, req.signal);
        return 'approved';
      }
      default:
        return inner.request(req);
    }
  }
  return {
    request(req: PresenceRequest): Promise<PresenceResult> {
      return engine.armed('presence') ? faulted(req) : passThrough(() => inner.request(req));
    },
  };
}

export function decorateVerification(inner: UserVerification, engine: FaultEngine): UserVerification {
  return {
    async verify(req: UvRequest): Promise<UvOutcome> {
      if (!engine.armed('verification')) return inner.verify(req);
      const facts = { ...portFacts(engine, req.command, req.rpId), modality: req.modality };
      const fired = engine.fireFirst('verification', facts);
      if (!fired) return inner.verify(req);
      const e = fired.effect;
      // CTAP 2.1 §11.2.9.1.5: a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL.
      if (req.signal.aborted) throw cancelled();
      switch (e.type) {
        case 'uv.match': {
          // A named template that is not enrolled is a finger the device does not know: a mismatch.
          const t = e.template === undefined ? req.templates[0] : req.templates.find((x) => x.name === e.template);
          fired.entry.detail = { ...fired.entry.detail, outcome: t ? 'match' : 'mismatch' };
          return t ? { result: 'match', templateId: t.id.slice() } : { result: 'mismatch' };
        }
        case 'uv.mismatch':
          return { result: 'mismatch' };
        case 'uv.no-sample':
          return { result: 'no-sample' };
        case 'uv.sensor-error':
          return { result: 'sensor-error' };
        case 'uv.delay':
          await waitOrCancel(engine, e.ms, req.signal);
          return inner.verify(req);
        default:
          return inner.verify(req);
      }
    },
    captureEnrollSample: (req) => inner.captureEnrollSample(req),
  };
}

export interface StoreDecoratorOptions {
  /**
   * Damage what the store persists (a file store: its file on disk), so that the store's own next load fails
   * with its real error. Absent: the loaded bytes are damaged before the authenticator decodes them.
   */
  damageBacking?(mode: 'flip' | 'truncate'): Promise<void>;
}

/** Thrown by a save cut short by `store.powerLoss` (the request it belonged to is never answered). */
export const POWER_LOSS = 'EMU_ERR_POWER_LOSS';

/** Bytes that no longer decode: the first byte (the state's map header) flipped, or half of them gone. */
function damage(bytes: Uint8Array, mode: 'flip' | 'truncate'): Uint8Array {
  if (mode === 'truncate') return bytes.slice(0, Math.floor(bytes.length / 2));
  const out = bytes.slice();
  if (out.length > 0) out[0] = out[0]! ^ 0xff;
  return out;
}

export function decorateStore(inner: Store, engine: FaultEngine, opts: StoreDecoratorOptions = {}): Store {
  return {
    async load(): Promise<Uint8Array | undefined> {
      if (!engine.armed('store')) return inner.load();
      const fired = engine.fireFirst('store', { command: 'powerUp' }, (e) => e.type === 'store.corrupt');
      if (!fired || fired.effect.type !== 'store.corrupt') return inner.load();
      const mode = fired.effect.mode ?? 'flip';
      if (opts.damageBacking) {
        await opts.damageBacking(mode);
        return inner.load(); // the store's own error (checksum mismatch, truncated payload)
      }
      const bytes = await inner.load();
      return bytes === undefined ? undefined : damage(bytes, mode);
    },

    save(data: Uint8Array): Promise<void> {
      // No rule at this seam (every assertion saves): the real store's own promise.
      return engine.armed('store') ? faultedSave(data) : passThrough(() => inner.save(data));
    },
  };

  async function faultedSave(data: Uint8Array): Promise<void> {
    const facts: Facts = engine.current ?? { command: 'control' };
    const fired = engine.fireFirst('store', facts, (e) => e.type === 'store.full' || e.type === 'store.powerLoss');
    if (!fired) return inner.save(data);
    const e = fired.effect;
    if (e.type === 'store.full') {
      throw new EmulatorError(STORE_FULL, 'the store has no room left (fault)');
    }
    if (e.type !== 'store.powerLoss') return inner.save(data);
    // Power lost mid-write: the atomic save either completed or did not start; never half of it.
    const outcome = e.outcome === 'random' ? (engine.randomInt(2) === 0 ? 'old' : 'new') : (e.outcome ?? 'old');
    fired.entry.detail = { ...fired.entry.detail, outcome };
    if (outcome === 'new') await inner.save(data);
    engine.onPowerLoss();
    throw new EmulatorError(POWER_LOSS, `power lost while writing the store (${outcome} state kept)`);
  }
}
