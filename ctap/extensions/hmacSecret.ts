/**
 * hmac-secret (CTAP 2.1 §12.5 `#sctn-hmac-secret-extension`) and hmac-secret-mc (CTAP 2.2 §12.8): a
 * per-credential PRF. Every credential has two 32-byte secrets, CredRandomWithUV and CredRandomWithoutUV.
 * They are not stored: they are derived from the device master key and the credential ID, so they exist for
 * every credential this device made (CTAP 2.2 recommends CredRandom for credentials made without the
 * extension too, for WebAuthn prf), survive power cycles, repeat in seeded runs and die with a reset.
 *
 * The platform sends salts encrypted under a PIN/UV auth protocol shared secret (the device's key-agreement
 * key from authenticatorClientPIN getKeyAgreement); outputs come back encrypted the same way.
 */
import { utf8 } from '../bytes.ts';
import type { CborMap, CborValue } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import type { Crypto } from '../authenticator/env.ts';
import type { HandlerContext } from '../authenticator/context.ts';
import { bool, bytes, map, optional, required, uint } from '../messages/fields.ts';
import type { PinUvAuthProtocol } from '../pin/protocol.ts';
import { pinSession } from '../pin/session.ts';

export const HMAC_SECRET = 'hmac-secret';
export const HMAC_SECRET_MC = 'hmac-secret-mc';

/** The getAssertion input map (and the CTAP 2.2 hmac-secret-mc makeCredential input): {1, 2, 3, 4}. */
export interface HmacSecretInput {
  /** 1: the platform's key-agreement key (COSE_Key). */
  keyAgreement: CborMap;
  /** 2: encrypt(shared secret, salt1 [|| salt2]). */
  saltEnc: Uint8Array;
  /** 3: authenticate(shared secret, saltEnc). */
  saltAuth: Uint8Array;
  /** 4: the PIN/UV auth protocol of the shared secret (absent → protocol one). */
  pinUvAuthProtocol?: number;
}

/** makeCredential input: the boolean true asks for the extension; false is "not requested". */
export function parseHmacSecretCreateInput(v: CborValue): boolean {
  return bool(v, `extensions.${HMAC_SECRET}`);
}

/** The {1: keyAgreement, 2: saltEnc, 3: saltAuth, 4?: pinUvAuthProtocol} map: missing → MISSING_PARAMETER. */
export function parseHmacSecretGetInput(v: CborValue, id: string = HMAC_SECRET): HmacSecretInput {
  const name = `extensions.${id}`;
  const m = map(v, name);
  const input: HmacSecretInput = {
    keyAgreement: required(m, 1, map, `${name}.keyAgreement`),
    saltEnc: required(m, 2, bytes, `${name}.saltEnc`),
    saltAuth: required(m, 3, bytes, `${name}.saltAuth`),
  };
  const protocol = optional(m, 4, uint, `${name}.pinUvAuthProtocol`);
  if (protocol !== undefined) input.pinUvAuthProtocol = protocol;
  return input;
}

/** The decrypted salts and the shared secret to encrypt the outputs with (volatile; never logged). */
export interface HmacSecretSalts {
  protocol: PinUvAuthProtocol;
  sharedSecret: Uint8Array;
  /** One or two 32-byte salts. */
  salts: Uint8Array[];
}

const SALT_LENGTH = 32;

/** CTAP 2.1 §12.5 getAssertion processing, steps 2–4: decapsulate, verify saltAuth, decrypt the salts. */
export function openSalts(h: HandlerContext, input: HmacSecretInput): HmacSecretSalts {
  const session = pinSession(h);
  let protocol: PinUvAuthProtocol | undefined;
  if (input.pinUvAuthProtocol === undefined) {
    // "If pinUvAuthProtocol is absent and a pinUvAuthProtocol value of 1 is supported by the authenticator, let
    // the value of pinUvAuthProtocol be 1"; "... is not supported ..., then return CTAP2_ERR_PIN_AUTH_INVALID."
    protocol = session.protocol(1);
    if (!protocol) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID, 'hmac-secret: protocol one is not supported');
  } else {
    // Decision (as for every pinUvAuthProtocol member, §6.5.5.1): a value the device does not support →
    // CTAP1_ERR_INVALID_PARAMETER.
    protocol = session.protocol(input.pinUvAuthProtocol);
    if (!protocol) {
      throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, `hmac-secret: pinUvAuthProtocol ${input.pinUvAuthProtocol} is not supported`);
    }
  }
  // Step 2: "The authenticator calls decapsulate on the provided platform key-agreement key to obtain a shared
  // secret" (a malformed key or a point not on P-256 → CTAP1_ERR_INVALID_PARAMETER, in decapsulate).
  const sharedSecret = protocol.decapsulate(input.keyAgreement);
  // Step 3: "verify(shared secret, saltEnc, saltAuth). If the verification fails, return CTAP2_ERR_PIN_AUTH_INVALID."
  if (!protocol.verify(sharedSecret, input.saltEnc, input.saltAuth)) {
    throw new CtapError(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID, 'hmac-secret: saltAuth does not verify');
  }
  // Step 4: "decrypt(shared secret, saltEnc). If the decryption fails, or if the result is not 32 or 64 bytes
  // long, return CTAP1_ERR_INVALID_PARAMETER."
  const plain = protocol.decrypt(sharedSecret, input.saltEnc);
  if (!plain || (plain.length !== SALT_LENGTH && plain.length !== 2 * SALT_LENGTH)) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, 'hmac-secret: the salts are not 32 or 64 bytes');
  }
  const salts = [plain.slice(0, SALT_LENGTH)];
  if (plain.length === 2 * SALT_LENGTH) salts.push(plain.slice(SALT_LENGTH));
  return { protocol, sharedSecret, salts };
}

const CRED_RANDOM_SALT = new Uint8Array(32);
const CRED_RANDOM_INFO = { withUv: utf8('vfido hmac-secret CredRandomWithUV'), withoutUv: utf8('vfido hmac-secret CredRandomWithoutUV') };

/**
 * CredRandomWithUV / CredRandomWithoutUV of a credential: HMAC-SHA-256(K, credentialId) with
 * K = HKDF-SHA-256(IKM = master key, salt = 32 zero bytes, info = "vfido hmac-secret CredRandomWith[out]UV", 32).
 * The credential ID is unique per credential (random nonce), so each credential gets its own pair.
 */
export function credRandom(crypto: Crypto, masterKey: Uint8Array, credentialId: Uint8Array, uv: boolean): Uint8Array {
  const key = crypto.hkdfSha256(masterKey, CRED_RANDOM_SALT, uv ? CRED_RANDOM_INFO.withUv : CRED_RANDOM_INFO.withoutUv, 32);
  return crypto.hmacSha256(key, credentialId);
}

/**
 * CTAP 2.1 §12.5 steps 5–7: "If uv bit is set to 1 in the response, let CredRandom be CredRandomWithUV", else
 * CredRandomWithoutUV; output_i = HMAC-SHA-256(CredRandom, salt_i); the extension output is
 * encrypt(shared secret, output1 [|| output2]).
 */
export function hmacSecretOutput(h: HandlerContext, s: HmacSecretSalts, credentialId: Uint8Array, uv: boolean): Uint8Array {
  const secret = credRandom(h.env.crypto, h.device.persistent.masterKey, credentialId, uv);
  const outputs = s.salts.map((salt) => h.env.crypto.hmacSha256(secret, salt));
  const plain = new Uint8Array(outputs.length * SALT_LENGTH);
  outputs.forEach((o, i) => plain.set(o, i * SALT_LENGTH));
  return s.protocol.encrypt(s.sharedSecret, plain);
}
