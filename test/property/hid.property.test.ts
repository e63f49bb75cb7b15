/**
 * Property test of the CTAPHID channel layer: random and mutated reports from several peers, clock jumps,
 * application answers, keepalive changes and power cycles. Whatever happens:
 * - the device never throws and reports no internal error;
 * - every report it sends is 64 bytes, and its output is well-formed CTAPHID: each message is one init
 *   packet followed by its continuation packets (SEQ 0, 1, …) on the same CID and peer, with a known
 *   response command and a consistent BCNT;
 * - replies go to a CID allocated to that peer, or broadcast, or (ERROR only) a CID that peer used;
 * - ERROR payloads are 1 byte with a known code (never LOCK_REQUIRED); KEEPALIVE is 1 byte, PROCESSING or
 *   UPNEEDED; INIT is 17 bytes;
 * - the application is never called while an earlier call is unsettled;
 * - afterwards, once pending calls settle and the clock passes every timeout, a fresh INIT + PING works.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU32be } from '../../ctap/bytes.ts';
import { CtapHidCmd, CtapHidError, HID_BROADCAST_CID, HID_MAX_MESSAGE_SIZE } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { CtapError } from '../../ctap/errors.ts';
import { CtapHidDevice, type HidErrorSource } from '../../ctap/hid/device.ts';
import { decodePacket, encodeContPacket, encodeInitPacket, fragmentMessage } from '../../ctap/hid/packet.ts';
import { fakeApp, settle, testRng } from '../helpers/hidTestkit.ts';
import { ManualScheduler } from '../helpers/scheduler.ts';

const PEERS = ['udp:1', 'udp:2', 'udp:3'];
const { PING, MSG, LOCK, INIT, WINK, CBOR, CANCEL, KEEPALIVE, ERROR } = CtapHidCmd;
const RESPONSE_CMDS = new Set<number>([PING, MSG, LOCK, INIT, WINK, CBOR, KEEPALIVE, ERROR]);
/** Every CTAPHID error code except LOCK_REQUIRED, which the device documents it never sends. */
const ERROR_CODES = new Set<number>(Object.values(CtapHidError).filter((c) => c !== CtapHidError.ERR_LOCK_REQUIRED));

/** Which CID a generated report uses: one of the sender's own channels, anyone's, a reserved one, or any. */
type CidRef =
  | { k: 'broadcast' }
  | { k: 'zero' }
  | { k: 'own'; i: number }
  | { k: 'known'; i: number }
  | { k: 'raw'; cid: number };
type Mutation = 'none' | 'drop' | 'dup' | 'swap' | 'truncate' | 'flip';
type Action =
  | { t: 'hello'; peer: number }
  | { t: 'raw'; peer: number; bytes: Uint8Array }
  | { t: 'init'; peer: number; cid: CidRef; cmd: number; bcnt: number; data: Uint8Array }
  | { t: 'cont'; peer: number; cid: CidRef; seq: number; data: Uint8Array }
  | { t: 'msg'; peer: number; cid: CidRef; cmd: number; payload: Uint8Array; mutate: Mutation; at: number }
  | { t: 'advance'; ms: number }
  | { t: 'answer'; how: 'ok' | 'ctap' | 'bug' | 'empty' | 'huge'; bytes: Uint8Array }
  | { t: 'keepalive'; status: number }
  | { t: 'power'; keep: boolean };

const peer = fc.nat(PEERS.length - 1);
const cidRef: fc.Arbitrary<CidRef> = fc.oneof(
  { weight: 8, arbitrary: fc.nat(15).map((i) => ({ k: 'own' as const, i })) },
  { weight: 2, arbitrary: fc.nat(15).map((i) => ({ k: 'known' as const, i })) },
  { weight: 2, arbitrary: fc.constant({ k: 'broadcast' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'zero' as const }) },
  { weight: 1, arbitrary: fc.nat({ max: 0xffffffff }).map((cid) => ({ k: 'raw' as const, cid })) },
);
const cmd = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(PING, MSG, LOCK, INIT, WINK, CBOR, CANCEL) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
);
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ t: fc.constant('hello' as const), peer }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('raw' as const),
      peer,
      bytes: fc.oneof(
        { weight: 5, arbitrary: fc.uint8Array({ minLength: 64, maxLength: 64 }) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('init' as const),
      peer,
      cid: cidRef,
      cmd,
      bcnt: fc.oneof(
        fc.nat(70),
        fc.constantFrom(8, 57, 58, HID_MAX_MESSAGE_SIZE, HID_MAX_MESSAGE_SIZE + 1),
        fc.nat(0xffff),
      ),
      data: bytes(57),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('cont' as const), peer, cid: cidRef, seq: fc.nat(0x7f), data: bytes(59) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('msg' as const),
      peer,
      cid: cidRef,
      cmd,
      payload: fc.oneof({ weight: 4, arbitrary: bytes(12) }, { weight: 1, arbitrary: bytes(400) }),
      mutate: fc.constantFrom<Mutation>('none', 'none', 'none', 'drop', 'dup', 'swap', 'truncate', 'flip'),
      at: fc.nat(1000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.oneof(fc.nat(150), fc.nat(12_000)) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('answer' as const),
      how: fc.constantFrom('ok', 'ok', 'ctap', 'bug', 'empty', 'huge'),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('keepalive' as const), status: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('power' as const), keep: fc.boolean() }) },
);

/** Every peer allocates a channel first, so most generated traffic can reach the state machine. */
const WARMUP: Action[] = PEERS.map((_, p) => ({ t: 'hello', peer: p }));

function mutate(reports: Uint8Array[], how: Mutation, at: number): Uint8Array[] {
  const r = reports.map((x) => x.slice());
  const i = at % r.length;
  switch (how) {
    case 'none':
      return r;
    case 'drop':
      return r.filter((_, j) => j !== i);
    case 'dup':
      return [...r.slice(0, i + 1), r[i]!, ...r.slice(i + 1)];
    case 'swap': {
      const j = (i + 1) % r.length;
      [r[i], r[j]] = [r[j]!, r[i]!];
      return r;
    }
    case 'truncate':
      r[i] = r[i]!.subarray(0, at % 64);
      return r;
    case 'flip':
      r[i]![at % 64]! ^= 1 << (at % 8);
      return r;
  }
}

/** Watches the device's output and checks every invariant as each report leaves. */
class OutputChecker {
  /** cid → peer, as announced by broadcast INIT replies (the model of the device's channel table). */
  readonly allocated = new Map<number, string>();
  /** CIDs each peer has written to (ERROR replies may name them). */
  readonly used = new Map<string, Set<number>>(PEERS.map((p) => [p, new Set<number>()]));
  private cur: { peer: string; cid: number; cmd: number; payload: Uint8Array; filled: number; seq: number } | undefined;
  readonly messages: { peer: string; cid: number; cmd: number; payload: Uint8Array }[] = [];

  constructor(private readonly caps: { msg: boolean; wink: boolean }) {}

  sent(report: Uint8Array, peer: string): void {
    expect(report.length).toBe(64);
    const p = decodePacket(report)!;
    if (p.kind === 'init') {
      expect(this.cur, 'init packet while a message was unfinished').toBeUndefined();
      expect(p.bcnt).toBeLessThanOrEqual(HID_MAX_MESSAGE_SIZE);
      const m = { peer, cid: p.cid, cmd: p.cmd, payload: new Uint8Array(p.bcnt), filled: 0, seq: 0 };
      m.filled = Math.min(p.bcnt, 57);
      m.payload.set(p.data.subarray(0, m.filled));
      if (m.filled < p.bcnt) this.cur = m;
      else this.done(m);
    } else {
      const c = this.cur;
      expect(c, 'continuation packet without an init packet').toBeDefined();
      expect([p.cid, peer, p.seq]).toEqual([c!.cid, c!.peer, c!.seq]);
      const n = Math.min(59, c!.payload.length - c!.filled);
      c!.payload.set(p.data.subarray(0, n), c!.filled);
      c!.filled += n;
      c!.seq++;
      if (c!.filled >= c!.payload.length) {
        this.cur = undefined;
        this.done(c!);
      }
    }
  }

  private done(m: { peer: string; cid: number; cmd: number; payload: Uint8Array }): void {
    this.messages.push({ peer: m.peer, cid: m.cid, cmd: m.cmd, payload: m.payload });
    expect(RESPONSE_CMDS.has(m.cmd), `unknown response command 0x${m.cmd.toString(16)}`).toBe(true);
    if (m.cmd === MSG) expect(this.caps.msg).toBe(true);
    if (m.cmd === WINK) expect(this.caps.wink).toBe(true);
    const own = this.allocated.get(m.cid) === m.peer;
    switch (m.cmd) {
      case ERROR:
        expect(m.payload.length).toBe(1);
        expect(ERROR_CODES.has(m.payload[0]!), `ERROR code ${m.payload[0]}`).toBe(true);
        expect(own || m.cid === HID_BROADCAST_CID || this.used.get(m.peer)!.has(m.cid)).toBe(true);
        return;
      case INIT: {
        expect(m.payload.length).toBe(17);
        expect(m.payload[12]).toBe(2);
        const cid = readU32be(m.payload, 8);
        if (m.cid === HID_BROADCAST_CID) {
          expect(cid).not.toBe(0);
          expect(cid).not.toBe(HID_BROADCAST_CID);
          expect(this.allocated.has(cid), 'a CID allocated twice').toBe(false);
          this.allocated.set(cid, m.peer);
        } else {
          expect(own).toBe(true);
          expect(cid).toBe(m.cid);
        }
        return;
      }
      case KEEPALIVE:
        expect(m.payload.length).toBe(1);
        expect([1, 2]).toContain(m.payload[0]);
        expect(own).toBe(true);
        return;
      default:
        expect(own, `reply on CID 0x${m.cid.toString(16)} not allocated to ${m.peer}`).toBe(true);
    }
  }

  finished(): void {
    expect(this.cur, 'output ends mid-message').toBeUndefined();
  }
}

async function run(caps: { msg: boolean; wink: boolean }, actions: Action[]): Promise<void> {
  const scheduler = new ManualScheduler();
  const app = fakeApp(caps);
  const checker = new OutputChecker(caps);
  const errors: { err: unknown; source: HidErrorSource }[] = [];
  const device = new CtapHidDevice({
    app,
    scheduler,
    rng: testRng(0xc0ffee),
    send: (report, p) => checker.sent(report, p),
    onError: (err, source) => void errors.push({ err, source }),
  });
  const resolveCid = (ref: CidRef, p: string): number => {
    if (ref.k === 'broadcast') return HID_BROADCAST_CID;
    if (ref.k === 'zero') return 0;
    if (ref.k === 'raw') return ref.cid;
    const known = [...checker.allocated].filter(([, owner]) => ref.k === 'known' || owner === p).map(([cid]) => cid);
    return known.length ? known[ref.i % known.length]! : HID_BROADCAST_CID;
  };
  const feed = (p: string, report: Uint8Array): void => {
    const d = decodePacket(report);
    if (d) checker.used.get(p)!.add(d.cid);
    expect(() => device.handleReport(report, p)).not.toThrow();
  };

  for (const a of actions) {
    switch (a.t) {
      case 'hello':
        for (const r of fragmentMessage(HID_BROADCAST_CID, INIT, new Uint8Array(8))) feed(PEERS[a.peer]!, r);
        break;
      case 'raw':
        feed(PEERS[a.peer]!, a.bytes);
        break;
      case 'init':
        feed(PEERS[a.peer]!, encodeInitPacket(resolveCid(a.cid, PEERS[a.peer]!), a.cmd, a.bcnt, a.data));
        break;
      case 'cont':
        feed(PEERS[a.peer]!, encodeContPacket(resolveCid(a.cid, PEERS[a.peer]!), a.seq, a.data));
        break;
      case 'msg': {
        // Mostly well-formed payloads for the commands with a fixed request size, so their paths get exercised.
        const fit = a.at % 4 !== 0;
        const payload =
          a.cmd === INIT && fit ? Uint8Array.from({ length: 8 }, (_, i) => a.payload[i] ?? i)
          : a.cmd === LOCK && fit ? Uint8Array.of(a.at % 12)
          : a.cmd === WINK && fit ? new Uint8Array(0)
          : a.payload;
        const reports = mutate(fragmentMessage(resolveCid(a.cid, PEERS[a.peer]!), a.cmd, payload), a.mutate, a.at);
        for (const r of reports) feed(PEERS[a.peer]!, r);
        break;
      }
      case 'advance':
        scheduler.advance(a.ms);
        break;
      case 'answer': {
        const c = app.pending();
        if (!c) break;
        if (a.how === 'ok') c.resolve(a.bytes);
        else if (a.how === 'ctap') c.reject(new CtapError(a.bytes[0]!));
        else if (a.how === 'bug') c.reject(new Error('bug'));
        else if (a.how === 'empty') c.resolve(new Uint8Array(0));
        else c.resolve(new Uint8Array(HID_MAX_MESSAGE_SIZE + 1));
        break;
      }
      case 'keepalive':
        app.pending()?.ctx.keepalive(a.status as 1 | 2);
        break;
      case 'power':
        device.powerCycle({ keepChannels: a.keep });
        if (!a.keep) checker.allocated.clear();
        break;
    }
    await settle();
    // The application is never called while an earlier call is unsettled.
    expect(app.calls.filter((c) => !c.settled).length).toBeLessThanOrEqual(1);
  }

  // No wedge: settle what the application still holds, pass every timeout, then a new client works.
  // (Settling one call can start the request that was waiting for it, hence the loop.)
  for (let c = app.pending(); c; c = app.pending()) {
    c.resolve(Uint8Array.of(CtapStatus.CTAP2_OK));
    await settle();
  }
  scheduler.advance(20_000);
  await settle();
  const fresh = 'udp:fresh';
  checker.used.set(fresh, new Set());
  const before = checker.messages.length;
  const nonce = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);
  for (const r of fragmentMessage(HID_BROADCAST_CID, INIT, nonce)) feed(fresh, r);
  const init = checker.messages.slice(before).find((m) => m.peer === fresh && m.cmd === INIT);
  expect(init?.payload.subarray(0, 8)).toEqual(nonce);
  const cid = readU32be(init!.payload, 8);
  const ping = Uint8Array.from({ length: 100 }, (_, i) => i);
  for (const r of fragmentMessage(cid, PING, ping)) feed(fresh, r);
  expect(checker.messages.at(-1)).toEqual({ peer: fresh, cid, cmd: PING, payload: ping });
  checker.finished();
  expect(errors.filter((e) => e.source === 'internal')).toEqual([]);
  device.close();
}

describe('CTAPHID device under random input (property)', () => {
  it('never throws, emits only well-formed frames, and never wedges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ msg: fc.boolean(), wink: fc.boolean() }),
        fc.array(action, { minLength: 1, maxLength: 40 }),
        (caps, actions) => run(caps, [...WARMUP, ...actions]),
      ),
      { numRuns: 300 },
    );
  });

  it('holds over longer conversations (MSG and WINK implemented)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 60 }), (actions) =>
        run({ msg: true, wink: true }, [...WARMUP, ...actions]),
      ),
      { numRuns: 150 },
    );
  });
});
