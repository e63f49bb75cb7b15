/** The rule model: validation, one-shot / times / persist, attempt, probability with a seeded RNG, history. */
import { describe, expect, it } from 'vitest';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { startDevice } from '../../src/device.ts';
import { CtapCommand, faultDevice } from './helpers.ts';
import type { HistoryEntry } from '../../src/faults/types.ts';

const NO_CREDS = { type: 'status', status: 'CTAP2_ERR_NO_CREDENTIALS' } as const;

describe('rule validation', () => {
  it.each([
    [{}, /fault\.effect: required/],
    [{ effect: 'nope' }, /unknown effect "nope"/],
    [{ effect: { type: 'status' } }, /effect\.status: required by status/],
    [{ effect: { type: 'status', status: 'CTAP2_ERR_WHATEVER' } }, /CTAP status name/],
    [{ effect: { type: 'delay', ms: -1 } }, /effect\.ms: expected a number of ms/],
    [{ effect: { type: 'drop', colour: 'red' } }, /effect\.colour: drop takes runHandler/],
    [{ effect: { type: 'counter' } }, /exactly one of value, delta/],
    [{ effect: 'drop', times: 0 }, /times: expected a positive integer/],
    [{ effect: 'drop', times: 2, persist: true }, /exclude each other/],
    [{ effect: 'drop', probability: 1.5 }, /probability: expected a number in \(0, 1\]/],
    [{ effect: 'drop', seam: 'transport' }, /drop acts at the dispatch seam, not transport/],
    [{ effect: 'drop', when: { direction: 'in' } }, /when\.direction: only for transport effects/],
    [{ effect: 'drop', when: { colour: 'red' } }, /when\.colour: unknown condition/],
    [{ effect: 'drop', when: { command: 'getAssertoin' } }, /when\.command: unknown command "getAssertoin"/],
    [{ effect: 'report.drop', when: { hidCommand: 'cbr' } }, /when\.hidCommand: unknown CTAPHID command "cbr"/],
    [{ effect: 'drop', when: { credential: 'a+b/' } }, /base64url credential ID/],
    [{ effect: 'drop', id: 'has space' }, /fault\.id/],
    [{ effect: 'uv.mismatch', when: { modality: 'iris' } }, /when\.modality: expected fingerprint or face/],
  ])('%j is refused: %s', async (rule, message) => {
    const { device } = await faultDevice();
    let err: unknown;
    try {
      device.control.faults.add(rule as never);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'EmulatorError', code: 'EMU_ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) });
  });

  it('ids: generated, unique, removable; duplicates and unknown ids are errors', async () => {
    const { device } = await faultDevice();
    const a = device.control.faults.add({ effect: 'drop' });
    const b = device.control.faults.add({ effect: 'drop' });
    expect([a.id, b.id]).toEqual(['drop#1', 'drop#2']);
    expect(a).toMatchObject({ seam: 'dispatch', effect: { type: 'drop' }, remaining: 1, matched: 0, fired: 0, when: {} });
    expect(() => device.control.faults.add({ id: 'drop#1', effect: 'drop' })).toThrow(expect.objectContaining({ code: 'EMU_ERR_DUPLICATE_FAULT' }));
    device.control.faults.remove('drop#1');
    expect(() => device.control.faults.remove('drop#1')).toThrow(expect.objectContaining({ code: 'EMU_ERR_UNKNOWN_FAULT' }));
    expect(device.control.faults.clear()).toBe(1);
    expect(device.control.faults.list()).toEqual([]);
  });
});

describe('firing', () => {
  it('times: n fires n times then the rule is gone; persist never goes', async () => {
    const { device, client } = await faultDevice();
    const ga = () => client.cbor(CtapCommand.authenticatorGetAssertion, new Map<number, unknown>([[1, 'x.example'], [2, new Uint8Array(32)]]));
    device.control.faults.add({ id: 'twice', when: { command: 'getAssertion' }, effect: { type: 'status', status: 0x27 }, times: 2 });
    expect([(await ga()).status, (await ga()).status, (await ga()).status]).toEqual([0x27, 0x27, CtapStatus.CTAP2_ERR_NO_CREDENTIALS]);
    device.control.faults.add({ id: 'always', effect: { type: 'status', status: 0x27 }, persist: true });
    for (let i = 0; i < 3; i++) expect((await ga()).status).toBe(0x27);
    expect(device.control.faults.list()).toMatchObject([{ id: 'always', remaining: null, fired: 3, matched: 3 }]);
  });

  it('attempt: only the 2nd and 4th matching requests', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { command: 'getInfo', attempt: [2, 4] }, effect: { type: 'status', status: 0x7f }, times: 2 });
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push((await client.cbor(CtapCommand.authenticatorGetInfo)).status);
    expect(got).toEqual([0, 0x7f, 0, 0x7f, 0]);
  });

  it('subcommand and channel conditions', async () => {
    const { device, client, connect } = await faultDevice();
    const other = await connect();
    device.control.faults.add({ when: { command: 'clientPin', subcommand: 0x01, channel: other.cid }, effect: NO_CREDS, persist: true });
    const retries = new Map<number, unknown>([[1, 2], [2, 0x01]]);
    const keyAgreement = new Map<number, unknown>([[1, 2], [2, 0x02]]);
    expect((await client.cbor(CtapCommand.authenticatorClientPIN, retries)).status).toBe(0);
    expect((await other.cbor(CtapCommand.authenticatorClientPIN, keyAgreement)).status).toBe(0);
    expect((await other.cbor(CtapCommand.authenticatorClientPIN, retries)).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
  });

  it('faults given at start are armed before the first request', async () => {
    const { client } = await faultDevice({ faults: [{ when: { command: 'getInfo' }, effect: { type: 'status', status: 0x7f } }] });
    expect((await client.cbor(CtapCommand.authenticatorGetInfo)).status).toBe(0x7f);
    await expect(startDevice({ transport: 'memory', store: 'memory', faults: [{ effect: 'bogus' } as never] })).rejects.toMatchObject({
      code: 'EMU_ERR_INVALID_ARGUMENT',
    });
  });

  it('probability: a seeded device gives the same history twice; another seed another one', async () => {
    const run = async (seed: string): Promise<Omit<HistoryEntry, 'at'>[]> => {
      const { device, client } = await faultDevice({ seed });
      device.control.faults.add({ id: 'flaky', when: { command: 'getInfo' }, effect: { type: 'status', status: 0x7f }, probability: 0.5, persist: true });
      device.control.faults.add({ id: 'flaky-corrupt', when: { direction: 'out', hidCommand: 'ping' }, effect: 'report.corrupt', probability: 0.3, persist: true });
      for (let i = 0; i < 24; i++) {
        await client.cbor(CtapCommand.authenticatorGetInfo);
        await client.ping(new Uint8Array(8));
      }
      return device.control.history.list().map(({ at: _at, channel: _c, ...e }) => e);
    };
    const first = await run('reproducible');
    const fired = first.filter((e) => e.fault === 'flaky').length;
    expect(fired).toBeGreaterThan(0);
    expect(fired).toBeLessThan(24);
    expect(await run('reproducible')).toEqual(first);
    expect(await run('another seed')).not.toEqual(first);
  });

  it('history: seq grows, clear empties it; entries are logged as JSON', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { command: 'getInfo' }, effect: { type: 'status', status: 0x7f }, times: 2 });
    await client.cbor(CtapCommand.authenticatorGetInfo);
    device.control.history.clear();
    await client.cbor(CtapCommand.authenticatorGetInfo);
    const h = device.control.history.list();
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ seq: 2, fault: 'status#1', seam: 'dispatch', effect: 'status', command: 'getInfo', channel: client.cid });
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
  });
});
