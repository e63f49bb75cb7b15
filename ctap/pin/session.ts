/**
 * The volatile PIN/UV state of a powered device (DESIGN.md "Volatile state"): one protocol object per supported
 * pinUvAuthProtocol (each with its key-agreement key), the pinUvAuthToken, and the count of consecutive PIN
 * mismatches since power-up. A power cycle (or authenticatorReset) drops it; the next PIN/UV operation builds
 * a fresh one, which is the spec's initialize() at power-on.
 */
import type { Env } from '../authenticator/env.ts';
import { isCtap21, type Profile } from '../authenticator/profile.ts';
import { createPinUvAuthProtocol, type PinProtocolVersion, type PinUvAuthProtocol } from './protocol.ts';
import { PinUvAuthToken } from './token.ts';

/** Default pinUvAuthToken limits (CTAP 2.1 §6.5.2.1: USB initial usage 30 s; max usage period ≤ 10 min). */
export const DEFAULT_TOKEN_INITIAL_USE_MS = 30_000;
export const DEFAULT_TOKEN_MAX_USAGE_MS = 600_000;

/** CTAP 2.1 §6.5.5.7: the 3rd consecutive mismatch in one power cycle → CTAP2_ERR_PIN_AUTH_BLOCKED. */
export const MAX_CONSECUTIVE_PIN_MISMATCHES = 3;

/** pinUvAuthProtocols a profile supports, most preferred first (none without clientPin and built-in UV). */
export function supportedProtocols(profile: Profile): PinProtocolVersion[] {
  if (profile.pin) return [...profile.pin.protocols];
  return profile.uv ? [2, 1] : [];
}

export class PinSession {
  readonly token: PinUvAuthToken;
  /** Consecutive PIN mismatches since power-up; a correct PIN resets it. */
  consecutiveMismatches = 0;
  readonly #protocols = new Map<PinProtocolVersion, PinUvAuthProtocol>();

  constructor(env: Env, profile: Profile) {
    for (const v of supportedProtocols(profile)) this.#protocols.set(v, createPinUvAuthProtocol(v, env));
    // CTAP 2.0 §5.5: the pinToken is generated at power-up and stays valid until the next power cycle or PIN
    // change; the usage time limits are CTAP 2.1's (§6.5.2.1).
    this.token = new PinUvAuthToken(
      env,
      isCtap21(profile)
        ? {
            initialUseMs: profile.pin?.tokenInitialUseMs ?? DEFAULT_TOKEN_INITIAL_USE_MS,
            maxUsageMs: profile.pin?.tokenMaxUsageMs ?? DEFAULT_TOKEN_MAX_USAGE_MS,
          }
        : { initialUseMs: Number.POSITIVE_INFINITY, maxUsageMs: Number.POSITIVE_INFINITY },
    );
  }

  /** The protocol object for a supported version; undefined when the profile does not support it. */
  protocol(version: number): PinUvAuthProtocol | undefined {
    return this.#protocols.get(version as PinProtocolVersion);
  }

  /** True after 3 consecutive mismatches in this power cycle (getPINRetries powerCycleState). */
  get pinAuthBlocked(): boolean {
    return this.consecutiveMismatches >= MAX_CONSECUTIVE_PIN_MISMATCHES;
  }
}

/** The device's PIN session, created on first use after power-up. */
export function pinSession(h: { env: Env; profile: Profile; device: { pin: PinSession | undefined } }): PinSession {
  h.device.pin ??= new PinSession(h.env, h.profile);
  return h.device.pin;
}
