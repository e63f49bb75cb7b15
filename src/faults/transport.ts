/**
 * Transport decorator (seam 3): sits between the CtapHidDevice and the ReportTransport and does to 64-byte
 * reports what a bad cable, a flaky hub or buggy firmware does: drop, duplicate, reorder, truncate, corrupt,
 * wrong SEQ, answer CHANNEL_BUSY, storm keepalives, stall a response mid-message. The CTAPHID layer above it
 * reacts exactly as it would to the real thing (MSG_TIMEOUT, INVALID_SEQ, …); the client sees the rest.
 * It also swallows the response of a request the dispatch middleware marked `drop`.
 */
import { CtapHidCmd, CtapHidError, HID_REPORT_SIZE } from '../../ctap/constants/commands.ts';
import { CONT_HEADER_SIZE, INIT_HEADER_SIZE, decodePacket, encodeInitPacket, packetCount } from '../../ctap/hid/packet.ts';
import type { ReportTransport } from '../../transports/types.ts';
import type { FaultEngine } from './engine.ts';
import { ctapCommandName } from './facts.ts';
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

/** How long a reordered report waits for a successor before it is delivered anyway. */
const REORDER_HOLD_MS = 100;

/** Commands that start a transaction (a CHANNEL_BUSY answer makes sense for them). */
const REQUESTS = new Set<number>([CtapHidCmd.CBOR, CtapHidCmd.MSG, CtapHidCmd.PING, CtapHidCmd.WINK, CtapHidCmd.LOCK]);
/** Commands the device answers a CBOR/MSG request with (they end a keepalive storm). */
const RESPONSES = new Set<number>([CtapHidCmd.CBOR, CtapHidCmd.MSG, CtapHidCmd.ERROR]);

export function decorateTransport(inner: ReportTransport, engine: FaultEngine): ReportTransport {
  const tracks = new Map<string, MessageTrack>();
  /** Per (peer, channel): the CTAP command of the last CBOR request (outgoing reports belong to it). */
  const lastCtap = new Map<string, string>();
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

  /** Facts of one report, updating the message tracking; undefined for a report that is not a packet. */
  function factsOf(dir: Direction, report: Uint8Array, peer: string): { facts: Facts; track: MessageTrack; init: boolean; cid: number } | undefined {
    const pkt = decodePacket(report);
    if (!pkt) return undefined;
    const k = key(dir, peer, pkt.cid);
    let track = tracks.get(k);
    if (pkt.kind === 'init') {
      const ctap =
        pkt.cmd === CtapHidCmd.CBOR
          ? dir === 'in'
            ? ctapCommandName(pkt.data[0])
            : lastCtap.get(key('in', peer, pkt.cid))
          : undefined;
      if (dir === 'in' && pkt.cmd === CtapHidCmd.CBOR && ctap) lastCtap.set(key('in', peer, pkt.cid), ctap);
      track = { hidCommand: pkt.cmd, remaining: packetCount(pkt.bcnt) - 1, fate: { kind: 'pass' } };
      if (ctap !== undefined) track.ctapCommand = ctap;
      if (pkt.cmd !== CtapHidCmd.KEEPALIVE) tracks.set(k, track);
    } else if (track) {
      track.remaining--;
    } else {
      track = { hidCommand: -1, remaining: 0, fate: { kind: 'pass' } };
    }
    const facts: Facts = { direction: dir, channel: pkt.cid, packet: pkt.kind };
    if (track.hidCommand >= 0) facts.hidCommand = track.hidCommand;
    if (track.ctapCommand !== undefined) facts.command = track.ctapCommand;
    if (pkt.kind === 'cont') facts.seq = pkt.seq;
    return { facts, track, init: pkt.kind === 'init', cid: pkt.cid };
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
    const seen = factsOf(dir, report, peer);
    if (!seen) return pass(dir, report, peer);
    const { facts, track, init, cid } = seen;
    if (dir === 'out' && init && RESPONSES.has(track.hidCommand)) {
      stopStorm(key('out', peer, cid));
      // Dispatch `drop`: this CBOR response never leaves the device.
      if (track.hidCommand === CtapHidCmd.CBOR && engine.takeSwallow(cid)) track.fate = { kind: 'discard' };
    }
    if (!init) {
      // The rest of a message already decided on.
      if (track.fate.kind === 'discard') return;
      if (track.fate.kind === 'stall') {
        if (track.fate.left <= 0) return;
        track.fate.left--;
      }
    } else if (track.fate.kind === 'discard') {
      return;
    }
    if (!engine.armed('transport')) return pass(dir, report, peer);
    const fired = engine.fireFirst('transport', facts, (e) => applicable(e, dir, init, track));
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
        track.fate = { kind: 'discard' };
        return emit('out', encodeInitPacket(cid, CtapHidCmd.ERROR, 1, new Uint8Array([CtapHidError.ERR_CHANNEL_BUSY])), peer);
      case 'keepalive.storm':
        pass(dir, report, peer);
        return startStorm(peer, cid, e);
      case 'response.stall': {
        const after = e.afterPackets ?? 1;
        track.fate = { kind: 'stall', left: after - 1 };
        return after > 0 ? pass(dir, report, peer) : undefined;
      }
      default:
        return pass(dir, report, peer);
    }
  }

  return {
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
      await inner.close();
    },
  };
}
