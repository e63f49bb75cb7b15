import { describe, expect, it } from 'vitest';
import { buildAuthData } from './authData.ts';
import { coseKeyMap, encodeCoseKey } from './cose.ts';
import { AuthDataFlag } from './flags.ts';
import { toHex } from '../bytes.ts';
import { CoseAlg } from '../authenticator/env.ts';
import { parseAuthData, sha256 } from '../../test/helpers/webauthn.ts';

const x = new Uint8Array(32).fill(0x11);
const y = new Uint8Array(32).fill(0x22);

describe('COSE_Key (CHECKLIST D4)', () => {
  it('ES256: {1: 2, 3: -7, -1: 1, -2: x, -3: y}, canonical order 1, 3, -1, -2, -3', () => {
    const bytes = encodeCoseKey(CoseAlg.ES256, new Uint8Array([0x04, ...x, ...y]));
    expect(toHex(bytes)).toBe(`a5010203262001215820${toHex(x)}225820${toHex(y)}`);
  });

  it('EdDSA: {1: 1, 3: -8, -1: 6, -2: x}', () => {
    expect(toHex(encodeCoseKey(CoseAlg.EdDSA, x))).toBe(`a4010103272006215820${toHex(x)}`);
  });

  it('rejects malformed public keys', () => {
    expect(() => coseKeyMap(CoseAlg.ES256, new Uint8Array(64))).toThrow(TypeError);
    expect(() => coseKeyMap(CoseAlg.ES256, new Uint8Array(65))).toThrow(TypeError); // no 0x04 prefix
    expect(() => coseKeyMap(CoseAlg.EdDSA, new Uint8Array(31))).toThrow(TypeError);
  });
});

describe('authenticatorData (WebAuthn L3 §6.1)', () => {
  it('assertion form: rpIdHash | flags | big-endian signCount, 37 bytes', () => {
    const a = buildAuthData({ rpIdHash: sha256('rp'), flags: AuthDataFlag.UP, signCount: 0x01020304 });
    expect(a.length).toBe(37);
    expect(toHex(a.subarray(32))).toBe('0101020304');
  });

  it('AT and ED follow the optional parts, whatever flags the caller passed', () => {
    const credentialPublicKey = encodeCoseKey(CoseAlg.EdDSA, x);
    const a = buildAuthData({
      rpIdHash: sha256('rp'),
      flags: AuthDataFlag.UP | AuthDataFlag.ED,
      signCount: 0,
      attestedCredentialData: { aaguid: new Uint8Array(16).fill(9), credentialId: new Uint8Array([1, 2, 3]), credentialPublicKey },
    });
    const p = parseAuthData(a);
    expect(p.flags).toBe(AuthDataFlag.UP | AuthDataFlag.AT);
    expect(p.credentialId).toEqual(new Uint8Array([1, 2, 3]));
    expect(toHex(p.publicKeyBytes!)).toBe(toHex(credentialPublicKey)); // hex: cbor-x tags decoded inputs with a dataView property
    const withExt = parseAuthData(buildAuthData({ rpIdHash: sha256('rp'), flags: 0, signCount: 1, extensions: new Uint8Array([0xa0]) }));
    expect(withExt.flags).toBe(AuthDataFlag.ED);
  });

  it('rejects a bad rpIdHash length or counter', () => {
    expect(() => buildAuthData({ rpIdHash: new Uint8Array(31), flags: 0, signCount: 0 })).toThrow();
    expect(() => buildAuthData({ rpIdHash: sha256('rp'), flags: 0, signCount: 2 ** 32 })).toThrow();
  });
});
