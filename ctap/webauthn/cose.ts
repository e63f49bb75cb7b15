/**
 * COSE_Key encoding of credential public keys (RFC 9053; CTAP 2.1 §6.5.6 / WebAuthn L3 §6.5.1.1).
 * Keys carry kty, alg, crv and the coordinates only; `encode` puts them in canonical order 1, 3, -1, -2, -3.
 */
import { CoseAlg } from '../authenticator/env.ts';
import { encode } from '../cbor.ts';

const CoseKty = { OKP: 1, EC2: 2 } as const;
const CoseCrv = { P256: 1, Ed25519: 6 } as const;

/** COSE_Key map for a raw public key as produced by `Crypto.generateKeyPair`. */
export function coseKeyMap(alg: CoseAlg, publicKey: Uint8Array): Map<number, number | Uint8Array> {
  if (alg === CoseAlg.ES256) {
    if (publicKey.length !== 65 || publicKey[0] !== 0x04) {
      throw new TypeError(`ES256 public key: expected a 65-byte uncompressed point, got ${publicKey.length} bytes`);
    }
    return new Map<number, number | Uint8Array>([
      [1, CoseKty.EC2],
      [3, CoseAlg.ES256],
      [-1, CoseCrv.P256],
      [-2, publicKey.slice(1, 33)],
      [-3, publicKey.slice(33, 65)],
    ]);
  }
  if (alg === CoseAlg.EdDSA) {
    if (publicKey.length !== 32) throw new TypeError(`Ed25519 public key: expected 32 bytes, got ${publicKey.length}`);
    return new Map<number, number | Uint8Array>([
      [1, CoseKty.OKP],
      [3, CoseAlg.EdDSA],
      [-1, CoseCrv.Ed25519],
      [-2, publicKey.slice()],
    ]);
  }
  throw new TypeError(`unsupported COSE algorithm ${String(alg)}`);
}

/** Canonical CBOR bytes of the COSE_Key. */
export function encodeCoseKey(alg: CoseAlg, publicKey: Uint8Array): Uint8Array {
  return encode(coseKeyMap(alg, publicKey));
}
