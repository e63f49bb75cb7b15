/**
 * Scenario: wrong PINs until the key's PIN is blocked for good. Three wrong PINs per power cycle (the key
 * soft-blocks after three), power cycles in between, eight in total: the RP's WebAuthn client (python-fido2
 * Fido2Client + Fido2Server) then sees PIN_BLOCKED for every PIN, across power cycles, until the key is
 * reset — which also destroys the RP's credential; a new PIN and a new registration then work.
 */
import { describe, it } from 'vitest';
import { pinRp, withScenario } from './helpers.ts';

const PIN = '7391';
const WRONG_PIN = '1937';
const NEW_PIN = '46802';

describe('scenario: wrong PIN 8 times', () => {
  /**
   * Spec: CTAP 2.1 §6.5.5.7 — pinRetries (8) decremented before each comparison, PIN_AUTH_BLOCKED on the
   * 3rd consecutive mismatch of a power cycle, PIN_BLOCKED once pinRetries is 0 (checked before the
   * 3-mismatch rule); §6.6 authenticatorReset right after power-up removes the PIN and every credential.
   */
  it('→ PIN_BLOCKED, kept across power cycles, until authenticatorReset', async ({ expect }) => {
    await withScenario({}, async (scenario) => {
      const { device, client } = scenario;
      const { max, state, register, auth } = pinRp(scenario);
      expect(max).toBe(8);
      const softBlocked = ['BAD_REQUEST(PIN_INVALID)', 'BAD_REQUEST(PIN_INVALID)', 'BAD_REQUEST(PIN_AUTH_BLOCKED)'];

      await register(PIN);
      expect(await auth(WRONG_PIN, 3)).toEqual({ outcomes: softBlocked, pinRetries: 5, powerCycleState: true });
      await device.powerCycle();
      expect(await auth(WRONG_PIN, 3)).toEqual({ outcomes: softBlocked, pinRetries: 2, powerCycleState: true });
      await device.powerCycle();
      // The 8th wrong PIN takes the last retry: PIN_BLOCKED.
      expect(await auth(WRONG_PIN, 2)).toMatchObject({ outcomes: ['BAD_REQUEST(PIN_INVALID)', 'BAD_REQUEST(PIN_BLOCKED)'], pinRetries: 0 });
      expect(await auth(PIN)).toMatchObject({ outcomes: ['BAD_REQUEST(PIN_BLOCKED)'], pinRetries: 0 });

      await device.powerCycle();
      expect(await auth(PIN)).toMatchObject({ outcomes: ['BAD_REQUEST(PIN_BLOCKED)'], pinRetries: 0 });

      await device.powerCycle(); // authenticatorReset is only allowed right after power-up
      expect(
        await client('scenario_pin', 'scenario.reset', ['--phase', 'reset', '--state', state, '--new-pin', NEW_PIN]),
      ).toMatchObject({
        clientPinAfterReset: false,
        oldCredential: 'DEVICE_INELIGIBLE(NO_CREDENTIALS)',
        newRegistration: { up: true, uv: true },
        pinRetries: max,
      });
    });
  });
});
