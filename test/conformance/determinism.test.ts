/**
 * Deterministic mode: the same seed and the same requests give byte-identical responses
 * (seeded randomness + RFC 6979 signatures), and a different seed does not.
 */
import { describe, it, expect } from 'vitest';
import { openHarness } from '../helpers/transports.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { encode } from '../../ctap/cbor.ts';
import { sha256 } from '../helpers/webauthn.ts';

async function run(seed: string, attestation: 'none' | 'self' | 'basic'): Promise<Uint8Array[]> {
  const h = await openHarness('memory', { seed, attestation });
  try {
    const c = await h.client();
    const out: Uint8Array[] = [];
    const call = async (cmd: number, params?: unknown) => {
      const payload = params === undefined ? new Uint8Array([cmd]) : new Uint8Array([cmd, ...encode(params)]);
      const r = await c.call(0x10, payload);
      out.push(r);
      return r;
    };
    await call(CtapCommand.authenticatorGetInfo);
    for (const [i, alg] of [-7, -8, -7].entries()) {
      await call(
        CtapCommand.authenticatorMakeCredential,
        new Map<number, unknown>([
          [1, sha256(`mc${i}`)],
          [2, { id: 'det.example' }],
          [3, { id: new Uint8Array([i]), name: `u${i}` }],
          [4, [{ alg, type: 'public-key' }]],
          [7, { rk: i !== 1 }],
        ]),
      );
    }
    await call(CtapCommand.authenticatorGetAssertion, new Map<number, unknown>([[1, 'det.example'], [2, sha256('ga')]]));
    await call(CtapCommand.authenticatorGetNextAssertion);
    return out;
  } finally {
    await h.close();
  }
}

describe('deterministic mode (--seed)', () => {
  it.each(['none', 'self', 'basic'] as const)('two runs with one seed give identical bytes (attestation %s)', async (att) => {
    const a = await run('seed-one', att);
    const b = await run('seed-one', att);
    expect(a.length).toBe(6);
    for (const r of a) expect(r[0]).toBe(0);
    expect(b).toEqual(a);
  });

  it('another seed gives other credentials and signatures', async () => {
    const a = await run('seed-one', 'basic');
    const b = await run('seed-two', 'basic');
    expect(b[1]).not.toEqual(a[1]);
    expect(b[4]).not.toEqual(a[4]);
  });
});
