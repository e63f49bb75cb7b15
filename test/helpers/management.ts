/**
 * The platform side of authenticatorCredentialManagement (0x0A / 0x41), authenticatorLargeBlobs (0x0C) and
 * authenticatorConfig (0x0D) for tests: request maps and the pinUvAuthParam messages built here from the spec
 * (CTAP 2.1 §6.8, §6.10.2, §6.11), MACs and hashes on node:crypto (pinClient.ts). Works over any `call`.
 */
import { createHash } from 'node:crypto';
import { encode, type CborMap } from '../../ctap/cbor.ts';
import type { PinClient } from './pinClient.ts';

/** One CTAP2 command: command byte and parameter map in, status and decoded response map out. */
export type CborCall = (cmd: number, params?: Map<number, unknown>) => Promise<{ status: number; body?: CborMap | undefined }>;

export const Cmd = { credMgmt: 0x0a, largeBlobs: 0x0c, config: 0x0d, credMgmtPreview: 0x41 } as const;

export const CredSub = {
  getCredsMetadata: 0x01,
  enumerateRPsBegin: 0x02,
  enumerateRPsGetNextRP: 0x03,
  enumerateCredentialsBegin: 0x04,
  enumerateCredentialsGetNextCredential: 0x05,
  deleteCredential: 0x06,
  updateUserInformation: 0x07,
} as const;

export const ConfigSub = { enableEnterpriseAttestation: 0x01, toggleAlwaysUv: 0x02, setMinPINLength: 0x03, vendorPrototype: 0xff } as const;

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** CTAP 2.1 §6.10.2: CBOR(array) || LEFT(SHA-256(CBOR(array)), 16). */
export function serializeLargeBlobArray(entries: unknown[]): Uint8Array {
  const body = encode(entries);
  return new Uint8Array([...body, ...sha256(body).subarray(0, 16)]);
}

/** 32 × 0xff || 0x0c 0x00 || uint32LE(offset) || SHA-256(fragment). */
export function largeBlobMessage(offset: number, fragment: Uint8Array): Uint8Array {
  const le = Buffer.alloc(4);
  le.writeUInt32LE(offset);
  return new Uint8Array([...new Uint8Array(32).fill(0xff), 0x0c, 0x00, ...le, ...sha256(fragment)]);
}

/** 32 × 0xff || 0x0d || subCommand || CBOR(subCommandParams). */
export function configMessage(sub: number, params?: Map<number, unknown>): Uint8Array {
  return new Uint8Array([...new Uint8Array(32).fill(0xff), 0x0d, sub, ...(params ? encode(params) : [])]);
}

/** subCommand || CBOR(subCommandParams). */
export function credMgmtMessage(sub: number, params?: Map<number, unknown>): Uint8Array {
  return new Uint8Array([sub, ...(params ? encode(params) : [])]);
}

export interface Auth {
  token: Uint8Array;
  pin: PinClient;
}

export class ManagementClient {
  constructor(private readonly call: CborCall) {}

  /** credMgmt request; with `auth`, pinUvAuthProtocol (3) and pinUvAuthParam (4). */
  async credMgmt(sub: number, o: { params?: Map<number, unknown>; auth?: Auth; preview?: boolean } = {}) {
    const m = new Map<number, unknown>([[1, sub]]);
    if (o.params) m.set(2, o.params);
    if (o.auth) {
      m.set(3, o.auth.pin.protocol);
      m.set(4, o.auth.pin.param(o.auth.token, credMgmtMessage(sub, o.params)));
    }
    return this.call(o.preview ? Cmd.credMgmtPreview : Cmd.credMgmt, m);
  }

  /** largeBlobs get: {1: count, 3: offset}. */
  async largeBlobGet(offset: number, count: number) {
    return this.call(Cmd.largeBlobs, new Map([[1, count], [3, offset]]));
  }

  /** largeBlobs set: {2: fragment, 3: offset, 4: length (when given), 5/6: auth}. */
  async largeBlobSet(fragment: Uint8Array, offset: number, o: { length?: number; auth?: Auth } = {}) {
    const m = new Map<number, unknown>([
      [2, fragment],
      [3, offset],
    ]);
    if (o.length !== undefined) m.set(4, o.length);
    if (o.auth) {
      m.set(5, o.auth.pin.param(o.auth.token, largeBlobMessage(offset, fragment)));
      m.set(6, o.auth.pin.protocol);
    }
    return this.call(Cmd.largeBlobs, m);
  }

  /** Read the whole serialized array, fragment by fragment, as a platform does. */
  async readLargeBlobArray(fragment: number): Promise<Uint8Array> {
    const out: number[] = [];
    for (;;) {
      const r = await this.largeBlobGet(out.length, fragment);
      if (r.status !== 0) throw new Error(`largeBlobs get failed with 0x${r.status.toString(16)}`);
      const chunk = r.body!.get(1) as Uint8Array;
      out.push(...chunk);
      if (chunk.length < fragment) return new Uint8Array(out);
    }
  }

  /** Write a serialized array in fragments of at most `fragment` bytes; returns the status of the first failure or 0. */
  async writeLargeBlobArray(data: Uint8Array, fragment: number, auth?: Auth): Promise<number> {
    for (let offset = 0; offset < data.length; offset += fragment) {
      const chunk = data.subarray(offset, Math.min(data.length, offset + fragment));
      const r = await this.largeBlobSet(chunk, offset, { ...(offset === 0 ? { length: data.length } : {}), ...(auth ? { auth } : {}) });
      if (r.status !== 0) return r.status;
    }
    return 0;
  }

  async config(sub: number, o: { params?: Map<number, unknown>; auth?: Auth } = {}) {
    const m = new Map<number, unknown>([[1, sub]]);
    if (o.params) m.set(2, o.params);
    if (o.auth) {
      m.set(3, o.auth.pin.protocol);
      m.set(4, o.auth.pin.param(o.auth.token, configMessage(sub, o.params)));
    }
    return this.call(Cmd.config, m);
  }
}
