/**
 * Transport decorator (seam 3): sits between the CtapHidDevice and the ReportTransport and does to 64-byte
 * reports what a bad cable, a flaky hub or buggy firmware does: drop, duplicate, reorder, truncate, corrupt,
 * wrong SEQ, answer CHANNEL_BUSY, storm keepalives, stall a response mid-message. The CTAPHID layer above it
 * reacts exactly as it would to the real thing (MSG_TIMEOUT, INVALID_SEQ, …); the client sees the rest.
 * It also swallows the response of a request the dispatch middleware marked `drop`.
 */
import { CtapHidCmd, CtapHidError, HID_REPORT_SIZE } from '../../ctap/constants/commands.ts';
import { CONT_HEADER_SIZE, INIT_FLAG, INIT_HEADER_SIZE, encodeInitPacket, packetCount } from '../../ctap/hid/packet.ts';
import { readU32be } from '../../ctap/bytes.ts';
import type { ReportTransport } from '../../transports/types.ts';
import type { FaultEngine } from './engine.ts';
import { ChannelTable } from './channelTable.ts';
import { ctapCommandName, u2fCommandName } from './facts.ts';
import type { Facts, FaultEffect } from './types.ts';

type Direction = 'in' | 'out';

/** A message crossing in one direction on one (peer, channel): what its continuation packets belong to. */
interface MessageTrack {
  hidCommand: number;
  ctapCommand?: string;
  /** Continuation packets still expected. */
  remaining: number;
  /** What happens to the rest of it: delivered, discarded (busy / swallowed), or cut after n more packets. */
  fate: { kind: 'pass' } | { kind: 'discard' } | { kind: 'stall'; left: number };
}

interface Held {
  report: Uint8Array;
  cancel: () => void;
}

/** The fate of a message nothing was decided about (shared: a fate is replaced, never changed, except a stall's). */
const PASS: MessageTrack['fate'] = { kind: 'pass' };

/** How long a reordered report waits for a successor before it is delivered anyway. */
const REORDER_HOLD_MS = 100;

/** Commands that start a transaction (a CHANNEL_BUSY answer makes sense for them). */
const REQUESTS = new Set<number>([CtapHidCmd.CBOR, CtapHidCmd.MSG, CtapHidCmd.PING, CtapHidCmd.WINK, CtapHidCmd.LOCK]);
/** Commands the device answers a CBOR/MSG request with (they end a keepalive storm). */
const RESPONSES = new Set<number>([CtapHidCmd.CBOR, CtapHidCmd.MSG, CtapHidCmd.ERROR]);

/**
 * Most messages tracked at once per table (direction, or last request): any local sender can open channels
 * without end, so the least recently used entry goes beyond it (as the CTAPHID channel table's 1024).
 */
export const TRACK_LIMIT = 1024;

export interface FaultTransport extends ReportTransport {
  /** Entries in the tracking tables (tests: at most 3 × TRACK_LIMIT, 0 when no message is crossing). */
  readonly trackedMessages: number;
}

export function decorateTransport(inner: ReportTransport, engine: FaultEngine): FaultTransport {
  const held = new Map<string, Held>();
  const storms = new Map<string, () => void>();
  let deliver: (report: Uint8Array, peer: string) => void = () => {};
  let closed = false;

  const key = (dir: Direction, peer: string, cid: number): string => `${dir}|${peer}|${cid >>> 0}`;

  function emit(dir: Direction, report: Uint8Array, peer: string): void {
    if (closed) return;
    if (dir === 'in') deliver(report, peer);
    else inner.send(report, peer);
  }

  /** Deliver, releasing a report held back for reordering right after it. */
  function pass(dir: Direction, report: Uint8Array, peer: string): void {
    emit(dir, report, peer);
    if (held.size === 0) return;
    const h = held.get(`${dir}|${peer}`);
    if (h) {
      held.delete(`${dir}|${peer}`);
      h.cancel();
      emit(dir, h.report, peer);
    }
  }

  function stopStorm(k: string): void {
    storms.get(k)?.();
    storms.delete(k);
  }

  function startStorm(peer: string, cid: number, e: Extract<FaultEffect, { type: 'keepalive.storm' }>): void {
    const k = key('out', peer, cid);
    stopStorm(k);
    let left = e.count ?? 50;
    let cancel = (): void => {};
    const tick = (): void => {
      if (closed || left-- <= 0) return stopStorm(k);
      inner.send(encodeInitPacket(cid, CtapHidCmd.KEEPALIVE, 1, new Uint8Array([e.status ?? 2])), peer);
      cancel = engine.scheduler.setTimer(e.intervalMs ?? 1, tick);
    };
    storms.set(k, () => cancel());
    cancel = engine.scheduler.setTimer(e.intervalMs ?? 1, tick);
  }

  /** Per direction: (peer, channel) → the message still crossing on it (complete messages are not kept). */
  const tracks = { in: new ChannelTable<MessageTrack>(TRACK_LIMIT), out: new ChannelTable<MessageTrack>(TRACK_LIMIT) };
  /** (peer, channel) → the CTAP command of its last CBOR / MSG request, until its response starts. */
  const lastRequest = new ChannelTable<string>(TRACK_LIMIT);

  /**
   * Follow one report's message (always: a rule armed mid-message must see where its packets belong); undefined
   * for a report that is not a packet. The facts a rule matches on are built only when a rule is armed.
   * A message is tracked only while continuation packets are still expected: a new init packet on the channel
   * supersedes it, the last one ends it, and the tables are bounded (TRACK_LIMIT, least recently used out).
   */
  function track(dir: Direction, report: Uint8Array, peer: string, cid: number): MessageTrack | undefined {
    if (report.length !== HID_REPORT_SIZE) return undefined; // decodePacket's rule: not a packet
    const b4 = report[4]!;
    const table = tracks[dir];
    if (b4 & INIT_FLAG) {
      const cmd = b4 & 0x7f;
      let ctap: string | undefined;
      if (cmd === CtapHidCmd.CBOR || cmd === CtapHidCmd.MSG) {
        if (dir === 'in') {
          ctap = cmd === CtapHidCmd.CBOR ? ctapCommandName(report[INIT_HEADER_SIZE]) : u2fCommandName(report[INIT_HEADER_SIZE + 1]);
          if (ctap !== undefined) lastRequest.set(peer, cid, ctap);
          else lastRequest.delete(peer, cid);
        } else {
          ctap = lastRequest.take(peer, cid);
        }
      }
      const t: MessageTrack = { hidCommand: cmd, remaining: packetCount((report[5]! << 8) | report[6]!) - 1, fate: PASS };
      if (ctap !== undefined) t.ctapCommand = ctap;
      if (cmd !== CtapHidCmd.KEEPALIVE) {
        if (t.remaining > 0) table.set(peer, cid, t);
        else table.delete(peer, cid);
      }
      return t;
    }
    const t = table.get(peer, cid);
    if (!t) return { hidCommand: -1, remaining: 0, fate: PASS };
    if (--t.remaining <= 0) table.delete(peer, cid);
    return t;
  }

  function factsOf(dir: Direction, report: Uint8Array, t: MessageTrack, init: boolean, cid: number): Facts {
    const facts: Facts = { direction: dir, channel: cid, packet: init ? 'init' : 'cont' };
    if (t.hidCommand >= 0) facts.hidCommand = t.hidCommand;
    if (t.ctapCommand !== undefined) facts.command = t.ctapCommand;
    if (!init) facts.seq = report[4]!;
    return facts;
  }

  /** Whether an effect can act on this report (so a rule is not consumed where it cannot do anything). */
  function applicable(e: FaultEffect, dir: Direction, init: boolean, track: MessageTrack): boolean {
    switch (e.type) {
      case 'report.wrongSeq':
        return !init;
      case 'hid.busy':
        return dir === 'in' && init && REQUESTS.has(track.hidCommand);
      case 'keepalive.storm':
        return dir === 'in' && init && track.hidCommand === CtapHidCmd.CBOR;
      case 'response.stall':
        return dir === 'out' && init && RESPONSES.has(track.hidCommand) && track.remaining + 1 > (e.afterPackets ?? 1);
      default:
        return e.type.startsWith('report.');
    }
  }

  function handle(dir: Direction, report: Uint8Array, peer: string): void {
    const cid = report.length === HID_REPORT_SIZE ? readU32be(report, 0) : 0;
    const t = track(dir, report, peer, cid);
    if (!t) return pass(dir, report, peer);
    const init = (report[4]! & INIT_FLAG) !== 0;
    if (dir === 'out' && init && RESPONSES.has(t.hidCommand)) {
      if (storms.size > 0) stopStorm(key('out', peer, cid));
      // Dispatch `drop`: this CBOR / MSG response never leaves the device.
      if (t.hidCommand !== CtapHidCmd.ERROR && engine.takeSwallow(cid)) t.fate = { kind: 'discard' };
    }
    if (!init) {
      // The rest of a message already decided on.
      if (t.fate.kind === 'discard') return;
      if (t.fate.kind === 'stall') {
        if (t.fate.left <= 0) return;
        t.fate.left--;
      }
    } else if (t.fate.kind === 'discard') {
      return;
    }
    if (!engine.armed('transport')) return pass(dir, report, peer);
    const fired = engine.fireFirst('transport', factsOf(dir, report, t, init, cid), (e) => applicable(e, dir, init, t));
    if (!fired) return pass(dir, report, peer);
    const e = fired.effect;
    switch (e.type) {
      case 'report.drop':
        return;
      case 'report.duplicate':
        pass(dir, report, peer);
        return pass(dir, report.slice(), peer);
      case 'report.reorder': {
        const hk = `${dir}|${peer}`;
        const prev = held.get(hk);
        if (prev) {
          prev.cancel();
          emit(dir, prev.report, peer);
        }
        const h: Held = { report, cancel: () => {} };
        h.cancel = engine.scheduler.setTimer(REORDER_HOLD_MS, () => {
          if (held.get(hk) === h) {
            held.delete(hk);
            emit(dir, h.report, peer);
          }
        });
        held.set(hk, h);
        return;
      }
      case 'report.truncate': {
        const out = report.slice();
        out.fill(0, e.keep ?? 32);
        return pass(dir, out, peer);
      }
      case 'report.corrupt': {
        const out = report.slice();
        const first = init ? INIT_HEADER_SIZE : CONT_HEADER_SIZE;
        const offset = e.offset ?? first + engine.randomInt(HID_REPORT_SIZE - first);
        fired.entry.detail = { ...fired.entry.detail, offset };
        out[offset] = out[offset]! ^ (e.xor ?? 0xff);
        return pass(dir, out, peer);
      }
      case 'report.wrongSeq': {
        const out = report.slice();
        out[4] = e.seq ?? (out[4]! + 1) & 0x7f;
        return pass(dir, out, peer);
      }
      case 'hid.busy':
        // CTAP 2.1 §11.2.9.1.6 ERR_CHANNEL_BUSY, as if another channel's transaction were running.
        t.fate = { kind: 'discard' };
        return emit('out', encodeInitPacket(cid, CtapHidCmd.ERROR, 1, new Uint8Array([CtapHidError.ERR_CHANNEL_BUSY])), peer);
      case 'keepalive.storm':
        pass(dir, report, peer);
        return startStorm(peer, cid, e);
      case 'response.stall': {
        const after = e.afterPackets ?? 1;
        t.fate = { kind: 'stall', left: after - 1 };
        return after > 0 ? pass(dir, report, peer) : undefined;
      }
      default:
        return pass(dir, report, peer);
    }
  }

  return {
    get trackedMessages() {
      return tracks.in.size + tracks.out.size + lastRequest.size;
    },
    onReport(handler) {
      deliver = handler;
      inner.onReport((report, peer) => handle('in', report, peer));
    },
    send(report, peer) {
      handle('out', report, peer);
    },
    async close() {
      closed = true;
      for (const h of held.values()) h.cancel();
      held.clear();
      for (const stop of storms.values()) stop();
      storms.clear();
      tracks.in.clear();
      tracks.out.clear();
      lastRequest.clear();
      await inner.close();
    },
  };
}
