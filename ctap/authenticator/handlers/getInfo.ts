/** authenticatorGetInfo (0x04), CTAP 2.1 §6.4: generated from the profile and the current state. */
import type { GetInfoResponse } from '../../messages/getInfo.ts';
import type { Profile } from '../profile.ts';
import type { PersistentState } from '../state.ts';

/**
 * Only what this code implements is advertised (CHECKLIST B4.3): no clientPin / pinUvAuthToken / uv options
 * and no pinUvAuthProtocols (no PIN support yet), no extensions unless the profile lists implemented ones.
 */
export function buildInfo(profile: Profile, state: PersistentState): GetInfoResponse {
  const stored = state.residentCredentials.length;
  return {
    versions: [...profile.versions],
    extensions: [...profile.extensions],
    aaguid: profile.aaguid.slice(),
    options: { rk: profile.options.rk, up: profile.options.up, plat: profile.options.plat },
    maxMsgSize: profile.maxMsgSize,
    maxCredentialCountInList: profile.maxCredentialCountInList,
    maxCredentialIdLength: profile.maxCredentialIdLength,
    transports: [...profile.transports],
    algorithms: profile.algorithms.map((alg) => ({ alg, type: 'public-key' as const })),
    firmwareVersion: profile.firmwareVersion,
    // CTAP 2.1 §6.4: estimated number of additional discoverable credentials that can be stored.
    remainingDiscoverableCredentials: profile.options.rk ? Math.max(0, profile.residentCredentialCapacity - stored) : 0,
  };
}

/** getInfo answers at once: no user presence, no keepalive (CHECKLIST B0.7). */
export async function getInfo(h: { profile: Profile; device: { persistent: PersistentState } }): Promise<GetInfoResponse> {
  return buildInfo(h.profile, h.device.persistent);
}
