import { describe, expect, it } from 'vitest';
import { CREDENTIAL_ID_LENGTH, unwrapCredentialId, wrapCredentialId } from './credentialId.ts';
import { CoseAlg } from './env.ts';
import { createCrypto } from '../../src/env/crypto.ts';
import { createSeededRng } from '../../src/env/rng.ts';
import { sha256 } from '../../test/helpers/webauthn.ts';

const rng = createSeededRng('credential-id');
const crypto = createCrypto({ rng, deterministic: true });
const masterKey = rng.randomBytes(32);
const rpIdHash = sha256('example.com');
const privateKey = rng.randomBytes(32);

describe('credential IDs: version | nonce | AES-256-GCM(master key, AAD = rpIdHash)', () => {
  it('round-trips alg, private key, resident flag and credProtect; every ID is 64 bytes and starts with version 1', () => {
    for (const [alg, resident, credProtect] of [
      [CoseAlg.ES256, false, 0],
      [CoseAlg.EdDSA, true, 3],
    ] as const) {
      const id = wrapCredentialId(crypto, rng, masterKey, rpIdHash, { alg, privateKey, resident, credProtect });
      expect(id.length).toBe(CREDENTIAL_ID_LENGTH);
      expect(CREDENTIAL_ID_LENGTH).toBe(64);
      expect(id[0]).toBe(1);
      expect(id.includes(privateKey[0]!) && Buffer.from(id).includes(Buffer.from(privateKey))).toBe(false); // sealed
      expect(unwrapCredentialId(crypto, masterKey, rpIdHash, id)).toEqual({ alg, privateKey, resident, credProtect });
    }
  });

  it('two wraps of the same key differ (fresh nonce)', () => {
    const k = { alg: CoseAlg.ES256, privateKey, resident: false, credProtect: 0 } as const;
    expect(wrapCredentialId(crypto, rng, masterKey, rpIdHash, k)).not.toEqual(wrapCredentialId(crypto, rng, masterKey, rpIdHash, k));
  });

  it('an ID does not open for another rpId, under another master key, when tampered with, or when malformed', () => {
    const id = wrapCredentialId(crypto, rng, masterKey, rpIdHash, { alg: CoseAlg.ES256, privateKey, resident: false, credProtect: 0 });
    expect(unwrapCredentialId(crypto, masterKey, sha256('evil.example'), id)).toBeUndefined();
    expect(unwrapCredentialId(crypto, rng.randomBytes(32), rpIdHash, id)).toBeUndefined();
    for (const i of [0, 5, 20, 63]) {
      const bad = id.slice();
      bad[i]! ^= 0x01;
      expect(unwrapCredentialId(crypto, masterKey, rpIdHash, bad)).toBeUndefined();
    }
    expect(unwrapCredentialId(crypto, masterKey, rpIdHash, id.subarray(0, 63))).toBeUndefined();
    expect(unwrapCredentialId(crypto, masterKey, rpIdHash, new Uint8Array(0))).toBeUndefined();
  });
});
