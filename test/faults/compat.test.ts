/** Compatibility: another profile, old-firmware limits (advertised and enforced), large lists rejected. */
import { describe, expect, it } from 'vitest';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import { startDevice } from '../../src/device.ts';
import { assert, CtapCommand, faultDevice, register } from './helpers.ts';

describe('compatibility', () => {
  it('profileOverrides: maxCredentialCountInList 1 is advertised and enforced by the real check', async () => {
    const { client } = await faultDevice({ profileOverrides: { maxCredentialCountInList: 1 } });
    const info = (await client.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    expect(info.get(0x07)).toBe(1);
    const a = await register(client, { userId: new Uint8Array([1]) });
    const b = await register(client, { userId: new Uint8Array([2]) });
    expect((await assert(client, { allow: [a.credentialId, b.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
    expect((await assert(client, { allow: [b.credentialId] })).status).toBe(0);
  });

  it('residentCredentialCapacity override: KEY_STORE_FULL from makeCredential', async () => {
    const { client } = await faultDevice({ profileOverrides: { residentCredentialCapacity: 1 } });
    await register(client, { rk: true, userId: new Uint8Array([1]) });
    await expect(register(client, { rk: true, userId: new Uint8Array([2]) })).rejects.toThrow(/0x28/);
  });

  it('large lists rejected without advertising a limit (Chromium reject_large_allow_and_exclude_lists) as a rule', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({
      when: { command: ['getAssertion', 'makeCredential'], listSize: { min: 2 } },
      effect: { type: 'status', status: 'CTAP2_ERR_LIMIT_EXCEEDED' },
      persist: true,
    });
    const a = await register(client, { userId: new Uint8Array([1]) });
    const b = await register(client, { userId: new Uint8Array([2]) });
    expect((await assert(client, { allow: [a.credentialId, b.credentialId] })).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
    expect((await assert(client, { allow: [a.credentialId] })).status).toBe(0);
  });

  it('run as another profile: ctap20 advertises FIDO_2_0 only; the control API reports the profile', async () => {
    const { device, client } = await faultDevice({ profile: 'ctap20' });
    const info = (await client.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    expect(info.get(0x01)).not.toContain('FIDO_2_1');
    expect((await device.control.state.get()).profile).toBe('ctap20');
  });

  it('bad overrides are EmulatorErrors naming the field', async () => {
    await expect(startDevice({ transport: 'memory', store: 'memory', profileOverrides: { maxCredentialIdLength: 16 } })).rejects.toMatchObject({
      code: 'EMU_ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/maxCredentialIdLength/),
    });
    await expect(startDevice({ transport: 'memory', store: 'memory', profileOverrides: { colour: 1 } as never })).rejects.toMatchObject({
      code: 'EMU_ERR_INVALID_ARGUMENT',
    });
  });
});
