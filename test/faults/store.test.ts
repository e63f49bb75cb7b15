/**
 * Store port faults: a full store (the real commit maps it to KEY_STORE_FULL), power loss mid-write (no
 * answer, a power cycle, old or new state and never a mix), a damaged store (the real load error).
 */
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { HidClientFailure } from '../../src/client/ctaphid.ts';
import { startDevice } from '../../src/device.ts';
import { assert, CtapCommand, faultDevice, mcParams, parseAuthData, register } from './helpers.ts';

describe('store faults', () => {
  it('store.full: a discoverable makeCredential answers KEY_STORE_FULL and stores nothing', async () => {
    const { device, client } = await faultDevice();
    device.control.faults.add({ when: { command: 'makeCredential' }, effect: 'store.full' });
    const r = await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ rk: true }));
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_KEY_STORE_FULL);
    expect(await device.control.credentials.list()).toEqual([]);
    expect((await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ rk: true }))).status).toBe(0);
  });

  it.each([
    ['old', 2],
    ['new', 3],
  ] as const)('store.powerLoss (%s) while an assertion bumps its counter: no answer, a power cycle, then counter %i', async (outcome, next) => {
    const { device, client, connect } = await faultDevice({}, 400);
    const reg = await register(client);
    expect(parseAuthData((await assert(client, { allow: [reg.credentialId] })).authData!).signCount).toBe(1);
    device.control.faults.add({ when: { command: 'getAssertion' }, effect: { type: 'store.powerLoss', outcome } });
    const err = await assert(client, { allow: [reg.credentialId] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: HidClientFailure.TIMEOUT });
    const again = await connect(); // the key was re-plugged: a new channel
    expect(parseAuthData((await assert(again, { allow: [reg.credentialId] })).authData!).signCount).toBe(next);
    expect(device.control.history.list()[0]).toMatchObject({ effect: 'store.powerLoss', detail: { outcome } });
  });

  it('store.powerLoss during a discoverable makeCredential: the credential is all there or not there', async () => {
    for (const outcome of ['old', 'new'] as const) {
      const { device, client } = await faultDevice({}, 400);
      device.control.faults.add({ when: { command: 'makeCredential' }, effect: { type: 'store.powerLoss', outcome } });
      await client.cbor(CtapCommand.authenticatorMakeCredential, mcParams({ rk: true })).catch(() => undefined);
      await device.control.powerCycle(); // waits for the power cycle the fault started
      const creds = await device.control.credentials.list();
      expect(creds).toHaveLength(outcome === 'new' ? 1 : 0);
      if (creds[0]) expect(creds[0]).toMatchObject({ rpId: 'example.com', user: { name: 'alice' }, status: 'active' });
    }
  });

  it('store.corrupt (memory store): the next power-up fails with the real decoder error', async () => {
    const { device } = await faultDevice();
    device.control.faults.add({ effect: 'store.corrupt' });
    await expect(device.control.powerCycle()).rejects.toMatchObject({ code: 'EMU_ERR_STATE_CORRUPT' });
  });

  it.each([
    ['flip', /checksum mismatch/],
    ['truncate', /truncated/],
  ] as const)('store.corrupt %s (file store): the file is damaged on disk; the store refuses it, and so does a restart', async (mode, problem) => {
    const dir = await mkdtemp(join(tmpdir(), 'vfido-faults-'));
    const path = join(dir, 'key.vfido');
    try {
      const { device, client } = await faultDevice({ store: { path }, attestation: 'none' });
      await register(client, { rk: true });
      device.control.faults.add({ effect: { type: 'store.corrupt', mode } });
      const err = await device.control.powerCycle().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EMU_ERR_STORE_CORRUPT', message: expect.stringMatching(problem) });
      expect((err as Error).message).toContain(path);
      await device.close();
      await expect(startDevice({ transport: 'memory', store: { path } })).rejects.toMatchObject({ code: 'EMU_ERR_STORE_CORRUPT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /**
   * Regression: store.corrupt damaged the user's real store file for good. Outside the temporary directory the
   * rule is refused when armed unless it says allowDestructive: true. (TMPDIR is pointed elsewhere so that this
   * test's own files count as "not temporary".)
   */
  it.skipIf(process.platform === 'win32')('store.corrupt on a store file outside the temporary directory needs allowDestructive', async () => {
    const base = await mkdtemp(join(tmpdir(), 'vfido-faults-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(base, 'tmp');
    try {
      await mkdir(join(base, 'tmp'));
      const path = join(base, 'home', 'key.vfido');
      const { device, client } = await faultDevice({ store: { path }, attestation: 'none' });
      await register(client, { rk: true });
      let refused: unknown;
      try {
        device.control.faults.add({ effect: { type: 'store.corrupt', mode: 'truncate' } });
      } catch (e) {
        refused = e;
      }
      expect(refused).toMatchObject({ code: 'EMU_ERR_INVALID_ARGUMENT' });
      expect((refused as Error).message).toContain(path);
      expect((refused as Error).message).toMatch(/allowDestructive: true/);
      expect(device.control.faults.list()).toEqual([]);
      const before = await readFile(path);
      await device.control.powerCycle(); // nothing armed: the file loads as it was
      expect(Buffer.compare(await readFile(path), before)).toBe(0);

      device.control.faults.add({ effect: { type: 'store.corrupt', mode: 'truncate', allowDestructive: true } });
      await expect(device.control.powerCycle()).rejects.toMatchObject({ code: 'EMU_ERR_STORE_CORRUPT' });
      expect((await readFile(path)).length).toBeLessThan(before.length);
      await device.close();

      // Armed through the start options: the start is refused (and leaves the lock free).
      const other = join(base, 'home', 'other.vfido');
      await expect(startDevice({ transport: 'memory', store: { path: other }, faults: [{ effect: 'store.corrupt' }] })).rejects.toMatchObject({
        code: 'EMU_ERR_INVALID_ARGUMENT',
      });
      const ok = await startDevice({ transport: 'memory', store: { path: other } });
      await ok.close();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(base, { recursive: true, force: true });
    }
  });
});
