/**
 * Persistent state members of authenticatorLargeBlobs / authenticatorConfig / enterprise attestation: they
 * round-trip through the store, a store written before them reads as a factory device, bad values are refused.
 */
import { describe, expect, it } from 'vitest';
import { decodeLenient, encode } from '../cbor.ts';
import { fromHex } from '../bytes.ts';
import { createAuthenticator } from './authenticator.ts';
import { configDefaults, decodeState, encodeState, initialLargeBlobArray } from './state.ts';
import { createTestEnv } from '../../test/helpers/testEnv.ts';

async function freshStoreBytes(): Promise<Uint8Array> {
  const t = createTestEnv({ seed: 'state' });
  await createAuthenticator({ env: t.env });
  return t.store.snapshot()!;
}

/** The stored map with `edit` applied to its text-keyed members. */
function editStored(bytes: Uint8Array, edit: (m: Map<string, unknown>) => void): Uint8Array {
  const m = decodeLenient(bytes) as Map<string, unknown>;
  edit(m);
  return encode(m);
}

describe('persistent state: large blobs, config, enterprise attestation', () => {
  it('a fresh device holds the initial large-blob array (CTAP 2.1 §6.10.2), no minPinLengthRPIDs, EA disabled', async () => {
    const s = decodeState(await freshStoreBytes());
    expect(s.largeBlobArray).toEqual(fromHex('8076be8b528d0075f7aae98d6fa57a6d3c'));
    expect(s.minPinLengthRpIds).toEqual([]);
    expect(s.enterpriseAttestation).toBe(false);
    expect(s.attestation.enterpriseCertificate?.[0]).toBe(0x30); // a DER SEQUENCE
  });

  it('round-trips the members', async () => {
    const s = decodeState(await freshStoreBytes());
    const edited = {
      ...s,
      largeBlobArray: new Uint8Array([1, 2, 3]),
      minPinLengthRpIds: ['a.example', 'b.example'],
      enterpriseAttestation: true,
    };
    expect(decodeState(encodeState(edited))).toEqual(edited);
  });

  it('a store written before them reads as factory values (and EA falls back to the basic certificate)', async () => {
    const old = editStored(await freshStoreBytes(), (m) => {
      for (const k of ['largeBlobArray', 'minPinLengthRpIds', 'enterpriseAttestation']) m.delete(k);
      (m.get('attestation') as Map<string, unknown>).delete('enterpriseCertificate');
    });
    const s = decodeState(old);
    const { largeBlobArray, minPinLengthRpIds, enterpriseAttestation } = s;
    expect({ largeBlobArray, minPinLengthRpIds, enterpriseAttestation }).toEqual(configDefaults());
    expect(s.attestation.enterpriseCertificate).toBeUndefined();
  });

  it.each([
    ['largeBlobArray', 'text'],
    ['minPinLengthRpIds', 'x'],
    ['minPinLengthRpIds', [1]],
    ['enterpriseAttestation', 1],
  ])('refuses %s = %j as corrupt', async (key, value) => {
    const bad = editStored(await freshStoreBytes(), (m) => m.set(key, value));
    expect(() => decodeState(bad)).toThrow(expect.objectContaining({ code: 'EMU_ERR_STATE_CORRUPT' }));
  });

  it('initialLargeBlobArray is a fresh copy each time', () => {
    const a = initialLargeBlobArray();
    a[0] = 0;
    expect(initialLargeBlobArray()[0]).toBe(0x80);
  });
});
