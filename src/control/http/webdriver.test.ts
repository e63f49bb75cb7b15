import { describe, expect, it } from 'vitest';
import { credentialInput, planAuthenticator, webDriverCredential } from './webdriver.ts';
import { HttpError } from './errors.ts';

const plan = (b: Parameters<typeof planAuthenticator>[0]) => planAuthenticator(b, { allowRemote: false });

describe('WebDriver virtual authenticator options → vfido', () => {
  it('protocol and hasUserVerification choose the profile', () => {
    expect(plan({ protocol: 'ctap1/u2f' }).options.profile).toBe('u2f');
    expect(plan({ protocol: 'ctap2' }).options.profile).toBe('ctap20');
    expect(plan({ protocol: 'ctap2_1', hasUserVerification: true }).options.profile).toBe('ctap21-fingerprint');
    expect(plan({ protocol: 'ctap2_1', hasUserVerification: false }).options.profile).toBe('ctap21-nopin');
    expect(plan({}).options.profile).toBe('ctap21');
    expect(plan({ protocol: 'ctap1/u2f', profile: 'ctap21' }).options.profile).toBe('ctap21'); // checked after the start
    expect(() => plan({ protocol: 'ctap1/u2f', hasResidentKey: true })).toThrow(/^hasResidentKey: /);
  });

  it('presence, resident keys, UV and backup defaults', () => {
    const p = plan({ isUserConsenting: false, hasResidentKey: false, hasUserVerification: true, isUserVerified: false, defaultBackupState: true });
    expect(p.options).toMatchObject({ transport: 'udp', store: 'memory', host: '127.0.0.1', port: 0, presence: { mode: 'deny' }, profileOverrides: { residentCredentialCapacity: 0 } });
    expect(p).toMatchObject({ enrollTemplate: true, isUserVerified: false, backup: { be: false, bs: true } });
    expect(() => plan({ isUserConsenting: true, presence: { mode: 'deny' } })).toThrow(HttpError);
    expect(() => plan({ hasResidentKey: false, profileOverrides: { residentCredentialCapacity: 3 } })).toThrow(/^hasResidentKey/);
    expect(() => plan({ udp: { host: '0.0.0.0' } })).toThrow(/^udp\.host/);
    expect(planAuthenticator({ udp: { host: '0.0.0.0', port: 9 } }, { allowRemote: true }).options).toMatchObject({ host: '0.0.0.0', port: 9 });
  });

  it('Credential Parameters → CredentialInput: both kinds, a chosen ID, a large blob', () => {
    expect(credentialInput({ rpId: 'a.example', userHandle: 'AQ', userName: 'u', userDisplayName: 'U', signCount: 3 })).toEqual({
      rpId: 'a.example',
      discoverable: true,
      user: { id: 'AQ', name: 'u', displayName: 'U' },
      signCount: 3,
    });
    expect(credentialInput({ rpId: 'a', credentialId: 'AQID', isResidentCredential: false, largeBlob: 'Bw' })).toEqual({
      rpId: 'a',
      discoverable: false,
      credentialId: 'AQID',
      largeBlob: 'Bw',
    });
    // A resident credential is returned by user handle: it needs one; a name without a handle names nobody.
    expect(() => credentialInput({ rpId: 'a' })).toThrow(/^body\.userHandle: required/);
    expect(() => credentialInput({ rpId: 'a', isResidentCredential: false, userName: 'u' })).toThrow(/^body\.userName: /);
  });

  it('CredentialInfo → WebDriver Credential (private key only when present)', () => {
    const c = webDriverCredential(
      { credentialId: 'Aw', rpId: 'a', user: { id: 'AQ', name: 'n' }, alg: -7, signCount: 1, discoverable: true, status: 'active', publicKey: 'pk' },
      { backupEligibility: true, backupState: false },
    );
    expect(c).toEqual({ credentialId: 'Aw', isResidentCredential: true, rpId: 'a', userHandle: 'AQ', signCount: 1, userName: 'n', backupEligibility: true, backupState: false, alg: -7, publicKey: 'pk', status: 'active' });
    const server = webDriverCredential(
      { credentialId: 'Bw', rpId: 'b', alg: -8, signCount: 0, discoverable: false, status: 'deactivated', publicKey: 'pk', largeBlob: 'AA' },
      { backupEligibility: false, backupState: false },
    );
    expect(server).toEqual({ credentialId: 'Bw', isResidentCredential: false, rpId: 'b', signCount: 0, largeBlob: 'AA', backupEligibility: false, backupState: false, alg: -8, publicKey: 'pk', status: 'deactivated' });
  });
});
