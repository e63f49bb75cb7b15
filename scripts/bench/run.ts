/**
 * npm run bench — throughput of makeCredential and getAssertion, in-process and over UDP, printed with the
 * ratio to raw P-256 sign (and keygen + sign) throughput of the same crypto backend, measured in this run.
 * Target for later tuning: in-process getAssertion ≥ 80 % of raw sign throughput.
 */
import { createCrypto } from '../../src/env/crypto.ts';
import { createRandomRng } from '../../src/env/rng.ts';
import { startDevice } from '../../src/device.ts';
import { connectUdp } from '../../transports/udp.ts';
import { CtapHidClient } from '../../src/client/ctaphid.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { encode } from '../../ctap/cbor.ts';
import type { CborMap } from '../../ctap/cbor.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);

async function rate(label: string, fn: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await fn();
    n++;
  }
  const r = n / ((performance.now() - start) / 1000);
  return r;
}

const cdh = new Uint8Array(32).fill(7);
const mc = (i: number) =>
  new Map<number, unknown>([
    [1, cdh],
    [2, { id: 'bench.example' }],
    [3, { id: new Uint8Array([i & 0xff, i >> 8]), name: 'bench' }],
    [4, [{ alg: -7, type: 'public-key' }]],
  ]);

async function main() {
  const crypto = createCrypto({ rng: createRandomRng(), deterministic: false });
  const kp = crypto.generateKeyPair(-7);
  const msg = new Uint8Array(69);
  const rows: [string, number][] = [];
  const sign = await rate('raw sign', () => crypto.sign(-7, kp.privateKey, msg));
  const keygenSign = await rate('raw keygen+sign', () => {
    const k = crypto.generateKeyPair(-7);
    crypto.sign(-7, k.privateKey, msg);
  });
  rows.push(['raw P-256 sign', sign], ['raw P-256 keygen + sign', keygenSign]);

  for (const transport of ['memory', 'udp'] as const) {
    const device = await startDevice({
      transport,
      store: 'memory',
      attestation: 'self',
      ...(transport === 'udp' ? { host: '127.0.0.1', port: 0 } : {}),
    });
    const pipe = transport === 'udp' ? await connectUdp(device.address!) : device.connect();
    const client = await CtapHidClient.open(pipe);
    let i = 0;
    const mcRate = await rate(`${transport} makeCredential`, async () => {
      const r = await client.call(0x10, new Uint8Array([CtapCommand.authenticatorMakeCredential, ...encode(mc(i++))]));
      if (r[0] !== 0) throw new Error(`makeCredential failed: ${r[0]}`);
    });
    const made = await client.cbor(CtapCommand.authenticatorMakeCredential, mc(0));
    const authData = (made.data as CborMap).get(2) as Uint8Array;
    const idLen = (authData[53]! << 8) | authData[54]!;
    const id = authData.slice(55, 55 + idLen);
    const ga = encode(
      new Map<number, unknown>([
        [1, 'bench.example'],
        [2, cdh],
        [3, [{ id, type: 'public-key' }]],
      ]),
    );
    const gaRate = await rate(`${transport} getAssertion`, async () => {
      const r = await client.call(0x10, new Uint8Array([CtapCommand.authenticatorGetAssertion, ...ga]));
      if (r[0] !== 0) throw new Error(`getAssertion failed: ${r[0]}`);
    });
    rows.push([`${transport === 'memory' ? 'in-process' : 'UDP'} makeCredential (self attestation)`, mcRate]);
    rows.push([`${transport === 'memory' ? 'in-process' : 'UDP'} getAssertion`, gaRate]);
    client.close();
    await device.close();
  }

  const pad = Math.max(...rows.map(([l]) => l.length));
  console.log(`vfido bench (${SECONDS}s per measurement, node ${process.version})`);
  for (const [label, r] of rows) {
    const base = label.includes('makeCredential') ? keygenSign : sign;
    const baseName = label.includes('makeCredential') ? 'keygen+sign' : 'sign';
    const ratio = label.startsWith('raw') ? '' : `  ${(100 * (r / base)).toFixed(1)}% of raw ${baseName}`;
    console.log(`${label.padEnd(pad)}  ${r.toFixed(0).padStart(8)} ops/s${ratio}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
