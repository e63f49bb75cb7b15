/** CTAPHID transactions: assembly, lengths, sequencing, timeouts, busy, and the simple commands. */
import { describe, expect, it } from 'vitest';
import { CtapHidCmd, CtapHidError, HID_MAX_MESSAGE_SIZE } from '../constants/commands.ts';
import { encodeContPacket, encodeInitPacket, fragmentMessage } from './packet.ts';
import { harness, settle } from '../../test/helpers/hidTestkit.ts';

const { PING, CBOR, MSG, WINK, ERROR } = CtapHidCmd;
const err = (peer: string, cid: number, code: number) => ({ peer, cid, cmd: ERROR, payload: Uint8Array.of(code) });
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

describe('PING and message size', () => {
  /** Spec (CHECKLIST A21): PING echoes the payload unchanged. */
  it.each([0, 1, 57, 58, 1000])('echoes a %i-byte PING', (n) => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, PING, bytes(n));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: PING, payload: bytes(n) }]);
  });

  /** Spec (CHECKLIST A6): the maximum message is 57 + 128 × 59 = 7609 bytes. */
  it('round-trips a 7609-byte PING in 129 reports each way', () => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, PING, bytes(HID_MAX_MESSAGE_SIZE));
    expect(h.out.length).toBe(129);
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: PING, payload: bytes(HID_MAX_MESSAGE_SIZE) }]);
  });

  /** Spec (CHECKLIST A6): BCNT above the device maximum → INVALID_LEN, at the init packet. */
  it('answers INVALID_LEN to BCNT 7610 and to BCNT above a configured maximum', () => {
    const h = harness({ maxMessageSize: 1024 });
    const a = h.init('a');
    h.report('a', encodeInitPacket(a, PING, 7610, new Uint8Array(57)));
    h.report('a', encodeInitPacket(a, CBOR, 1025, new Uint8Array(57)));
    expect(h.take()).toEqual([err('a', a, CtapHidError.ERR_INVALID_LEN), err('a', a, CtapHidError.ERR_INVALID_LEN)]);
    expect(h.device.busy).toBe(false);
  });

  /** Spec (CHECKLIST A7): unused trailing bytes SHOULD be 0x00; the authenticator MUST accept non-zero padding. */
  it('accepts non-zero padding in init and continuation packets', () => {
    const h = harness();
    const a = h.init('a');
    const msg = bytes(60);
    const [init, cont] = fragmentMessage(a, PING, msg);
    init!.fill(0xff, 7 + 57);
    cont!.fill(0xff, 5 + 3);
    h.report('a', init!);
    h.report('a', cont!);
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: PING, payload: msg }]);
  });

  /** Decision (device.ts): reports that are not 64 bytes are ignored, with no reply. */
  it('ignores reports of the wrong length', () => {
    const h = harness();
    const a = h.init('a');
    const r = encodeInitPacket(a, PING, 1, Uint8Array.of(1));
    h.report('a', r.subarray(0, 63));
    h.report('a', Uint8Array.from([0, ...r]));
    h.report('a', new Uint8Array(0));
    expect(h.take()).toEqual([]);
    expect(h.device.busy).toBe(false);
  });
});

describe('sequencing', () => {
  /** Spec (CHECKLIST A13): continuation with the wrong SEQ: abort the assembly, reply INVALID_SEQ. */
  it('answers INVALID_SEQ to a skipped or repeated SEQ and drops the message', () => {
    for (const seqs of [[1], [0, 0], [0, 2]]) {
      const h = harness();
      const a = h.init('a');
      h.report('a', encodeInitPacket(a, PING, 57 + 59 * 3, new Uint8Array(57)));
      for (const s of seqs) h.report('a', encodeContPacket(a, s, new Uint8Array(59)));
      expect(h.take()).toEqual([err('a', a, CtapHidError.ERR_INVALID_SEQ)]);
      expect(h.device.busy).toBe(false);
      h.report('a', encodeContPacket(a, seqs.length, new Uint8Array(59))); // now spurious
      expect(h.take()).toEqual([]);
    }
  });

  /** Spec (CHECKLIST A13): a new non-INIT init packet on the same CID while assembling → INVALID_SEQ. */
  it('answers INVALID_SEQ to a new init packet mid-assembly and drops both', () => {
    const h = harness();
    const a = h.init('a');
    h.report('a', encodeInitPacket(a, PING, 100, new Uint8Array(57)));
    h.report('a', encodeInitPacket(a, PING, 1, Uint8Array.of(5)));
    expect(h.take()).toEqual([err('a', a, CtapHidError.ERR_INVALID_SEQ)]);
    expect(h.device.busy).toBe(false);
  });

  /** Spec (CHECKLIST A14): spurious continuation packets with no prior init packet are ignored, no reply. */
  it('ignores continuation packets without an init packet, on any CID', () => {
    const h = harness();
    const a = h.init('a');
    h.report('a', encodeContPacket(a, 0, bytes(59)));
    h.report('a', encodeContPacket(0x9999, 0, bytes(59)));
    h.report('b', encodeContPacket(0, 3, bytes(59)));
    expect(h.take()).toEqual([]);
  });

  /** Decision (device.ts): continuations from a refused (busy) channel are ignored: one error per request. */
  it('sends one CHANNEL_BUSY per refused request, not one per packet', () => {
    const h = harness();
    const a = h.init('a');
    const b = h.init('b');
    h.report('a', encodeInitPacket(a, PING, 200, new Uint8Array(57)));
    for (const r of fragmentMessage(b, PING, bytes(200))) h.report('b', r);
    expect(h.take()).toEqual([err('b', b, CtapHidError.ERR_CHANNEL_BUSY)]);
  });
});

describe('MSG_TIMEOUT', () => {
  /**
   * Spec (CHECKLIST A15): on expiry of the (configurable, default 500 ms) timeout, drop the partial message and
   * send ERROR MSG_TIMEOUT on that CID unprompted.
   */
  it('drops a stalled message and sends MSG_TIMEOUT after 500 ms of silence', () => {
    const h = harness();
    const a = h.init('a');
    h.report('a', encodeInitPacket(a, PING, 200, new Uint8Array(57)));
    h.scheduler.advance(400);
    h.report('a', encodeContPacket(a, 0, new Uint8Array(59))); // restarts the timer
    h.scheduler.advance(499);
    expect(h.take()).toEqual([]);
    h.scheduler.advance(1);
    expect(h.take()).toEqual([err('a', a, CtapHidError.ERR_MSG_TIMEOUT)]);
    expect(h.device.busy).toBe(false);
    h.report('a', encodeContPacket(a, 1, new Uint8Array(59)));
    expect(h.take()).toEqual([]);
  });

  it('honours msgTimeoutMs and frees the device for other channels', () => {
    const h = harness({ msgTimeoutMs: 50 });
    const a = h.init('a');
    const b = h.init('b');
    h.report('a', encodeInitPacket(a, PING, 200, new Uint8Array(57)));
    h.scheduler.advance(50);
    h.message('b', b, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([
      err('a', a, CtapHidError.ERR_MSG_TIMEOUT),
      { peer: 'b', cid: b, cmd: PING, payload: Uint8Array.of(1) },
    ]);
  });
});

describe('CHANNEL_BUSY', () => {
  /**
   * Spec (CHECKLIST A11, A12): the channel that gets through the first init packet keeps the device locked for
   * other channels until the last response packet; their packets "immediately fail with a busy-error".
   */
  it('refuses other channels from the first init packet of a request', () => {
    const h = harness();
    const a = h.init('a');
    const b = h.init('b');
    const c = h.init('a');
    h.report('a', encodeInitPacket(a, PING, 100, new Uint8Array(57)));
    h.message('b', b, PING, Uint8Array.of(1));
    h.message('a', c, CBOR, Uint8Array.of(4));
    expect(h.take()).toEqual([err('b', b, 0x06), err('a', c, 0x06)]);
    h.report('a', encodeContPacket(a, 0, new Uint8Array(59)));
    expect(h.take().map((m) => [m.cid, m.cmd])).toEqual([[a, PING]]);
    h.message('b', b, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([{ peer: 'b', cid: b, cmd: PING, payload: Uint8Array.of(1) }]);
  });

  /** Spec (CHECKLIST A12, Emu): busy also while a CBOR command waits for user presence. */
  it('refuses other channels while a CBOR request waits for the user, and its own channel too', async () => {
    const h = harness();
    const a = h.init('a');
    const b = h.init('b');
    h.message('a', a, CBOR, Uint8Array.of(1, 0xa0));
    h.app.pending()!.ctx.keepalive(2);
    h.take();
    h.scheduler.advance(5000);
    h.message('b', b, CBOR, Uint8Array.of(4));
    h.message('a', a, PING, Uint8Array.of(1));
    expect(h.take().filter((m) => m.cmd === ERROR)).toEqual([err('b', b, 0x06), err('a', a, 0x06)]);
    h.app.pending()!.resolve(Uint8Array.of(0));
    await settle();
    h.take();
    h.message('b', b, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([{ peer: 'b', cid: b, cmd: PING, payload: Uint8Array.of(1) }]);
  });
});

describe('commands', () => {
  /** Spec (CHECKLIST A28): unknown CTAPHID command → INVALID_CMD; KEEPALIVE/ERROR are device→host only. */
  it.each([0x00, 0x02, 0x05, 0x3b, 0x3f, 0x40, 0x7f])('answers INVALID_CMD to command %i', (cmd) => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, cmd, Uint8Array.of(1));
    expect(h.take()).toEqual([err('a', a, CtapHidError.ERR_INVALID_CMD)]);
    expect(h.device.busy).toBe(false);
  });

  /** Spec (CHECKLIST A22): MSG carries a CTAP1 APDU; if NMSG is set, reply INVALID_CMD. */
  it('refuses MSG without app.msg, and routes it to app.msg otherwise', async () => {
    const h0 = harness();
    const a0 = h0.init('a');
    h0.message('a', a0, MSG, Uint8Array.of(0, 3, 0, 0));
    expect(h0.take()).toEqual([err('a', a0, CtapHidError.ERR_INVALID_CMD)]);

    const h = harness({ app: { msg: true } });
    const a = h.init('a');
    h.message('a', a, MSG, Uint8Array.of(0, 3, 0, 0));
    const call = h.app.pending()!;
    expect(call).toMatchObject({ kind: 'msg', payload: Uint8Array.of(0, 3, 0, 0) });
    const version = Uint8Array.of(0x55, 0x32, 0x46, 0x5f, 0x56, 0x32, 0x90, 0x00); // "U2F_V2" 9000
    call.resolve(version);
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: MSG, payload: version }]);
  });

  /** Spec (CHECKLIST A24): WINK: empty request, empty response; only if CAPABILITY_WINK. */
  it('winks with an empty reply when the app can, INVALID_CMD otherwise, INVALID_LEN with a payload', () => {
    const h = harness({ app: { wink: true } });
    const a = h.init('a');
    h.message('a', a, WINK, new Uint8Array(0));
    h.message('a', a, WINK, Uint8Array.of(1));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: WINK, payload: new Uint8Array(0) }, err('a', a, 0x03)]);
    expect(h.app.winks).toBe(1);
    const h2 = harness();
    const a2 = h2.init('a');
    h2.message('a', a2, WINK, new Uint8Array(0));
    expect(h2.take()).toEqual([err('a', a2, CtapHidError.ERR_INVALID_CMD)]);
  });

  /** Spec (CHECKLIST A25): CBOR payload = command byte || CBOR; reply = status || CBOR, on the same CID. */
  it('hands CBOR payloads to app.cbor with the channel, and sends its answer back', async () => {
    const h = harness();
    const a = h.init('a');
    const req = bytes(300);
    h.message('a', a, CBOR, req);
    const call = h.app.pending()!;
    expect(call.payload).toEqual(req);
    expect(call.ctx.channel).toBe(a);
    call.resolve(bytes(2000));
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: bytes(2000) }]);
  });

  it('answers INVALID_LEN to an empty CBOR or MSG request', () => {
    const h = harness({ app: { msg: true } });
    const a = h.init('a');
    h.message('a', a, CBOR, new Uint8Array(0));
    h.message('a', a, MSG, new Uint8Array(0));
    expect(h.take()).toEqual([err('a', a, 0x03), err('a', a, 0x03)]);
    expect(h.app.calls).toEqual([]);
  });
});
