/**
 * User verification in makeCredential / getAssertion (CTAP 2.1 §6.1.2 steps 1–2, 5–8, 11–14; §6.2.2 steps 1–2,
 * 4–9): pinUvAuthParam with the pinUvAuthToken, the touch probe, alwaysUv, makeCredUvNotRqd, built-in UV.
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, fingerprintProfile, type Profile } from '../profile.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { CborMap } from '../../cbor.ts';
import type { SensorOptions } from '../../../src/env/verification.ts';
import {
  createTestEnv,
  ctapCall,
  getAssertionParams,
  makeCredentialParams,
  type GetAssertionSpec,
  type MakeCredentialSpec,
} from '../../../test/helpers/testEnv.ts';
import { parseAuthData } from '../../../test/helpers/webauthn.ts';
import { PinClient, Perm, type ClientPinCall, type Protocol } from '../../../test/helpers/pinClient.ts';
import { ConfigSub, CredSub, ManagementClient } from '../../../test/helpers/management.ts';

const MC = CtapCommand.authenticatorMakeCredential;
const GA = CtapCommand.authenticatorGetAssertion;
const GNA = CtapCommand.authenticatorGetNextAssertion;
const PIN = '1234';
const UP = 0x01;
const UV = 0x04;

async function setup(o: { profile?: Profile; pin?: boolean; sensor?: SensorOptions; protocol?: Protocol } = {}) {
  const t = createTestEnv(o.sensor ? { sensor: o.sensor } : {});
  const auth = await createAuthenticator({ env: t.env, attestation: 'none', ...(o.profile ? { profile: o.profile } : {}) });
  const call: ClientPinCall = (params) => ctapCall(auth, CtapCommand.authenticatorClientPIN, params);
  const c = new PinClient(call, o.protocol ?? 2);
  if (o.pin !== false && (o.profile ?? defaultProfile).pin) expect(await c.setPin(PIN)).toBe(0);
  const cdh = new Uint8Array(32).fill(0x5a);
  /** makeCredential / getAssertion, with pinUvAuthParam = authenticate(token, clientDataHash) when a token is given. */
  const withToken = (token: Uint8Array | undefined, protocol: Protocol = c.protocol): [number, unknown][] =>
    token ? [[0, c.param(token, cdh)], [1, protocol]] : [];
  const mc = (spec: MakeCredentialSpec = {}, token?: Uint8Array) =>
    ctapCall(
      auth,
      MC,
      makeCredentialParams({ clientDataHash: cdh, ...spec, extra: [...withToken(token).map(([k, v]) => [k + 8, v] as [number, unknown]), ...(spec.extra ?? [])] }),
    );
  const ga = (spec: GetAssertionSpec = {}, token?: Uint8Array) =>
    ctapCall(
      auth,
      GA,
      getAssertionParams({ clientDataHash: cdh, ...spec, extra: [...withToken(token).map(([k, v]) => [k + 6, v] as [number, unknown]), ...(spec.extra ?? [])] }),
    );
  const flags = (r: { body?: CborMap | undefined }, key = 2) => parseAuthData(r.body!.get(key) as Uint8Array).flags;
  const token = (permissions = Perm.mc | Perm.ga, rpId?: string) =>
    c.tokenOrThrow({ pin: PIN, permissions, ...(rpId ? { rpId } : {}) });
  return { t, auth, c, call, cdh, mc, ga, flags, token };
}

describe('makeCredential / getAssertion with a pinUvAuthToken', () => {
  it.each([1, 2] as const)('protocol %i: makeCredential with a PIN token sets UV; the PIN gave no UP, so a touch is asked', async (protocol) => {
    const { t, c, mc, flags } = await setup({ protocol });
    const tok = await c.tokenOrThrow({ pin: PIN, permissions: Perm.mc, rpId: 'example.com' });
    const r = await mc({ options: { rk: true } }, tok);
    expect(r.status).toBe(0);
    expect(flags(r) & (UP | UV)).toBe(UP | UV);
    expect(t.presence.requests).toHaveLength(1);
  });

  it.each([1, 2] as const)('protocol %i: getPinToken (legacy) also authorises mc and ga', async (protocol) => {
    const { c, mc, ga, flags } = await setup({ protocol });
    expect((await mc({ options: { rk: true } }, await c.tokenOrThrow({ pin: PIN }))).status).toBe(0);
    const r = await ga({}, await c.tokenOrThrow({ pin: PIN }));
    expect(r.status).toBe(0);
    expect(flags(r) & UV).toBe(UV);
  });

  it('one token, one mc/ga: a second use → PIN_AUTH_INVALID (UV flag and permissions consumed)', async () => {
    const { mc, ga, token } = await setup();
    const tok = await token();
    expect((await mc({}, tok)).status).toBe(0);
    expect((await mc({}, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await ga({}, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  it('a new token invalidates the old one (also when issued under the other protocol)', async () => {
    const { call, mc, token } = await setup();
    const first = await token();
    await new PinClient(call, 1).tokenOrThrow({ pin: PIN, permissions: Perm.mc });
    expect((await mc({}, first)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    const second = await token();
    expect((await mc({}, second)).status).toBe(0);
  });

  it('a token is only good under the protocol it was issued with', async () => {
    const { auth, call, cdh, token } = await setup();
    const tok = await token();
    const p1 = new PinClient(call, 1);
    const r = await ctapCall(auth, MC, makeCredentialParams({ clientDataHash: cdh, extra: [[8, p1.param(tok, cdh)], [9, 1]] }));
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  it('the mc / ga permission is required, and a bound RP ID must match', async () => {
    const { mc, ga, token } = await setup();
    expect((await mc({}, await token(Perm.ga))).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await mc({ options: { rk: true } }, await token(Perm.mc))).status).toBe(0);
    expect((await ga({}, await token(Perm.mc))).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await mc({ rpId: 'other.example' }, await token(Perm.mc, 'example.com'))).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await mc({ rpId: 'example.com' }, await token(Perm.mc, 'example.com'))).status).toBe(0);
  });

  it('an unbound token is bound to the RP of its first use (a silent up=false assertion keeps it usable)', async () => {
    const { mc, ga, token } = await setup();
    expect((await mc({ rpId: 'a.example', options: { rk: true } }, await token(Perm.mc))).status).toBe(0);
    expect((await mc({ rpId: 'b.example', options: { rk: true } }, await token(Perm.mc))).status).toBe(0);
    const tok = await token(Perm.ga);
    const silent = await ga({ rpId: 'a.example', options: { up: false } }, tok);
    expect(silent.status).toBe(0);
    expect((await ga({ rpId: 'b.example' }, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await ga({ rpId: 'a.example' }, tok)).status).toBe(0);
  });

  it('a wrong or wrong-length pinUvAuthParam → PIN_AUTH_INVALID; a protocol the key lacks → INVALID_PARAMETER', async () => {
    const { mc, cdh, token, c } = await setup();
    const tok = await token();
    const good = c.param(tok, cdh);
    const bad = good.slice();
    bad[3]! ^= 0x40;
    expect((await mc({ extra: [[8, bad], [9, 2]] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await mc({ extra: [[8, good.subarray(0, 16)], [9, 2]] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await mc({ extra: [[8, good], [9, 3]] })).status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    expect((await mc({ extra: [[8, good]] })).status).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    expect((await mc({ extra: [[8, good], [9, 2]] })).status).toBe(0);
  });

  it('the 30 s initial usage window: a token unused for 30 s → PIN_AUTH_INVALID', async () => {
    const { t, mc, token } = await setup();
    const tok = await token();
    t.scheduler.advance(30_000);
    expect((await mc({}, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    const fresh = await token();
    t.scheduler.advance(29_000);
    expect((await mc({}, fresh)).status).toBe(0);
  });

  /**
   * Spec: §6.5.2.1: the initial usage time limit applies until the token is used. Regression (review finding 8): a
   * use refused for a missing permission or another RP ID marked the token used, so it escaped that limit.
   */
  it('a refused use is no first use: the token still expires 30 s after issuance (mc/ga and other commands)', async () => {
    const { t, auth, c, mc, ga, token } = await setup();
    expect((await mc({ options: { rk: true } }, await token(Perm.mc))).status).toBe(0);
    const tok = await token(Perm.ga, 'example.com');
    expect((await mc({}, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID); // no mc permission
    expect((await ga({ rpId: 'other.example' }, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID); // bound elsewhere
    t.scheduler.advance(30_000);
    expect((await ga({}, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);

    const mgmt = new ManagementClient((cmd, params) => ctapCall(auth, cmd, params));
    const cm = { token: await token(Perm.cm), pin: c };
    expect((await mgmt.config(ConfigSub.toggleAlwaysUv, { auth: cm })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID); // no acfg
    t.scheduler.advance(30_000);
    expect((await mgmt.credMgmt(CredSub.getCredsMetadata, { auth: cm })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    const fresh = { token: await token(Perm.cm), pin: c };
    expect((await mgmt.credMgmt(CredSub.getCredsMetadata, { auth: fresh })).status).toBe(0);
  });

  it('a power cycle invalidates the token', async () => {
    const { auth, mc, token } = await setup();
    const tok = await token();
    await auth.powerCycle();
    expect((await mc({}, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  it('changePIN invalidates the token', async () => {
    const { c, mc, token } = await setup();
    const tok = await token();
    expect(await c.changePin(PIN, '5678')).toBe(0);
    expect((await mc({}, tok)).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  it('getAssertion with UV returns the UV flag and the user name / displayName, in every getNextAssertion too (B2.12)', async () => {
    const { auth, ga, mc, flags, token } = await setup();
    for (const [i, name] of ['alice', 'bob'].entries()) {
      const r = await mc({ userId: new Uint8Array([i + 1]), userName: name, displayName: name.toUpperCase(), options: { rk: true } }, await token());
      expect(r.status).toBe(0);
    }
    const plain = await ga();
    expect(plain.status).toBe(0);
    expect(flags(plain) & UV).toBe(0);
    expect([...(plain.body!.get(4) as CborMap).keys()]).toEqual(['id']);

    const r = await ga({}, await token(Perm.ga));
    expect(r.status).toBe(0);
    expect(flags(r) & (UP | UV)).toBe(UP | UV);
    expect(r.body!.get(5)).toBe(2);
    const user = r.body!.get(4) as CborMap;
    expect(user.get('name')).toBe('bob');
    expect(user.get('displayName')).toBe('BOB');
    const next = await ctapCall(auth, GNA);
    expect(flags(next) & UV).toBe(UV);
    expect((next.body!.get(4) as CborMap).get('name')).toBe('alice');
  });

  it('excludeList hit with a PIN token (no UP flag): a touch first, then CREDENTIAL_EXCLUDED', async () => {
    const { t, mc, token } = await setup();
    const made = await mc({}, await token());
    const id = parseAuthData(made.body!.get(2) as Uint8Array).credentialId!;
    t.presence.requests.length = 0;
    t.presence.queue('denied');
    expect((await mc({ excludeList: [id] }, await token())).status).toBe(CtapStatus.CTAP2_ERR_CREDENTIAL_EXCLUDED);
    expect(t.presence.requests).toHaveLength(1);
  });
});

describe('makeCredential / getAssertion policy on a PIN-protected key', () => {
  it('zero-length pinUvAuthParam: a touch, then PIN_NOT_SET / PIN_INVALID; declined → OPERATION_DENIED (no protocol needed)', async () => {
    const noPin = await setup({ pin: false });
    expect((await noPin.mc({ extra: [[8, new Uint8Array(0)]] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_NOT_SET);
    expect((await noPin.ga({ extra: [[6, new Uint8Array(0)]] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_NOT_SET);
    expect(noPin.t.presence.requests).toHaveLength(2);
    const { t, mc, ga } = await setup();
    expect((await mc({ extra: [[8, new Uint8Array(0)], [9, 1]] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
    expect((await ga({ extra: [[6, new Uint8Array(0)]] })).status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
    t.presence.mode = 'timeout';
    expect((await mc({ extra: [[8, new Uint8Array(0)]] })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
  });

  it('makeCredUvNotRqd: without UV, non-discoverable credentials are allowed, discoverable ones need a token', async () => {
    const { mc, flags } = await setup();
    const r = await mc({ options: { rk: false } });
    expect(r.status).toBe(0);
    expect(flags(r) & UV).toBe(0);
    expect((await mc({ options: { rk: true } })).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
  });

  it('makeCredUvNotRqd absent: every UV-less makeCredential → PUAT_REQUIRED once a PIN is set (before: fine)', async () => {
    const profile: Profile = { ...defaultProfile, options: { ...defaultProfile.options, makeCredUvNotRqd: false } };
    const before = await setup({ profile, pin: false });
    expect((await before.mc({ options: { rk: true } })).status).toBe(0);
    const { mc } = await setup({ profile });
    expect((await mc({ options: { rk: false } })).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
  });

  it('getAssertion without UV still works on a PIN-protected key (UV flag 0)', async () => {
    const { mc, ga, flags } = await setup();
    const made = await mc();
    expect(made.status).toBe(0);
    const r = await ga({ allowList: [parseAuthData(made.body!.get(2) as Uint8Array).credentialId!] });
    expect(r.status).toBe(0);
    expect(flags(r) & UV).toBe(0);
  });

  it('uv=true without built-in UV → INVALID_OPTION; with a pinUvAuthParam the uv option is ignored', async () => {
    const { mc, ga, token } = await setup();
    expect((await mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await ga({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
    expect((await mc({ options: { uv: true } }, await token())).status).toBe(0);
  });

  it('alwaysUv: no PIN yet → PUAT_REQUIRED; with a PIN, mc and ga (up=true) need a token; up=false assertions do not', async () => {
    const profile: Profile = { ...defaultProfile, options: { ...defaultProfile.options, alwaysUv: true } };
    const noPin = await setup({ profile, pin: false });
    expect(noPin.auth.info().options.alwaysUv).toBe(true);
    expect((await noPin.mc()).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
    const { mc, ga, token } = await setup({ profile });
    // alwaysUv makes makeCredUvNotRqd false: even rk=false needs UV.
    expect((await mc({ options: { rk: false } })).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
    expect((await mc({ options: { rk: true } }, await token())).status).toBe(0);
    expect((await ga()).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
    expect((await ga({ options: { up: false } })).status).toBe(0);
    expect((await ga({}, await token())).status).toBe(0);
  });

  it('a pinUvAuthParam on a key not (yet) protected by UV is ignored, per the text (no UV flag)', async () => {
    const { c, mc, flags } = await setup({ pin: false });
    const r = await mc({ extra: [[8, c.param(new Uint8Array(32), new Uint8Array(32))], [9, 2]] });
    expect(r.status).toBe(0);
    expect(flags(r) & UV).toBe(0);
  });
});

describe('built-in UV with uv=true (CTAP 2.0 style, fingerprint key)', () => {
  async function bio(o: { sensor?: SensorOptions; pin?: boolean; enroll?: boolean } = {}) {
    const s = await setup({ profile: fingerprintProfile, pin: o.pin ?? false, sensor: o.sensor ?? {} });
    if (o.enroll !== false) await s.auth.enrollTemplate({ modality: 'fingerprint' });
    return s;
  }

  it('not enrolled → uv=true is INVALID_OPTION', async () => {
    const { mc } = await bio({ enroll: false });
    expect((await mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_OPTION);
  });

  it('a match sets UV and UP without a separate touch (the finger is the presence)', async () => {
    const { t, mc, ga, flags } = await bio();
    const r = await mc({ options: { uv: true, rk: true } });
    expect(r.status).toBe(0);
    expect(flags(r) & (UP | UV)).toBe(UP | UV);
    const a = await ga({ options: { uv: true } });
    expect(flags(a) & (UP | UV)).toBe(UP | UV);
    expect(t.presence.requests).toHaveLength(0);
    expect(t.sensor!.attempts.map((x) => x.command)).toEqual(['makeCredential', 'getAssertion']);
  });

  it('internal retries: two mismatches then a match → success, 2 uvRetries spent then restored', async () => {
    const { mc, flags, c } = await bio({ sensor: { fingerprint: { script: ['mismatch', 'mismatch'], then: 'match' } } });
    const r = await mc({ options: { uv: true } });
    expect(flags(r) & UV).toBe(UV);
    expect(await c.uvRetries()).toBe(5);
  });

  it('failure without a PIN → OPERATION_DENIED; with a PIN set → PUAT_REQUIRED (fall back to the PIN)', async () => {
    const noPin = await bio({ sensor: { fingerprint: { policy: 'mismatch' } } });
    expect((await noPin.mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    const withPin = await bio({ sensor: { fingerprint: { policy: 'mismatch' } }, pin: true });
    expect((await withPin.mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
    expect((await withPin.ga({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
  });

  it('uvRetries exhausted without a PIN → PIN_BLOCKED (the spec asymmetry); no finger → USER_ACTION_TIMEOUT', async () => {
    const { mc, c } = await bio({ sensor: { fingerprint: { policy: 'mismatch' } } });
    expect((await mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED); // 3 internal tries
    expect((await mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_PIN_BLOCKED);
    expect(await c.uvRetries()).toBe(0);
    const timeout = await bio({ sensor: { fingerprint: { policy: 'no-sample' } } });
    expect((await timeout.mc({ options: { uv: true } })).status).toBe(CtapStatus.CTAP2_ERR_USER_ACTION_TIMEOUT);
  });

  it('protected by built-in UV only: rk=true without UV → OPERATION_DENIED (no PIN to ask for); rk=false allowed', async () => {
    const { mc } = await bio();
    expect((await mc({ options: { rk: true } })).status).toBe(CtapStatus.CTAP2_ERR_OPERATION_DENIED);
    expect((await mc({ options: { rk: false } })).status).toBe(0);
  });

  it('alwaysUv with an enrolled fingerprint: uv is implied, the sensor is asked without uv=true', async () => {
    const profile: Profile = { ...fingerprintProfile, options: { ...fingerprintProfile.options, alwaysUv: true } };
    const t = createTestEnv({ sensor: {} });
    const auth = await createAuthenticator({ env: t.env, profile, attestation: 'none' });
    await auth.enrollTemplate({ modality: 'fingerprint' });
    const r = await ctapCall(auth, MC, makeCredentialParams({}));
    expect(r.status).toBe(0);
    expect(parseAuthData(r.body!.get(2) as Uint8Array).flags & UV).toBe(UV);
    expect(t.sensor!.attempts).toHaveLength(1);
  });
});
