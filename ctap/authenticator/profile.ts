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

/** authenticatorLargeBlobs (CTAP 2.1 §6.10). Absent = no largeBlobs option; served only with rk and PIN/UV. */
export interface ProfileLargeBlobs {
  /** getInfo maxSerializedLargeBlobArray (0x0B): capacity in bytes, at least 1024. */
  maxSerializedLargeBlobArray: number;
}

/** Enterprise attestation (CTAP 2.1 §7.1, §6.1.2 step 9). Absent = not EA-capable (no ep option). */
export interface ProfileEnterpriseAttestation {
  /** Vendor-facilitated EA (enterpriseAttestation = 1) is returned only for these RP IDs. */
  rpIds: readonly string[];
  /** Platform-managed EA (enterpriseAttestation = 2) is supported; when false, 2 is treated like 1. */
  platformManaged: boolean;
}

export interface Profile {
  name: string;
  /** 16 bytes. */
  aaguid: Uint8Array;
  /**
   * getInfo versions, e.g. ["U2F_V2", "FIDO_2_0", "FIDO_2_1"]. They decide what the device speaks (served.ts):
   * "FIDO_2_1" a CTAP 2.1 authenticator, "FIDO_2_0" alone a CTAP 2.0 one (CTAP 2.0 getInfo members, commands and
   * clientPIN subcommands only), neither a U2F-only key (no CTAPHID_CBOR). "U2F_V2" iff `u2f`.
   */
  versions: string[];
  /**
   * CTAP1/U2F over CTAPHID_MSG (FIDO U2F Raw Message Formats v1.2; CTAP 2.1 §11.2.9.1.1): CTAPHID_INIT leaves
   * CAPABILITY_NMSG clear and U2F_REGISTER / U2F_AUTHENTICATE / U2F_VERSION are answered (ctap/u2f).
   */
  u2f: boolean;
  /**
   * The CTAP2 commands this model serves, when it serves fewer than its capabilities imply (served.ts); absent =
   * all of those. It can only narrow: a command the capabilities do not support is never served.
   */
  commands?: readonly number[];
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
  /**
   * Enabled extension identifiers, as getInfo lists them (implemented: ctap/extensions/registry.ts, whose
   * checkProfileExtensions says what each needs).
   */
  extensions: string[];
  /** getInfo maxCredBlobLength (0x0F): the largest credBlob stored (≥ 32; reported iff credBlob is enabled). */
  maxCredBlobLength: number;
  pin?: ProfilePin;
  uv?: ProfileUv;
  largeBlobs?: ProfileLargeBlobs;
  enterpriseAttestation?: ProfileEnterpriseAttestation;
  /** authenticatorConfig setMinPINLength: how many minPinLengthRPIDs are kept (getInfo 0x10); needs clientPin. */
  maxRPIDsForSetMinPINLength?: number;
}

/** CTAP 2.1 §6.4 versions entries. */
export const Version = { U2F_V2: 'U2F_V2', FIDO_2_0: 'FIDO_2_0', FIDO_2_1_PRE: 'FIDO_2_1_PRE', FIDO_2_1: 'FIDO_2_1' } as const;

/** The profile speaks CTAP2 at all (CTAPHID_CBOR capability). */
export function speaksCtap2(p: Profile): boolean {
  return p.versions.includes(Version.FIDO_2_0) || p.versions.includes(Version.FIDO_2_1);
}

/** The profile is a CTAP 2.1 authenticator; otherwise a CTAP 2.0 one (if it speaks CTAP2). */
export function isCtap21(p: Profile): boolean {
  return p.versions.includes(Version.FIDO_2_1);
}

/** What every vfido USB profile shares (fresh arrays per profile). */
function base() {
  return {
    versions: ['FIDO_2_0', 'FIDO_2_1'],
    u2f: false,
    algorithms: [CoseAlg.ES256, CoseAlg.EdDSA] as CoseAlg[],
    maxMsgSize: HID_MAX_MESSAGE_SIZE,
    maxCredentialCountInList: 8,
    maxCredentialIdLength: 128,
    transports: ['usb'],
    firmwareVersion: 1,
    residentCredentialCapacity: 25,
    extensions: [] as string[],
    maxCredBlobLength: 32,
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

/**
 * What every CTAP 2.1 PIN profile adds (authenticatorLargeBlobs, enterprise attestation, setMinPINLength): a
 * 4 KiB large-blob array (like current YubiKeys), EA-capable but disabled, with no vendor-facilitated RP IDs
 * (a custom profile lists them), up to 4 minPinLengthRPIDs.
 */
const CTAP21_PIN_FEATURES = {
  largeBlobs: Object.freeze({ maxSerializedLargeBlobArray: 4096 }),
  enterpriseAttestation: Object.freeze({ rpIds: Object.freeze([]), platformManaged: true }),
  maxRPIDsForSetMinPINLength: 4,
} as const;

/** CTAP 2.1 keys with CTAP1/U2F beside CTAP2 (as most keys sold: YubiKey 5, Solo, Feitian). */
const CTAP21_U2F = { u2f: true, versions: Object.freeze(['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']) as string[] } as const;

const UV_COMMON = { maxUvRetries: 5, preferredPlatformUvAttempts: 3, templateCapacity: 5 } as const;
const FINGERPRINT = Object.freeze({ kind: 1, maxCaptureSamplesRequiredForEnroll: 4, maxTemplateFriendlyName: 64 } as const);

/**
 * Extensions (ctap/extensions; registry.ts checkProfileExtensions says what each needs): the PIN-capable
 * profiles have every CTAP 2.1 one plus CTAP 2.2 hmac-secret-mc; a key without PIN and UV has no PIN/UV auth
 * protocol (so no hmac-secret), no PIN policy (no minPinLength) and no largeBlobs (no largeBlobKey).
 */
const PIN_EXTENSIONS = Object.freeze(['credProtect', 'hmac-secret', 'hmac-secret-mc', 'credBlob', 'largeBlobKey', 'minPinLength']) as string[];
const PINLESS_EXTENSIONS = Object.freeze(['credProtect', 'credBlob']) as string[];

function profile(
  p: Omit<Profile, keyof ReturnType<typeof base> | 'options'> &
    Partial<Pick<Profile, keyof ReturnType<typeof base>>> & { options: Partial<ProfileOptions> },
): Profile {
  return Object.freeze({
    ...base(),
    ...p,
    options: Object.freeze({ plat: false, rk: true, up: true, makeCredUvNotRqd: true, alwaysUv: false, ...p.options }),
  });
}

/**
 * The default: a PIN-capable USB CTAP 2.1 security key without built-in UV (like most keys sold): clientPin
 * with protocols [2, 1], discoverable credentials, ES256 and EdDSA, makeCredUvNotRqd (non-discoverable
 * credentials without UV even once a PIN is set). getInfo adds "FIDO_2_1_PRE" for the preview credential
 * management command (0x41) it serves beside 0x0A.
 */
export const defaultProfile: Profile = profile({
  name: 'ctap21',
  // Fixed vfido AAGUIDs (a random v4 UUID chosen once, last byte per model): 5646494f-2d30-4c2e-9b1a-7e3c1d0a2b41.
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b41'),
  options: {},
  pin: PIN,
  ...CTAP21_PIN_FEATURES,
  extensions: PIN_EXTENSIONS,
  ...CTAP21_U2F,
});

/** + a fingerprint sensor (authenticatorBioEnrollment, getPinUvAuthTokenUsingUvWithPermissions). */
export const fingerprintProfile: Profile = profile({
  name: 'ctap21-fingerprint',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b42'),
  options: {},
  pin: PIN,
  ...CTAP21_PIN_FEATURES,
  extensions: PIN_EXTENSIONS,
  ...CTAP21_U2F,
  uv: Object.freeze({ ...UV_COMMON, modalities: Object.freeze(['fingerprint']) as UvModalityList, fingerprint: FINGERPRINT }),
});

/** + a face sensor. CTAP has no face enrollment command: face templates are seeded (start options, control API). */
export const faceProfile: Profile = profile({
  name: 'ctap21-face',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b43'),
  options: {},
  pin: PIN,
  ...CTAP21_PIN_FEATURES,
  extensions: PIN_EXTENSIONS,
  ...CTAP21_U2F,
  uv: Object.freeze({ ...UV_COMMON, modalities: Object.freeze(['face']) as UvModalityList }),
});

/** + both sensors; fingerprint first (verification uses the first modality that has templates). */
export const fingerprintFaceProfile: Profile = profile({
  name: 'ctap21-fingerprint-face',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b44'),
  options: {},
  pin: PIN,
  ...CTAP21_PIN_FEATURES,
  extensions: PIN_EXTENSIONS,
  ...CTAP21_U2F,
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
  extensions: PINLESS_EXTENSIONS,
});

type UvModalityList = ('fingerprint' | 'face')[];

/**
 * A CTAP 2.0 key with U2F (like a YubiKey 5 before firmware 5.2): versions ["U2F_V2", "FIDO_2_0"]; getInfo has
 * only the CTAP 2.0 members (versions, extensions, aaguid, options plat / rk / clientPin / up, maxMsgSize,
 * pinProtocols) and so advertises no list limits, which it then does not enforce; CTAP 2.0 commands only (no
 * selection, credential management, large blobs, config, bio enrollment); clientPIN with PIN protocol 1 and
 * the CTAP 2.0 subcommands (getPinToken, no pinUvAuthToken); ES256 only; hmac-secret its only extension.
 * Without makeCredUvNotRqd: once a PIN is set, makeCredential needs pinAuth (CTAP 2.0 §5.1: PIN_REQUIRED, the
 * code CTAP 2.1 calls PUAT_REQUIRED).
 */
export const ctap20Profile: Profile = profile({
  name: 'ctap20',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b45'),
  versions: ['U2F_V2', 'FIDO_2_0'],
  u2f: true,
  algorithms: [CoseAlg.ES256],
  options: { makeCredUvNotRqd: false },
  pin: Object.freeze({ ...PIN, protocols: Object.freeze([1]) as (1 | 2)[] }),
  extensions: ['hmac-secret'],
});

/**
 * A U2F-only key (FIDO U2F v1.2, like a YubiKey 4 or a Security Key by Yubico of 2016): CTAPHID_MSG only; no
 * CAPABILITY_CBOR, CTAPHID_CBOR answered CTAPHID ERROR INVALID_CMD, so platforms fall back to CTAP1. Its key
 * handles are non-resident P-256 credentials; the device's attestation certificate signs registrations.
 */
export const u2fProfile: Profile = profile({
  name: 'u2f',
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b46'),
  versions: ['U2F_V2'],
  u2f: true,
  algorithms: [CoseAlg.ES256],
  options: { rk: false, makeCredUvNotRqd: false },
});
