/**
 * The state seam (seam 4): control operations that change what the device holds (retries, PIN, credentials,
 * suspension, power). They act through `authenticator.control` (ctap/authenticator/control.ts), never through
 * a flag a handler checks; here each one is logged and appended to the fault history, so a scenario's
 * history shows the state changes beside the faults that fired.
 */
import type { Logger } from 'pino';
import type { FaultEngine } from './engine.ts';

export type StateOp = <T>(op: string, detail: Record<string, unknown> | undefined, run: () => Promise<T>) => Promise<T>;

/** Run a state operation; on success record `{ fault: 'control', seam: 'state', effect: op, detail }`. */
export function stateOperations(engine: FaultEngine, log: Logger): StateOp {
  return async (op, detail, run) => {
    const result = await run();
    engine.record({ fault: 'control', seam: 'state', effect: op, ...(detail ? { detail } : {}) });
    log.info({ fault: 'control', seam: 'state', effect: op }, 'control');
    return result;
  };
}
