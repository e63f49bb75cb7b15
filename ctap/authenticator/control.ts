/**
 * The authenticator's control surface (issue 5, the "state" seam of DESIGN.md "Faults"): pure operations on
 * the PersistentState that a test harness needs and CTAP does not offer (set retries, inject or damage a
 * credential, suspend the device). Each one builds a new state and persists it through DeviceState.commit, so
 * the real handlers then see an ordinary state and do the rest: PIN_BLOCKED comes from clientPIN reading
 * pinRetries = 0, NO_CREDENTIALS from the real look-up not finding a set-aside credential. No handler checks
 * a fault flag. Input validation (JSON shapes, base64url) lives in src/control; this layer checks invariants.
 * The credential operations are in controlCredentials.ts.
 */
import { utf8 } from '../bytes.ts';
import { EmulatorError, isCtapError } from '../errors.ts';
import { checkPinPolicy, maxPinRetries, maxUvRetries, pinHash, type NewPin } from '../pin/policy.ts';
import { createCredentialControl, type CredentialControl } from './controlCredentials.ts';
import type { DeviceState } from './deviceState.ts';
import type { Env } from './env.ts';
import type { Profile } from './profile.ts';
import type { PersistentState } from './state.ts';

export {
  CORRUPT_TARGETS,
  type CorruptTarget,
  type CredentialStatus,
  type NewCredential,
  type StoredCredential,
} from './controlCredentials.ts';

export interface AuthenticatorControl extends CredentialControl {
  /** The persistent state now (treat as read-only). */
  state(): PersistentState;
  /** Milliseconds since the last power-up. */
  uptimeMs(): number;
  /** getPINRetries powerCycleState: 3 consecutive PIN mismatches in this power cycle. */
  pinAuthBlocked(): boolean;
  setPin(pin: string | undefined): Promise<void>;
  setPinRetries(n: number): Promise<void>;
  setUvRetries(n: number): Promise<void>;
  setForcePinChange(on: boolean): Promise<void>;
  setSuspended(on: boolean): Promise<void>;
  /** authenticatorReset's effect, now: no touch, no power-up window. */
  factoryReset(): Promise<void>;
  /** The attestation private key (ES256), for re-signing a tampered 'basic' attestation. */
  attestationKey(): Uint8Array;
}

export interface ControlDeps {
  env: Env;
  profile: Profile;
  device: DeviceState;
  /** Runs `fn` in the authenticator's request queue (never interleaved with a CTAP command). */
  serialize<T>(fn: () => Promise<T>): Promise<T>;
  /** The real reset handler's effect without its preconditions (touch, window). */
  wipe(): Promise<void>;
}

function invalid(message: string): EmulatorError {
  return new EmulatorError('EMU_ERR_INVALID_ARGUMENT', message);
}

function checkCount(n: number, max: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw invalid(`${what}: expected an integer 0..${max}, got ${n}`);
}

export function createAuthenticatorControl(d: ControlDeps): AuthenticatorControl {
  const { env, profile, device, serialize } = d;
  const s = (): PersistentState => device.persistent;
  const commit = (next: PersistentState): Promise<void> => device.commit(next);
  const control: AuthenticatorControl = {
    ...createCredentialControl(d),
    state: s,
    uptimeMs: () => env.scheduler.now() - device.powerUpAt,
    pinAuthBlocked: () => device.pin?.pinAuthBlocked ?? false,

    setPin: (pin) =>
      serialize(async () => {
        if (!profile.pin) throw new EmulatorError('EMU_ERR_UNSUPPORTED', `profile ${profile.name} has no clientPin`);
        const st = s();
        if (pin === undefined) {
          const { pin: _removed, ...kept } = st;
          await commit({ ...kept, pinRetries: maxPinRetries(profile), forcePinChange: false });
        } else {
          // CTAP 2.1 §6.5.5.5: the rules of setPIN (at least minPINLength code points, at most 63 bytes).
          let checked: NewPin;
          try {
            checked = checkPinPolicy(utf8(pin), st.minPinLength);
          } catch (e) {
            if (isCtapError(e)) throw invalid(`pin: ${e.message}`);
            throw e;
          }
          const { bytes, codePoints } = checked;
          await commit({ ...st, pin: { hash: pinHash(env.crypto, bytes), codePoints }, pinRetries: maxPinRetries(profile), forcePinChange: false });
        }
        device.pin = undefined; // a new PIN: tokens and mismatch counts start over
      }),

    setPinRetries: (n) =>
      serialize(async () => {
        if (!profile.pin) throw new EmulatorError('EMU_ERR_UNSUPPORTED', `profile ${profile.name} has no clientPin`);
        checkCount(n, maxPinRetries(profile), 'pin retries');
        await commit({ ...s(), pinRetries: n });
      }),

    setUvRetries: (n) =>
      serialize(async () => {
        if (!profile.uv) throw new EmulatorError('EMU_ERR_UNSUPPORTED', `profile ${profile.name} has no built-in user verification`);
        checkCount(n, maxUvRetries(profile), 'uv retries');
        await commit({ ...s(), uvRetries: n });
      }),

    setForcePinChange: (on) =>
      serialize(async () => {
        if (!profile.pin) throw new EmulatorError('EMU_ERR_UNSUPPORTED', `profile ${profile.name} has no clientPin`);
        await commit({ ...s(), forcePinChange: on });
      }),

    setSuspended: (on) =>
      serialize(async () => {
        const { suspended: _old, ...kept } = s();
        await commit(on ? { ...kept, suspended: true } : kept);
      }),

    factoryReset: () => serialize(() => d.wipe()),

    attestationKey: () => s().attestation.privateKey,
  };
  return Object.freeze(control);
}
