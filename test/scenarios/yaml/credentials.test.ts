/**
 * Seed scenarios S5, S7 and S8 (FAULT_MODEL.md §1), run from scenarios/passkey-deactivated.yaml,
 * passkey-corrupted.yaml and account-locked.yaml with python-fido2's Fido2Client as the browser and its
 * Fido2Server as the relying party, which holds the credentials as the scenario registered them.
 *
 * Spec: CTAP 2.1 §6.2.2 authenticatorGetAssertion step 7 — no applicable credential → CTAP2_ERR_NO_CREDENTIALS
 * (before any user presence). WebAuthn L3 §7.2 step "verify the signature" — the RP rejects an assertion
 * whose signature does not verify with the credential public key it registered.
 */
import { describe, it } from 'vitest';
import { withYamlScenario } from './helpers.ts';

describe('scenarios/passkey-deactivated.yaml (S5)', () => {
  it('sign-in with allowCredentials and as a passkey: NO_CREDENTIALS; once restored, the RP accepts it', async ({ expect }) => {
    await withYamlScenario('passkey-deactivated', async ({ run, client, rpHolds }) => {
      const alice = rpHolds('alice');
      expect(await client('authenticate', alice)).toEqual({ outcome: 'DEVICE_INELIGIBLE(NO_CREDENTIALS)', ctap: 'CTAP2' });
      expect(await client('authenticate', [...alice, '--discoverable'])).toEqual({ outcome: 'DEVICE_INELIGIBLE(NO_CREDENTIALS)', ctap: 'CTAP2' });
      expect((await run.device.control.state.get()).credentials).toMatchObject({ discoverable: 0, deactivated: 1 });

      // Deactivated, not lost: restoring it makes the very same credential work again.
      await run.device.control.credentials.restore(run.credentials.alice!.credentialId);
      expect(await client('authenticate', [...alice, '--discoverable'])).toMatchObject({ outcome: 'OK', sameCredential: true, rp: 'OK' });
    });
  });
});

describe('scenarios/passkey-corrupted.yaml (S7)', () => {
  it("alice's assertion arrives but the RP's signature check fails; bob's unreadable record → NO_CREDENTIALS", async ({ expect }) => {
    await withYamlScenario('passkey-corrupted', async ({ run, client, rpHolds }) => {
      const a = await client('authenticate', rpHolds('alice'));
      expect(a).toMatchObject({ outcome: 'OK', sameCredential: true, flags: { up: true }, signCount: 8 });
      expect(a.rp).toBe('ValueError: Invalid signature.');
      expect(await client('authenticate', rpHolds('bob'))).toEqual({ outcome: 'DEVICE_INELIGIBLE(NO_CREDENTIALS)', ctap: 'CTAP2' });

      const listed = await run.device.control.credentials.list();
      const byId = new Map(listed.map((c) => [c.credentialId, c]));
      // The device holds a key for alice that is not the one the RP registered; bob is set aside as damaged.
      expect(byId.get(run.credentials.alice!.credentialId)?.publicKey).not.toBe(run.credentials.alice!.publicKey);
      expect((await run.device.control.state.get()).credentials).toMatchObject({ discoverable: 1, damaged: 1 });
    });
  });
});

describe('scenarios/account-locked.yaml (S8)', () => {
  it('getInfo answers, sign-in and registration get OPERATION_DENIED; after unlock the RP accepts a sign-in', async ({ expect }) => {
    await withYamlScenario('account-locked', async ({ run, client, rpHolds }) => {
      // Fido2Client reads getInfo first (it would fall back to CTAP1 otherwise): the locked key still answers it.
      expect(await client('authenticate', rpHolds('alice'))).toEqual({ outcome: 'BAD_REQUEST(OPERATION_DENIED)', ctap: 'CTAP2' });
      expect(await client('register')).toEqual({ outcome: 'BAD_REQUEST(OPERATION_DENIED)', ctap: 'CTAP2' });
      expect((await run.device.control.state.get()).suspended).toBe(true);

      await run.device.control.unlock();
      expect(await client('authenticate', rpHolds('alice'))).toMatchObject({ outcome: 'OK', sameCredential: true, rp: 'OK' });
    });
  });
});
