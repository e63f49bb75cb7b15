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

/**
 * A USB CTAP 2.1 roaming key without PIN or built-in UV: discoverable credentials, ES256 and EdDSA,
 * selection, reset. Decision on versions: CTAP 2.1 §6.4 makes `pinUvAuthToken` mandatory only when the
 * `clientPin` or `uv` option ID is present, and this profile advertises neither, so "FIDO_2_1" is listed
 * together with "FIDO_2_0" (clients that only speak 2.0 still recognise the key). "FIDO_2_1_PRE" is not
 * listed: it announces the preview bio/credMgmt commands (0x40/0x41), which are not implemented.
 */
export const defaultProfile: Profile = Object.freeze({
  name: 'vfido-ctap21-usb',
  // Fixed vfido AAGUID (random v4 UUID chosen once): 5646494f-2d30-4c2e-9b1a-7e3c1d0a2b41.
  aaguid: fromHex('5646494f2d304c2e9b1a7e3c1d0a2b41'),
  versions: ['FIDO_2_0', 'FIDO_2_1'],
  algorithms: [CoseAlg.ES256, CoseAlg.EdDSA],
  options: Object.freeze({ plat: false, rk: true, up: true, makeCredUvNotRqd: false, alwaysUv: false }),
  maxMsgSize: HID_MAX_MESSAGE_SIZE,
  maxCredentialCountInList: 8,
  maxCredentialIdLength: 128,
  transports: ['usb'],
  firmwareVersion: 1,
  residentCredentialCapacity: 25,
  extensions: [],
}) as Profile;
