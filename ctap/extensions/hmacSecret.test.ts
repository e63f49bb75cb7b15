/**
 * hmac-secret (CTAP 2.1 §12.5) and hmac-secret-mc (CTAP 2.2 §12.8) through the authenticator, with the platform
 * side written on node:crypto (test/helpers/pinClient.ts, test/helpers/extensions.ts) and the expected outputs
 * computed independently from the master key in the store.
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator/authenticator.ts';
import { defaultProfile, type Profile } from '../authenticator/profile.ts';
import { decodeState } from '../authenticator/state.ts';
import type { CborMap } from '../cbor.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, getAssertionParams, makeCredentialParams, type MakeCredentialSpec } from '../../test/helpers/testEnv.ts';
import { PinClient, Perm, type Protocol } from '../../test/helpers/pinClient.ts';
import { expectedHmacOutput, extensionOutputs, hmacSecretRequest, salt, type HmacSecretRequest } from '../../test/helpers/extensions.ts';
import { parseAuthData, sha256 } from '../../test/helpers/webauthn.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;
const GNA = CtapCommand.authenticatorGetNextAssertion;
const PIN = '1234';

async function setup(profile: Profile = defaultProfile) {
  const t = createTestEnv({ seed: 'hmac-secret' });
  const auth = await createAuthenticator({ env: t.env, profile });
  const client = (p: Protocol = 2) => new PinClient((params) => ctapCall(auth, CtapCommand.authenticatorClientPIN, params), p);
  const masterKey = () => decodeState(t.store.snapshot()!).masterKey;
  /** makeCredential with "hmac-secret": true (and more extensions); returns the credential ID and outputs. */
  const make = async (spec: MakeCredentialSpec = {}, ext: [string, unknown][] = [['hmac-secret', true]]) => {
    const r = await ctapCall(auth, MC, makeCredentialParams({ ...spec, extra: [[6, new Map(ext)], ...(spec.extra ?? [])] }));
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    const authData = r.body!.get(2) as Uint8Array;
    return { id: parseAuthData(authData).credentialId!, outputs: extensionOutputs(authData), authData };
  };
  /** getAssertion with the hmac-secret input (allowList = ids, when given). */
  const assert = (req: HmacSecretRequest, o: { ids?: Uint8Array[]; extra?: [number, unknown][]; options?: Record<string, unknown> } = {}) =>
    ctapCall(
      auth,
      GA,
      getAssertionParams({
        ...(o.ids ? { allowList: o.ids } : {}),
        ...(o.options ? { options: o.options } : {}),
        extra: [[4, new Map([['hmac-secret', req.input]])], ...(o.extra ?? [])],
      }),
    );
  return { t, auth, client, masterKey, make, assert };
}

function hmacOutput(body: CborMap | undefined): Uint8Array {
  const out = extensionOutputs(body!.get(2) as Uint8Array);
  return out!.get('hmac-secret') as Uint8Array;
}

describe('hmac-secret (CTAP 2.1 §12.5)', () => {
  /** Spec: §12.5 makeCredential: input true → authenticator extension output "hmac-secret": true (ED set). */
  it('makeCredential "hmac-secret": true → output true; false → no output and no ED', async () => {
    const { make } = await setup();
    const made = await make();
    expect(parseAuthData(made.authData).ed).toBe(true);
    expect([...made.outputs!.entries()]).toEqual([['hmac-secret', true]]);
    const plain = await make({}, [['hmac-secret', false]]);
    expect(plain.outputs).toBeUndefined();
  });

  /**
   * Spec: §12.5 getAssertion steps 2–7: decapsulate, verify saltAuth, decrypt one or two salts, output_i =
   * HMAC-SHA-256(CredRandomWithoutUV, salt_i) (no UV), returned as encrypt(shared secret, output1 || output2).
   */
  it.each([1, 2] as const)('protocol %i: one and two salts give HMAC-SHA-256(CredRandomWithoutUV, salt_i)', async (p) => {
    const { client, masterKey, make, assert } = await setup();
    const { id } = await make();
    const one = await hmacSecretRequest(client(p), [salt('a')]);
    const r1 = await assert(one, { ids: [id] });
    expect(r1.status).toBe(CtapStatus.CTAP2_OK);
    expect(parseAuthData(r1.body!.get(2) as Uint8Array).uv).toBe(false);
    const [out1] = one.open(hmacOutput(r1.body));
    expect(out1).toEqual(expectedHmacOutput(masterKey(), id, false, salt('a')));

    const two = await hmacSecretRequest(client(p), [salt('a'), salt('b')]);
    const r2 = await assert(two, { ids: [id] });
    expect(r2.status).toBe(CtapStatus.CTAP2_OK);
    const outs = two.open(hmacOutput(r2.body));
    expect(outs).toEqual([out1, expectedHmacOutput(masterKey(), id, false, salt('b'))]);
    // Only "hmac-secret" answers the only input: the output keys are a subset of the input keys.
    expect([...extensionOutputs(r2.body!.get(2) as Uint8Array)!.keys()]).toEqual(['hmac-secret']);
  });

  /** Spec: §12.5 step 5: "If uv bit is set to 1 in the response, let CredRandom be CredRandomWithUV." */
  it('with UV (pinUvAuthToken) the output comes from CredRandomWithUV, different from the non-UV one', async () => {
    const { client, masterKey, make, assert } = await setup();
    const { id } = await make();
    const c = client(2);
    expect(await c.setPin(PIN)).toBe(0);
    const token = await c.tokenOrThrow({ pin: PIN, permissions: Perm.ga, rpId: 'example.com' });
    const cdh = sha256('uv');
    const req = await hmacSecretRequest(c, [salt('a')]);
    const r = await assert(req, { ids: [id], extra: [[2, cdh], [6, c.param(token, cdh)], [7, 2]] });
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(parseAuthData(r.body!.get(2) as Uint8Array).uv).toBe(true);
    const [withUv] = req.open(hmacOutput(r.body));
    expect(withUv).toEqual(expectedHmacOutput(masterKey(), id, true, salt('a')));
    expect(withUv).not.toEqual(expectedHmacOutput(masterKey(), id, false, salt('a')));
  });

  /** Spec: §12.5: "If pinUvAuthProtocol is absent and a pinUvAuthProtocol value of 1 is supported ... let it be 1." */
  it('pinUvAuthProtocol (key 4) absent → protocol one, as libfido2 sends it', async () => {
    const { client, masterKey, make, assert } = await setup();
    const { id } = await make();
    const req = await hmacSecretRequest(client(1), [salt('x')], { omitProtocol: true });
    const r = await assert(req, { ids: [id] });
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(req.open(hmacOutput(r.body))).toEqual([expectedHmacOutput(masterKey(), id, false, salt('x'))]);
  });

  /** Spec: §12.5 step 2 with key 4 absent on a device without protocol one → CTAP2_ERR_PIN_AUTH_INVALID. */
  it('key 4 absent on a protocol-two-only device → PIN_AUTH_INVALID; an unsupported protocol → INVALID_PARAMETER', async () => {
    const twoOnly: Profile = { ...defaultProfile, name: 'two-only', pin: { ...defaultProfile.pin!, protocols: [2] } };
    const { client, make, assert } = await setup(twoOnly);
    const { id } = await make();
    const absent = await hmacSecretRequest(client(2), [salt('x')], { omitProtocol: true });
    expect((await assert(absent, { ids: [id] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    const three = await hmacSecretRequest(client(2), [salt('x')], { protocolMember: 3 });
    expect((await assert(three, { ids: [id] })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
  });

  /** Spec: §12.5 step 3: "If the verification fails, return CTAP2_ERR_PIN_AUTH_INVALID" (after the touch, step 10). */
  it('a wrong saltAuth → PIN_AUTH_INVALID', async () => {
    const { t, client, make, assert } = await setup();
    const { id } = await make();
    const touches = t.presence.requests.length;
    const req = await hmacSecretRequest(client(2), [salt('x')], { tamper: true });
    expect((await assert(req, { ids: [id] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect(t.presence.requests.length).toBe(touches + 1); // extensions are step 10, after user presence (step 9)
  });

  /** Spec: §12.5 step 4: "if the result is not 32 or 64 bytes long, return CTAP1_ERR_INVALID_PARAMETER." */
  it.each([16, 48, 96])('%i bytes of salts → INVALID_PARAMETER', async (n) => {
    const { client, make, assert } = await setup();
    const { id } = await make();
    const req = await hmacSecretRequest(client(1), [], { plaintext: new Uint8Array(n).fill(7) });
    expect((await assert(req, { ids: [id] })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
  });

  /** Spec: §12.5 step 1: "If "up" is set to false, authenticator returns CTAP2_ERR_UNSUPPORTED_OPTION." */
  it('up=false with hmac-secret → UNSUPPORTED_OPTION, without a touch', async () => {
    const { t, client, make, assert } = await setup();
    const { id } = await make();
    const touches = t.presence.requests.length;
    const req = await hmacSecretRequest(client(2), [salt('x')]);
    expect((await assert(req, { ids: [id], options: { up: false } })).status).toBe(CtapStatus.CTAP2_ERR_UNSUPPORTED_OPTION);
    expect(t.presence.requests.length).toBe(touches);
  });

  it('malformed inputs: a missing member → MISSING_PARAMETER, a wrong type → CBOR_UNEXPECTED_TYPE, a bad key → INVALID_PARAMETER', async () => {
    const { client, make, assert } = await setup();
    const { id } = await make();
    const req = await hmacSecretRequest(client(2), [salt('x')]);
    const without3 = new Map(req.input);
    without3.delete(3);
    expect((await assert({ ...req, input: without3 }, { ids: [id] })).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect((await assert({ ...req, input: new Map([...req.input, [2, 'text']]) }, { ids: [id] })).status).toBe(
      CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE,
    );
    const offCurve = new Map<number, unknown>([[1, 2], [3, -25], [-1, 1], [-2, new Uint8Array(32)], [-3, new Uint8Array(32).fill(1)]]);
    expect((await assert({ ...req, input: new Map([...req.input, [1, offCurve]]) }, { ids: [id] })).status).toBe(
      CtapStatus.CTAP1_ERR_INVALID_PARAMETER,
    );
  });

  /** Spec: §6.3 getNextAssertion answers with the remembered request's extensions, per credential. */
  it('discoverable credentials: getAssertion and getNextAssertion each carry their own credential output', async () => {
    const { auth, client, masterKey, make, assert } = await setup();
    const first = await make({ options: { rk: true }, userId: new Uint8Array([1]) });
    const second = await make({ options: { rk: true }, userId: new Uint8Array([2]) });
    const req = await hmacSecretRequest(client(2), [salt('s')]);
    const r = await assert(req);
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(r.body!.get(5)).toBe(2);
    const next = await ctapCall(auth, GNA);
    expect(next.status).toBe(CtapStatus.CTAP2_OK);
    // Newest first.
    expect(req.open(hmacOutput(r.body))).toEqual([expectedHmacOutput(masterKey(), second.id, false, salt('s'))]);
    expect(req.open(hmacOutput(next.body))).toEqual([expectedHmacOutput(masterKey(), first.id, false, salt('s'))]);
    expect(expectedHmacOutput(masterKey(), first.id, false, salt('s'))).not.toEqual(expectedHmacOutput(masterKey(), second.id, false, salt('s')));
  });

  /** Decision (CTAP 2.2 recommends CredRandom for every credential): a credential made without the extension answers too. */
  it('works for a credential made without hmac-secret, survives a power cycle, and a reset forgets it', async () => {
    const { auth, client, masterKey, make, assert } = await setup();
    const { id } = await make({}, []);
    await auth.powerCycle();
    const req = await hmacSecretRequest(client(2), [salt('p')]);
    const r = await assert(req, { ids: [id] });
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(req.open(hmacOutput(r.body))).toEqual([expectedHmacOutput(masterKey(), id, false, salt('p'))]);
    expect((await ctapCall(auth, CtapCommand.authenticatorReset)).status).toBe(CtapStatus.CTAP2_OK);
    const after = await hmacSecretRequest(client(2), [salt('p')]);
    expect((await assert(after, { ids: [id] })).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
  });

  /** Spec: §6.2.2 step 10 "ignoring any that it does not support": a profile without hmac-secret ignores the input. */
  it('a profile that does not enable hmac-secret ignores it (no output, no ED, no error)', async () => {
    const { client, make, assert } = await setup({ ...defaultProfile, name: 'no-hmac', extensions: ['credProtect'] });
    const { id, outputs } = await make();
    expect(outputs).toBeUndefined();
    const req = await hmacSecretRequest(client(2), [salt('x')], { tamper: true });
    const r = await assert(req, { ids: [id], options: { up: false } });
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(parseAuthData(r.body!.get(2) as Uint8Array).ed).toBe(false);
  });
});

describe('hmac-secret-mc (CTAP 2.2 §12.8)', () => {
  /** Spec: the makeCredential output is the getAssertion output for the same salts and UV state, encrypted. */
  it.each([1, 2] as const)('protocol %i: makeCredential returns the PRF output a later getAssertion gives', async (p) => {
    const { client, masterKey, make, assert } = await setup();
    const mcReq = await hmacSecretRequest(client(p), [salt('m1'), salt('m2')]);
    const made = await make({}, [['hmac-secret', true], ['hmac-secret-mc', mcReq.input]]);
    expect([...made.outputs!.keys()]).toEqual(['hmac-secret', 'hmac-secret-mc']);
    expect(made.outputs!.get('hmac-secret')).toBe(true);
    const atCreation = mcReq.open(made.outputs!.get('hmac-secret-mc') as Uint8Array);
    expect(atCreation).toEqual([salt('m1'), salt('m2')].map((s) => expectedHmacOutput(masterKey(), made.id, false, s)));
    const gaReq = await hmacSecretRequest(client(p), [salt('m1')]);
    const r = await assert(gaReq, { ids: [made.id] });
    expect(gaReq.open(hmacOutput(r.body))).toEqual([atCreation[0]]);
  });

  it('hmac-secret-mc without "hmac-secret": true → MISSING_PARAMETER; a wrong saltAuth → PIN_AUTH_INVALID', async () => {
    const { auth, client } = await setup();
    const req = await hmacSecretRequest(client(2), [salt('m')]);
    const mc = (ext: [string, unknown][]) => ctapCall(auth, MC, makeCredentialParams({ extra: [[6, new Map(ext)]] }));
    expect((await mc([['hmac-secret-mc', req.input]])).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    const bad = await hmacSecretRequest(client(2), [salt('m')], { tamper: true });
    expect((await mc([['hmac-secret', true], ['hmac-secret-mc', bad.input]])).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });
});
