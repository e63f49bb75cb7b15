/**
 * authenticatorCredentialManagement enumeration (CTAP 2.1 §6.8.3 enumerateRPsBegin / enumerateRPsGetNextRP,
 * §6.8.4 enumerateCredentialsBegin / enumerateCredentialsGetNextCredential): the Begin subcommand answers the
 * first item and remembers the rest as the stateful command (deviceState.ts CredentialManagementState), which
 * the GetNext subcommand continues on the same channel within 30 s of the previous call.
 */
import { equal } from '../../bytes.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import type { CredentialManagementResponse, CredMgmtParams } from '../../messages/credentialManagement.ts';
import { missing } from '../../messages/fields.ts';
import { requireTokenScope } from '../../pin/authorize.ts';
import { coseKeyMap } from '../../webauthn/cose.ts';
import type { HandlerContext } from '../context.ts';
import type { CredentialManagementState } from '../deviceState.ts';
import type { ResidentCredential } from '../state.ts';
import { residentById, rpIdHashOf } from '../steps/credentials.ts';

/** CTAP 2.1 §6.8.3 / §6.8.4: the enumeration state is discarded 30 seconds after the last Begin / GetNext. */
export const CREDENTIAL_MANAGEMENT_TIMEOUT_MS = 30_000;

/** CTAP 2.1 §12.1: a credential made without credProtect has the policy userVerificationOptional (1). */
const USER_VERIFICATION_OPTIONAL = 1;

/** Discoverable credentials in creation order (oldest first). */
function residentsByAge(h: HandlerContext): ResidentCredential[] {
  return [...h.device.persistent.residentCredentials].sort((a, b) => a.seq - b.seq);
}

/** The rp entity of an RP ID: its name from the newest credential that recorded one. */
function rpEntity(h: HandlerContext, rpId: string): { id: string; name?: string } {
  const named = residentsByAge(h)
    .reverse()
    .find((c) => c.rpId === rpId && c.rpName !== undefined);
  return named?.rpName !== undefined ? { id: rpId, name: named.rpName } : { id: rpId };
}

function rpResponse(h: HandlerContext, rpId: string): CredentialManagementResponse {
  return { rp: rpEntity(h, rpId), rpIDHash: rpIdHashOf(h, rpId) };
}

function credentialResponse(h: HandlerContext, c: ResidentCredential): CredentialManagementResponse {
  const res: CredentialManagementResponse = {
    user: { ...c.user },
    credentialID: c.credentialId.slice(),
    publicKey: coseKeyMap(c.alg, h.env.crypto.publicKeyOf(c.alg, c.privateKey)),
    credProtect: c.credProtect ?? USER_VERIFICATION_OPTIONAL,
  };
  if (c.largeBlobKey !== undefined) res.largeBlobKey = c.largeBlobKey.slice();
  return res;
}

function remember(h: HandlerContext, enumeration: CredentialManagementState['enumeration'], items: CredentialManagementState['items']): void {
  h.device.stateful =
    items.length > 0
      ? { kind: 'credentialManagement', channel: h.request.channel, enumeration, items, lastAt: h.env.scheduler.now() }
      : undefined;
}

/**
 * The next remembered item, or CTAP2_ERR_NOT_ALLOWED: no enumeration of this kind to continue (none begun, another
 * command or channel came in between, the other kind was begun), the 30 s timer ran out, or all were returned.
 */
function nextItem(h: HandlerContext, enumeration: CredentialManagementState['enumeration']): string | Uint8Array {
  const st = h.device.stateful;
  if (!st || st.kind !== 'credentialManagement' || st.enumeration !== enumeration) {
    throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, `no ${enumeration} enumeration to continue`);
  }
  const now = h.env.scheduler.now();
  const item = now - st.lastAt > CREDENTIAL_MANAGEMENT_TIMEOUT_MS ? undefined : st.items.shift();
  if (item === undefined) {
    h.device.stateful = undefined;
    throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, `the ${enumeration} enumeration expired or is exhausted`);
  }
  st.lastAt = now;
  if (st.items.length === 0) h.device.stateful = undefined;
  return item;
}

/** §6.8.3 enumerateRPsBegin: rp, rpIDHash, totalRPs; no discoverable credential → CTAP2_ERR_NO_CREDENTIALS. */
export async function enumerateRPsBegin(h: HandlerContext): Promise<CredentialManagementResponse> {
  // "If the pinUvAuthToken has a permissions RP ID associated → CTAP2_ERR_PIN_AUTH_INVALID."
  requireTokenScope(h, 'allRps');
  const rpIds = [...new Set(residentsByAge(h).map((c) => c.rpId))];
  const [first, ...rest] = rpIds;
  if (first === undefined) throw new CtapError(CtapStatus.CTAP2_ERR_NO_CREDENTIALS, 'no discoverable credentials');
  remember(h, 'rps', rest);
  return { ...rpResponse(h, first), totalRPs: rpIds.length };
}

export async function enumerateRPsGetNextRP(h: HandlerContext): Promise<CredentialManagementResponse> {
  return rpResponse(h, nextItem(h, 'rps') as string);
}

/**
 * §6.8.4 enumerateCredentialsBegin: rpIDHash required; a token bound to an RP ID may only enumerate that RP;
 * user, credentialID, publicKey, totalCredentials, credProtect, largeBlobKey; none → CTAP2_ERR_NO_CREDENTIALS.
 */
export async function enumerateCredentialsBegin(h: HandlerContext, p: CredMgmtParams): Promise<CredentialManagementResponse> {
  if (p.rpIDHash === undefined) throw missing('subCommandParams.rpIDHash');
  const hash = p.rpIDHash;
  requireTokenScope(h, { rpIdHash: hash });
  const creds = residentsByAge(h).filter((c) => equal(rpIdHashOf(h, c.rpId), hash));
  const [first, ...rest] = creds;
  if (first === undefined) throw new CtapError(CtapStatus.CTAP2_ERR_NO_CREDENTIALS, 'no discoverable credentials for this RP');
  remember(
    h,
    'credentials',
    rest.map((c) => c.credentialId),
  );
  return { ...credentialResponse(h, first), totalCredentials: creds.length };
}

export async function enumerateCredentialsGetNextCredential(h: HandlerContext): Promise<CredentialManagementResponse> {
  for (;;) {
    const id = nextItem(h, 'credentials') as Uint8Array;
    // A credential removed behind the platform's back (a store fault) is skipped.
    const c = residentById(h.device.persistent, id);
    if (c) return credentialResponse(h, c);
  }
}
