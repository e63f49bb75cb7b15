/**
 * Advertised ⇔ works, for every registered profile on every transport (DESIGN.md "Profiles": getInfo never
 * advertises what is not implemented; CHECKLIST B4.3). Each test reads what the device claims — CTAPHID_INIT
 * capabilities and getInfo: versions, options, extensions, algorithms, limits, PIN/UV protocols — and checks
 * that every claim works and every feature not claimed is refused. The profile objects are used only to start
 * the device (and enroll a template for built-in UV); every expectation comes from what the device says.
 */
import { describe, expect, it } from 'vitest';
import { encode, type CborMap } from '../../ctap/cbor.ts';
import { CtapCommand as C, CtapHidCapability, CtapHidCmd, CtapHidError } from '../../ctap/constants/commands.ts';
import { CtapStatus as S } from '../../ctap/constants/status.ts';
import { commandTable } from '../../ctap/authenticator/commands.ts';
import { IMPLEMENTED_EXTENSIONS } from '../../ctap/extensions/registry.ts';
import {
  ctap20Profile,
  defaultProfile,
  faceProfile,
  fingerprintFaceProfile,
  fingerprintProfile,
  pinlessProfile,
  u2fProfile,
  type Profile,
} from '../../ctap/authenticator/profile.ts';
import { profileNames } from '../../src/device.ts';
import { CtapHidClientError, type CtapHidClient } from '../../src/client/ctaphid.ts';
import { TRANSPORTS, openHarness } from '../helpers/transports.ts';
import { PinClient, Perm, authenticate, type Protocol } from '../helpers/pinClient.ts';
import { extensionOutputs, hmacSecretRequest, salt } from '../helpers/extensions.ts';
import { INS, P1, SW, apdu, authenticateApdu, parseRegistration, poll, registerApdu, splitResponse, verifyRegistration } from '../helpers/u2f.ts';
import { parseAuthData, sha256 } from '../helpers/webauthn.ts';

const PROFILES: Profile[] = [defaultProfile, fingerprintProfile, faceProfile, fingerprintFaceProfile, pinlessProfile, ctap20Profile, u2fProfile];
const PIN = '13579';
const RP = 'claims.example';
const ES256 = -7;
const EdDSA = -8;
const INITIAL_LARGE_BLOB_ARRAY = '8076be8b528d0075f7aae98d6fa57a6d3c';

type Reply = { status: number; body: CborMap | undefined };

async function hidError(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof CtapHidClientError) return e.code;
    throw e;
  }
}

/** The commands a getInfo implies (CTAP 2.1 §6.4 options ↔ §6 commands). */
function impliedCommands(info: CborMap): Set<number> {
  const o = info.get(4) as Map<string, boolean>;
  const versions = info.get(1) as string[];
  const c = new Set<number>([C.authenticatorMakeCredential, C.authenticatorGetAssertion, C.authenticatorGetInfo, C.authenticatorReset, C.authenticatorGetNextAssertion]);
  if (info.has(0x06)) c.add(C.authenticatorClientPIN); // pinUvAuthProtocols ⇔ authenticatorClientPIN
  if (versions.includes('FIDO_2_1')) c.add(C.authenticatorSelection);
  if (o.has('bioEnroll')) c.add(C.authenticatorBioEnrollment);
  if (o.has('userVerificationMgmtPreview')) c.add(C.authenticatorBioEnrollmentPreview);
  if (o.get('credMgmt')) c.add(C.authenticatorCredentialManagement);
  if (o.get('credentialMgmtPreview')) c.add(C.authenticatorCredentialManagementPreview);
  if (o.get('largeBlobs')) c.add(C.authenticatorLargeBlobs);
  if (o.get('authnrCfg')) c.add(C.authenticatorConfig);
  return c;
}

function mcParams(o: { algs?: number[]; rk?: boolean; userId?: number; ext?: [string, unknown][]; auth?: { pin: PinClient; token: Uint8Array } } = {}) {
  const cdh = sha256(`mc-${o.userId ?? 0}`);
  const m = new Map<number, unknown>([
    [1, cdh],
    [2, { id: RP }],
    [3, { id: Uint8Array.of(o.userId ?? 0), name: 'claims' }],
    [4, (o.algs ?? [ES256]).map((alg) => ({ alg, type: 'public-key' }))],
  ]);
  if (o.ext) m.set(6, new Map(o.ext));
  if (o.rk !== undefined) m.set(7, { rk: o.rk });
  if (o.auth) m.set(8, o.auth.pin.param(o.auth.token, cdh)).set(9, o.auth.pin.protocol);
  return m;
}

async function checkClaims(transport: (typeof TRANSPORTS)[number], profile: Profile): Promise<void> {
  const h = await openHarness(transport, { profile: profile.name, seed: `claims-${transport}-${profile.name}` });
  try {
    const c = await h.client();
    const cbor = async (cmd: number, params?: unknown): Promise<Reply> => {
      const r = await c.cbor(cmd, params);
      return { status: r.status, body: r.data as CborMap | undefined };
    };
    const getInfo = async () => (await cbor(C.authenticatorGetInfo)).body!;
    const msg = (bytes: Uint8Array) => c.call(CtapHidCmd.MSG, bytes);

    // ---- CTAPHID: CBOR capability ⇔ CTAP2 is answered; NMSG clear ⇔ U2F ⇔ "U2F_V2" in versions.
    const hasCbor = (c.capabilities & CtapHidCapability.CBOR) !== 0;
    const hasMsg = (c.capabilities & CtapHidCapability.NMSG) === 0;
    if (!hasCbor) expect(await hidError(cbor(C.authenticatorGetInfo))).toBe(CtapHidError.ERR_INVALID_CMD);
    const info = hasCbor ? await getInfo() : undefined;
    const versions = (info?.get(1) as string[] | undefined) ?? [];
    if (info) expect(versions.includes('U2F_V2')).toBe(hasMsg);
    if (hasMsg) {
      const v = splitResponse(await msg(apdu(INS.VERSION)));
      expect([v.sw, Buffer.from(v.data).toString('latin1')]).toEqual([SW.NO_ERROR, 'U2F_V2']);
      const app = sha256(RP);
      const reg = await poll(msg, registerApdu(sha256('u2f'), app));
      expect(verifyRegistration(parseRegistration(reg.data), app, sha256('u2f'))).toBe(true);
      const kh = parseRegistration(reg.data).keyHandle;
      expect(splitResponse(await msg(authenticateApdu(sha256('u2f'), app, kh, P1.CHECK_ONLY))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    } else {
      expect(await hidError(msg(apdu(INS.VERSION)))).toBe(CtapHidError.ERR_INVALID_CMD);
    }
    if (!info) return;

    // ---- versions: FIDO_2_1 or a CTAP 2.0 getInfo (members 0x01–0x06 only); commands served ⇔ implied.
    const ctap21 = versions.includes('FIDO_2_1');
    expect(ctap21 || versions.includes('FIDO_2_0')).toBe(true);
    if (!ctap21) expect([...info.keys()].every((k) => (k as number) <= 0x06)).toBe(true);
    const o = info.get(4) as Map<string, boolean>;
    const implied = impliedCommands(info);
    expect(versions.includes('FIDO_2_1_PRE')).toBe(implied.has(C.authenticatorBioEnrollmentPreview) || implied.has(C.authenticatorCredentialManagementPreview));
    for (const cmd of [...commandTable.keys(), 0x03, 0x05, 0x0e, 0x42, 0x50]) {
      const served = (await cbor(cmd)).status !== S.CTAP1_ERR_INVALID_COMMAND;
      expect({ cmd, served }).toEqual({ cmd, served: implied.has(cmd) });
    }
    // Chromium's getInfo rules (CHECKLIST B4.2) for what is listed.
    if (o.has('clientPin') || o.has('pinUvAuthToken')) expect(info.has(0x06)).toBe(true);
    if (o.has('largeBlobs')) expect(o.get('rk')).toBe(true);

    // ---- algorithms (a CTAP 2.0 getInfo has none: ES256 is what every FIDO2 key does).
    const algs = ctap21 ? (info.get(0x0a) as CborMap[]).map((a) => a.get('alg') as number) : [ES256];
    for (const alg of [ES256, EdDSA]) {
      const r = await cbor(C.authenticatorMakeCredential, mcParams({ algs: [alg] }));
      expect({ alg, status: r.status }).toEqual({ alg, status: algs.includes(alg) ? S.CTAP2_OK : S.CTAP2_ERR_UNSUPPORTED_ALGORITHM });
      if (r.status === S.CTAP2_OK) expect(parseAuthData(r.body!.get(2) as Uint8Array).publicKey!.get(3)).toBe(alg);
    }

    // ---- rk and remainingDiscoverableCredentials (a CTAP 2.1 member).
    const remaining = async () => (await getInfo()).get(0x14) as number | undefined;
    const before = await remaining();
    expect(before !== undefined).toBe(ctap21);
    const rk = await cbor(C.authenticatorMakeCredential, mcParams({ rk: true, userId: 1 }));
    expect(rk.status).toBe(o.get('rk') ? S.CTAP2_OK : S.CTAP2_ERR_UNSUPPORTED_OPTION);
    if (o.get('rk')) {
      expect((await cbor(C.authenticatorGetAssertion, new Map<number, unknown>([[1, RP], [2, sha256('ga')]]))).status).toBe(S.CTAP2_OK);
      if (before !== undefined) expect(await remaining()).toBe(before - 1);
    }

    // ---- list limits: enforced exactly as advertised (none advertised → none enforced).
    const own = parseAuthData((await cbor(C.authenticatorMakeCredential, mcParams({ userId: 2 }))).body!.get(2) as Uint8Array).credentialId!;
    const ga = (ids: Uint8Array[]) => cbor(C.authenticatorGetAssertion, new Map<number, unknown>([[1, RP], [2, sha256('ga')], [3, ids.map((id) => ({ id, type: 'public-key' }))]]));
    const foreign = (n: number, len: number) => Array.from({ length: n }, (_, i) => new Uint8Array(len).fill(i + 1));
    const maxCount = info.get(0x07) as number | undefined;
    const maxLen = info.get(0x08) as number | undefined;
    expect((await ga([...foreign((maxCount ?? 20) - 1, maxLen ?? 200), own])).status).toBe(S.CTAP2_OK);
    if (maxCount !== undefined) expect((await ga([...foreign(maxCount, 16), own])).status).toBe(S.CTAP2_ERR_LIMIT_EXCEEDED);
    if (maxLen !== undefined) expect((await ga([new Uint8Array(maxLen + 1), own])).status).toBe(S.CTAP2_ERR_LIMIT_EXCEEDED);

    // ---- extensions: a listed one answers its input; an unlisted implemented one is ignored (no output).
    const listed = new Set((info.get(2) as string[] | undefined) ?? []);
    const protocols = (info.get(0x06) as Protocol[] | undefined) ?? [];
    const call = async (params: Map<number, unknown>) => cbor(C.authenticatorClientPIN, params);
    const pin = protocols.length > 0 ? new PinClient(call, protocols[0]!) : undefined;
    const made = async (p: Map<number, unknown>) => {
      const r = await cbor(C.authenticatorMakeCredential, p);
      expect(r.status).toBe(S.CTAP2_OK);
      return { body: r.body!, outputs: extensionOutputs(r.body!.get(2) as Uint8Array) };
    };
    const rkOk = o.get('rk') === true;
    for (const id of IMPLEMENTED_EXTENSIONS) {
      const on = listed.has(id);
      if (id === 'credProtect') expect((await made(mcParams({ ext: [[id, 2]] }))).outputs?.get(id)).toBe(on ? 2 : undefined);
      if (id === 'hmac-secret') expect((await made(mcParams({ ext: [[id, true]] }))).outputs?.get(id)).toBe(on ? true : undefined);
      if (id === 'hmac-secret-mc') {
        const input = on ? (await hmacSecretRequest(pin!, [salt('mc')])).input : new Map<number, unknown>([[2, new Uint8Array(32)]]);
        const out = (await made(mcParams({ ext: [['hmac-secret', true], [id, input]] }))).outputs?.get(id);
        expect(out instanceof Uint8Array).toBe(on);
      }
      if (id === 'credBlob' && rkOk) {
        const max = info.get(0x0f) as number | undefined;
        expect(max !== undefined).toBe(on); // maxCredBlobLength present iff credBlob is listed
        const blob = (n: number, u: number) => made(mcParams({ rk: true, userId: u, ext: [[id, new Uint8Array(n).fill(7)]] }));
        expect((await blob(max ?? 32, 3)).outputs?.get(id)).toBe(on ? true : undefined);
        if (max !== undefined) expect((await blob(max + 1, 4)).outputs?.get(id)).toBe(false);
      }
      if (id === 'largeBlobKey' && rkOk) {
        const key = (await made(mcParams({ rk: true, userId: 5, ext: [[id, true]] }))).body.get(0x05);
        expect(key instanceof Uint8Array && key.length === 32).toBe(on);
      }
      if (id === 'minPinLength' && !on) expect((await made(mcParams({ ext: [[id, true]] }))).outputs?.get(id)).toBeUndefined();
    }

    // ---- PIN/UV auth protocols: listed ⇔ getKeyAgreement works.
    if (implied.has(C.authenticatorClientPIN)) {
      for (const p of [1, 2]) {
        const r = await call(new Map([[1, p], [2, 0x02]]));
        expect({ p, status: r.status }).toEqual({ p, status: protocols.includes(p as Protocol) ? S.CTAP2_OK : S.CTAP1_ERR_INVALID_PARAMETER });
      }
    }

    // ---- clientPin, minPINLength, pinUvAuthToken, makeCredUvNotRqd.
    let token: ((permissions: number) => Promise<Uint8Array>) | undefined;
    if (o.has('clientPin')) {
      expect(o.get('clientPin')).toBe(false);
      const minLen = info.get(0x0d) as number | undefined;
      if (minLen !== undefined) expect(await pin!.setPin('7'.repeat(minLen - 1))).toBe(S.CTAP2_ERR_PIN_POLICY_VIOLATION);
      expect(await pin!.setPin(PIN)).toBe(S.CTAP2_OK);
      expect(((await getInfo()).get(4) as Map<string, boolean>).get('clientPin')).toBe(true);
      const withPermissions = await pin!.token({ pin: PIN, permissions: Perm.mc | Perm.ga });
      expect(withPermissions.status).toBe(o.has('pinUvAuthToken') ? S.CTAP2_OK : S.CTAP2_ERR_INVALID_SUBCOMMAND);
      const noUv = await cbor(C.authenticatorMakeCredential, mcParams({ userId: 6 }));
      expect(noUv.status).toBe(o.get('makeCredUvNotRqd') ? S.CTAP2_OK : S.CTAP2_ERR_PUAT_REQUIRED);
      // (A touch-approved makeCredential clears the token's permissions: ask for the token afterwards.)
      const legacy = await pin!.tokenOrThrow({ pin: PIN }); // getPinToken: CTAP 2.0 and 2.1
      const withUv = await cbor(C.authenticatorMakeCredential, mcParams({ userId: 6, auth: { pin: pin!, token: legacy } }));
      expect(parseAuthData(withUv.body!.get(2) as Uint8Array).uv).toBe(true);
      if (o.has('pinUvAuthToken')) token = (permissions) => pin!.tokenOrThrow({ pin: PIN, permissions });
    } else if (pin) {
      expect((await call(new Map([[1, pin.protocol], [2, 0x01]]))).status).toBe(S.CTAP2_ERR_INVALID_SUBCOMMAND);
    }

    // ---- built-in UV: uv ⇔ getUVRetries and, once a template is enrolled (as a user would), a token through UV.
    const modality = profile.uv?.modalities[0];
    if (modality) await h.device.authenticator.enrollTemplate({ modality });
    if (pin) {
      const uvRetries = await call(new Map([[1, pin.protocol], [2, 0x07]]));
      const viaUv = await pin.token({ permissions: Perm.ga });
      if (o.has('uv')) {
        const uvNow = ((await getInfo()).get(4) as Map<string, boolean>).get('uv');
        expect([uvNow, uvRetries.status, viaUv.status]).toEqual([true, S.CTAP2_OK, S.CTAP2_OK]);
        expect(info.get(0x12)).toBeGreaterThan(0);
      } else {
        expect([uvRetries.status, viaUv.status]).toEqual([S.CTAP2_ERR_INVALID_SUBCOMMAND, S.CTAP2_ERR_INVALID_SUBCOMMAND]);
        expect(info.has(0x12)).toBe(false);
      }
    }

    // ---- bioEnroll (and its preview): the fingerprint sensor answers.
    for (const [option, cmd] of [['bioEnroll', C.authenticatorBioEnrollment], ['userVerificationMgmtPreview', C.authenticatorBioEnrollmentPreview]] as const) {
      if (!o.has(option)) continue;
      const r = await cbor(cmd, new Map([[1, 1], [2, 0x07]])); // getFingerprintSensorInfo
      expect([r.status, typeof r.body?.get(2)]).toEqual([S.CTAP2_OK, 'number']);
    }

    // ---- management commands, with a token carrying exactly the claimed permissions; their getInfo members.
    expect(info.has(0x0b)).toBe(o.get('largeBlobs') === true); // maxSerializedLargeBlobArray
    expect(info.has(0x10)).toBe(o.get('setMinPINLength') === true); // maxRPIDsForSetMinPINLength
    const perms = (o.get('credMgmt') ? Perm.cm : 0) | (o.get('largeBlobs') ? Perm.lbw : 0) | (o.get('authnrCfg') ? Perm.acfg : 0);
    if (perms === 0) return;
    const t = await token!(perms);
    const p = pin!.protocol;
    for (const [option, cmd] of [['credMgmt', C.authenticatorCredentialManagement], ['credentialMgmtPreview', C.authenticatorCredentialManagementPreview]] as const) {
      if (!o.get(option)) continue;
      const r = await cbor(cmd, new Map<number, unknown>([[1, 0x01], [3, p], [4, authenticate(p, t, Uint8Array.of(0x01))]]));
      expect(r.status).toBe(S.CTAP2_OK);
      expect(r.body!.get(0x02)).toBe(await remaining()); // maxPossibleRemainingResidentCredentialsCount
    }
    if (o.get('largeBlobs')) {
      const r = await cbor(C.authenticatorLargeBlobs, new Map([[1, 64], [3, 0]]));
      expect(Buffer.from(r.body!.get(1) as Uint8Array).toString('hex')).toBe(INITIAL_LARGE_BLOB_ARRAY);
    }
    if (!o.get('authnrCfg')) return;
    const config = (sub: number, params?: Map<number, unknown>) => {
      const body = params ? encode(params) : new Uint8Array(0);
      const m = new Map<number, unknown>([[1, sub], [3, p], [4, authenticate(p, t, Uint8Array.of(...new Uint8Array(32).fill(0xff), 0x0d, sub, ...body))]]);
      if (params) m.set(2, params);
      return cbor(C.authenticatorConfig, m);
    };
    // alwaysUv: toggles; while on, CTAP1 is off and U2F_V2 leaves versions.
    expect((await config(0x02)).status).toBe(S.CTAP2_OK);
    const on = await getInfo();
    expect((on.get(4) as Map<string, boolean>).get('alwaysUv')).toBe(true);
    expect((on.get(1) as string[]).includes('U2F_V2')).toBe(false);
    if (hasMsg) expect(splitResponse(await msg(apdu(INS.VERSION))).sw).toBe(SW.COMMAND_NOT_ALLOWED);
    expect((await config(0x02)).status).toBe(S.CTAP2_OK);
    expect(((await getInfo()).get(1) as string[]).includes('U2F_V2')).toBe(hasMsg);
    // ep: enableEnterpriseAttestation works iff ep is listed.
    expect((await config(0x01)).status).toBe(o.has('ep') ? S.CTAP2_OK : S.CTAP1_ERR_INVALID_PARAMETER);
    if (o.has('ep')) expect(((await getInfo()).get(4) as Map<string, boolean>).get('ep')).toBe(true);
    // setMinPINLength (+ maxRPIDsForSetMinPINLength, and the minPinLength extension for a listed RP).
    const setMin = await config(0x03, new Map<number, unknown>([[2, [RP]]]));
    expect(setMin.status).toBe(o.get('setMinPINLength') ? S.CTAP2_OK : S.CTAP2_ERR_INVALID_SUBCOMMAND);
    if (o.get('setMinPINLength')) {
      const max = info.get(0x10) as number;
      const tooMany = Array.from({ length: max + 1 }, (_, i) => `rp${i}.example`);
      expect((await config(0x03, new Map<number, unknown>([[2, tooMany]]))).status).toBe(S.CTAP2_ERR_KEY_STORE_FULL);
      if (listed.has('minPinLength')) {
        const mcToken = await token!(Perm.mc);
        const out = (await made(mcParams({ userId: 8, ext: [['minPinLength', true]], auth: { pin: pin!, token: mcToken } }))).outputs;
        expect(out?.get('minPinLength')).toBe(info.get(0x0d));
      }
    }
  } finally {
    await h.close();
  }
}

describe('profiles', () => {
  it('every registered profile is checked here', () => {
    expect(profileNames().filter((n) => n !== 'default').sort()).toEqual(PROFILES.map((p) => p.name).sort());
  });
});

describe.each(TRANSPORTS)('advertised ⇔ works, over %s', (transport) => {
  it.each(PROFILES.map((p) => [p.name, p] as const))('%s', async (_name, profile) => {
    await checkClaims(transport, profile);
  });
});
