/**
 * PIN/UV auth protocols one and two (CTAP 2.1 §6.5.6, §6.5.7). Every expected value is computed here with
 * node:crypto primitives (createECDH, createHash, hkdfSync, createCipheriv, createHmac), never with ctap/pin.
 */
import { createCipheriv, createDecipheriv, createECDH, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CborMap } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { isCtapError } from '../errors.ts';
import { createCrypto } from '../../src/env/crypto.ts';
import { createSeededRng } from '../../src/env/rng.ts';
import { createPinUvAuthProtocol, type PinProtocolVersion } from './protocol.ts';

function setup(version: PinProtocolVersion, seed = 'pin-protocol') {
  const rng = createSeededRng(seed);
  const crypto = createCrypto({ rng, deterministic: true });
  return createPinUvAuthProtocol(version, { crypto, rng });
}

const u8 = (b: Buffer | Uint8Array): Uint8Array => new Uint8Array(b);

/** A platform key pair and the raw ECDH x-coordinate Z with the device's COSE key, by node:crypto. */
function platform(deviceKey: Map<number, number | Uint8Array>) {
  const ecdh = createECDH('prime256v1');
  const pub = ecdh.generateKeys();
  const devicePoint = Buffer.concat([Buffer.from([4]), deviceKey.get(-2) as Uint8Array, deviceKey.get(-3) as Uint8Array]);
  const z = ecdh.computeSecret(devicePoint);
  const cose: CborMap = new Map<number, number | Uint8Array>([
    [1, 2],
    [3, -25],
    [-1, 1],
    [-2, u8(pub.subarray(1, 33))],
    [-3, u8(pub.subarray(33))],
  ]);
  return { z, cose };
}

function expectedShared(version: PinProtocolVersion, z: Buffer): Uint8Array {
  if (version === 1) return u8(createHash('sha256').update(z).digest());
  return u8(
    Buffer.concat([
      Buffer.from(hkdfSync('sha256', z, Buffer.alloc(32), 'CTAP2 HMAC key', 32)),
      Buffer.from(hkdfSync('sha256', z, Buffer.alloc(32), 'CTAP2 AES key', 32)),
    ]),
  );
}

function cbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = encrypt ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return u8(Buffer.concat([c.update(data), c.final()]));
}

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (isCtapError(e)) return e.status;
    throw e;
  }
  return undefined;
}

describe.each([1, 2] as const)('PIN/UV auth protocol %i', (version) => {
  it('getPublicKey: COSE_Key {1: 2 (EC2), 3: -25, -1: 1 (P-256), -2: x, -3: y} of a point on P-256', () => {
    const p = setup(version);
    const key = p.getPublicKey();
    expect([...key.keys()]).toEqual([1, 3, -1, -2, -3]);
    expect(key.get(1)).toBe(2);
    expect(key.get(3)).toBe(-25);
    expect(key.get(-1)).toBe(1);
    expect((key.get(-2) as Uint8Array).length).toBe(32);
    expect((key.get(-3) as Uint8Array).length).toBe(32);
    // node:crypto accepts it as a peer key (it rejects points that are not on the curve).
    expect(() => platform(key)).not.toThrow();
  });

  it('decapsulate = kdf(ECDH x-coordinate), as the platform computes it', () => {
    const p = setup(version);
    const { z, cose } = platform(p.getPublicKey());
    const shared = p.decapsulate(cose);
    expect(shared).toEqual(expectedShared(version, z));
    expect(shared.length).toBe(version === 1 ? 32 : 64);
  });

  it('decapsulate tolerates an absent alg', () => {
    const p = setup(version);
    const { z, cose } = platform(p.getPublicKey());
    cose.delete(3);
    expect(p.decapsulate(cose)).toEqual(expectedShared(version, z));
  });

  it('decapsulate: a malformed COSE_Key or a point off the curve → CTAP1_ERR_INVALID_PARAMETER', () => {
    const p = setup(version);
    const { cose } = platform(p.getPublicKey());
    const variants: [string, unknown][] = [
      ['not a map', new Uint8Array(65)],
      ['absent', undefined],
      ['kty OKP', new Map(cose).set(1, 1)],
      ['crv P-384', new Map(cose).set(-1, 2)],
      ['alg ES256', new Map(cose).set(3, -7)],
      ['short x', new Map(cose).set(-2, new Uint8Array(31))],
      ['y missing', (() => { const m = new Map(cose); m.delete(-3); return m; })()],
      ['x as text', new Map(cose).set(-2, 'x')],
      ['off the curve', new Map(cose).set(-3, new Uint8Array(32).fill(7))],
    ];
    for (const [, key] of variants) {
      expect(statusOf(() => p.decapsulate(key as CborMap))).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    }
  });

  it('regenerate: a new key-agreement key, so an old platform encapsulation no longer yields the same secret', () => {
    const p = setup(version);
    const before = p.getPublicKey();
    const { z, cose } = platform(before);
    p.regenerate();
    expect(p.getPublicKey().get(-2)).not.toEqual(before.get(-2));
    expect(p.decapsulate(cose)).not.toEqual(expectedShared(version, z));
  });

  it('a seeded Crypto gives the same key-agreement key for the same seed', () => {
    expect(setup(version, 's1').getPublicKey()).toEqual(setup(version, 's1').getPublicKey());
    expect(setup(version, 's1').getPublicKey()).not.toEqual(setup(version, 's2').getPublicKey());
  });

  it('authenticate / verify: exact MAC and exact length', () => {
    const p = setup(version);
    const key = u8(randomBytes(version === 1 ? 32 : 64));
    const msg = u8(randomBytes(48));
    const full = u8(createHmac('sha256', key.subarray(0, 32)).update(msg).digest());
    const mac = version === 1 ? full.subarray(0, 16) : full;
    expect(p.authenticate(key, msg)).toEqual(mac);
    expect(p.macLength).toBe(version === 1 ? 16 : 32);
    expect(p.verify(key, msg, mac)).toBe(true);
    const flipped = mac.slice();
    flipped[0]! ^= 1;
    expect(p.verify(key, msg, flipped)).toBe(false);
    // Protocol one: the untruncated HMAC is not a valid signature; protocol two: a 16-byte prefix is not.
    expect(p.verify(key, msg, version === 1 ? full : full.subarray(0, 16))).toBe(false);
    expect(p.verify(key, msg, new Uint8Array(0))).toBe(false);
    // A 32-byte key (the pinUvAuthToken) is used whole by both protocols.
    const token = u8(randomBytes(32));
    expect(p.authenticate(token, msg)).toEqual(u8(createHmac('sha256', token).update(msg).digest()).subarray(0, p.macLength));
  });
});

describe('encrypt / decrypt', () => {
  it('protocol one: AES-256-CBC with a zero IV and no padding; ciphertexts that are not whole blocks do not decrypt', () => {
    const p = setup(1);
    const key = u8(randomBytes(32));
    const pt = u8(randomBytes(64));
    const ct = p.encrypt(key, pt);
    expect(ct).toEqual(cbc(true, key, new Uint8Array(16), pt));
    expect(p.decrypt(key, ct)).toEqual(pt);
    expect(p.decrypt(key, cbc(true, key, new Uint8Array(16), pt.subarray(0, 16)))).toEqual(pt.subarray(0, 16));
    expect(p.decrypt(key, ct.subarray(0, 17))).toBeUndefined();
  });

  it('protocol two: AES key = second half of the shared secret, random IV, output IV || ciphertext', () => {
    const p = setup(2);
    const shared = u8(randomBytes(64));
    const pt = u8(randomBytes(32));
    const ct = p.encrypt(shared, pt);
    expect(ct.length).toBe(48);
    expect(cbc(false, shared.subarray(32), ct.subarray(0, 16), ct.subarray(16))).toEqual(pt);
    expect(p.encrypt(shared, pt)).not.toEqual(ct); // a new IV every time
    const iv = u8(randomBytes(16));
    const theirs = new Uint8Array([...iv, ...cbc(true, shared.subarray(32), iv, pt)]);
    expect(p.decrypt(shared, theirs)).toEqual(pt);
    expect(p.decrypt(shared, new Uint8Array(15))).toBeUndefined();
    expect(p.decrypt(shared, theirs.subarray(0, 40))).toBeUndefined();
  });
});
