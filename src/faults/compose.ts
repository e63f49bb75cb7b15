/**
 * How src/device.ts puts the fault seams in place: one engine per device, the Env ports decorated, the
 * dispatch middleware around handleCbor and handleMsg, the transport decorator under the CTAPHID layer.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { AuthenticatorControl } from '../../ctap/authenticator/control.ts';
import type { Crypto, Rng, Scheduler, Store, UserPresence, UserVerification } from '../../ctap/authenticator/env.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import type { ReportTransport } from '../../transports/types.ts';
import { isUnderTemporaryDirectory, STORE_HEADER_LENGTH } from '../env/fileStore.ts';
import { FaultEngine } from './engine.ts';
import { invalidArgument } from './rules.ts';
import { faultMiddleware, type CborHandler } from './middleware.ts';
import { decoratePresence, decorateStore, decorateVerification, POWER_LOSS } from './ports.ts';
import { decorateTransport } from './transport.ts';
import { u2fFaultMiddleware, type MsgHandler } from './u2fMiddleware.ts';
import type { FaultRule } from './types.ts';

export interface DeviceFaults {
  engine: FaultEngine;
  presence(p: UserPresence): UserPresence;
  verification(v: UserVerification): UserVerification;
  /**
   * `file`: the store's file, damaged on disk by `store.corrupt` so the file store's own check fails. That is
   * permanent, so outside the temporary directory the rule needs `allowDestructive: true` (refused when armed).
   */
  store(s: Store, file?: string): Store;
  transport(t: ReportTransport): ReportTransport;
  dispatch(handleCbor: CborHandler, o: { crypto: Crypto; control: AuthenticatorControl }): CborHandler;
  /** The dispatch seam for CTAP1/U2F (CTAPHID_MSG): status (as `sw`), delay, drop. */
  dispatchMsg(handleMsg: MsgHandler): MsgHandler;
}

/** A power-loss error from a save cut short (the composition answers nothing and power-cycles). */
export function isPowerLoss(e: unknown): boolean {
  for (let x: unknown = e; x instanceof Error; x = x.cause) if (x instanceof EmulatorError && x.code === POWER_LOSS) return true;
  return false;
}

/** Damage a store file in place: one payload byte flipped (checksum mismatch) or the file cut in half. */
async function damageFile(file: string, mode: 'flip' | 'truncate'): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch {
    return; // nothing stored yet: nothing to damage
  }
  if (mode === 'truncate') {
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    return;
  }
  const payload = bytes.length - STORE_HEADER_LENGTH;
  const at = payload > 0 ? STORE_HEADER_LENGTH + Math.floor(payload / 2) : Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(file, bytes);
}

/**
 * `store.corrupt` on a store file outside the temporary directory would destroy a user's real key for good (a
 * test tool must not): refused unless the rule says allowDestructive: true.
 */
function refuseDestructive(rule: FaultRule, file: string): void {
  if (rule.effect.type !== 'store.corrupt' || rule.effect.allowDestructive === true) return;
  throw invalidArgument(
    `fault.effect: store.corrupt would damage the store file ${file} for good, and it is not under the temporary ` +
      `directory ${tmpdir()}: use a memory store (--memory-store), a store file under ${tmpdir()}, or set ` +
      'allowDestructive: true in the effect',
  );
}

export function createDeviceFaults(o: { scheduler: Scheduler; rng: Rng; logger: Logger }): DeviceFaults {
  const engine = new FaultEngine(o);
  return {
    engine,
    presence: (p) => decoratePresence(p, engine),
    verification: (v) => decorateVerification(v, engine),
    store: (s, file) => {
      if (file === undefined) return decorateStore(s, engine);
      if (!isUnderTemporaryDirectory(file)) engine.addRuleCheck((rule) => refuseDestructive(rule, resolve(file)));
      return decorateStore(s, engine, { damageBacking: (mode) => damageFile(file, mode) });
    },
    transport: (t) => decorateTransport(t, engine),
    dispatch: (handleCbor, d) =>
      faultMiddleware(engine, {
        crypto: d.crypto,
        keys: { credential: (h, id) => d.control.signingKey(h, id), attestation: () => d.control.attestationKey() },
      })(handleCbor),
    dispatchMsg: (handleMsg) => u2fFaultMiddleware(engine)(handleMsg),
  };
}
