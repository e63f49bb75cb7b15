/**
 * Minimal X.509 v3 certificate builder (DER, RFC 5280) for attestation certificates: ECDSA P-256 keys,
 * ecdsa-with-SHA256 signatures, a handful of extensions. Pure: signing goes through a callback, validity
 * comes from the caller as fixed strings so seeded runs stay byte-identical.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from '../bytes.ts';

// ---------------------------------------------------------------------------------------------------------
// DER encoder (ITU-T X.690 §8 and §10)

/** X.690 §8.1.3: definite length, short form below 128, else long form with the minimal number of bytes. */
export function derLength(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`DER length: expected a non-negative integer, got ${n}`);
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

/** One TLV: identifier octet `tag`, length, content. */
export function derTlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(...content);
  return concat(new Uint8Array([tag]), derLength(body.length), body);
}

export const derSequence = (...items: Uint8Array[]): Uint8Array => derTlv(0x30, ...items);

/** X.690 §11.6: the components of a SET OF are sorted by their encodings. */
export function derSet(...items: Uint8Array[]): Uint8Array {
  const sorted = [...items].sort(compareBytes);
  return derTlv(0x31, ...sorted);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** INTEGER from an unsigned big-endian magnitude (X.690 §8.3: minimal two's complement). */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.length === 0 ? new Uint8Array([0]) : magnitude.subarray(i);
  return derTlv(0x02, m[0]! & 0x80 ? concat(new Uint8Array([0]), m) : m);
}

export function derSmallInteger(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`derSmallInteger: expected 0..65535, got ${n}`);
  return derUnsignedInteger(n > 0xff ? new Uint8Array([n >> 8, n & 0xff]) : new Uint8Array([n]));
}

/** X.690 §8.19: OBJECT IDENTIFIER in dotted form. */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new TypeError(`derOid: bad arc ${JSON.stringify(s)} in ${dotted}`);
    return Number(s);
  });
  if (arcs.length < 2 || arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! > 39)) throw new TypeError(`derOid: invalid OID ${dotted}`);
  const out: number[] = [];
  const push = (v: number): void => {
    const b = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return derTlv(0x06, new Uint8Array(out));
}

export const derUtf8String = (s: string): Uint8Array => derTlv(0x0c, utf8(s));

/** X.680 §41.4: PrintableString is A-Z a-z 0-9 space ' ( ) + , - . / : = ? only. */
export function derPrintableString(s: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw new TypeError(`PrintableString: invalid characters in ${JSON.stringify(s)}`);
  return derTlv(0x13, utf8(s));
}

/** BIT STRING whose first content octet is the number of unused bits in the last octet. */
export function derBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`BIT STRING: bad unused-bit count ${unusedBits}`);
  }
  return derTlv(0x03, new Uint8Array([unusedBits]), bytes);
}

export const derOctetString = (bytes: Uint8Array): Uint8Array => derTlv(0x04, bytes);
export const derBoolean = (b: boolean): Uint8Array => derTlv(0x01, new Uint8Array([b ? 0xff : 0x00]));

/** [n] EXPLICIT: constructed context-specific tag wrapping one encoding. */
export const derExplicit = (n: number, inner: Uint8Array): Uint8Array => derTlv(0xa0 | n, inner);
/** [n] IMPLICIT on a primitive type: context-specific primitive tag with the raw content. */
export const derImplicitPrimitive = (n: number, content: Uint8Array): Uint8Array => derTlv(0x80 | n, content);

/**
 * Time from a 'YYYYMMDDHHMMSSZ' string. RFC 5280 §4.1.2.5: UTCTime (YYMMDDHHMMSSZ) for years 1950–2049,
 * GeneralizedTime for 2050 and later.
 */
export function derTime(t: string): Uint8Array {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(t);
  if (!m) throw new TypeError(`certificate time: expected 'YYYYMMDDHHMMSSZ', got ${JSON.stringify(t)}`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  if (y < 1950 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
    throw new RangeError(`certificate time out of range: ${t}`);
  }
  return y < 2050 ? derTlv(0x17, utf8(t.slice(2))) : derTlv(0x18, utf8(t));
}

// ---------------------------------------------------------------------------------------------------------
// X.509 (RFC 5280 §4.1)

export const OID = {
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  idEcPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  /** FIDO: id-fido-gen-ce-aaguid. */
  fidoGenCeAaguid: '1.3.6.1.4.1.45724.1.1.4',
} as const;

export interface Name {
  /** ISO 3166 alpha-2 country code. */
  C: string;
  O: string;
  OU?: string;
  CN: string;
  /** X.520 serialNumber (a device serial number), PrintableString. */
  serialNumber?: string;
}

/** RDNSequence, one attribute per RDN, in the order C, O, OU, CN, serialNumber. */
export function encodeName(name: Name): Uint8Array {
  // RFC 5280 Appendix A: countryName is a 2-letter PrintableString; the others are UTF8String (§4.1.2.4).
  if (!/^[A-Z]{2}$/.test(name.C)) throw new TypeError(`Name.C: expected an ISO 3166 alpha-2 code, got ${JSON.stringify(name.C)}`);
  const rdn = (oid: string, value: Uint8Array): Uint8Array => derSet(derSequence(derOid(oid), value));
  const rdns = [rdn(OID.countryName, derPrintableString(name.C)), rdn(OID.organizationName, derUtf8String(name.O))];
  if (name.OU !== undefined) rdns.push(rdn(OID.organizationalUnitName, derUtf8String(name.OU)));
  rdns.push(rdn(OID.commonName, derUtf8String(name.CN)));
  // X.520 / RFC 5280 Appendix A: serialNumber is a PrintableString.
  if (name.serialNumber !== undefined) rdns.push(rdn(OID.serialNumber, derPrintableString(name.serialNumber)));
  return derSequence(...rdns);
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  // X.690 §11.5: a component equal to its DEFAULT is omitted, so critical=false is not encoded.
  return derSequence(derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value));
}

/** RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 of the subjectPublicKey bits. */
export function keyIdentifier(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, 20);
}

export interface CertificateOptions {
  /** Positive serial number, big-endian; at most 20 octets once DER-encoded (RFC 5280 §4.1.2.2). */
  serial: Uint8Array;
  issuer: Name;
  subject: Name;
  /** 'YYYYMMDDHHMMSSZ' */
  notBefore: string;
  /** 'YYYYMMDDHHMMSSZ' */
  notAfter: string;
  /** Uncompressed P-256 point 0x04||x||y. */
  subjectPublicKey: Uint8Array;
  isCA: boolean;
  /** Adds id-fido-gen-ce-aaguid (non-critical) with this 16-byte AAGUID. */
  aaguid?: Uint8Array;
  /** Issuer's public key, for authorityKeyIdentifier; omit for a self-signed certificate. */
  issuerPublicKey?: Uint8Array;
  /** ECDSA-SHA256 signature over the DER TBSCertificate, DER-encoded, with the issuer's key. */
  sign: (tbs: Uint8Array) => Uint8Array;
}

export function buildCertificate(o: CertificateOptions): Uint8Array {
  if (o.subjectPublicKey.length !== 65 || o.subjectPublicKey[0] !== 0x04) {
    throw new TypeError(`subjectPublicKey: expected a 65-byte uncompressed P-256 point, got ${o.subjectPublicKey.length} bytes`);
  }
  const serial = derUnsignedInteger(o.serial);
  // RFC 5280 §4.1.2.2: serial numbers are positive and no longer than 20 octets.
  if (serial.length - 2 > 20 || o.serial.every((b) => b === 0)) {
    throw new RangeError('serial: expected a positive integer of at most 20 octets');
  }
  const sigAlg = derSequence(derOid(OID.ecdsaWithSHA256)); // RFC 5758 §3.2: parameters absent
  const spki = derSequence(derSequence(derOid(OID.idEcPublicKey), derOid(OID.prime256v1)), derBitString(o.subjectPublicKey));

  const extensions: Uint8Array[] = [
    // RFC 5280 §4.2.1.9: basicConstraints critical in CA certs; cA DEFAULT FALSE is omitted for a leaf.
    extension(OID.basicConstraints, true, derSequence(...(o.isCA ? [derBoolean(true)] : []))),
    // RFC 5280 §4.2.1.3: keyCertSign (bit 5) | cRLSign (bit 6) for a CA; digitalSignature (bit 0) for a leaf.
    // Named bit list: trailing zero bits dropped, first octet counts the unused bits.
    extension(OID.keyUsage, true, o.isCA ? derBitString(new Uint8Array([0x06]), 1) : derBitString(new Uint8Array([0x80]), 7)),
    extension(OID.subjectKeyIdentifier, false, derOctetString(keyIdentifier(o.subjectPublicKey))),
  ];
  if (o.issuerPublicKey) {
    // RFC 5280 §4.2.1.1: AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
    extensions.push(
      extension(OID.authorityKeyIdentifier, false, derSequence(derImplicitPrimitive(0, keyIdentifier(o.issuerPublicKey)))),
    );
  }
  if (o.aaguid) {
    if (o.aaguid.length !== 16) throw new TypeError(`aaguid: expected 16 bytes, got ${o.aaguid.length}`);
    // WebAuthn L3 §8.2.1: id-fido-gen-ce-aaguid holds the AAGUID as a 16-byte OCTET STRING; MUST NOT be critical.
    extensions.push(extension(OID.fidoGenCeAaguid, false, derOctetString(o.aaguid)));
  }

  const tbs = derSequence(
    derExplicit(0, derSmallInteger(2)), // version v3
    serial,
    sigAlg,
    encodeName(o.issuer),
    derSequence(derTime(o.notBefore), derTime(o.notAfter)),
    encodeName(o.subject),
    spki,
    derExplicit(3, derSequence(...extensions)),
  );
  return derSequence(tbs, sigAlg, derBitString(o.sign(tbs)));
}
