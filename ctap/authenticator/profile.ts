/**
 * Profile: what a device *is* (static capabilities), kept apart from what it *holds* (state.ts).
 * getInfo is generated from the profile plus the current state and never advertises more than this code
 * implements (DESIGN.md "Profiles"; CTAP 2.1 §6.4).
 */
import { fromHex } from '../bytes.ts';
import { HID_MAX_MESSAGE_SIZE } from '../constants/commands.ts';
import { CoseAlg } from './env.ts';

/** getInfo option IDs this implementation can honour (CTAP 2.1 §6.4, options member). */
export interface ProfileOptions {
  /** Platform device (attached, not removable). A roaming key: false. */
  plat: boolean;
  /** Discoverable (resident) credentials supported. */
  rk: boolean;
  /** Capable of testing user presence. */
  up: boolean;
  /** CTAP 2.1 §6.4 makeCredUvNotRqd: non-discoverable credentials may be made without UV even when protected. */
  makeCredUvNotRqd: boolean;
  /** Factory value of alwaysUv (authenticatorConfig may toggle it later; reset restores it). */
  alwaysUv: boolean;
}

/** clientPIN support (CTAP 2.1 §6.5). Absent from a profile = no clientPin option, no pinUvAuthToken. */
export interface ProfilePin {
  /** pinUvAuthProtocols, most preferred first, e.g. [2, 1]. */
  protocols: (1 | 2)[];
  /** Factory minimum PIN length in Unicode code points (default 4). */
  minPinLength: number;
  /** Maximum (and initial) pinRetries: 8. */
  maxPinRetries: number;
  /** pinUvAuthToken initial usage time limit (USB: 30 s). */
  tokenInitialUseMs: number;
  /** pinUvAuthToken maximum usage period (≤ 10 min). */
  tokenMaxUsageMs: number;
}

/** Built-in user verification (a simulated biometric sensor). Absent = no `uv` option. */
export interface ProfileUv {
  /** Modalities the device has; the first is the one used for verification while it has enrolled templates. */
  modalities: ('fingerprint' | 'face')[];
  /** Maximum (and initial) uvRetries, e.g. 5. */
  maxUvRetries: number;
  /** getInfo preferredPlatformUvAttempts (> 0). */
  preferredPlatformUvAttempts: number;
  /** Maximum enrolled templates (all modalities together). */
  templateCapacity: number;
  /** Fingerprint enrollment (authenticatorBioEnrollment): present when 'fingerprint' is a modality. */
  fingerprint?: {
    /** 1 = touch, 2 = swipe. */
    kind: 1 | 2;
    maxCaptureSamplesRequiredForEnroll: number;
    maxTemplateFriendlyName: number;
  };
}

export interface Profile {
  name: string;
  /** 16 bytes. */
  aaguid: Uint8Array;
  /** getInfo versions, e.g. ["FIDO_2_0", "FIDO_2_1"]. */
  versions: string[];
  /** Supported credential algorithms, most preferred first. */
  algorithms: CoseAlg[];
  options: ProfileOptions;
  maxMsgSize: number;
  maxCredentialCountInList: number;
  maxCredentialIdLength: number;
  transports: string[];
  firmwareVersion: number;
  /** How many discoverable credentials fit in the store. */
  residentCredentialCapacity: number;
  /** Supported extension identifiers (none implemented yet). */
  extensions: string[];
  pin?: ProfilePin;
  uv?: ProfileUv;
}

/** What every vfido USB profile shares (fresh arrays per profile). */
function base() {
  return {
    versions: ['FIDO_2_0', 'FIDO_2_1'],
    algorithms: [CoseAlg.ES256, CoseAlg.EdDSA] as CoseAlg[],
    maxMsgSize: HID_MAX_MESSAGE_SIZE,
    maxCredentialCountInList: 8,
    maxCredentialIdLength: 128,
    transports: ['usb'],
    firmwareVersion: 1,
    residentCredentialCapacity: 25,
    extensions: [] as string[],
  };
}

/** PIN support of every PIN-capable profile: protocols two then one, CTAP 2.1 defaults (USB token limits). */
const PIN: ProfilePin = Object.freeze({
  protocols: Object.freeze([2, 1]) as (1 | 2)[],
  minPinLength: 4,
  maxPinRetries: 8,
  tokenInitialUseMs: 30_000,
  tokenMaxUsageMs: 600_000,
});

const UV_COMMON = { maxUvRetries: 5, preferredPlatformUvAttempts: 3, templateCapacity: 5 } as const;
const FINGERPRINT = Object.freeze({ kind: 1, maxCaptureSamplesRequiredForEnroll: 4, maxTemplateFriendlyName: 64 } as const);

function profile(p: Omit<Profile, keyof ReturnType<typeof base> | 'options'> & { options: Partial<ProfileOptions> }): Profile {
  return Object.freeze({
    ...base(),
    ...p,
    options: Object.freeze({ plat: false, rk: true, up: true, makeCredUvNotRqd: true, alwaysUv: false, ...p.options }),
  });
}

/**
 * The default: a PIN-capable USB CTAP 2.1 security key without built-in UV (like most keys sold): clientPin
 * with protocols [2, 1], discoverable credentials, ES256 and EdDSA, makeCredUvNotRqd (non-discoverable
 * credentials without UV even once a PIN is set). "FIDO_2_1_PRE" is not listed: no preview command is served.
 */
export const defaultProfile: Profile = profile({
  name: 'ctap21',
  // Fixed vfido AAGUIDs (a random v4 UUID chosen once, last byte per model): 5646494f-2d30-4c2e-9b1a-7e3c1d0a2b41.
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b41'),
  options: {},
  pin: PIN,
});

/** + a fingerprint sensor (authenticatorBioEnrollment, getPinUvAuthTokenUsingUvWithPermissions). */
export const fingerprintProfile: Profile = profile({
  name: 'ctap21-fingerprint',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b42'),
  options: {},
  pin: PIN,
  uv: Object.freeze({ ...UV_COMMON, modalities: Object.freeze(['fingerprint']) as UvModalityList, fingerprint: FINGERPRINT }),
});

/** + a face sensor. CTAP has no face enrollment command: face templates are seeded (start options, control API). */
export const faceProfile: Profile = profile({
  name: 'ctap21-face',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b43'),
  options: {},
  pin: PIN,
  uv: Object.freeze({ ...UV_COMMON, modalities: Object.freeze(['face']) as UvModalityList }),
});

/** + both sensors; fingerprint first (verification uses the first modality that has templates). */
export const fingerprintFaceProfile: Profile = profile({
  name: 'ctap21-fingerprint-face',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b44'),
  options: {},
  pin: PIN,
  uv: Object.freeze({
    ...UV_COMMON,
    modalities: Object.freeze(['fingerprint', 'face']) as UvModalityList,
    fingerprint: FINGERPRINT,
  }),
});

/**
 * A CTAP 2.1 key with neither PIN nor built-in UV (no clientPin / pinUvAuthToken / uv options, no
 * pinUvAuthProtocols, no authenticatorClientPIN): the device of issue 2, kept for "a key without UV" tests.
 * CTAP 2.1 §6.4 makes pinUvAuthToken mandatory only when clientPin or uv is present, so "FIDO_2_1" stays listed.
 */
export const pinlessProfile: Profile = profile({
  name: 'ctap21-nopin',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b40'),
  options: { makeCredUvNotRqd: false },
});

type UvModalityList = ('fingerprint' | 'face')[];
