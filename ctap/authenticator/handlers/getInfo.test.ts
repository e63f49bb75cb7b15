import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, type Profile } from '../profile.ts';
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
    expect([...m.keys()]).toEqual([0x01, 0x03, 0x04, 0x05, 0x07, 0x08, 0x09, 0x0a, 0x0e, 0x14]);
    expect(m.get(0x01)).toEqual(['FIDO_2_0', 'FIDO_2_1']);
    expect(m.get(0x03)).toEqual(defaultProfile.aaguid);
    const options = m.get(0x04) as Map<string, boolean>;
    expect([...options.entries()]).toEqual([
      ['rk', true],
      ['up', true],
      ['plat', false],
    ]);
    expect(m.get(0x05)).toBe(7609);
    expect(m.get(0x07)).toBe(8);
    expect(m.get(0x08)).toBe(128);
    expect(m.get(0x09)).toEqual(['usb']);
    const algs = (m.get(0x0a) as Map<string, unknown>[]).map((a) => [...a.entries()]);
    expect(algs).toEqual([
      [['alg', -7], ['type', 'public-key']],
      [['alg', -8], ['type', 'public-key']],
    ]);
    expect(m.get(0x0e)).toBe(defaultProfile.firmwareVersion);
    expect(m.get(0x14)).toBe(defaultProfile.residentCredentialCapacity);
  });

  it('never advertises PIN/UV: no clientPin, pinUvAuthToken or uv option, no pinUvAuthProtocols, no extensions', async () => {
    const auth = await createAuthenticator({ env: createTestEnv().env });
    const info = auth.info();
    expect(Object.keys(info.options).sort()).toEqual(['plat', 'rk', 'up']);
    expect(info.pinUvAuthProtocols).toBeUndefined();
    expect(info.extensions).toEqual([]);
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
      versions: ['FIDO_2_0'],
      algorithms: [-8],
      maxCredentialCountInList: 3,
      extensions: [],
    };
    const auth = await createAuthenticator({ env: createTestEnv().env, profile });
    const m = (await ctapCall(auth, INFO)).body!;
    expect(m.get(0x01)).toEqual(['FIDO_2_0']);
    expect((m.get(0x0a) as Map<string, unknown>[]).map((a) => a.get('alg'))).toEqual([-8]);
    expect(m.get(0x07)).toBe(3);
  });

  it('parameters, if sent, must still be canonical CBOR', async () => {
    const auth = await createAuthenticator({ env: createTestEnv().env });
    expect((await auth.handleCbor(new Uint8Array([INFO, 0xa0]), createTestRequest().ctx))[0]).toBe(CtapStatus.CTAP2_OK);
    expect((await auth.handleCbor(new Uint8Array([INFO, 0xff]), createTestRequest().ctx))[0]).toBe(CtapStatus.CTAP2_ERR_INVALID_CBOR);
  });
});
