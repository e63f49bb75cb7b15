/** authenticatorGetInfo (0x04), CTAP 2.1 §6.4: generated from the profile and the current state. */
import { CtapCommand } from '../../constants/commands.ts';
import type { GetInfoResponse } from '../../messages/getInfo.ts';
import { MAX_PIN_BYTES } from '../../pin/policy.ts';
import { supportedProtocols } from '../../pin/session.ts';
import { commandTable } from '../commands.ts';
import type { Profile } from '../profile.ts';
import type { PersistentState } from '../state.ts';
import { builtInUvConfigured } from '../steps/builtInUv.ts';

/** FIDO Registry §3.1 user verification methods: USER_VERIFY_FINGERPRINT_INTERNAL, USER_VERIFY_FACEPRINT_INTERNAL. */
const UV_MODALITY_BITS = { fingerprint: 0x02, face: 0x10 } as const;

/** The preview bioEnrollment command (FIDO_2_1_PRE) is in the dispatch table (looked up at call time). */
function previewBioEnrollmentServed(): boolean {
  return commandTable.has(CtapCommand.authenticatorBioEnrollmentPreview);
}

/**
 * CTAP 2.1 §6.4 options, only for what this code implements (CHECKLIST B4.1 / B4.3):
 * - clientPin: present iff the profile has PIN support; true = a PIN is set, false = supported, not set;
 * - pinUvAuthToken: iff clientPin or built-in UV (getPinUvAuthTokenUsing*WithPermissions are implemented);
 * - uv: iff built-in UV; true = configured (a template of a profile modality is enrolled). A PIN-only device
 *   MUST NOT return uv;
 * - bioEnroll: iff a fingerprint sensor; true = a fingerprint is enrolled; userVerificationMgmtPreview mirrors it
 *   when the preview command 0x40 is served;
 * - makeCredUvNotRqd, alwaysUv: iff clientPin or built-in UV;
 * - noMcGaPermissionsWithClientPin: never (mc/ga permissions are granted with the PIN).
 */
function buildOptions(profile: Profile, state: PersistentState, preview: boolean): Record<string, boolean> {
  const o: Record<string, boolean> = { rk: profile.options.rk, up: profile.options.up, plat: profile.options.plat };
  if (profile.pin) o.clientPin = state.pin !== undefined;
  if (profile.pin || profile.uv) o.pinUvAuthToken = true;
  if (profile.uv) o.uv = builtInUvConfigured({ profile, device: { persistent: state } });
  if (profile.uv?.modalities.includes('fingerprint')) {
    o.bioEnroll = state.templates.some((t) => t.modality === 'fingerprint');
    if (preview) o.userVerificationMgmtPreview = o.bioEnroll;
  }
  if (profile.pin || profile.uv) {
    o.makeCredUvNotRqd = profile.options.makeCredUvNotRqd;
    o.alwaysUv = state.alwaysUv;
  }
  return o;
}

export function buildInfo(profile: Profile, state: PersistentState): GetInfoResponse {
  const stored = state.residentCredentials.length;
  const preview = profile.uv?.modalities.includes('fingerprint') === true && previewBioEnrollmentServed();
  // "FIDO_2_1_PRE" announces the preview commands (0x40), so only when one is actually served.
  const versions = preview
    ? profile.versions.flatMap((v) => (v === 'FIDO_2_1' ? ['FIDO_2_1_PRE', v] : [v]))
    : [...profile.versions];
  if (preview && !versions.includes('FIDO_2_1_PRE')) versions.push('FIDO_2_1_PRE');
  const info: GetInfoResponse = {
    versions,
    extensions: [...profile.extensions],
    aaguid: profile.aaguid.slice(),
    options: buildOptions(profile, state, preview),
    maxMsgSize: profile.maxMsgSize,
    maxCredentialCountInList: profile.maxCredentialCountInList,
    maxCredentialIdLength: profile.maxCredentialIdLength,
    transports: [...profile.transports],
    algorithms: profile.algorithms.map((alg) => ({ alg, type: 'public-key' as const })),
    firmwareVersion: profile.firmwareVersion,
    // CTAP 2.1 §6.4: estimated number of additional discoverable credentials that can be stored.
    remainingDiscoverableCredentials: profile.options.rk ? Math.max(0, profile.residentCredentialCapacity - stored) : 0,
  };
  const protocols = supportedProtocols(profile);
  if (protocols.length > 0) info.pinUvAuthProtocols = protocols;
  if (profile.pin) {
    info.forcePINChange = state.forcePinChange;
    info.minPINLength = state.minPinLength;
    info.maxPINLength = MAX_PIN_BYTES; // CTAP 2.2 maxPINLength (bytes)
  }
  if (profile.uv) {
    info.preferredPlatformUvAttempts = profile.uv.preferredPlatformUvAttempts;
    info.uvModality = profile.uv.modalities.reduce((bits, m) => bits | UV_MODALITY_BITS[m], 0);
    info.uvCountSinceLastPinEntry = state.uvCountSinceLastPinEntry; // CTAP 2.2
  }
  return info;
}

/** getInfo answers at once: no user presence, no keepalive (CHECKLIST B0.7). */
export async function getInfo(h: { profile: Profile; device: { persistent: PersistentState } }): Promise<GetInfoResponse> {
  return buildInfo(h.profile, h.device.persistent);
}
