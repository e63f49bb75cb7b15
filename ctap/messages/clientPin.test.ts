/** authenticatorClientPIN messages, CTAP 2.1 §6.5.5 (request keys 0x01–0x0A, response keys 0x01–0x05). */
import { describe, expect, it } from 'vitest';
import { decodeCanonical, type CborMap } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { isCtapError } from '../errors.ts';
import { encodeClientPinResponse, parseClientPinRequest, requireMembers } from './clientPin.ts';

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (isCtapError(e)) return e.status;
    throw e;
  }
  return undefined;
}

describe('clientPIN request', () => {
  it('parses every member; unknown keys (0x07, 0x08, 0x20) are ignored', () => {
    const key = new Map<number, unknown>([[1, 2]]);
    const m = new Map<number, unknown>([
      [1, 2],
      [2, 9],
      [3, key],
      [4, new Uint8Array(32)],
      [5, new Uint8Array(80)],
      [6, new Uint8Array(32)],
      [7, 'ignored'],
      [9, 3],
      [10, 'example.com'],
      [0x20, true],
    ]) as CborMap;
    expect(parseClientPinRequest(m)).toEqual({
      pinUvAuthProtocol: 2,
      subCommand: 9,
      keyAgreement: key,
      pinUvAuthParam: new Uint8Array(32),
      newPinEnc: new Uint8Array(80),
      pinHashEnc: new Uint8Array(32),
      permissions: 3,
      rpId: 'example.com',
    });
  });

  it('subCommand is required; wrong member types → CBOR_UNEXPECTED_TYPE', () => {
    expect(statusOf(() => parseClientPinRequest(new Map([[1, 2]]) as CborMap))).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
    for (const [k, v] of [
      [2, 'x'],
      [1, -1],
      [3, new Uint8Array(65)],
      [4, 'mac'],
      [9, -3],
      [10, new Uint8Array(1)],
    ] as [number, unknown][]) {
      const m = new Map<number, unknown>([[2, 1]]).set(k, v) as CborMap;
      expect(statusOf(() => parseClientPinRequest(m))).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    }
  });

  it('requireMembers names the first missing member with MISSING_PARAMETER', () => {
    const req = parseClientPinRequest(new Map([[2, 3]]) as CborMap);
    expect(statusOf(() => requireMembers(req, ['pinUvAuthProtocol', 'keyAgreement']))).toBe(CtapStatus.CTAP2_ERR_MISSING_PARAMETER);
  });
});

describe('clientPIN response', () => {
  it('an empty response is the status byte alone (undefined body)', () => {
    expect(encodeClientPinResponse({})).toBeUndefined();
  });

  it('members in canonical key order', () => {
    const body = encodeClientPinResponse({ uvRetries: 5, pinRetries: 8, powerCycleState: false })!;
    const m = decodeCanonical(body) as CborMap;
    expect([...m.entries()]).toEqual([
      [3, 8],
      [4, false],
      [5, 5],
    ]);
  });
});
