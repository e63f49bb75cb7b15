/**
 * Property tests at the CTAP2 layer: random CBOR, random command bytes and mutations of valid requests.
 * Whatever arrives, the authenticator answers with one status byte (plus canonical CBOR on success),
 * never throws, never hangs, and keeps working afterwards.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createAuthenticator, type Authenticator } from '../../ctap/authenticator/authenticator.ts';
import { createCrypto } from '../../src/env/crypto.ts';
import { createSeededRng } from '../../src/env/rng.ts';
import { createMemoryStore } from '../../src/env/memoryStore.ts';
import { ManualScheduler } from '../helpers/scheduler.ts';
import { encode, decodeCanonical } from '../../ctap/cbor.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { RequestContext } from '../../ctap/authenticator/env.ts';

const KNOWN_STATUSES = new Set<number>(Object.values(CtapStatus));

async function newAuthenticator(): Promise<Authenticator> {
  const rng = createSeededRng('property');
  return createAuthenticator({
    env: {
      scheduler: new ManualScheduler(),
      rng,
      crypto: createCrypto({ rng, deterministic: true }),
      store: createMemoryStore(),
      presence: { request: async () => 'approved' },
    },
    attestation: 'none',
  });
}

function ctx(): RequestContext {
  return { channel: 1, signal: new AbortController().signal, keepalive: () => {} };
}

/** Every reply: a known status byte; success carries canonical CBOR (or nothing), errors carry nothing. */
function checkReply(r: Uint8Array): void {
  expect(r).toBeInstanceOf(Uint8Array);
  expect(r.length).toBeGreaterThanOrEqual(1);
  expect(KNOWN_STATUSES.has(r[0]!)).toBe(true);
  if (r[0] === 0) {
    if (r.length > 1) expect(() => decodeCanonical(r.subarray(1))).not.toThrow();
  } else {
    expect(r.length).toBe(1);
  }
}

const cborLeaf = fc.oneof(
  fc.integer({ min: -70000, max: 70000 }),
  fc.string({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
);
const cborValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, cborLeaf, tie('array'), tie('map')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  map: fc
    .array(fc.tuple(fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom('id', 'rk', 'up', 'uv', 'alg', 'type', 'name')), tie('value')), {
      maxLength: 6,
    })
    .map((entries) => new Map(entries)),
})).value;

function validMakeCredential(): Map<number, unknown> {
  return new Map<number, unknown>([
    [1, new Uint8Array(32).fill(1)],
    [2, { id: 'prop.example', name: 'P' }],
    [3, { id: new Uint8Array([1]), name: 'u' }],
    [4, [{ alg: -7, type: 'public-key' }]],
    [7, { rk: true }],
  ]);
}

describe('CTAP2 dispatch under random input', () => {
  it('random bytes after any command byte: always a well-formed reply', async () => {
    const a = await newAuthenticator();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 }), async (cmd, body) => {
        if (cmd === 0x07) return; // reset wipes state: exercised separately
        checkReply(await a.handleCbor(new Uint8Array([cmd, ...body]), ctx()));
      }),
      { numRuns: 400 },
    );
  });

  it('random well-formed CBOR maps to every command: always a well-formed reply', async () => {
    const a = await newAuthenticator();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0x01, 0x02, 0x04, 0x06, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d), cborValue, async (cmd, v) => {
        let body: Uint8Array;
        try {
          body = encode(v);
        } catch {
          return; // e.g. duplicate keys generated: not encodable canonically
        }
        checkReply(await a.handleCbor(new Uint8Array([cmd, ...body]), ctx()));
      }),
      { numRuns: 400 },
    );
  });

  it('mutated valid makeCredential requests: well-formed replies, and the device still works after', async () => {
    const a = await newAuthenticator();
    const valid = new Uint8Array([0x01, ...encode(validMakeCredential())]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: valid.length }),
        async (flips, cut) => {
          const m = valid.slice(0, Math.max(1, cut === 0 ? valid.length : cut));
          for (const [pos, val] of flips) m[1 + (pos % Math.max(1, m.length - 1))] = val;
          checkReply(await a.handleCbor(m, ctx()));
        },
      ),
      { numRuns: 300 },
    );
    const ok = await a.handleCbor(valid, ctx());
    expect(ok[0]).toBe(0);
  });

  it('an encoder-level nesting bomb and an oversized request are refused with a status, not a crash', async () => {
    const a = await newAuthenticator();
    const bomb = new Uint8Array([0x01, ...new Uint8Array(200).fill(0x81), 0x01]);
    checkReply(await a.handleCbor(bomb, ctx()));
    expect((await a.handleCbor(bomb, ctx()))[0]).toBe(CtapStatus.CTAP2_ERR_INVALID_CBOR);
    const big = new Map<number, unknown>([[1, new Uint8Array(7000)]]);
    checkReply(await a.handleCbor(new Uint8Array([0x01, ...encode(big)]), ctx()));
  });
});
