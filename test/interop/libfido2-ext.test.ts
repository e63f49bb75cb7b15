/**
 * Interop: Yubico libfido2 1.12 (Debian libfido2-dev) against an in-process vfido device over UDP, for the
 * CTAP 2.1 features of issue 4 (test/interop/libfido2/driver_ext.c): fido_credman_* (which libfido2 1.12
 * sends as the preview command 0x41), fido_dev_largeblob_*, the authenticatorConfig calls, hmac-secret and
 * credProtect on make_cred / get_assert, and CTAP1/U2F through fido_dev_force_u2f. libfido2 does the key
 * agreement, tokens with permissions, every pinUvAuthParam, the salt encryption and large-blob encryption;
 * every new credential is checked with fido_cred_verify, which also compares the authData extension outputs
 * with what libfido2 asked for. Device errors are reported as libfido2 codes = CTAP status bytes.
 * Missing packages fail these tests: run `bash scripts/setup-system.sh`.
 */
import { describe, it } from 'vitest';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { libfido2Runner, requireChecks } from './helpers.ts';

const fido2 = libfido2Runner<'credman' | 'largeblob' | 'config' | 'hmac' | 'credprot' | 'u2f'>();

const OK = 0; // FIDO_OK
const FIDO_ERR_NOTFOUND = -10; // libfido2: no large blob for this key
const {
  CTAP2_ERR_NO_CREDENTIALS: NO_CREDENTIALS,
  CTAP2_ERR_PIN_INVALID: PIN_INVALID,
  CTAP2_ERR_PUAT_REQUIRED: PUAT_REQUIRED,
  CTAP2_ERR_PIN_POLICY_VIOLATION: PIN_POLICY_VIOLATION,
  CTAP2_ERR_CREDENTIAL_EXCLUDED: CREDENTIAL_EXCLUDED,
} = CtapStatus;
/** driver_ext.c found(): bit (level − 1) per credProtect level found; a negative value is −(error code). */
const LEVEL = { 1: 1, 2: 2, 3: 4 } as const;

describe.concurrent('libfido2 CTAP 2.1 management commands over UDP', () => {
  /**
   * Spec: CTAP 2.1 §6.8 / §6.13 (0x41) credential management through fido_credman_*: metadata, RPs with
   * rpIDHash = SHA-256(rp.id), credentials with user, ID, public key and credProtect (0x0A),
   * updateUserInformation, deleteCredential.
   */
  it('fido_credman_*: metadata, RPs, resident keys, update, delete', async ({ expect }) => {
    const { d, r } = await fido2('credman');
    const capacity = d.profile.residentCredentialCapacity;
    const c = requireChecks(r, ['credman.setup', 'credman.metadata', 'credman.rp', 'credman.rk', 'credman.update', 'credman.delete']);
    expect(c['credman.setup']).toEqual({ supportsCredman: true });
    expect(c['credman.metadata']).toEqual({ metadata: { existing: 3, remaining: capacity - 3 }, wrongPin: PIN_INVALID });
    expect(c['credman.rp']).toMatchObject({ count: 2, sawBoth: true });
    expect(c['credman.rk']).toEqual({ count: 2, credProtect: [1, 2] });
    expect(c['credman.update']).toEqual({ name: 'ann.new', displayName: 'Ann New' });
    expect(c['credman.delete']).toEqual({
      metadataAfter: { existing: 2, remaining: capacity - 2 },
      leftForRpA: 1,
      assertWithDeleted: NO_CREDENTIALS,
      deleteAgain: NO_CREDENTIALS,
      rpsAfterDeletingB: 1,
    });
  });

  /**
   * Spec: CTAP 2.1 §6.10 authenticatorLargeBlobs and §12.3 largeBlobKey through fido_dev_largeblob_*: libfido2
   * reads and writes the whole array in fragments of min(maxMsgSize, 2048) − 64 bytes (`length` only at
   * offset 0, the trailing hash as its own last fragment) with an lbw token.
   */
  it('fido_dev_largeblob_*: keys, set / get (one blob over several fragments), remove, wrong PIN', async ({ expect }) => {
    const { d, r } = await fido2('largeblob');
    const c = requireChecks(r, ['largeblob.setup', 'largeblob.initial', 'largeblob.set_get', 'largeblob.remove']);
    expect(c['largeblob.setup']).toEqual({
      maxLargeBlob: d.profile.largeBlobs?.maxSerializedLargeBlobArray,
      largeBlobs: true,
      keyLength: 32,
      distinct: true,
      assertionKeyMatches: true,
    });
    expect(c['largeblob.initial']).toEqual({ get: FIDO_ERR_NOTFOUND, array: '80' });
    const setGet = c['largeblob.set_get']!;
    expect(setGet).toMatchObject({
      getSmall: OK,
      smallMatches: true,
      bigLength: 3000,
      getBig: OK,
      bigMatches: true,
      smallStillMatches: true,
      wrongPin: PIN_INVALID,
    });
    const fragment = Math.min(d.profile.maxMsgSize, 2048) - 64;
    expect(setGet.arrayLength as number).toBeGreaterThan(fragment);
    expect(setGet.arrayLength as number).toBeLessThanOrEqual(d.profile.largeBlobs!.maxSerializedLargeBlobArray);
    expect(c['largeblob.remove']).toEqual({ getRemoved: FIDO_ERR_NOTFOUND, getOther: OK, removeAgain: FIDO_ERR_NOTFOUND });
  });

  /**
   * Spec: CTAP 2.1 §6.11 through libfido2's config API: enableEnterpriseAttestation (ep), toggleAlwaysUv
   * (alwaysUv / makeCredUvNotRqd, PUAT_REQUIRED without a PIN), setMinPINLength (forcePINChange,
   * PIN_POLICY_VIOLATION until changed, no decrease), forceChangePin, minPinLengthRPIDs + §12.4 minPinLength.
   */
  it('fido_dev_enable_entattest / toggle_always_uv / set_pin_minlen / force_pin_change / set_pin_minlen_rpid', async ({ expect }) => {
    const { d, r } = await fido2('config');
    const c = requireChecks(r, ['config.info', 'config.entattest', 'config.always_uv', 'config.min_pin_length', 'config.force_change', 'config.min_pin_length_rpid']);
    expect(c['config.info']).toEqual({
      authnrCfg: true,
      setMinPINLength: true,
      alwaysUv: false,
      ep: false,
      maxRpidsForSetMinPinLength: d.profile.maxRPIDsForSetMinPINLength,
    });
    const min = d.profile.pin!.minPinLength;
    // info_option(): 1 true, 0 false, -1 absent.
    const state = (s: { alwaysUv: number; makeCredUvNotRqd: number; minPinLength: number; forcePinChange: boolean }) => ({ ep: 1, ...s });
    expect(c['config.entattest']).toEqual({ wrongPin: PIN_INVALID, after: state({ alwaysUv: 0, makeCredUvNotRqd: 1, minPinLength: min, forcePinChange: false }) });
    expect(c['config.always_uv']).toEqual({
      on: state({ alwaysUv: 1, makeCredUvNotRqd: 0, minPinLength: min, forcePinChange: false }),
      makeCredWithoutPin: PUAT_REQUIRED,
      getAssertWithoutPin: PUAT_REQUIRED,
      withPinFlags: { up: true, uv: true, at: false, raw: 0x05 },
      off: state({ alwaysUv: 0, makeCredUvNotRqd: 1, minPinLength: min, forcePinChange: false }),
      getAssertWithoutPinAfter: OK,
    });
    expect(c['config.min_pin_length']).toEqual({
      after: state({ alwaysUv: 0, makeCredUvNotRqd: 1, minPinLength: 8, forcePinChange: true }),
      makeCredBeforeChange: PIN_POLICY_VIOLATION,
      changeToSeven: PIN_POLICY_VIOLATION,
      changed: state({ alwaysUv: 0, makeCredUvNotRqd: 1, minPinLength: 8, forcePinChange: false }),
      makeCredAfterChange: OK,
      lowerTo4: PIN_POLICY_VIOLATION,
    });
    expect(c['config.force_change']).toEqual({
      after: state({ alwaysUv: 0, makeCredUvNotRqd: 1, minPinLength: 8, forcePinChange: true }),
      changed: state({ alwaysUv: 0, makeCredUvNotRqd: 1, minPinLength: 8, forcePinChange: false }),
    });
    // authdata_ext(): the minPinLength output, -1 when absent; fido_cred_verify agrees with what was asked.
    expect(c['config.min_pin_length_rpid']).toEqual({ listed: 8, listedVerify: OK, other: -1 });
  });
});

describe.concurrent('libfido2 extensions and U2F over UDP', () => {
  /**
   * Spec: CTAP 2.1 §12.5 hmac-secret through FIDO_EXT_HMAC_SECRET and fido_assert_set_hmac_salt (32 and 64
   * bytes), without and with a PIN (UV → CredRandomWithUV). libfido2 uses the device's preferred PIN/UV
   * protocol: 2 on 'ctap21', 1 on 'ctap20' (where it omits the hmac-secret pinUvAuthProtocol member).
   */
  it.for([
    ['ctap21', [2, 1]],
    ['ctap20', [1]],
  ] as const)('hmac-secret on %s (pinUvAuthProtocols %j): salts, UV and no-UV secrets', async ([profile, protocols], { expect }) => {
    const { d, r } = await fido2('hmac', { profile });
    expect(d.profile.pin?.protocols).toEqual(protocols);
    const c = requireChecks(r, ['hmac.create', 'hmac.no_uv', 'hmac.uv', 'hmac.no_uv_after_pin']);
    expect(c['hmac.create']).toEqual({ pinUvAuthProtocols: protocols, hmacSecret: 1 });
    const round = (uv: boolean) => ({
      flags: { up: true, uv, at: false, raw: uv ? 0x85 : 0x81 },
      outputLength: 32,
      twoSaltOutputLength: 64,
      sameSaltSameOutput: true,
      otherSaltOtherOutput: true,
      twoSalts: true,
    });
    expect(c['hmac.no_uv']).toEqual(round(false));
    expect(c['hmac.uv']).toEqual({ ...round(true), differsFromNoUv: true });
    expect(c['hmac.no_uv_after_pin']).toEqual({ flags: round(false).flags, sameAsBeforePin: true });
  });

  /**
   * Spec: CTAP 2.1 §12.1 credProtect through fido_cred_set_prot: level 1 always found, level 2 without UV
   * only through the allow list, level 3 only with UV; hmac-secret on the level-3 credential needs the PIN too.
   */
  it('credProtect levels 1..3 (fido_cred_set_prot) with and without a PIN / allow list, + hmac-secret', async ({ expect }) => {
    const { r } = await fido2('credprot');
    const c = requireChecks(r, ['credprot.create', 'credprot.assert', 'credprot.hmac_level3']);
    expect(c['credprot.create']).toEqual({ supportsCredProt: true, credProtect: [1, 2, 3], hmacSecret: [-1, -1, 1], verify: [OK, OK, OK] });
    expect(c['credprot.assert']).toEqual({
      noUvDiscoverable: LEVEL[1],
      noUvAllowLevel2: LEVEL[2],
      noUvAllowLevel3: -NO_CREDENTIALS,
      uvDiscoverable: LEVEL[1] | LEVEL[2] | LEVEL[3],
      uvAllowLevel3: LEVEL[3],
      noUvFlagsClear: true,
      uvFlagsSet: true,
    });
    expect(c['credprot.hmac_level3']).toEqual({ withoutPin: NO_CREDENTIALS, outputLength: 32, flags: { up: true, uv: true, at: false, raw: 0x85 } });
  });

  /**
   * Spec: FIDO U2F Raw Message Formats v1.2 and CTAP 2.1 §10 (platform mapping) through libfido2's U2F path
   * (fido_dev_force_u2f): REGISTER → fido-u2f attestation (zero AAGUID, fido_cred_verify against its x5c),
   * the exclude list as check-only AUTHENTICATE → CREDENTIAL_EXCLUDED, AUTHENTICATE → fido_assert_verify with a
   * rising counter; on a CTAP2 profile the same key handle in a CTAP2 getAssertion.
   */
  it.for(['u2f', 'ctap20', 'ctap21'])('profile %s: fido_dev_force_u2f make_cred / get_assert, fido_assert_verify', async (profile, { expect }) => {
    const { d, r } = await fido2('u2f', { profile });
    const cbor = d.profile.versions.some((v) => v.startsWith('FIDO_2'));
    const c = requireChecks(r, ['u2f.open', 'u2f.make_cred', 'u2f.get_assert', ...(cbor ? ['u2f.ctap2_get_assert'] : [])]);
    expect(c['u2f.open']).toMatchObject({ fido2BeforeForce: cbor, fido2AfterForce: false });
    expect(c['u2f.make_cred']).toMatchObject({
      fmt: 'fido-u2f',
      flags: { up: true, uv: false, at: true },
      aaguid: '00'.repeat(16),
      verifiedBy: 'fido_cred_verify',
      excluded: CREDENTIAL_EXCLUDED,
    });
    expect(c['u2f.get_assert']).toMatchObject({ flags: { up: true, uv: false, at: false, raw: 0x01 }, otherRp: NO_CREDENTIALS });
    const [first, second] = c['u2f.get_assert']!.signCounts as number[];
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first!);
    if (cbor) {
      expect(c['u2f.ctap2_get_assert']).toMatchObject({ fido2: true, flags: { up: true, uv: false, at: false, raw: 0x01 } });
      // One signature counter for U2F and CTAP2.
      expect(c['u2f.ctap2_get_assert']!.signCount as number).toBeGreaterThan(second!);
    }
  });
});
