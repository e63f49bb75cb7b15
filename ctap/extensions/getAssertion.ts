/**
 * Extensions in authenticatorGetAssertion (CTAP 2.1 §6.2.2 step 10) and getNextAssertion (§6.3, which answers
 * with the remembered request's extensions for each further credential):
 * 1. readGetAssertionExtensions: validate the inputs of the enabled extensions before any user interaction;
 * 2. openGetAssertionExtensions (step 10): the hmac-secret key agreement and salts, once per request;
 * 3. assertionExtensionOutputs, per credential: the authData extensions map and the largeBlobKey member.
 */
import { encode, type CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import type { HandlerContext } from '../authenticator/context.ts';
import type { AssertionCandidate } from '../authenticator/deviceState.ts';
import { CRED_BLOB, parseCredBlobGetInput } from './credBlob.ts';
import { HMAC_SECRET, hmacSecretOutput, openSalts, parseHmacSecretGetInput, type HmacSecretInput, type HmacSecretSalts } from './hmacSecret.ts';
import { LARGE_BLOB_KEY, parseLargeBlobKeyInput } from './largeBlobKey.ts';
import { extensionEnabled, type ExtensionId } from './registry.ts';

export interface GetAssertionExtensionInputs {
  hmacSecret?: HmacSecretInput;
  credBlob: boolean;
  largeBlobKey: boolean;
}

/** Step 1: parse the inputs of enabled extensions; unknown or disabled identifiers are ignored. */
export function readGetAssertionExtensions(
  h: HandlerContext,
  extensions: Map<string, CborValue> | undefined,
  o: { up: boolean },
): GetAssertionExtensionInputs {
  const inputs: GetAssertionExtensionInputs = { credBlob: false, largeBlobKey: false };
  if (extensions === undefined) return inputs;
  const input = (id: ExtensionId): CborValue | undefined => (extensionEnabled(h.profile, id) ? extensions.get(id) : undefined);
  const hmacSecret = input(HMAC_SECRET);
  if (hmacSecret !== undefined) {
    inputs.hmacSecret = parseHmacSecretGetInput(hmacSecret);
    // CTAP 2.1 §12.5 getAssertion processing step 1: "If "up" is set to false, authenticator returns
    // CTAP2_ERR_UNSUPPORTED_OPTION." Checked here, before user verification, as it depends on the request only.
    if (!o.up) throw new CtapError(CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION, 'hmac-secret needs user presence (up=false)');
  }
  const credBlob = input(CRED_BLOB);
  if (credBlob !== undefined) inputs.credBlob = parseCredBlobGetInput(credBlob);
  const largeBlobKey = input(LARGE_BLOB_KEY);
  if (largeBlobKey !== undefined) inputs.largeBlobKey = parseLargeBlobKeyInput(largeBlobKey);
  return inputs;
}

/**
 * The request's extensions, ready to answer for any credential (kept with the getNextAssertion state; holds
 * the hmac-secret shared secret and salts: volatile, never logged).
 */
export interface AssertionExtensions {
  hmacSecret?: HmacSecretSalts;
  credBlob: boolean;
  largeBlobKey: boolean;
}

/** Step 2 (§6.2.2 step 10): hmac-secret steps 2–4 (decapsulate, verify saltAuth, decrypt) run once here. */
export function openGetAssertionExtensions(h: HandlerContext, inputs: GetAssertionExtensionInputs): AssertionExtensions {
  const out: AssertionExtensions = { credBlob: inputs.credBlob, largeBlobKey: inputs.largeBlobKey };
  if (inputs.hmacSecret) out.hmacSecret = openSalts(h, inputs.hmacSecret);
  return out;
}

export interface AssertionExtensionOutputs {
  /** Canonical CBOR of the authenticator extension outputs map; undefined when it would be empty (no ED). */
  authData?: Uint8Array;
  /** Response member 0x07. */
  largeBlobKey?: Uint8Array;
}

/** Step 3, for the credential being asserted with the response's UV bit. */
export function assertionExtensionOutputs(
  h: HandlerContext,
  ext: AssertionExtensions | undefined,
  credential: AssertionCandidate,
  uv: boolean,
): AssertionExtensionOutputs {
  if (!ext) return {};
  const m = new Map<string, CborValue>();
  // §12.2: the stored blob, or "an empty byte string" when the credential has none.
  if (ext.credBlob) m.set(CRED_BLOB, credential.resident?.credBlob?.slice() ?? new Uint8Array(0));
  // §12.5 steps 5–7: encrypt(shared secret, output1 [|| output2]) with CredRandomWith[out]UV.
  if (ext.hmacSecret) m.set(HMAC_SECRET, hmacSecretOutput(h, ext.hmacSecret, credential.credentialId, uv));
  const out: AssertionExtensionOutputs = {};
  if (m.size > 0) out.authData = encode(m);
  // §12.3: the credential's largeBlobKey, when it has one (discoverable credentials made with the extension).
  const key = ext.largeBlobKey ? credential.resident?.largeBlobKey : undefined;
  if (key) out.largeBlobKey = key.slice();
  return out;
}
