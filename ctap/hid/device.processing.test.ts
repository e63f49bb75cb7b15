/** CTAPHID while the application works: KEEPALIVE, CANCEL, application outcomes, LOCK. */
import { describe, expect, it } from 'vitest';
import { CtapHidCmd, CtapHidError, KeepaliveStatus } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { encodeInitPacket } from './packet.ts';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import { CtapHidDevice } from './device.ts';
import { fakeApp, harness, settle, testRng, type Harness } from '../../test/helpers/hidTestkit.ts';

const { PING, CBOR, MSG, LOCK, CANCEL, KEEPALIVE, ERROR } = CtapHidCmd;
const err = (peer: string, cid: number, code: number) => ({ peer, cid, cmd: ERROR, payload: Uint8Array.of(code) });

function startCbor(h: Harness, peer = 'a'): number {
  const cid = h.init(peer);
  h.message(peer, cid, CBOR, Uint8Array.of(1, 0xa0));
  return cid;
}

/** [time, status] of every KEEPALIVE sent while advancing the clock `ms` in 1 ms steps. */
function keepalivesOver(h: Harness, ms: number): [number, number][] {
  const seen: [number, number][] = [];
  for (let i = 0; i < ms; i++) {
    h.scheduler.advance(1);
    for (const m of h.take()) if (m.cmd === KEEPALIVE) seen.push([h.scheduler.now(), m.payload[0]!]);
  }
  return seen;
}

describe('KEEPALIVE', () => {
  /**
   * Spec (CHECKLIST A27): KEEPALIVE payload is 1 byte (PROCESSING = 1, UPNEEDED = 2), sent at least every 100 ms
   * while a CBOR or MSG request is processed.
   */
  it('sends PROCESSING at least once per 100 ms of pending time, on the request channel', () => {
    const h = harness();
    const a = startCbor(h);
    const t0 = h.scheduler.now();
    const seen = keepalivesOver(h, 1000);
    expect(seen.length).toBeGreaterThanOrEqual(10);
    const times = [t0, ...seen.map(([t]) => t)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(100);
    expect(seen.every(([, s]) => s === KeepaliveStatus.PROCESSING)).toBe(true);
    h.scheduler.advance(100);
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: KEEPALIVE, payload: Uint8Array.of(1) }]);
  });

  /** Spec (CHECKLIST A27): sent "whenever the status changes"; UPNEEDED while waiting for the user. */
  it('announces a status change at once, then repeats the new status', () => {
    const h = harness({ keepaliveIntervalMs: 40 });
    const a = startCbor(h);
    h.scheduler.advance(30);
    h.app.pending()!.ctx.keepalive(KeepaliveStatus.UPNEEDED);
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: KEEPALIVE, payload: Uint8Array.of(2) }]);
    h.app.pending()!.ctx.keepalive(KeepaliveStatus.UPNEEDED); // no change: no extra packet
    expect(h.take()).toEqual([]);
    const seen = keepalivesOver(h, 200);
    expect(seen.map(([t]) => t)).toEqual([70, 110, 150, 190, 230]);
    expect(seen.every(([, s]) => s === 2)).toBe(true);
    h.app.pending()!.ctx.keepalive(KeepaliveStatus.PROCESSING);
    expect(h.take().map((m) => m.payload[0])).toEqual([1]);
  });

  /** Spec (CHECKLIST B0.7): a request answered at once (getInfo) gets no keepalive. */
  it('sends none when the application answers before the first period', async () => {
    const h = harness();
    const a = startCbor(h);
    h.app.pending()!.resolve(Uint8Array.of(0));
    await settle();
    h.scheduler.advance(1000);
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0) }]);
    expect(h.scheduler.pending).toBe(0);
  });

  it('stops after the response and ignores keepalive calls from a finished request', async () => {
    const h = harness();
    startCbor(h);
    const call = h.app.pending()!;
    call.resolve(Uint8Array.of(0));
    await settle();
    h.take();
    call.ctx.keepalive(KeepaliveStatus.UPNEEDED);
    h.scheduler.advance(500);
    expect(h.take()).toEqual([]);
  });

  it('is sent for MSG requests too', () => {
    const h = harness({ app: { msg: true } });
    const a = h.init('a');
    h.message('a', a, MSG, Uint8Array.of(0, 1, 3, 0));
    h.scheduler.advance(100);
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: KEEPALIVE, payload: Uint8Array.of(1) }]);
  });
});

describe('CANCEL', () => {
  /**
   * Spec (CHECKLIST A26): "the authenticator MUST cancel it and that cancelled request will reply with the error
   * CTAP2_ERR_KEEPALIVE_CANCEL ... the authenticator MUST NOT reply to the CTAPHID_CANCEL message itself."
   */
  it('aborts the pending request, sends nothing for the CANCEL, and relays the app answer (0x2D)', async () => {
    const h = harness();
    const a = startCbor(h);
    const call = h.app.pending()!;
    h.message('a', a, CANCEL, new Uint8Array(0));
    expect(call.ctx.signal.aborted).toBe(true);
    expect(h.take()).toEqual([]);
    call.reject(new CtapError(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL));
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0x2d) }]);
    expect(h.device.busy).toBe(false);
  });

  /** Spec (brief): after cancel, whatever the app returns is sent as the CBOR reply. */
  it('sends the app answer even if it is not KEEPALIVE_CANCEL', async () => {
    const h = harness();
    const a = startCbor(h);
    h.message('a', a, CANCEL, new Uint8Array(0));
    h.app.pending()!.resolve(Uint8Array.of(0, 0xa0));
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0, 0xa0) }]);
  });

  /** Spec (CHECKLIST A26): a CANCEL with no request being processed, or on a non-active CID, SHALL be ignored. */
  it('ignores CANCEL when idle, from another channel or peer, mid-assembly, and on invalid channels', async () => {
    const h = harness();
    const b = h.init('b');
    h.message('b', b, CANCEL, new Uint8Array(0));
    h.message('b', 0, CANCEL, new Uint8Array(0));
    h.message('b', 0xffffffff, CANCEL, new Uint8Array(0));
    h.message('b', 0x4242, CANCEL, new Uint8Array(0));
    const a = startCbor(h);
    const call = h.app.pending()!;
    h.message('b', b, CANCEL, new Uint8Array(0));
    h.message('b', a, CANCEL, new Uint8Array(0));
    expect(call.ctx.signal.aborted).toBe(false);
    call.resolve(Uint8Array.of(0));
    await settle();
    h.report('a', encodeInitPacket(a, PING, 100, new Uint8Array(57)));
    h.message('a', a, CANCEL, new Uint8Array(0));
    expect(h.device.phase).toBe('assembling');
    expect(h.take().filter((m) => m.cmd !== CBOR)).toEqual([]);
  });

  /** Decision (device.ts): a request cancelled before the application saw it is answered KEEPALIVE_CANCEL. */
  it('answers 0x2D itself when the request was still waiting for an aborted call', async () => {
    const h = harness();
    const a = startCbor(h);
    const first = h.app.pending()!;
    h.message('a', a, CtapHidCmd.INIT, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    h.message('a', a, CBOR, Uint8Array.of(2));
    h.take();
    h.message('a', a, CANCEL, new Uint8Array(0));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0x2d) }]);
    first.resolve(Uint8Array.of(0));
    await settle();
    expect(h.app.calls.length).toBe(1);
    expect(h.take()).toEqual([]);
  });
});

describe('application outcomes', () => {
  /** Spec (brief, CHECKLIST B0.2): a CtapError rejection is sent as its 1-byte status. */
  it('sends a CtapError as its status byte', async () => {
    const h = harness();
    const a = startCbor(h);
    h.app.pending()!.reject(new CtapError(CtapStatus.CTAP2_ERR_PIN_INVALID));
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0x31) }]);
    expect(h.errors).toEqual([]);
  });

  /** Spec (brief): anything else → CTAP1_ERR_OTHER (0x7F); the bug is reported, not swallowed. */
  it('sends CTAP1_ERR_OTHER for other rejections, sync throws and unframeable answers', async () => {
    for (const fail of [
      (h: Harness) => h.app.pending()!.reject(new TypeError('bug')),
      (h: Harness) => h.app.pending()!.resolve(new Uint8Array(0)),
      (h: Harness) => h.app.pending()!.resolve(new Uint8Array(7610)),
    ]) {
      const h = harness();
      const a = startCbor(h);
      fail(h);
      await settle();
      expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0x7f) }]);
      expect(h.errors.map((e) => e.source)).toEqual(['app']);
    }
    const h = harness();
    h.app.cbor = () => {
      throw new Error('sync');
    };
    const a = startCbor(h);
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: CBOR, payload: Uint8Array.of(0x7f) }]);
  });

  it('answers a failed MSG with ERROR OTHER', async () => {
    const h = harness({ app: { msg: true } });
    const a = h.init('a');
    h.message('a', a, MSG, Uint8Array.of(0, 1, 3, 0));
    h.app.pending()!.reject(new Error('bug'));
    await settle();
    expect(h.take()).toEqual([err('a', a, CtapHidError.ERR_OTHER)]);
  });

  it('survives a send callback and an onError that throw', () => {
    let sent = 0;
    const dev = new CtapHidDevice({
      app: fakeApp(),
      scheduler: new ManualScheduler(),
      rng: testRng(),
      send: () => {
        sent++;
        throw new Error('socket closed');
      },
      onError: () => {
        throw new Error('logger broken');
      },
    });
    const init = encodeInitPacket(0xffffffff, CtapHidCmd.INIT, 8, new Uint8Array(8));
    expect(() => dev.handleReport(init, 'a')).not.toThrow();
    expect(sent).toBe(1);
    expect(dev.channelCount).toBe(1);
  });
});

describe('LOCK', () => {
  /** Spec (CHECKLIST A23): payload 1 byte, seconds 0..10; length ≠ 1 → INVALID_LEN; > 10 → INVALID_PAR. */
  it('validates the lock time', () => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, LOCK, new Uint8Array(0));
    h.message('a', a, LOCK, Uint8Array.of(1, 2));
    h.message('a', a, LOCK, Uint8Array.of(11));
    h.message('a', a, LOCK, Uint8Array.of(255));
    expect(h.take()).toEqual([err('a', a, 0x03), err('a', a, 0x03), err('a', a, 0x02), err('a', a, 0x02)]);
    expect(h.device.lockedBy).toBeUndefined();
  });

  /** Spec (CHECKLIST A23): while locked, other CIDs get CHANNEL_BUSY; the response has an empty payload. */
  it('gives other channels CHANNEL_BUSY while the owner keeps working, until it expires', () => {
    const h = harness();
    const a = h.init('a');
    const b = h.init('b');
    h.message('a', a, LOCK, Uint8Array.of(10));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: LOCK, payload: new Uint8Array(0) }]);
    expect(h.device.lockedBy).toBe(a);
    h.message('b', b, PING, Uint8Array.of(1));
    h.message('a', a, PING, Uint8Array.of(2));
    h.message('b', b, LOCK, Uint8Array.of(0));
    expect(h.take()).toEqual([
      err('b', b, 0x06),
      { peer: 'a', cid: a, cmd: PING, payload: Uint8Array.of(2) },
      err('b', b, 0x06),
    ]);
    h.scheduler.advance(9999);
    h.message('b', b, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([err('b', b, 0x06)]);
    h.scheduler.advance(1);
    expect(h.device.lockedBy).toBeUndefined();
    h.message('b', b, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([{ peer: 'b', cid: b, cmd: PING, payload: Uint8Array.of(1) }]);
  });

  /** Spec (CHECKLIST A23): 0 releases the lock. A new LOCK from the owner restarts the period. */
  it('releases on LOCK 0 and renews on a second LOCK', () => {
    const h = harness();
    const a = h.init('a');
    const b = h.init('b');
    h.message('a', a, LOCK, Uint8Array.of(2));
    h.scheduler.advance(1500);
    h.message('a', a, LOCK, Uint8Array.of(2));
    h.scheduler.advance(1500);
    expect(h.device.lockedBy).toBe(a);
    h.message('a', a, LOCK, Uint8Array.of(0));
    expect(h.device.lockedBy).toBeUndefined();
    expect(h.scheduler.pending).toBe(0);
    h.take();
    h.message('b', b, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([{ peer: 'b', cid: b, cmd: PING, payload: Uint8Array.of(1) }]);
  });

  /** Decision (device.ts): INIT still allocates while locked; a resync keeps the owner's lock. */
  it('still allocates channels while locked, and keeps the lock across its owner resyncing', () => {
    const h = harness();
    const a = h.init('a');
    h.message('a', a, LOCK, Uint8Array.of(5));
    const b = h.init('b');
    h.message('a', a, CtapHidCmd.INIT, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    h.take();
    expect(h.device.lockedBy).toBe(a);
    h.message('b', b, PING, Uint8Array.of(1));
    expect(h.take()).toEqual([err('b', b, 0x06)]);
  });
});
