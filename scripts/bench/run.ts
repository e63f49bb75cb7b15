/**
 * npm run bench — throughput of makeCredential and getAssertion on three paths, each with its ratio to the raw
 * P-256 throughput of the same crypto backend measured in this run (sign for getAssertion, keygen + sign for
 * makeCredential):
 *   direct      authenticator.handleCbor in-process (no CTAPHID, no fault middleware, no logging),
 *   CTAPHID     the in-process device over the memory transport, with a CTAPHID client (what tests use),
 *   UDP         the same device over UDP on 127.0.0.1, with a CTAPHID client in this process.
 * Each group (getAssertion with raw sign, then makeCredential with raw keygen + sign) is measured in ROUNDS
 * slices taken round-robin over its rows and its baseline, so a machine that gets busier or quieter moves a
 * row and its baseline together; the groups run one after the other, so makeCredential's garbage (a key
 * object per credential) does not land in getAssertion's numbers. BENCH_SECONDS (default 1.5) is each row's
 * total time. Target (issue 2): in-process getAssertion ≥ 80 % of raw sign.
 */
import { createCrypto } from '../../src/env/crypto.ts';
import { createRandomRng } from '../../src/env/rng.ts';
import { startDevice, type Device } from '../../src/device.ts';
import { connectUdp } from '../../transports/udp.ts';
import { CtapHidClient } from '../../src/client/ctaphid.ts';
import { CtapCommand, CtapHidCmd } from '../../ctap/constants/commands.ts';
import { decodeCanonical, encode, type CborMap } from '../../ctap/cbor.ts';
import type { RequestContext } from '../../ctap/authenticator/env.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
if (!(SECONDS > 0)) throw new TypeError(`BENCH_SECONDS must be a positive number, got ${process.env.BENCH_SECONDS}`);
const ROUNDS = 3;
const WARM_UP = 200;

interface Row {
  group: string;
  label: string;
  /** One operation; checks its own result. */
  op: () => unknown;
  async: boolean;
  ops: number;
  ms: number;
}

const rows: Row[] = [];
const row = (group: string, label: string, op: () => unknown, async = true): Row => {
  const r = { group, label, op, async, ops: 0, ms: 0 };
  rows.push(r);
  return r;
};

async function slice(r: Row, ms: number): Promise<void> {
  const start = performance.now();
  const end = start + ms;
  let n = 0;
  if (r.async) {
    while (performance.now() < end) {
      await r.op();
      n++;
    }
  } else {
    while (performance.now() < end) {
      r.op();
      n++;
    }
  }
  r.ops += n;
  r.ms += performance.now() - start;
}

const cdh = new Uint8Array(32).fill(7);
let userSeq = 0;
/** A makeCredential request (command byte || CBOR): non-discoverable, ES256, a new user each time. */
const mcPayload = (): Uint8Array => {
  const i = userSeq++;
  const params = new Map<number, unknown>([
    [1, cdh],
    [2, { id: 'bench.example' }],
    [3, { id: new Uint8Array([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff]), name: 'bench' }],
    [4, [{ alg: -7, type: 'public-key' }]],
  ]);
  return new Uint8Array([CtapCommand.authenticatorMakeCredential, ...encode(params)]);
};
/** The credential ID in a makeCredential response (status || CBOR): authData 0x02, after rpIdHash, flags, counter, AAGUID. */
function credentialIdOf(response: Uint8Array, decode: (b: Uint8Array) => CborMap): Uint8Array {
  const authData = decode(response.subarray(1)).get(2) as Uint8Array;
  const idLen = (authData[53]! << 8) | authData[54]!;
  return authData.slice(55, 55 + idLen);
}
const gaPayload = (id: Uint8Array): Uint8Array =>
  new Uint8Array([
    CtapCommand.authenticatorGetAssertion,
    ...encode(
      new Map<number, unknown>([
        [1, 'bench.example'],
        [2, cdh],
        [3, [{ id, type: 'public-key' }]],
      ]),
    ),
  ]);
const ok = (r: Uint8Array, what: string): void => {
  if (r[0] !== 0) throw new Error(`${what} failed with status 0x${(r[0] ?? 0xff).toString(16)}`);
};

async function main(): Promise<void> {
  const decode = (b: Uint8Array): CborMap => decodeCanonical(b, 16) as CborMap;

  // Baselines: the crypto backend the device uses (node:crypto, the default), in this process.
  const crypto = createCrypto({ rng: createRandomRng(), deterministic: false });
  const kp = crypto.generateKeyPair(-7);
  const msg = new Uint8Array(69); // authData (37) || clientDataHash (32), as an assertion signs
  const sign = row('baseline', 'raw P-256 sign', () => crypto.sign(-7, kp.privateKey, msg), false);
  const keygenSign = row(
    'baseline',
    'raw P-256 keygen + sign',
    () => crypto.sign(-7, crypto.generateKeyPair(-7).privateKey, msg),
    false,
  );

  const devices: Device[] = [];
  const clients: CtapHidClient[] = [];
  const open = async (transport: 'memory' | 'udp'): Promise<{ device: Device; client: CtapHidClient }> => {
    const device = await startDevice({
      transport,
      store: 'memory',
      attestation: 'self',
      ...(transport === 'udp' ? { host: '127.0.0.1', port: 0 } : {}),
    });
    devices.push(device);
    const client = await CtapHidClient.open(transport === 'udp' ? await connectUdp(device.address!) : device.connect());
    clients.push(client);
    return { device, client };
  };
  const mem = await open('memory');
  const udp = await open('udp');
  const ctx: RequestContext = { channel: 1, signal: new AbortController().signal, keepalive: () => {} };

  const direct = (payload: () => Uint8Array, what: string) => async () =>
    ok(await mem.device.authenticator.handleCbor(payload(), ctx), what);
  const viaHid = (client: CtapHidClient, payload: () => Uint8Array, what: string) => async () =>
    ok(await client.call(CtapHidCmd.CBOR, payload()), what);

  // One credential per path, asserted over and over (its counter is persisted every time).
  const directGa = gaPayload(credentialIdOf(await mem.device.authenticator.handleCbor(mcPayload(), ctx), decode));
  const memGa = gaPayload(credentialIdOf(await mem.client.call(CtapHidCmd.CBOR, mcPayload()), decode));
  const udpGa = gaPayload(credentialIdOf(await udp.client.call(CtapHidCmd.CBOR, mcPayload()), decode));

  const GA = 'getAssertion';
  const MC = 'makeCredential (self attestation)';
  row(GA, 'direct: authenticator.handleCbor', direct(() => directGa, GA));
  row(GA, 'in-process CTAPHID (memory transport)', viaHid(mem.client, () => memGa, GA));
  row(GA, 'UDP 127.0.0.1 (CTAPHID)', viaHid(udp.client, () => udpGa, GA));
  row(MC, 'direct: authenticator.handleCbor', direct(mcPayload, MC));
  row(MC, 'in-process CTAPHID (memory transport)', viaHid(mem.client, mcPayload, MC));
  row(MC, 'UDP 127.0.0.1 (CTAPHID)', viaHid(udp.client, mcPayload, MC));

  try {
    for (const [base, group] of [
      [sign, GA],
      [keygenSign, MC],
    ] as const) {
      const measured = [base, ...rows.filter((r) => r.group === group)];
      for (const r of measured) for (let i = 0; i < WARM_UP; i++) await r.op();
      for (let round = 0; round < ROUNDS; round++) for (const r of measured) await slice(r, (SECONDS * 1000) / ROUNDS);
    }
  } finally {
    for (const c of clients) c.close();
    for (const d of devices) await d.close();
  }

  const rate = (r: Row): number => r.ops / (r.ms / 1000);
  const us = (r: Row): number => (r.ms * 1000) / r.ops;
  const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const width = Math.max(...rows.map((r) => r.label.length)) + 2;
  const line = (label: string, ...cols: string[]): string => `  ${label.padEnd(width)}${cols.join('')}`;
  console.log(`vfido bench: ${SECONDS} s per row in ${ROUNDS} rounds interleaved with its baseline, node ${process.version}, crypto node:crypto`);
  let group = '';
  for (const r of rows) {
    const base = r.group === GA ? sign : r.group === MC ? keygenSign : undefined;
    if (r.group !== group) {
      group = r.group;
      const against = base ? `   % of ${base === sign ? 'raw sign' : 'raw keygen+sign'}   beyond it` : '';
      console.log(`${group.padEnd(width + 2)}${'ops/s'.padStart(9)}${'µs/op'.padStart(9)}${against}`);
    }
    const cols = [num(rate(r)).padStart(9), num(us(r), 1).padStart(9)];
    if (base) {
      cols.push(`${num((100 * rate(r)) / rate(base), 1)} %`.padStart(11 + (base === sign ? 0 : 7)));
      cols.push(`+${num(us(r) - us(base), 1)} µs`.padStart(13));
    }
    console.log(line(r.label, ...cols));
  }
  console.log('target (issue 2): in-process getAssertion ≥ 80 % of raw sign');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
