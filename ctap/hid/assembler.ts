/**
 * Reassembly of one CTAPHID request message from its init packet and continuation packets
 * (CTAP 2.1 §11.2.4). Pure: no clock; the channel layer owns the inter-packet timer.
 */
import { INIT_DATA_SIZE, copyPacketData, packetDataLength, type ContPacket, type InitPacket } from './packet.ts';

export type AddResult = 'more' | 'complete' | 'bad-seq';

export class MessageAssembler {
  /** Channel the message arrives on. */
  readonly cid: number;
  /** CTAPHID command of the message (without the 0x80 flag). */
  readonly cmd: number;
  /** Total payload length announced by the init packet (already checked against the device limit). */
  readonly bcnt: number;
  /** The payload being filled; its length is bcnt. */
  private readonly buf: Uint8Array;
  /** Bytes of `buf` received so far. */
  private filled: number;
  /** SEQ the next continuation packet must carry (CTAP 2.1 §11.2.4: starts at 0, +1 per packet). */
  private nextSeq = 0;

  constructor(init: InitPacket) {
    this.cid = init.cid;
    this.cmd = init.cmd;
    this.bcnt = init.bcnt;
    this.buf = new Uint8Array(init.bcnt);
    this.filled = Math.min(init.bcnt, INIT_DATA_SIZE);
    copyPacketData(init, this.buf, 0, Math.min(this.filled, packetDataLength(init)));
  }

  get complete(): boolean {
    return this.filled >= this.bcnt;
  }

  /** Continuation packets received so far. */
  get continuations(): number {
    return this.nextSeq;
  }

  /** Add the next continuation packet (same CID, checked by the caller). Trailing padding is dropped. */
  add(pkt: ContPacket): AddResult {
    // CTAP 2.1 §11.2.4: continuation packets carry SEQ 0, 1, 2, … in order; anything else aborts the message.
    if (this.complete || pkt.seq !== this.nextSeq) return 'bad-seq';
    this.nextSeq++;
    const take = Math.min(packetDataLength(pkt), this.bcnt - this.filled);
    copyPacketData(pkt, this.buf, this.filled, take);
    this.filled += take;
    return this.complete ? 'complete' : 'more';
  }

  /**
   * The assembled payload, owned by the caller: once the message is complete the assembler never writes to it
   * again, so it is handed over without a copy. Only meaningful once complete.
   */
  message(): Uint8Array {
    return this.filled === this.buf.length ? this.buf : this.buf.slice(0, this.filled);
  }
}
