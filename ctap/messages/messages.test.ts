import { describe, expect, it } from 'vitest';
import { decodeCanonical, encode, type CborMap } from '../cbor.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { encodeGetAssertionResponse, parseGetAssertionRequest } from './getAssertion.ts';
import { encodeGetInfoResponse } from './getInfo.ts';
import { encodeMakeCredentialResponse, parseMakeCredentialRequest } from './makeCredential.ts';
import { getAssertionParams, makeCredentialParams } from '../../test/helpers/testEnv.ts';

/** The request map as it arrives: encoded and strictly decoded. */
function wire(m: Map<number, unknown>): CborMap {
  return decodeCanonical(encode(m)) as CborMap;
}

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CtapError) return e.status;
    throw e;
  }
  return undefined;
}

describe('makeCredential request parsing (CTAP 2.1 §6.1)', () => {
  it('parses every member into the typed request; unknown members are dropped', () => {
    const req = parseMakeCredentialRequest(
      wire(
        makeCredentialParams({
          rpName: 'Example',
          userName: 'alice',
          displayName: 'Alice',
          algs: [-8, -7],
          excludeList: [new Uint8Array([1])],
          options: { rk: true, up: true, zz: 1 },
          extra: [
            [6, { credProtect: 1 }],
            [8, new Uint8Array(16)],
            [9, 2],
            [10, 1],
            [0x0b, ['packed']],
          ],
        }),
      ),
    );
    expect(req.rp).toEqual({ id: 'example.com', name: 'Example' });
    expect(req.user).toEqual({ id: new Uint8Array([1, 2, 3, 4]), name: 'alice', displayName: 'Alice' });
    expect(req.pubKeyCredParams).toEqual([
      { alg: -8, type: 'public-key' },
      { alg: -7, type: 'public-key' },
    ]);
    expect(req.excludeList).toEqual([{ id: new Uint8Array([1]), type: 'public-key' }]);
    expect(req.options).toEqual({ rk: true, up: true });
    expect(req.extensions).toEqual(new Map([['credProtect', 1]]));
    expect(req.pinUvAuthParam).toEqual(new Uint8Array(16));
    expect(req.pinUvAuthProtocol).toBe(2);
    expect(req.enterpriseAttestation).toBe(1);
  });

  it('descriptor transports must be an array of text', () => {
    const ok = wire(makeCredentialParams({ extra: [[5, [{ id: new Uint8Array(1), type: 'public-key', transports: ['usb'] }]]] }));
    expect(parseMakeCredentialRequest(ok).excludeList![0]!.transports).toEqual(['usb']);
    const bad = wire(makeCredentialParams({ extra: [[5, [{ id: new Uint8Array(1), type: 'public-key', transports: [1] }]]] }));
    expect(statusOf(() => parseMakeCredentialRequest(bad))).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
  });

  it('pinUvAuthProtocol must be unsigned', () => {
    const bad = wire(makeCredentialParams({ extra: [[9, -1]] }));
    expect(statusOf(() => parseMakeCredentialRequest(bad))).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
  });

  it('a non-"public-key" pubKeyCredParams entry needs only its type', () => {
    const req = parseMakeCredentialRequest(wire(makeCredentialParams({ extra: [[4, [{ type: 'x' }, { alg: -7, type: 'public-key' }]]] })));
    expect(req.pubKeyCredParams).toEqual([{ type: 'x' }, { alg: -7, type: 'public-key' }]);
  });
});

describe('getAssertion request parsing (CTAP 2.1 §6.2)', () => {
  it('parses rpId, clientDataHash, allowList, extensions, options, pinUvAuth members', () => {
    const req = parseGetAssertionRequest(
      wire(getAssertionParams({ allowList: [new Uint8Array([9])], options: { up: false }, extra: [[4, { x: 1 }], [6, new Uint8Array(1)], [7, 1]] })),
    );
    expect(req.rpId).toBe('example.com');
    expect(req.clientDataHash.length).toBe(32);
    expect(req.allowList).toEqual([{ id: new Uint8Array([9]), type: 'public-key' }]);
    expect(req.options).toEqual({ up: false });
    expect(req.extensions?.get('x')).toBe(1);
    expect(req.pinUvAuthParam).toEqual(new Uint8Array(1));
    expect(req.pinUvAuthProtocol).toBe(1);
  });

  it('options default to an empty object', () => {
    expect(parseGetAssertionRequest(wire(getAssertionParams())).options).toEqual({});
  });
});

describe('response encoding (integer keys, canonical)', () => {
  it('makeCredential: {1: fmt, 2: authData, 3: attStmt}', () => {
    const bytes = encodeMakeCredentialResponse({ fmt: 'packed', authData: new Uint8Array(37), attStmt: { sig: new Uint8Array(2), alg: -7 } });
    const m = decodeCanonical(bytes) as CborMap;
    expect([...m.keys()]).toEqual([1, 2, 3]);
    expect([...(m.get(3) as CborMap).keys()]).toEqual(['alg', 'sig']);
  });

  it('getAssertion: credential {id, type}, authData, signature, user {id, name, displayName}, numberOfCredentials', () => {
    const bytes = encodeGetAssertionResponse({
      credential: { type: 'public-key', id: new Uint8Array([1]) },
      authData: new Uint8Array(37),
      signature: new Uint8Array(64),
      user: { id: new Uint8Array([2]), name: 'n', displayName: 'd' },
      numberOfCredentials: 2,
    });
    const m = decodeCanonical(bytes) as CborMap;
    expect([...m.keys()]).toEqual([1, 2, 3, 4, 5]);
    expect([...(m.get(1) as CborMap).keys()]).toEqual(['id', 'type']);
    expect([...(m.get(4) as CborMap).keys()]).toEqual(['id', 'name', 'displayName']);
  });

  it('getInfo: extensions and pinUvAuthProtocols only when non-empty; options sorted canonically', () => {
    const base = {
      versions: ['FIDO_2_0'],
      extensions: [] as string[],
      aaguid: new Uint8Array(16),
      options: { plat: false, up: true, rk: true },
      maxMsgSize: 1200,
      maxCredentialCountInList: 4,
      maxCredentialIdLength: 64,
      transports: ['usb'],
      algorithms: [{ alg: -7, type: 'public-key' as const }],
      firmwareVersion: 2,
      remainingDiscoverableCredentials: 1,
    };
    const plain = decodeCanonical(encodeGetInfoResponse(base)) as CborMap;
    expect(plain.has(2)).toBe(false);
    expect(plain.has(6)).toBe(false);
    expect([...(plain.get(4) as CborMap).keys()]).toEqual(['rk', 'up', 'plat']);
    const more = decodeCanonical(encodeGetInfoResponse({ ...base, extensions: ['credProtect'], pinUvAuthProtocols: [2, 1] })) as CborMap;
    expect(more.get(2)).toEqual(['credProtect']);
    expect(more.get(6)).toEqual([2, 1]);
  });
});
