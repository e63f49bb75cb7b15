/**
 * authenticatorCredentialManagement (0x0A) and its prototype (0x41, FIDO_2_1_PRE), CTAP 2.1 §6.8, §6.13:
 * request checks, authentication, getCredsMetadata, deleteCredential, updateUserInformation. Enumeration is in
 * credentialManagementEnumerate.ts. Decisions where the spec leaves room are marked "Decision:".
 */
import { concat, equal } from '../../bytes.ts';
import type { CborMap } from '../../cbor.ts';
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import {
  CredMgmtSubCommand as Sub,
  parseCredentialManagementRequest,
  type CredentialManagementResponse,
  type CredMgmtParams,
} from '../../messages/credentialManagement.ts';
import type { UserEntity } from '../../messages/entities.ts';
import { missing } from '../../messages/fields.ts';
import { Permission, authorizeToken, requireTokenScope } from '../../pin/authorize.ts';
import type { HandlerContext } from '../context.ts';
import type { ResidentCredential } from '../state.ts';
import { residentById } from '../steps/credentials.ts';
import {
  enumerateCredentialsBegin,
  enumerateCredentialsGetNextCredential,
  enumerateRPsBegin,
  enumerateRPsGetNextRP,
} from './credentialManagementEnumerate.ts';

type SubHandler = (h: HandlerContext, p: CredMgmtParams) => Promise<CredentialManagementResponse>;

/** §6.8.2 getCredsMetadata: existing discoverable credentials and how many more fit. */
const getCredsMetadata: SubHandler = async (h) => {
  // "If the pinUvAuthToken has a permissions RP ID associated → CTAP2_ERR_PIN_AUTH_INVALID."
  requireTokenScope(h, 'allRps');
  const existing = h.device.persistent.residentCredentials.length;
  return {
    existingResidentCredentialsCount: existing,
    maxPossibleRemainingResidentCredentialsCount: Math.max(0, h.profile.residentCredentialCapacity - existing),
  };
};

/**
 * The stored credential a subCommandParams.credentialID names (CTAP2_ERR_NO_CREDENTIALS when none), checked
 * against the token's permissions RP ID: absent, or the credential's RP ID (else CTAP2_ERR_PIN_AUTH_INVALID).
 */
function findCredential(h: HandlerContext, p: CredMgmtParams): ResidentCredential {
  if (p.credentialID === undefined) throw missing('subCommandParams.credentialID');
  const id = p.credentialID.id;
  const c = residentById(h.device.persistent, id);
  if (!c) throw new CtapError(CtapStatus.CTAP2_ERR_NO_CREDENTIALS, 'no discoverable credential has this ID');
  requireTokenScope(h, { rpId: c.rpId });
  return c;
}

/**
 * §6.8.5 deleteCredential. The credential's large-blob entry, if any, is the platform's to remove (the
 * authenticator never decrypts the large-blob array, CHECKLIST B10.9).
 */
const deleteCredential: SubHandler = async (h, p) => {
  const c = findCredential(h, p);
  const s = h.device.persistent;
  await h.device.commit({ ...s, residentCredentials: s.residentCredentials.filter((x) => x !== c) });
  return {};
};

/**
 * §6.8.6 updateUserInformation: user.id must be the credential's (else CTAP1_ERR_INVALID_PARAMETER); name and
 * displayName are replaced by the given ones, and an absent or empty one is removed.
 */
const updateUserInformation: SubHandler = async (h, p) => {
  if (p.user === undefined) throw missing('subCommandParams.user');
  const c = findCredential(h, p);
  if (!equal(c.user.id, p.user.id)) throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, 'user.id does not match the credential');
  const user: UserEntity = { id: c.user.id };
  if (p.user.name) user.name = p.user.name;
  if (p.user.displayName) user.displayName = p.user.displayName;
  const s = h.device.persistent;
  await h.device.commit({ ...s, residentCredentials: s.residentCredentials.map((x) => (x === c ? { ...x, user } : x)) });
  return {};
};

/** Subcommands: `auth` = pinUvAuthParam with the cm permission required (CHECKLIST B8); `continues` = a GetNext. */
const SUBCOMMANDS = new Map<number, { run: SubHandler; auth: boolean; continues?: boolean }>([
  [Sub.getCredsMetadata, { run: getCredsMetadata, auth: true }],
  [Sub.enumerateRPsBegin, { run: enumerateRPsBegin, auth: true }],
  [Sub.enumerateRPsGetNextRP, { run: enumerateRPsGetNextRP, auth: false, continues: true }],
  [Sub.enumerateCredentialsBegin, { run: enumerateCredentialsBegin, auth: true }],
  [Sub.enumerateCredentialsGetNextCredential, { run: enumerateCredentialsGetNextCredential, auth: false, continues: true }],
  [Sub.deleteCredential, { run: deleteCredential, auth: true }],
  [Sub.updateUserInformation, { run: updateUserInformation, auth: true }],
]);

/**
 * authenticatorCredentialManagement (0x0A) and the FIDO_2_1_PRE prototype (0x41), one handler. Decision: the
 * prototype serves every subcommand, updateUserInformation included, although the 2019 prototype lacked it
 * (CHECKLIST B12.1): libfido2 ≤ 1.12 sends all of credman, fido_credman_set_dev_rk too, as 0x41 (other keys do
 * the same for "old libfido2").
 */
export async function credentialManagement(h: HandlerContext, params: CborMap | undefined): Promise<CredentialManagementResponse> {
  // A profile without the feature never gets here: its dispatcher does not have the command (served.ts, features.ts
  // credentialManagementSupported), so it answers CTAP1_ERR_INVALID_COMMAND.
  const req = parseCredentialManagementRequest(params);
  const sub = SUBCOMMANDS.get(req.subCommand);
  // CTAP 2.1 §8.2: an unknown subcommand → CTAP2_ERR_INVALID_SUBCOMMAND.
  if (!sub) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_SUBCOMMAND, `subCommand ${req.subCommand}`);
  // The dispatcher keeps an enumeration across credMgmt commands on its channel; only a GetNext continues it.
  if (!sub.continues) h.device.endStatefulCommand();
  if (sub.auth) {
    // CTAP 2.1 §6.8 (CHECKLIST B8.1): pinUvAuthParam = authenticate(pinUvAuthToken, subCommand || subCommandParams),
    // with the cm permission; the permissions RP ID rules are each subcommand's.
    authorizeToken(h, {
      protocol: req.pinUvAuthProtocol,
      param: req.pinUvAuthParam,
      message: concat(new Uint8Array([req.subCommand]), req.subCommandParamsCbor ?? new Uint8Array(0)),
      permission: Permission.cm,
    });
  }
  return sub.run(h, req.subCommandParams ?? {});
}

