/**
 * The extension registry: what profiles may enable (checkProfileExtensions), getInfo's extensions (0x02) and
 * maxCredBlobLength (0x0F), and the outputs map when several extensions answer at once (canonical CBOR, ED).
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator/authenticator.ts';
import { defaultProfile, pinlessProfile, type Profile } from '../authenticator/profile.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, makeCredentialParams } from '../../test/helpers/testEnv.ts';
import { extensionOutputs } from '../../test/helpers/extensions.ts';
import { parseAuthData } from '../../test/helpers/webauthn.ts';
import { checkProfileExtensions, enabledExtensions, IMPLEMENTED_EXTENSIONS } from './registry.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const withExt = (p: Profile, extensions: string[], more: Partial<Profile> = {}): Profile => ({ ...p, name: 'test', extensions, ...more });

describe('extension registry', () => {
  it('the shipped profiles pass the checks; the PIN profile enables every implemented extension', () => {
    expect(() => checkProfileExtensions(defaultProfile)).not.toThrow();
    expect(() => checkProfileExtensions(pinlessProfile)).not.toThrow();
    expect([...enabledExtensions(defaultProfile)].sort()).toEqual([...IMPLEMENTED_EXTENSIONS].sort());
  });

  /** DESIGN.md: getInfo never advertises what the device cannot do; Chromium: credBlob ⇒ credProtect (B4.2). */
  it.each([
    ['an unknown extension', withExt(defaultProfile, ['credProtect', 'txAuthSimple'])],
    ['credBlob without credProtect', withExt(defaultProfile, ['credBlob'])],
    ['maxCredBlobLength below 32', withExt(defaultProfile, ['credProtect', 'credBlob'], { maxCredBlobLength: 31 })],
    ['hmac-secret without a PIN/UV auth protocol', withExt(pinlessProfile, ['hmac-secret'])],
    ['hmac-secret-mc without hmac-secret', withExt(defaultProfile, ['hmac-secret-mc'])],
    ['minPinLength without clientPin', withExt(pinlessProfile, ['minPinLength'])],
    ['largeBlobKey without authenticatorLargeBlobs', withExt(pinlessProfile, ['largeBlobKey'])],
    ['credBlob without rk', withExt(defaultProfile, ['credProtect', 'credBlob'], { options: { ...defaultProfile.options, rk: false } })],
  ])('rejects a profile with %s', async (_what, profile) => {
    expect(() => checkProfileExtensions(profile)).toThrow(TypeError);
    await expect(createAuthenticator({ env: createTestEnv().env, profile })).rejects.toThrow(TypeError);
  });

  /** CTAP 2.1 §6.4: maxCredBlobLength (0x0F) is present iff credBlob is listed. */
  it('getInfo lists the enabled extensions; maxCredBlobLength only with credBlob', async () => {
    const withBlob = await createAuthenticator({ env: createTestEnv().env, profile: withExt(defaultProfile, ['credProtect', 'credBlob'], { maxCredBlobLength: 48 }) });
    expect(withBlob.info().extensions).toEqual(['credProtect', 'credBlob']);
    expect(withBlob.info().maxCredBlobLength).toBe(48);
    const without = await createAuthenticator({ env: createTestEnv().env, profile: withExt(defaultProfile, ['credProtect', 'hmac-secret']) });
    expect(without.info().maxCredBlobLength).toBeUndefined();
    const none = await createAuthenticator({ env: createTestEnv().env, profile: withExt(defaultProfile, []) });
    const r = await ctapCall(none, CtapCommand.authenticatorGetInfo);
    expect(r.body!.has(0x02)).toBe(false);
    expect(r.body!.has(0x0f)).toBe(false);
  });

  /** CTAP 2.1 §6.1.2 step 15: outputs ⊆ inputs, unknown inputs ignored, one canonical CBOR map, ED set. */
  it('several outputs at once: canonical key order, only requested keys, unknown inputs ignored', async () => {
    const auth = await createAuthenticator({ env: createTestEnv().env });
    const ext = new Map<string, unknown>([
      ['minPinLength', true], // not authorised for this RP: no output
      ['hmac-secret', true],
      ['credBlob', new Uint8Array([1])],
      ['credProtect', 2],
      ['unknownExt', { a: 1 }],
    ]);
    const r = await ctapCall(auth, MC, makeCredentialParams({ options: { rk: true }, extra: [[6, ext]] }));
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    const authData = r.body!.get(2) as Uint8Array;
    expect(parseAuthData(authData).ed).toBe(true);
    // extensionOutputs decodes strictly: a non-canonical map would throw. Order: "credBlob" (8) < 11-byte keys.
    expect([...extensionOutputs(authData)!.entries()]).toEqual([
      ['credBlob', true],
      ['credProtect', 2],
      ['hmac-secret', true],
    ]);
  });
});
