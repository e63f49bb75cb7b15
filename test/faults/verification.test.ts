/**
 * Verification port faults: a per-attempt sensor outcome; the real clientPIN / builtInUv code decrements
 * uvRetries, answers UV_INVALID / UV_BLOCKED / USER_ACTION_TIMEOUT.
 */
import { describe, expect, it } from 'vitest';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { faultDevice, pinClient, RP } from './helpers.ts';

const GA = 0x02;

async function bioDevice(profile = 'ctap21-fingerprint', templates = [{ modality: 'fingerprint' as const, name: 'thumb' }]) {
  const h = await faultDevice({ profile, verification: { templates } });
  return { ...h, pin: pinClient(h.client) };
}

describe('verification faults', () => {
  it('uv.mismatch on attempts 1 and 2: UV_INVALID twice (uvRetries 5 → 3), then a match', async () => {
    const { device, pin } = await bioDevice();
    device.control.faults.add({ effect: 'uv.mismatch', when: { attempt: [1, 2] }, times: 2 });
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_UV_INVALID);
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_UV_INVALID);
    expect(await pin.uvRetries()).toBe(3);
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(0);
    expect(await pin.uvRetries()).toBe(5); // a match restores the maximum
  });

  it('uv.mismatch persisting until uvRetries runs out: UV_BLOCKED from the real counter', async () => {
    const { device, pin } = await bioDevice();
    device.control.faults.add({ id: 'bad-finger', effect: 'uv.mismatch', persist: true });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await pin.token({ permissions: GA, rpId: RP })).status);
    expect(statuses).toEqual([0x3f, 0x3f, 0x3f, 0x3f, 0x3c, 0x3c]);
    // the 6th request never reached the sensor: blocked before an attempt
    expect(device.control.history.list().filter((e) => e.fault === 'bad-finger')).toHaveLength(5);
  });

  it('uv.no-sample: USER_ACTION_TIMEOUT, no retry spent; uv.sensor-error: UV_INVALID, no retry spent', async () => {
    const { device, pin } = await bioDevice();
    device.control.faults.add({ effect: 'uv.no-sample' });
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT);
    device.control.faults.add({ effect: 'uv.sensor-error' });
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_UV_INVALID);
    expect(await pin.uvRetries()).toBe(5);
  });

  it('uv.match with a template name the device does not know is a mismatch', async () => {
    const { device, pin } = await bioDevice();
    device.control.faults.add({ effect: { type: 'uv.match', template: 'index' } });
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_UV_INVALID);
    expect(device.control.history.list()[0]!.detail).toEqual({ template: 'index', outcome: 'mismatch' });
    device.control.faults.add({ effect: { type: 'uv.match', template: 'thumb' } });
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(0);
  });

  it('uv.match overrides a sensor policy that rejects everything', async () => {
    const { device, pin } = await bioDevice();
    device.control.sensor.setPolicy('fingerprint', 'mismatch');
    device.control.faults.add({ effect: 'uv.match' });
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(0);
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(CtapStatus.CTAP2_ERR_UV_INVALID);
  });

  it('when.modality: a face rule does not touch fingerprint attempts', async () => {
    const { device, pin } = await bioDevice('ctap21-fingerprint-face', [{ modality: 'fingerprint', name: 'thumb' }]);
    device.control.faults.add({ effect: 'uv.mismatch', when: { modality: 'face' } });
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(0);
    expect(device.control.faults.list()[0]!.matched).toBe(0);
  });

  it('uv.delay: the sensor answers later', async () => {
    const { device, pin } = await bioDevice();
    device.control.faults.add({ effect: { type: 'uv.delay', ms: 200 } });
    const t0 = Date.now();
    expect((await pin.token({ permissions: GA, rpId: RP })).status).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
  });
});
