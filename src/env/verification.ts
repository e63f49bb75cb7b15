/**
 * UserVerification port implementation: a simulated biometric sensor (fingerprint and/or face).
 *
 * Every attempt is decided by the modality's behaviour, so "my fingerprint is not recognised" becomes a
 * precise, reproducible script:
 * - a fixed policy (`{ policy: 'mismatch' }`: every attempt fails),
 * - a per-attempt script, then a fallback (`{ script: ['mismatch', 'mismatch'], then: 'match' }`),
 * - a false-rejection probability drawn from the injected (seeded) Rng (`{ falseRejectionRate: 0.2 }`).
 * A match returns the first enrolled template of that modality, or the one a script step names by its
 * friendly name (`{ match: 'Right thumb' }`; a name that is not enrolled is a finger the device does not
 * know: a mismatch). Enrollment samples (authenticatorBioEnrollment) are scripted the same way.
 *
 * Time goes through the Scheduler (optional per-attempt delay); every request honours its AbortSignal
 * (CTAPHID_CANCEL) by rejecting with CtapError(CTAP2_ERR_KEEPALIVE_CANCEL), and a cancelled attempt
 * consumes no script step. Each answered attempt is appended to a history for tests and the control API.
 */
import { cancelled } from '../../ctap/errors.ts';
import {
  EnrollSampleStatus,
  type EnrollSampleRequest,
  type EnrollSampleResult,
  type Rng,
  type Scheduler,
  type UserVerification,
  type UvModality,
  type UvOutcome,
  type UvRequest,
} from '../../ctap/authenticator/env.ts';
import type { Profile } from '../../ctap/authenticator/profile.ts';
import { friendlyNameFits } from '../../ctap/authenticator/templates.ts';
import { readU32be } from '../../ctap/bytes.ts';
import { DELAY_RANGE, isDelayMs } from '../limits.ts';

/** What one verification attempt does. */
export type SensorOutcome = 'match' | 'mismatch' | 'no-sample' | 'sensor-error';
/** One scripted attempt: an outcome, or a match of the enrolled template with this friendly name. */
export type SensorStep = SensorOutcome | { match: string };

export type SensorBehaviour =
  /** Every attempt has this outcome. */
  | { policy: SensorOutcome }
  /** These attempts in order, then `then` for every later one (default 'match'). */
  | { script: SensorStep[]; then?: SensorOutcome }
  /** Each attempt is a mismatch with this probability (0..1), drawn from the seeded Rng; otherwise a match. */
  | { falseRejectionRate: number };

/** One enrollment sample: a lastEnrollSampleStatus code (0x00 good, 0x01 too high, …) or no finger in time. */
export type EnrollSample = number | 'timeout';

export interface SensorOptions {
  /** Templates seeded at start if absent (face ones can only come this way). Used by startDevice. */
  templates?: { modality: UvModality; name?: string }[];
  /** Per modality: what each attempt returns. Default: every attempt matches. */
  fingerprint?: SensorBehaviour;
  face?: SensorBehaviour;
  /** Enrollment sample statuses in order (default: every sample good). */
  enrollSamples?: EnrollSample[];
  /** How long each attempt / sample takes before it is answered. Default 0 ms. */
  delayMs?: number;
}

/** One answered verification attempt. */
export interface SensorAttempt {
  modality: UvModality;
  outcome: SensorOutcome;
  /** The template that matched (outcome 'match' only). */
  templateId?: Uint8Array;
  /** The CTAP command that asked, e.g. 'clientPIN' or 'getAssertion'. */
  command: string;
  rpId?: string;
  /** scheduler.now() when the attempt was answered. */
  at: number;
}

/** One answered enrollment capture. */
export interface EnrollCapture {
  templateId: Uint8Array;
  sample: EnrollSample;
  at: number;
}

export interface SimulatedSensor extends UserVerification {
  /** Verification attempts answered so far, oldest first. */
  readonly attempts: readonly SensorAttempt[];
  /** Enrollment captures answered so far, oldest first. */
  readonly enrollCaptures: readonly EnrollCapture[];
  /** The next attempts of `modality` follow these steps, then fall back to its policy (the queue is replaced). */
  script(modality: UvModality, steps: SensorStep[]): void;
  /** Replace the modality's behaviour (and drop any scripted steps). A bare outcome is a fixed policy. */
  setPolicy(modality: UvModality, behaviour: SensorBehaviour | SensorOutcome): void;
  /** The next enrollment captures return these samples, then good ones (the queue is replaced). */
  scriptEnrollSamples(samples: EnrollSample[]): void;
  /** Change the per-attempt delay. */
  setDelay(ms: number): void;
  /** Forget the recorded history. */
  clearHistory(): void;
}

export interface CreateSensorOptions extends SensorOptions {
  scheduler: Scheduler;
  /** Draws for falseRejectionRate; pass a dedicated (forked) stream so seeded runs stay reproducible. */
  rng: Rng;
}

const OUTCOMES: readonly SensorOutcome[] = ['match', 'mismatch', 'no-sample', 'sensor-error'];

function checkOutcome(v: unknown, what: string): SensorOutcome {
  if (typeof v === 'string' && (OUTCOMES as readonly string[]).includes(v)) return v as SensorOutcome;
  throw new TypeError(`${what}: expected one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(v)}`);
}

function checkStep(v: unknown, what: string): SensorStep {
  if (typeof v === 'object' && v !== null && 'match' in v) {
    const name = (v as { match: unknown }).match;
    if (typeof name !== 'string') throw new TypeError(`${what}.match: expected a template name, got ${JSON.stringify(name)}`);
    return { match: name };
  }
  return checkOutcome(v, what);
}

function checkSteps(v: unknown, what: string): SensorStep[] {
  if (!Array.isArray(v)) throw new TypeError(`${what}: expected an array of steps`);
  return v.map((s, i) => checkStep(s, `${what}[${i}]`));
}

function checkModality(v: unknown): UvModality {
  if (v === 'fingerprint' || v === 'face') return v;
  throw new TypeError(`modality: expected 'fingerprint' or 'face', got ${JSON.stringify(v)}`);
}

function checkDelay(v: number): number {
  if (!isDelayMs(v)) throw new RangeError(`delayMs: expected a number of ms ${DELAY_RANGE}, got ${v}`);
  return v;
}

/** A template seeded at start (SensorOptions.templates). */
export interface TemplateSeed {
  modality: UvModality;
  name?: string;
}

/**
 * Validate `verification.templates` for a profile with built-in UV: an array of { modality, name? }, each
 * modality one of the profile's, each name a string of at most maxTemplateFriendlyName UTF-8 bytes (CTAP 2.1
 * §6.7; friendlyNameFits). TypeError naming the field otherwise: a name that is not a string would be stored
 * and make the state undecodable later.
 */
export function checkTemplateSeeds(v: unknown, profile: Profile): TemplateSeed[] {
  if (v === undefined) return [];
  const what = 'verification.templates';
  if (!Array.isArray(v)) throw new TypeError(`${what}: expected an array of { modality, name? }, got ${describeKind(v)}`);
  const modalities = profile.uv?.modalities ?? [];
  return v.map((t: unknown, i) => {
    const at = `${what}[${i}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new TypeError(`${at}: expected { modality, name? }, got ${describeKind(t)}`);
    const { modality, name, ...rest } = t as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new TypeError(`${at}.${extra}: unknown field (a template has modality and name)`);
    if (modality !== 'fingerprint' && modality !== 'face') {
      throw new TypeError(`${at}.modality: expected 'fingerprint' or 'face', got ${describeKind(modality)}`);
    }
    if (!modalities.includes(modality)) {
      throw new TypeError(`profile ${profile.name} has no ${modality} sensor (it has ${modalities.join(', ') || 'none'})`);
    }
    if (name === undefined) return { modality };
    if (typeof name !== 'string') throw new TypeError(`${at}.name: expected a string, got ${describeKind(name)}`);
    if (!friendlyNameFits(profile, name)) {
      const max = profile.uv?.fingerprint?.maxTemplateFriendlyName;
      throw new TypeError(`${at}.name: at most ${max} bytes of UTF-8 (maxTemplateFriendlyName), got ${Buffer.byteLength(name)}`);
    }
    return { modality, name };
  });
}

/** A value's kind for a message: short strings quoted, everything else by type. */
function describeKind(v: unknown): string {
  if (typeof v === 'string') return v.length <= 40 ? JSON.stringify(v) : `a string of ${v.length} characters`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function checkSamples(v: unknown): EnrollSample[] {
  if (!Array.isArray(v)) throw new TypeError('enrollSamples: expected an array');
  return v.map((s, i) => {
    if (s === 'timeout') return s;
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0 && s <= 0xff) return s;
    throw new TypeError(`enrollSamples[${i}]: expected a status byte (0..255) or 'timeout', got ${JSON.stringify(s)}`);
  });
}

/** The part of a behaviour that answers once the script is used up. */
type Fallback = { policy: SensorOutcome } | { falseRejectionRate: number };

interface ModalityState {
  queue: SensorStep[];
  fallback: Fallback;
}

function stateOf(b: SensorBehaviour | SensorOutcome | undefined, what: string): ModalityState {
  if (b === undefined) return { queue: [], fallback: { policy: 'match' } };
  if (typeof b === 'string') return { queue: [], fallback: { policy: checkOutcome(b, what) } };
  if (typeof b !== 'object' || b === null) throw new TypeError(`${what}: expected a sensor behaviour`);
  if ('policy' in b) return { queue: [], fallback: { policy: checkOutcome(b.policy, `${what}.policy`) } };
  if ('script' in b) {
    return {
      queue: checkSteps(b.script, `${what}.script`),
      fallback: { policy: b.then === undefined ? 'match' : checkOutcome(b.then, `${what}.then`) },
    };
  }
  if ('falseRejectionRate' in b) {
    const rate = b.falseRejectionRate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new RangeError(`${what}.falseRejectionRate: expected a probability between 0 and 1, got ${String(rate)}`);
    }
    return { queue: [], fallback: { falseRejectionRate: rate } };
  }
  throw new TypeError(`${what}: expected { policy }, { script, then? } or { falseRejectionRate }`);
}

export function createSensor(opts: CreateSensorOptions): SimulatedSensor {
  const { scheduler, rng } = opts;
  const modalities: Record<UvModality, ModalityState> = {
    fingerprint: stateOf(opts.fingerprint, 'fingerprint'),
    face: stateOf(opts.face, 'face'),
  };
  let enrollQueue = opts.enrollSamples === undefined ? [] : checkSamples(opts.enrollSamples);
  let delayMs = checkDelay(opts.delayMs ?? 0);
  const attempts: SensorAttempt[] = [];
  const enrollCaptures: EnrollCapture[] = [];

  /** Wait the configured delay; rejects with KEEPALIVE_CANCEL as soon as the signal aborts. */
  function wait(signal: AbortSignal): Promise<void> {
    // CTAP 2.1 §11.2.9.1.5: a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL.
    if (signal.aborted) return Promise.reject(cancelled());
    if (delayMs === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        cancelTimer();
        reject(cancelled());
      };
      const cancelTimer = scheduler.setTimer(delayMs, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  function nextStep(modality: UvModality): SensorStep {
    const st = modalities[modality];
    const scripted = st.queue.shift();
    if (scripted !== undefined) return scripted;
    if ('policy' in st.fallback) return st.fallback.policy;
    // A uniform draw in [0, 1) from 32 random bits.
    const draw = readU32be(rng.randomBytes(4)) / 2 ** 32;
    return draw < st.fallback.falseRejectionRate ? 'mismatch' : 'match';
  }

  async function verify(req: UvRequest): Promise<UvOutcome> {
    await wait(req.signal);
    const step = nextStep(req.modality);
    let matched: Uint8Array | undefined;
    let outcome: SensorOutcome;
    if (typeof step === 'object') {
      // A named finger / face that is not enrolled is simply not recognised.
      matched = req.templates.find((t) => t.name === step.match)?.id;
      outcome = matched ? 'match' : 'mismatch';
    } else if (step === 'match') {
      matched = req.templates[0]?.id;
      outcome = matched ? 'match' : 'mismatch';
    } else {
      outcome = step;
    }
    const attempt: SensorAttempt = { modality: req.modality, outcome, command: req.command, at: scheduler.now() };
    if (matched) attempt.templateId = matched.slice();
    if (req.rpId !== undefined) attempt.rpId = req.rpId;
    attempts.push(attempt);
    if (outcome === 'match') return { result: 'match', templateId: matched!.slice() };
    return { result: outcome };
  }

  async function captureEnrollSample(req: EnrollSampleRequest): Promise<EnrollSampleResult> {
    await wait(req.signal);
    const sample = enrollQueue.shift() ?? EnrollSampleStatus.CTAP2_ENROLL_FEEDBACK_FP_GOOD;
    enrollCaptures.push({ templateId: req.templateId.slice(), sample, at: scheduler.now() });
    return sample === 'timeout' ? { result: 'timeout' } : { status: sample };
  }

  return {
    verify,
    captureEnrollSample,
    attempts,
    enrollCaptures,
    script(modality, steps) {
      modalities[checkModality(modality)].queue = checkSteps(steps, `script(${modality})`);
    },
    setPolicy(modality, behaviour) {
      modalities[checkModality(modality)] = stateOf(behaviour, `setPolicy(${modality})`);
    },
    scriptEnrollSamples(samples) {
      enrollQueue = checkSamples(samples);
    },
    setDelay(ms) {
      delayMs = checkDelay(ms);
    },
    clearHistory() {
      attempts.length = 0;
      enrollCaptures.length = 0;
    },
  };
}
