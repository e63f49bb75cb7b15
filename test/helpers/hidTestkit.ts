/**
 * Test support for the CTAPHID layer (imported only by tests: ctap/hid/*.test.ts, test/property).
 * A fake application whose answers the test controls, a CtapHidDevice on a ManualScheduler, and helpers
 * that speak CTAPHID to it from any number of peers and read back what it sent.
 */
import type { RequestContext, Rng } from '../../ctap/authenticator/env.ts';
import { CtapHidCmd, HID_BROADCAST_CID } from '../../ctap/constants/commands.ts';
import { readU32be } from '../../ctap/bytes.ts';
import { ManualScheduler } from './scheduler.ts';
import { CtapHidDevice, type CtapHidDeviceOptions, type HidApplication, type HidErrorSource } from '../../ctap/hid/device.ts';
import { decodePacket, fragmentMessage } from '../../ctap/hid/packet.ts';

/** One call the device made to the fake application; the test settles it. */
export interface AppCall {
  kind: 'cbor' | 'msg';
  payload: Uint8Array;
  ctx: RequestContext;
  settled: boolean;
  resolve(response: Uint8Array): void;
  reject(err: unknown): void;
}

export interface FakeApp extends HidApplication {
  calls: AppCall[];
  winks: number;
  /** The most recent call not yet settled. */
  pending(): AppCall | undefined;
}

/** A fake HidApplication: every CBOR/MSG call waits until the test resolves or rejects it. */
export function fakeApp(opts: { cbor?: boolean; msg?: boolean; wink?: boolean } = {}): FakeApp {
  const calls: AppCall[] = [];
  const call = (kind: AppCall['kind']) => (payload: Uint8Array, ctx: RequestContext) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const c: AppCall = {
        kind,
        payload,
        ctx,
        settled: false,
        resolve: (r) => {
          c.settled = true;
          resolve(r);
        },
        reject: (e) => {
          c.settled = true;
          reject(e);
        },
      };
      calls.push(c);
    });
  const app: FakeApp = {
    calls,
    winks: 0,
    pending: () => [...calls].reverse().find((c) => !c.settled),
  };
  if (opts.cbor !== false) app.cbor = call('cbor'); // a U2F-only device has no CBOR
  if (opts.msg) app.msg = call('msg');
  if (opts.wink) app.wink = () => void app.winks++;
  return app;
}

/** Deterministic RNG (xorshift32); seed must be non-zero. Not for anything but tests. */
export function testRng(seed = 0x1234567): Rng {
  let x = seed >>> 0 || 1;
  return {
    randomBytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        out[i] = x & 0xff;
      }
      return out;
    },
  };
}

/** A message the device sent, reassembled from its reports. */
export interface SentMessage {
  peer: string;
  cid: number;
  cmd: number;
  payload: Uint8Array;
}

export interface Harness {
  device: CtapHidDevice;
  scheduler: ManualScheduler;
  app: FakeApp;
  /** Every report the device sent, in order, not yet consumed by take(). */
  out: { report: Uint8Array; peer: string }[];
  /** Errors passed to onError. */
  errors: { err: unknown; source: HidErrorSource }[];
  /** Feed one raw report. */
  report(peer: string, report: Uint8Array): void;
  /** Fragment and feed a whole message. */
  message(peer: string, cid: number, cmd: number, payload: Uint8Array): void;
  /** Reassemble and remove everything sent so far. */
  take(): SentMessage[];
  /** Allocate a channel for `peer` over broadcast INIT; returns the new CID. */
  init(peer: string): number;
}

export const NONCE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

export type HarnessOptions = { app?: { cbor?: boolean; msg?: boolean; wink?: boolean } } & Partial<
  Omit<CtapHidDeviceOptions, 'app' | 'scheduler' | 'send'>
>;

export function harness(opts: HarnessOptions = {}): Harness {
  const scheduler = new ManualScheduler();
  const app = fakeApp(opts.app);
  const out: Harness['out'] = [];
  const errors: Harness['errors'] = [];
  const { app: _ignored, ...rest } = opts;
  const device = new CtapHidDevice({
    rng: testRng(),
    ...rest,
    app,
    scheduler,
    send: (report, peer) => void out.push({ report, peer }),
    onError: (err, source) => void errors.push({ err, source }),
  });
  const h: Harness = {
    device,
    scheduler,
    app,
    out,
    errors,
    report: (peer, report) => device.handleReport(report, peer),
    message: (peer, cid, cmd, payload) => {
      for (const r of fragmentMessage(cid, cmd, payload)) device.handleReport(r, peer);
    },
    take: () => reassemble(out.splice(0)),
    init: (peer) => {
      h.message(peer, HID_BROADCAST_CID, CtapHidCmd.INIT, NONCE);
      const reply = h.take().find((m) => m.cmd === CtapHidCmd.INIT && m.peer === peer);
      if (!reply) throw new Error('no INIT reply');
      return readU32be(reply.payload, 8);
    },
  };
  return h;
}

/**
 * Reassemble device output into messages. Throws if the stream is not well-formed CTAPHID
 * (a continuation without an init packet, wrong SEQ, interleaving, not 64 bytes).
 */
export function reassemble(reports: { report: Uint8Array; peer: string }[]): SentMessage[] {
  const msgs: SentMessage[] = [];
  let cur: { msg: SentMessage; filled: number; seq: number } | undefined;
  for (const { report, peer } of reports) {
    const p = decodePacket(report);
    if (!p) throw new Error(`device sent a ${report.length}-byte report`);
    if (p.kind === 'init') {
      if (cur) throw new Error('init packet before the previous message was complete');
      const msg: SentMessage = { peer, cid: p.cid, cmd: p.cmd, payload: new Uint8Array(p.bcnt) };
      const n = Math.min(p.bcnt, p.data.length);
      msg.payload.set(p.data.subarray(0, n));
      msgs.push(msg);
      if (n < p.bcnt) cur = { msg, filled: n, seq: 0 };
    } else {
      if (!cur || cur.msg.cid !== p.cid || cur.msg.peer !== peer || p.seq !== cur.seq)
        throw new Error(`unexpected continuation packet (cid ${p.cid.toString(16)}, seq ${p.seq})`);
      const n = Math.min(p.data.length, cur.msg.payload.length - cur.filled);
      cur.msg.payload.set(p.data.subarray(0, n), cur.filled);
      cur.filled += n;
      cur.seq++;
      if (cur.filled >= cur.msg.payload.length) cur = undefined;
    }
  }
  if (cur) throw new Error('device output ends mid-message');
  return msgs;
}

/** Let promise callbacks run (the device answers the application's promise on a microtask). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
