/**
 * DeviceState: the persistent state (loaded from / saved to the Store) plus the volatile state that a power
 * cycle drops: the stateful command (getNextAssertion continuation), the PIN/UV session and the time of
 * power-up (reset window).
 */
import type { PinSession } from '../pin/session.ts';
import type { CoseAlg, Env } from './env.ts';
import { decodeState, encodeState, type PersistentState, type ResidentCredential } from './state.ts';

/** A credential located for an assertion. */
export interface AssertionCandidate {
  credentialId: Uint8Array;
  alg: CoseAlg;
  privateKey: Uint8Array;
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
  next: number;
  lastAt: number;
}

/** Stateful commands (OpenSK's StatefulCommand); credMgmt enumeration joins here later. */
export type StatefulCommand = GetAssertionState;

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

  constructor(
    private readonly env: Env,
    private readonly initialize: () => PersistentState,
  ) {}

  get persistent(): PersistentState {
    if (!this.#persistent) throw new Error('DeviceState used before powerUp()');
    return this.#persistent;
  }

  /** Power-up: load the persistent state (initialise and save it on a fresh store), drop volatile state. */
  async powerUp(): Promise<void> {
    const stored = await this.env.store.load();
    let state: PersistentState;
    if (stored === undefined) {
      state = this.initialize();
      await this.env.store.save(encodeState(state));
    } else {
      state = decodeState(stored);
    }
    this.#persistent = state;
    this.stateful = undefined;
    this.enrollment = undefined;
    this.pin = undefined;
    this.powerUpAt = this.env.scheduler.now();
  }

  /** Save `next`, then adopt it: if the save fails, memory keeps the old state, like the flash does. */
  async commit(next: PersistentState): Promise<void> {
    await this.env.store.save(encodeState(next));
    this.#persistent = next;
  }
}
