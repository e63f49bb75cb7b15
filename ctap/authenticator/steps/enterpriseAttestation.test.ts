/**
 * Enterprise attestation in makeCredential (CTAP 2.1 §6.1.2 step 9, §7.1; CHECKLIST B1.9): when it is refused,
 * when it silently falls back to a regular attestation, and what an enterprise attestation looks like (epAtt,
 * packed x5c with the enterprise certificate), checked with node:crypto.
 */
import { X509Certificate, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, type AttestationMode } from '../authenticator.ts';
import { defaultProfile, type Profile } from '../profile.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import type { CborMap } from '../../cbor.ts';
import { createTestEnv, ctapCall, makeCredentialParams } from '../../../test/helpers/testEnv.ts';
import { ConfigSub, ManagementClient } from '../../../test/helpers/management.ts';
import { parseAuthData } from '../../../test/helpers/webauthn.ts';

const S = CtapStatus;
const EA_PROFILE: Profile = { ...defaultProfile, name: 'ea', enterpriseAttestation: { rpIds: ['corp.example'], platformManaged: true } };

async function setup(o: { profile?: Profile; attestation?: AttestationMode; enable?: boolean } = {}) {
  const t = createTestEnv({ seed: 'ea' });
  const auth = await createAuthenticator({ env: t.env, profile: o.profile ?? EA_PROFILE, attestation: o.attestation ?? 'basic' });
  const m = new ManagementClient(async (cmd, params) => {
    const r = await ctapCall(auth, cmd, params);
    return { status: r.status, body: r.body };
  });
  if (o.enable !== false) expect((await m.config(ConfigSub.enableEnterpriseAttestation)).status).toBe(0);
  const cdh = new Uint8Array(32).fill(0xea);
  const mc = (rpId: string, ea: unknown) =>
    ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ rpId, clientDataHash: cdh, extra: [[0x0a, ea]] }));
  return { t, auth, mc, cdh };
}

/** The attestation statement verifies with x5c[0]'s key over authData || clientDataHash; returns that certificate. */
function checkPacked(body: CborMap, cdh: Uint8Array): X509Certificate {
  expect(body.get(1)).toBe('packed');
  const attStmt = body.get(3) as CborMap;
  const x5c = attStmt.get('x5c') as Uint8Array[];
  const cert = new X509Certificate(x5c[0]!);
  const signed = Buffer.concat([body.get(2) as Uint8Array, cdh]);
  expect(nodeVerify('sha256', signed, { key: cert.publicKey, dsaEncoding: 'der' }, attStmt.get('sig') as Uint8Array)).toBe(true);
  return cert;
}

describe('enterprise attestation (CTAP 2.1 §6.1.2 step 9)', () => {
  it('not EA-capable, or EA disabled → INVALID_PARAMETER; a value other than 1 or 2 → INVALID_OPTION', async () => {
    const { enterpriseAttestation: _ea, ...plain } = defaultProfile;
    expect((await (await setup({ profile: { ...plain, name: 'no-ea' }, enable: false })).mc('corp.example', 1)).status).toBe(
      S.CTAP1_ERR_INVALID_PARAMETER,
    );
    expect((await (await setup({ enable: false })).mc('corp.example', 2)).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER);
    const { mc } = await setup();
    expect((await mc('corp.example', 3)).status).toBe(S.CTAP2_ERR_INVALID_OPTION);
    expect((await mc('corp.example', 0)).status).toBe(S.CTAP2_ERR_INVALID_OPTION);
  });

  it('vendor-facilitated (1): enterprise attestation for a listed RP ID; a regular one, without epAtt, for others', async () => {
    const { auth, mc, cdh } = await setup();
    const listed = await mc('corp.example', 1);
    expect(listed.status).toBe(0);
    expect(listed.body!.get(4)).toBe(true);
    const cert = checkPacked(listed.body!, cdh);
    expect(cert.subject).toMatch(/serialNumber=[0-9A-F]{16}$/);
    expect(parseAuthData(listed.body!.get(2) as Uint8Array).aaguid).toEqual(auth.profile.aaguid);

    const other = await mc('other.example', 1);
    expect(other.status).toBe(0);
    expect(other.body!.has(4)).toBe(false);
    expect(checkPacked(other.body!, cdh).subject).not.toContain('serialNumber');
  });

  it('platform-managed (2): for any RP ID; a vendor-facilitated-only device treats 2 like 1', async () => {
    const { mc } = await setup();
    expect((await mc('any.example', 2)).body!.get(4)).toBe(true);
    const vendorOnly = await setup({ profile: { ...EA_PROFILE, enterpriseAttestation: { rpIds: ['corp.example'], platformManaged: false } } });
    expect((await vendorOnly.mc('any.example', 2)).body!.has(4)).toBe(false);
    expect((await vendorOnly.mc('corp.example', 2)).body!.get(4)).toBe(true);
  });

  it('an enterprise attestation is packed with x5c even on a device whose attestation mode is none or self', async () => {
    for (const attestation of ['none', 'self'] as const) {
      const { auth, mc, cdh } = await setup({ attestation });
      const r = await mc('corp.example', 1);
      expect(r.body!.get(4)).toBe(true);
      expect(checkPacked(r.body!, cdh).subject).toContain('serialNumber=');
      expect(parseAuthData(r.body!.get(2) as Uint8Array).aaguid).toEqual(auth.profile.aaguid);
    }
  });
});
