/**
 * clientPIN and pinUvAuthToken conformance over every transport (memory and UDP), driven by a platform written on
 * node:crypto (test/helpers/pinClient.ts); signatures checked with test/helpers/webauthn.ts.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { clientPinCall } from '../helpers/clientPinCall.ts';
import { parseAuthData, coseToKeyObject, verifySignature, sha256 } from '../helpers/webauthn.ts';
import { PinClient, Perm, type Protocol } from '../helpers/pinClient.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';
import type { CborMap } from '../../ctap/cbor.ts';

const PIN = '1234';

describe.each(TRANSPORTS)('clientPIN conformance over %s', (transport) => {
  let h: Harness;
  let c: CtapHidClient;
  const call = clientPinCall(() => c);

  beforeEach(async () => {
    h = await openHarness(transport, { seed: `pin-${transport}` });
    c = await h.client();
  });
  afterEach(async () => {
    await h.close();
  });

  const pin = (p: Protocol = 2) => new PinClient(call, p);

  async function info(): Promise<CborMap> {
    return (await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
  }

  /** Spec: CTAP 2.1 §6.4 — clientPin false → true after setPIN; pinUvAuthProtocols [2, 1]; minPINLength 4. */
  it('getInfo reflects the PIN state', async () => {
    let m = await info();
    expect((m.get(4) as CborMap).get('clientPin')).toBe(false);
    expect(m.get(6)).toEqual([2, 1]);
    expect(m.get(0x0d)).toBe(4);
    expect(await pin().setPin(PIN)).toBe(0);
    m = await info();
    expect((m.get(4) as CborMap).get('clientPin')).toBe(true);
  });

  /** Spec: §6.5.5.7.2 token, §6.1.2 step 11 and §6.2.2 step 6: UV bit; B2.12 user name with UV. */
  it.each([1, 2] as const)('protocol %i: setPIN, token, makeCredential (rk, UV) and getAssertion (UV, user name)', async (p) => {
    const client = pin(p);
    expect(await client.setPin(PIN)).toBe(0);
    let token = await client.tokenOrThrow({ pin: PIN, permissions: Perm.mc, rpId: 'example.com' });
    const mcCdh = sha256('mc-pin');
    const mc = await c.cbor(
      CtapCommand.authenticatorMakeCredential,
      new Map<number, unknown>([
        [1, mcCdh],
        [2, { id: 'example.com', name: 'Example' }],
        [3, { id: new Uint8Array([7]), name: 'alice', displayName: 'Alice' }],
        [4, [{ alg: -7, type: 'public-key' }]],
        [7, { rk: true }],
        [8, client.param(token, mcCdh)],
        [9, p],
      ]),
    );
    expect(mc.status).toBe(0);
    const made = parseAuthData((mc.data as CborMap).get(2) as Uint8Array);
    expect(made.up && made.uv).toBe(true);

    token = await client.tokenOrThrow({ pin: PIN, permissions: Perm.ga });
    const gaCdh = sha256('ga-pin');
    const ga = await c.cbor(
      CtapCommand.authenticatorGetAssertion,
      new Map<number, unknown>([
        [1, 'example.com'],
        [2, gaCdh],
        [6, client.param(token, gaCdh)],
        [7, p],
      ]),
    );
    expect(ga.status).toBe(0);
    const body = ga.data as CborMap;
    const authData = body.get(2) as Uint8Array;
    expect(parseAuthData(authData).uv).toBe(true);
    expect((body.get(4) as CborMap).get('name')).toBe('alice');
    expect(verifySignature(coseToKeyObject(made.publicKey!), -7, authData, gaCdh, body.get(3) as Uint8Array)).toBe(true);
    // The token was consumed by that getAssertion.
    const again = await c.cbor(
      CtapCommand.authenticatorGetAssertion,
      new Map<number, unknown>([
        [1, 'example.com'],
        [2, gaCdh],
        [6, client.param(token, gaCdh)],
        [7, p],
      ]),
    );
    expect(again.status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_INVALID);
  });

  /** Spec: G1–G2 — 3 wrong → PIN_AUTH_BLOCKED until power cycle; retries persisted across it. */
  it('wrong PINs: PIN_INVALID, PIN_AUTH_BLOCKED on the 3rd, power cycle, retries kept', async () => {
    const client = pin();
    expect(await client.setPin(PIN)).toBe(0);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await client.token({ pin: '9999', permissions: Perm.mc })).status);
    expect(statuses).toEqual([CtapStatus.CTAP2_ERR_PIN_INVALID, CtapStatus.CTAP2_ERR_PIN_INVALID, CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED]);
    expect(await client.retries()).toEqual({ pinRetries: 5, powerCycleState: true });
    expect((await client.token({ pin: PIN, permissions: Perm.mc })).status).toBe(CtapStatus.CTAP2_ERR_PIN_AUTH_BLOCKED);
    await h.device.powerCycle();
    if (transport === 'memory') c = await h.client(); // a memory power cycle drops the channels (re-plug)
    expect(await client.retries()).toEqual({ pinRetries: 5, powerCycleState: false });
    expect((await client.token({ pin: PIN, permissions: Perm.mc })).status).toBe(0);
    expect((await client.retries()).pinRetries).toBe(8);
  });

  /** Spec: §6.5.5.5 step 9 — minimum length in code points; §6.5.5.6 changePIN. */
  it('PIN length in code points; changePIN', async () => {
    const client = pin(1);
    expect(await client.setPin('😀😁😂')).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect(await client.setPin('😀😁😂🤣')).toBe(0);
    expect(await client.changePin('😀😁😂🤣', 'a'.repeat(64))).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect(await client.changePin('😀😁😂🤣', 'a'.repeat(63))).toBe(0);
    expect((await client.token({ pin: 'a'.repeat(63) })).status).toBe(0);
  });

  /** Spec: §6.1.2 step 1 — zero-length pinUvAuthParam: touch, then PIN_INVALID when a PIN is set. */
  it('zero-length pinUvAuthParam probe', async () => {
    expect(await pin().setPin(PIN)).toBe(0);
    const r = await c.cbor(
      CtapCommand.authenticatorMakeCredential,
      new Map<number, unknown>([
        [1, sha256('probe')],
        [2, { id: 'example.com' }],
        [3, { id: new Uint8Array([1]) }],
        [4, [{ alg: -7, type: 'public-key' }]],
        [8, new Uint8Array(0)],
      ]),
    );
    expect(r.status).toBe(CtapStatus.CTAP2_ERR_PIN_INVALID);
  });
});
