/** Presence port faults: the real handlers map the user's answer to the status the client sees. */
import { describe, expect, it } from 'vitest';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { CtapCommand, faultDevice, mcParams } from './helpers.ts';

const UPNEEDED = 2;

describe('presence faults', () => {
  it('presence.deny: makeCredential answers OPERATION_DENIED, once', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { command: 'makeCredential', rpId: 'example.com' }, effect: 'presence.deny' });
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams())).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams())).status).toBe(0);
    expect(device.control.history.list()).toMatchObject([{ seam: 'presence', effect: 'presence.deny', command: 'makeCredential', rpId: 'example.com' }]);
  });

  it('presence.deny does not fire for another RP (when.rpId)', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { rpId: 'other.example' }, effect: 'presence.deny' });
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams())).status).toBe(0);
    expect(device.control.faults.list()).toHaveLength(1);
  });

  it('presence.timeout: UPNEEDED keepalives until afterMs, then OPERATION_DENIED (reset: USER_ACTION_TIMEOUT)', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ effect: { type: 'presence.timeout', afterMs: 250 }, times: 2 });
    const ka: number[] = [];
    const r = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams(), { onKeepalive: (s) => ka.push(s) });
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    expect(ka).toContain(UPNEEDED);
    expect((await client.cbor(CtapCommand.authenticatorReset)).status).toBe(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT);
  });

  it('presence.delay then the configured user answers; presence.approve overrides a refusing user', async () => {
    const { device, client } = await faultDevice({ presence: { mode: 'deny' } });
    device.control.faults.add({ effect: { type: 'presence.delay', ms: 200 } });
    const t0 = Date.now();
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams())).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
    device.control.faults.add({ effect: 'presence.approve' });
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams())).status).toBe(0);
  });

  it('presence.touches: approved only after count touches (UPNEEDED meanwhile)', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ effect: { type: 'presence.touches', count: 3, intervalMs: 100 } });
    const ka: number[] = [];
    const t0 = Date.now();
    const r = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams(), { onKeepalive: (s) => ka.push(s) });
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(ka.filter((s) => s === UPNEEDED).length).toBeGreaterThanOrEqual(2);
    expect(device.control.history.list()[0]).toMatchObject({ effect: 'presence.touches', detail: { count: 3, intervalMs: 100 } });
  });

  it('a presence fault honours CTAPHID_CANCEL (KEEPALIVE_CANCEL)', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ effect: { type: 'presence.delay', ms: 5000 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const r = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams(), { signal: ac.signal });
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL);
  });
});
