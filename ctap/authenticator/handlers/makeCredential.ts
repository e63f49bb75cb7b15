/** authenticatorMakeCredential (0x01), CTAP 2.1 §6.1.2. */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { countsForExcludeList } from '../../extensions/credProtect.ts';
import {
  makeCredentialExtensionOutputs,
  processMakeCredentialExtensions,
  readMakeCredentialExtensions,
} from '../../extensions/makeCredential.ts';
import { PUBLIC_KEY, type CredentialDescriptor, type PubKeyCredParam } from '../../messages/entities.ts';
import type { MakeCredentialRequest, MakeCredentialResponse } from '../../messages/makeCredential.ts';
import { buildAuthData } from '../../webauthn/authData.ts';
import { encodeCoseKey } from '../../webauthn/cose.ts';
import { AuthDataFlag } from '../../webauthn/flags.ts';
import type { HandlerContext } from '../context.ts';
import { wrapCredentialId } from '../credentialId.ts';
import type { CoseAlg, KeyPair } from '../env.ts';
import type { Profile } from '../profile.ts';
import type { ResidentCredential } from '../state.ts';
import { attest, attestedAaguid } from '../steps/attestation.ts';
import { enterpriseAttestationRequested } from '../steps/enterpriseAttestation.ts';
import { Permission } from '../../pin/authorize.ts';
import { locateCredential, residentSlot, rpIdHashOf } from '../steps/credentials.ts';
import { collectUserPresence } from '../steps/presence.ts';
import { checkCredentialListLimits } from '../steps/requestChecks.ts';
import { makeCredentialUvPolicy } from '../steps/uvPolicy.ts';
import { establishPresence, pinUvAuthPrecheck, userPresentAlready, uvOption, verifyUser } from '../steps/userVerification.ts';

/**
 * CTAP 2.1 §6.1.2 step 3: the chosen algorithm is the first element (in the RP's order) that the authenticator
 * supports; every element was already validated by the parser. None → CTAP2_ERR_UNSUPPORTED_ALGORITHM.
 */
function chooseAlgorithm(profile: Profile, params: PubKeyCredParam[]): CoseAlg {
  for (const p of params) {
    if (p.type !== PUBLIC_KEY || p.alg === undefined) continue;
    const alg = profile.algorithms.find((a) => a === p.alg);
    if (alg !== undefined) return alg;
  }
  throw new CtapError(CtapStatus.CTAP2_ERR_UNSUPPORTED_ALGORITHM, 'no supported algorithm in pubKeyCredParams');
}

/** CTAP 2.1 §6.1.2 step 5: options processing. Returns the effective "rk" and "uv". */
function checkOptions(h: HandlerContext, req: MakeCredentialRequest): { rk: boolean; uv: boolean } {
  const { rk, up } = req.options;
  // Step 5: "uv" absent → false; pinUvAuthParam present → false; true without enabled built-in UV → INVALID_OPTION.
  const uv = uvOption(h, req.options.uv, req.pinUvAuthParam !== undefined);
  // Step 5: "If the rk option ID is not present in authenticatorGetInfo response" → CTAP2_ERR_UNSUPPORTED_OPTION.
  // Our getInfo always lists rk (false without discoverable credentials), so only a request it cannot honour, rk
  // true, is refused; rk false asks for what every device does.
  if (rk === true && !h.profile.options.rk) {
    throw new CtapError(CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION, 'discoverable credentials are not supported');
  }
  // Step 5: "If the "up" option is false, end the operation by returning CTAP2_ERR_INVALID_OPTION."
  if (up === false) throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, 'makeCredential requires user presence');
  return { rk: rk ?? false, uv };
}

/**
 * CTAP 2.1 §6.1.2 step 17: store a discoverable credential; one with the same (rp.id, user.id) is overwritten;
 * no room → CTAP2_ERR_KEY_STORE_FULL.
 */
async function storeResident(h: HandlerContext, record: Omit<ResidentCredential, 'seq'>): Promise<void> {
  const s = h.device.persistent;
  const slot = residentSlot(h.profile, s, record.rpId, record.user.id);
  if (slot.full) throw new CtapError(CtapStatus.CTAP2_ERR_KEY_STORE_FULL, 'no room for another discoverable credential');
  await h.device.commit({
    ...s,
    residentCredentials: [...slot.kept, { ...record, seq: s.nextSeq }],
    nextSeq: s.nextSeq + 1,
  });
}

export async function makeCredential(h: HandlerContext, req: MakeCredentialRequest): Promise<MakeCredentialResponse> {
  checkCredentialListLimits(h.profile, req.excludeList, 'excludeList');
  const rpId = req.rp.id;
  await pinUvAuthPrecheck(h, 'makeCredential', rpId, req); // steps 1–2
  const hasParam = req.pinUvAuthParam !== undefined;
  const alg = chooseAlgorithm(h.profile, req.pubKeyCredParams); // step 3
  const { rk, uv: uvRequested } = checkOptions(h, req); // steps 4–5
  // Step 15's inputs, validated before any user interaction (e.g. largeBlobKey false / without rk → INVALID_OPTION).
  const extensionInputs = readMakeCredentialExtensions(h, req.extensions, { rk });
  const uv = makeCredentialUvPolicy(h, { rk, uv: uvRequested, hasParam }); // steps 6–8
  const enterprise = enterpriseAttestationRequested(h, req.enterpriseAttestation, rpId); // step 9
  const rpIdHash = rpIdHashOf(h, rpId);
  // Steps 10–11: the pinUvAuthToken (mc permission, RP ID) or built-in UV, when protected by UV. Step 10 (rk, uv
  // false, makeCredUvNotRqd, no param → skip UV) needs no code: step 11 has nothing to do then.
  const outcome = await verifyUser(h, {
    command: 'makeCredential',
    rpId,
    clientDataHash: req.clientDataHash,
    ...(req.pinUvAuthParam ? { param: req.pinUvAuthParam } : {}),
    protocol: req.pinUvAuthProtocol,
    uv,
    permission: Permission.mc,
  });

  // Step 12: a listed credential created by this authenticator and bound to rp.id → CREDENTIAL_EXCLUDED. Unless
  // user presence is already established (the token's userPresent flag, or built-in UV), collect it first
  // (whatever its outcome), so the list cannot be probed silently. A userVerificationRequired (credProtect 3)
  // credential counts only when UV was collected in step 11; otherwise it is skipped.
  const excluded = (d: CredentialDescriptor): boolean => {
    const c = locateCredential(h, rpIdHash, d);
    return c !== undefined && countsForExcludeList(c.credProtect, outcome.uv);
  };
  if (req.excludeList?.some(excluded)) {
    if (!userPresentAlready(h, hasParam, outcome)) await collectUserPresence(h, 'makeCredential', rpId);
    throw new CtapError(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED, 'a credential in excludeList exists on this device');
  }

  // Steps 13–14: "up" is true here: user presence from built-in UV, the token's UP flag or a touch (declined /
  // timed out → OPERATION_DENIED); then the token's UP, UV and permissions (except lbw) are cleared.
  await establishPresence(h, 'makeCredential', rpId, hasParam, outcome);
  // Step 15: extensions (ctap/extensions): the enabled ones are processed, unknown ones ignored.
  const extensions = processMakeCredentialExtensions(h, extensionInputs, { rk });

  // Step 16: the new key pair. Steps 17/18: discoverable or not, the credential ID is the wrapped key.
  const keyPair: KeyPair = h.env.crypto.generateKeyPair(alg);
  const credentialId = wrapCredentialId(h.env.crypto, h.env.rng, h.device.persistent.masterKey, rpIdHash, {
    alg,
    privateKey: keyPair.privateKey,
    resident: rk,
    credProtect: extensions.credential.credProtect ?? 0,
  });
  if (rk) {
    const record: Omit<ResidentCredential, 'seq'> = {
      credentialId,
      rpId,
      user: req.user,
      alg,
      privateKey: keyPair.privateKey,
      signCount: 0,
      ...extensions.credential,
    };
    if (req.rp.name !== undefined) record.rpName = req.rp.name;
    await storeResident(h, record);
  }

  const outputs = makeCredentialExtensionOutputs(h, extensions, { rpId, credentialId, uv: outcome.uv });
  // WebAuthn L3 §6.1: UP set, UV set iff user verification was performed, AT set with the attested credential
  // data, ED iff there are extension outputs; per-credential counters start at 0.
  const authData = buildAuthData({
    rpIdHash,
    flags: AuthDataFlag.UP | (outcome.uv ? AuthDataFlag.UV : 0),
    signCount: 0,
    attestedCredentialData: {
      aaguid: attestedAaguid(h, enterprise),
      credentialId,
      credentialPublicKey: encodeCoseKey(alg, keyPair.publicKey),
    },
    ...(outputs.authData ? { extensions: outputs.authData } : {}),
  });
  // Step 19: attestation statement.
  const { fmt, attStmt } = attest(h, keyPair, authData, req.clientDataHash, enterprise);
  const res: MakeCredentialResponse = { fmt, authData, attStmt };
  if (enterprise) res.epAtt = true; // step 9: epAtt, only when an enterprise attestation is returned
  if (outputs.largeBlobKey) res.largeBlobKey = outputs.largeBlobKey; // CTAP 2.1 §12.3: response member 0x05
  return res;
}
