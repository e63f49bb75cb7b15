/**
 * Credential key formats at the control API's edge: raw 32-byte keys inside the device, PKCS#8 (DER,
 * base64url) outside, as the WebDriver virtual-authenticator "Add Credential" / "Get Credentials" use.
 */
import { createPrivateKey } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { CoseAlg } from '../../ctap/authenticator/env.ts';
import { EmulatorError } from '../../ctap/errors.ts';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** The public key: ES256 uncompressed point (65 bytes), EdDSA 32 bytes. */
export function publicKeyOf(alg: CoseAlg, privateKey: Uint8Array): Uint8Array {
  return alg === CoseAlg.ES256 ? p256.getPublicKey(privateKey, false) : ed25519.getPublicKey(privateKey);
}

/** PKCS#8 DER of a raw key. */
export function toPkcs8(alg: CoseAlg, privateKey: Uint8Array): Uint8Array {
  const pub = publicKeyOf(alg, privateKey);
  const jwk =
    alg === CoseAlg.ES256
      ? { kty: 'EC', crv: 'P-256', d: b64(privateKey), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33, 65)) }
      : { kty: 'OKP', crv: 'Ed25519', d: b64(privateKey), x: b64(pub) };
  return new Uint8Array(createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' }));
}

/**
 * A raw 32-byte private key from 32 raw bytes or a PKCS#8 DER key of the credential's algorithm.
 * EMU_ERR_INVALID_ARGUMENT otherwise.
 */
export function rawPrivateKey(alg: CoseAlg, bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length === 32) return bytes.slice();
  let jwk: { kty?: string; crv?: string; d?: string };
  try {
    jwk = createPrivateKey({ key: Buffer.from(bytes), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  } catch {
    throw new EmulatorError('EMU_ERR_INVALID_ARGUMENT', `${what}: expected a raw 32-byte key or a PKCS#8 private key`);
  }
  const want = alg === CoseAlg.ES256 ? 'P-256' : 'Ed25519';
  if (jwk.crv !== want || !jwk.d) {
    throw new EmulatorError('EMU_ERR_INVALID_ARGUMENT', `${what}: a ${jwk.crv ?? jwk.kty ?? 'non-EC'} key does not fit alg ${alg} (${want})`);
  }
  return new Uint8Array(Buffer.from(jwk.d, 'base64url'));
}
