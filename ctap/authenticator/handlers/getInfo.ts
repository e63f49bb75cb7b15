/** authenticatorGetInfo (0x04), CTAP 2.1 §6.4: generated from the profile and the current state. */
import { CtapCommand } from '../../constants/commands.ts';
import type { GetInfoResponse } from '../../messages/getInfo.ts';
import { MAX_PIN_BYTES } from '../../pin/policy.ts';
import { supportedProtocols } from '../../pin/session.ts';
import { commandTable } from '../commands.ts';
import type { Profile } from '../profile.ts';
import type { PersistentState } from '../state.ts';
import { builtInUvConfigured } from '../steps/builtInUv.ts';
import { conformInfo, infoVersions } from '../infoLevel.ts';
import {
  configSupported,
  credentialManagementSupported,
  enterpriseAttestationCapable,
  fingerprintSensor,
  largeBlobsSupported,
  setMinPinLengthSupported,
} from '../features.ts';
import { CRED_BLOB } from '../../extensions/credBlob.ts';
import { enabledExtensions } from '../../extensions/registry.ts';

/** FIDO Registry §3.1 user verification methods: USER_VERIFY_FINGERPRINT_INTERNAL, USER_VERIFY_FACEPRINT_INTERNAL. */
const UV_MODALITY_BITS = { fingerprint: 0x02, face: 0x10 } as const;

/** Which FIDO_2_1_PRE prototype commands (0x40, 0x41) this profile is served (the table is looked up at call time). */
interface Previews {
  bio: boolean;
  credMgmt: boolean;
}

function previewsServed(profile: Profile): Previews {
  return {
    bio: fingerprintSensor(profile) !== undefined && commandTable.has(CtapCommand.authenticatorBioEnrollmentPreview),
    credMgmt: credentialManagementSupported(profile) && commandTable.has(CtapCommand.authenticatorCredentialManagementPreview),
  };
}

/**
 * Issue 4 management options (features.ts): credMgmt (+ credentialMgmtPreview when 0x41 is served), largeBlobs,
 * authnrCfg (+ uvAcfg with built-in UV: acfg may be requested with getPinUvAuthTokenUsingUvWithPermissions),
 * setMinPINLength, ep (present iff EA-capable; its value says whether EA is enabled).
 */
function addManagementOptions(o: Record<string, boolean>, profile: Profile, state: PersistentState, preview: Previews): void {
  if (credentialManagementSupported(profile)) {
    o.credMgmt = true;
    if (preview.credMgmt) o.credentialMgmtPreview = true;
  }
  if (largeBlobsSupported(profile)) o.largeBlobs = true;
  if (configSupported(profile)) {
    o.authnrCfg = true;
    if (profile.uv) o.uvAcfg = true;
  }
  if (setMinPinLengthSupported(profile)) o.setMinPINLength = true;
  if (enterpriseAttestationCapable(profile)) o.ep = state.enterpriseAttestation;
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
function buildOptions(profile: Profile, state: PersistentState, preview: Previews): Record<string, boolean> {
  const o: Record<string, boolean> = { rk: profile.options.rk, up: profile.options.up, plat: profile.options.plat };
  if (profile.pin) o.clientPin = state.pin !== undefined;
  if (profile.pin || profile.uv) o.pinUvAuthToken = true;
  if (profile.uv) o.uv = builtInUvConfigured({ profile, device: { persistent: state } });
  if (fingerprintSensor(profile)) {
    o.bioEnroll = state.templates.some((t) => t.modality === 'fingerprint');
    if (preview.bio) o.userVerificationMgmtPreview = o.bioEnroll;
  }
  if (profile.pin || profile.uv) {
    // CTAP 2.1 §6.4 alwaysUv: while it is true, makeCredUvNotRqd MUST be false.
    o.makeCredUvNotRqd = profile.options.makeCredUvNotRqd && !state.alwaysUv;
    o.alwaysUv = state.alwaysUv;
  }
  addManagementOptions(o, profile, state, preview);
  return o;
}

export function buildInfo(profile: Profile, state: PersistentState): GetInfoResponse {
  const stored = state.residentCredentials.length;
  const previews = previewsServed(profile);
  const info: GetInfoResponse = {
    versions: infoVersions(profile, state),
    extensions: enabledExtensions(profile),
    aaguid: profile.aaguid.slice(),
    options: buildOptions(profile, state, previews),
    maxMsgSize: profile.maxMsgSize,
    maxCredentialCountInList: profile.maxCredentialCountInList,
    maxCredentialIdLength: profile.maxCredentialIdLength,
    transports: [...profile.transports],
    algorithms: profile.algorithms.map((alg) => ({ alg, type: 'public-key' as const })),
    firmwareVersion: profile.firmwareVersion,
    // CTAP 2.1 §6.4: estimated number of additional discoverable credentials that can be stored.
    remainingDiscoverableCredentials: profile.options.rk ? Math.max(0, profile.residentCredentialCapacity - stored) : 0,
  };
  // CTAP 2.1 §6.4 maxCredBlobLength: present iff credBlob is supported (Chromium rejects it otherwise, B4.2).
  if (info.extensions.includes(CRED_BLOB)) info.maxCredBlobLength = profile.maxCredBlobLength;
  if (profile.largeBlobs && largeBlobsSupported(profile)) info.maxSerializedLargeBlobArray = profile.largeBlobs.maxSerializedLargeBlobArray;
  if (profile.maxRPIDsForSetMinPINLength !== undefined && setMinPinLengthSupported(profile)) {
    info.maxRPIDsForSetMinPINLength = profile.maxRPIDsForSetMinPINLength;
  }
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
  return conformInfo(profile, info); // served commands only; CTAP 2.0 members for a CTAP 2.0 profile
}

/** getInfo answers at once: no user presence, no keepalive (CHECKLIST B0.7). */
export async function getInfo(h: { profile: Profile; device: { persistent: PersistentState } }): Promise<GetInfoResponse> {
  return buildInfo(h.profile, h.device.persistent);
}
