/**
 * Seed scenarios S2 and S3 (FAULT_MODEL.md §1), run from scenarios/fingerprint-mismatch.yaml and
 * scenarios/face-mismatch.yaml with python-fido2 as a CTAP 2.1 platform and relying party.
 *
 * Spec: CTAP 2.1 §6.5.5.7.3 getPinUvAuthTokenUsingUvWithPermissions — a failed built-in UV decrements
 * uvRetries and answers CTAP2_ERR_UV_INVALID, or CTAP2_ERR_UV_BLOCKED when none are left; a match resets
 * uvRetries. The platform then falls back to the PIN (§6.5.5.7.2 getPinUvAuthTokenUsingPinWithPermissions).
 */
import { describe, it } from 'vitest';
import { historyWithoutTimes, withYamlScenario } from './helpers.ts';

describe('scenarios/fingerprint-mismatch.yaml (S2)', () => {
  it('the platform gets UV_INVALID twice, then a token; the RP verifies a UV=1 registration and assertion', async ({ expect }) => {
    await withYamlScenario('fingerprint-mismatch', async ({ run, client }) => {
      expect(run.device.authenticator.profile.name).toBe('ctap21-fingerprint');
      const r = await client('uv-token');
      expect(r).toMatchObject({
        attempts: [
          { outcome: 'UV_INVALID', uvRetries: 4 },
          { outcome: 'UV_INVALID', uvRetries: 3 },
          { outcome: 'OK', uvRetries: 5 },
        ],
        outcome: 'OK',
        method: 'uv',
        register: { rp: 'OK', flags: { up: true, uv: true } },
        authenticate: { rp: 'OK', flags: { up: true, uv: true } },
      });
      // The file's rule fired exactly twice, on the platform's clientPIN requests, and is used up.
      expect(historyWithoutTimes(run).map((h) => [h.fault, h.effect, h.command])).toEqual([
        ['finger-not-recognised', 'uv.mismatch', 'clientPIN'],
        ['finger-not-recognised', 'uv.mismatch', 'clientPIN'],
      ]);
      expect(run.device.control.faults.list()).toEqual([]);
    });
  });
});

describe('scenarios/face-mismatch.yaml (S3)', () => {
  it('UV_INVALID, UV_INVALID, UV_BLOCKED from 3 retries; the PIN fallback gives UV=1 responses the RP accepts', async ({ expect }) => {
    await withYamlScenario('face-mismatch', async ({ run, client }) => {
      const state = await run.device.control.state.get();
      expect(state).toMatchObject({ profile: 'ctap21-face', pin: { set: true }, uv: { retries: 3, modalities: ['face'] } });
      const pin = run.scenario.state.pin?.value;
      expect(pin).toBeTypeOf('string');
      const r = await client('uv-token', ['--pin', pin!]);
      expect(r).toMatchObject({
        attempts: [
          { outcome: 'UV_INVALID', uvRetries: 2 },
          { outcome: 'UV_INVALID', uvRetries: 1 },
          { outcome: 'UV_BLOCKED', uvRetries: 0 },
        ],
        outcome: 'OK',
        method: 'pin',
        register: { rp: 'OK', flags: { up: true, uv: true } },
        authenticate: { rp: 'OK', flags: { up: true, uv: true } },
      });
      const firings = historyWithoutTimes(run).filter((h) => h.fault === 'face-not-recognised');
      expect(firings).toHaveLength(3);
      // persist: the rule is still armed.
      expect(run.device.control.faults.list().map((f) => [f.id, f.remaining, f.fired])).toEqual([['face-not-recognised', null, 3]]);
    });
  });
});
