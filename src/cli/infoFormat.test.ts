import { describe, expect, it } from 'vitest';
import { coseAlgName, describeInfo, formatInfo, uuidFromBytes } from './infoFormat.ts';
import { fromHex } from '../../ctap/bytes.ts';
import type { CborMap } from '../../ctap/cbor.ts';

/** A getInfo map shaped like CTAP 2.1 §6.4 (keys 0x01..0x0e), values written out by hand. */
const info: CborMap = new Map<number, any>([
  [0x01, ['FIDO_2_0', 'FIDO_2_1']],
  [0x02, ['credProtect']],
  [0x03, fromHex('00112233445566778899aabbccddeeff')],
  [0x04, new Map([['rk', true], ['up', true], ['plat', false]])],
  [0x05, 1200],
  [0x0a, [new Map<string, any>([['alg', -7], ['type', 'public-key']]), new Map<string, any>([['alg', -8], ['type', 'public-key']])]],
  [0x0e, 7],
  [0x42, fromHex('beef')],
]);

describe('getInfo description', () => {
  it('names members, shows the AAGUID as a UUID and algorithms by name', () => {
    const d = describeInfo(info);
    expect(d).toEqual({
      versions: ['FIDO_2_0', 'FIDO_2_1'],
      extensions: ['credProtect'],
      aaguid: '00112233-4455-6677-8899-aabbccddeeff',
      options: { rk: true, up: true, plat: false },
      maxMsgSize: 1200,
      algorithms: ['ES256', 'EdDSA'],
      firmwareVersion: 7,
      key0x42: 'beef',
    });
  });

  it('renders readable text with one line per member', () => {
    const text = formatInfo(describeInfo(info));
    expect(text).toMatch(/versions:\s+FIDO_2_0, FIDO_2_1/);
    expect(text).toMatch(/aaguid:\s+00112233-4455-6677-8899-aabbccddeeff/);
    expect(text).toMatch(/algorithms:\s+ES256, EdDSA/);
    expect(text).toMatch(/options:\s+rk=true up=true plat=false/);
    expect(text).toMatch(/maxMsgSize:\s+1200/);
  });

  it('names COSE algorithms from the IANA registry and keeps unknown ones', () => {
    expect(coseAlgName(-7)).toBe('ES256');
    expect(coseAlgName(-257)).toBe('RS256');
    expect(coseAlgName(-999)).toBe('alg(-999)');
  });

  it('refuses an AAGUID that is not 16 bytes', () => {
    expect(() => uuidFromBytes(new Uint8Array(15))).toThrow(RangeError);
  });
});
