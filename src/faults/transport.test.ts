/**
 * Transport decorator bookkeeping. Regression: the per-(peer, channel) message tracking grew with every packet
 * and was never pruned (even with no rule armed), so any local sender could grow the heap without bound.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import type { ReportTransport } from '../../transports/types.ts';
import { createSeededRng } from '../env/rng.ts';
import { silentLogger } from '../log.ts';
import { FaultEngine } from './engine.ts';
import { decorateTransport, TRACK_LIMIT } from './transport.ts';

/** A 64-byte report: CID (4, big-endian), then `b4` (CMD | 0x80 or SEQ), then the rest. */
function report(cid: number, b4: number, rest: number[] = []): Uint8Array {
  const r = new Uint8Array(64);
  new DataView(r.buffer).setUint32(0, cid >>> 0);
  r[4] = b4;
  r.set(rest, 5);
  return r;
}

function harness() {
  const delivered: Uint8Array[] = [];
  let input: (r: Uint8Array, peer: string) => void = () => {};
  const inner: ReportTransport = {
    onReport: (h) => (input = h),
    send: () => {},
    close: async () => {},
  };
  const engine = new FaultEngine({ scheduler: new ManualScheduler(), rng: createSeededRng('t'), logger: silentLogger() });
  const t = decorateTransport(inner, engine);
  t.onReport((r) => delivered.push(r));
  return { t, engine, delivered, receive: (r: Uint8Array, peer = 'p') => input(r, peer) };
}

const CBOR_INIT = 0x90;
const PING_INIT = 0x81;

describe('transport decorator message tracking', () => {
  it('stays bounded under init packets on random channels from random peers (no rule armed)', () => {
    const { t, receive, delivered } = harness();
    const n = 4 * TRACK_LIMIT;
    for (let i = 0; i < n; i++) {
      // random bytes after the header: most announce multi-packet messages that never complete
      const r = randomBytes(64);
      r[4] = CBOR_INIT;
      receive(new Uint8Array(r), `peer${randomInt(16)}`);
      t.send(report(randomInt(2 ** 32), CBOR_INIT, [0x01, 0x00]), `peer${randomInt(16)}`);
    }
    expect(delivered).toHaveLength(n); // every report still goes through
    expect(t.trackedMessages).toBeLessThanOrEqual(3 * TRACK_LIMIT);
    expect(t.trackedMessages).toBeGreaterThan(0);
  });

  it('forgets a message once its last packet has crossed, and one superseded by a new init packet', () => {
    const { t, receive } = harness();
    // PING of 100 bytes: an init packet (57 bytes) and one continuation packet
    receive(report(7, PING_INIT, [0, 100]));
    expect(t.trackedMessages).toBe(1);
    receive(report(7, 0x00));
    expect(t.trackedMessages).toBe(0);
    // a 1000-byte PING left unfinished, then a one-packet PING on the same channel
    receive(report(8, PING_INIT, [0x03, 0xe8]));
    expect(t.trackedMessages).toBe(1);
    receive(report(8, PING_INIT, [0, 4]));
    expect(t.trackedMessages).toBe(0);
  });

  it('an armed rule still sees the continuation packets of a tracked message (hidCommand inherited)', () => {
    const { t, engine, receive, delivered } = harness();
    engine.add({ when: { direction: 'in', hidCommand: 'ping', packet: 'cont', seq: 1 }, effect: 'report.drop' });
    receive(report(9, PING_INIT, [0, 150])); // init + SEQ 0 + SEQ 1
    receive(report(9, 0x00));
    receive(report(9, 0x01));
    expect(delivered.map((r) => r[4])).toEqual([PING_INIT, 0x00]);
    expect(engine.history()).toMatchObject([{ seam: 'transport', effect: 'report.drop', channel: 9 }]);
    expect(t.trackedMessages).toBe(0);
  });
});
