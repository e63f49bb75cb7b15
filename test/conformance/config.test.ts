/**
 * authenticatorConfig conformance over every transport (memory and UDP): alwaysUv, setMinPINLength with its
 * effect on clientPIN, and enterprise attestation in makeCredential.
 */
import { X509Certificate } from 'node:crypto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { PinClient, Perm } from '../helpers/pinClient.ts';
import { ConfigSub, ManagementClient, type CborCall } from '../helpers/management.ts';
import { parseAuthData, sha256 } from '../helpers/webauthn.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { defaultProfile } from '../../ctap/authenticator/profile.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';

const PIN = '1234';
const S = CtapStatus;

describe.each(TRANSPORTS)('authenticatorConfig conformance over %s', (transport) => {
  let h: Harness;
  let c: CtapHidClient;
  let call: CborCall;
  let m: ManagementClient;
  let client: PinClient;

  beforeEach(async () => {
    h = await openHarness(transport, {
      seed: `config-${transport}`,
      profile: { ...defaultProfile, name: 'ctap21-ea', enterpriseAttestation: { rpIds: ['corp.example'], platformManaged: false } },
    });
    c = await h.client();
    call = async (cmd, params) => {
      const r = await c.cbor(cmd, params);
      return { status: r.status, body: r.data as CborMap | undefined };
    };
    m = new ManagementClient(call);
    client = new PinClient((p) => call(CtapCommand.authenticatorClientPIN, p), 2);
    expect(await client.setPin(PIN)).toBe(0);
  });
  afterEach(async () => {
    await h.close();
  });

  const options = async () => ((await call(CtapCommand.authenticatorGetInfo)).body!.get(4) as CborMap);
  const acfg = async () => ({ pin: client, token: await client.tokenOrThrow({ pin: PIN, permissions: Perm.acfg }) });

  /** Spec: CTAP 2.1 §6.11.2 toggleAlwaysUv; §6.2.2 step 5: alwaysUv makes getAssertion (up=true) require UV. */
  it('toggleAlwaysUv needs acfg once a PIN is set; alwaysUv then applies to getAssertion', async () => {
    const mc = await call(
      CtapCommand.authenticatorMakeCredential,
      new Map<number, unknown>([
        [1, sha256('mc')],
        [2, { id: 'example.com' }],
        [3, { id: new Uint8Array([1]) }],
        [4, [{ alg: -7, type: 'public-key' }]],
      ]),
    );
    expect(mc.status).toBe(0); // makeCredUvNotRqd: a non-discoverable credential without UV
    const id = parseAuthData(mc.body!.get(2) as Uint8Array).credentialId!;
    expect((await m.config(ConfigSub.toggleAlwaysUv)).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
    expect((await m.config(ConfigSub.toggleAlwaysUv, { auth: await acfg() })).status).toBe(0);
    const o = await options();
    expect([o.get('alwaysUv'), o.get('makeCredUvNotRqd')]).toEqual([true, false]);
    const ga = await call(
      CtapCommand.authenticatorGetAssertion,
      new Map<number, unknown>([[1, 'example.com'], [2, sha256('ga')], [3, [{ id, type: 'public-key' }]]]),
    );
    expect(ga.status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
  });

  /** Spec: §6.11.4 setMinPINLength; §6.5.5.7.2 step 11: forcePINChange refuses tokens until changePIN. */
  it('setMinPINLength above the PIN length forces a PIN change before any new token', async () => {
    const params = new Map<number, unknown>([[1, 6], [2, ['rp.example']]]);
    expect((await m.config(ConfigSub.setMinPINLength, { params, auth: await acfg() })).status).toBe(0);
    const info = (await call(CtapCommand.authenticatorGetInfo)).body!;
    expect([info.get(0x0c), info.get(0x0d), info.get(0x10)]).toEqual([true, 6, 4]);
    expect((await client.token({ pin: PIN, permissions: Perm.mc })).status).toBe(S.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect(await client.changePin(PIN, '654321')).toBe(0);
    expect((await client.token({ pin: '654321', permissions: Perm.mc })).status).toBe(0);
    expect((await call(CtapCommand.authenticatorGetInfo)).body!.get(0x0c)).toBe(false);
  });

  /** Spec: §6.11.1 + §6.1.2 step 9 — EA enabled by config; vendor-facilitated for the listed RP only. */
  it('enableEnterpriseAttestation, then makeCredential returns epAtt with the enterprise certificate for a listed RP', async () => {
    expect((await options()).get('ep')).toBe(false);
    const mc = async (rpId: string) => {
      const token = await client.tokenOrThrow({ pin: PIN, permissions: Perm.mc, rpId });
      const cdh = sha256(`ea-${rpId}`);
      return call(
        CtapCommand.authenticatorMakeCredential,
        new Map<number, unknown>([
          [1, cdh],
          [2, { id: rpId }],
          [3, { id: new Uint8Array([2]) }],
          [4, [{ alg: -7, type: 'public-key' }]],
          [8, client.param(token, cdh)],
          [9, 2],
          [0x0a, 1],
        ]),
      );
    };
    expect((await mc('corp.example')).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER);
    expect((await m.config(ConfigSub.enableEnterpriseAttestation, { auth: await acfg() })).status).toBe(0);
    expect((await options()).get('ep')).toBe(true);
    const ea = await mc('corp.example');
    expect(ea.status).toBe(0);
    expect(ea.body!.get(4)).toBe(true);
    const x5c = (ea.body!.get(3) as CborMap).get('x5c') as Uint8Array[];
    expect(new X509Certificate(x5c[0]!).subject).toMatch(/serialNumber=[0-9A-F]{16}/);
    const regular = await mc('other.example');
    expect(regular.status).toBe(0);
    expect(regular.body!.has(4)).toBe(false);
  });
});
