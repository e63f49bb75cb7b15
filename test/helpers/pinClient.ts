/**
 * The platform side of authenticatorClientPIN (CTAP 2.1 §6.5.5–§6.5.7) for tests, written directly on node:crypto
 * (ECDH, HKDF, AES-256-CBC, HMAC) and independent of ctap/pin, so a bug there cannot hide here: encapsulate
 * against the device's key-agreement key, encrypt newPin / pinHash, decrypt the pinUvAuthToken, compute
 * pinUvAuthParam. Works over any `call` (the in-process authenticator or a CTAPHID client).
 */
import { createCipheriv, createDecipheriv, createECDH, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { CborMap } from '../../ctap/cbor.ts';

export type Protocol = 1 | 2;

/** One authenticatorClientPIN exchange: params map in, status and (decoded) response map out. */
export type ClientPinCall = (params: Map<number, unknown>) => Promise<{ status: number; body?: CborMap | undefined }>;

export const Sub = {
  getPINRetries: 0x01,
  getKeyAgreement: 0x02,
  setPIN: 0x03,
  changePIN: 0x04,
  getPinToken: 0x05,
  getPinUvAuthTokenUsingUvWithPermissions: 0x06,
  getUVRetries: 0x07,
  getPinUvAuthTokenUsingPinWithPermissions: 0x09,
} as const;

export const Perm = { mc: 0x01, ga: 0x02, cm: 0x04, be: 0x08, lbw: 0x10, acfg: 0x20 } as const;

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b);

export function sha256(data: Uint8Array | string): Uint8Array {
  return u8(createHash('sha256').update(data).digest());
}

/** A platform key-agreement key and the shared secret with the device's COSE_Key (CTAP 2.1 §6.5.6/7 encapsulate). */
export interface Encapsulation {
  /** {1: 2, 3: -25, -1: 1, -2: x, -3: y}. */
  platformKey: Map<number, number | Uint8Array>;
  sharedSecret: Uint8Array;
}

export function encapsulate(protocol: Protocol, deviceKey: CborMap): Encapsulation {
  const x = deviceKey.get(-2) as Uint8Array;
  const y = deviceKey.get(-3) as Uint8Array;
  const ecdh = createECDH('prime256v1');
  const pub = ecdh.generateKeys();
  const z = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), x, y]));
  const sharedSecret =
    protocol === 1
      ? sha256(z)
      : new Uint8Array(
          Buffer.concat([
            Buffer.from(hkdfSync('sha256', z, Buffer.alloc(32), 'CTAP2 HMAC key', 32)),
            Buffer.from(hkdfSync('sha256', z, Buffer.alloc(32), 'CTAP2 AES key', 32)),
          ]),
        );
  const platformKey = new Map<number, number | Uint8Array>([
    [1, 2],
    [3, -25],
    [-1, 1],
    [-2, u8(pub.subarray(1, 33))],
    [-3, u8(pub.subarray(33, 65))],
  ]);
  return { platformKey, sharedSecret };
}

function cbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = encrypt ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return u8(Buffer.concat([c.update(data), c.final()]));
}

export function encrypt(protocol: Protocol, shared: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (protocol === 1) return cbc(true, shared, new Uint8Array(16), plaintext);
  const iv = u8(randomBytes(16));
  return new Uint8Array([...iv, ...cbc(true, shared.subarray(32), iv, plaintext)]);
}

export function decrypt(protocol: Protocol, shared: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (protocol === 1) return cbc(false, shared, new Uint8Array(16), ciphertext);
  return cbc(false, shared.subarray(32), ciphertext.subarray(0, 16), ciphertext.subarray(16));
}

/** pinUvAuthParam: LEFT(HMAC-SHA-256(key, msg), 16) for one, HMAC-SHA-256(key[0..32], msg) for two. */
export function authenticate(protocol: Protocol, key: Uint8Array, message: Uint8Array): Uint8Array {
  const mac = u8(createHmac('sha256', key.subarray(0, 32)).update(message).digest());
  return protocol === 1 ? mac.subarray(0, 16) : mac;
}

/** UTF-8 PIN, zero-padded to 64 bytes (or to `length`, to build malformed requests). */
export function padPin(pin: string | Uint8Array, length = 64): Uint8Array {
  const bytes = typeof pin === 'string' ? new TextEncoder().encode(pin) : pin;
  const out = new Uint8Array(Math.max(length, bytes.length));
  out.set(bytes);
  return out;
}

/** LEFT(SHA-256(pin), 16). */
export function pinHash(pin: string): Uint8Array {
  return sha256(pin).subarray(0, 16);
}

export class PinError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`${what} failed with status 0x${status.toString(16)}`);
  }
}

/** A platform speaking one PIN/UV auth protocol to one device. */
export class PinClient {
  constructor(
    private readonly call: ClientPinCall,
    readonly protocol: Protocol = 2,
  ) {}

  private async ok(params: Map<number, unknown>, what: string): Promise<CborMap | undefined> {
    const r = await this.call(params);
    if (r.status !== 0) throw new PinError(r.status, what);
    return r.body;
  }

  /** getKeyAgreement, then encapsulate: a fresh platform key and shared secret. */
  async session(): Promise<Encapsulation> {
    const body = await this.ok(new Map([[1, this.protocol], [2, Sub.getKeyAgreement]]), 'getKeyAgreement');
    return encapsulate(this.protocol, body!.get(1) as CborMap);
  }

  async retries(): Promise<{ pinRetries: number; powerCycleState: boolean | undefined }> {
    const body = await this.ok(new Map([[1, this.protocol], [2, Sub.getPINRetries]]), 'getPINRetries');
    return { pinRetries: body!.get(3) as number, powerCycleState: body!.get(4) as boolean | undefined };
  }

  async uvRetries(): Promise<number> {
    const body = await this.ok(new Map([[1, this.protocol], [2, Sub.getUVRetries]]), 'getUVRetries');
    return body!.get(5) as number;
  }

  /** setPIN params (a fresh session unless one is given). */
  async setPinParams(pin: string | Uint8Array, s?: Encapsulation): Promise<Map<number, unknown>> {
    const { platformKey, sharedSecret } = s ?? (await this.session());
    const newPinEnc = encrypt(this.protocol, sharedSecret, padPin(pin));
    return new Map<number, unknown>([
      [1, this.protocol],
      [2, Sub.setPIN],
      [3, platformKey],
      [4, authenticate(this.protocol, sharedSecret, newPinEnc)],
      [5, newPinEnc],
    ]);
  }

  /** Status of setPIN. */
  async setPin(pin: string | Uint8Array): Promise<number> {
    return (await this.call(await this.setPinParams(pin))).status;
  }

  async changePinParams(current: string, next: string | Uint8Array, s?: Encapsulation): Promise<Map<number, unknown>> {
    const { platformKey, sharedSecret } = s ?? (await this.session());
    const newPinEnc = encrypt(this.protocol, sharedSecret, padPin(next));
    const pinHashEnc = encrypt(this.protocol, sharedSecret, pinHash(current));
    return new Map<number, unknown>([
      [1, this.protocol],
      [2, Sub.changePIN],
      [3, platformKey],
      [4, authenticate(this.protocol, sharedSecret, new Uint8Array([...newPinEnc, ...pinHashEnc]))],
      [5, newPinEnc],
      [6, pinHashEnc],
    ]);
  }

  /** Status of changePIN. */
  async changePin(current: string, next: string | Uint8Array): Promise<number> {
    return (await this.call(await this.changePinParams(current, next))).status;
  }

  /**
   * A token request: getPinToken (no permissions), getPinUvAuthTokenUsingPinWithPermissions (pin + permissions)
   * or …UsingUvWithPermissions (no pin). Returns the status and, on success, the decrypted token.
   */
  async token(o: { pin?: string; permissions?: number; rpId?: string; session?: Encapsulation }): Promise<{ status: number; token?: Uint8Array }> {
    const s = o.session ?? (await this.session());
    const sub = o.pin === undefined ? Sub.getPinUvAuthTokenUsingUvWithPermissions : o.permissions === undefined ? Sub.getPinToken : Sub.getPinUvAuthTokenUsingPinWithPermissions;
    const params = new Map<number, unknown>([
      [1, this.protocol],
      [2, sub],
      [3, s.platformKey],
    ]);
    if (o.pin !== undefined) params.set(6, encrypt(this.protocol, s.sharedSecret, pinHash(o.pin)));
    if (o.permissions !== undefined) params.set(9, o.permissions);
    if (o.rpId !== undefined) params.set(10, o.rpId);
    const r = await this.call(params);
    if (r.status !== 0) return { status: r.status };
    return { status: 0, token: decrypt(this.protocol, s.sharedSecret, r.body!.get(2) as Uint8Array) };
  }

  /** A token or a thrown PinError. */
  async tokenOrThrow(o: { pin?: string; permissions?: number; rpId?: string }): Promise<Uint8Array> {
    const r = await this.token(o);
    if (r.status !== 0) throw new PinError(r.status, 'token request');
    return r.token!;
  }

  /** pinUvAuthParam over `message` with a token (mc/ga: message = clientDataHash). */
  param(token: Uint8Array, message: Uint8Array): Uint8Array {
    return authenticate(this.protocol, token, message);
  }
}
