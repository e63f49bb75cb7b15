/**
 * A scenario with a seed is reproducible: two runs with the same client traffic give the same fault history
 * (all but the `at` times) and byte-identical CTAP responses, random faults included (their draws come from
 * the device seed). The responses are read raw through the in-repo CtapHidClient over the memory transport.
 */
import { describe, expect, it } from 'vitest';
import { CtapHidClient } from '../../../src/client/ctaphid.ts';
import { startScenario } from '../../../src/scenarios/index.ts';
import { CtapCommand, CtapHidCmd } from '../../../ctap/constants/commands.ts';
import { encode } from '../../../ctap/cbor.ts';
import { sha256 } from '../../helpers/webauthn.ts';
import { historyWithoutTimes } from './helpers.ts';

const scenario = (seed: string): string => `
seed: ${seed}
profile: ctap21
attestation: basic
state:
  credentials:
    - { name: alice, rpId: example.com, user: { id: YWxpY2U, name: alice }, signCount: 3 }
faults:
  - id: flaky-signature              # half of the assertions carry a broken signature
    effect: signature.corrupt
    when: { command: getAssertion }
    probability: 0.5
    persist: true
  - id: counter-goes-back            # alice's 3rd and 5th assertions report a counter 2 lower
    effect: { type: counter, delta: -2 }
    when: { credential: alice, attempt: [3, 5] }
    times: 2
`;

const GA_ROUNDS = 8;

interface Run {
  responses: Uint8Array[];
  history: Record<string, unknown>[];
}

async function runOnce(seed: string): Promise<Run> {
  const run = await startScenario({ text: scenario(seed), file: 'reproducible.yaml' });
  const client = await CtapHidClient.open(run.device.connect(), { timeoutMs: 2000 });
  try {
    const responses: Uint8Array[] = [];
    const call = async (cmd: number, params?: Map<number, unknown>): Promise<void> => {
      const payload = params === undefined ? Uint8Array.of(cmd) : Uint8Array.from([cmd, ...encode(params)]);
      responses.push(await client.call(CtapHidCmd.CBOR, payload));
    };
    const alice = new Uint8Array(Buffer.from(run.credentials.alice!.credentialId, 'base64url'));
    await call(CtapCommand.authenticatorGetInfo);
    await call(
      CtapCommand.authenticatorMakeCredential,
      new Map<number, unknown>([
        [1, sha256('mc')],
        [2, { id: 'example.com', name: 'Example' }],
        [3, { id: Uint8Array.of(9, 9), name: 'bob' }],
        [4, [{ alg: -7, type: 'public-key' }]],
        [7, { rk: true }],
      ]),
    );
    for (let i = 0; i < GA_ROUNDS; i++) {
      await call(
        CtapCommand.authenticatorGetAssertion,
        new Map<number, unknown>([
          [1, 'example.com'],
          [2, sha256(`ga${i}`)],
          [3, [{ id: alice, type: 'public-key' }]],
        ]),
      );
    }
    await call(CtapCommand.authenticatorGetAssertion, new Map<number, unknown>([[1, 'example.com'], [2, sha256('discoverable')]]));
    await call(CtapCommand.authenticatorGetNextAssertion);
    return { responses, history: historyWithoutTimes(run) };
  } finally {
    client.close();
    await run.close();
  }
}

describe('a seeded scenario is reproducible', () => {
  it('same seed, same traffic: the same history (minus `at`) and the same response bytes', async () => {
    const a = await runOnce('repro-1');
    const b = await runOnce('repro-1');
    expect(a.responses).toHaveLength(GA_ROUNDS + 4);
    for (const r of a.responses) expect(r[0]).toBe(0); // every command succeeded (the faults tamper, they do not fail)
    expect(b.responses).toEqual(a.responses);
    expect(b.history).toEqual(a.history);

    // The history holds what makes this non-trivial: the setup, some (not all) random firings, the counter rule.
    const fired = (id: string) => a.history.filter((h) => h.fault === id).length;
    expect(a.history.slice(0, 1)).toMatchObject([{ fault: 'control', effect: 'credentials.add' }]);
    expect(fired('flaky-signature')).toBeGreaterThan(0);
    expect(fired('flaky-signature')).toBeLessThan(GA_ROUNDS + 2);
    expect(fired('counter-goes-back')).toBe(2);
  });

  it('another seed gives other keys, signatures and draws', async () => {
    const a = await runOnce('repro-1');
    const c = await runOnce('repro-2');
    expect(c.responses[1]).not.toEqual(a.responses[1]);
    expect(c.responses.slice(2)).not.toEqual(a.responses.slice(2));
  });
});
