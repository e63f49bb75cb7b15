/**
 * Interop: python-fido2 0.9.1 (Debian python3-fido2) against an in-process vfido device over UDP, for the
 * CTAP 2.1 features of issue 4: CredentialManagement, LargeBlobs and Config (python-fido2 computes every
 * pinUvAuthParam, with PIN/UV protocol 1 and 2), the extensions hmac-secret / credBlob / credProtect through
 * python-fido2's client extension classes, and CTAP1/U2F through its Ctap1 class on the U2F-capable profiles
 * (test/interop/python/{credman,largeblobs,config,extensions,u2f}.py). Each test starts its own device, so
 * tests run concurrently. Missing packages fail these tests: run `bash scripts/setup-system.sh`.
 */
import { describe, it } from 'vitest';
import { python, requireChecks, withPythonDevice as withDevice } from './helpers.ts';

const PROTOCOLS = [1, 2] as const;
/** ISO 7816 / U2F Raw Message Formats v1.2 §3.3 status words, as python-fido2's ApduError.code. */
const SW = { OK: 0x9000, CONDITIONS_NOT_SATISFIED: 0x6985, COMMAND_NOT_ALLOWED: 0x6986, WRONG_DATA: 0x6a80, INS: 0x6d00, CLA: 0x6e00 };

describe.concurrent('python-fido2 CTAP 2.1 management commands over UDP', () => {
  /**
   * Spec: CTAP 2.1 §6.8 authenticatorCredentialManagement: getCredsMetadata, enumerateRPs(Begin/GetNextRP),
   * enumerateCredentials(Begin/GetNextCredential), deleteCredential, updateUserInformation; pinUvAuthParam
   * over subCommand || subCommandParams with a cm token (§6.5.5.7 permissions RP ID rules); §6.13 the
   * FIDO_2_1_PRE command 0x41.
   */
  it.for(PROTOCOLS)('protocol %i: CredentialManagement metadata, enumerate, update, delete, authorization', async (protocol, { expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const capacity = d.profile.residentCredentialCapacity;
      const r = await python('credman', d, '--protocol', String(protocol));
      const c = requireChecks(r, [
        'cm.setup',
        'cm.metadata',
        'cm.enumerate_rps',
        'cm.enumerate_creds',
        'cm.update_user',
        'cm.delete',
        'cm.authorization',
        'cm.preview',
      ]);
      expect(c['cm.metadata']).toEqual({ existing: 3, remaining: capacity - 3 });
      expect(c['cm.enumerate_rps']).toEqual({ count: 2, totalRPs: 2, names: ['RP Alpha', 'RP Beta'], nextAfterLast: 'NOT_ALLOWED' });
      // credProtect (0x0A) as made: a1 without the extension (level 1), a2 with level 2.
      expect(c['cm.enumerate_creds']).toEqual({ count: 2, totalCredentials: 2, credProtect: { a1: 1, a2: 2 }, unknownRp: [] });
      expect(c['cm.update_user']).toMatchObject({
        enumerated: { name: 'ann.new', displayName: 'Ann New' },
        assertionUser: { name: 'ann.new', displayName: 'Ann New' },
        otherUserId: 'INVALID_PARAMETER',
      });
      expect(c['cm.delete']).toEqual({
        existingAfter: 2,
        remainingAfter: capacity - 2,
        leftForRpA: 1,
        assertionWithDeleted: 'NO_CREDENTIALS',
        deleteAgain: 'NO_CREDENTIALS',
        rpsAfterDeletingB: 1,
      });
      expect(c['cm.authorization']).toEqual({
        withoutPinUvAuthParam: 'PUAT_REQUIRED',
        tokenWithoutCm: 'PIN_AUTH_INVALID',
        boundOwnRp: 1,
        boundOtherRp: 'PIN_AUTH_INVALID',
        boundMetadata: 'PIN_AUTH_INVALID',
        boundEnumerateRps: 'PIN_AUTH_INVALID',
      });
      // libfido2 1.12 only speaks 0x41, so the default profile serves it: python-fido2 sees the same store there.
      expect(c['cm.preview']).toEqual({ served: true, existing: 1, rps: 1 });
      expect(c['cm.setup']!.versions).toContain('FIDO_2_1_PRE');
    });
  });

  /**
   * Spec: CTAP 2.1 §6.10 authenticatorLargeBlobs (get / set, offset, length, the trailing LEFT(SHA-256, 16),
   * INTEGRITY_FAILURE leaves the array unchanged, pinUvAuthParam over 32×0xFF || 0x0C 0x00 || offset ||
   * SHA-256(set) with an lbw token); §12.3 largeBlobKey (makeCredential member 0x05, getAssertion 0x07).
   */
  it.for(PROTOCOLS)('protocol %i: LargeBlobs put / get / delete with largeBlobKey, authorization, integrity', async (protocol, { expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const r = await python('largeblobs', d, '--protocol', String(protocol));
      const c = requireChecks(r, ['lb.info', 'lb.keys', 'lb.initial', 'lb.authorization', 'lb.put_get_delete', 'lb.integrity']);
      expect(c['lb.info']).toMatchObject({ largeBlobs: true, maxSerializedLargeBlobArray: d.profile.largeBlobs?.maxSerializedLargeBlobArray });
      expect(c['lb.keys']).toEqual({ keyLength: 32, distinct: true, assertionKeyMatches: true });
      // CTAP 2.1 §6.10.2: the initial serialized array is 0x80 || LEFT(SHA-256(0x80), 16).
      expect(c['lb.initial']).toEqual({ array: [], raw: '8076be8b528d0075f7aae98d6fa57a6d3c' });
      expect(c['lb.authorization']).toEqual({ withoutToken: 'PUAT_REQUIRED', withoutLbwPermission: 'PIN_AUTH_INVALID' });
      expect(c['lb.put_get_delete']).toEqual({ entriesWithBoth: 2, entriesAfterDelete: 1, blob2Intact: true });
      expect(c['lb.integrity']).toEqual({ wrongHash: 'INTEGRITY_FAILURE', arrayUnchanged: true });
    });
  });

  /**
   * Spec: CTAP 2.1 §6.11 authenticatorConfig: enableEnterpriseAttestation (§7.1; makeCredential
   * enterpriseAttestation → epAtt), toggleAlwaysUv (§6.4 alwaysUv, makeCredUvNotRqd false while on; CTAP1
   * disabled without built-in UV), setMinPINLength (forcePINChange, no decrease, minPinLengthRPIDs with the
   * §12.4 minPinLength extension); pinUvAuthParam over 32×0xFF || 0x0D || subCommand || params with acfg.
   */
  it.for(PROTOCOLS)('protocol %i: Config enterprise attestation, alwaysUv, minimum PIN length', async (protocol, { expect }) => {
    await withDevice({}, async (d) => {
      const r = await python('config', d, '--protocol', String(protocol));
      const c = requireChecks(r, [
        'cfg.info',
        'cfg.min_length_before_pin',
        'cfg.authorization',
        'cfg.enterprise_attestation',
        'cfg.always_uv',
        'cfg.min_pin_length',
        'cfg.force_change',
        'cfg.min_pin_length_rpids',
      ]);
      expect(c['cfg.info']).toEqual({
        options: { authnrCfg: true, setMinPINLength: true, alwaysUv: false, makeCredUvNotRqd: true, ep: false },
        minPinLength: d.profile.pin?.minPinLength,
        maxRpidsForSetMinPinLength: d.profile.maxRPIDsForSetMinPINLength,
      });
      expect(c['cfg.min_length_before_pin']).toEqual({ minPinLength: 6, fourCharacterPin: 'PIN_POLICY_VIOLATION', sixCharacterPin: 'OK' });
      expect(c['cfg.authorization']).toEqual({ withoutToken: 'PUAT_REQUIRED', tokenWithoutAcfg: 'PIN_AUTH_INVALID' });
      // Platform-managed EA (2): the device's own attestation (x5c chained to its CA by python-fido2), epAtt true.
      expect(c['cfg.enterprise_attestation']).toMatchObject({
        beforeEnable: 'INVALID_PARAMETER',
        ep: true,
        epAtt: true,
        attestation: { fmt: 'packed', attestationType: 'BASIC' },
        enableAgain: 'OK',
      });
      expect(c['cfg.always_uv']).toEqual({
        on: { alwaysUv: true, makeCredUvNotRqd: false },
        makeCredentialWithoutUv: 'PUAT_REQUIRED',
        getAssertionWithoutUv: 'PUAT_REQUIRED',
        getAssertionWithToken: 'OK',
        off: { alwaysUv: false, makeCredUvNotRqd: true },
        getAssertionWithoutUvAfter: 'OK',
        u2fRegisterWhileOn: SW.COMMAND_NOT_ALLOWED,
        // Non-blocking U2F presence: the first REGISTER may only start the touch window.
        u2fRegisterAfter: expect.toBeOneOf([SW.OK, SW.CONDITIONS_NOT_SATISFIED]),
        u2fVersionWhileOn: false,
        u2fVersionAfter: true,
      });
      expect(c['cfg.min_pin_length']).toEqual({
        minPinLength: 8,
        forcePinChange: true,
        tokenBeforeChange: 'PIN_POLICY_VIOLATION',
        changeToSeven: 'PIN_POLICY_VIOLATION',
        changeToEight: 'OK',
        forcePinChangeAfter: false,
        tokenAfterChange: 'OK',
        lowerTo4: 'PIN_POLICY_VIOLATION',
      });
      expect(c['cfg.force_change']).toEqual({ forcePinChange: true, minPinLength: 8, tokenBeforeChange: 'PIN_POLICY_VIOLATION', forcePinChangeAfter: false });
      expect(c['cfg.min_pin_length_rpids']).toEqual({ listed: { minPinLength: 8 }, other: null });
    });
  });
});

describe.concurrent('python-fido2 extensions and U2F over UDP', () => {
  /**
   * Spec: CTAP 2.1 §12.5 hmac-secret (CredRandomWithUV ≠ CredRandomWithoutUV, salts encrypted with the
   * PIN/UV protocol's shared secret: both protocols give the same output), §12.2 credBlob (≤
   * maxCredBlobLength stored, else false; getCredBlob returns it, empty if none), §12.1 credProtect (level 2
   * only through the allowList without UV, level 3 only with UV).
   */
  it('hmac-secret (protocols 1 and 2, without and with UV), credBlob, credProtect levels', async ({ expect }) => {
    await withDevice({ attestation: 'none' }, async (d) => {
      const r = await python('extensions', d);
      const c = requireChecks(r, [
        'ext.info',
        'ext.hmac_create',
        'ext.hmac_no_uv',
        'ext.cred_blob',
        'ext.set_pin',
        'ext.hmac_uv',
        'ext.hmac_no_uv_after_pin',
        'ext.hmac_uv_differs',
        'ext.cred_protect',
      ]);
      expect(c['ext.info']).toEqual({ extensions: d.profile.extensions, maxCredBlobLength: d.profile.maxCredBlobLength });
      expect(c['ext.hmac_create']).toMatchObject({
        clientOutput: { hmacCreateSecret: true },
        authDataExtensions: { 'hmac-secret': true },
        flags: { up: true, uv: false, at: true, ed: true },
      });
      const round = (uv: boolean) => ({ flags: { up: true, uv, ed: true }, sameSaltSameOutput: true, otherSaltOtherOutput: true, twoSalts: true });
      for (const [name, uv] of [['ext.hmac_no_uv', false], ['ext.hmac_uv', true]] as const) {
        expect(c[name]).toMatchObject({ protocol1: round(uv), protocol2: round(uv), protocolsAgree: true });
      }
      expect(c['ext.hmac_no_uv_after_pin']).toMatchObject({ flags: { uv: false }, sameAsBeforePin: true });
      expect(c['ext.hmac_uv_differs']).toEqual({ uvDiffersFromNoUv: true });
      expect(c['ext.cred_blob']).toEqual({
        blobLength: d.profile.maxCredBlobLength,
        stored: true,
        returnedMatches: true,
        withoutBlobLength: 0,
        tooLong: false,
      });
      expect(c['ext.cred_protect']).toEqual({
        created: { 1: 1, 2: 2, 3: 3 },
        noUvDiscoverable: [1],
        noUvAllowLevel2: [2],
        noUvAllowLevel3: 'NO_CREDENTIALS',
        uvDiscoverable: [1, 2, 3],
        uvAllowLevel3: [3],
      });
    });
  });

  /**
   * Spec: FIDO U2F Raw Message Formats v1.2 (REGISTER, AUTHENTICATE enforce / check-only, VERSION) over
   * CTAPHID_MSG (CTAP 2.1 §11.2.9.1.1, NMSG clear); fido-u2f attestation (WebAuthn §8.6); CTAP 2.1 §10: a U2F
   * key handle is a non-discoverable credential for the rpId whose SHA-256 is the application parameter,
   * sharing the signature counter. 'u2f': CTAPHID_CBOR → CTAPHID ERROR INVALID_CMD (§11.2.9.2.1), python-fido2's
   * Fido2Client falls back to CTAP1.
   */
  it.for(['ctap21', 'ctap20', 'u2f'])('profile %s: U2F register / authenticate through Ctap1', async (profile, { expect }) => {
    await withDevice({ profile }, async (d) => {
      expect(d.profile.u2f).toBe(true);
      const cbor = d.profile.versions.some((v) => v.startsWith('FIDO_2'));
      const r = await python('u2f', d, ...(cbor ? ['--expect-cbor'] : []));
      const c = requireChecks(r, [
        'u2f.capabilities',
        'u2f.version',
        'u2f.register',
        'u2f.authenticate',
        'u2f.check_only',
        'u2f.bad_apdus',
        ...(cbor ? ['u2f.ctap2_get_assertion'] : ['u2f.no_cbor', 'u2f.client_fallback']),
      ]);
      expect(c['u2f.capabilities']).toMatchObject({ cbor, nmsg: false });
      expect(c['u2f.version']).toEqual({ version: 'U2F_V2' });
      expect(c['u2f.register']).toMatchObject({ publicKeyLength: 65, attestationType: 'BASIC', chainedToCa: true });
      expect(c['u2f.authenticate']).toMatchObject({ userPresence: 1 });
      expect(c['u2f.check_only']).toEqual({
        ownHandle: SW.CONDITIONS_NOT_SATISFIED,
        otherApplication: SW.WRONG_DATA,
        bogusHandle: SW.WRONG_DATA,
        signOtherApplication: SW.WRONG_DATA,
      });
      expect(c['u2f.bad_apdus']).toEqual({ unknownIns: SW.INS, claNotZero: SW.CLA });
      if (cbor) {
        expect(c['u2f.ctap2_get_assertion']).toMatchObject({
          versions: expect.arrayContaining(d.profile.versions),
          flags: { up: true, uv: false },
          otherRpId: 'NO_CREDENTIALS',
        });
        // One signature counter for both protocols.
        const { counter, u2fCounter } = c['u2f.ctap2_get_assertion'] as { counter: number; u2fCounter: number };
        expect(counter).toBeGreaterThan(u2fCounter);
      } else {
        expect(c['u2f.no_cbor']).toEqual({ cborCommand: 'CTAPHID_ERR_INVALID_COMMAND', ctap2: 'Device does not support CTAP2.' });
        expect(c['u2f.client_fallback']).toMatchObject({ fmt: 'fido-u2f' });
      }
    });
  });
});
