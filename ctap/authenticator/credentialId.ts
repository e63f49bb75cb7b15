/**
 * Credential IDs are self-contained, AEAD-wrapped key blobs (DESIGN.md "Non-resident credentials"; CTAP 2.1
 * §6.1.2 step 18: "the credential ID ... MAY be the wrapped private key"). Every ID, resident or not:
 *
 *   version(1) = 0x01 | nonce(12) | AES-256-GCM(masterKey, nonce, plaintext, aad = rpIdHash)
 *   plaintext = algCode(1) | flags(1) | credProtect(1) | privateKey(32)                       → 64 bytes in all
 *
 * AAD = rpIdHash binds the ID to its RP: an ID presented for another rpId fails to open, exactly like an
 * unknown ID. Rotating the master key (reset) makes every earlier ID unusable.
 */
import { concat } from '../bytes.ts';
import { CoseAlg, type Crypto, type Rng } from './env.ts';

const VERSION = 0x01;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const PRIVATE_KEY_LENGTH = 32;
const PLAINTEXT_LENGTH = 3 + PRIVATE_KEY_LENGTH;
export const CREDENTIAL_ID_LENGTH = 1 + NONCE_LENGTH + PLAINTEXT_LENGTH + TAG_LENGTH;

/** Flag bits inside the sealed plaintext. */
export const CredentialFlag = { resident: 0x01 } as const;

const ALG_CODES: ReadonlyMap<CoseAlg, number> = new Map([
  [CoseAlg.ES256, 1],
  [CoseAlg.EdDSA, 2],
]);

export interface WrappedKey {
  alg: CoseAlg;
  privateKey: Uint8Array;
  resident: boolean;
  /** Placeholder for the credProtect extension (0 = not set). */
  credProtect: number;
}

export function wrapCredentialId(
  crypto: Crypto,
  rng: Rng,
  masterKey: Uint8Array,
  rpIdHash: Uint8Array,
  key: WrappedKey,
): Uint8Array {
  const code = ALG_CODES.get(key.alg);
  if (code === undefined) throw new TypeError(`wrapCredentialId: unsupported algorithm ${String(key.alg)}`);
  if (key.privateKey.length !== PRIVATE_KEY_LENGTH) {
    throw new TypeError(`wrapCredentialId: expected a ${PRIVATE_KEY_LENGTH}-byte private key`);
  }
  const flags = key.resident ? CredentialFlag.resident : 0;
  const plaintext = concat(new Uint8Array([code, flags, key.credProtect & 0xff]), key.privateKey);
  const nonce = rng.randomBytes(NONCE_LENGTH);
  const sealed = crypto.aeadSeal(masterKey, nonce, plaintext, rpIdHash);
  return concat(new Uint8Array([VERSION]), nonce, sealed);
}

/** The wrapped key, or undefined when the ID was not made by this device (with this master key) for this rpIdHash. */
export function unwrapCredentialId(
  crypto: Crypto,
  masterKey: Uint8Array,
  rpIdHash: Uint8Array,
  id: Uint8Array,
): WrappedKey | undefined {
  if (id.length !== CREDENTIAL_ID_LENGTH || id[0] !== VERSION) return undefined;
  const nonce = id.subarray(1, 1 + NONCE_LENGTH);
  const plaintext = crypto.aeadOpen(masterKey, nonce, id.subarray(1 + NONCE_LENGTH), rpIdHash);
  if (!plaintext || plaintext.length !== PLAINTEXT_LENGTH) return undefined;
  let alg: CoseAlg | undefined;
  for (const [a, c] of ALG_CODES) if (c === plaintext[0]) alg = a;
  if (alg === undefined) return undefined;
  return {
    alg,
    resident: (plaintext[1]! & CredentialFlag.resident) !== 0,
    credProtect: plaintext[2]!,
    privateKey: plaintext.slice(3),
  };
}
