/** PIN rules of setPIN / changePIN (CTAP 2.1 §6.5.5.5 steps 7–10): 64-byte padding, code points, 63 bytes. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CtapStatus } from '../constants/status.ts';
import { isCtapError } from '../errors.ts';
import { createCrypto } from '../../src/env/crypto.ts';
import { createSeededRng } from '../../src/env/rng.ts';
import { parseNewPin, pinHash } from './policy.ts';

function padded(pin: string | Uint8Array, length = 64): Uint8Array {
  const b = typeof pin === 'string' ? new TextEncoder().encode(pin) : pin;
  const out = new Uint8Array(length);
  out.set(b.subarray(0, length));
  return out;
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

describe('parseNewPin', () => {
  it('drops the trailing 0x00 padding and counts Unicode code points, not bytes', () => {
    const pin = parseNewPin(padded('1234'), 4);
    expect(new TextDecoder().decode(pin.bytes)).toBe('1234');
    expect(pin.codePoints).toBe(4);
    // Four emoji: 16 bytes of UTF-8, 8 UTF-16 units, 4 code points → long enough for a minimum of 4.
    const emoji = parseNewPin(padded('😀😁😂🤣'), 4);
    expect(emoji.bytes.length).toBe(16);
    expect(emoji.codePoints).toBe(4);
    // Three emoji are 12 bytes but only 3 code points → too short.
    expect(statusOf(() => parseNewPin(padded('😀😁😂'), 4))).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
    // "é" precomposed (NFC) is one code point.
    expect(parseNewPin(padded('é123'), 4).codePoints).toBe(4);
  });

  it('uses the current minimum PIN length', () => {
    expect(statusOf(() => parseNewPin(padded('12345'), 6))).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
    expect(parseNewPin(padded('123456'), 6).codePoints).toBe(6);
  });

  it('63 bytes is the longest PIN; 64 bytes (no padding left) → PIN_POLICY_VIOLATION', () => {
    expect(parseNewPin(padded('a'.repeat(63)), 4).bytes.length).toBe(63);
    expect(statusOf(() => parseNewPin(padded('a'.repeat(64)), 4))).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
  });

  it('paddedNewPin that is not 64 bytes → CTAP1_ERR_INVALID_PARAMETER', () => {
    expect(statusOf(() => parseNewPin(padded('1234', 48), 4))).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
    expect(statusOf(() => parseNewPin(padded('1234', 80), 4))).toBe(CtapStatus.CTAP1_ERR_INVALID_PARAMETER);
  });

  it('bytes that are not UTF-8 → PIN_POLICY_VIOLATION', () => {
    expect(statusOf(() => parseNewPin(padded(new Uint8Array([0x31, 0x32, 0xff, 0x33, 0x34])), 4))).toBe(
      CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION,
    );
  });

  it('an all-zero block is an empty PIN → too short', () => {
    expect(statusOf(() => parseNewPin(new Uint8Array(64), 4))).toBe(CtapStatus.CTAP2_ERR_PIN_POLICY_VIOLATION);
  });
});

describe('pinHash', () => {
  it('is LEFT(SHA-256(pin), 16)', () => {
    const crypto = createCrypto({ rng: createSeededRng('x') });
    const pin = new TextEncoder().encode('123456');
    expect(pinHash(crypto, pin)).toEqual(new Uint8Array(createHash('sha256').update(pin).digest().subarray(0, 16)));
  });
});
