/**
 * CTAPHID packets, CTAP 2.1 §11.2.4 (Message and packet structure).
 *
 *   init packet:          CID(4) | CMD(1, bit 7 set) | BCNTH(1) | BCNTL(1) | DATA(57)
 *   continuation packet:  CID(4) | SEQ(1, bit 7 clear, 0..0x7F) | DATA(59)
 *
 * All integers big-endian. Every report is exactly HID_REPORT_SIZE (64) bytes each way.
 */
import { HID_MAX_MESSAGE_SIZE, HID_REPORT_SIZE } from '../constants/commands.ts';
import { readU32be } from '../bytes.ts';

/** Header of an init packet: CID(4) + CMD(1) + BCNT(2). */
export const INIT_HEADER_SIZE = 7;
/** Payload bytes carried by an init packet. */
export const INIT_DATA_SIZE = HID_REPORT_SIZE - INIT_HEADER_SIZE; // 57
/** Header of a continuation packet: CID(4) + SEQ(1). */
export const CONT_HEADER_SIZE = 5;
/** Payload bytes carried by a continuation packet. */
export const CONT_DATA_SIZE = HID_REPORT_SIZE - CONT_HEADER_SIZE; // 59
/** Highest continuation sequence number (bit 7 must stay clear). */
export const MAX_SEQ = 0x7f;
/** Bit 7 of byte 4 marks an init packet; the rest is the command. */
export const INIT_FLAG = 0x80;

export interface InitPacket {
  kind: 'init';
  cid: number;
  /** Command without the 0x80 flag (CtapHidCmd value or anything else seen on the wire). */
  cmd: number;
  /** Total message length announced in BCNTH|BCNTL (may exceed what the device accepts). */
  bcnt: number;
  /** The 57-byte data area, padding included: a view into the report, not a copy. */
  data: Uint8Array;
}

export interface ContPacket {
  kind: 'cont';
  cid: number;
  seq: number;
  /** The 59-byte data area, padding included: a view into the report, not a copy. */
  data: Uint8Array;
}

export type Packet = InitPacket | ContPacket;

/*
 * Packets decoded here keep their report and make the `data` view only when asked: a view of a report of 64
 * bytes (which V8 keeps inside its heap) makes V8 move the report out of the heap first, which cost more than
 * the rest of decoding. copyPacketData and packetDataByte read such packets straight from the report.
 */
class DecodedInitPacket implements InitPacket {
  readonly kind = 'init' as const;
  constructor(
    readonly report: Uint8Array,
    readonly cid: number,
    readonly cmd: number,
    readonly bcnt: number,
  ) {}

  get data(): Uint8Array {
    return this.report.subarray(INIT_HEADER_SIZE);
  }
}

class DecodedContPacket implements ContPacket {
  readonly kind = 'cont' as const;
  constructor(
    readonly report: Uint8Array,
    readonly cid: number,
    readonly seq: number,
  ) {}

  get data(): Uint8Array {
    return this.report.subarray(CONT_HEADER_SIZE);
  }
}

/**
 * Parse one report. Returns undefined when the report is not exactly 64 bytes
 * (CTAP 2.1 §11.2.4: reports are fixed-size; anything else is not a CTAPHID packet).
 * Padding is not inspected: CTAP 2.1 §11.2.4 padding SHOULD be zero, receivers accept any value.
 */
export function decodePacket(report: Uint8Array): Packet | undefined {
  if (report.length !== HID_REPORT_SIZE) return undefined;
  const cid = readU32be(report, 0);
  const b4 = report[4]!;
  if (b4 & INIT_FLAG) return new DecodedInitPacket(report, cid, b4 & 0x7f, (report[5]! << 8) | report[6]!);
  return new DecodedContPacket(report, cid, b4);
}

/** Copy the first `count` bytes of a packet's data area into `target` at `at`. */
export function copyPacketData(pkt: Packet, target: Uint8Array, at: number, count: number): void {
  if (pkt instanceof DecodedInitPacket || pkt instanceof DecodedContPacket) {
    const r = pkt.report;
    const from = pkt.kind === 'init' ? INIT_HEADER_SIZE : CONT_HEADER_SIZE;
    for (let i = 0; i < count; i++) target[at + i] = r[from + i]!;
    return;
  }
  target.set(pkt.data.subarray(0, count), at);
}

/** Length of a packet's data area (57 or 59 for a decoded report). */
export function packetDataLength(pkt: Packet): number {
  if (pkt instanceof DecodedInitPacket) return INIT_DATA_SIZE;
  if (pkt instanceof DecodedContPacket) return CONT_DATA_SIZE;
  return pkt.data.length;
}

/** Byte `i` of a packet's data area (undefined beyond it). */
export function packetDataByte(pkt: Packet, i: number): number | undefined {
  if (pkt instanceof DecodedInitPacket) return i < INIT_DATA_SIZE ? pkt.report[INIT_HEADER_SIZE + i] : undefined;
  if (pkt instanceof DecodedContPacket) return i < CONT_DATA_SIZE ? pkt.report[CONT_HEADER_SIZE + i] : undefined;
  return pkt.data[i];
}

function header(out: Uint8Array, cid: number): void {
  out[0] = (cid >>> 24) & 0xff;
  out[1] = (cid >>> 16) & 0xff;
  out[2] = (cid >>> 8) & 0xff;
  out[3] = cid & 0xff;
}

/** Build an init packet; `data` (at most 57 bytes) is zero-padded. `cmd` is given without the 0x80 flag. */
export function encodeInitPacket(cid: number, cmd: number, bcnt: number, data: Uint8Array): Uint8Array {
  if (data.length > INIT_DATA_SIZE)
    throw new RangeError(`init packet data is ${data.length} bytes, at most ${INIT_DATA_SIZE}`);
  if (!Number.isInteger(bcnt) || bcnt < 0 || bcnt > 0xffff) throw new RangeError(`BCNT ${bcnt} is not a 16-bit length`);
  const out = new Uint8Array(HID_REPORT_SIZE);
  header(out, cid);
  out[4] = INIT_FLAG | (cmd & 0x7f);
  out[5] = bcnt >>> 8;
  out[6] = bcnt & 0xff;
  out.set(data, INIT_HEADER_SIZE);
  return out;
}

/** Build a continuation packet; `data` (at most 59 bytes) is zero-padded. */
export function encodeContPacket(cid: number, seq: number, data: Uint8Array): Uint8Array {
  if (data.length > CONT_DATA_SIZE)
    throw new RangeError(`continuation data is ${data.length} bytes, at most ${CONT_DATA_SIZE}`);
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new RangeError(`SEQ ${seq} is outside 0..${MAX_SEQ}`);
  const out = new Uint8Array(HID_REPORT_SIZE);
  header(out, cid);
  out[4] = seq;
  out.set(data, CONT_HEADER_SIZE);
  return out;
}

/** Number of 64-byte reports a message of `length` bytes needs (at least one). */
export function packetCount(length: number): number {
  return length <= INIT_DATA_SIZE ? 1 : 1 + Math.ceil((length - INIT_DATA_SIZE) / CONT_DATA_SIZE);
}

/**
 * Split a message into 64-byte reports: one init packet, then continuation packets with SEQ 0, 1, 2, …
 * CTAP 2.1 §11.2.4: at most 57 + 128 × 59 = 7609 bytes fit (SEQ stops at 0x7F); larger throws RangeError.
 */
export function fragmentMessage(cid: number, cmd: number, payload: Uint8Array): Uint8Array[] {
  if (payload.length > HID_MAX_MESSAGE_SIZE)
    throw new RangeError(`message is ${payload.length} bytes, CTAPHID carries at most ${HID_MAX_MESSAGE_SIZE}`);
  const out = [encodeInitPacket(cid, cmd, payload.length, payload.subarray(0, INIT_DATA_SIZE))];
  for (let off = INIT_DATA_SIZE, seq = 0; off < payload.length; off += CONT_DATA_SIZE, seq++) {
    out.push(encodeContPacket(cid, seq, payload.subarray(off, off + CONT_DATA_SIZE)));
  }
  return out;
}
