import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, faceProfile, fingerprintFaceProfile, fingerprintProfile, pinlessProfile, type Profile } from '../profile.ts';
import { decodeState, encodeState } from '../state.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import { createTestEnv, createTestRequest, ctapCall, makeCredentialParams } from '../../../test/helpers/testEnv.ts';

const INFO = CtapCommand.authenticatorGetInfo;

describe('authenticatorGetInfo (CTAP 2.1 §6.4)', () => {
  it('answers at once (no touch, no keepalive) with exactly the implemented capabilities, canonically encoded', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env });
    const req = createTestRequest();
    const r = await ctapCall(auth, INFO, undefined, req); // ctapCall decodes strictly: canonical or it throws
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(t.presence.requests).toHaveLength(0);
    expect(req.keepalives).toEqual([]);
    const m = r.body!;
    // 0x0C forcePINChange, 0x0D minPINLength and 0x1D maxPINLength come with clientPin; no UV keys (0x11, 0x12, 0x17);
    // 0x0B maxSerializedLargeBlobArray with largeBlobs, 0x10 maxRPIDsForSetMinPINLength with setMinPINLength.
    expect([...m.keys()]).toEqual([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x14, 0x1d]);
    // The prototype credential management command (0x41) is served beside 0x0A: FIDO_2_1_PRE is listed;
    // CTAP1/U2F is served over CTAPHID_MSG: U2F_V2.
    expect(m.get(0x01)).toEqual(['U2F_V2', 'FIDO_2_0', 'FIDO_2_1_PRE', 'FIDO_2_1']);
    expect(m.get(0x03)).toEqual(defaultProfile.aaguid);
    const options = m.get(0x04) as Map<string, boolean>;
    // Canonical order: shorter keys first, then bytewise.
    expect([...options.entries()]).toEqual([
      ['ep', false],
      ['rk', true],
      ['up', true],
      ['plat', false],
      ['alwaysUv', false],
      ['credMgmt', true],
      ['authnrCfg', true],
      ['clientPin', false],
      ['largeBlobs', true],
      ['pinUvAuthToken', true],
      ['setMinPINLength', true],
      ['makeCredUvNotRqd', true],
      ['credentialMgmtPreview', true],
    ]);
    expect(m.get(0x05)).toBe(7609);
    expect(m.get(0x06)).toEqual([2, 1]);
    expect(m.get(0x07)).toBe(8);
    expect(m.get(0x08)).toBe(128);
    expect(m.get(0x09)).toEqual(['usb']);
    const algs = (m.get(0x0a) as Map<string, unknown>[]).map((a) => [...a.entries()]);
    expect(algs).toEqual([
      [['alg', -7], ['type', 'public-key']],
      [['alg', -8], ['type', 'public-key']],
    ]);
    expect(m.get(0x0c)).toBe(false);
    expect(m.get(0x0d)).toBe(4);
    expect(m.get(0x0e)).toBe(defaultProfile.firmwareVersion);
    // CTAP 2.1 §6.4: extensions (0x02) and, as credBlob is listed, maxCredBlobLength (0x0F, at least 32).
    expect(m.get(0x02)).toEqual(['credProtect', 'hmac-secret', 'hmac-secret-mc', 'credBlob', 'largeBlobKey', 'minPinLength']);
    expect(m.get(0x0f)).toBe(32);
    expect(m.get(0x0b)).toBe(defaultProfile.largeBlobs!.maxSerializedLargeBlobArray);
    expect(m.get(0x10)).toBe(defaultProfile.maxRPIDsForSetMinPINLength);
    expect(m.get(0x14)).toBe(defaultProfile.residentCredentialCapacity);
    expect(m.get(0x1d)).toBe(63);
  });

  it('a key without PIN or UV never advertises them: no clientPin, pinUvAuthToken or uv option, no pinUvAuthProtocols', async () => {
    const auth = await createAuthenticator({ env: createTestEnv().env, profile: pinlessProfile });
    const info = auth.info();
    expect(Object.keys(info.options).sort()).toEqual(['plat', 'rk', 'up']);
    expect(info.pinUvAuthProtocols).toBeUndefined();
    expect(info.minPINLength).toBeUndefined();
    expect(info.forcePINChange).toBeUndefined();
    // No PIN/UV auth protocol (no hmac-secret), no PIN policy (no minPinLength), no largeBlobs (no largeBlobKey).
    expect(info.extensions).toEqual(['credProtect', 'credBlob']);
    expect(info.maxCredBlobLength).toBe(32);
  });

  it('the default (PIN-only) key: clientPin follows the state, never a uv option (CTAP 2.1 §6.4: "MUST NOT")', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env });
    expect(auth.info().options.clientPin).toBe(false);
    expect(auth.info().options).not.toHaveProperty('uv');
    expect(auth.info().options).not.toHaveProperty('bioEnroll');
    expect(auth.info().uvModality).toBeUndefined();
    // A PIN set in the stored state (as setPIN would leave it) turns clientPin true; minPINLength/forcePINChange
    // are read from the state too.
    const s = decodeState(t.store.snapshot()!);
    const stored = encodeState({ ...s, pin: { hash: new Uint8Array(16), codePoints: 4 }, minPinLength: 6, forcePinChange: true });
    const t2 = createTestEnv({ stored });
    const info = (await createAuthenticator({ env: t2.env })).info();
    expect(info.options.clientPin).toBe(true);
    expect(info.minPINLength).toBe(6);
    expect(info.forcePINChange).toBe(true);
  });

  it('built-in UV profiles: uv / bioEnroll false until a template is enrolled; uvModality, preferredPlatformUvAttempts, uvCountSinceLastPinEntry', async () => {
    const fp = await createAuthenticator({ env: createTestEnv().env, profile: fingerprintProfile });
    let info = fp.info();
    expect(info.options).toMatchObject({ clientPin: false, pinUvAuthToken: true, uv: false, bioEnroll: false, alwaysUv: false });
    expect(info.uvModality).toBe(0x02);
    expect(info.preferredPlatformUvAttempts).toBe(3);
    expect(info.uvCountSinceLastPinEntry).toBe(0);
    // The preview bioEnrollment command (0x40) is served, so FIDO_2_1_PRE and userVerificationMgmtPreview are listed.
    expect(info.versions).toEqual(['U2F_V2', 'FIDO_2_0', 'FIDO_2_1_PRE', 'FIDO_2_1']);
    expect(info.options.userVerificationMgmtPreview).toBe(false);
    await fp.enrollTemplate({ modality: 'fingerprint' });
    info = fp.info();
    expect(info.options).toMatchObject({ uv: true, bioEnroll: true, userVerificationMgmtPreview: true });

    const face = await createAuthenticator({ env: createTestEnv().env, profile: faceProfile });
    info = face.info();
    expect(info.uvModality).toBe(0x10);
    expect(info.options.uv).toBe(false);
    expect(info.options).not.toHaveProperty('bioEnroll');
    expect(info.options).not.toHaveProperty('userVerificationMgmtPreview');
    expect(info.options).toMatchObject({ uvAcfg: true, credentialMgmtPreview: true }); // 0x41 is served: FIDO_2_1_PRE
    expect(info.versions).toEqual(['U2F_V2', 'FIDO_2_0', 'FIDO_2_1_PRE', 'FIDO_2_1']);
    await face.enrollTemplate({ modality: 'face' });
    expect(face.info().options.uv).toBe(true);

    const both = await createAuthenticator({ env: createTestEnv().env, profile: fingerprintFaceProfile });
    expect(both.info().uvModality).toBe(0x12);
  });

  it('remainingDiscoverableCredentials follows the store; info() and the wire agree', async () => {
    const profile: Profile = { ...defaultProfile, residentCredentialCapacity: 3 };
    const auth = await createAuthenticator({ env: createTestEnv().env, profile });
    await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ options: { rk: true } }));
    expect(auth.info().remainingDiscoverableCredentials).toBe(2);
    expect((await ctapCall(auth, INFO)).body!.get(0x14)).toBe(2);
  });

  it('is generated from the profile (versions, algorithms, limits)', async () => {
    const profile: Profile = {
      ...defaultProfile,
      versions: ['FIDO_2_1'],
      u2f: false,
      algorithms: [-8],
      maxCredentialCountInList: 3,
      extensions: [],
    };
    const auth = await createAuthenticator({ env: createTestEnv().env, profile });
    const m = (await ctapCall(auth, INFO)).body!;
    expect(m.get(0x01)).toEqual(['FIDO_2_1_PRE', 'FIDO_2_1']); // + FIDO_2_1_PRE: credential management preview 0x41
    expect((m.get(0x0a) as Map<string, unknown>[]).map((a) => a.get('alg'))).toEqual([-8]);
    expect(m.get(0x07)).toBe(3);
  });

  it('parameters, if sent, must still be canonical CBOR', async () => {
    const auth = await createAuthenticator({ env: createTestEnv().env });
    expect((await auth.handleCbor(new Uint8Array([INFO, 0xa0]), createTestRequest().ctx))[0]).toBe(CtapStatus.CTAP2_OK);
    expect((await auth.handleCbor(new Uint8Array([INFO, 0xff]), createTestRequest().ctx))[0]).toBe(CtapStatus.CTAP2_ERR_INVALID_CBOR);
  });
});
