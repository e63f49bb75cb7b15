/**
 * Interop: credentials injected with WebDriver Credential Parameters (WebAuthn L3 §11 "Add Credential") over the
 * HTTP control API, with client-chosen credential IDs, then used by Yubico python-fido2 0.9.1 over UDP
 * (test/interop/python/injected_credentials.py): the non-resident one through the allowList (signature verified
 * with the injected key's public key), the excludeList and CTAP1; the resident one by a discoverable
 * getAssertion, and its largeBlob in the array python-fido2's LargeBlobs reads. Missing packages fail: run
 * `bash scripts/setup-system.sh`.
 */
import { describe, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ControlClient } from '../../src/control/http/client.ts';
import { startControlServer } from '../../src/control/http/server.ts';
import { python, requireChecks, withPythonDevice } from './helpers.ts';

function p256(): { pkcs8: string; spkiHex: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64url'),
    spkiHex: publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
  };
}

describe('python-fido2 over UDP: WebDriver-injected credentials', () => {
  it('non-resident by its chosen ID (allowList, excludeList, U2F), resident by discovery, its largeBlob readable', async ({ expect }) => {
    await withPythonDevice({ attestation: 'none' }, async (d) => {
      const server = await startControlServer({ authenticators: { default: d.device } });
      try {
        const http = new ControlClient({ url: server.url, token: server.token });
        const rpId = 'webdriver.example';
        const serverKey = p256();
        const residentKey = p256();
        // What a WebDriver client (Selenium's Credential.createNonResidentCredential / createResidentCredential) sends.
        const serverId = randomBytes(16);
        const residentId = randomBytes(16);
        const userHandle = randomBytes(8);
        const blob = Buffer.from('large blob written by the WebDriver client');
        const base = '/authenticators/default/credentials';
        const nonResident = await http.request<{ credentialId: string; isResidentCredential: boolean }>('POST', base, {
          credentialId: serverId.toString('base64url'),
          isResidentCredential: false,
          rpId,
          privateKey: serverKey.pkcs8,
          signCount: 4,
        });
        expect(nonResident).toMatchObject({ credentialId: serverId.toString('base64url'), isResidentCredential: false });
        await http.request('POST', base, {
          credentialId: residentId.toString('base64url'),
          isResidentCredential: true,
          rpId,
          privateKey: residentKey.pkcs8,
          userHandle: userHandle.toString('base64url'),
          signCount: 0,
          largeBlob: blob.toString('base64url'),
        });

        const r = await python(
          'injected_credentials',
          d,
          '--rp-id', rpId,
          '--server-id', serverId.toString('hex'),
          '--server-key', serverKey.spkiHex,
          '--server-sign-count', '4',
          '--resident-id', residentId.toString('hex'),
          '--resident-key', residentKey.spkiHex,
          '--user-handle', userHandle.toString('hex'),
          '--large-blob', blob.toString('hex'),
        );
        const c = requireChecks(r, [
          'non_discoverable.allow_list',
          'discoverable.no_allow_list',
          'non_discoverable.exclude_list',
          'discoverable.large_blob',
          'non_discoverable.u2f_key_handle',
        ]);
        expect(c['non_discoverable.allow_list']).toEqual({ counters: [5, 6], otherRp: 'NO_CREDENTIALS' });
        expect(c['discoverable.no_allow_list']).toEqual({ counter: 1 });
        expect(c['non_discoverable.exclude_list']).toEqual({ error: 'CREDENTIAL_EXCLUDED' });
        expect(c['discoverable.large_blob']).toEqual({ length: blob.length, entries: 1 });
        // CTAP1 and CTAP2 share the credential's counter (CTAP 2.1 §11): it continues after the two assertions.
        expect(c['non_discoverable.u2f_key_handle']).toEqual({ counter: 7, userPresence: 1 });
        // The counters the device persisted are what the control API reports.
        const listed = await http.request<{ credentialId: string; signCount: number }[]>('GET', base);
        expect(listed.find((x) => x.credentialId === serverId.toString('base64url'))?.signCount).toBe(7);
      } finally {
        await server.close();
      }
    });
  });
});
