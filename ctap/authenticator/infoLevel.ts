/**
 * What getInfo says about the served command set (DESIGN.md "getInfo ... never advertises what is not
 * implemented"; CHECKLIST B4.3): the versions member (infoVersions), and conformInfo, the last step of getInfo
 * (handlers/getInfo.ts builds the CTAP 2.1 answer), which makes the rest say exactly what this device serves:
 * - option IDs that announce a command are dropped when the device does not serve that command (a profile's
 *   `commands` may narrow what its capabilities imply);
 * - a CTAP 2.0 device answers with the CTAP 2.0 getInfo (CTAP 2.0 §5.4): versions, extensions, aaguid, options
 *   (plat, rk, clientPin, up, uv), maxMsgSize, pinProtocols, and nothing else. Platforms then assume no list
 *   limits, so requestChecks.ts does not enforce unadvertised ones.
 */
import { CtapCommand as C } from '../constants/commands.ts';
import type { GetInfoResponse } from '../messages/getInfo.ts';
import type { Profile } from './profile.ts';
import { isCtap21, serves, Version } from './served.ts';
import type { PersistentState } from './state.ts';

/** Option ID → the command it announces. */
const OPTION_COMMAND: ReadonlyMap<string, number> = new Map([
  ['clientPin', C.authenticatorClientPIN],
  ['pinUvAuthToken', C.authenticatorClientPIN],
  ['bioEnroll', C.authenticatorBioEnrollment],
  ['uvBioEnroll', C.authenticatorBioEnrollment],
  ['userVerificationMgmtPreview', C.authenticatorBioEnrollmentPreview],
  ['credMgmt', C.authenticatorCredentialManagement],
  ['credentialMgmtPreview', C.authenticatorCredentialManagementPreview],
  ['largeBlobs', C.authenticatorLargeBlobs],
  ['authnrCfg', C.authenticatorConfig],
  ['uvAcfg', C.authenticatorConfig],
  ['setMinPINLength', C.authenticatorConfig],
  ['ep', C.authenticatorConfig],
]);

/** CTAP 2.0 §5.4 option IDs. */
const CTAP20_OPTIONS: ReadonlySet<string> = new Set(['plat', 'rk', 'clientPin', 'up', 'uv']);

/**
 * getInfo versions: the profile's, with "FIDO_2_1_PRE" iff a prototype command (0x40 / 0x41) is served, and
 * "U2F_V2" only while CTAP1 works (dropped while alwaysUv is on, as ctap/u2f then refuses every APDU; OpenSK does
 * the same).
 */
export function infoVersions(profile: Profile, state: PersistentState): string[] {
  const pre = serves(profile, C.authenticatorBioEnrollmentPreview) || serves(profile, C.authenticatorCredentialManagementPreview);
  const out: string[] = [];
  for (const v of profile.versions) {
    if (v === Version.FIDO_2_1_PRE) continue;
    if (v === Version.U2F_V2 && state.alwaysUv) continue;
    if (v === Version.FIDO_2_1 && pre) out.push(Version.FIDO_2_1_PRE);
    out.push(v);
  }
  if (pre && !out.includes(Version.FIDO_2_1_PRE)) out.push(Version.FIDO_2_1_PRE);
  return out;
}

export function conformInfo(profile: Profile, info: GetInfoResponse): GetInfoResponse {
  const options: Record<string, boolean> = {};
  for (const [id, value] of Object.entries(info.options)) {
    const command = OPTION_COMMAND.get(id);
    if (command !== undefined && !serves(profile, command)) continue;
    if (!isCtap21(profile) && !CTAP20_OPTIONS.has(id)) continue;
    options[id] = value;
  }
  if (isCtap21(profile)) {
    const out: GetInfoResponse = { ...info, options };
    if (!serves(profile, C.authenticatorLargeBlobs)) delete out.maxSerializedLargeBlobArray;
    if (!serves(profile, C.authenticatorConfig)) delete out.maxRPIDsForSetMinPINLength;
    return out;
  }
  const ctap20: GetInfoResponse = {
    versions: info.versions,
    extensions: info.extensions,
    aaguid: info.aaguid,
    options,
    maxMsgSize: info.maxMsgSize,
  };
  if (info.pinUvAuthProtocols) ctap20.pinUvAuthProtocols = info.pinUvAuthProtocols;
  return ctap20;
}
