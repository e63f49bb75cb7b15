/**
 * Locating this device's credentials: the one look-up by credential ID (allowList, excludeList, U2F key
 * handles, re-signing), discoverable look-up, rpIdHash.
 */
import { equal, utf8 } from '../../bytes.ts';
import { PUBLIC_KEY, type CredentialDescriptor } from '../../messages/entities.ts';
import type { HandlerContext } from '../context.ts';
import { unwrapCredentialId } from '../credentialId.ts';
import type { AssertionCandidate } from '../deviceState.ts';
import type { Crypto } from '../env.ts';
import type { Profile } from '../profile.ts';
import type { PersistentState, ResidentCredential, ServerSideCredential } from '../state.ts';

export function rpIdHashOf(h: HandlerContext, rpId: string): Uint8Array {
  return h.env.crypto.sha256(utf8(rpId));
}

/** The active discoverable credential stored under exactly this ID, whatever its RP (credMgmt names credentials by ID alone). */
export function residentById(s: PersistentState, id: Uint8Array): ResidentCredential | undefined {
  return s.residentCredentials.find((c) => equal(c.credentialId, id));
}

/** The active server-side (injected non-discoverable) credential stored under exactly this ID. */
function serverSideById(s: PersistentState, id: Uint8Array): ServerSideCredential | undefined {
  return s.serverSideCredentials?.find((c) => c.status === undefined && equal(c.credentialId, id));
}

/**
 * THE look-up of a credential by ID for an RP (allowList, excludeList, U2F key handles, re-signing a tampered
 * response). Two ways a device can know an ID:
 *  1. a stored record with exactly these bytes: a discoverable credential, or a server-side one the control API
 *     injected with a chosen ID. It counts only for its own RP (SHA-256 of the record's rpId = rpIdHash).
 *  2. otherwise, an ID this device wrapped (credentialId.ts): it must open under the current master key with
 *     this rpIdHash (so foreign IDs, IDs for another RP and IDs from before a reset all fail). A wrapped
 *     non-discoverable ID carries its key; a wrapped discoverable one is valid only while its record is stored,
 *     and step 1 would have found that record, so reaching here means it was deleted or overwritten
 *     (CHECKLIST B1.17).
 * IDs are unique across both lists (the control API refuses a duplicate), so the first exact match decides.
 */
export function credentialById(
  crypto: Crypto,
  s: PersistentState,
  rpIdHash: Uint8Array,
  id: Uint8Array,
): AssertionCandidate | undefined {
  const resident = residentById(s, id);
  if (resident) return boundTo(crypto, resident.rpId, rpIdHash) ? residentCandidate(resident) : undefined;
  const injected = serverSideById(s, id);
  if (injected) {
    if (!boundTo(crypto, injected.rpId, rpIdHash)) return undefined;
    // Not discoverable: no `resident`, so the counter lives in the counters map and the response names no user.
    return { credentialId: injected.credentialId, alg: injected.alg, privateKey: injected.privateKey, credProtect: 0 };
  }
  const key = unwrapCredentialId(crypto, s.masterKey, rpIdHash, id);
  if (!key || key.resident) return undefined;
  return { credentialId: id.slice(), alg: key.alg, privateKey: key.privateKey, credProtect: key.credProtect };
}

function boundTo(crypto: Crypto, rpId: string, rpIdHash: Uint8Array): boolean {
  return equal(crypto.sha256(utf8(rpId)), rpIdHash);
}

/**
 * The credential a descriptor denotes (credentialById), if this device knows it for this RP. Descriptors of a
 * type other than "public-key" never match.
 */
export function locateCredential(h: HandlerContext, rpIdHash: Uint8Array, d: CredentialDescriptor): AssertionCandidate | undefined {
  if (d.type !== PUBLIC_KEY) return undefined;
  return credentialById(h.env.crypto, h.device.persistent, rpIdHash, d.id);
}

/** A stored discoverable credential as an assertion candidate. */
export function residentCandidate(c: ResidentCredential): AssertionCandidate {
  return { credentialId: c.credentialId, alg: c.alg, privateKey: c.privateKey, credProtect: c.credProtect ?? 0, resident: c };
}

/**
 * CTAP 2.1 §6.1.2 step 17, where a new discoverable credential for (rpId, userId) goes: the one stored for the same
 * (rp.id, user.id), if any, is overwritten (`replaced`), the others stay (`kept`); `full` when those already fill the
 * profile's residentCredentialCapacity (makeCredential answers CTAP2_ERR_KEY_STORE_FULL). The control API's
 * injection follows the same rule.
 */
export function residentSlot(
  profile: Profile,
  s: PersistentState,
  rpId: string,
  userId: Uint8Array,
): { replaced: ResidentCredential[]; kept: ResidentCredential[]; full: boolean } {
  const replaced: ResidentCredential[] = [];
  const kept: ResidentCredential[] = [];
  for (const c of s.residentCredentials) (c.rpId === rpId && equal(c.user.id, userId) ? replaced : kept).push(c);
  return { replaced, kept, full: kept.length >= profile.residentCredentialCapacity };
}

/** CTAP 2.1 §6.2.2 step 7 / 12: discoverable credentials of the RP, ordered by creation time, newest first. */
export function discoverableCredentials(h: HandlerContext, rpId: string): AssertionCandidate[] {
  return h.device.persistent.residentCredentials
    .filter((c) => c.rpId === rpId)
    .sort((a, b) => b.seq - a.seq)
    .map(residentCandidate);
}
