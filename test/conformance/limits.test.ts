/**
 * The limits real keys have and relying parties trip on, end to end on every transport: the discoverable
 * credential store (KEY_STORE_FULL, remainingDiscoverableCredentials) and the list limits getInfo advertises
 * (maxCredentialCountInList, maxCredentialIdLength → LIMIT_EXCEEDED).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encode, type CborMap } from '../../ctap/cbor.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { defaultProfile, type Profile } from '../../ctap/authenticator/profile.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';
import { PinClient, Perm, authenticate } from '../helpers/pinClient.ts';
import { clientPinCall } from '../helpers/clientPinCall.ts';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { parseAuthData, sha256 } from '../helpers/webauthn.ts';

const CAPACITY = 3;
const small: Profile = { ...defaultProfile, name: 'ctap21-small-store', residentCredentialCapacity: CAPACITY };

function mc(o: { rpId?: string; userId: number; rk?: boolean; exclude?: Uint8Array[] }): Map<number, unknown> {
  const m = new Map<number, unknown>([
    [1, sha256('mc')],
    [2, { id: o.rpId ?? 'limits.example' }],
    [3, { id: Uint8Array.of(o.userId), name: `user${o.userId}` }],
    [4, [{ alg: -7, type: 'public-key' }]],
    [7, { rk: o.rk ?? true }],
  ]);
  if (o.exclude) m.set(5, o.exclude.map((id) => ({ id, type: 'public-key' })));
  return m;
}

function ga(allow?: Uint8Array[], rpId = 'limits.example'): Map<number, unknown> {
  const m = new Map<number, unknown>([
    [1, rpId],
    [2, sha256('ga')],
  ]);
  if (allow) m.set(3, allow.map((id) => ({ id, type: 'public-key' })));
  return m;
}

describe.each(TRANSPORTS)('limits over %s', (transport) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function open(profile: Profile = small): Promise<CtapHidClient> {
    h = await openHarness(transport, { profile, seed: `limits-${transport}` });
    return h.client();
  }
  const remaining = async (c: CtapHidClient) =>
    ((await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap).get(0x14) as number;
  const make = async (c: CtapHidClient, o: Parameters<typeof mc>[0]) => {
    const r = await c.cbor(CtapCommand.authenticatorMakeCredential, mc(o));
    return { status: r.status, id: r.status === 0 ? parseAuthData((r.data as CborMap).get(2) as Uint8Array).credentialId! : undefined };
  };

  /**
   * Spec: CTAP 2.1 §6.4 remainingDiscoverableCredentials; §6.1.2 step 17 (same rp.id and user.id → overwrite;
   * out of room → CTAP2_ERR_KEY_STORE_FULL); §6.6 reset frees the store.
   */
  it('remainingDiscoverableCredentials counts down; a full store refuses new rk with KEY_STORE_FULL; reset restores it', async () => {
    const c = await open();
    expect(await remaining(c)).toBe(CAPACITY);
    const ids: Uint8Array[] = [];
    for (let u = 1; u <= CAPACITY; u++) {
      const r = await make(c, { userId: u });
      expect(r.status).toBe(CtapStatus.CTAP2_OK);
      ids.push(r.id!);
      expect(await remaining(c)).toBe(CAPACITY - u);
    }
    // Full: a new (rp, user) is refused and nothing changes.
    expect((await make(c, { userId: 99 })).status).toBe(CtapStatus.CTAP2_ERR_KEY_STORE_FULL);
    expect((await make(c, { userId: 99, rpId: 'other.example' })).status).toBe(CtapStatus.CTAP2_ERR_KEY_STORE_FULL);
    expect(await remaining(c)).toBe(0);
    const all = await c.cbor(CtapCommand.authenticatorGetAssertion, ga());
    expect((all.data as CborMap).get(5)).toBe(CAPACITY);
    // Overwriting an existing (rp, user) needs no room; non-discoverable credentials need none either.
    const again = await make(c, { userId: 1 });
    expect(again.status).toBe(CtapStatus.CTAP2_OK);
    expect(await remaining(c)).toBe(0);
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, ga([ids[0]!]))).status).toBe(CtapStatus.CTAP2_ERR_NO_CREDENTIALS);
    expect((await make(c, { userId: 100, rk: false })).status).toBe(CtapStatus.CTAP2_OK);
    // Reset (within the window after power-up, with a touch) frees every slot.
    expect((await c.cbor(CtapCommand.authenticatorReset)).status).toBe(CtapStatus.CTAP2_OK);
    expect(await remaining(c)).toBe(CAPACITY);
    expect((await make(c, { userId: 99 })).status).toBe(CtapStatus.CTAP2_OK);
  });

  /** Spec: CTAP 2.1 §6.8.5 deleteCredential frees the slot: remainingDiscoverableCredentials goes back up. */
  it('credential management deleteCredential gives the slot back', async () => {
    const c = await open();
    const pin = new PinClient(clientPinCall(() => c));
    expect(await pin.setPin('1234')).toBe(0);
    const token = await pin.tokenOrThrow({ pin: '1234', permissions: Perm.mc | Perm.cm });
    const cdh = sha256('mc');
    const params = mc({ userId: 7 });
    params.set(8, pin.param(token, cdh));
    params.set(9, 2);
    const made = await c.cbor(CtapCommand.authenticatorMakeCredential, params);
    expect(made.status).toBe(CtapStatus.CTAP2_OK);
    const id = parseAuthData((made.data as CborMap).get(2) as Uint8Array).credentialId!;
    expect(await remaining(c)).toBe(CAPACITY - 1);
    const cmToken = await pin.tokenOrThrow({ pin: '1234', permissions: Perm.cm });
    const sub = new Map<number, unknown>([[0x02, { id, type: 'public-key' }]]);
    const deleted = await c.cbor(CtapCommand.authenticatorCredentialManagement, new Map<number, unknown>([
      [0x01, 0x06], // deleteCredential
      [0x02, sub],
      [0x03, 2],
      [0x04, authenticate(2, cmToken, Uint8Array.of(0x06, ...encode(sub)))],
    ]));
    expect(deleted.status).toBe(CtapStatus.CTAP2_OK);
    expect(await remaining(c)).toBe(CAPACITY);
  });

  /**
   * Spec: CTAP 2.1 §6.4 maxCredentialCountInList / maxCredentialIdLength; longer lists or IDs →
   * CTAP2_ERR_LIMIT_EXCEEDED (CHECKLIST B1.12, Chromium's virtual authenticator) in excludeList and allowList.
   */
  it('lists up to maxCredentialCountInList and IDs up to maxCredentialIdLength pass; beyond → LIMIT_EXCEEDED', async () => {
    const c = await open(defaultProfile);
    const info = (await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    const maxCount = info.get(0x07) as number;
    const maxLen = info.get(0x08) as number;
    expect([maxCount, maxLen]).toEqual([defaultProfile.maxCredentialCountInList, defaultProfile.maxCredentialIdLength]);
    const { id } = await make(c, { userId: 1, rk: false });
    const foreign = (n: number, len = 16) => Array.from({ length: n }, (_, i) => new Uint8Array(len).fill(i + 1));
    // At the limits: accepted (the real credential is found among foreign ones).
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, ga([...foreign(maxCount - 1, maxLen), id!]))).status).toBe(CtapStatus.CTAP2_OK);
    expect((await make(c, { userId: 2, rk: false, exclude: foreign(maxCount, maxLen) })).status).toBe(CtapStatus.CTAP2_OK);
    // One more entry, or one byte more.
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, ga([...foreign(maxCount), id!]))).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
    expect((await make(c, { userId: 3, rk: false, exclude: foreign(maxCount + 1) })).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, ga([new Uint8Array(maxLen + 1), id!]))).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
    expect((await make(c, { userId: 4, rk: false, exclude: [new Uint8Array(maxLen + 1)] })).status).toBe(CtapStatus.CTAP2_ERR_LIMIT_EXCEEDED);
  });

  /** Spec: CTAP 2.0 §5.4 has no list limits in getInfo, so a CTAP 2.0 key takes whole lists (infoLevel.ts). */
  it('ctap20 advertises no list limits and enforces none', async () => {
    h = await openHarness(transport, { profile: 'ctap20', seed: `limits-${transport}-20` });
    const c = await h.client();
    const info = (await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    expect(info.has(0x07) || info.has(0x08)).toBe(false);
    const { id } = await make(c, { userId: 1, rk: false });
    const long = Array.from({ length: 20 }, (_, i) => new Uint8Array(200).fill(i + 1)); // 20 > 8 entries, 200 > 128 bytes
    expect((await c.cbor(CtapCommand.authenticatorGetAssertion, ga([...long, id!]))).status).toBe(CtapStatus.CTAP2_OK);
  });
});
