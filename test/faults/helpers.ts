/**
 * Fault tests: an in-process device (memory transport, memory store unless told otherwise) with a CTAPHID
 * client, and CTAP request builders. Verification uses test/helpers/webauthn.ts (node:crypto), never vfido's
 * own code.
 */
import { afterEach } from 'vitest';
import { startDevice, type Device, type StartDeviceOptions } from '../../src/device.ts';
import { CtapHidClient } from '../../src/client/ctaphid.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import type { CborMap } from '../../ctap/cbor.ts';
import { coseToKeyObject, parseAuthData, sha256, verifySignature } from '../helpers/webauthn.ts';

export { CtapCommand };
export const RP = 'example.com';
export const MC_CDH = sha256('mc-client-data');
export const GA_CDH = sha256('ga-client-data');

export interface FaultHarness {
  device: Device;
  client: CtapHidClient;
  /** Another client (its own channel). */
  connect(timeoutMs?: number): Promise<CtapHidClient>;
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

/** A device (closed after the test) and one client; client calls time out after `timeoutMs` (default 2 s). */
export async function faultDevice(opts: Partial<StartDeviceOptions> = {}, timeoutMs = 2000): Promise<FaultHarness> {
  const device = await startDevice({ transport: 'memory', store: 'memory', seed: 'faults', ...opts });
  const clients: CtapHidClient[] = [];
  open.push(async () => {
    for (const c of clients) c.close();
    await device.close();
  });
  const connect = async (t = timeoutMs): Promise<CtapHidClient> => {
    const c = await CtapHidClient.open(device.connect(), { timeoutMs: t });
    clients.push(c);
    return c;
  };
  return { device, client: await connect(), connect };
}

export function mcParams(o: { rpId?: string; userId?: Uint8Array; rk?: boolean; exclude?: Uint8Array[] } = {}): Map<number, unknown> {
  const m = new Map<number, unknown>([
    [1, MC_CDH],
    [2, { id: o.rpId ?? RP, name: 'Example' }],
    [3, { id: o.userId ?? new Uint8Array([1, 2, 3]), name: 'alice', displayName: 'Alice' }],
    [4, [{ alg: -7, type: 'public-key' }]],
  ]);
  if (o.exclude) m.set(5, o.exclude.map((id) => ({ id, type: 'public-key' })));
  if (o.rk) m.set(7, { rk: true });
  return m;
}

export function gaParams(o: { rpId?: string; allow?: Uint8Array[] } = {}): Map<number, unknown> {
  const m = new Map<number, unknown>([
    [1, o.rpId ?? RP],
    [2, GA_CDH],
  ]);
  if (o.allow) m.set(3, o.allow.map((id) => ({ id, type: 'public-key' })));
  return m;
}

export interface Registered {
  credentialId: Uint8Array;
  publicKey: CborMap;
}

/** makeCredential; throws unless it succeeds. */
export async function register(c: CtapHidClient, o: Parameters<typeof mcParams>[0] = {}): Promise<Registered> {
  const r = await c.cbor(CtapCommand.authenticatorMakeCredential, mcParams(o));
  if (r.status !== 0) throw new Error(`makeCredential failed: 0x${r.status.toString(16)}`);
  const ad = parseAuthData((r.data as CborMap).get(2) as Uint8Array);
  return { credentialId: ad.credentialId!, publicKey: ad.publicKey! };
}

export interface Assertion {
  status: number;
  authData?: Uint8Array;
  signature?: Uint8Array;
  body?: CborMap;
}

export async function assert(c: CtapHidClient, o: Parameters<typeof gaParams>[0] = {}): Promise<Assertion> {
  const r = await c.cbor(CtapCommand.authenticatorGetAssertion, gaParams(o));
  if (r.status !== 0) return { status: r.status };
  const body = r.data as CborMap;
  return { status: 0, body, authData: body.get(2) as Uint8Array, signature: body.get(3) as Uint8Array };
}

/** Does the assertion's signature verify against the registered public key (ES256)? */
export function signatureValid(reg: Registered, a: Assertion): boolean {
  return verifySignature(coseToKeyObject(reg.publicKey), -7, a.authData!, GA_CDH, a.signature!);
}

export const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
export { parseAuthData, sha256, coseToKeyObject, verifySignature };

import { PinClient } from '../helpers/pinClient.ts';
import type { CtapHidClient as Client } from '../../src/client/ctaphid.ts';

/** A PIN/UV platform (protocol 2) over this client. */
export function pinClient(c: Client): PinClient {
  return new PinClient(async (params) => {
    const r = await c.cbor(CtapCommand.authenticatorClientPIN, params);
    return { status: r.status, body: r.data as CborMap | undefined };
  });
}
