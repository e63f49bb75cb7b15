import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { POWER_CYCLE_DATAGRAM, connectUdp, createUdpTransport, formatPeer, parsePeer, type UdpTransport } from './udp.ts';

const report = (b: number): Uint8Array => new Uint8Array(64).fill(b);

function nextReport(pipe: { onReport(cb: (r: Uint8Array) => void): void }): Promise<Uint8Array> {
  return new Promise((resolve) => pipe.onReport(resolve));
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function device(opts: Parameters<typeof createUdpTransport>[0] = {}): Promise<UdpTransport> {
  const t = await createUdpTransport({ host: '127.0.0.1', port: 0, ...opts });
  cleanups.push(() => t.close());
  return t;
}

async function client(t: UdpTransport) {
  const c = await connectUdp(t.address);
  cleanups.push(() => c.closeAsync());
  return c;
}

describe('udp transport', () => {
  it('binds port 0 to a real port and round-trips a report, replying to the sender', async () => {
    const t = await device();
    expect(t.address.port).toBeGreaterThan(0);
    const peers: string[] = [];
    t.onReport((r, peer) => {
      peers.push(peer);
      const out = new Uint8Array(r);
      out[1] = 0x42;
      t.send(out, peer);
    });
    const c = await client(t);
    const reply = nextReport(c);
    c.send(report(3));
    const r = await reply;
    expect(r.length).toBe(64);
    expect([r[0], r[1], r[2]]).toEqual([3, 0x42, 3]);
    expect(peers).toEqual([`127.0.0.1:${c.localAddress.port}`]);
  });

  it('serves several clients at once, each reply going only to its sender', async () => {
    const t = await device();
    t.onReport((r, peer) => t.send(r, peer));
    const a = await client(t);
    const b = await client(t);
    const gotA: number[] = [];
    const gotB: number[] = [];
    const doneA = new Promise<void>((res) => a.onReport((r) => (gotA.push(r[0]!), res())));
    const doneB = new Promise<void>((res) => b.onReport((r) => (gotB.push(r[0]!), res())));
    a.send(report(0xa));
    b.send(report(0xb));
    await Promise.all([doneA, doneB]);
    await new Promise((r) => setTimeout(r, 20));
    expect(gotA).toEqual([0xa]);
    expect(gotB).toEqual([0xb]);
  });

  it('ignores datagrams that are not exactly 64 bytes', async () => {
    const ignored: number[] = [];
    const t = await device({ onIgnored: (size) => ignored.push(size) });
    const seen: number[] = [];
    const last = new Promise<void>((res) =>
      t.onReport((r) => {
        seen.push(r[0]!);
        res();
      }),
    );
    const raw = createSocket('udp4');
    cleanups.push(() => new Promise((r) => raw.close(() => r())));
    const sendRaw = (b: Uint8Array): Promise<void> =>
      new Promise((r) => raw.send(b, t.address.port, '127.0.0.1', () => r()));
    await sendRaw(new Uint8Array(63).fill(1));
    await sendRaw(new Uint8Array(65).fill(2));
    await sendRaw(new Uint8Array(0));
    await sendRaw(report(9)); // sent last: once it arrives, the others have been processed
    await last;
    expect(seen).toEqual([9]);
    expect(ignored).toEqual([63, 65, 0]);
  });

  it('hands the SoloKeys power-cycle datagram up as a control event, not as a report', async () => {
    const t = await device();
    const reports: Uint8Array[] = [];
    t.onReport((r) => reports.push(r));
    const c = await client(t);
    const event = new Promise<[string, string]>((res) => t.onControl((e, peer) => res([e, peer])));
    c.powerCycle();
    const [e, peer] = await event;
    expect(e).toBe('power-cycle');
    expect(peer).toBe(`127.0.0.1:${c.localAddress.port}`);
    expect(POWER_CYCLE_DATAGRAM.length).toBe(64);
    // a report differing in one byte from the magic is an ordinary report
    const near = new Uint8Array(POWER_CYCLE_DATAGRAM);
    near[63] = near[63]! ^ 1;
    const got = new Promise<Uint8Array>((res) => t.onReport(res));
    c.send(near);
    expect((await got)[63]).toBe(near[63]);
    expect(reports).toEqual([]);
  });

  it('close releases the socket: the same port can be bound again', async () => {
    const t = await createUdpTransport({ port: 0 });
    const { port } = t.address;
    await t.close();
    await t.close(); // idempotent
    const again = await createUdpTransport({ port });
    expect(again.address.port).toBe(port);
    await again.close();
  });

  it('rejects when the port is in use', async () => {
    const t = await device();
    await expect(createUdpTransport({ port: t.address.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('formats and parses peers, including IPv6', () => {
    expect(formatPeer('127.0.0.1', 5)).toBe('127.0.0.1:5');
    expect(formatPeer('::1', 5)).toBe('[::1]:5');
    expect(parsePeer('[::1]:5')).toEqual({ host: '::1', port: 5 });
    expect(parsePeer('10.0.0.1:8111')).toEqual({ host: '10.0.0.1', port: 8111 });
    expect(() => parsePeer('nope')).toThrow(TypeError);
  });
});
