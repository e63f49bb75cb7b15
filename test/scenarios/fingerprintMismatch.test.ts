/**
 * Scenario: the fingerprint is not recognised twice, then it is. The platform (python-fido2's ClientPin,
 * getPinUvAuthTokenUsingUvWithPermissions) gets UV_INVALID twice, with uvRetries counting down, then a
 * token; the match restores uvRetries and the token makes a user-verified credential.
 */
import { describe, it } from 'vitest';
import { withScenario } from './helpers.ts';

describe('scenario: fingerprint mismatch, mismatch, match', () => {
  /**
   * Spec: CTAP 2.1 §6.5.5.7.3 getPinUvAuthTokenUsingUvWithPermissions — performBuiltInUv with
   * internalRetry = !(preferredPlatformUvAttempts > 1), i.e. one sensor attempt per request here; a
   * mismatch decrements uvRetries and returns CTAP2_ERR_UV_INVALID ("the platform SHOULD retry"); a match
   * resets uvRetries to the maximum.
   */
  it('UV token request: UV_INVALID twice (uvRetries 4, 3), then a token (uvRetries back to 5)', async ({ expect }) => {
    await withScenario(
      {
        profile: 'ctap21-fingerprint',
        verification: {
          templates: [{ modality: 'fingerprint', name: 'right index' }],
          fingerprint: { script: ['mismatch', 'mismatch', 'match'] },
        },
      },
      async ({ device, client }) => {
        const uv = device.authenticator.profile.uv;
        expect(uv?.maxUvRetries).toBe(5);
        expect(uv!.preferredPlatformUvAttempts).toBeGreaterThan(1);
        const r = await client('scenario_uv', 'scenario.uv_retry', ['--mode', 'retry']);
        expect(r).toMatchObject({
          uvRetriesBefore: 5,
          attempts: [
            { outcome: 'UV_INVALID', uvRetries: 4 },
            { outcome: 'UV_INVALID', uvRetries: 3 },
            { outcome: 'OK', uvRetries: 5 },
          ],
          flags: { up: true, uv: true, at: true },
          assertionFlags: { up: true, uv: true },
        });
        // The sensor saw exactly the scripted attempts, then the getAssertion token's (falls back to match).
        expect(device.sensor?.attempts.map((a) => [a.modality, a.outcome])).toEqual([
          ['fingerprint', 'mismatch'],
          ['fingerprint', 'mismatch'],
          ['fingerprint', 'match'],
          ['fingerprint', 'match'],
        ]);
      },
    );
  });
});
