/**
 * Transport faults between the CTAPHID layer and the wire: the device's CTAPHID layer reacts as to the real
 * thing (MSG_TIMEOUT, INVALID_SEQ), the client sees the rest (timeouts, damaged payloads, keepalives).
 */
import { describe, expect, it } from 'vitest';
import { CtapHidError } from '../../ctap/constants/commands.ts';
import { HidClientFailure } from '../../src/client/ctaphid.ts';
import { CtapCommand, faultDevice, mcParams } from './helpers.ts';

const PING_DATA = new Uint8Array(100).fill(0xaa);

describe('transport faults (host → device)', () => {
  it('report.drop of the last continuation packet: the device answers ERR_MSG_TIMEOUT', async () => {
    const { device, client } = await faultDevice();
    // a 100-byte PING is one init and one continuation packet: without the latter the message never completes
    device.control.faults.add({ when: { direction: 'in', packet: 'cont', hidCommand: 'ping' }, effect: 'report.drop' });
    const err = await client.ping(PING_DATA).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'CtapHidClientError', code: CtapHidError.ERR_MSG_TIMEOUT });
    expect(await client.ping(PING_DATA)).toEqual(PING_DATA);
  });

  it.each(['report.duplicate', 'report.reorder', 'report.wrongSeq'] as const)('%s of a continuation packet: ERR_INVALID_SEQ', async (type) => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { direction: 'in', seq: 0 }, effect: type });
    const err = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'CtapHidClientError', code: CtapHidError.ERR_INVALID_SEQ });
    expect(device.control.history.list()).toMatchObject([{ seam: 'transport', effect: type, command: 'makeCredential' }]);
  });

  it('hid.busy: CHANNEL_BUSY for the request; the next one is served', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { hidCommand: 'cbor' }, effect: 'hid.busy' });
    const err = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'CtapHidClientError', code: CtapHidError.ERR_CHANNEL_BUSY });
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams())).status).toBe(0);
  });

  it('keepalive.storm: a flood of KEEPALIVEs (here with an invalid status byte) while the request runs', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ effect: { type: 'presence.delay', ms: 400 } });
    device.control.faults.add({ effect: { type: 'keepalive.storm', intervalMs: 5, count: 30, status: 0x07 } });
    const ka: number[] = [];
    const r = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams(), { onKeepalive: (s) => ka.push(s) });
    expect(r.status).toBe(0);
    expect(ka.filter((s) => s === 0x07).length).toBeGreaterThanOrEqual(20);
  });
});

describe('transport faults (device → host)', () => {
  it('report.truncate / report.corrupt: the client receives damaged bytes', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { direction: 'out', hidCommand: 'ping', packet: 'init' }, effect: { type: 'report.truncate', keep: 32 } });
    const echo = await client.ping(PING_DATA);
    // init packet: 7 header bytes, so payload bytes 25..56 were zeroed
    expect(echo.subarray(0, 25).every((b) => b === 0xaa)).toBe(true);
    expect(echo.subarray(25, 57).every((b) => b === 0)).toBe(true);
    expect(echo.subarray(57).every((b) => b === 0xaa)).toBe(true);
    device.control.faults.add({ when: { direction: 'out', hidCommand: 'ping', packet: 'cont' }, effect: { type: 'report.corrupt', offset: 10, xor: 0x0f } });
    const echo2 = await client.ping(PING_DATA);
    expect(echo2[57 + 5]).toBe(0xaa ^ 0x0f);
  });

  it('response.stall: part of the response, then silence; the client times out, the device serves the next request', async () => {
    const { device, client } = await faultDevice({}, 300);
    device.control.faults.add({ when: { command: 'getInfo' }, effect: { type: 'response.stall', afterPackets: 1 } });
    const err = await client.cbor(CtapCommand.authenticatorGetInfo).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: HidClientFailure.TIMEOUT });
    expect((await client.cbor(CtapCommand.authenticatorGetInfo)).status).toBe(0);
  });

  it('report.drop of the response: the client times out; seeded random corruption is recorded', async () => {
    const { device, client } = await faultDevice({}, 300);
    device.control.faults.add({ when: { direction: 'out', hidCommand: 'cbor' }, effect: 'report.drop' });
    expect(await client.cbor(CtapCommand.authenticatorGetInfo).catch((e: unknown) => e)).toMatchObject({ code: HidClientFailure.TIMEOUT });
    device.control.faults.add({ when: { direction: 'out', hidCommand: 'ping' }, effect: 'report.corrupt' });
    await client.ping(PING_DATA);
    const offset = device.control.history.list()[1]!.detail!.offset as number;
    expect(offset).toBeGreaterThanOrEqual(7);
    expect(offset).toBeLessThan(64);
  });
});
