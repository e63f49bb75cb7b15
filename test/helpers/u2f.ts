/**
 * CTAP1/U2F test helpers, written from FIDO U2F Raw Message Formats v1.2 independently of ctap/u2f: APDU
 * builders (extended length, as python-fido2 and libfido2 send them), response parsers, and signature checks
 * with node:crypto.
 */
import { X509Certificate, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const SW = {
  NO_ERROR: 0x9000,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED: 0x6986,
  WRONG_DATA: 0x6a80,
  WRONG_LENGTH: 0x6700,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
} as const;

export const INS = { REGISTER: 0x01, AUTHENTICATE: 0x02, VERSION: 0x03 } as const;
export const P1 = { ENFORCE: 0x03, CHECK_ONLY: 0x07, DONT_ENFORCE: 0x08 } as const;

/** `CLA INS P1 P2 00 Lc1 Lc2 data 00 00` (extended Lc and Le, as python-fido2's Ctap1.send_apdu). */
export function apdu(ins: number, data: Uint8Array = new Uint8Array(0), p1 = 0, cla = 0): Uint8Array {
  return Uint8Array.of(cla, ins, p1, 0, 0, data.length >> 8, data.length & 0xff, ...data, 0, 0);
}

export function registerApdu(challenge: Uint8Array, application: Uint8Array, p1 = 0x03): Uint8Array {
  return apdu(INS.REGISTER, Uint8Array.of(...challenge, ...application), p1);
}

export function authenticateApdu(challenge: Uint8Array, application: Uint8Array, keyHandle: Uint8Array, p1: number): Uint8Array {
  return apdu(INS.AUTHENTICATE, Uint8Array.of(...challenge, ...application, keyHandle.length, ...keyHandle), p1);
}

export interface ResponseApdu {
  sw: number;
  data: Uint8Array;
}

export function splitResponse(r: Uint8Array): ResponseApdu {
  if (r.length < 2) throw new Error(`response APDU of ${r.length} bytes has no status word`);
  return { sw: (r[r.length - 2]! << 8) | r[r.length - 1]!, data: r.subarray(0, r.length - 2) };
}

/** Length of the DER element at `off` (header included). */
function derLength(b: Uint8Array, off: number): number {
  const first = b[off + 1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i]!;
  return 2 + n + len;
}

export interface Registration {
  publicKey: Uint8Array;
  keyHandle: Uint8Array;
  certificate: Uint8Array;
  signature: Uint8Array;
}

/** §4.3: 0x05 || public key (65) || L || key handle (L) || certificate (DER) || signature (DER). */
export function parseRegistration(data: Uint8Array): Registration {
  if (data[0] !== 0x05) throw new Error(`reserved byte 0x${data[0]?.toString(16)}, expected 0x05`);
  const publicKey = data.subarray(1, 66);
  const khLen = data[66]!;
  const keyHandle = data.subarray(67, 67 + khLen);
  const certOff = 67 + khLen;
  const certificate = data.subarray(certOff, certOff + derLength(data, certOff));
  const signature = data.subarray(certOff + certificate.length);
  return { publicKey, keyHandle, certificate, signature };
}

/** An uncompressed P-256 point (0x04 || x || y) as a node public key. */
export function p256Key(point: Uint8Array): KeyObject {
  if (point.length !== 65 || point[0] !== 0x04) throw new Error('not an uncompressed P-256 point');
  const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) },
    format: 'jwk',
  });
}

/** §4.3: the attestation certificate's key signed 0x00 || application || challenge || key handle || public key. */
export function verifyRegistration(r: Registration, application: Uint8Array, challenge: Uint8Array): boolean {
  const key = new X509Certificate(Buffer.from(r.certificate)).publicKey;
  const signed = Buffer.concat([Buffer.of(0), application, challenge, r.keyHandle, r.publicKey]);
  return verify('sha256', signed, { key, dsaEncoding: 'der' }, r.signature);
}

export interface Authentication {
  userPresence: number;
  counter: number;
  signature: Uint8Array;
}

/** §5.4: user presence (1) || counter (4, big-endian) || signature. */
export function parseAuthentication(data: Uint8Array): Authentication {
  return {
    userPresence: data[0]!,
    counter: Buffer.from(data.subarray(1, 5)).readUInt32BE(0),
    signature: data.subarray(5),
  };
}

/** §5.4: the credential key signed application || user presence || counter || challenge. */
export function verifyAuthentication(key: KeyObject, a: Authentication, application: Uint8Array, challenge: Uint8Array): boolean {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(a.counter);
  const signed = Buffer.concat([application, Buffer.of(a.userPresence), counter, challenge]);
  return verify('sha256', signed, { key, dsaEncoding: 'der' }, a.signature);
}

/**
 * Send `request` until it stops answering SW_CONDITIONS_NOT_SATISFIED (U2F has no keepalive: the host polls,
 * as libfido2 does every 100 ms). Returns the final answer and how many 0x6985 came before it.
 */
export async function poll(
  send: (request: Uint8Array) => Promise<Uint8Array>,
  request: Uint8Array,
  o: { intervalMs?: number; attempts?: number; wait?: (ms: number) => Promise<void> } = {},
): Promise<ResponseApdu & { polls: number }> {
  const wait = o.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let polls = 0; polls < (o.attempts ?? 50); polls++) {
    const r = splitResponse(await send(request));
    if (r.sw !== SW.CONDITIONS_NOT_SATISFIED) return { ...r, polls };
    await wait(o.intervalMs ?? 5);
  }
  throw new Error('still SW_CONDITIONS_NOT_SATISFIED after every poll');
}
