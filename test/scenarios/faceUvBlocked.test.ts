/**
 * Scenario: face recognition keeps failing until built-in UV is blocked, and the user falls back to the PIN.
 * The platform (python-fido2's ClientPin, getPinUvAuthTokenUsingUvWithPermissions) sees UV_INVALID with
 * uvRetries counting down, then UV_BLOCKED (also for later requests, without asking the sensor again); the
 * WebAuthn client without a PIN (python-fido2 0.9.1 sends uv=true) is told to use a pinUvAuthToken; with the
 * PIN the RP (Fido2Server, userVerification 'required') registers and authenticates a user-verified
 * credential, and the correct PIN restores uvRetries.
 */
import { describe, it } from 'vitest';
import { withScenario } from './helpers.ts';

describe('scenario: face mismatch until UV_BLOCKED, then PIN fallback', () => {
  /**
   * Spec: CTAP 2.1 §6.5.5.7.3 getPinUvAuthTokenUsingUvWithPermissions — uvRetries 0 → UV_BLOCKED before any
   * attempt; a failed attempt that leaves uvRetries at 0 → UV_BLOCKED, otherwise UV_INVALID. §6.1.2 / §6.2.2
   * uv=true with a failed built-in UV and the clientPin option true → CTAP2_ERR_PUAT_REQUIRED (python-fido2
   * 0.9.1 calls 0x36 PIN_REQUIRED and raises ClientError BAD_REQUEST). Deviation (vfido's choice, as
   * Chromium's virtual authenticator): a correct PIN also restores uvRetries.
   */
  it('UV token: UV_INVALID ×4 then UV_BLOCKED; WebAuthn with the PIN succeeds with UV', async ({ expect }) => {
    await withScenario(
      {
        profile: 'ctap21-face',
        verification: { templates: [{ modality: 'face', name: 'me' }], face: { policy: 'mismatch' } },
      },
      async ({ device, client }) => {
        const max = device.authenticator.profile.uv?.maxUvRetries;
        expect(max).toBe(5);
        const r = await client('scenario_uv', 'scenario.uv_blocked', ['--mode', 'blocked']);
        expect(r).toMatchObject({
          uvRetriesBefore: 5,
          attempts: [
            { outcome: 'UV_INVALID', uvRetries: 4 },
            { outcome: 'UV_INVALID', uvRetries: 3 },
            { outcome: 'UV_INVALID', uvRetries: 2 },
            { outcome: 'UV_INVALID', uvRetries: 1 },
            { outcome: 'UV_BLOCKED', uvRetries: 0 },
          ],
          again: 'UV_BLOCKED',
          clientWithoutPin: 'BAD_REQUEST(PUAT_REQUIRED)',
          pinFallback: { flags: { up: true, uv: true, at: true }, assertionFlags: { up: true, uv: true } },
          uvRetriesAfterPin: 5,
        });
        // Only the five token requests reached the sensor: a blocked UV does not ask for a face.
        expect(device.sensor?.attempts.map((a) => [a.modality, a.outcome])).toEqual(Array(5).fill(['face', 'mismatch']));
      },
    );
  });
});
