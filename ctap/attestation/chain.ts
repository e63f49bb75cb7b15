/**
 * The device's local attestation PKI: a self-signed test CA and an attestation certificate for packed
 * attestation with x5c. Generated once per device (keys from the Env's Crypto, hence from its Rng), so a
 * seeded device has a byte-identical chain.
 */
import { CoseAlg } from '../authenticator/env.ts';
import type { Crypto } from '../authenticator/env.ts';
import { concat, toHex, utf8 } from '../bytes.ts';
import { buildCertificate, type Name } from './x509.ts';

export interface AttestationChain {
  attestationPrivateKey: Uint8Array;
  /** Uncompressed P-256 point. */
  attestationPublicKey: Uint8Array;
  /** x5c order: the attestation certificate first, then the CA that issued it. */
  certChain: [leafDer: Uint8Array, caDer: Uint8Array];
  /**
   * CTAP 2.1 §7.1 enterprise attestation: a second certificate for the same attestation key from the same CA,
   * whose subject also carries the device serial number (uniquely identifying, as EA may be).
   */
  enterpriseCertDer: Uint8Array;
  /** The serial number in enterpriseCertDer's subject (16 hex digits). */
  deviceSerial: string;
  caPrivateKey: Uint8Array;
  caPublicKey: Uint8Array;
}

export interface AttestationChainOptions {
  /** Organisation in both subjects. Default 'vfido'. */
  organization?: string;
  /** ISO 3166 alpha-2. Default 'US'. */
  country?: string;
  /** Leaf CN. Default 'vfido Virtual Authenticator'. */
  commonName?: string;
  /** Fixed validity ('YYYYMMDDHHMMSSZ'), so the chain never depends on the clock. */
  notBefore?: string;
  notAfter?: string;
}

export const DEFAULT_NOT_BEFORE = '20240101000000Z';
export const DEFAULT_NOT_AFTER = '20491231235959Z';

/** Serial derived from the subject key: unique per key, positive, 16 octets, reproducible. */
function serialFor(crypto: Crypto, publicKey: Uint8Array): Uint8Array {
  const s = crypto.sha256(concat(utf8('vfido/certificate-serial'), publicKey)).slice(0, 16);
  s[0] = (s[0]! & 0x7f) | 0x01; // positive, and never a leading zero octet
  return s;
}

export function buildAttestationChain(crypto: Crypto, aaguid: Uint8Array, options: AttestationChainOptions = {}): AttestationChain {
  const {
    organization = 'vfido',
    country = 'US',
    commonName = 'vfido Virtual Authenticator',
    notBefore = DEFAULT_NOT_BEFORE,
    notAfter = DEFAULT_NOT_AFTER,
  } = options;
  const ca = crypto.generateKeyPair(CoseAlg.ES256);
  const att = crypto.generateKeyPair(CoseAlg.ES256);
  const signWithCa = (tbs: Uint8Array): Uint8Array => crypto.sign(CoseAlg.ES256, ca.privateKey, tbs);

  const caName: Name = { C: country, O: organization, OU: 'vfido Test Attestation CA', CN: 'vfido Test Attestation CA' };
  const caDer = buildCertificate({
    serial: serialFor(crypto, ca.publicKey),
    issuer: caName,
    subject: caName,
    notBefore,
    notAfter,
    subjectPublicKey: ca.publicKey,
    isCA: true,
    sign: signWithCa,
  });

  // WebAuthn L3 §8.2.1 (packed attestation statement certificate requirements): C, O, OU = "Authenticator
  // Attestation", CN; basic constraints CA=false; id-fido-gen-ce-aaguid when the root serves several models.
  const leafDer = buildCertificate({
    serial: serialFor(crypto, att.publicKey),
    issuer: caName,
    subject: { C: country, O: organization, OU: 'Authenticator Attestation', CN: commonName },
    notBefore,
    notAfter,
    subjectPublicKey: att.publicKey,
    isCA: false,
    aaguid,
    issuerPublicKey: ca.publicKey,
    sign: signWithCa,
  });

  // Enterprise attestation: the same packed requirements, plus serialNumber; no draw from the Rng, so seeded
  // devices keep their keys and basic chain byte for byte.
  const deviceSerial = toHex(crypto.sha256(concat(utf8('vfido/device-serial'), att.publicKey)).subarray(0, 8)).toUpperCase();
  const enterpriseCertDer = buildCertificate({
    serial: serialFor(crypto, concat(utf8('enterprise'), att.publicKey)),
    issuer: caName,
    subject: { C: country, O: organization, OU: 'Authenticator Attestation', CN: `${commonName} (Enterprise)`, serialNumber: deviceSerial },
    notBefore,
    notAfter,
    subjectPublicKey: att.publicKey,
    isCA: false,
    aaguid,
    issuerPublicKey: ca.publicKey,
    sign: signWithCa,
  });

  return {
    attestationPrivateKey: att.privateKey,
    attestationPublicKey: att.publicKey,
    certChain: [leafDer, caDer],
    enterpriseCertDer,
    deviceSerial,
    caPrivateKey: ca.privateKey,
    caPublicKey: ca.publicKey,
  };
}
