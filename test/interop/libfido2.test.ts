/**
 * Interop: Yubico libfido2 1.12 (Debian libfido2-dev) against an in-process vfido device over UDP, through
 * libfido2's pluggable I/O (test/interop/libfido2/vfido_udp.c, fido_dev_set_io_functions). The driver is
 * compiled here with gcc and pkg-config; libfido2 does the CTAPHID framing, parses getInfo, verifies
 * attestation (fido_cred_verify / fido_cred_verify_self) and assertions (fido_assert_verify).
 * Each test starts its own device, so tests run concurrently.
 * Missing packages fail these tests: run `bash scripts/setup-system.sh`.
 */
import { describe, it } from 'vitest';
import type { AttestationMode } from '../../src/device.ts';
import { expectedInfo, hex, libfido2Runner, requireChecks } from './helpers.ts';

const ES256 = -7;
const EdDSA = -8;

const fido2 = libfido2Runner<'info' | 'make_cred' | 'get_assert' | 'exclude'>();

describe.concurrent('libfido2 over UDP', () => {
  /** Spec: CTAP 2.1 §11.2.9.1.3 CTAPHID_INIT (capabilities: CBOR), §6.4 getInfo as libfido2 parses it. */
  it('fido_dev_open + fido_dev_get_cbor_info match the device profile', async ({ expect }) => {
    const { d, r } = await fido2('info', { attestation: 'none' });
    const c = requireChecks(r, ['open', 'info']);
    expect(c.open).toMatchObject({ fido2: true, ctaphidVersion: 2 });
    expect(c.info).toMatchObject({ ...expectedInfo(d.profile, c.info!.options as Record<string, unknown>), firmwareVersion: d.profile.firmwareVersion });
    expect(c.info!.algorithms).toEqual(expect.arrayContaining([ES256, EdDSA]));
  });

  const expected: Record<AttestationMode, { fmt: string; attestationType: string; verifiedBy: string | null }> = {
    none: { fmt: 'none', attestationType: 'none', verifiedBy: null },
    self: { fmt: 'packed', attestationType: 'self', verifiedBy: 'fido_cred_verify_self' },
    basic: { fmt: 'packed', attestationType: 'basic', verifiedBy: 'fido_cred_verify' },
  };

  /** Spec: CTAP 2.1 §6.1 makeCredential; WebAuthn §8.2 packed (self, x5c) and §8.7 none. */
  it.for(['none', 'self', 'basic'] as const)('fido_dev_make_cred ES256/EdDSA, rk and not, attestation %s', async (attestation, { expect }) => {
    const { d, r } = await fido2('make_cred', { attestation });
    const names = ['ES256', 'EdDSA'].flatMap((alg) => [`make_cred.${alg}.nonrk`, `make_cred.${alg}.rk`]);
    const c = requireChecks(r, ['open', ...names]);
    for (const name of names) {
      const detail = c[name]!;
      expect(detail, name).toMatchObject(expected[attestation]);
      expect(detail.alg, name).toBe(name.includes('.ES256.') ? ES256 : EdDSA);
      expect(detail.rk, name).toBe(name.endsWith('.rk'));
      expect(detail.flags, name).toMatchObject({ up: true, uv: false, at: true });
      // libfido2 keeps ES256 keys as x||y (64 bytes), Ed25519 keys as 32 bytes.
      expect(detail.publicKeyLength, name).toBe(name.includes('.ES256.') ? 64 : 32);
      expect(detail.aaguid, name).toBe(attestation === 'self' ? '00'.repeat(16) : hex(d.profile.aaguid));
      if (attestation === 'basic') expect(detail.x5cLeafBytes as number, name).toBeGreaterThan(0);
      else expect(detail.x5cLeafBytes, name).toBe(0);
    }
  });

  /** Spec: CTAP 2.1 §6.2 getAssertion (allowList; no allowList → newest first) and §6.3 getNextAssertion. */
  it('fido_dev_get_assert with an allow list and discoverable, verified by fido_assert_verify', async ({ expect }) => {
    const { r } = await fido2('get_assert', { attestation: 'none' });
    const c = requireChecks(r, ['open', 'get_assert.ES256', 'get_assert.EdDSA', 'get_assert.discoverable']);
    for (const name of ['get_assert.ES256', 'get_assert.EdDSA']) {
      expect(c[name], name).toMatchObject({ count: 1, flags: { up: true, uv: false, at: false } });
      expect(c[name]!.signCount as number, name).toBeGreaterThan(c[name]!.makeCredentialSignCount as number);
    }
    expect(c['get_assert.discoverable']).toEqual({
      count: 3,
      // The driver creates users 01.., 02.., 03.. in that order.
      userOrder: ['03'.repeat(16), '02'.repeat(16), '01'.repeat(16)],
    });
  });

  /** Spec: CTAP 2.1 §6.1.2 step 7 — excludeList hit → CTAP2_ERR_CREDENTIAL_EXCLUDED. */
  it('fido_cred_exclude → FIDO_ERR_CREDENTIAL_EXCLUDED', async ({ expect }) => {
    const { r } = await fido2('exclude', { attestation: 'none' });
    const c = requireChecks(r, ['open', 'exclude.nonrk', 'exclude.rk']);
    expect(c['exclude.nonrk']!.result).toBe('FIDO_ERR_CREDENTIAL_EXCLUDED');
    expect(c['exclude.rk']!.result).toBe('FIDO_ERR_CREDENTIAL_EXCLUDED');
  });
});
