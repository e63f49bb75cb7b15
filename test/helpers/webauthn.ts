/**
 * Independent parsing and verification for tests: authData and COSE keys are read here with node:crypto,
 * not with vfido's own encoders, so a bug in one does not hide in the other.
 */
import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { decodeCanonical, type CborMap } from '../../ctap/cbor.ts';

export interface ParsedAuthData {
  rpIdHash: Uint8Array;
  flags: number;
  up: boolean;
  uv: boolean;
  at: boolean;
  ed: boolean;
  signCount: number;
  aaguid?: Uint8Array;
  credentialId?: Uint8Array;
  publicKey?: CborMap;
  publicKeyBytes?: Uint8Array;
  extensions?: Uint8Array;
}

/** Length in bytes of the first CBOR item in `b` (definite lengths only), for splitting authData. */
function cborItemLength(b: Uint8Array, off: number): number {
  const start = off;
  const ib = b[off++]!;
  const mt = ib >> 5;
  const ai = ib & 0x1f;
  let n = 0;
  if (ai < 24) n = ai;
  else if (ai === 24) n = b[off++]!;
  else if (ai === 25) (n = (b[off]! << 8) | b[off + 1]!), (off += 2);
  else if (ai === 26) (n = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0), (off += 4);
  else throw new Error(`unsupported CBOR head 0x${ib.toString(16)}`);
  if (mt === 0 || mt === 1 || mt === 7) return off - start;
  if (mt === 2 || mt === 3) return off - start + n;
  let len = off - start;
  const items = mt === 4 ? n : mt === 5 ? 2 * n : 0;
  if (mt === 6) return len + cborItemLength(b, off);
  for (let i = 0; i < items; i++) {
    const l = cborItemLength(b, start + len);
    len += l;
  }
  return len;
}

export function parseAuthData(a: Uint8Array): ParsedAuthData {
  if (a.length < 37) throw new Error(`authData too short: ${a.length}`);
  const flags = a[32]!;
  const out: ParsedAuthData = {
    rpIdHash: a.slice(0, 32),
    flags,
    up: (flags & 0x01) !== 0,
    uv: (flags & 0x04) !== 0,
    at: (flags & 0x40) !== 0,
    ed: (flags & 0x80) !== 0,
    signCount: new DataView(a.buffer, a.byteOffset + 33, 4).getUint32(0),
  };
  let off = 37;
  if (out.at) {
    out.aaguid = a.slice(off, off + 16);
    off += 16;
    const idLen = (a[off]! << 8) | a[off + 1]!;
    off += 2;
    out.credentialId = a.slice(off, off + idLen);
    off += idLen;
    const kl = cborItemLength(a, off);
    out.publicKeyBytes = a.slice(off, off + kl);
    out.publicKey = decodeCanonical(out.publicKeyBytes) as CborMap;
    off += kl;
  }
  if (out.ed) {
    const el = cborItemLength(a, off);
    out.extensions = a.slice(off, off + el);
    off += el;
  }
  if (off !== a.length) throw new Error(`authData has ${a.length - off} trailing bytes`);
  return out;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** COSE_Key (ES256 EC2 P-256 or EdDSA OKP Ed25519) → node KeyObject. */
export function coseToKeyObject(k: CborMap): KeyObject {
  const kty = k.get(1);
  if (kty === 2 && k.get(3) === -7 && k.get(-1) === 1) {
    return createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64u(k.get(-2) as Uint8Array), y: b64u(k.get(-3) as Uint8Array) },
      format: 'jwk',
    });
  }
  if (kty === 1 && k.get(3) === -8 && k.get(-1) === 6) {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(k.get(-2) as Uint8Array) }, format: 'jwk' });
  }
  throw new Error(`unsupported COSE key ${JSON.stringify([...k.keys()])}`);
}

/** Verify a WebAuthn signature (ES256 DER or Ed25519) over authData || clientDataHash. */
export function verifySignature(key: KeyObject, alg: number, authData: Uint8Array, cdh: Uint8Array, sig: Uint8Array): boolean {
  const msg = Buffer.concat([authData, cdh]);
  if (alg === -7) return nodeVerify('sha256', msg, { key, dsaEncoding: 'der' }, sig);
  if (alg === -8) return nodeVerify(null, msg, key, sig);
  throw new Error(`unsupported alg ${alg}`);
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}
