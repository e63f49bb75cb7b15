import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.ts';
import { HID_BROADCAST_CID, HID_MAX_MESSAGE_SIZE } from '../constants/commands.ts';
import { MessageAssembler } from './assembler.ts';
import { ChannelTable } from './channels.ts';
import {
  decodePacket,
  encodeContPacket,
  encodeInitPacket,
  fragmentMessage,
  packetCount,
  type ContPacket,
  type InitPacket,
} from './packet.ts';
import { testRng } from '../../test/helpers/hidTestkit.ts';

function bytes(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('packet codec', () => {
  /** Spec (CHECKLIST A4): init packet = CID(4) | CMD(1, bit7=1) | BCNTH | BCNTL | DATA(57), big-endian. */
  it('lays out an init packet byte by byte', () => {
    const r = encodeInitPacket(0x01020304, 0x10, 0x0102, Uint8Array.of(0xaa, 0xbb));
    expect(r.length).toBe(64);
    expect(toHex(r.subarray(0, 9))).toBe('0102030490' + '0102' + 'aabb');
    expect(r.subarray(9).every((b) => b === 0)).toBe(true); // A7: padding SHOULD be zero
  });

  /** Spec (CHECKLIST A5): continuation packet = CID(4) | SEQ(1, bit7=0) | DATA(59). */
  it('lays out a continuation packet byte by byte', () => {
    const r = encodeContPacket(0xcafebabe, 0x7f, Uint8Array.of(1, 2, 3));
    expect(r.length).toBe(64);
    expect(toHex(r.subarray(0, 8))).toBe('cafebabe' + '7f' + '010203');
    expect(() => encodeContPacket(1, 0x80, new Uint8Array(0))).toThrow(RangeError);
  });

  it('decodes what it encodes, reporting the data area as is', () => {
    const init = decodePacket(encodeInitPacket(0xffffffff, 0x06, 8, bytes(8))) as InitPacket;
    expect(init).toMatchObject({ kind: 'init', cid: HID_BROADCAST_CID, cmd: 0x06, bcnt: 8 });
    expect(init.data.length).toBe(57);
    const cont = decodePacket(encodeContPacket(7, 5, bytes(59))) as ContPacket;
    expect(cont).toMatchObject({ kind: 'cont', cid: 7, seq: 5 });
    expect(cont.data).toEqual(bytes(59));
  });

  /** Spec (CHECKLIST A2): every packet is exactly 64 bytes. */
  it('refuses reports that are not 64 bytes', () => {
    expect(decodePacket(new Uint8Array(63))).toBeUndefined();
    expect(decodePacket(new Uint8Array(65))).toBeUndefined();
    expect(decodePacket(new Uint8Array(0))).toBeUndefined();
  });

  /** Spec (CHECKLIST A8): command bytes on the wire are 0x80 | cmd (CBOR 0x90, ERROR 0xBF). */
  it('sets bit 7 of the command byte', () => {
    const hex = '00000001bf0001' + '06' + '00'.repeat(56);
    expect(toHex(encodeInitPacket(1, 0x3f, 1, Uint8Array.of(6)))).toBe(hex);
    expect(decodePacket(fromHex(hex))).toMatchObject({ kind: 'init', cmd: 0x3f, bcnt: 1 });
  });
});

describe('fragmentMessage', () => {
  /** Spec (CHECKLIST A6): max message = 57 + 128 × 59 = 7609 bytes. */
  it('fills exactly 129 reports for 7609 bytes with SEQ 0..127, and refuses 7610', () => {
    const msg = bytes(HID_MAX_MESSAGE_SIZE);
    const reports = fragmentMessage(0x11223344, 0x10, msg);
    expect(reports.length).toBe(129);
    expect(packetCount(HID_MAX_MESSAGE_SIZE)).toBe(129);
    reports.slice(1).forEach((r, i) => expect(r[4]).toBe(i));
    expect(() => fragmentMessage(1, 0x10, new Uint8Array(HID_MAX_MESSAGE_SIZE + 1))).toThrow(RangeError);
  });

  it('sends an empty message as one init packet with BCNT 0', () => {
    const [r, ...more] = fragmentMessage(5, 0x08, new Uint8Array(0));
    expect(more).toEqual([]);
    expect(toHex(r!.subarray(0, 7))).toBe('00000005880000');
  });

  it('round-trips through the assembler at every boundary length', () => {
    for (const n of [0, 1, 56, 57, 58, 115, 116, 117, 1000, HID_MAX_MESSAGE_SIZE]) {
      const msg = bytes(n, n);
      const [first, ...rest] = fragmentMessage(9, 0x01, msg).map((r) => decodePacket(r)!);
      expect(rest.length).toBe(packetCount(n) - 1);
      const asm = new MessageAssembler(first as InitPacket);
      let last = asm.complete ? 'complete' : 'more';
      for (const p of rest) last = asm.add(p as ContPacket);
      expect(last).toBe('complete');
      expect(asm.message()).toEqual(msg);
    }
  });
});

describe('MessageAssembler', () => {
  const initOf = (bcnt: number, data = bytes(57)): InitPacket => ({ kind: 'init', cid: 1, cmd: 0x10, bcnt, data });
  const contOf = (seq: number, data = bytes(59, seq)): ContPacket => ({ kind: 'cont', cid: 1, seq, data });

  /** Spec (CHECKLIST A13): a continuation packet with the wrong SEQ aborts the assembly. */
  it('reports a wrong SEQ (skipped, repeated, or after completion)', () => {
    expect(new MessageAssembler(initOf(200)).add(contOf(1))).toBe('bad-seq');
    const a = new MessageAssembler(initOf(200));
    expect(a.add(contOf(0))).toBe('more');
    expect(a.add(contOf(0))).toBe('bad-seq');
    const b = new MessageAssembler(initOf(60));
    expect(b.add(contOf(0))).toBe('complete');
    expect(b.add(contOf(1))).toBe('bad-seq');
  });

  /** Spec (CHECKLIST A7): the authenticator MUST accept non-zero padding. */
  it('drops non-zero padding beyond BCNT', () => {
    const a = new MessageAssembler(initOf(60, new Uint8Array(57).fill(0xee)));
    expect(a.add(contOf(0, new Uint8Array(59).fill(0xdd)))).toBe('complete');
    expect(a.message()).toEqual(Uint8Array.from([...new Uint8Array(57).fill(0xee), 0xdd, 0xdd, 0xdd]));
  });
});

describe('ChannelTable', () => {
  /** Spec (CHECKLIST A9): CID 0 is reserved and 0xFFFFFFFF is broadcast: never allocated. */
  it('never hands out CID 0, broadcast or a CID in use, even with a constant RNG', () => {
    const zeros = { randomBytes: (n: number) => new Uint8Array(n) };
    const ones = { randomBytes: (n: number) => new Uint8Array(n).fill(0xff) };
    const t = new ChannelTable(10);
    const none = () => false;
    const got = [t.allocate('a', zeros, none), t.allocate('a', zeros, none), t.allocate('b', ones, none)];
    expect(got).toEqual([1, 2, 3]);
    expect(t.ownerOf(3)).toBe('b');
  });

  it('evicts the least recently used unpinned channel when full', () => {
    const t = new ChannelTable(2);
    const rng = testRng(7);
    const c1 = t.allocate('a', rng, () => false);
    const c2 = t.allocate('a', rng, () => false);
    t.touch(c1);
    const c3 = t.allocate('a', rng, (c) => c === c1);
    expect([t.ownerOf(c1), t.ownerOf(c2), t.ownerOf(c3)]).toEqual(['a', undefined, 'a']);
    expect(t.size).toBe(2);
  });
});
