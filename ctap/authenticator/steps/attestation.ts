/**
 * Attestation statement for makeCredential (WebAuthn L3 §8.2 packed, §8.7 none; CHECKLIST D6), chosen by the
 * authenticator's AttestationMode.
 */
import { concat } from '../../bytes.ts';
import type { CborValue } from '../../cbor.ts';
import { CoseAlg } from '../env.ts';
import type { HandlerContext } from '../context.ts';

export interface AttestationOutput {
  fmt: string;
  attStmt: Record<string, CborValue>;
}

/**
 * AAGUID to put in attestedCredentialData: all zero for self attestation (CHECKLIST D6), the profile's otherwise
 * (always with an enterprise attestation, which is a basic one).
 */
export function attestedAaguid(h: HandlerContext, enterprise = false): Uint8Array {
  return h.attestation === 'self' && !enterprise ? new Uint8Array(16) : h.profile.aaguid;
}

export function attest(
  h: HandlerContext,
  credential: { alg: CoseAlg; privateKey: Uint8Array },
  authData: Uint8Array,
  clientDataHash: Uint8Array,
  enterprise = false,
): AttestationOutput {
  // WebAuthn L3 §8.2: the signature is over authenticatorData || clientDataHash.
  const message = concat(authData, clientDataHash);
  // CTAP 2.1 §7.1: an enterprise attestation is packed with x5c, whatever the device's usual mode, signed by the
  // attestation key under the enterprise certificate (which names the device serial number); a store from before
  // that certificate existed uses the basic one.
  if (enterprise) {
    const att = h.device.persistent.attestation;
    return {
      fmt: 'packed',
      attStmt: {
        alg: CoseAlg.ES256,
        sig: h.env.crypto.sign(CoseAlg.ES256, att.privateKey, message),
        x5c: [att.enterpriseCertificate ?? att.certChain[0]!],
      },
    };
  }
  switch (h.attestation) {
    case 'none':
      // WebAuthn L3 §8.7: fmt "none", attStmt {}.
      return { fmt: 'none', attStmt: {} };
    case 'self':
      // WebAuthn L3 §8.2 (self attestation): alg of the credential, sig by the credential private key, no x5c.
      return {
        fmt: 'packed',
        attStmt: { alg: credential.alg, sig: h.env.crypto.sign(credential.alg, credential.privateKey, message) },
      };
    case 'basic': {
      // WebAuthn L3 §8.2 (basic): sig by the attestation key; x5c = "attestnCert followed by its certificate
      // chain (if any)". The chain's only other certificate is the self-signed root, which, like hardware keys,
      // we leave out: the RP holds it as its trust anchor, and verifiers such as @simplewebauthn/server reject
      // an x5c that repeats the anchor ("duplicate certificates").
      const att = h.device.persistent.attestation;
      return {
        fmt: 'packed',
        attStmt: {
          alg: CoseAlg.ES256,
          sig: h.env.crypto.sign(CoseAlg.ES256, att.privateKey, message),
          x5c: att.certChain.slice(0, -1),
        },
      };
    }
  }
}
