/** Locating this device's credentials: unwrapping credential IDs, discoverable look-up, rpIdHash. */
import { equal, utf8 } from '../../bytes.ts';
import { PUBLIC_KEY, type CredentialDescriptor } from '../../messages/entities.ts';
import type { HandlerContext } from '../context.ts';
import { unwrapCredentialId } from '../credentialId.ts';
import type { AssertionCandidate } from '../deviceState.ts';
import type { ResidentCredential } from '../state.ts';

export function rpIdHashOf(h: HandlerContext, rpId: string): Uint8Array {
  return h.env.crypto.sha256(utf8(rpId));
}

export function findResident(h: HandlerContext, rpId: string, credentialId: Uint8Array): ResidentCredential | undefined {
  return h.device.persistent.residentCredentials.find((c) => c.rpId === rpId && equal(c.credentialId, credentialId));
}

/**
 * The credential a descriptor denotes, if this device created it for this RP and it still exists:
 * the ID must open under the current master key with this rpIdHash (so foreign IDs, IDs for another RP and
 * IDs from before a reset all fail), and a discoverable credential must still be stored (an overwritten or
 * deleted one is gone, CHECKLIST B1.17). Descriptors of a type other than "public-key" never match.
 */
export function locateCredential(
  h: HandlerContext,
  rpId: string,
  rpIdHash: Uint8Array,
  d: CredentialDescriptor,
): AssertionCandidate | undefined {
  if (d.type !== PUBLIC_KEY) return undefined;
  const key = unwrapCredentialId(h.env.crypto, h.device.persistent.masterKey, rpIdHash, d.id);
  if (!key) return undefined;
  if (!key.resident) return { credentialId: d.id, alg: key.alg, privateKey: key.privateKey, credProtect: key.credProtect };
  const resident = findResident(h, rpId, d.id);
  if (!resident) return undefined;
  return residentCandidate(resident);
}

/** A stored discoverable credential as an assertion candidate. */
export function residentCandidate(c: ResidentCredential): AssertionCandidate {
  return { credentialId: c.credentialId, alg: c.alg, privateKey: c.privateKey, credProtect: c.credProtect ?? 0, resident: c };
}

/** CTAP 2.1 §6.2.2 step 7 / 12: discoverable credentials of the RP, ordered by creation time, newest first. */
export function discoverableCredentials(h: HandlerContext, rpId: string): AssertionCandidate[] {
  return h.device.persistent.residentCredentials
    .filter((c) => c.rpId === rpId)
    .sort((a, b) => b.seq - a.seq)
    .map(residentCandidate);
}
