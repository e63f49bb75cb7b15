/**
 * Seed scenario S1 (FAULT_MODEL.md §1 S1g/S1e/S1b), run from scenarios/incompatible-device.yaml: a U2F-only
 * key. python-fido2's Fido2Client finds no CBOR capability and falls back to CTAP1, as browsers do: what a
 * U2F key cannot do (a discoverable credential, user verification) fails in the client before the key is
 * used; a second-factor registration and sign-in work over U2F, verified by Fido2Server.
 *
 * Spec: CTAP 2.1 §11.2.9.1.3 (CAPABILITY_CBOR clear → no CTAP2), §10 "Interoperating with CTAP1/U2F
 * authenticators" (no rk, no uv; fido-u2f attestation, WebAuthn L3 §8.6).
 */
import { describe, it } from 'vitest';
import { withYamlScenario } from './helpers.ts';

describe('scenarios/incompatible-device.yaml (S1)', () => {
  it('passkey and UV-required requests fail in the client; a U2F second factor registers and signs in', async ({ expect }) => {
    await withYamlScenario('incompatible-device', async ({ run, client }) => {
      expect(run.device.authenticator.profile.versions).toEqual(['U2F_V2']);
      // A passkey (requireResidentKey): the CTAP1 path has no discoverable credentials.
      expect(await client('register', ['--resident-key'])).toEqual({ outcome: 'CONFIGURATION_UNSUPPORTED(UNSUPPORTED_OPTION)', ctap: 'CTAP1' });
      // userVerification required: the client refuses without asking the key (no CTAP status).
      expect(await client('register', ['--uv', 'required'])).toEqual({ outcome: 'CONFIGURATION_UNSUPPORTED', ctap: 'CTAP1' });
      // The fallback that works: a non-discoverable credential over U2F, then a sign-in naming it.
      const reg = await client('register');
      expect(reg).toMatchObject({ outcome: 'OK', ctap: 'CTAP1', fmt: 'fido-u2f', rp: 'OK', flags: { up: true, uv: false, at: true } });
      const auth = await client('authenticate', ['--credential-id', String(reg.credentialId), '--public-key', String(reg.publicKey)]);
      expect(auth).toMatchObject({ outcome: 'OK', ctap: 'CTAP1', sameCredential: true, rp: 'OK', flags: { up: true, uv: false } });
      // A passkey sign-in (no allowCredentials) is impossible with U2F.
      const passkey = await client('authenticate', ['--credential-id', String(reg.credentialId), '--public-key', String(reg.publicKey), '--discoverable']);
      expect(passkey).toEqual({ outcome: 'CONFIGURATION_UNSUPPORTED(UNSUPPORTED_OPTION)', ctap: 'CTAP1' });
    });
  });
});
