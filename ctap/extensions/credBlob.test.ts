/** credBlob (CTAP 2.1 §12.2): stored with a discoverable credential, returned by getAssertion on request. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator/authenticator.ts';
import { defaultProfile, type Profile } from '../authenticator/profile.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, getAssertionParams, makeCredentialParams, type MakeCredentialSpec } from '../../test/helpers/testEnv.ts';
import { extensionOutputs } from '../../test/helpers/extensions.ts';
import { parseAuthData } from '../../test/helpers/webauthn.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;
const GNA = CtapCommand.authenticatorGetNextAssertion;

async function setup(profile: Profile = defaultProfile) {
  const t = createTestEnv({ seed: 'cred-blob' });
  const auth = await createAuthenticator({ env: t.env, profile });
  const make = async (blob: unknown, spec: MakeCredentialSpec = {}) => {
    const extra: [number, unknown][] = blob === undefined ? [] : [[6, new Map([['credBlob', blob]])]];
    const r = await ctapCall(auth, MC, makeCredentialParams({ options: { rk: true }, ...spec, extra }));
    const authData = r.status === 0 ? (r.body!.get(2) as Uint8Array) : undefined;
    return { status: r.status, id: authData && parseAuthData(authData).credentialId!, outputs: authData && extensionOutputs(authData) };
  };
  const assert = (allowList?: Uint8Array[], input: unknown = true) =>
    ctapCall(auth, GA, getAssertionParams({ ...(allowList ? { allowList } : {}), extra: [[4, new Map([['credBlob', input]])]] }));
  const blobOf = (body: Map<unknown, unknown> | undefined) => extensionOutputs(body!.get(2) as Uint8Array)?.get('credBlob');
  return { t, auth, make, assert, blobOf };
}

describe('credBlob (CTAP 2.1 §12.2)', () => {
  /** Spec: makeCredential output true iff stored; getAssertion "credBlob": true → the stored bytes. */
  it('a blob of up to maxCredBlobLength (32) bytes is stored (output true) and returned, also after a power cycle', async () => {
    const { auth, make, assert, blobOf } = await setup();
    const blob = new Uint8Array(32).map((_, i) => i);
    const c = await make(blob);
    expect(c.status).toBe(CtapStatus.CTAP2_OK);
    expect([...c.outputs!.entries()]).toEqual([['credBlob', true]]);
    await auth.powerCycle();
    const r = await assert([c.id!]);
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(blobOf(r.body)).toEqual(blob);
  });

  /** Spec: more than maxCredBlobLength → not stored, output false; getAssertion then returns an empty byte string. */
  it('33 bytes → output false, nothing stored: getAssertion returns an empty byte string', async () => {
    const { make, assert, blobOf } = await setup();
    const c = await make(new Uint8Array(33).fill(1));
    expect([...c.outputs!.entries()]).toEqual([['credBlob', false]]);
    expect(blobOf((await assert([c.id!])).body)).toEqual(new Uint8Array(0));
  });

  it('a larger profile maxCredBlobLength is honoured', async () => {
    const { make, assert, blobOf } = await setup({ ...defaultProfile, name: 'big-blob', maxCredBlobLength: 64 });
    const c = await make(new Uint8Array(64).fill(2));
    expect(c.outputs!.get('credBlob')).toBe(true);
    expect(blobOf((await assert([c.id!])).body)).toEqual(new Uint8Array(64).fill(2));
  });

  /** Decision: credBlob belongs to discoverable credentials; rk=false → not stored, output false. */
  it('a non-discoverable credential does not store it (output false, empty blob on assertion)', async () => {
    const { make, assert, blobOf } = await setup();
    const c = await make(new Uint8Array([1, 2, 3]), { options: { rk: false } });
    expect(c.outputs!.get('credBlob')).toBe(false);
    expect(blobOf((await assert([c.id!])).body)).toEqual(new Uint8Array(0));
  });

  /** Spec: "an empty byte string" for a credential without a blob; getNextAssertion answers per credential. */
  it('discoverable look-up: each assertion (getAssertion, getNextAssertion) carries its own credential blob', async () => {
    const { auth, make, assert, blobOf } = await setup();
    await make(undefined, { userId: new Uint8Array([1]) });
    await make(new Uint8Array([0xb2]), { userId: new Uint8Array([2]) });
    const r = await assert();
    expect(r.body!.get(5)).toBe(2);
    expect(blobOf(r.body)).toEqual(new Uint8Array([0xb2])); // newest first
    expect(blobOf((await ctapCall(auth, GNA)).body)).toEqual(new Uint8Array(0));
  });

  it('not requested → no output; "credBlob": false on getAssertion → no output; wrong types → CBOR_UNEXPECTED_TYPE', async () => {
    const { make, assert } = await setup();
    const c = await make(undefined);
    expect(c.outputs).toBeUndefined();
    const r = await assert([c.id!], false);
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(parseAuthData(r.body!.get(2) as Uint8Array).ed).toBe(false);
    expect((await make('text')).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    expect((await assert([c.id!], new Uint8Array([1]))).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
  });
});
