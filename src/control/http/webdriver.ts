/**
 * The W3C WebDriver virtual-authenticator shapes (WebAuthn L3 §11 "Automation") mapped onto vfido: an
 * authenticator's options onto a profile, the presence port and the sensor; Credential Parameters onto the
 * control API's CredentialInput / CredentialInfo. Pure functions: the registry (registry.ts) applies them.
 *
 * Mapping (no explicit `profile`):
 *   protocol 'ctap1/u2f'                         → profile 'u2f'
 *   protocol 'ctap2'   (CTAP 2.0)                → profile 'ctap20'
 *   protocol 'ctap2_1' or absent, hasUserVerification true  → 'ctap21-fingerprint' (one template enrolled)
 *                                 hasUserVerification false → 'ctap21-nopin' (no UV of any kind)
 *                                 hasUserVerification absent → 'ctap21' (vfido's default, PIN-capable)
 *   hasResidentKey false   → profile override residentCredentialCapacity 0 (rk requests fail KEY_STORE_FULL;
 *                            Deviation: the rk option stays advertised)
 *   isUserConsenting       → presence mode approve / deny
 *   isUserVerified         → sensor policy match / mismatch (every modality); ignored without built-in UV
 *   defaultBackupEligibility / defaultBackupState → a persistent `flags` fault rule (BE / BS on every MC / GA)
 * An explicit `profile` wins; WebDriver fields that contradict it are a 400 naming the field.
 */
import { createPrivateKey } from 'node:crypto';
import type { Profile } from '../../../ctap/authenticator/profile.ts';
import type { StartDeviceOptions } from '../../device.ts';
import type { ProfileOverrides } from '../../faults/compat.ts';
import type { FaultRuleInput } from '../../faults/types.ts';
import type { SensorOptions } from '../../env/verification.ts';
import type { CredentialInfo, CredentialInput } from '../types.ts';
import { badRequest } from './errors.ts';
import { isLoopback } from './security.ts';

export type WebDriverProtocol = 'ctap2' | 'ctap2_1' | 'ctap1/u2f';

export interface AuthenticatorBody {
  protocol?: WebDriverProtocol;
  transport?: 'usb';
  hasResidentKey?: boolean;
  hasUserVerification?: boolean;
  isUserConsenting?: boolean;
  isUserVerified?: boolean;
  extensions?: string[];
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
  // vfido
  profile?: string;
  seed?: string;
  attestation?: 'none' | 'self' | 'basic';
  udp?: { host?: string; port?: number };
  verification?: SensorOptions;
  presence?: { mode?: 'approve' | 'deny' | 'timeout'; delayMs?: number; timeoutMs?: number };
  profileOverrides?: ProfileOverrides;
  faults?: FaultRuleInput[];
}

export interface AuthenticatorPlan {
  /** startDevice options (memory store, UDP transport), without the logger and the fault rules. */
  options: StartDeviceOptions;
  /** Enroll one template of the profile's first modality after start (hasUserVerification: true). */
  enrollTemplate: boolean;
  isUserVerified?: boolean;
  backup: { be: boolean; bs: boolean };
}

/** The id of the rule that carries an authenticator's default BE / BS flags. */
export const DEFAULT_BACKUP_RULE_ID = 'webdriver.defaultBackup';

function profileFor(b: AuthenticatorBody): string {
  if (b.profile !== undefined) return b.profile;
  if (b.protocol === 'ctap1/u2f') {
    if (b.hasUserVerification === true) throw badRequest('hasUserVerification: a ctap1/u2f authenticator has no user verification');
    if (b.hasResidentKey === true) throw badRequest('hasResidentKey: a ctap1/u2f authenticator has no discoverable credentials');
    return 'u2f';
  }
  if (b.protocol === 'ctap2') {
    if (b.hasUserVerification === true) {
      throw badRequest("hasUserVerification: vfido has no CTAP 2.0 profile with built-in user verification (use protocol 'ctap2_1')");
    }
    return 'ctap20';
  }
  if (b.hasUserVerification === true) return 'ctap21-fingerprint';
  if (b.hasUserVerification === false) return 'ctap21-nopin';
  return 'ctap21';
}

/** A create body → startDevice options and what to do after the start. Throws HttpError 400 naming the field. */
export function planAuthenticator(b: AuthenticatorBody, o: { allowRemote: boolean }): AuthenticatorPlan {
  const profile = profileFor(b);
  const overrides: ProfileOverrides = { ...b.profileOverrides };
  if (b.hasResidentKey === false) {
    if ((overrides.residentCredentialCapacity ?? 0) > 0) {
      throw badRequest('hasResidentKey: false contradicts profileOverrides.residentCredentialCapacity > 0');
    }
    overrides.residentCredentialCapacity = 0;
  }
  const presence = { ...b.presence };
  if (b.isUserConsenting !== undefined) {
    if (presence.mode !== undefined) throw badRequest('isUserConsenting: give either isUserConsenting or presence.mode, not both');
    presence.mode = b.isUserConsenting ? 'approve' : 'deny';
  }
  const host = b.udp?.host ?? '127.0.0.1';
  if (!isLoopback(host) && !o.allowRemote) {
    throw badRequest(`udp.host: ${JSON.stringify(host)} is not a loopback address (the control server was not started with allowRemote)`);
  }
  const options: StartDeviceOptions = {
    transport: 'udp',
    host,
    port: b.udp?.port ?? 0,
    store: 'memory',
    profile,
    presence,
    ...(Object.keys(overrides).length ? { profileOverrides: overrides } : {}),
    ...(b.seed !== undefined ? { seed: b.seed } : {}),
    ...(b.attestation !== undefined ? { attestation: b.attestation } : {}),
    ...(b.verification !== undefined ? { verification: b.verification } : {}),
    // `faults` are armed by the registry right after the start, one by one, so an error can name faults[i].
  };
  return {
    options,
    enrollTemplate: b.hasUserVerification === true && b.verification?.templates === undefined,
    ...(b.isUserVerified !== undefined ? { isUserVerified: b.isUserVerified } : {}),
    backup: { be: b.defaultBackupEligibility === true, bs: b.defaultBackupState === true },
  };
}

/** The WebDriver protocol a profile speaks. */
export function protocolOf(p: Profile): WebDriverProtocol {
  if (p.versions.includes('FIDO_2_1')) return 'ctap2_1';
  if (p.versions.includes('FIDO_2_0')) return 'ctap2';
  return 'ctap1/u2f';
}

/** WebDriver extension identifiers → what the profile must have. */
const EXTENSIONS: Readonly<Record<string, (p: Profile) => boolean>> = {
  credProps: (p) => p.options.rk,
  credProtect: (p) => p.extensions.includes('credProtect'),
  credBlob: (p) => p.extensions.includes('credBlob'),
  minPinLength: (p) => p.extensions.includes('minPinLength'),
  largeBlob: (p) => p.extensions.includes('largeBlobKey') && p.largeBlobs !== undefined,
  prf: (p) => p.extensions.includes('hmac-secret'),
  'hmac-secret': (p) => p.extensions.includes('hmac-secret'),
};

/** The WebDriver extension identifiers this profile supports. */
export function extensionsOf(p: Profile): string[] {
  return Object.keys(EXTENSIONS).filter((k) => EXTENSIONS[k]!(p));
}

/** Checks that need the started device's real profile (an explicit `profile` against the WebDriver fields). */
export function checkAgainstProfile(b: AuthenticatorBody, p: Profile): void {
  if (b.protocol !== undefined && protocolOf(p) !== b.protocol) {
    throw badRequest(`protocol: profile ${p.name} speaks ${protocolOf(p)}, not ${b.protocol}`);
  }
  if (b.hasUserVerification !== undefined && (p.uv !== undefined) !== b.hasUserVerification) {
    throw badRequest(`hasUserVerification: profile ${p.name} ${p.uv ? 'has' : 'has no'} built-in user verification`);
  }
  if (b.hasResidentKey === true && (!p.options.rk || p.residentCredentialCapacity === 0)) {
    throw badRequest(`hasResidentKey: profile ${p.name} has no discoverable credentials`);
  }
  (b.extensions ?? []).forEach((x, i) => {
    const has = EXTENSIONS[x];
    if (!has) throw badRequest(`extensions[${i}]: unknown extension ${JSON.stringify(x)} (known: ${Object.keys(EXTENSIONS).join(', ')})`);
    if (!has(p)) throw badRequest(`extensions[${i}]: profile ${p.name} does not support ${x}`);
  });
}

// ---- credentials ----

/** WebDriver Credential Parameters plus vfido fields (POST /authenticators/:id/credentials). */
export interface CredentialBody {
  credentialId?: string;
  isResidentCredential?: boolean;
  rpId: string;
  privateKey?: string;
  userHandle?: string;
  signCount?: number;
  largeBlob?: string;
  backupEligibility?: boolean;
  backupState?: boolean;
  userName?: string;
  userDisplayName?: string;
  rpName?: string;
  alg?: -7 | -8;
}

/** What a GET returns: WebDriver's Credential plus vfido's fields. */
export interface WebDriverCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string;
  userHandle?: string;
  signCount: number;
  privateKey?: string;
  largeBlob?: string;
  userName?: string;
  userDisplayName?: string;
  rpName?: string;
  backupEligibility: boolean;
  backupState: boolean;
  alg: number;
  publicKey: string;
  status: CredentialInfo['status'];
}

/** The COSE algorithm of a PKCS#8 key (P-256 → -7, Ed25519 → -8); undefined for a raw key or garbage. */
function algOfPkcs8(b64: string): -7 | -8 | undefined {
  try {
    const k = createPrivateKey({ key: Buffer.from(b64, 'base64url'), format: 'der', type: 'pkcs8' });
    if (k.asymmetricKeyType === 'ed25519') return -8;
    if (k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1') return -7;
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * WebDriver Credential Parameters → the control API's CredentialInput. isResidentCredential (default true) →
 * `discoverable`; false = a server-side credential the device keeps under exactly `credentialId` (found through
 * allowList / excludeList, never by a discoverable request). `credentialId` absent → the device mints one.
 * A resident credential needs a userHandle (it is the user.id the discoverable getAssertion returns).
 */
export function credentialInput(b: CredentialBody): CredentialInput {
  const resident = b.isResidentCredential ?? true;
  if (b.userHandle === undefined) {
    if (resident) throw badRequest('body.userHandle: required for a resident credential (isResidentCredential true)');
    if (b.userName !== undefined || b.userDisplayName !== undefined) {
      throw badRequest(`body.${b.userName !== undefined ? 'userName' : 'userDisplayName'}: a user name needs a userHandle`);
    }
  }
  const alg = b.alg ?? (b.privateKey !== undefined ? algOfPkcs8(b.privateKey) : undefined);
  let user: CredentialInput['user'];
  if (b.userHandle !== undefined) {
    user = { id: b.userHandle };
    if (b.userName !== undefined) user.name = b.userName;
    if (b.userDisplayName !== undefined) user.displayName = b.userDisplayName;
  }
  return {
    rpId: b.rpId,
    discoverable: resident,
    ...(user ? { user } : {}),
    ...(b.credentialId !== undefined ? { credentialId: b.credentialId } : {}),
    ...(alg !== undefined ? { alg } : {}),
    ...(b.rpName !== undefined ? { rpName: b.rpName } : {}),
    ...(b.privateKey !== undefined ? { privateKey: b.privateKey } : {}),
    ...(b.signCount !== undefined ? { signCount: b.signCount } : {}),
    ...(b.largeBlob !== undefined ? { largeBlob: b.largeBlob } : {}),
  };
}

export interface BackupFlags {
  backupEligibility: boolean;
  backupState: boolean;
}

export function webDriverCredential(c: CredentialInfo, flags: BackupFlags): WebDriverCredential {
  return {
    credentialId: c.credentialId,
    isResidentCredential: c.discoverable,
    rpId: c.rpId,
    ...(c.user !== undefined ? { userHandle: c.user.id } : {}),
    signCount: c.signCount,
    ...(c.privateKey !== undefined ? { privateKey: c.privateKey } : {}),
    ...(c.largeBlob !== undefined ? { largeBlob: c.largeBlob } : {}),
    ...(c.user?.name !== undefined ? { userName: c.user.name } : {}),
    ...(c.user?.displayName !== undefined ? { userDisplayName: c.user.displayName } : {}),
    ...(c.rpName !== undefined ? { rpName: c.rpName } : {}),
    backupEligibility: flags.backupEligibility,
    backupState: flags.backupState,
    alg: c.alg,
    publicKey: c.publicKey,
    status: c.status,
  };
}
