/**
 * Built-in user verification: CTAP 2.1 performBuiltInUv(internalRetry), over the UserVerification port
 * (the simulated fingerprint / face sensor).
 *
 * uvRetries is the one persistent counter shared by every modality (CTAP 2.1 defines a single counter;
 * FAULT_MODEL S3). Every mismatch decrements it and the decrement is saved before anything else happens
 * (write-ahead, CHECKLIST G12: a power loss right after a failed match still costs the attempt). Reaching 0
 * blocks built-in UV until a success elsewhere restores it (PIN entry, reset). A success restores the maximum
 * and counts in uvCountSinceLastPinEntry (CTAP 2.2).
 *
 * Decision on internalRetry (CTAP 2.1 §6.5.5.7.2 step 6, CHECKLIST B5.10 / G4, FAULT_MODEL S2c): the spec
 * lets the authenticator re-prompt internally when internalRetry is true, without fixing how often.
 * - internalRetry = false (the platform retries; preferredPlatformUvAttempts > 1): exactly one attempt.
 * - internalRetry = true (legacy uv=true MC/GA, or a platform that will not retry): up to
 *   MAX_INTERNAL_UV_ATTEMPTS attempts in this one operation while uvRetries lasts, as real bio keys
 *   re-sample a few times before answering; each failed match costs one uvRetry.
 * - A timeout (no finger / face presented) or a sensor error ends the operation at once and costs no retry:
 *   nothing was compared.
 * - With several modalities enrolled (FAULT_MODEL S4 "try the other biometric method"), internal retries
 *   alternate between them in profile order: fingerprint, then face, then fingerprint…; the first attempt of
 *   an operation always uses the first modality that has templates.
 */
import { equal } from '../../bytes.ts';
import { KeepaliveStatus } from '../../constants/commands.ts';
import { cancelled, isCtapError } from '../../errors.ts';
import type { HandlerContext } from '../context.ts';
import type { UvModality, UvOutcome } from '../env.ts';
import type { Profile } from '../profile.ts';
import type { PersistentState } from '../state.ts';
import { templatesOf } from '../templates.ts';

/** How many samples one operation with internalRetry = true may take (vendor choice; see above). */
export const MAX_INTERNAL_UV_ATTEMPTS = 3;

export type BuiltInUvResult =
  /** UV done; counts as user presence too (a finger on the sensor / a face in front of it). */
  | { ok: true; templateId: Uint8Array; modality: UvModality }
  | { ok: false; reason: 'mismatch' | 'blocked' | 'timeout' | 'sensor-error' | 'not-configured' };

/** The profile's modalities that have at least one enrolled template, in profile order. */
function enrolledModalities(profile: Profile, state: PersistentState): UvModality[] {
  return (profile.uv?.modalities ?? []).filter((m) => templatesOf(state, m).length > 0);
}

/**
 * Built-in UV usable now: the profile has uv and at least one template of a profile modality is enrolled
 * (getInfo `uv` option value; CTAP 2.1 §6.4). Takes only profile and state so getInfo can ask too.
 */
export function builtInUvConfigured(h: { profile: Profile; device: { persistent: PersistentState } }): boolean {
  return enrolledModalities(h.profile, h.device.persistent).length > 0;
}

async function attempt(h: HandlerContext, o: { command: string; rpId?: string }, modality: UvModality): Promise<UvOutcome> {
  const sensor = h.env.verification!;
  const { signal } = h.request;
  const templates = templatesOf(h.device.persistent, modality).map((t) =>
    t.friendlyName === undefined ? { id: t.id } : { id: t.id, name: t.friendlyName },
  );
  let outcome: UvOutcome;
  try {
    outcome = await sensor.verify({ command: o.command, modality, templates, ...(o.rpId !== undefined ? { rpId: o.rpId } : {}), signal });
  } catch (e) {
    if (signal.aborted) throw cancelled();
    if (isCtapError(e)) throw e;
    throw new Error(`user verification port failed during ${o.command}`, { cause: e });
  }
  // CTAP 2.1 §11.2.9.1.5: a cancelled request replies CTAP2_ERR_KEEPALIVE_CANCEL, whatever the sensor said.
  if (signal.aborted) throw cancelled();
  if (outcome.result === 'match' && !templates.some((t) => equal(t.id, outcome.templateId))) {
    throw new Error(`user verification port matched a template that is not an enrolled ${modality} template`);
  }
  return outcome;
}

/**
 * CTAP 2.1 performBuiltInUv(internalRetry). Callers map the reasons to their command's status codes
 * (e.g. clientPIN 0x06: timeout → USER_ACTION_TIMEOUT, blocked → UV_BLOCKED, otherwise UV_INVALID).
 * Sets UPNEEDED keepalive while waiting for the user; a cancel throws CtapError(KEEPALIVE_CANCEL).
 */
export async function performBuiltInUv(
  h: HandlerContext,
  o: { command: string; rpId?: string; internalRetry: boolean },
): Promise<BuiltInUvResult> {
  const uv = h.profile.uv;
  const modalities = enrolledModalities(h.profile, h.device.persistent);
  // No sensor attached (an Env without `verification`) is "not configured" too.
  if (!uv || !h.env.verification || modalities.length === 0) return { ok: false, reason: 'not-configured' };
  // CTAP 2.1 §6.5.5.7.2 step 7 / performBuiltInUv: no attempt at all once uvRetries is 0.
  if (h.device.persistent.uvRetries === 0) return { ok: false, reason: 'blocked' };
  if (h.request.signal.aborted) throw cancelled();

  const tries = o.internalRetry ? MAX_INTERNAL_UV_ATTEMPTS : 1;
  h.request.keepalive(KeepaliveStatus.UPNEEDED);
  try {
    for (let i = 0; i < tries; i++) {
      const modality = modalities[i % modalities.length]!;
      const outcome = await attempt(h, o, modality);
      switch (outcome.result) {
        case 'match': {
          // Success: uvRetries back to the maximum (CHECKLIST G4), one more UV since the last PIN entry.
          const s = h.device.persistent;
          await h.device.commit({ ...s, uvRetries: uv.maxUvRetries, uvCountSinceLastPinEntry: s.uvCountSinceLastPinEntry + 1 });
          return { ok: true, templateId: outcome.templateId.slice(), modality };
        }
        case 'mismatch': {
          // CHECKLIST G4 / G12: each failed match decrements uvRetries, persisted before we go on or report.
          const s = h.device.persistent;
          const left = Math.max(0, s.uvRetries - 1);
          await h.device.commit({ ...s, uvRetries: left });
          if (left === 0) return { ok: false, reason: 'blocked' };
          break;
        }
        case 'no-sample':
          return { ok: false, reason: 'timeout' };
        case 'sensor-error':
          return { ok: false, reason: 'sensor-error' };
      }
    }
    return { ok: false, reason: 'mismatch' };
  } finally {
    h.request.keepalive(KeepaliveStatus.PROCESSING);
  }
}
