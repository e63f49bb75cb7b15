/**
 * DeviceState: the persistent state (loaded from / saved to the Store) plus the volatile state that a power
 * cycle drops: the stateful command (getNextAssertion, credMgmt enumeration), the PIN/UV session, a fingerprint
 * enrollment or large-blob write in progress, and the time of power-up (reset window).
 */
import { CtapStatus } from '../constants/status.ts';
import { CtapError, EmulatorError } from '../errors.ts';
import type { AssertionExtensions } from '../extensions/getAssertion.ts';
import type { PinSession } from '../pin/session.ts';
import type { U2fPresence } from '../u2f/presence.ts';
import { STORE_FULL, type CoseAlg, type Env } from './env.ts';
import { decodeState, encodeState, type PersistentState, type ResidentCredential } from './state.ts';

/** A credential located for an assertion. */
export interface AssertionCandidate {
  credentialId: Uint8Array;
  alg: CoseAlg;
  privateKey: Uint8Array;
  /** CTAP 2.1 §12.1 credProtect level from the record / the wrapped ID; 0 = none set (userVerificationOptional). */
  credProtect: number;
  /** The stored record when the credential is discoverable. */
  resident?: ResidentCredential;
}

/**
 * CTAP 2.1 §6.3 (authenticatorGetNextAssertion): the remembered getAssertion, bound to the channel it came in
 * on. `next` is the spec's credentialCounter; `lastAt` restarts the 30 s timer on every GA/GNA.
 */
export interface GetAssertionState {
  kind: 'getAssertion';
  channel: number;
  rpIdHash: Uint8Array;
  clientDataHash: Uint8Array;
  userPresent: boolean;
  /** UV was performed for the getAssertion (UV bit, user name / displayName in every response). */
  userVerified: boolean;
  credentials: AssertionCandidate[];
  /** The request's extensions, answered for every further credential too (CTAP 2.1 §6.3). */
  extensions?: AssertionExtensions;
  next: number;
  lastAt: number;
}

/**
 * CTAP 2.1 §6.8.3 / §6.8.4 (authenticatorCredentialManagement): an RP or credential enumeration in progress,
 * continued by enumerateRPsGetNextRP / enumerateCredentialsGetNextCredential on the same channel. `items` are
 * what is still to be returned: RP IDs, or credential IDs of the enumerated RP; `lastAt` restarts the 30 s timer.
 */
export interface CredentialManagementState {
  kind: 'credentialManagement';
  channel: number;
  enumeration: 'rps' | 'credentials';
  items: (string | Uint8Array)[];
  lastAt: number;
}

/** Stateful commands (OpenSK's StatefulCommand). */
export type StatefulCommand = GetAssertionState | CredentialManagementState;

/**
 * CTAP 2.1 §6.10.2 (authenticatorLargeBlobs set): the serialized large-blob array being written, between the
 * fragment at offset 0 and the one that completes `expectedLength`. Its length is the spec's expectedNextOffset.
 */
export interface LargeBlobWrite {
  expectedLength: number;
  fragments: Uint8Array[];
  received: number;
}

/**
 * CTAP 2.1 §6.7 (authenticatorBioEnrollment): the fingerprint enrollment in progress, between enrollBegin and
 * the sample that completes it (or cancelCurrentEnrollment / the next enrollBegin). Volatile: a power cycle
 * abandons it, as on a real key.
 */
export interface EnrollmentInProgress {
  templateId: Uint8Array;
  /** Good samples still needed. */
  remainingSamples: number;
}

export class DeviceState {
  #persistent: PersistentState | undefined;
  /** scheduler.now() at the last power-up (creation or powerCycle). */
  powerUpAt = 0;
  stateful: StatefulCommand | undefined;
  /** Volatile PIN/UV state (key-agreement keys, pinUvAuthToken, consecutive mismatches); see ctap/pin/session.ts. */
  pin: PinSession | undefined;
  /** Fingerprint enrollment in progress (authenticatorBioEnrollment), if any. */
  enrollment: EnrollmentInProgress | undefined;
  /** CTAP1/U2F user presence: the latched touch and the background request (created on first use). */
  u2fPresence: U2fPresence | undefined;
  /** Large-blob array write in progress (authenticatorLargeBlobs), if any. */
  largeBlobWrite: LargeBlobWrite | undefined;

  constructor(
    private readonly env: Env,
    private readonly initialize: () => PersistentState,
  ) {}

  get persistent(): PersistentState {
    if (!this.#persistent) throw new Error('DeviceState used before powerUp()');
    return this.#persistent;
  }

  /**
   * Power-up: drop volatile state, then load the persistent state (initialise and save it on a fresh store).
   * Volatile state goes first: it is lost with the power, so a power cycle whose load fails has still dropped
   * the pinUvAuthToken, the mismatch count, the stateful command and a latched U2F touch.
   */
  async powerUp(): Promise<void> {
    this.dropVolatile();
    this.powerUpAt = this.env.scheduler.now();
    const stored = await this.env.store.load();
    let state: PersistentState;
    if (stored === undefined) {
      state = this.initialize();
      await this.env.store.save(encodeState(state));
    } else {
      state = decodeState(stored);
    }
    this.#persistent = state;
  }

  /**
   * Forget all volatile state (DESIGN.md "Volatile state") but the time of power-up: the stateful command, the
   * PIN/UV session (key-agreement keys, pinUvAuthToken, consecutive mismatches), a fingerprint enrollment or a
   * large-blob write in progress, the latched U2F touch. A power cycle and authenticatorReset both do this.
   */
  dropVolatile(): void {
    this.endStatefulCommand();
    this.pin = undefined;
    this.enrollment = undefined;
    this.largeBlobWrite = undefined;
    this.u2fPresence?.dispose();
    this.u2fPresence = undefined;
  }

  /**
   * CTAP 2.1 §6.3 / CHECKLIST B0.6: a stateful command (getNextAssertion, a credMgmt enumeration) survives only a
   * command that continues it on its own channel (`continuing`); anything else ends it: another CTAP2 command or
   * subcommand, a command on another channel, a U2F message, a reset, a harness change to the credentials.
   */
  endStatefulCommand(continuing?: { kind: StatefulCommand['kind']; channel: number }): void {
    const st = this.stateful;
    if (st && !(continuing && continuing.kind === st.kind && continuing.channel === st.channel)) this.stateful = undefined;
  }

  /**
   * Save `next`, then adopt it: if the save fails, memory keeps the old state, like the flash does.
   * A store with no room left (Store.save rejects with EmulatorError EMU_ERR_STORE_FULL) is
   * CTAP2_ERR_KEY_STORE_FULL (CTAP 2.1 §8.2: "No storage space left"), whatever the command.
   */
  async commit(next: PersistentState): Promise<void> {
    try {
      await this.env.store.save(encodeState(next));
    } catch (e) {
      if (e instanceof EmulatorError && e.code === STORE_FULL) {
        throw new CtapError(CtapStatus.CTAP2_ERR_KEY_STORE_FULL, 'the store has no room left', { cause: e });
      }
      throw e;
    }
    this.#persistent = next;
  }
}
