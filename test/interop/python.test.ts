/**
 * Interop: Yubico python-fido2 0.9.1 (Debian python3-fido2, run by /usr/bin/python3) against an in-process
 * vfido device over UDP. python-fido2 does the CTAPHID framing, rejects non-canonical CBOR, and verifies
 * attestation (none / packed self / packed x5c chained to the device CA) and assertion signatures with its
 * own code (test/interop/python/*.py). Each test starts its own device, so tests run concurrently.
 * Missing packages fail these tests: run `bash scripts/setup-system.sh`.
 */
import { describe, it } from 'vitest';
import type { AttestationMode } from '../../src/device.ts';
import { expectedInfo, hex, python, requireChecks, withPythonDevice as withDevice } from './helpers.ts';

const ES256 = -7;
const EdDSA = -8;

describe.concurrent('python-fido2 over UDP', () => {
  /** Spec: CTAP 2.1 §11.2.9.1.3 CTAPHID_INIT, §11.2.9.1.2 PING; §6.4 getInfo, parsed by fido2's Info. */
  it('CTAPHID INIT and PING, then getInfo matches the device profile', async ({ expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const r = await python('get_info', d);
      const c = requireChecks(r, ['ctaphid_init', 'ctaphid_ping', 'get_info']);
      expect(c.ctaphid_init).toMatchObject({ ctaphidVersion: 2, cbor: true });
      expect(c.ctaphid_ping!.sizes).toEqual([0, 8, 57, 58, 1000]);
      expect(c.get_info).toMatchObject(expectedInfo(d.profile, c.get_info!.options as Record<string, unknown>));
      expect(c.get_info!.algorithms).toEqual(expect.arrayContaining([ES256, EdDSA]));
    });
  });

  const expectedAttestation: Record<AttestationMode, { fmt: string; attestationType: string }> = {
    none: { fmt: 'none', attestationType: 'NONE' },
    self: { fmt: 'packed', attestationType: 'SELF' },
    basic: { fmt: 'packed', attestationType: 'BASIC' },
  };

  /**
   * Spec: CTAP 2.1 §6.1 makeCredential; WebAuthn §8.2 packed / §8.7 none attestation. Raw Ctap2 and the
   * Fido2Client → Fido2Server (register_complete / authenticate_complete) path, ES256 and EdDSA, rk and not.
   */
  it.for(['none', 'self', 'basic'] as const)('makeCredential + assertion, attestation %s', async (attestation, { expect }) => {
    await withDevice({ attestation }, async (d) => {
      if (attestation === 'basic') expect(d.caFile).toBeDefined();
      const names: string[] = [];
      for (const alg of ['ES256', 'EdDSA']) {
        for (const rk of ['nonrk', 'rk']) names.push(`ctap2_make_credential.${alg}.${rk}`, `client_make_credential.${alg}.${rk}`);
      }
      const r = await python('make_credential', d);
      const c = requireChecks(r, names);
      for (const name of names) {
        const detail = c[name]!;
        expect(detail, name).toMatchObject(expectedAttestation[attestation]);
        expect(detail.alg, name).toBe(name.includes('.ES256.') ? ES256 : EdDSA);
        expect(detail.rk, name).toBe(name.endsWith('.rk'));
        expect(detail.flags, name).toMatchObject({ up: true, uv: false, at: true });
        expect(detail.assertionFlags, name).toMatchObject({ up: true, uv: false, at: false });
        if (attestation === 'basic') expect(detail.x5cLength, name).toBeGreaterThanOrEqual(1);
        else expect(detail.x5cLength, name).toBe(0);
        if (name.startsWith('ctap2_')) {
          expect(detail.assertionCounter as number, name).toBeGreaterThan(detail.makeCredentialCounter as number);
          // Self attestation carries a zero AAGUID; otherwise the authenticator's own.
          expect(detail.aaguid, name).toBe(attestation === 'self' ? '00'.repeat(16) : hex(d.profile.aaguid));
        }
      }
    });
  });

  /** Spec: CTAP 2.1 §6.2 getAssertion (allowList; discoverable newest first) and §6.3 getNextAssertion. */
  it('getAssertion with allowList, discoverable credentials newest first, getNextAssertion until exhausted', async ({
    expect,
  }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const r = await python('get_assertion', d);
      const c = requireChecks(r, [
        'get_assertion.allow_list',
        'get_assertion.unknown_credential',
        'get_assertion.credential_bound_to_rp',
        'get_assertion.discoverable',
        'get_next_assertion.without_state',
      ]);
      const counters = c['get_assertion.allow_list']!.counters as number[];
      expect(counters[1]).toBeGreaterThan(counters[0]!);
      expect(c['get_assertion.unknown_credential']!.error).toBe('NO_CREDENTIALS');
      expect(c['get_assertion.credential_bound_to_rp']!.error).toBe('NO_CREDENTIALS');
      expect(c['get_assertion.discoverable']).toEqual({
        numberOfCredentials: 3,
        // The script creates users 01.., 02.., 03.. in that order.
        userOrder: ['03'.repeat(16), '02'.repeat(16), '01'.repeat(16)],
        afterLast: 'NOT_ALLOWED',
      });
      expect(c['get_next_assertion.without_state']!.error).toBe('NOT_ALLOWED');
    });
  });

  /** Spec: CTAP 2.1 §6.1.2 step 7 — excludeList hit → CTAP2_ERR_CREDENTIAL_EXCLUDED. */
  it('excludeList → CREDENTIAL_EXCLUDED (Fido2Client: DEVICE_INELIGIBLE)', async ({ expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const r = await python('exclude_list', d);
      const c = requireChecks(r, [
        'exclude_list.nonrk',
        'exclude_list.rk',
        'exclude_list.unknown_ids',
        'exclude_list.other_rp',
        'exclude_list.client',
      ]);
      expect(c['exclude_list.nonrk']!.error).toBe('CREDENTIAL_EXCLUDED');
      expect(c['exclude_list.rk']!.error).toBe('CREDENTIAL_EXCLUDED');
      expect(c['exclude_list.client']).toEqual({ clientError: 'DEVICE_INELIGIBLE', cause: 'CREDENTIAL_EXCLUDED' });
    });
  });

  /** Spec: CTAP 2.1 §6.6 — reset within 10 s of power-up wipes credentials (after the UDP power-cycle datagram). */
  it('reset right after a power cycle wipes resident and non-resident credentials', async ({ expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const r = await python('reset', d, '--mode', 'window');
      const c = requireChecks(r, ['reset.setup', 'reset.after_power_cycle']);
      expect(c['reset.after_power_cycle']).toEqual({ reset: 'ok', foundAfterReset: { rk: false, nonrk: false } });
    });
  });

  /** Spec: CTAP 2.1 §6.6 — "If the request comes after 10 seconds of powering up … CTAP2_ERR_NOT_ALLOWED". */
  it('reset after the reset window → NOT_ALLOWED, credentials kept', async ({ expect }) => {
    const resetWindowMs = 300;
    await withDevice({ attestation: 'none', resetWindowMs }, async (d) => {
      const r = await python('reset', d, '--mode', 'late', '--wait-ms', String(resetWindowMs + 200));
      const c = requireChecks(r, ['reset.setup', 'reset.after_window']);
      expect(c['reset.after_window']).toMatchObject({ error: 'NOT_ALLOWED', foundAfterRefusal: { rk: true, nonrk: true } });
    });
  });
});
