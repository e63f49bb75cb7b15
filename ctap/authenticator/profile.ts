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
  options: Object.freeze({ plat: false, rk: true, up: true }),
  maxMsgSize: HID_MAX_MESSAGE_SIZE,
  maxCredentialCountInList: 8,
  maxCredentialIdLength: 128,
  transports: ['usb'],
  firmwareVersion: 1,
  residentCredentialCapacity: 25,
  extensions: [],
}) as Profile;
