/**
 * Extensions in authenticatorMakeCredential (CTAP 2.1 §6.1.2 step 15), in three steps the handler calls:
 * 1. readMakeCredentialExtensions: validate the inputs of the enabled extensions, before any user interaction
 *    (wrong CBOR type → CBOR_UNEXPECTED_TYPE, largeBlobKey false / without rk → INVALID_OPTION, ...);
 * 2. processMakeCredentialExtensions (step 15, after user presence): what the new credential carries
 *    (credProtect level, credBlob, largeBlobKey) and the hmac-secret-mc salts;
 * 3. makeCredentialExtensionOutputs, once the credential ID exists: the authData extensions map and the
 *    largeBlobKey response member.
 */
import { encode, type CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import type { HandlerContext } from '../authenticator/context.ts';
import { CRED_BLOB, credBlobToStore, parseCredBlobCreateInput } from './credBlob.ts';
import { CRED_PROTECT, parseCredProtectInput, type CredProtectLevel } from './credProtect.ts';
import {
  HMAC_SECRET,
  HMAC_SECRET_MC,
  hmacSecretOutput,
  openSalts,
  parseHmacSecretCreateInput,
  parseHmacSecretGetInput,
  type HmacSecretInput,
  type HmacSecretSalts,
} from './hmacSecret.ts';
import { LARGE_BLOB_KEY, LARGE_BLOB_KEY_LENGTH, parseLargeBlobKeyInput } from './largeBlobKey.ts';
import { MIN_PIN_LENGTH, minPinLengthOutput, parseMinPinLengthInput } from './minPinLength.ts';
import { extensionEnabled, type ExtensionId } from './registry.ts';

/** The validated inputs of the extensions the profile enables (others were ignored). */
export interface MakeCredentialExtensionInputs {
  credProtect?: CredProtectLevel;
  hmacSecret: boolean;
  hmacSecretMc?: HmacSecretInput;
  credBlob?: Uint8Array;
  largeBlobKey: boolean;
  minPinLength: boolean;
}

/** Step 1: parse the inputs of enabled extensions; unknown or disabled identifiers are ignored. */
export function readMakeCredentialExtensions(
  h: HandlerContext,
  extensions: Map<string, CborValue> | undefined,
  o: { rk: boolean },
): MakeCredentialExtensionInputs {
  const inputs: MakeCredentialExtensionInputs = { hmacSecret: false, largeBlobKey: false, minPinLength: false };
  const input = (id: ExtensionId): CborValue | undefined => (extensionEnabled(h.profile, id) ? extensions?.get(id) : undefined);
  const credProtect = input(CRED_PROTECT);
  if (credProtect !== undefined) {
    const level = parseCredProtectInput(credProtect);
    if (level !== undefined) inputs.credProtect = level;
  }
  const hmacSecret = input(HMAC_SECRET);
  if (hmacSecret !== undefined) inputs.hmacSecret = parseHmacSecretCreateInput(hmacSecret);
  const hmacSecretMc = input(HMAC_SECRET_MC);
  if (hmacSecretMc !== undefined) {
    inputs.hmacSecretMc = parseHmacSecretGetInput(hmacSecretMc, HMAC_SECRET_MC);
    // CTAP 2.2 §12.8: hmac-secret-mc is sent together with "hmac-secret": true. Decision (as the CTAP 2.3
    // implementations that quote the text): without it → CTAP2_ERR_MISSING_PARAMETER.
    if (!inputs.hmacSecret) {
      throw new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, 'hmac-secret-mc needs "hmac-secret": true');
    }
  }
  const credBlob = input(CRED_BLOB);
  if (credBlob !== undefined) inputs.credBlob = parseCredBlobCreateInput(credBlob);
  const largeBlobKey = input(LARGE_BLOB_KEY);
  if (largeBlobKey !== undefined) inputs.largeBlobKey = parseLargeBlobKeyInput(largeBlobKey, { rk: o.rk });
  const minPinLength = input(MIN_PIN_LENGTH);
  if (minPinLength !== undefined) inputs.minPinLength = parseMinPinLengthInput(minPinLength);
  return inputs;
}

/** What the new credential carries, from its extensions (stored in its record; credProtect also in its ID). */
export interface CredentialExtensionData {
  credProtect?: CredProtectLevel;
  credBlob?: Uint8Array;
  largeBlobKey?: Uint8Array;
}

/** Step 2's result: the credential's data plus what step 3 needs. */
export interface ProcessedMakeCredentialExtensions {
  inputs: MakeCredentialExtensionInputs;
  credential: CredentialExtensionData;
  hmacSecretMc?: HmacSecretSalts;
}

/**
 * Step 2 (CTAP 2.1 §6.1.2 step 15, after user presence): choose the credProtect level, keep the credBlob if it
 * fits, draw the largeBlobKey, open the hmac-secret-mc salts (saltAuth / length errors surface here).
 */
export function processMakeCredentialExtensions(
  h: HandlerContext,
  inputs: MakeCredentialExtensionInputs,
  o: { rk: boolean },
): ProcessedMakeCredentialExtensions {
  const credential: CredentialExtensionData = {};
  if (inputs.credProtect !== undefined) credential.credProtect = inputs.credProtect;
  if (inputs.credBlob !== undefined) {
    const blob = credBlobToStore(inputs.credBlob, { rk: o.rk, maxLength: h.profile.maxCredBlobLength });
    if (blob) credential.credBlob = blob;
  }
  // CTAP 2.1 §12.3: a new random 32-byte largeBlobKey for the (discoverable) credential.
  if (inputs.largeBlobKey) credential.largeBlobKey = h.env.rng.randomBytes(LARGE_BLOB_KEY_LENGTH);
  const out: ProcessedMakeCredentialExtensions = { inputs, credential };
  if (inputs.hmacSecretMc) out.hmacSecretMc = openSalts(h, inputs.hmacSecretMc);
  return out;
}

export interface MakeCredentialExtensionOutputs {
  /** Canonical CBOR of the authenticator extension outputs map; undefined when it would be empty (no ED). */
  authData?: Uint8Array;
  /** Response member 0x05. */
  largeBlobKey?: Uint8Array;
}

/**
 * Step 3: the outputs. "The set of keys in the authenticator extension outputs map MUST be equal to, or a subset
 * of, the keys of the authenticator extension inputs map" — every output below answers an input; ED only when
 * the map is non-empty (buildAuthData sets ED iff extensions are given).
 */
export function makeCredentialExtensionOutputs(
  h: HandlerContext,
  p: ProcessedMakeCredentialExtensions,
  o: { rpId: string; credentialId: Uint8Array; uv: boolean },
): MakeCredentialExtensionOutputs {
  const m = new Map<string, CborValue>();
  // §12.1: the output is the credProtect value the credential was given (only when one was requested).
  if (p.credential.credProtect !== undefined) m.set(CRED_PROTECT, p.credential.credProtect);
  // §12.5: "hmac-secret": true once the credential has its CredRandom pair (every credential here does).
  if (p.inputs.hmacSecret) m.set(HMAC_SECRET, true);
  // CTAP 2.2 §12.8: the getAssertion-style output, with the CredRandom matching the response's UV bit.
  if (p.hmacSecretMc) m.set(HMAC_SECRET_MC, hmacSecretOutput(h, p.hmacSecretMc, o.credentialId, o.uv));
  // §12.2: true iff the blob was stored.
  if (p.inputs.credBlob !== undefined) m.set(CRED_BLOB, p.credential.credBlob !== undefined);
  // §12.4: only for an RP on the minPinLengthRPIDs list.
  if (p.inputs.minPinLength) {
    const min = minPinLengthOutput(h.device.persistent, o.rpId);
    if (min !== undefined) m.set(MIN_PIN_LENGTH, min);
  }
  const out: MakeCredentialExtensionOutputs = {};
  if (m.size > 0) out.authData = encode(m);
  if (p.credential.largeBlobKey) out.largeBlobKey = p.credential.largeBlobKey.slice();
  return out;
}
