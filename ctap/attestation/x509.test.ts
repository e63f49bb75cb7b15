import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.ts';
import { createCrypto, verify } from '../../src/env/crypto.ts';
import { createSeededRng } from '../../src/env/rng.ts';
import { CoseAlg } from '../authenticator/env.ts';
import {
  buildCertificate,
  derBitString,
  derLength,
  derOid,
  derPrintableString,
  derSet,
  derTime,
  derUnsignedInteger,
  type Name,
} from './x509.ts';
import { buildAttestationChain } from './chain.ts';

const hex = (b: Uint8Array): string => toHex(b);

describe('DER encoders (X.690)', () => {
  it('lengths: short form below 128, minimal long form above', () => {
    expect(hex(derLength(0))).toBe('00');
    expect(hex(derLength(127))).toBe('7f');
    expect(hex(derLength(128))).toBe('8180');
    expect(hex(derLength(255))).toBe('81ff');
    expect(hex(derLength(256))).toBe('820100');
    expect(hex(derLength(70000))).toBe('83011170');
  });

  it('INTEGER: minimal, with a 0x00 pad when the high bit is set', () => {
    expect(hex(derUnsignedInteger(new Uint8Array([0x7f])))).toBe('02017f');
    expect(hex(derUnsignedInteger(new Uint8Array([0x80])))).toBe('02020080');
    expect(hex(derUnsignedInteger(new Uint8Array([0, 0, 1, 2])))).toBe('02020102');
    expect(hex(derUnsignedInteger(new Uint8Array([0, 0])))).toBe('020100');
  });

  it('OBJECT IDENTIFIER: well-known encodings', () => {
    expect(hex(derOid('1.2.840.10045.2.1'))).toBe('06072a8648ce3d0201'); // id-ecPublicKey
    expect(hex(derOid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302'); // ecdsa-with-SHA256
    expect(hex(derOid('2.5.29.19'))).toBe('0603551d13');
    expect(hex(derOid('1.3.6.1.4.1.45724.1.1.4'))).toBe('060b2b0601040182e51c010104');
    expect(() => derOid('1.x')).toThrow(TypeError);
    expect(() => derOid('3.1')).toThrow(TypeError);
  });

  it('SET OF sorts its components by encoding (X.690 §11.6)', () => {
    expect(hex(derSet(new Uint8Array([0x02, 0x01, 0x05]), new Uint8Array([0x01, 0x01, 0xff])))).toBe('31060101ff020105');
  });

  it('times: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
    expect(hex(derTime('20491231235959Z'))).toBe('170d' + Buffer.from('491231235959Z').toString('hex'));
    expect(hex(derTime('20500101000000Z'))).toBe('180f' + Buffer.from('20500101000000Z').toString('hex'));
    expect(() => derTime('2024-01-01')).toThrow(TypeError);
    expect(() => derTime('19491231235959Z')).toThrow(RangeError);
    expect(() => derTime('20241301000000Z')).toThrow(RangeError);
  });

  it('PrintableString rejects characters outside its alphabet; BIT STRING carries the unused-bit count', () => {
    expect(() => derPrintableString('a@b')).toThrow(TypeError);
    expect(hex(derPrintableString('US'))).toBe('13025553');
    expect(hex(derBitString(new Uint8Array([0x80]), 7))).toBe('03020780');
  });
});

/** Find `needle` in `hay` (DER search). */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0;
}

describe('buildCertificate', () => {
  const crypto = createCrypto({ rng: createSeededRng('x509-test') });
  const caKey = crypto.generateKeyPair(CoseAlg.ES256);
  const leafKey = crypto.generateKeyPair(CoseAlg.ES256);
  const caName: Name = { C: 'DE', O: 'Test Org', CN: 'Test Root' };
  const aaguid = fromHex('00112233445566778899aabbccddeeff');
  const sign = (tbs: Uint8Array): Uint8Array => crypto.sign(CoseAlg.ES256, caKey.privateKey, tbs);
  const common = { notBefore: '20240101000000Z', notAfter: '20991231235959Z', issuer: caName, sign };
  const caDer = buildCertificate({
    ...common,
    serial: new Uint8Array([0x01]),
    subject: caName,
    subjectPublicKey: caKey.publicKey,
    isCA: true,
  });
  const leafDer = buildCertificate({
    ...common,
    serial: fromHex('80000000000000000000000000000000000001'), // 19 octets, high bit set → 20 encoded
    subject: { C: 'DE', O: 'Test Org', OU: 'Authenticator Attestation', CN: 'Leaf ü' },
    subjectPublicKey: leafKey.publicKey,
    isCA: false,
    aaguid,
    issuerPublicKey: caKey.publicKey,
  });
  const ca = new X509Certificate(caDer);
  const leaf = new X509Certificate(leafDer);

  it('node parses both; subjects, issuers, serials, validity and CA flags are as requested', () => {
    expect(ca.subject).toBe('C=DE\nO=Test Org\nCN=Test Root');
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.ca).toBe(true);
    expect(ca.serialNumber).toBe('01');
    expect(leaf.subject).toBe('C=DE\nO=Test Org\nOU=Authenticator Attestation\nCN=Leaf ü');
    expect(leaf.issuer).toBe(ca.subject);
    expect(leaf.ca).toBe(false);
    expect(leaf.serialNumber.toLowerCase()).toBe('80000000000000000000000000000000000001');
    expect(new Date(leaf.validFrom).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(new Date(leaf.validTo).toISOString()).toBe('2099-12-31T23:59:59.000Z'); // GeneralizedTime
  });

  it('CA verifies itself, leaf verifies under the CA key and not under its own', () => {
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(leaf.publicKey)).toBe(false);
  });

  it('SubjectPublicKeyInfo carries the given P-256 key', () => {
    const jwk = leaf.publicKey.export({ format: 'jwk' });
    expect(jwk.crv).toBe('P-256');
    expect(Buffer.from(jwk.x!, 'base64url').toString('hex')).toBe(hex(leafKey.publicKey.subarray(1, 33)));
    expect(Buffer.from(jwk.y!, 'base64url').toString('hex')).toBe(hex(leafKey.publicKey.subarray(33)));
  });

  it('encodes the extensions as RFC 5280 / WebAuthn §8.2.1 require', () => {
    // basicConstraints, critical: CA → SEQUENCE { TRUE }; leaf → empty SEQUENCE (cA DEFAULT FALSE omitted)
    expect(contains(caDer, fromHex('300f0603551d130101ff040530030101ff'))).toBe(true);
    expect(contains(leafDer, fromHex('300c0603551d130101ff04023000'))).toBe(true);
    // keyUsage, critical: CA keyCertSign|cRLSign = 03 02 01 06; leaf digitalSignature = 03 02 07 80
    expect(contains(caDer, fromHex('300e0603551d0f0101ff040403020106'))).toBe(true);
    expect(contains(leafDer, fromHex('300e0603551d0f0101ff040403020780'))).toBe(true);
    // id-fido-gen-ce-aaguid, not critical: extnValue = OCTET STRING(OCTET STRING(16))
    expect(contains(leafDer, fromHex('3021060b2b0601040182e51c01010404120410' + hex(aaguid)))).toBe(true);
    expect(contains(caDer, fromHex('060b2b0601040182e51c010104'))).toBe(false);
    // authorityKeyIdentifier only when an issuer key is given
    expect(contains(leafDer, fromHex('0603551d23'))).toBe(true);
    expect(contains(caDer, fromHex('0603551d23'))).toBe(false);
    expect(contains(caDer, fromHex('0603551d0e'))).toBe(true);
  });

  it('the signature over the TBS is the callback output, a DER ECDSA signature', () => {
    let seen: Uint8Array | undefined;
    const der = buildCertificate({
      ...common,
      serial: new Uint8Array([5]),
      subject: caName,
      subjectPublicKey: caKey.publicKey,
      isCA: true,
      sign: (tbs) => ((seen = tbs), sign(tbs)),
    });
    expect(der[0]).toBe(0x30);
    expect(contains(der, seen!)).toBe(true);
    expect(new X509Certificate(der).verify(ca.publicKey)).toBe(true);
  });

  it('is deterministic given a deterministic signer', () => {
    const det = createCrypto({ rng: createSeededRng(1), deterministic: true });
    const k = det.generateKeyPair(CoseAlg.ES256);
    const build = () =>
      buildCertificate({
        ...common,
        serial: new Uint8Array([9]),
        subject: caName,
        subjectPublicKey: k.publicKey,
        isCA: true,
        sign: (tbs) => det.sign(CoseAlg.ES256, k.privateKey, tbs),
      });
    expect(hex(build())).toBe(hex(build()));
  });

  it('rejects bad inputs with messages naming the field', () => {
    const ok = { ...common, serial: new Uint8Array([1]), subject: caName, subjectPublicKey: caKey.publicKey, isCA: true };
    expect(() => buildCertificate({ ...ok, serial: new Uint8Array(21).fill(1) })).toThrow(/serial/);
    expect(() => buildCertificate({ ...ok, serial: fromHex('80' + '00'.repeat(19)) })).toThrow(/serial/);
    expect(() => buildCertificate({ ...ok, serial: new Uint8Array([0, 0]) })).toThrow(/serial/);
    expect(() => buildCertificate({ ...ok, subjectPublicKey: caKey.publicKey.subarray(0, 33) })).toThrow(/subjectPublicKey/);
    expect(() => buildCertificate({ ...ok, aaguid: new Uint8Array(15) })).toThrow(/aaguid/);
    expect(() => buildCertificate({ ...ok, subject: { ...caName, C: 'USA' } })).toThrow(/Name\.C/);
  });
});

describe('buildAttestationChain', () => {
  const aaguid = fromHex('f1d0f1d0f1d0f1d0f1d0f1d0f1d0f1d0');

  it('builds a leaf meeting the packed attestation certificate requirements under a self-signed CA', () => {
    const crypto = createCrypto({ rng: createSeededRng('chain') });
    const chain = buildAttestationChain(crypto, aaguid);
    const [leafDer, caDer] = chain.certChain;
    const leaf = new X509Certificate(leafDer);
    const ca = new X509Certificate(caDer);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe(ca.issuer);
    expect(ca.subject).toContain('CN=vfido Test Attestation CA');
    expect(ca.verify(ca.publicKey)).toBe(true);
    // WebAuthn L3 §8.2.1: version 3, C/O/OU="Authenticator Attestation"/CN, CA=false, AAGUID extension
    expect(leaf.subject).toBe('C=US\nO=vfido\nOU=Authenticator Attestation\nCN=vfido Virtual Authenticator');
    expect(leaf.ca).toBe(false);
    expect(contains(leafDer, fromHex('a003020102'))).toBe(true); // [0] { INTEGER 2 } = v3
    expect(contains(leafDer, fromHex('0410' + hex(aaguid)))).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    // the attestation key signs things the leaf certificate's key verifies
    const msg = new TextEncoder().encode('authData||clientDataHash');
    const sig = crypto.sign(CoseAlg.ES256, chain.attestationPrivateKey, msg);
    expect(verify(CoseAlg.ES256, chain.attestationPublicKey, msg, sig)).toBe(true);
    const jwk = leaf.publicKey.export({ format: 'jwk' });
    expect(Buffer.from(jwk.x!, 'base64url').toString('hex')).toBe(hex(chain.attestationPublicKey.subarray(1, 33)));
    const caJwk = ca.publicKey.export({ format: 'jwk' });
    expect(Buffer.from(caJwk.x!, 'base64url').toString('hex')).toBe(hex(chain.caPublicKey.subarray(1, 33)));
    expect(hex(chain.caPrivateKey)).not.toBe(hex(chain.attestationPrivateKey));
  });

  /** Spec: CTAP 2.1 §7.1 — an enterprise attestation may carry uniquely identifying information (a serial number). */
  it('issues an enterprise attestation certificate: same key and CA, the device serial number in the subject', () => {
    const chain = buildAttestationChain(createCrypto({ rng: createSeededRng('ea') }), aaguid);
    const ea = new X509Certificate(chain.enterpriseCertDer);
    const [leafDer, caDer] = chain.certChain;
    const ca = new X509Certificate(caDer);
    expect(chain.deviceSerial).toMatch(/^[0-9A-F]{16}$/);
    expect(ea.subject).toBe(
      `C=US\nO=vfido\nOU=Authenticator Attestation\nCN=vfido Virtual Authenticator (Enterprise)\nserialNumber=${chain.deviceSerial}`,
    );
    expect(ea.verify(ca.publicKey)).toBe(true);
    expect(ea.ca).toBe(false);
    expect(contains(chain.enterpriseCertDer, fromHex('0410' + hex(aaguid)))).toBe(true);
    expect(ea.publicKey.export({ format: 'jwk' })).toEqual(new X509Certificate(leafDer).publicKey.export({ format: 'jwk' }));
    expect(ea.serialNumber).not.toBe(new X509Certificate(leafDer).serialNumber);
  });

  it('a seeded deterministic crypto gives a byte-identical chain; another seed a different one', () => {
    const make = (seed: string) => buildAttestationChain(createCrypto({ rng: createSeededRng(seed), deterministic: true }), aaguid);
    const a = make('s1');
    const b = make('s1');
    expect(hex(a.certChain[0])).toBe(hex(b.certChain[0]));
    expect(hex(a.certChain[1])).toBe(hex(b.certChain[1]));
    expect(hex(a.attestationPrivateKey)).toBe(hex(b.attestationPrivateKey));
    expect(hex(make('s2').certChain[1])).not.toBe(hex(a.certChain[1]));
  });

  it('honours the options (organisation, country, CN, validity)', () => {
    const chain = buildAttestationChain(createCrypto({ rng: createSeededRng(3) }), aaguid, {
      organization: 'Acme',
      country: 'FR',
      commonName: 'Acme Key',
      notBefore: '20300101000000Z',
      notAfter: '20600101000000Z',
    });
    const leaf = new X509Certificate(chain.certChain[0]);
    expect(leaf.subject).toBe('C=FR\nO=Acme\nOU=Authenticator Attestation\nCN=Acme Key');
    expect(new Date(leaf.validFrom).getUTCFullYear()).toBe(2030);
    expect(new Date(leaf.validTo).getUTCFullYear()).toBe(2060);
  });
});
