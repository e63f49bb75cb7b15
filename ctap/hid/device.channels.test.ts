/** CTAPHID channels: INIT allocation and resync, invalid channels, peers, power cycle. */
import { describe, expect, it } from 'vitest';
import { readU32be } from '../bytes.ts';
import { CtapHidCapability, CtapHidCmd, CtapHidError, HID_BROADCAST_CID } from '../constants/commands.ts';
import { encodeInitPacket } from './packet.ts';
import { harness, NONCE, settle } from '../../test/helpers/hidTestkit.ts';

const { INIT, PING, CBOR, ERROR } = CtapHidCmd;

describe('INIT on the broadcast channel', () => {
  /**
   * Spec (CHECKLIST A17, A19): INIT on broadcast allocates a new CID; the reply is sent on broadcast and is
   * exactly 17 bytes: nonce(8) | newCID(4) | protocol version 2 | major | minor | build | capabilities.
   */
  it('allocates a channel and replies with the 17-byte INIT response', () => {
    const h = harness({ version: { major: 5, minor: 4, build: 3 } });
    h.message('a', HID_BROADCAST_CID, INIT, NONCE);
    const [m, ...rest] = h.take();
    expect(rest).toEqual([]);
    expect(m).toMatchObject({ peer: 'a', cid: HID_BROADCAST_CID, cmd: INIT });
    expect(m!.payload.length).toBe(17);
    expect(m!.payload.subarray(0, 8)).toEqual(NONCE);
    const cid = readU32be(m!.payload, 8);
    expect(cid).not.toBe(0);
    expect(cid).not.toBe(HID_BROADCAST_CID);
    expect([...m!.payload.subarray(12)]).toEqual([2, 5, 4, 3, CtapHidCapability.CBOR | CtapHidCapability.NMSG]);
    expect(h.device.channelOwner(cid)).toBe('a');
  });

  /** Spec (CHECKLIST A17): each INIT on broadcast allocates a new unique CID. */
  it('allocates a different CID every time, for every peer', () => {
    const h = harness();
    const cids = [h.init('a'), h.init('a'), h.init('b'), h.init('c')];
    expect(new Set(cids).size).toBe(4);
    expect(h.device.channelCount).toBe(4);
  });

  /** Spec (CHECKLIST A20): CBOR always; WINK iff WINK is implemented; NMSG iff MSG is NOT implemented. */
  it('advertises capabilities from what the application implements', () => {
    const caps = (app: { msg?: boolean; wink?: boolean }) => {
      const h = harness({ app });
      h.message('a', HID_BROADCAST_CID, INIT, NONCE);
      return h.take()[0]!.payload[16];
    };
    expect(caps({})).toBe(0x04 | 0x08);
    expect(caps({ wink: true })).toBe(0x04 | 0x08 | 0x01);
    expect(caps({ msg: true })).toBe(0x04);
    expect(caps({ msg: true, wink: true })).toBe(0x05);
  });

  /** Spec (CHECKLIST A17): INIT request is an 8-byte nonce; any other length → INVALID_LEN. */
  it.each([0, 7, 9, 57])('answers INVALID_LEN to a %i-byte nonce', (n) => {
    const h = harness();
    h.report('a', encodeInitPacket(HID_BROADCAST_CID, INIT, n, new Uint8Array(Math.min(n, 57))));
    expect(h.take()).toEqual([
      { peer: 'a', cid: HID_BROADCAST_CID, cmd: ERROR, payload: Uint8Array.of(CtapHidError.ERR_INVALID_LEN) },
    ]);
    expect(h.device.channelCount).toBe(0);
  });

  /** Spec (CHECKLIST A19, Chromium): the nonce is echoed, whatever the padding after it. */
  it('echoes the nonce and ignores non-zero padding', () => {
    const h = harness();
    const data = new Uint8Array(57).fill(0xee);
    data.set(NONCE);
    h.report('a', encodeInitPacket(HID_BROADCAST_CID, INIT, 8, data));
    expect(h.take()[0]!.payload.subarray(0, 8)).toEqual(NONCE);
  });

  /** Decision (documented in device.ts): broadcast INIT allocates even while another channel's transaction runs. */
  it('allocates while another channel is mid-transaction, without disturbing it', async () => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, CBOR, Uint8Array.of(4));
    expect(h.device.phase).toBe('processing');
    const b = h.init('b');
    expect(b).not.toBe(a);
    h.app.pending()!.resolve(Uint8Array.of(0));
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0) }]);
  });
});

describe('INIT on an allocated channel (resync)', () => {
  /**
   * Spec (CHECKLIST A18): INIT on an allocated CID "synchronizes a channel, discarding the current
   * transaction, buffers and state as quickly as possible" and returns the same CID, on that CID.
   */
  it('replies on the same CID with the same CID', () => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, INIT, NONCE);
    const [m] = h.take();
    expect(m).toMatchObject({ peer: 'a', cid: a, cmd: INIT });
    expect(readU32be(m!.payload, 8)).toBe(a);
    expect(h.device.channelCount).toBe(1);
  });

  it('discards a partial message: its continuation is then spurious and ignored', () => {
    const h = harness();
    const a = h.init('a');
    h.report('a', encodeInitPacket(a, PING, 100, new Uint8Array(57)));
    expect(h.device.phase).toBe('assembling');
    h.message('a', a, INIT, NONCE);
    expect(h.device.phase).toBe('idle');
    h.take();
    h.message('a', a, PING, Uint8Array.of(9));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: PING, payload: Uint8Array.of(9) }]);
    h.scheduler.advance(1000); // no MSG_TIMEOUT for the discarded message
    expect(h.take()).toEqual([]);
  });

  it('discards a pending CBOR request: its signal aborts and its late answer is never sent', async () => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, CBOR, Uint8Array.of(1, 0xa0));
    const call = h.app.pending()!;
    h.message('a', a, INIT, NONCE);
    expect(call.ctx.signal.aborted).toBe(true);
    expect(h.device.busy).toBe(false);
    h.take();
    call.resolve(Uint8Array.of(0));
    await settle();
    h.scheduler.advance(500);
    expect(h.take()).toEqual([]); // neither the late response nor keepalives
  });

  /** Decision (device.ts): the application is never called while an earlier (aborted) call is unsettled. */
  it('holds the next CBOR request until the aborted call settles', async () => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, CBOR, Uint8Array.of(1));
    const first = h.app.pending()!;
    h.message('a', a, INIT, NONCE);
    h.message('a', a, CBOR, Uint8Array.of(2));
    await settle();
    expect(h.app.calls.length).toBe(1);
    h.take();
    h.scheduler.advance(100);
    expect(h.take().map((m) => m.cmd)).toEqual([CtapHidCmd.KEEPALIVE]); // the new request is pending
    first.reject(new Error('aborted'));
    await settle();
    expect(h.app.calls.length).toBe(2);
    expect(h.app.calls[1]!.payload).toEqual(Uint8Array.of(2));
    h.app.calls[1]!.resolve(Uint8Array.of(0, 0xa0));
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0, 0xa0) }]);
    expect(h.errors).toEqual([]); // a stale call's rejection is not a bug
  });
});

describe('invalid channels', () => {
  const err = (peer: string, cid: number, code: number) => ({ peer, cid, cmd: ERROR, payload: Uint8Array.of(code) });

  /** Spec (CHECKLIST A9, A10): CID 0 is reserved; any command on it → INVALID_CHANNEL. */
  it('refuses CID 0, INIT included', () => {
    const h = harness();
    h.message('a', 0, PING, Uint8Array.of(1));
    h.message('a', 0, INIT, NONCE);
    expect(h.take()).toEqual([err('a', 0, 0x0b), err('a', 0, 0x0b)]);
  });

  /** Spec (CHECKLIST A10): any command other than INIT on the broadcast CID → INVALID_CHANNEL. */
  it('refuses non-INIT commands on broadcast', () => {
    const h = harness();
    for (const cmd of [PING, CBOR, CtapHidCmd.WINK, CtapHidCmd.LOCK, 0x55])
      h.message('a', HID_BROADCAST_CID, cmd, Uint8Array.of(1));
    expect(h.take()).toEqual(Array(5).fill(err('a', HID_BROADCAST_CID, CtapHidError.ERR_INVALID_CHANNEL)));
  });

  /** Spec (CHECKLIST A10): any command on an unallocated CID → INVALID_CHANNEL. */
  it('refuses unallocated CIDs, INIT (resync) included', () => {
    const h = harness();
    h.message('a', 0x12345678, PING, Uint8Array.of(1));
    h.message('a', 0x12345678, INIT, NONCE);
    expect(h.take()).toEqual([err('a', 0x12345678, 0x0b), err('a', 0x12345678, 0x0b)]);
  });

  /** Decision (brief): a CID belongs to the peer that allocated it; another peer using it → INVALID_CHANNEL. */
  it("refuses a peer using another peer's CID, and replies only to the sender", () => {
    const h = harness();
    const a = h.init('a');
    h.message('b', a, PING, Uint8Array.of(1));
    h.message('b', a, INIT, NONCE);
    expect(h.take()).toEqual([err('b', a, 0x0b), err('b', a, 0x0b)]);
    h.message('a', a, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: PING, payload: Uint8Array.of(1) }]);
  });

  it('keeps each peer on its own channels, several at once', () => {
    const h = harness();
    const a = h.init('10.0.0.1:5000');
    const b = h.init('10.0.0.2:6000');
    h.message('10.0.0.2:6000', b, PING, Uint8Array.of(2));
    h.message('10.0.0.1:5000', a, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([
      { peer: '10.0.0.2:6000', cid: b, cmd: PING, payload: Uint8Array.of(2) },
      { peer: '10.0.0.1:5000', cid: a, cmd: PING, payload: Uint8Array.of(1) },
    ]);
  });
});

describe('powerCycle', () => {
  it('keepChannels: false forgets every channel', () => {
    const h = harness();
    const a = h.init('a');
    h.device.powerCycle({ keepChannels: false });
    expect(h.device.channelCount).toBe(0);
    h.message('a', a, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: ERROR, payload: Uint8Array.of(0x0b) }]);
  });

  it('keepChannels: true keeps CIDs but drops the transaction, the lock and their timers', async () => {
    const h = harness();
    const a = h.init('a');
    const b = h.init('b');
    h.message('b', b, CtapHidCmd.LOCK, Uint8Array.of(10));
    h.take();
    h.device.powerCycle({ keepChannels: true });
    expect(h.device.lockedBy).toBeUndefined();
    h.message('a', a, CBOR, Uint8Array.of(4));
    const call = h.app.pending()!;
    h.device.powerCycle({ keepChannels: true });
    expect(call.ctx.signal.aborted).toBe(true);
    expect(h.device.busy).toBe(false);
    expect(h.scheduler.pending).toBe(0);
    call.resolve(Uint8Array.of(0));
    await settle();
    h.message('a', a, PING, Uint8Array.of(7));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: PING, payload: Uint8Array.of(7) }]);
  });

  it('close() cancels timers and ignores later input', () => {
    const h = harness();
    const a = h.init('a');
    h.report('a', encodeInitPacket(a, PING, 100, new Uint8Array(57)));
    h.device.close();
    expect(h.scheduler.pending).toBe(0);
    h.message('a', a, PING, Uint8Array.of(1));
    h.scheduler.advance(1000);
    expect(h.take()).toEqual([]);
  });
});
