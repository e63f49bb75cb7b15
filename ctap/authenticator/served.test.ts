/** Which commands each profile serves, the versions rules, and the CTAP 2.0 device (served.ts, infoLevel.ts). */
import { describe, expect, it } from 'vitest';
import { CtapCommand as C } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, getAssertionParams, makeCredentialParams } from '../../test/helpers/testEnv.ts';
import { PinClient, Sub } from '../../test/helpers/pinClient.ts';
import { createAuthenticator } from './authenticator.ts';
import {
  ctap20Profile,
  defaultProfile,
  faceProfile,
  fingerprintProfile,
  pinlessProfile,
  u2fProfile,
  type Profile,
} from './profile.ts';
import { checkProfileVersions, servedCommands } from './served.ts';

const sorted = (s: ReadonlySet<number>) => [...s].sort((a, b) => a - b);
const BASE = [C.authenticatorMakeCredential, C.authenticatorGetAssertion, C.authenticatorGetInfo, C.authenticatorReset, C.authenticatorGetNextAssertion];
const MANAGEMENT = [C.authenticatorCredentialManagement, C.authenticatorLargeBlobs, C.authenticatorConfig, C.authenticatorCredentialManagementPreview];

describe('servedCommands', () => {
  /** Spec: CTAP 2.1 §6 (commands) vs CTAP 2.0 §5; DESIGN.md "getInfo never advertises what is not implemented". */
  it('follows each profile: CTAP 2.1 with its features, CTAP 2.0 commands only, nothing for U2F-only', () => {
    const pin21 = [...BASE, C.authenticatorClientPIN, C.authenticatorSelection, ...MANAGEMENT];
    expect(sorted(servedCommands(defaultProfile))).toEqual([...pin21].sort((a, b) => a - b));
    expect(sorted(servedCommands(faceProfile))).toEqual([...pin21].sort((a, b) => a - b));
    expect(sorted(servedCommands(fingerprintProfile))).toEqual(
      [...pin21, C.authenticatorBioEnrollment, C.authenticatorBioEnrollmentPreview].sort((a, b) => a - b),
    );
    expect(sorted(servedCommands(pinlessProfile))).toEqual([...BASE, C.authenticatorSelection].sort((a, b) => a - b));
    expect(sorted(servedCommands(ctap20Profile))).toEqual([...BASE, C.authenticatorClientPIN].sort((a, b) => a - b));
    expect(sorted(servedCommands(u2fProfile))).toEqual([]);
  });

  /**
   * Spec: CTAP 2.1 §8.2 / CHECKLIST B0.4. Review finding 11: the handlers of these commands have no "feature
   * absent" check of their own; the device's dispatcher does not have the command, whatever the parameters.
   */
  it('a command whose feature the profile lacks → CTAP1_ERR_INVALID_COMMAND from the dispatcher, whatever the parameters', async () => {
    const bio = [C.authenticatorBioEnrollment, C.authenticatorBioEnrollmentPreview];
    const management = [C.authenticatorCredentialManagement, C.authenticatorCredentialManagementPreview, C.authenticatorLargeBlobs, C.authenticatorConfig];
    const cases: [Profile, number[]][] = [
      [pinlessProfile, [C.authenticatorClientPIN, ...bio, ...management]],
      [defaultProfile, bio],
      [faceProfile, bio],
      [ctap20Profile, [...bio, ...management]],
    ];
    const params = [undefined, new Map([[1, 1]]), new Map<number, unknown>([[1, 1], [2, 1], [6, true]])];
    for (const [profile, commands] of cases) {
      const auth = await createAuthenticator({ env: createTestEnv().env, profile, attestation: 'none' });
      for (const cmd of commands) {
        for (const p of params) expect({ profile: profile.name, cmd, status: (await ctapCall(auth, cmd, p)).status }).toEqual({ profile: profile.name, cmd, status: CtapStatus.CTAP1_ERR_INVALID_COMMAND });
      }
    }
  });

  /** Spec: CTAP 2.1 §8.2 / CHECKLIST B0.4: a command the device does not serve → CTAP1_ERR_INVALID_COMMAND. */
  it('profile.commands narrows what the dispatcher answers, and getInfo follows', async () => {
    const narrow: Profile = {
      ...defaultProfile,
      name: 'no-selection-no-config',
      commands: [...BASE, C.authenticatorClientPIN, C.authenticatorCredentialManagement, C.authenticatorLargeBlobs],
    };
    const auth = await createAuthenticator({ env: createTestEnv().env, profile: narrow });
    expect((await ctapCall(auth, C.authenticatorSelection)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
    expect((await ctapCall(auth, C.authenticatorConfig, new Map([[1, 1]]))).status).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
    const info = auth.info();
    expect(info.options).not.toHaveProperty('authnrCfg');
    expect(info.options).not.toHaveProperty('setMinPINLength');
    expect(info.options).not.toHaveProperty('ep');
    expect(info.options).not.toHaveProperty('credentialMgmtPreview');
    expect(info.options.credMgmt).toBe(true);
    expect(info.versions).not.toContain('FIDO_2_1_PRE');
    expect(info.maxRPIDsForSetMinPINLength).toBeUndefined();
  });
});

describe('checkProfileVersions', () => {
  const bad = (p: Partial<Profile>, why: RegExp) => expect(() => checkProfileVersions({ ...defaultProfile, ...p })).toThrow(why);

  /** Spec: CHECKLIST B4.2 (Chromium rejects duplicate versions); advertised ⇔ works for U2F_V2 and FIDO_2_1_PRE. */
  it('refuses versions that would not match the device', () => {
    for (const p of [defaultProfile, fingerprintProfile, pinlessProfile, ctap20Profile, u2fProfile]) expect(() => checkProfileVersions(p)).not.toThrow();
    bad({ versions: ['FIDO_2_0', 'FIDO_2_0', 'FIDO_2_1', 'U2F_V2'] }, /duplicates/);
    bad({ versions: ['U2F_V2', 'FIDO_2_1_PRE', 'FIDO_2_1'] }, /FIDO_2_1_PRE/);
    bad({ versions: ['FIDO_2_0', 'FIDO_2_1'] }, /U2F_V2 iff/);
    bad({ versions: ['FIDO_3'] }, /no protocol/);
    bad({ versions: ['U2F_V2'] }, /without CTAP2/);
    bad({ versions: ['U2F_V2', 'FIDO_2_0'] }, /PIN protocol 1|CTAP 2.1 features/);
    bad({ commands: [C.authenticatorBioEnrollment] }, /not supported/);
  });

  it('refuses CTAP 2.1 features on a CTAP 2.0 profile', () => {
    const bad20 = (p: Partial<Profile>, why: RegExp) => expect(() => checkProfileVersions({ ...ctap20Profile, ...p })).toThrow(why);
    bad20({ uv: fingerprintProfile.uv! }, /built-in UV/);
    bad20({ pin: defaultProfile.pin! }, /protocol 1/);
    bad20({ largeBlobs: { maxSerializedLargeBlobArray: 1024 } }, /CTAP 2.1 features/);
    bad20({ extensions: ['hmac-secret', 'credProtect'] }, /credProtect/);
  });
});

describe('the CTAP 2.0 profile', () => {
  async function setup() {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env, profile: ctap20Profile });
    const pin = new PinClient(async (params) => {
      const r = await ctapCall(auth, C.authenticatorClientPIN, params);
      return { status: r.status, body: r.body };
    }, 1);
    return { auth, pin, t };
  }

  /** Spec: CTAP 2.0 §5.4 getInfo: versions, extensions, aaguid, options, maxMsgSize, pinProtocols — nothing else. */
  it('answers getInfo with the CTAP 2.0 members and options only', async () => {
    const { auth } = await setup();
    const m = (await ctapCall(auth, C.authenticatorGetInfo)).body!;
    expect([...m.keys()]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(m.get(1)).toEqual(['U2F_V2', 'FIDO_2_0']);
    expect(m.get(2)).toEqual(['hmac-secret']);
    expect([...(m.get(4) as Map<string, boolean>).keys()].sort()).toEqual(['clientPin', 'plat', 'rk', 'up']);
    expect(m.get(6)).toEqual([1]);
  });

  /** Spec: CTAP 2.0 §5.5: subcommands 1–5; pinUvAuthToken (0x09) is CTAP 2.1 → INVALID_SUBCOMMAND. */
  it('serves the CTAP 2.0 clientPIN: protocol 1, getPinToken; no permissions token, no powerCycleState', async () => {
    const { auth, pin } = await setup();
    expect(await pin.setPin('1234')).toBe(0);
    const retries = await ctapCall(auth, C.authenticatorClientPIN, new Map([[1, 1], [2, Sub.getPINRetries]]));
    expect([...retries.body!.keys()]).toEqual([3]);
    expect((await pin.token({ pin: '1234', permissions: 0x03 })).status).toBe(CtapStatus.CTAP2_ERR_INVALID_SUBCOMMAND);
    const v2 = await ctapCall(auth, C.authenticatorClientPIN, new Map([[1, 2], [2, Sub.getKeyAgreement]]));
    expect(v2.status).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    // CTAP 2.0 §5.1: PIN set and no pinAuth → PIN_REQUIRED (0x36); with getPinToken's token it works.
    const cdh = new Uint8Array(32).fill(0xcd);
    expect((await ctapCall(auth, C.authenticatorMakeCredential, makeCredentialParams({ clientDataHash: cdh }))).status).toBe(
      CtapStatus.CTAP2_ERR_PUAT_REQUIRED,
    );
    const token = await pin.tokenOrThrow({ pin: '1234' });
    const mc = await ctapCall(auth, C.authenticatorMakeCredential, makeCredentialParams({ clientDataHash: cdh, extra: [[8, pin.param(token, cdh)], [9, 1]] }));
    expect(mc.status).toBe(CtapStatus.CTAP2_OK);
    expect(((mc.body!.get(2) as Uint8Array)[32]! & 0x04) !== 0).toBe(true); // UV
  });

  /**
   * Spec: CTAP 2.0 §5.5: the pinToken is generated at power-up and changes with the PIN; it is not consumed by an
   * mc/ga, not bound to an RP and has no usage timers (those are CTAP 2.1 §6.5.2.1).
   * Regression (review finding 4): the ctap20 profile used CTAP 2.1 one-shot, RP-bound tokens.
   */
  it('a pinToken serves every mc/ga, for any RP, until power cycle or PIN change; getPinToken hands out the same one', async () => {
    const { auth, pin, t } = await setup();
    expect(await pin.setPin('1234')).toBe(0);
    const token = await pin.tokenOrThrow({ pin: '1234' });
    const use = async (cmd: number, rpId: string, tok = token) => {
      const cdh = new Uint8Array(32).fill(cmd);
      const params =
        cmd === C.authenticatorMakeCredential
          ? makeCredentialParams({ rpId, clientDataHash: cdh, extra: [[8, pin.param(tok, cdh)], [9, 1]] })
          : getAssertionParams({ rpId, clientDataHash: cdh, extra: [[6, pin.param(tok, cdh)], [7, 1]] });
      return (await ctapCall(auth, cmd, params)).status;
    };
    expect(await use(C.authenticatorMakeCredential, 'a.example')).toBe(0);
    expect(await use(C.authenticatorMakeCredential, 'a.example')).toBe(0);
    expect(await use(C.authenticatorGetAssertion, 'a.example')).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS); // authorised; no allowList
    expect(await use(C.authenticatorMakeCredential, 'b.example')).toBe(0);
    t.scheduler.advance(11 * 60_000); // past CTAP 2.1's 30 s initial-use and 10 min maximum usage limits
    expect(await use(C.authenticatorMakeCredential, 'a.example')).toBe(0);
    expect(await pin.tokenOrThrow({ pin: '1234' })).toEqual(token);
    expect(await use(C.authenticatorMakeCredential, 'c.example')).toBe(0);
    await auth.powerCycle();
    expect(await use(C.authenticatorMakeCredential, 'a.example')).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    const next = await pin.tokenOrThrow({ pin: '1234' });
    expect(next).not.toEqual(token);
    expect(await use(C.authenticatorMakeCredential, 'a.example', next)).toBe(0);
    expect(await pin.changePin('1234', '5678')).toBe(0);
    expect(await use(C.authenticatorMakeCredential, 'a.example', next)).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  /**
   * Spec: CTAP 2.0 §5.2: a known option not valid for the command → INVALID_OPTION (CTAP 2.1 §6.2.2: rk →
   * UNSUPPORTED_OPTION); CTAP 2.0 §5.1 / §5.2: "If pinAuth parameter is present and the pinProtocol is not
   * supported, return CTAP2_ERR_PIN_AUTH_INVALID" (CTAP 2.1: INVALID_PARAMETER).
   * Regression (review finding 7): the ctap20 profile answered with the CTAP 2.1 codes.
   */
  it('answers with the CTAP 2.0 codes: rk in getAssertion → INVALID_OPTION; pinAuth under protocol 2 → PIN_AUTH_INVALID', async () => {
    const { auth, pin } = await setup();
    expect((await ctapCall(auth, C.authenticatorGetAssertion, getAssertionParams({ options: { rk: false } }))).status).toBe(
      CtapStatus.CTAP2_ERR_INVALID_OPTION,
    );
    expect(await pin.setPin('1234')).toBe(0);
    const token = await pin.tokenOrThrow({ pin: '1234' });
    const cdh = new Uint8Array(32).fill(0xcd);
    const pinAuth = pin.param(token, cdh);
    const mc = (protocol: number) => makeCredentialParams({ clientDataHash: cdh, extra: [[8, pinAuth], [9, protocol]] });
    const ga = (protocol: number) => getAssertionParams({ clientDataHash: cdh, extra: [[6, pinAuth], [7, protocol]] });
    expect((await ctapCall(auth, C.authenticatorMakeCredential, mc(2))).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await ctapCall(auth, C.authenticatorGetAssertion, ga(2))).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
    expect((await ctapCall(auth, C.authenticatorMakeCredential, mc(1))).status).toBe(CtapStatus.CTAP2_OK);
  });

  it('refuses CTAP 2.1 commands and EdDSA', async () => {
    const { auth } = await setup();
    for (const cmd of [C.authenticatorSelection, C.authenticatorCredentialManagement, C.authenticatorLargeBlobs, C.authenticatorConfig]) {
      expect((await ctapCall(auth, cmd)).status).toBe(CtapStatus.CTAP1_ERR_INVALID_COMMAND);
    }
    const ed = await ctapCall(auth, C.authenticatorMakeCredential, makeCredentialParams({ algs: [-8] }));
    expect(ed.status).toBe(CtapStatus.CTAP2_ERR_UNSUPPORTED_ALGORITHM);
  });
});
