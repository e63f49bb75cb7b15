/**
 * One assertion for one credential (shared by getAssertion and getNextAssertion): bump and persist the
 * credential's signature counter, build authData (with the request's extension outputs for this credential),
 * sign authData || clientDataHash.
 */
import { concat, equal, toHex } from '../../bytes.ts';
import { assertionExtensionOutputs, type AssertionExtensions } from '../../extensions/getAssertion.ts';
import type { UserEntity } from '../../messages/entities.ts';
import type { GetAssertionResponse } from '../../messages/getAssertion.ts';
import { buildAuthData } from '../../webauthn/authData.ts';
import { AuthDataFlag } from '../../webauthn/flags.ts';
import type { HandlerContext } from '../context.ts';
import type { AssertionCandidate } from '../deviceState.ts';
import type { Crypto } from '../env.ts';
import type { PersistentState } from '../state.ts';

const MAX_COUNTER = 0xffffffff;

/** Key of a non-resident credential's counter: hex(SHA-256(credential ID)). Also the control API's (controlCredentials.ts). */
export function counterKey(crypto: Pick<Crypto, 'sha256'>, credentialId: Uint8Array): string {
  return toHex(crypto.sha256(credentialId));
}

/**
 * WebAuthn L3 §6.1.1: per-credential counters, incremented by a positive amount on every assertion and never
 * decreasing (it sticks at 2^32-1). Resident: in the record; non-resident: in the persistent counter map.
 * Returns the new state and the new counter value.
 */
export function incrementCounter(h: HandlerContext, c: AssertionCandidate): { next: PersistentState; signCount: number } {
  const s = h.device.persistent;
  if (c.resident) {
    let signCount = 0;
    const residentCredentials = s.residentCredentials.map((r) => {
      if (!equal(r.credentialId, c.credentialId)) return r;
      signCount = Math.min(r.signCount + 1, MAX_COUNTER);
      return { ...r, signCount };
    });
    return { next: { ...s, residentCredentials }, signCount };
  }
  const key = counterKey(h.env.crypto, c.credentialId);
  const signCount = Math.min((s.counters.get(key) ?? 0) + 1, MAX_COUNTER);
  const counters = new Map(s.counters);
  counters.set(key, signCount);
  return { next: { ...s, counters }, signCount };
}

export interface AssertionInput {
  rpIdHash: Uint8Array;
  clientDataHash: Uint8Array;
  userPresent: boolean;
  /** User verification was performed (pinUvAuthToken or built-in UV). */
  userVerified: boolean;
  credential: AssertionCandidate;
  /** The request's extensions (CTAP 2.1 §6.2.2 step 10), if any. */
  extensions?: AssertionExtensions;
}

export async function signAssertion(h: HandlerContext, a: AssertionInput): Promise<GetAssertionResponse> {
  // CTAP 2.1 §6.2.2 step 10: extension outputs for this credential, with the response's UV bit.
  const ext = assertionExtensionOutputs(h, a.extensions, a.credential, a.userVerified);
  // CTAP 2.1 §6.2.2 step 14 (CHECKLIST B2.14): increment the signature counter before building authData;
  // it is persisted first, so a signature is never issued for a counter value the store does not hold.
  const { next, signCount } = incrementCounter(h, a.credential);
  await h.device.commit(next);
  const authData = buildAuthData({
    rpIdHash: a.rpIdHash,
    // CTAP 2.1 §6.2.2 step 9: "up": false → silent assertion, UP bit 0. UV bit iff user verification was done.
    flags: (a.userPresent ? AuthDataFlag.UP : 0) | (a.userVerified ? AuthDataFlag.UV : 0),
    signCount,
    ...(ext.authData ? { extensions: ext.authData } : {}),
  });
  // CTAP 2.1 §6.2.2 step 13 / WebAuthn L3 §6.3.3: sign authenticatorData || clientDataHash.
  const signature = h.env.crypto.sign(a.credential.alg, a.credential.privateKey, concat(authData, a.clientDataHash));
  const res: GetAssertionResponse = {
    credential: { type: 'public-key', id: a.credential.credentialId },
    authData,
    signature,
  };
  const user = responseUser(a.credential, a.userVerified);
  if (user) res.user = user;
  if (ext.largeBlobKey) res.largeBlobKey = ext.largeBlobKey;
  return res;
}

/**
 * CTAP 2.1 §6.2 (user member): required for discoverable credentials (a non-resident credential has no stored
 * user); "User identifiable information (name, DisplayName, icon) MUST NOT be returned if user verification is
 * not done by the authenticator" — so name and displayName only with UV.
 */
function responseUser(c: AssertionCandidate, userVerified: boolean): UserEntity | undefined {
  if (!c.resident) return undefined;
  const { id, name, displayName } = c.resident.user;
  const user: UserEntity = { id };
  if (userVerified && name !== undefined) user.name = name;
  if (userVerified && displayName !== undefined) user.displayName = displayName;
  return user;
}
