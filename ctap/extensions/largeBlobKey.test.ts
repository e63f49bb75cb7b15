/** largeBlobKey (CTAP 2.1 §12.3): a 32-byte key per discoverable credential, in response members 0x05 / 0x07. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator/authenticator.ts';
import { decodeState } from '../authenticator/state.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, getAssertionParams, makeCredentialParams, type MakeCredentialSpec } from '../../test/helpers/testEnv.ts';
import { parseAuthData } from '../../test/helpers/webauthn.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;
const GNA = CtapCommand.authenticatorGetNextAssertion;

async function setup() {
  const t = createTestEnv({ seed: 'large-blob-key' });
  const auth = await createAuthenticator({ env: t.env });
  const make = (input: unknown, spec: MakeCredentialSpec = {}) =>
    ctapCall(
      auth,
      MC,
      makeCredentialParams({ options: { rk: true }, ...spec, extra: input === undefined ? [] : [[6, new Map([['largeBlobKey', input]])]] }),
    );
  const assert = (input: unknown, allowList?: Uint8Array[]) =>
    ctapCall(auth, GA, getAssertionParams({ ...(allowList ? { allowList } : {}), extra: [[4, new Map([['largeBlobKey', input]])]] }));
  return { t, auth, make, assert };
}

const idOf = (body: Map<unknown, unknown> | undefined) => parseAuthData(body!.get(2) as Uint8Array).credentialId!;

describe('largeBlobKey (CTAP 2.1 §12.3)', () => {
  /** Spec: makeCredential response member 0x05, getAssertion response member 0x07; not an authData extension. */
  it('makeCredential returns a 32-byte key in 0x05 (no ED); getAssertion returns the same key in 0x07', async () => {
    const { t, make, assert } = await setup();
    const r = await make(true);
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    const key = r.body!.get(5) as Uint8Array;
    expect(key).toBeInstanceOf(Uint8Array);
    expect(key.length).toBe(32);
    expect(parseAuthData(r.body!.get(2) as Uint8Array).ed).toBe(false);
    expect(decodeState(t.store.snapshot()!).residentCredentials[0]!.largeBlobKey).toEqual(key);
    const a = await assert(true, [idOf(r.body)]);
    expect(a.status).toBe(CtapStatus.CTAP2_OK);
    expect(a.body!.get(7)).toEqual(key);
    expect(parseAuthData(a.body!.get(2) as Uint8Array).ed).toBe(false);
  });

  it('each credential has its own key; getNextAssertion returns each one; a credential without a key has no 0x07', async () => {
    const { auth, make, assert } = await setup();
    const k1 = (await make(true, { userId: new Uint8Array([1]) })).body!.get(5) as Uint8Array;
    const k2 = (await make(true, { userId: new Uint8Array([2]) })).body!.get(5) as Uint8Array;
    expect(k1).not.toEqual(k2);
    await make(undefined, { userId: new Uint8Array([3]) });
    const first = await assert(true);
    expect(first.body!.get(5)).toBe(3);
    expect(first.body!.has(7)).toBe(false); // newest: made without the extension
    expect((await ctapCall(auth, GNA)).body!.get(7)).toEqual(k2);
    expect((await ctapCall(auth, GNA)).body!.get(7)).toEqual(k1);
    const without = await ctapCall(auth, GA, getAssertionParams());
    expect(without.body!.has(7)).toBe(false); // not requested
  });

  /** Spec/implementations: false → CTAP2_ERR_INVALID_OPTION; rk=false → CTAP2_ERR_INVALID_OPTION (Chromium). */
  it('input false → INVALID_OPTION (mc and ga); rk=false → INVALID_OPTION; a non-boolean → CBOR_UNEXPECTED_TYPE', async () => {
    const { t, make, assert } = await setup();
    const touches = t.presence.requests.length;
    expect((await make(false)).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await make(true, { options: { rk: false } })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await make(true, { options: {} })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await make(1)).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    expect(t.presence.requests.length).toBe(touches); // refused before asking for a touch
    expect((await assert(false)).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await assert([])).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
  });
});
