/**
 * Faults seen by a real client: python-fido2 0.9.1 over UDP (test/faults/python/faults.py), faults armed
 * through the public control API before the client runs. The client's own code decides: its CtapError,
 * its signature verification, its counters, its socket timeout.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openInteropDevice, PYTHON, requireChecks, requirePythonFido2, run, type InteropDevice } from '../interop/helpers.ts';
import type { FaultRuleInput } from '../../src/faults/types.ts';

const SCRIPT = join(import.meta.dirname, 'python', 'faults.py');
let dev: InteropDevice | undefined;

beforeAll(async () => {
  await requirePythonFido2();
});
afterEach(async () => {
  await dev?.close();
  dev = undefined;
});

async function scenario(name: string, rules: FaultRuleInput[], prepare?: (d: InteropDevice) => Promise<void>) {
  dev = await openInteropDevice({ attestation: 'none', seed: `faults-${name}` });
  for (const r of rules) dev.device.control.faults.add(r);
  await prepare?.(dev);
  const r = await run(PYTHON, [SCRIPT, '--port', String(dev.port), '--timeout', '1.5', '--scenario', name]);
  return { detail: requireChecks(r, [name])[name]!, history: dev.device.control.history.list() };
}

describe('faults through python-fido2', () => {
  it('status override: python-fido2 raises CtapError NO_CREDENTIALS, then succeeds', async () => {
    const { detail } = await scenario('status', [{ when: { command: 'getAssertion' }, effect: { type: 'status', status: 'CTAP2_ERR_NO_CREDENTIALS' } }]);
    expect(detail).toEqual({ first: 'NO_CREDENTIALS', then: 'ok' });
  });

  it('bogus signature: python-fido2 verification rejects it', async () => {
    const { detail, history } = await scenario('bad-signature', [{ when: { command: 'getAssertion' }, effect: 'signature.corrupt' }]);
    expect(detail).toEqual({ rejected: true });
    expect(history.map((e) => e.effect)).toEqual(['signature.corrupt']);
  });

  it('counter regression: visible in the counters python-fido2 reads (signatures still verify)', async () => {
    const { detail } = await scenario('counter', [{ when: { command: 'getAssertion', attempt: 3 }, effect: { type: 'counter', delta: -2 } }]);
    expect(detail).toEqual({ counters: [1, 2, 1] });
  });

  it('dropped response report: python-fido2 times out, the device answers the next call', async () => {
    const { detail, history } = await scenario('drop', [{ when: { direction: 'out', hidCommand: 'cbor', command: 'clientPin' }, effect: 'report.drop' }]);
    expect(detail).toEqual({ timedOut: true, retriesAfterwards: 8 });
    expect(history).toMatchObject([{ seam: 'transport', effect: 'report.drop', command: 'clientPIN' }]);
  });

  it('PIN blocked through the state seam: python-fido2 sees 0 retries and PIN_BLOCKED', async () => {
    const { detail } = await scenario('pin-blocked', [], async (d) => {
      await d.device.control.pin.set('1234');
      await d.device.control.pin.block();
    });
    expect(detail).toEqual({ retries: 0, token: 'PIN_BLOCKED' });
  });
});
