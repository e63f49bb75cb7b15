import { describe, expect, it } from 'vitest';
import { createMemoryTransport } from './memory.ts';

const report = (b: number): Uint8Array => new Uint8Array(64).fill(b);
const tick = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await Promise.resolve();
};

describe('memory transport', () => {
  it('round-trips reports between a client and the device, replies going to the sender', async () => {
    const t = createMemoryTransport();
    const seen: { byte: number; peer: string }[] = [];
    t.device.onReport((r, peer) => {
      seen.push({ byte: r[0]!, peer });
      t.device.send(report(r[0]! + 1), peer);
    });
    const c = t.connect();
    const got: number[] = [];
    c.onReport((r) => got.push(r[0]!));
    c.send(report(7));
    await tick();
    expect(seen).toHaveLength(1);
    expect(got).toEqual([8]);
  });

  it('delivers asynchronously and in order (no re-entrancy from send)', async () => {
    const t = createMemoryTransport();
    const seen: number[] = [];
    t.device.onReport((r) => seen.push(r[0]!));
    const c = t.connect();
    c.send(report(1));
    c.send(report(2));
    expect(seen).toEqual([]);
    await tick();
    expect(seen).toEqual([1, 2]);
  });

  it('delivers a reply sent from inside a delivery only after that handler returned', async () => {
    const t = createMemoryTransport();
    let inHandler = false;
    const order: string[] = [];
    t.device.onReport((r, peer) => {
      inHandler = true;
      t.device.send(report(r[0]! + 1), peer);
      t.device.send(report(r[0]! + 2), peer);
      order.push(`device ${r[0]}`);
      inHandler = false;
    });
    const c = t.connect();
    c.onReport((r) => order.push(`client ${r[0]}${inHandler ? ' (re-entered)' : ''}`));
    c.send(report(1));
    c.send(report(5));
    await tick();
    expect(order).toEqual(['device 1', 'device 5', 'client 2', 'client 3', 'client 6', 'client 7']);
  });

  it('gives each client its own peer id and isolates their replies', async () => {
    const t = createMemoryTransport();
    const peers: string[] = [];
    t.device.onReport((r, peer) => {
      peers.push(peer);
      t.device.send(r, peer);
    });
    const a = t.connect();
    const b = t.connect();
    const gotA: number[] = [];
    const gotB: number[] = [];
    a.onReport((r) => gotA.push(r[0]!));
    b.onReport((r) => gotB.push(r[0]!));
    a.send(report(0xa));
    b.send(report(0xb));
    await tick();
    expect(new Set(peers).size).toBe(2);
    expect(gotA).toEqual([0xa]);
    expect(gotB).toEqual([0xb]);
  });

  it('copies reports so later mutation by the sender does not leak through', async () => {
    const t = createMemoryTransport();
    let got: Uint8Array | undefined;
    t.device.onReport((r) => (got = r));
    const c = t.connect();
    const r = report(5);
    c.send(r);
    r[0] = 99;
    await tick();
    expect(got?.[0]).toBe(5);
  });

  it('rejects reports that are not 64 bytes', () => {
    const t = createMemoryTransport();
    expect(() => t.connect().send(new Uint8Array(63))).toThrow(/64 bytes/);
    expect(() => t.device.send(new Uint8Array(65), 'memory:1')).toThrow(/64 bytes/);
  });

  it('stops delivering to a closed client and after the device closes', async () => {
    const t = createMemoryTransport();
    const seen: number[] = [];
    t.device.onReport((r) => seen.push(r[0]!));
    const a = t.connect();
    const got: number[] = [];
    a.onReport((r) => got.push(r[0]!));
    a.close();
    a.send(report(1));
    t.device.send(report(2), 'memory:1');
    await tick();
    expect(seen).toEqual([]);
    expect(got).toEqual([]);
    await t.device.close();
    expect(() => t.connect()).toThrow(/closed/);
  });
});
