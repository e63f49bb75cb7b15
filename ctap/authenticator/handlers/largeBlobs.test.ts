/**
 * authenticatorLargeBlobs (CTAP 2.1 §6.10.2) through the dispatcher: reads, fragmented writes, the sequence and
 * length rules, the truncated-hash check, lbw authentication (message built in test/helpers/management.ts).
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator.ts';
import { defaultProfile, pinlessProfile, type Profile } from '../profile.ts';
import { decodeState } from '../state.ts';
import { CtapCommand } from '../../constants/commands.ts';
import { CtapStatus } from '../../constants/status.ts';
import { fromHex } from '../../bytes.ts';
import { createTestEnv, ctapCall, makeCredentialParams } from '../../../test/helpers/testEnv.ts';
import { Perm, PinClient } from '../../../test/helpers/pinClient.ts';
import { ConfigSub, ManagementClient, serializeLargeBlobArray, type CborCall } from '../../../test/helpers/management.ts';

const PIN = '1234';
const S = CtapStatus;
/** CTAP 2.1 §6.10.2: the initial serialized large-blob array (fixture: the spec's own value). */
const INITIAL = fromHex('8076be8b528d0075f7aae98d6fa57a6d3c');
/** A small maxMsgSize makes fragmenting visible: maxFragmentLength = 1024 − 64. */
const SMALL: Profile = { ...defaultProfile, maxMsgSize: 1024, largeBlobs: { maxSerializedLargeBlobArray: 2048 } };
const FRAGMENT = 960;

async function setup(profile: Profile = SMALL) {
  const t = createTestEnv({ seed: 'largeblobs' });
  const auth = await createAuthenticator({ env: t.env, profile });
  const call: CborCall = async (cmd, params) => {
    const r = await ctapCall(auth, cmd, params);
    return { status: r.status, body: r.body };
  };
  const pin = new PinClient((p) => call(CtapCommand.authenticatorClientPIN, p), 2);
  const m = new ManagementClient(call);
  const stored = () => decodeState(t.store.snapshot()!).largeBlobArray;
  return { t, auth, call, pin, m, stored };
}

/** A serialized array of `n` bytes exactly (one byte-string entry padded to fit). */
function arrayOfLength(n: number): Uint8Array {
  for (let pad = n - 20; pad >= 0; pad--) {
    const a = serializeLargeBlobArray([new Uint8Array(pad).fill(0x5a)]);
    if (a.length === n) return a;
  }
  throw new Error(`no array of ${n} bytes`);
}

describe('authenticatorLargeBlobs (CTAP 2.1 §6.10.2)', () => {
  /** Spec: §6.10.2 step 4 (get) and the initial array. */
  it('get: the initial array; short read at the end; offset, length, auth and size rules', async () => {
    const { call, m } = await setup();
    expect(await m.largeBlobGet(0, FRAGMENT)).toEqual({ status: 0, body: new Map([[1, INITIAL]]) });
    expect((await m.largeBlobGet(5, 4)).body!.get(1)).toEqual(INITIAL.subarray(5, 9));
    expect((await m.largeBlobGet(17, 10)).body!.get(1)).toEqual(new Uint8Array(0));
    expect((await m.largeBlobGet(18, 10)).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER);
    expect((await m.largeBlobGet(0, FRAGMENT + 1)).status).toBe(S.CTAP1_ERR_INVALID_LENGTH);
    const send = async (params: [number, unknown][]) => (await call(0x0c, new Map(params))).status;
    expect(await send([[1, 10], [3, 0], [4, 17]])).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // length with get
    expect(await send([[1, 10], [3, 0], [6, 2]])).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // protocol with get
    expect(await send([[1, 10]])).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // no offset
    expect(await send([[3, 0]])).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // neither get nor set
    expect(await send([[1, 1], [2, new Uint8Array(1)], [3, 0]])).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // both
    expect(await send([[1, 'x'], [3, 0]])).toBe(S.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    expect((await call(0x0c)).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER);
  });

  /** Spec: §6.10.2 step 5 — fragments, expectedNextOffset, commit once complete; the array persists. */
  it('an unprotected device takes a fragmented write without a token; it is read back and persisted', async () => {
    const { m, stored } = await setup();
    const data = arrayOfLength(2048);
    expect(await m.writeLargeBlobArray(data, FRAGMENT)).toBe(0);
    expect(await m.readLargeBlobArray(FRAGMENT)).toEqual(data);
    expect(stored()).toEqual(data);
  });

  /** Spec: §6.10.2 steps 5.2–5.6 (INVALID_SEQ, INVALID_PARAMETER, LARGE_BLOB_STORAGE_FULL, INVALID_LENGTH). */
  it('set: sequence and length rules; an interrupted write leaves the stored array as it was', async () => {
    const { m, stored } = await setup();
    const data = arrayOfLength(1000);
    expect((await m.largeBlobSet(data.subarray(0, 100), 100)).status).toBe(S.CTAP1_ERR_INVALID_SEQ); // nothing begun
    expect((await m.largeBlobSet(data.subarray(0, 100), 0)).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // no length
    expect((await m.largeBlobSet(data.subarray(0, 16), 0, { length: 16 })).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // < 17
    expect((await m.largeBlobSet(data.subarray(0, 100), 0, { length: 2049 })).status).toBe(S.CTAP2_ERR_LARGE_BLOB_STORAGE_FULL);
    expect((await m.largeBlobSet(new Uint8Array(FRAGMENT + 1), 0, { length: 2000 })).status).toBe(S.CTAP1_ERR_INVALID_LENGTH);
    expect((await m.largeBlobSet(data.subarray(0, 100), 0, { length: 1000 })).status).toBe(0);
    expect((await m.largeBlobSet(data.subarray(100, 200), 101)).status).toBe(S.CTAP1_ERR_INVALID_SEQ);
    expect((await m.largeBlobSet(data.subarray(100, 200), 100, { length: 1000 })).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER);
    expect((await m.largeBlobSet(new Uint8Array(901), 100)).status).toBe(S.CTAP1_ERR_INVALID_PARAMETER); // past length
    expect((await m.largeBlobSet(data.subarray(100, 200), 100)).status).toBe(0);
    expect(stored()).toEqual(INITIAL);
    // A new offset-0 fragment starts over.
    expect(await m.writeLargeBlobArray(data, 500)).toBe(0);
    expect(stored()).toEqual(data);
  });

  /** Spec: §6.10.2 step 5.10.1 — trailer ≠ LEFT(SHA-256(array), 16) → INTEGRITY_FAILURE, nothing committed. */
  it('a wrong truncated hash → INTEGRITY_FAILURE; the stored array is unchanged and the write is over', async () => {
    const { m, stored } = await setup();
    const bad = arrayOfLength(300);
    bad[bad.length - 1]! ^= 1;
    expect((await m.largeBlobSet(bad.subarray(0, 200), 0, { length: 300 })).status).toBe(0);
    expect((await m.largeBlobSet(bad.subarray(200), 200)).status).toBe(S.CTAP2_ERR_INTEGRITY_FAILURE);
    expect(stored()).toEqual(INITIAL);
    expect((await m.largeBlobSet(bad.subarray(200), 200)).status).toBe(S.CTAP1_ERR_INVALID_SEQ);
  });

  /** Spec: §6.10.2 step 5.5 — protected device: lbw token over 32×0xff || 0c00 || uint32LE(offset) || SHA-256(set). */
  it('with a PIN: PUAT_REQUIRED, MISSING_PARAMETER, PIN_AUTH_INVALID (permission, MAC); lbw survives makeCredential', async () => {
    const { auth: device, call, pin, m, stored } = await setup();
    expect(await pin.setPin(PIN)).toBe(0);
    const data = arrayOfLength(1500);
    expect((await m.largeBlobSet(data.subarray(0, 900), 0, { length: 1500 })).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
    const noProtocol = await call(0x0c, new Map<number, unknown>([[2, data.subarray(0, 900)], [3, 0], [4, 1500], [5, new Uint8Array(32)]]));
    expect(noProtocol.status).toBe(S.CTAP2_ERR_MISSING_PARAMETER);
    const cm = { pin, token: await pin.tokenOrThrow({ pin: PIN, permissions: Perm.cm }) };
    expect(await m.writeLargeBlobArray(data, 900, cm)).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    // A MAC over another offset does not verify.
    const token = await pin.tokenOrThrow({ pin: PIN, permissions: Perm.mc | Perm.lbw });
    const forged = await call(
      0x0c,
      new Map<number, unknown>([[2, data.subarray(0, 900)], [3, 0], [4, 1500], [5, pin.param(token, new Uint8Array(32))], [6, 2]]),
    );
    expect(forged.status).toBe(S.CTAP2_ERR_PIN_AUTH_INVALID);
    // CTAP 2.1 §6.1.2 step 14: makeCredential clears every permission of the token except lbw.
    const cdh = new Uint8Array(32).fill(1);
    const withToken = makeCredentialParams({ clientDataHash: cdh, extra: [[8, pin.param(token, cdh)], [9, 2]] });
    const mc = await ctapCall(device, CtapCommand.authenticatorMakeCredential, withToken);
    expect(mc.status).toBe(0);
    expect(await m.writeLargeBlobArray(data, 900, { pin, token })).toBe(0);
    expect(stored()).toEqual(data);
  });

  /** Spec: §6.10.2 step 5.5 — "or the alwaysUv option ID is present and true": a token is needed even without a PIN. */
  it('alwaysUv on an unprotected device: set needs a token (PUAT_REQUIRED); get does not', async () => {
    const { m } = await setup();
    expect((await m.config(ConfigSub.toggleAlwaysUv)).status).toBe(0);
    expect((await m.largeBlobSet(INITIAL, 0, { length: 17 })).status).toBe(S.CTAP2_ERR_PUAT_REQUIRED);
    expect((await m.largeBlobGet(0, 17)).status).toBe(0);
  });

  /** Spec: CHECKLIST B6.3 — authenticatorReset restores the initial array. */
  it('authenticatorReset restores the initial array and abandons a write in progress', async () => {
    const { auth: device, m, stored } = await setup();
    const data = arrayOfLength(500);
    expect(await m.writeLargeBlobArray(data, 500)).toBe(0);
    expect((await m.largeBlobSet(data.subarray(0, 100), 0, { length: 500 })).status).toBe(0);
    expect((await ctapCall(device, CtapCommand.authenticatorReset)).status).toBe(0);
    expect(stored()).toEqual(INITIAL);
    expect((await m.largeBlobGet(0, 100)).body!.get(1)).toEqual(INITIAL);
    expect((await m.largeBlobSet(data.subarray(100), 100)).status).toBe(S.CTAP1_ERR_INVALID_SEQ);
  });

  it('a key without PIN/UV has no largeBlobs command', async () => {
    const { m } = await setup(pinlessProfile);
    expect((await m.largeBlobGet(0, 17)).status).toBe(S.CTAP1_ERR_INVALID_COMMAND);
  });
});
