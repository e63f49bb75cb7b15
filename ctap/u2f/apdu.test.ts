import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.ts';
import { ApduError, encodeCommandApdu, encodeResponseApdu, parseCommandApdu, parseResponseApdu, swName, U2fStatus } from './apdu.ts';

function swOf(bytes: Uint8Array): number {
  try {
    parseCommandApdu(bytes);
  } catch (e) {
    if (e instanceof ApduError) return e.sw;
    throw e;
  }
  return U2fStatus.SW_NO_ERROR;
}

describe('command APDUs (U2F Raw Message Formats v1.2 §3.1, ISO 7816-4 cases)', () => {
  /** Spec: §3.1.1 extended length: 00 Lc1 Lc2 data, with or without a two-byte Le. */
  it('parses extended Lc, with and without Le (cases 3E and 4E)', () => {
    const data = new Uint8Array(64).fill(0xab);
    const withLe = parseCommandApdu(fromHex(`00010300000040${toHex(data)}0000`));
    expect(withLe).toEqual({ cla: 0, ins: 1, p1: 3, p2: 0, data, le: 65536 });
    const noLe = parseCommandApdu(fromHex(`00010300000040${toHex(data)}`));
    expect(noLe).toEqual({ cla: 0, ins: 1, p1: 3, p2: 0, data });
  });

  /** Spec: python-fido2 / libfido2 send U2F_VERSION as header || 00 0000 || 0000 (Lc = 0, then Le). */
  it('accepts Lc = 0 followed by Le, and a bare extended Le (case 2E)', () => {
    expect(parseCommandApdu(fromHex('000300000000000000'))).toEqual({ cla: 0, ins: 3, p1: 0, p2: 0, data: new Uint8Array(0), le: 65536 });
    expect(parseCommandApdu(fromHex('00030000000100'))).toEqual({ cla: 0, ins: 3, p1: 0, p2: 0, data: new Uint8Array(0), le: 256 });
  });

  /** Spec: ISO 7816-4 short cases 1, 2S, 3S, 4S. */
  it('parses short-length APDUs', () => {
    expect(parseCommandApdu(fromHex('00030000'))).toEqual({ cla: 0, ins: 3, p1: 0, p2: 0, data: new Uint8Array(0) });
    expect(parseCommandApdu(fromHex('0003000000')).le).toBe(256);
    expect(parseCommandApdu(fromHex('0002070003aabbcc')).data).toEqual(fromHex('aabbcc'));
    const c4 = parseCommandApdu(fromHex('0002070003aabbcc10'));
    expect([c4.data, c4.le]).toEqual([fromHex('aabbcc'), 0x10]);
  });

  /** Spec: ISO 7816: a length field that does not match the bytes → SW_WRONG_LENGTH (0x6700). */
  it('refuses inconsistent lengths with SW_WRONG_LENGTH', () => {
    expect(swOf(fromHex('000100'))).toBe(U2fStatus.SW_WRONG_LENGTH); // not even a header
    expect(swOf(fromHex('0001000000004011'))).toBe(U2fStatus.SW_WRONG_LENGTH); // Lc 64, one byte of data
    expect(swOf(fromHex('000100000001'))).toBe(U2fStatus.SW_WRONG_LENGTH); // truncated extended length
    expect(swOf(fromHex('0001000005aabb'))).toBe(U2fStatus.SW_WRONG_LENGTH); // short Lc 5, two bytes
    expect(swOf(fromHex('000100000002aabb00'))).toBe(U2fStatus.SW_WRONG_LENGTH); // one stray byte after data
  });

  /** Spec: §3.1: CLA is 0; any other → SW_CLA_NOT_SUPPORTED (0x6E00), before the length is looked at. */
  it('refuses CLA ≠ 0 with SW_CLA_NOT_SUPPORTED', () => {
    expect(swOf(fromHex('80030000000000'))).toBe(U2fStatus.SW_CLA_NOT_SUPPORTED);
    expect(swOf(fromHex('8003000000ffff'))).toBe(U2fStatus.SW_CLA_NOT_SUPPORTED);
  });

  it('encodes requests with extended length and two-byte Le, as U2F hosts do', () => {
    expect(toHex(encodeCommandApdu({ ins: 2, p1: 7, data: fromHex('0102') }))).toBe('000207000000020102' + '0000');
    expect(toHex(encodeCommandApdu({ ins: 3 }))).toBe('000300000000000000');
  });
});

describe('response APDUs (§3.2: data || SW1 SW2)', () => {
  it('appends and splits the status word', () => {
    const r = encodeResponseApdu(0x9000, fromHex('55324632'));
    expect(toHex(r)).toBe('553246329000');
    expect(parseResponseApdu(r)).toEqual({ sw: 0x9000, data: fromHex('55324632') });
    expect(toHex(encodeResponseApdu(0x6985))).toBe('6985');
    expect(parseResponseApdu(fromHex('90'))).toBeUndefined();
  });

  it('names status words, unknown ones in hex', () => {
    expect(swName(0x6985)).toBe('SW_CONDITIONS_NOT_SATISFIED');
    expect(swName(0x6a80)).toBe('SW_WRONG_DATA');
    expect(swName(0x6a88)).toBe('SW_6A88');
  });
});
