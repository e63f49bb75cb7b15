/**
 * Scenario: the user types a wrong PIN three times in a row. The RP's WebAuthn client (python-fido2
 * Fido2Client, verified by Fido2Server) sees PIN_INVALID twice, then PIN_AUTH_BLOCKED, and even the right
 * PIN is refused until the key is power-cycled (Device.powerCycle(), as an RP test harness would do);
 * afterwards the right PIN works and the retry counter is full again.
 */
import { describe, it } from 'vitest';
import { pinRp, withScenario } from './helpers.ts';

const PIN = '2580';
const WRONG_PIN = '0852';

describe('scenario: wrong PIN 3 times', () => {
  /**
   * Spec: CTAP 2.1 §6.5.5.7 — pinRetries is decremented before each comparison; the 3rd consecutive
   * mismatch in one power cycle → CTAP2_ERR_PIN_AUTH_BLOCKED, and PIN attempts get PIN_AUTH_BLOCKED (no
   * retry consumed) until power-up; python-fido2 reports PIN errors as ClientError BAD_REQUEST.
   */
  it('→ PIN_AUTH_BLOCKED (even for the right PIN) until a power cycle, then the right PIN works', async ({ expect }) => {
    await withScenario({}, async (scenario) => {
      const { device } = scenario;
      const { max, register, auth } = pinRp(scenario);
      expect(max).toBe(8);

      const registered = await register(PIN);
      expect(registered.flags).toMatchObject({ up: true, uv: true });

      expect(await auth(WRONG_PIN, 3)).toEqual({
        outcomes: ['BAD_REQUEST(PIN_INVALID)', 'BAD_REQUEST(PIN_INVALID)', 'BAD_REQUEST(PIN_AUTH_BLOCKED)'],
        pinRetries: max! - 3,
        powerCycleState: true,
      });
      // Blocked until power-up: the right PIN is refused too, and costs no retry.
      expect(await auth(PIN)).toEqual({ outcomes: ['BAD_REQUEST(PIN_AUTH_BLOCKED)'], pinRetries: max! - 3, powerCycleState: true });

      await device.powerCycle();
      expect(await auth(PIN)).toMatchObject({ outcomes: ['OK'], pinRetries: max });
    });
  });
});
