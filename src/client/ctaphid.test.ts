/** CtapHidClient against the real CtapHidDevice, wired in-process with real timers. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CtapHidCapability,
  CtapHidCmd,
  CtapHidError,
  HID_BROADCAST_CID,
  HID_MAX_MESSAGE_SIZE,
} from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { decodeCanonical, encode } from '../../ctap/cbor.ts';
import { CtapError, EmulatorError } from '../../ctap/errors.ts';
import type { RequestContext, Scheduler } from '../../ctap/authenticator/env.ts';
import { CtapHidDevice, type HidApplication } from '../../ctap/hid/device.ts';
import { decodePacket, encodeInitPacket } from '../../ctap/hid/packet.ts';
import { testRng } from '../../test/helpers/hidTestkit.ts';
import { CtapHidClient, CtapHidClientError, HidClientFailure, type ReportPipe } from './ctaphid.ts';

const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer(ms, cb) {
    const t = setTimeout(cb, ms);
    return () => clearTimeout(t);
  },
};

/** Every report that crossed the pipe, for assertions about the wire. */
interface Wire {
  toDevice: Uint8Array[];
  toClient: Uint8Array[];
}

const devices: CtapHidDevice[] = [];
afterEach(() => {
  for (const d of devices.splice(0)) d.close();
});

/** A device plus a factory of pipes, each its own peer; delivery on a microtask, like a wire. */
function wire(app: HidApplication, opts: { keepaliveIntervalMs?: number } = {}) {
  const clients = new Map<string, (r: Uint8Array) => void>();
  const log: Wire = { toDevice: [], toClient: [] };
  const device = new CtapHidDevice({
    app,
    scheduler: realScheduler,
    rng: testRng(99),
    version: { major: 1, minor: 2, build: 3 },
    ...opts,
    send: (report, peer) => {
      log.toClient.push(report);
      queueMicrotask(() => clients.get(peer)?.(report));
    },
  });
  devices.push(device);
  let n = 0;
  const pipe = (): ReportPipe => {
    const peer = `p${++n}`;
    return {
      send: (r) => {
        log.toDevice.push(r);
        queueMicrotask(() => device.handleReport(r, peer));
      },
      onReport: (cb) => void clients.set(peer, cb),
      close: () => void clients.delete(peer),
    };
  };
  return { device, pipe, log };
}

/** An app that answers CBOR requests with `answer(payload, ctx)`. */
type Answer = (payload: Uint8Array, ctx: RequestContext) => Promise<Uint8Array>;
const app = (answer: Answer): HidApplication => ({ cbor: answer });
const echoApp = app(async (p) => Uint8Array.of(0, ...encode(new Map([[1, p.slice(1)]]))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CtapHidClient.open', () => {
  /** Spec (CHECKLIST A17, A19): broadcast INIT, 17-byte reply with the nonce echoed and a new CID. */
  it('allocates a channel and exposes version and capabilities', async () => {
    const { pipe, log } = wire(echoApp);
    const c = await CtapHidClient.open(pipe());
    const init = decodePacket(log.toDevice[0]!)!;
    expect(init).toMatchObject({ kind: 'init', cid: HID_BROADCAST_CID, cmd: CtapHidCmd.INIT, bcnt: 8 });
    expect(c.cid).not.toBe(0);
    expect(c.cid).not.toBe(HID_BROADCAST_CID);
    expect(c.version).toEqual({ major: 1, minor: 2, build: 3 });
    expect(c.protocolVersion).toBe(2);
    expect(c.capabilities).toBe(CtapHidCapability.CBOR | CtapHidCapability.NMSG);
  });

  /** Spec (CHECKLIST A19, Chromium): INIT replies with the wrong nonce are ignored; reading goes on. */
  it('skips INIT replies carrying another nonce', async () => {
    let cb: (r: Uint8Array) => void = () => {};
    const pipe: ReportPipe = {
      onReport: (f) => void (cb = f),
      send: (r) => {
        const nonce = decodePacket(r)!.data.slice(0, 8);
        const reply = (n: Uint8Array, cid: number) =>
          encodeInitPacket(HID_BROADCAST_CID, CtapHidCmd.INIT, 17, Uint8Array.of(...n, 0, 0, 0, cid, 2, 0, 0, 0, 4));
        queueMicrotask(() => cb(reply(new Uint8Array(8), 9)));
        queueMicrotask(() => cb(reply(nonce, 5)));
      },
    };
    const c = await CtapHidClient.open(pipe);
    expect(c.cid).toBe(5);
  });

  it('times out when nothing answers', async () => {
    const pipe: ReportPipe = { send: () => {}, onReport: () => {} };
    await expect(CtapHidClient.open(pipe, { timeoutMs: 30 })).rejects.toMatchObject({ code: HidClientFailure.TIMEOUT });
  });
});

describe('CtapHidClient requests', () => {
  /** Spec (CHECKLIST A6, A21): PING echoes; messages up to 7609 bytes. */
  it('pings up to the maximum message size', async () => {
    const { pipe } = wire(echoApp);
    const c = await CtapHidClient.open(pipe());
    const big = Uint8Array.from({ length: HID_MAX_MESSAGE_SIZE }, (_, i) => i & 0xff);
    expect(await c.ping(big)).toEqual(big);
    expect(await c.ping(new Uint8Array(0))).toEqual(new Uint8Array(0));
    await expect(c.ping(new Uint8Array(HID_MAX_MESSAGE_SIZE + 1))).rejects.toThrow(RangeError);
  });

  /** Spec (CHECKLIST A25, B0.2): CBOR = command || params; reply = status || CBOR. */
  it('cbor() encodes params after the command byte and decodes the response', async () => {
    const { pipe } = wire(echoApp);
    const c = await CtapHidClient.open(pipe());
    const params = new Map<number, unknown>([[1, 'x'], [2, Uint8Array.of(9)]]);
    const r = await c.cbor(0x01, params);
    expect(r.status).toBe(0);
    const echoed = (r.data as Map<number, Uint8Array>).get(1)!;
    expect(decodeCanonical(echoed)).toEqual(params);
    expect(await c.cbor(0x04)).toEqual({ status: 0, data: new Map([[1, new Uint8Array(0)]]) });
  });

  it('cbor() returns a bare error status, and rejects non-canonical CBOR', async () => {
    const { pipe } = wire(
      app(async (p) => {
        if (p[0] === 0x06) throw new CtapError(CtapStatus.CTAP2_ERR_PIN_INVALID);
        return Uint8Array.of(0, 0xa2, 0x02, 0x00, 0x01, 0x00); // keys out of order
      }),
    );
    const c = await CtapHidClient.open(pipe());
    expect(await c.cbor(0x06, new Map([[1, 1]]))).toEqual({ status: CtapStatus.CTAP2_ERR_PIN_INVALID });
    const e = await c.cbor(0x04).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EmulatorError);
    expect(e).toMatchObject({ code: HidClientFailure.BAD_CBOR });
  });

  /** Spec (CHECKLIST A16): CTAPHID_ERROR carries a 1-byte code → CtapHidClientError{code}. */
  it('throws CtapHidClientError on CTAPHID_ERROR, and keeps working afterwards', async () => {
    const { pipe } = wire(echoApp);
    const c = await CtapHidClient.open(pipe());
    const e1 = await c.lock(11).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(CtapHidClientError);
    expect(e1).toMatchObject({ code: CtapHidError.ERR_INVALID_PAR, cid: c.cid });
    await expect(c.call(CtapHidCmd.MSG, Uint8Array.of(0, 3, 0, 0))).rejects.toMatchObject({
      code: CtapHidError.ERR_INVALID_CMD,
    });
    await expect(c.wink()).rejects.toMatchObject({ code: CtapHidError.ERR_INVALID_CMD });
    expect(await c.ping(Uint8Array.of(1))).toEqual(Uint8Array.of(1));
  });

  it('lock() and wink() succeed with empty responses', async () => {
    const { pipe } = wire({ ...echoApp, wink: () => {} });
    const a = await CtapHidClient.open(pipe());
    const b = await CtapHidClient.open(pipe());
    expect(a.capabilities & CtapHidCapability.WINK).toBe(CtapHidCapability.WINK);
    await a.wink();
    await a.lock(1);
    await expect(b.ping(Uint8Array.of(1))).rejects.toMatchObject({ code: CtapHidError.ERR_CHANNEL_BUSY });
    await a.lock(0);
    expect(await b.ping(Uint8Array.of(1))).toEqual(Uint8Array.of(1));
  });

  /** Spec (CHECKLIST A27): KEEPALIVE while the request is pending; UPNEEDED when waiting for the user. */
  it('reports keepalives and restarts its timeout on each one', async () => {
    const { pipe } = wire(
      app(async (_p, ctx) => {
        await sleep(60);
        ctx.keepalive(2);
        await sleep(120);
        return Uint8Array.of(0);
      }),
      { keepaliveIntervalMs: 25 },
    );
    const c = await CtapHidClient.open(pipe(), { timeoutMs: 100 });
    const seen: number[] = [];
    const r = await c.call(CtapHidCmd.CBOR, Uint8Array.of(0x0b), { onKeepalive: (s) => seen.push(s) });
    expect(r).toEqual(Uint8Array.of(0));
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen[0]).toBe(1);
    expect(seen.at(-1)).toBe(2);
  });

  /** Spec (CHECKLIST A26): abort → CANCEL on the channel (never answered); the request answers 0x2D. */
  it('sends CANCEL when the signal aborts and returns the KEEPALIVE_CANCEL answer', async () => {
    const { pipe, log } = wire(
      app(
        (_p, ctx) =>
          new Promise((_res, rej) =>
            ctx.signal.addEventListener('abort', () => rej(new CtapError(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL))),
          ),
      ),
    );
    const c = await CtapHidClient.open(pipe());
    const ac = new AbortController();
    const pending = c.call(CtapHidCmd.CBOR, Uint8Array.of(0x0b), { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect(await pending).toEqual(Uint8Array.of(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL));
    const cancels = log.toDevice
      .map((r) => decodePacket(r)!)
      .filter((p) => p.kind === 'init' && p.cmd === CtapHidCmd.CANCEL);
    expect(cancels).toMatchObject([{ cid: c.cid, bcnt: 0 }]);
  });

  it('rejects with the abort reason, sending nothing, when already aborted', async () => {
    const { pipe, log } = wire(echoApp);
    const c = await CtapHidClient.open(pipe());
    const before = log.toDevice.length;
    const aborted = c.ping(Uint8Array.of(1), { signal: AbortSignal.abort() });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(log.toDevice.length).toBe(before);
  });

  it('queues concurrent calls and answers each in order', async () => {
    const { pipe } = wire(echoApp);
    const c = await CtapHidClient.open(pipe());
    const rs = await Promise.all([1, 2, 3, 4].map((i) => c.ping(Uint8Array.of(i))));
    expect(rs).toEqual([1, 2, 3, 4].map((i) => Uint8Array.of(i)));
  });

  /** Spec (CHECKLIST A18): INIT on one's own channel resyncs and returns the same CID. */
  it('init() resyncs its own channel', async () => {
    const { pipe, device } = wire(echoApp);
    const c = await CtapHidClient.open(pipe());
    const info = await c.init();
    expect(info.cid).toBe(c.cid);
    expect(device.channelCount).toBe(1);
  });

  it('close() fails the call in flight and later ones', async () => {
    const { pipe } = wire(app(() => new Promise(() => {})));
    const c = await CtapHidClient.open(pipe());
    const pending = c.call(CtapHidCmd.CBOR, Uint8Array.of(1));
    await sleep(5);
    c.close();
    await expect(pending).rejects.toMatchObject({ code: HidClientFailure.CLOSED });
    await expect(c.ping(Uint8Array.of(1))).rejects.toMatchObject({ code: HidClientFailure.CLOSED });
  });

  it('rejects a response that breaks framing', async () => {
    let cb: (r: Uint8Array) => void = () => {};
    const pipe: ReportPipe = {
      onReport: (f) => void (cb = f),
      send: (r) => {
        const p = decodePacket(r)!;
        if (p.kind === 'init' && p.cmd === CtapHidCmd.INIT) {
          const n = p.data.slice(0, 8);
          const reply = Uint8Array.of(...n, 0, 0, 0, 7, 2, 0, 0, 0, 4);
          queueMicrotask(() => cb(encodeInitPacket(HID_BROADCAST_CID, CtapHidCmd.INIT, 17, reply)));
        } else {
          // answer PING with WINK: a response command that does not match the request
          queueMicrotask(() => cb(encodeInitPacket(7, CtapHidCmd.WINK, 0, new Uint8Array(0))));
        }
      },
    };
    const c = await CtapHidClient.open(pipe);
    await expect(c.ping(Uint8Array.of(1))).rejects.toMatchObject({ code: HidClientFailure.PROTOCOL });
  });
});
