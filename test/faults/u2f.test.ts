/**
 * Fault rules on CTAP1/U2F (CTAPHID_MSG): the dispatch seam (status as a status word `sw`, delay, drop),
 * `when.command` with the U2F names, and the presence port reached from U2F's non-blocking presence check.
 */
import { describe, expect, it } from 'vitest';
import { CtapHidCmd } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { HidClientFailure } from '../../src/client/ctaphid.ts';
import { apdu, INS, registerApdu, splitResponse, SW } from '../helpers/u2f.ts';
import { CtapCommand, faultDevice } from './helpers.ts';

const CHALLENGE = new Uint8Array(32).fill(1);
const APP = new Uint8Array(32).fill(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('U2F faults', () => {
  it('presence.deny: U2F_REGISTER keeps answering SW_CONDITIONS_NOT_SATISFIED; without the rule the touch comes', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ id: 'deny', when: { command: 'u2fRegister' }, effect: 'presence.deny', persist: true });
    for (let i = 0; i < 5; i++) {
      expect(splitResponse(await client.call(CtapHidCmd.MSG, registerApdu(CHALLENGE, APP))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
      await sleep(20);
    }
    const denials = device.control.history.list().filter((h) => h.effect === 'presence.deny');
    expect(denials.length).toBeGreaterThanOrEqual(1);
    expect(denials[0]).toMatchObject({ seam: 'presence', command: 'u2fRegister' });
    // control: the default presence (approve) latches a touch once the rule is gone
    device.control.faults.remove('deny');
    let sw = 0;
    for (let i = 0; i < 20 && sw !== SW.NO_ERROR; i++) {
      await sleep(20);
      sw = splitResponse(await client.call(CtapHidCmd.MSG, registerApdu(CHALLENGE, APP))).sw;
    }
    expect(sw).toBe(SW.NO_ERROR);
  });

  it('status with sw answers that status word for the named U2F command only', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { command: 'u2fVersion' }, effect: { type: 'status', sw: 'SW_WRONG_DATA' } });
    expect(splitResponse(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION)))).toMatchObject({ sw: SW.WRONG_DATA, data: new Uint8Array(0) });
    expect(splitResponse(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION))).sw).toBe(SW.NO_ERROR);
    expect(device.control.history.list()).toMatchObject([{ seam: 'dispatch', effect: 'status', command: 'u2fVersion', detail: { sw: SW.WRONG_DATA } }]);
  });

  it('a status rule with only a CTAP status leaves U2F alone; one with only sw leaves CBOR alone', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ id: 'ctap', effect: { type: 'status', status: 'CTAP2_ERR_NOT_ALLOWED' } });
    expect(splitResponse(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION))).sw).toBe(SW.NO_ERROR);
    device.control.faults.clear();
    device.control.faults.add({ id: 'u2f', effect: { type: 'status', sw: 0x6f00 } });
    expect((await client.cbor(CtapCommand.authenticatorGetInfo)).status).toBe(CtapStatus.CTAP2_OK);
    expect(device.control.faults.list().map((r) => r.id)).toEqual(['u2f']);
    expect(splitResponse(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION))).sw).toBe(SW.UNKNOWN);
  });

  it('drop: the U2F response never leaves the device; the next request is answered', async () => {
    const { device, client } = await faultDevice({}, 300);
    device.control.faults.add({ when: { command: 'u2fVersion' }, effect: 'drop' });
    expect(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION)).catch((e: unknown) => e)).toMatchObject({ code: HidClientFailure.TIMEOUT });
    expect(splitResponse(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION))).sw).toBe(SW.NO_ERROR);
  });

  it('delay: the U2F answer comes after ms', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { command: 'u2fVersion' }, effect: { type: 'delay', ms: 150 } });
    const t0 = performance.now();
    expect(splitResponse(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION))).sw).toBe(SW.NO_ERROR);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('transport rules match the U2F command of a MSG message', async () => {
    const { device, client } = await faultDevice({}, 300);
    device.control.faults.add({ when: { direction: 'out', command: 'u2fVersion' }, effect: 'report.drop' });
    expect(await client.call(CtapHidCmd.MSG, apdu(INS.VERSION)).catch((e: unknown) => e)).toMatchObject({ code: HidClientFailure.TIMEOUT });
    expect(device.control.history.list()).toMatchObject([{ seam: 'transport', effect: 'report.drop', command: 'u2fVersion' }]);
  });

  it('validation: U2F names are known; effects that cannot act on an APDU are refused for U2F-only rules', async () => {
    const { device } = await faultDevice();
    const add = (r: unknown) => () => device.control.faults.add(r as never);
    expect(add({ when: { command: ['u2fRegister', 'u2fAuthenticate'] }, effect: 'presence.deny' })).not.toThrow();
    expect(add({ when: { command: 'u2fRegister' }, effect: 'signature.corrupt' })).toThrow(/does not act on U2F/);
    expect(add({ when: { command: 'u2fRegister' }, effect: { type: 'status', status: 0x27 } })).toThrow(/effect\.sw: required/);
    expect(add({ when: { command: 'getInfo' }, effect: { type: 'status', sw: 0x6985 } })).toThrow(/effect\.status: required/);
    expect(add({ effect: { type: 'status' } })).toThrow(/status: required/);
    expect(add({ effect: { type: 'status', sw: 0x10000 } })).toThrow(/U2F status word/);
    expect(add({ when: { command: 'u2fRegistr' }, effect: 'presence.deny' })).toThrow(/unknown command/);
  });
});
