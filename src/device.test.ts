import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandName, startDevice, type Device, type StartDeviceOptions } from './device.ts';
import { createLogger } from './log.ts';
import { CtapHidClient, CtapHidClientError } from './client/ctaphid.ts';
import { connectUdp, createUdpTransport } from '../transports/udp.ts';
import { CtapCommand, CtapHidError } from '../ctap/constants/commands.ts';
import { CtapStatus } from '../ctap/constants/status.ts';
import { sha256 } from '../test/helpers/webauthn.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function logSink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

async function start(opts: Partial<StartDeviceOptions> & Pick<StartDeviceOptions, 'transport'>): Promise<Device> {
  const d = await startDevice({ store: 'memory', ...(opts.transport === 'udp' ? { port: 0 } : {}), ...opts });
  cleanups.push(() => d.close());
  return d;
}

async function memoryClient(d: Device): Promise<CtapHidClient> {
  const c = await CtapHidClient.open(d.connect(), { timeoutMs: 2_000 });
  cleanups.push(() => c.close());
  return c;
}

async function udpClient(d: Device) {
  const pipe = await connectUdp(d.address!);
  cleanups.push(() => pipe.closeAsync());
  const c = await CtapHidClient.open(pipe, { timeoutMs: 2_000 });
  cleanups.push(() => c.close());
  return { pipe, client: c };
}

const reset = async (c: CtapHidClient): Promise<number> => (await c.cbor(CtapCommand.authenticatorReset)).status;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeRk(i: number): Map<number, unknown> {
  return new Map<number, unknown>([
    [1, sha256(`device-test-${i}`)],
    [2, { id: 'device.example' }],
    [3, { id: new Uint8Array([i]), name: `user${i}` }],
    [4, [{ alg: -7, type: 'public-key' }]],
    [7, { rk: true }],
  ]);
}

describe('startDevice', () => {
  it('memory: several clients, each on its own channel, get answers', async () => {
    const d = await start({ transport: 'memory' });
    expect(d.address).toBeUndefined();
    const a = await memoryClient(d);
    const b = await memoryClient(d);
    expect(a.cid).not.toBe(b.cid);
    // one transaction at a time (CTAP 2.1 §11.2.5): the clients take turns
    const ra = await a.cbor(CtapCommand.authenticatorGetInfo);
    const rb = await b.cbor(CtapCommand.authenticatorGetInfo);
    expect(ra.status).toBe(CtapStatus.CTAP2_OK);
    expect(rb.status).toBe(CtapStatus.CTAP2_OK);
  });

  it('logs one info line per CTAP command with cid, command name, status name and duration', async () => {
    const sink = logSink();
    const d = await start({ transport: 'memory', logger: createLogger({ level: 'info', pretty: false, destination: sink.stream }) });
    const c = await memoryClient(d);
    await c.cbor(CtapCommand.authenticatorGetInfo);
    await c.call(0x10, new Uint8Array([0x55])); // unknown command byte
    const ctap = sink.lines().filter((l) => l.msg === 'ctap');
    expect(ctap).toHaveLength(2);
    const cid = c.cid.toString(16).padStart(8, '0');
    expect(ctap[0]).toMatchObject({ level: 30, cid, cmd: 'getInfo', status: 'CTAP2_OK' });
    expect(ctap[1]).toMatchObject({ cid, cmd: 'unknown(0x55)', status: 'CTAP1_ERR_INVALID_COMMAND' });
    expect(typeof ctap[0]!.ms).toBe('number');
    // no raw packets below trace
    expect(sink.lines().some((l) => l.msg === 'report')).toBe(false);
  });

  it('logs raw reports as hex at trace', async () => {
    const sink = logSink();
    const d = await start({ transport: 'memory', logger: createLogger({ level: 'trace', pretty: false, destination: sink.stream }) });
    const c = await memoryClient(d);
    await c.ping(new Uint8Array([1, 2, 3]));
    const reports = sink.lines().filter((l) => l.msg === 'report');
    const cidHex = c.cid.toString(16).padStart(8, '0');
    // the PING request and its echo: CID || 0x81 || BCNT=3 || 010203
    expect(reports.filter((r) => r.dir === 'in').map((r) => r.hex)).toContain(`${cidHex}810003010203`.padEnd(128, '0'));
    expect(reports.filter((r) => r.dir === 'out').map((r) => r.hex)).toContain(`${cidHex}810003010203`.padEnd(128, '0'));
  });

  it('udp: binds port 0 to a real port and serves several clients', async () => {
    const d = await start({ transport: 'udp', host: '127.0.0.1' });
    expect(d.address?.host).toBe('127.0.0.1');
    expect(d.address!.port).toBeGreaterThan(0);
    expect(() => d.connect()).toThrow(/memory transport/);
    const a = await udpClient(d);
    const b = await udpClient(d);
    expect(a.client.cid).not.toBe(b.client.cid);
    expect((await a.client.cbor(CtapCommand.authenticatorGetInfo)).status).toBe(CtapStatus.CTAP2_OK);
    expect((await b.client.cbor(CtapCommand.authenticatorGetInfo)).status).toBe(CtapStatus.CTAP2_OK);
  });

  /** Spec: CTAP 2.1 §6.6 — authenticatorReset only within a short window after power-up. */
  it('udp: the power-cycle datagram restarts the reset window and keeps the channel', async () => {
    const sink = logSink();
    const d = await start({
      transport: 'udp',
      resetWindowMs: 100,
      logger: createLogger({ level: 'info', pretty: false, destination: sink.stream }),
    });
    const { pipe, client } = await udpClient(d);
    await sleep(150);
    expect(await reset(client)).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    pipe.powerCycle();
    for (let i = 0; i < 100 && !sink.lines().some((l) => l.msg === 'power cycle'); i++) await sleep(5);
    // same client, same channel, no new INIT: the UDP "cable" stayed plugged in
    expect(await reset(client)).toBe(CtapStatus.CTAP2_OK);
    expect(sink.lines().find((l) => l.msg === 'power-cycle datagram')?.peer).toBe(`127.0.0.1:${pipe.localAddress.port}`);
  });

  it('memory: powerCycle() drops the channels (clients must INIT again) and restarts the reset window', async () => {
    const d = await start({ transport: 'memory', resetWindowMs: 100 });
    const old = await memoryClient(d);
    await sleep(150);
    expect(await reset(old)).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    await d.powerCycle();
    await expect(old.cbor(CtapCommand.authenticatorGetInfo)).rejects.toSatisfy(
      (e: unknown) => e instanceof CtapHidClientError && e.code === CtapHidError.ERR_INVALID_CHANNEL,
    );
    const fresh = await memoryClient(d);
    expect(await reset(fresh)).toBe(CtapStatus.CTAP2_OK);
  });

  it('wires the presence options: deny → OPERATION_DENIED; timeout mode can be cancelled (KEEPALIVE_CANCEL)', async () => {
    const d = await start({ transport: 'memory', presence: { mode: 'deny' } });
    const c = await memoryClient(d);
    expect(await reset(c)).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    d.presence.set({ mode: 'timeout', timeoutMs: 10_000 });
    const ac = new AbortController();
    const keepalives: number[] = [];
    const pending = c.cbor(CtapCommand.authenticatorReset, undefined, {
      signal: ac.signal,
      onKeepalive: (s) => {
        keepalives.push(s);
        ac.abort();
      },
    });
    const t0 = Date.now();
    expect((await pending).status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(keepalives.length).toBeGreaterThan(0);
  });

  /** Regression: `delayMs: 3e9` (35 days) overflowed setTimeout and the user refused at once. */
  it('a presence delay beyond one hour is refused at start (a timer cannot fire "now" by overflow)', async () => {
    await expect(start({ transport: 'memory', presence: { mode: 'deny', delayMs: 3e9 } })).rejects.toThrow(/^delayMs: expected a number of ms 0\.\.3600000 ms/);
    await expect(start({ transport: 'memory', verification: { delayMs: 3e9 }, profile: 'ctap21-fingerprint' })).rejects.toThrow(RangeError);
  });

  it('keeps persistent state across a power cycle (file store)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vfido-device-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const d = await start({ transport: 'memory', store: { path: join(dir, 'k.vfido') }, attestation: 'none' });
    const c = await memoryClient(d);
    expect((await c.cbor(CtapCommand.authenticatorMakeCredential, makeRk(1))).status).toBe(CtapStatus.CTAP2_OK);
    const before = d.authenticator.info().remainingDiscoverableCredentials;
    await d.powerCycle();
    expect(d.authenticator.info().remainingDiscoverableCredentials).toBe(before);
    const c2 = await memoryClient(d);
    const ga = await c2.cbor(CtapCommand.authenticatorGetAssertion, new Map<number, unknown>([[1, 'device.example'], [2, sha256('x')]]));
    expect(ga.status).toBe(CtapStatus.CTAP2_OK);
  });

  it('a corrupt store file: startDevice rejects naming the file and the problem, and binds nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vfido-device-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'bad.vfido');
    await writeFile(file, 'not a store at all, not even close');
    const probe = await createUdpTransport({ port: 0 });
    const port = probe.address.port;
    await probe.close();
    await expect(startDevice({ transport: 'udp', port, store: { path: file } })).rejects.toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*corrupt`),
    );
    // the port was never bound
    const again = await createUdpTransport({ port });
    await again.close();
  });

  it('an internal error (the store fails on save) is answered CTAP1_ERR_OTHER and logged at error with the stack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vfido-device-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const sink = logSink();
    const sub = join(dir, 'sub');
    const d = await start({
      transport: 'memory',
      store: { path: join(sub, 'k.vfido') },
      attestation: 'none',
      logger: createLogger({ level: 'info', pretty: false, destination: sink.stream }),
    });
    // the directory of the store becomes a plain file: the next save cannot create its temp file
    await rm(sub, { recursive: true });
    await writeFile(sub, '');
    const c = await memoryClient(d);
    expect((await c.cbor(CtapCommand.authenticatorMakeCredential, makeRk(2))).status).toBe(CtapStatus.CTAP1_ERR_OTHER);
    const err = sink.lines().find((l) => l.level === 50);
    expect(err).toBeDefined();
    expect(err!.cmd).toBe('makeCredential');
    expect(String((err!.err as { stack?: string }).stack)).toMatch(/\n\s+at /);
    expect(sink.lines().find((l) => l.msg === 'ctap')).toMatchObject({ cmd: 'makeCredential', status: 'CTAP1_ERR_OTHER' });
  });

  it('close releases the UDP port and is idempotent', async () => {
    const d = await startDevice({ transport: 'udp', port: 0, store: 'memory' });
    const { port } = d.address!;
    await d.close();
    await d.close();
    const again = await createUdpTransport({ port });
    await again.close();
  });

  it('rejects an unknown profile name and an unknown transport', async () => {
    await expect(startDevice({ transport: 'memory', store: 'memory', profile: 'nope' })).rejects.toThrow(/unknown profile "nope"/);
    await expect(startDevice({ transport: 'carrier-pigeon' as 'udp', store: 'memory' })).rejects.toThrow(/unknown transport/);
  });

  it('names CTAP commands', () => {
    expect(commandName(0x01)).toBe('makeCredential');
    expect(commandName(0x04)).toBe('getInfo');
    expect(commandName(0x0a)).toBe('credentialManagement');
    expect(commandName(undefined)).toBe('empty');
  });
});
