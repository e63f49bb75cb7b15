/**
 * authenticatorLargeBlobs conformance over every transport (memory and UDP): the initial array, a fragmented
 * write authorised by an lbw token, reading it back from another channel, after a power cycle, and reset.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { PinClient, Perm } from '../helpers/pinClient.ts';
import { ManagementClient, serializeLargeBlobArray, type CborCall } from '../helpers/management.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { fromHex } from '../../ctap/bytes.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';

const PIN = '1234';
/** CTAP 2.1 §6.10.2 initial serialized large-blob array (the spec's fixture). */
const INITIAL = fromHex('8076be8b528d0075f7aae98d6fa57a6d3c');

describe.each(TRANSPORTS)('large blobs conformance over %s', (transport) => {
  let h: Harness;
  let c: CtapHidClient;
  let m: ManagementClient;
  let maxFragment: number;

  const over = (client: CtapHidClient): CborCall => async (cmd, params) => {
    const r = await client.cbor(cmd, params);
    return { status: r.status, body: r.data as CborMap | undefined };
  };

  beforeEach(async () => {
    h = await openHarness(transport, { seed: `largeblobs-${transport}` });
    c = await h.client();
    m = new ManagementClient(over(c));
    const info = (await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    maxFragment = (info.get(5) as number) - 64; // CTAP 2.1 §6.10.1: maxFragmentLength = maxMsgSize − 64
  });
  afterEach(async () => {
    await h.close();
  });

  /** Spec: CTAP 2.1 §6.4 largeBlobs option (with rk) and maxSerializedLargeBlobArray ≥ 1024. */
  it('getInfo advertises largeBlobs with its capacity; the array starts as the initial one', async () => {
    const info = (await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    const options = info.get(4) as CborMap;
    expect([options.get('largeBlobs'), options.get('rk')]).toEqual([true, true]);
    expect(info.get(0x0b)).toBeGreaterThanOrEqual(1024);
    expect(await m.readLargeBlobArray(maxFragment)).toEqual(INITIAL);
  });

  /** Spec: §6.10.2 — fragmented write with lbw, commit on the last fragment; persisted; reset restores the initial array. */
  it('writes a multi-fragment array with an lbw token; another channel and a power cycle read it; reset restores', async () => {
    const client = new PinClient(async (p) => over(c)(CtapCommand.authenticatorClientPIN, p), 2);
    expect(await client.setPin(PIN)).toBe(0);
    const entries = [1, 2, 3].map((i) => new Map<number, unknown>([[1, new Uint8Array(900).fill(i)], [2, new Uint8Array(12)], [3, 900]]));
    const data = serializeLargeBlobArray(entries);
    expect(data.length).toBeGreaterThan(2 * 1000);
    expect(await m.writeLargeBlobArray(data, 1000)).toBe(CtapStatus.CTAP2_ERR_PUAT_REQUIRED);
    const auth = { pin: client, token: await client.tokenOrThrow({ pin: PIN, permissions: Perm.lbw }) };
    expect(await m.writeLargeBlobArray(data, 1000, auth)).toBe(0);

    const other = new ManagementClient(over(await h.client()));
    expect(await other.readLargeBlobArray(maxFragment)).toEqual(data);
    // A power cycle drops the channels: a new client reads the persisted array, then resets the device.
    await h.device.powerCycle();
    const after = await h.client();
    expect(await new ManagementClient(over(after)).readLargeBlobArray(700)).toEqual(data);
    expect((await after.cbor(CtapCommand.authenticatorReset)).status).toBe(0);
    expect(await new ManagementClient(over(after)).readLargeBlobArray(maxFragment)).toEqual(INITIAL);
  });
});
