/**
 * Interop: @simplewebauthn/server (a WebAuthn relying-party verifier nobody here wrote) accepts what vfido
 * produces. The in-process device is driven over UDP by vfido's CtapHidClient; the WebAuthn client side
 * (clientDataJSON, the attestationObject map {fmt, attStmt, authData}, base64url JSON) is built here, as a
 * browser would. Registration for attestation none / packed self / packed x5c (the device's CA set as the
 * trusted root through SettingsService), then authentication with an allow list and discoverable.
 * SettingsService is process-global, so these tests run one after another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import {
  SettingsService,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { encode, type CborMap } from '../../ctap/cbor.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { AttestationMode } from '../../src/device.ts';
import { CtapHidClient } from '../../src/client/ctaphid.ts';
import { connectUdp } from '../../transports/udp.ts';
import { parseAuthData } from '../helpers/webauthn.ts';
import { hex, openInteropDevice, type InteropDevice } from './helpers.ts';

const RP_ID = 'example.com';
const ORIGIN = 'https://example.com';
const ES256 = -7;
const EdDSA = -8;

const b64url = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** What a browser puts in clientDataJSON (WebAuthn §5.8.1), and its hash for the authenticator. */
function clientData(type: 'webauthn.create' | 'webauthn.get', challenge: Uint8Array): { json: string; hash: Uint8Array } {
  const json = JSON.stringify({ type, challenge: b64url(challenge), origin: ORIGIN, crossOrigin: false });
  return { json, hash: sha256(json) };
}

interface Session {
  d: InteropDevice;
  client: CtapHidClient;
  close(): Promise<void>;
}

async function open(attestation: AttestationMode): Promise<Session> {
  const d = await openInteropDevice({ attestation });
  const pipe = await connectUdp({ host: '127.0.0.1', port: d.port });
  const client = await CtapHidClient.open(pipe);
  return {
    d,
    client,
    async close() {
      client.close();
      await pipe.closeAsync();
      await d.close();
    },
  };
}

/** navigator.credentials.create(): makeCredential, then the WebAuthn JSON a browser would hand the RP. */
async function register(s: Session, alg: number, challenge: Uint8Array) {
  const cd = clientData('webauthn.create', challenge);
  const userId = randomBytes(16);
  const r = await s.client.cbor(
    CtapCommand.authenticatorMakeCredential,
    new Map<number, unknown>([
      [1, cd.hash],
      [2, { id: RP_ID, name: 'Example' }],
      [3, { id: new Uint8Array(userId), name: 'alice', displayName: 'Alice' }],
      [4, [{ alg, type: 'public-key' }]],
      [7, { rk: true }],
    ]),
  );
  expect(r.status).toBe(CtapStatus.CTAP2_OK);
  const m = r.data as CborMap;
  const authData = m.get(2) as Uint8Array;
  // WebAuthn §6.5: the attestation object is {fmt, attStmt, authData} with text keys.
  const attestationObject = encode(
    new Map<string, unknown>([
      ['fmt', m.get(1)],
      ['attStmt', m.get(3)],
      ['authData', authData],
    ]),
  );
  const credentialId = parseAuthData(authData).credentialId!;
  const response: RegistrationResponseJSON = {
    id: b64url(credentialId),
    rawId: b64url(credentialId),
    type: 'public-key',
    response: { clientDataJSON: b64url(cd.json), attestationObject: b64url(attestationObject), transports: ['usb'] },
    clientExtensionResults: {},
    authenticatorAttachment: 'cross-platform',
  };
  return { response, credentialId, userId: new Uint8Array(userId), fmt: m.get(1) as string };
}

/** navigator.credentials.get(): getAssertion (allow list or discoverable) → WebAuthn JSON. */
async function authenticate(s: Session, challenge: Uint8Array, allow?: Uint8Array): Promise<AuthenticationResponseJSON> {
  const cd = clientData('webauthn.get', challenge);
  const params = new Map<number, unknown>([
    [1, RP_ID],
    [2, cd.hash],
  ]);
  if (allow) params.set(3, [{ id: allow, type: 'public-key' }]);
  const r = await s.client.cbor(CtapCommand.authenticatorGetAssertion, params);
  expect(r.status).toBe(CtapStatus.CTAP2_OK);
  const m = r.data as CborMap;
  const id = (m.get(1) as CborMap).get('id') as Uint8Array;
  const user = m.get(4) as CborMap | undefined;
  return {
    id: b64url(id),
    rawId: b64url(id),
    type: 'public-key',
    response: {
      clientDataJSON: b64url(cd.json),
      authenticatorData: b64url(m.get(2) as Uint8Array),
      signature: b64url(m.get(3) as Uint8Array),
      ...(user ? { userHandle: b64url(user.get('id') as Uint8Array) } : {}),
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'cross-platform',
  };
}

const expectedFmt: Record<AttestationMode, string> = { none: 'none', self: 'packed', basic: 'packed' };

describe('@simplewebauthn/server verifies vfido registrations and authentications', () => {
  afterEach(() => {
    SettingsService.setRootCertificates({ identifier: 'packed', certificates: [] });
  });

  const cases = (['none', 'self', 'basic'] as const).flatMap((attestation) =>
    [ES256, EdDSA].map((alg) => ({ attestation, alg })),
  );

  /** Spec: WebAuthn §7.1 (registration) and §7.2 (authentication) ceremonies, as an RP verifies them. */
  it.each(cases)('attestation $attestation, alg $alg: register, then authenticate (allow list, discoverable)', async ({
    attestation,
    alg,
  }) => {
    const s = await open(attestation);
    try {
      if (attestation === 'basic') {
        SettingsService.setRootCertificates({ identifier: 'packed', certificates: [new Uint8Array(s.d.caDer!)] });
      }
      const challenge = randomBytes(32);
      const reg = await register(s, alg, challenge);
      expect(reg.fmt).toBe(expectedFmt[attestation]);
      const v = await verifyRegistrationResponse({
        response: reg.response,
        expectedChallenge: b64url(challenge),
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: false,
        supportedAlgorithmIDs: [alg],
      });
      expect(v.verified).toBe(true);
      const info = v.registrationInfo!;
      expect(info.fmt).toBe(expectedFmt[attestation]);
      expect(info.credential.id).toBe(b64url(reg.credentialId));
      expect(info.userVerified).toBe(false);
      expect(info.credentialDeviceType).toBe('singleDevice');
      expect(info.credentialBackedUp).toBe(false);
      // SimpleWebAuthn renders the AAGUID as a UUID; self attestation carries a zero AAGUID.
      const aaguidHex = info.aaguid.replaceAll('-', '');
      expect(aaguidHex).toBe(attestation === 'self' ? '00'.repeat(16) : hex(s.d.profile.aaguid));

      let credential: WebAuthnCredential = info.credential;
      for (const allow of [reg.credentialId, undefined]) {
        const ch = randomBytes(32);
        const response = await authenticate(s, ch, allow);
        if (!allow) expect(response.response.userHandle).toBe(b64url(reg.userId));
        const a = await verifyAuthenticationResponse({
          response,
          expectedChallenge: b64url(ch),
          expectedOrigin: ORIGIN,
          expectedRPID: RP_ID,
          credential,
          requireUserVerification: false,
        });
        expect(a.verified).toBe(true);
        expect(a.authenticationInfo.newCounter).toBeGreaterThan(credential.counter);
        credential = { ...credential, counter: a.authenticationInfo.newCounter };
      }
    } finally {
      await s.close();
    }
  });

  /** The trusted root really is checked: another device's CA does not anchor this device's x5c. */
  it('packed x5c is rejected when the trusted root is another device CA', async () => {
    const s = await open('basic');
    const other = await openInteropDevice({ attestation: 'basic' });
    try {
      expect(hex(other.caDer!)).not.toBe(hex(s.d.caDer!));
      SettingsService.setRootCertificates({ identifier: 'packed', certificates: [new Uint8Array(other.caDer!)] });
      const challenge = randomBytes(32);
      const reg = await register(s, ES256, challenge);
      await expect(
        verifyRegistrationResponse({
          response: reg.response,
          expectedChallenge: b64url(challenge),
          expectedOrigin: ORIGIN,
          expectedRPID: RP_ID,
          requireUserVerification: false,
        }),
      ).rejects.toThrow();
    } finally {
      await other.close();
      await s.close();
    }
  });
});
