/**
 * The platform side of the CTAP 2.1 §12 extensions for tests, on node:crypto and test/helpers/pinClient.ts
 * (independent of ctap/extensions): hmac-secret inputs (salts encrypted under a fresh key-agreement shared
 * secret, saltAuth) and the decryption of its output; reading the authData extensions map.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { decodeCanonical, type CborMap } from '../../ctap/cbor.ts';
import { authenticate, decrypt, encrypt, type PinClient, type Protocol } from './pinClient.ts';
import { parseAuthData } from './webauthn.ts';

export interface HmacSecretRequest {
  /** The authenticator extension input {1: keyAgreement, 2: saltEnc, 3: saltAuth, 4?: pinUvAuthProtocol}. */
  input: Map<number, unknown>;
  /** Decrypt the "hmac-secret" output with the request's shared secret: [output1, output2?]. */
  open(output: Uint8Array): Uint8Array[];
}

/**
 * getKeyAgreement + encapsulate, then saltEnc = encrypt(shared, salt1 [|| salt2]) and saltAuth =
 * authenticate(shared, saltEnc). `omitProtocol` leaves key 4 out (libfido2 does for protocol one);
 * `plaintext` overrides the salts (to send a wrong length); `tamper` flips a bit of saltAuth.
 */
export async function hmacSecretRequest(
  client: PinClient,
  salts: Uint8Array[],
  o: { omitProtocol?: boolean; plaintext?: Uint8Array; tamper?: boolean; protocolMember?: number } = {},
): Promise<HmacSecretRequest> {
  const protocol: Protocol = client.protocol;
  const { platformKey, sharedSecret } = await client.session();
  const plain = o.plaintext ?? new Uint8Array(Buffer.concat(salts));
  const saltEnc = encrypt(protocol, sharedSecret, plain);
  const saltAuth = authenticate(protocol, sharedSecret, saltEnc).slice();
  if (o.tamper) saltAuth[0]! ^= 0x01;
  const input = new Map<number, unknown>([
    [1, platformKey],
    [2, saltEnc],
    [3, saltAuth],
  ]);
  if (!o.omitProtocol) input.set(4, o.protocolMember ?? protocol);
  return {
    input,
    open(output) {
      const plainOut = decrypt(protocol, sharedSecret, output);
      const outs = [plainOut.slice(0, 32)];
      if (plainOut.length > 32) outs.push(plainOut.slice(32));
      return outs;
    },
  };
}

/** The authData extensions map (decoded strictly: non-canonical CBOR throws), or undefined without ED. */
export function extensionOutputs(authData: Uint8Array): CborMap | undefined {
  const parsed = parseAuthData(authData);
  if (!parsed.ed) return undefined;
  return decodeCanonical(parsed.extensions!) as CborMap;
}

/**
 * The expected hmac-secret output, computed independently from the device master key (read from the store):
 * CredRandom = HMAC-SHA-256(HKDF-SHA-256(masterKey, 32 zero bytes, "vfido hmac-secret CredRandomWith[out]UV", 32),
 * credentialId), output = HMAC-SHA-256(CredRandom, salt) (CTAP 2.1 §12.5 step 6).
 */
export function expectedHmacOutput(masterKey: Uint8Array, credentialId: Uint8Array, uv: boolean, salt: Uint8Array): Uint8Array {
  const info = uv ? 'vfido hmac-secret CredRandomWithUV' : 'vfido hmac-secret CredRandomWithoutUV';
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(32), info, 32));
  const credRandom = createHmac('sha256', key).update(credentialId).digest();
  return new Uint8Array(createHmac('sha256', credRandom).update(salt).digest());
}

/** A deterministic 32-byte salt from a label. */
export function salt(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`salt:${label}`).digest());
}
