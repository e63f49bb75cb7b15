/**
 * CTAP1/U2F over CTAPHID_MSG on every transport (memory and UDP): capabilities per profile, the U2F commands
 * with a host that polls through 0x6985 like libfido2, and key handles shared with CTAP2 over the same channel.
 * Signatures are checked with node:crypto (test/helpers/u2f.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CtapCommand, CtapHidCapability, CtapHidCmd, CtapHidError } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import { CtapHidClientError, type CtapHidClient } from '../../src/client/ctaphid.ts';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import {
  INS,
  P1,
  SW,
  apdu,
  authenticateApdu,
  p256Key,
  parseAuthentication,
  parseRegistration,
  poll,
  registerApdu,
  splitResponse,
  verifyAuthentication,
  verifyRegistration,
} from '../helpers/u2f.ts';
import { parseAuthData, sha256, verifySignature } from '../helpers/webauthn.ts';

describe.each(TRANSPORTS)('CTAP1/U2F over %s', (transport) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function open(profile: string): Promise<CtapHidClient> {
    h = await openHarness(transport, { profile, seed: `u2f-${transport}-${profile}` });
    return h.client();
  }
  const msg = (c: CtapHidClient) => (bytes: Uint8Array) => c.call(CtapHidCmd.MSG, bytes);

  /** Spec: CTAP 2.1 §11.2.9.1.3 (CBOR set, NMSG clear), §6.4 versions "U2F_V2"; U2F v1.2 §4–§6; CHECKLIST E6. */
  it('ctap21: CBOR and MSG; register, authenticate, and the key handle in CTAP2 getAssertion on one counter', async () => {
    const c = await open('ctap21');
    expect(c.capabilities & (CtapHidCapability.CBOR | CtapHidCapability.NMSG)).toBe(CtapHidCapability.CBOR);
    const info = (await c.cbor(CtapCommand.authenticatorGetInfo)).data as CborMap;
    expect(info.get(1)).toContain('U2F_V2');
    const version = splitResponse(await msg(c)(apdu(INS.VERSION)));
    expect([version.sw, Buffer.from(version.data).toString('latin1')]).toEqual([SW.NO_ERROR, 'U2F_V2']);

    const app = sha256('u2f.example');
    const challenge = sha256('register');
    const r = await poll(msg(c), registerApdu(challenge, app));
    expect(r.sw).toBe(SW.NO_ERROR);
    expect(r.polls).toBeGreaterThan(0); // the first answer was SW_CONDITIONS_NOT_SATISFIED: no touch yet
    const reg = parseRegistration(r.data);
    expect(verifyRegistration(reg, app, challenge)).toBe(true);

    const key = p256Key(reg.publicKey);
    const a = await poll(msg(c), authenticateApdu(challenge, app, reg.keyHandle, P1.ENFORCE));
    const sig = parseAuthentication(a.data);
    expect([a.sw, sig.userPresence, sig.counter]).toEqual([SW.NO_ERROR, 1, 1]);
    expect(verifyAuthentication(key, sig, app, challenge)).toBe(true);
    expect(splitResponse(await msg(c)(authenticateApdu(challenge, app, reg.keyHandle, P1.CHECK_ONLY))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(splitResponse(await msg(c)(authenticateApdu(challenge, sha256('x.example'), reg.keyHandle, P1.CHECK_ONLY))).sw).toBe(SW.WRONG_DATA);

    const cdh = sha256('ctap2');
    const ga = await c.cbor(CtapCommand.authenticatorGetAssertion, new Map<number, unknown>([
      [1, 'u2f.example'],
      [2, cdh],
      [3, [{ id: reg.keyHandle, type: 'public-key' }]],
    ]));
    expect(ga.status).toBe(CtapStatus.CTAP2_OK);
    const authData = (ga.data as CborMap).get(2) as Uint8Array;
    expect(parseAuthData(authData).signCount).toBe(2);
    expect(verifySignature(key, -7, authData, cdh, (ga.data as CborMap).get(3) as Uint8Array)).toBe(true);
  });

  /** Spec: CHECKLIST A20 "A U2F-only device leaves CBOR clear"; A28 unimplemented CTAPHID command → INVALID_CMD. */
  it('u2f: no CBOR capability, CTAPHID_CBOR refused with INVALID_CMD, U2F works', async () => {
    const c = await open('u2f');
    expect(c.capabilities & (CtapHidCapability.CBOR | CtapHidCapability.NMSG)).toBe(0);
    const refused = await c.cbor(CtapCommand.authenticatorGetInfo).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CtapHidClientError);
    expect((refused as CtapHidClientError).code).toBe(CtapHidError.ERR_INVALID_CMD);
    const app = sha256('legacy.example');
    const reg = parseRegistration((await poll(msg(c), registerApdu(sha256('c'), app))).data);
    expect(verifyRegistration(reg, app, sha256('c'))).toBe(true);
    const a = await poll(msg(c), authenticateApdu(sha256('d'), app, reg.keyHandle, P1.ENFORCE));
    expect(verifyAuthentication(p256Key(reg.publicKey), parseAuthentication(a.data), app, sha256('d'))).toBe(true);
  });

  /** Spec: CHECKLIST A20/A22: a CTAP2 device without U2F sets NMSG and answers MSG with INVALID_CMD. */
  it('ctap21-nopin: NMSG set, CTAPHID_MSG refused with INVALID_CMD', async () => {
    const c = await open('ctap21-nopin');
    expect(c.capabilities & CtapHidCapability.NMSG).toBe(CtapHidCapability.NMSG);
    const refused = await msg(c)(apdu(INS.VERSION)).catch((e: unknown) => e);
    expect((refused as CtapHidClientError).code).toBe(CtapHidError.ERR_INVALID_CMD);
  });

  /** Spec: U2F v1.2 §3.3: without a touch the answer stays "test of user presence required"; no keepalives. */
  it('a user who never touches: every poll answers 0x6985 at once', async () => {
    const c = await open('ctap21');
    h!.device.presence.set({ mode: 'deny' });
    const keepalives: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = splitResponse(await c.call(CtapHidCmd.MSG, registerApdu(sha256('c'), sha256('a')), { onKeepalive: (s) => keepalives.push(s) }));
      expect(r.sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(keepalives).toEqual([]);
  });
});
