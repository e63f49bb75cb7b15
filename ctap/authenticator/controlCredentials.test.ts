/**
 * Credential injection through authenticator.control: chosen IDs (unique, within maxCredentialIdLength),
 * server-side records (persisted, counters in the counter map, wiped by reset), and WebDriver's largeBlob
 * written into the large-blob array the way a platform writes it. The array is read back with node:crypto
 * and node:zlib against CTAP 2.1 §6.10.3, not with vfido's reader.
 */
import { describe, expect, it } from 'vitest';
import { createDecipheriv } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { createAuthenticator } from './authenticator.ts';
import { pinlessProfile } from './profile.ts';
import { decodeState } from './state.ts';
import { decodeCanonical } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, getAssertionParams } from '../../test/helpers/testEnv.ts';
import { parseAuthData, sha256 } from '../../test/helpers/webauthn.ts';

const GA = 0x02;
const RP = 'example.com';
const user = { id: new Uint8Array([7]) };

async function setup() {
  const t = createTestEnv({ seed: 'control-credentials' });
  const auth = await createAuthenticator({ env: t.env, attestation: 'none' });
  return { t, auth };
}

function counterOf(auth: Awaited<ReturnType<typeof setup>>['auth'], id: Uint8Array): number | undefined {
  return auth.control.state().counters.get(Buffer.from(sha256(id)).toString('hex'));
}

describe('credential injection', () => {
  it('chosen IDs must fit maxCredentialIdLength and be unique (except for the discoverable record they replace)', async () => {
    const { auth } = await setup();
    const id = new Uint8Array([1, 2, 3]);
    await auth.control.addCredential({ rpId: RP, user, alg: -7, credentialId: id });
    await expect(auth.control.addCredential({ rpId: 'b.example', alg: -7, credentialId: id, discoverable: false })).rejects.toMatchObject({
      code: 'EMU_ERR_DUPLICATE_CREDENTIAL',
    });
    // Same (rpId, user.id) replaces the record, so its ID may be reused.
    await auth.control.addCredential({ rpId: RP, user, alg: -8, credentialId: id });
    expect(auth.control.credentials()).toMatchObject([{ discoverable: true, credential: { alg: -8 } }]);
    await expect(auth.control.addCredential({ rpId: RP, alg: -7, credentialId: new Uint8Array(129), discoverable: false })).rejects.toThrow(
      /^credentialId: expected 1 to 128 bytes/,
    );
    await expect(auth.control.addCredential({ rpId: RP, alg: -7, credentialId: new Uint8Array(0), discoverable: false })).rejects.toThrow(/^credentialId: /);
    await expect(auth.control.addCredential({ rpId: RP, alg: -7 })).rejects.toThrow(/^user: required for a discoverable credential/);
  });

  it('server-side records: persisted with their counter; listed apart; corrupt / remove keep the counter map in step; reset wipes them', async () => {
    const { t, auth } = await setup();
    const id = new Uint8Array([4, 4, 4]);
    const added = await auth.control.addCredential({ rpId: RP, alg: -7, credentialId: id, discoverable: false, signCount: 10, user: { id: new Uint8Array([1]) } });
    expect(added).toMatchObject({ discoverable: false, status: 'active', signCount: 10, credential: { rpId: RP, user: { id: new Uint8Array([1]) } } });
    const stored = decodeState(t.store.snapshot()!);
    expect(stored.serverSideCredentials).toHaveLength(1);
    expect(stored.residentCredentials).toHaveLength(0);
    expect(counterOf(auth, id)).toBe(10);

    await auth.control.setCounter(id, 3);
    expect(auth.control.credentials()).toMatchObject([{ discoverable: false, signCount: 3 }]);
    await expect(auth.control.corruptCredential(id, 'userId')).rejects.toMatchObject({ code: 'EMU_ERR_UNSUPPORTED' });
    const moved = await auth.control.corruptCredential(id, 'credentialId');
    const newId = moved.credential.credentialId;
    expect(newId).not.toEqual(id);
    expect(counterOf(auth, id)).toBeUndefined();
    expect(counterOf(auth, newId)).toBe(3);
    // The RP's ID is unknown now; the device signs under the new one, with the counter it had.
    expect((await ctapCall(auth, GA, getAssertionParams({ allowList: [id] }))).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    const a = await ctapCall(auth, GA, getAssertionParams({ allowList: [newId] }));
    expect(parseAuthData(a.body!.get(2) as Uint8Array).signCount).toBe(4);

    await auth.control.removeCredential(newId);
    expect(counterOf(auth, newId)).toBeUndefined();
    expect(auth.control.credentials()).toEqual([]);
    expect(decodeState(t.store.snapshot()!).serverSideCredentials).toBeUndefined();

    await auth.control.addCredential({ rpId: RP, alg: -7, discoverable: false });
    expect(auth.control.credentials()[0]!.credential.credentialId).toHaveLength(32); // minted
    await auth.control.factoryReset();
    expect(auth.control.credentials()).toEqual([]);
  });

  it('largeBlob: an entry a platform can decrypt with the largeBlobKey getAssertion returns (CTAP 2.1 §6.10.3)', async () => {
    const { auth } = await setup();
    const blob = Buffer.from('a large, per-credential blob '.repeat(8));
    const largeBlob = { compressed: new Uint8Array(deflateRawSync(blob)), origSize: blob.length };
    const id = new Uint8Array([5, 5]);
    await auth.control.addCredential({ rpId: RP, user, alg: -7, credentialId: id, largeBlob });

    const a = await ctapCall(auth, GA, getAssertionParams({ allowList: [id], extra: [[4, { largeBlobKey: true }]] }));
    expect(a.status).toBe(0);
    const key = a.body!.get(7) as Uint8Array;
    expect(key).toHaveLength(32);
    // The serialized array: CBOR array || LEFT(SHA-256(array), 16); the entry opens under the key.
    const serialized = auth.control.state().largeBlobArray;
    const body = serialized.subarray(0, serialized.length - 16);
    expect(Buffer.from(serialized.subarray(serialized.length - 16))).toEqual(Buffer.from(sha256(body).subarray(0, 16)));
    const [entry] = decodeCanonical(body) as Map<number, unknown>[];
    const ciphertext = entry!.get(1) as Uint8Array;
    const nonce = entry!.get(2) as Uint8Array;
    const origSize = entry!.get(3) as number;
    expect(origSize).toBe(blob.length);
    const aad = Buffer.alloc(12);
    aad.write('blob', 0, 'latin1');
    aad.writeBigUInt64LE(BigInt(origSize), 4);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(aad);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
    expect(inflateRawSync(plain)).toEqual(blob);
    // And the control API reads it back.
    expect(auth.control.largeBlob(id)).toEqual(largeBlob);
  });

  it('largeBlob is refused where it cannot exist: a non-discoverable credential, a profile without large blobs, a full array', async () => {
    const { auth } = await setup();
    const largeBlob = { compressed: new Uint8Array([3, 0]), origSize: 0 };
    await expect(auth.control.addCredential({ rpId: RP, alg: -7, discoverable: false, largeBlob })).rejects.toMatchObject({
      code: 'EMU_ERR_UNSUPPORTED',
      message: expect.stringMatching(/^largeBlob: only a discoverable credential has a largeBlobKey/),
    });
    const big = { compressed: new Uint8Array(5000), origSize: 5000 };
    await expect(auth.control.addCredential({ rpId: RP, user, alg: -7, largeBlob: big })).rejects.toMatchObject({ code: 'EMU_ERR_LIMIT' });
    expect(auth.control.credentials()).toEqual([]);
    const t = createTestEnv();
    const pinless = await createAuthenticator({ env: t.env, profile: pinlessProfile, attestation: 'none' });
    await expect(pinless.control.addCredential({ rpId: RP, user, alg: -7, largeBlob })).rejects.toMatchObject({
      code: 'EMU_ERR_UNSUPPORTED',
      message: expect.stringMatching(/^largeBlob: profile ctap21-nopin has no large-blob storage/),
    });
  });
});
