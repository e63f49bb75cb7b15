/**
 * authenticatorCredentialManagement conformance over every transport (memory and UDP): a platform on node:crypto
 * (test/helpers/pinClient.ts, management.ts) lists, renames and deletes discoverable credentials, and the
 * device's other commands see the result.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { TRANSPORTS, openHarness, type Harness } from '../helpers/transports.ts';
import { PinClient, Perm, type Protocol } from '../helpers/pinClient.ts';
import { CredSub, ManagementClient, type CborCall } from '../helpers/management.ts';
import { parseAuthData, sha256 } from '../helpers/webauthn.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import type { CtapHidClient } from '../../src/client/ctaphid.ts';

const PIN = '1234';

describe.each(TRANSPORTS)('credential management conformance over %s', (transport) => {
  let h: Harness;
  let c: CtapHidClient;
  let call: CborCall;
  let m: ManagementClient;

  beforeEach(async () => {
    h = await openHarness(transport, { seed: `credman-${transport}` });
    c = await h.client();
    call = async (cmd, params) => {
      const r = await c.cbor(cmd, params);
      return { status: r.status, body: r.data as CborMap | undefined };
    };
    m = new ManagementClient(call);
  });
  afterEach(async () => {
    await h.close();
  });

  const pin = (p: Protocol = 2) => new PinClient((params) => call(CtapCommand.authenticatorClientPIN, params), p);

  /** A discoverable credential made before the PIN is set; returns its ID and COSE key from authData. */
  async function makeRk(rpId: string, userId: number, name: string): Promise<{ id: Uint8Array; key: CborMap }> {
    const r = await call(
      CtapCommand.authenticatorMakeCredential,
      new Map<number, unknown>([
        [1, sha256(`mc-${rpId}-${userId}`)],
        [2, { id: rpId, name: rpId.toUpperCase() }],
        [3, { id: new Uint8Array([userId]), name, displayName: name }],
        [4, [{ alg: -7, type: 'public-key' }]],
        [7, { rk: true }],
      ]),
    );
    expect(r.status).toBe(0);
    const ad = parseAuthData(r.body!.get(2) as Uint8Array);
    return { id: ad.credentialId!, key: ad.publicKey! };
  }

  /** Spec: CTAP 2.1 §6.4 credMgmt / credentialMgmtPreview; "FIDO_2_1_PRE" announces the served prototype 0x41. */
  it('getInfo advertises credMgmt and the prototype command', async () => {
    const info = (await call(CtapCommand.authenticatorGetInfo)).body!;
    expect((info.get(4) as CborMap).get('credMgmt')).toBe(true);
    expect((info.get(4) as CborMap).get('credentialMgmtPreview')).toBe(true);
    expect(info.get(1)).toContain('FIDO_2_1_PRE');
  });

  /** Spec: §6.8.2–§6.8.6 end to end; the credential list as getAssertion sees it changes accordingly. */
  it.each([1, 2] as const)('protocol %i: metadata, enumerate RPs and credentials, rename, delete', async (p) => {
    const alice = await makeRk('a.example', 1, 'alice');
    const bob = await makeRk('a.example', 2, 'bob');
    await makeRk('b.example', 3, 'carol');
    const client = pin(p);
    expect(await client.setPin(PIN)).toBe(0);
    const auth = { pin: client, token: await client.tokenOrThrow({ pin: PIN, permissions: Perm.cm | Perm.ga }) };

    const meta = await m.credMgmt(CredSub.getCredsMetadata, { auth });
    expect([meta.body!.get(1), meta.body!.get(2)]).toEqual([3, h.device.authenticator.profile.residentCredentialCapacity - 3]);

    const rps = [await m.credMgmt(CredSub.enumerateRPsBegin, { auth })];
    expect(rps[0]!.body!.get(5)).toBe(2);
    rps.push(await m.credMgmt(CredSub.enumerateRPsGetNextRP));
    expect(rps.map((r) => (r.body!.get(3) as CborMap).get('id'))).toEqual(['a.example', 'b.example']);
    expect(rps.map((r) => r.body!.get(4))).toEqual([sha256('a.example'), sha256('b.example')]);

    const params = new Map([[1, sha256('a.example')]]);
    const creds = [await m.credMgmt(CredSub.enumerateCredentialsBegin, { params, auth })];
    creds.push(await m.credMgmt(CredSub.enumerateCredentialsGetNextCredential));
    expect(creds[0]!.body!.get(9)).toBe(2);
    expect(creds.map((r) => (r.body!.get(7) as CborMap).get('id'))).toEqual([alice.id, bob.id]);
    expect(creds.map((r) => r.body!.get(8))).toEqual([alice.key, bob.key]);

    const descriptor = new Map<string, unknown>([['id', alice.id], ['type', 'public-key']]);
    const rename = new Map<number, unknown>([[2, descriptor], [3, { id: new Uint8Array([1]), name: 'alice2' }]]);
    expect((await m.credMgmt(CredSub.updateUserInformation, { params: rename, auth })).status).toBe(0);
    const bobId = new Map([[2, new Map<string, unknown>([['id', bob.id], ['type', 'public-key']])]]);
    expect((await m.credMgmt(CredSub.deleteCredential, { params: bobId, auth })).status).toBe(0);

    // getAssertion with UV (CTAP 2.1 §6.2.2: user name and displayName with UV) sees one credential, renamed.
    const cdh = sha256('ga');
    const ga = await call(
      CtapCommand.authenticatorGetAssertion,
      new Map<number, unknown>([[1, 'a.example'], [2, cdh], [6, client.param(auth.token, cdh)], [7, p]]),
    );
    expect(ga.status).toBe(0);
    expect(ga.body!.has(5)).toBe(false); // numberOfCredentials only when more than one
    expect(ga.body!.get(4)).toEqual(new Map<string, unknown>([['id', new Uint8Array([1])], ['name', 'alice2']]));
  });

  /** Spec: §6.8.3 — the enumeration state belongs to the channel that began it. */
  it('a GetNext from another channel (second client) → NOT_ALLOWED, and the first channel has lost its state', async () => {
    await makeRk('a.example', 1, 'a');
    await makeRk('b.example', 2, 'b');
    const client = pin();
    expect(await client.setPin(PIN)).toBe(0);
    const auth = { pin: client, token: await client.tokenOrThrow({ pin: PIN, permissions: Perm.cm }) };
    expect((await m.credMgmt(CredSub.enumerateRPsBegin, { auth })).status).toBe(0);
    const c2 = await h.client();
    const other = await c2.cbor(CtapCommand.authenticatorCredentialManagement, new Map([[1, CredSub.enumerateRPsGetNextRP]]));
    expect(other.status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
    expect((await m.credMgmt(CredSub.enumerateRPsGetNextRP)).status).toBe(CtapStatus.CTAP2_ERR_NOT_ALLOWED);
  });
});
