/**
 * Dispatch middleware (seam 2), undici's interceptor shape: `next => (payload, ctx) => Promise<response>`
 * around authenticator.handleCbor. It extracts the request facts once (which the port seams match against
 * while the request runs), applies the rules that act before the handler (status without running it, drop
 * without running it, delay), runs the real handler, then the rules that act on its answer (status, drop,
 * signature, flags, rpIdHash, counter, CBOR shape). The handler never knows.
 */
import type { Crypto, RequestContext } from '../../ctap/authenticator/env.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { isCtapError } from '../../ctap/errors.ts';
import type { FaultEngine } from './engine.ts';
import { requestFacts, responseCredential } from './facts.ts';
import { waitOrCancel } from './ports.ts';
import { authDataOf, corruptSignature, editAuthData, malformBody, parseResponse, resign, serialize, type Parsed, type SigningKeys } from './tamper.ts';
import type { Facts, FaultEffect } from './types.ts';
import { decodeLenient } from '../../ctap/cbor.ts';

export type CborHandler = (payload: Uint8Array, ctx: RequestContext) => Promise<Uint8Array>;
export type Middleware = (next: CborHandler) => CborHandler;

export interface FaultMiddlewareOptions {
  crypto: Crypto;
  keys: SigningKeys;
}

/** The effects that act before the handler runs (this middleware and the U2F one, u2fMiddleware.ts). */
export const BEFORE = (e: FaultEffect): boolean =>
  e.type === 'delay' || (e.type === 'status' && !e.runHandler) || (e.type === 'drop' && e.runHandler === false);

/** A `status` rule acts on a CBOR request only if it has a CTAP status for it (`sw` alone is for U2F). */
const forCbor = (e: FaultEffect): boolean => e.type !== 'status' || e.status !== undefined;
const BEFORE_CBOR = (e: FaultEffect): boolean => forCbor(e) && BEFORE(e);

const AUTHDATA_EFFECTS = new Set(['flags', 'rpIdHash', 'counter']);

/** The clientDataHash a response was signed over: MC key 0x01, GA key 0x02 (getNextAssertion: its getAssertion's). */
function clientDataHashOf(payload: Uint8Array): Uint8Array | undefined {
  const key = payload[0] === 0x01 ? 0x01 : payload[0] === 0x02 ? 0x02 : undefined;
  if (key === undefined) return undefined;
  try {
    const m = decodeLenient(payload.subarray(1));
    const v = m instanceof Map ? m.get(key) : undefined;
    return v instanceof Uint8Array ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A request's facts, read from its payload the first time someone asks. */
class LazyFacts {
  #facts: Facts | undefined;
  constructor(
    private readonly payload: Uint8Array,
    private readonly channel: number,
  ) {}

  get(): Facts {
    return (this.#facts ??= requestFacts(this.payload, this.channel));
  }
}

export function faultMiddleware(engine: FaultEngine, o: FaultMiddlewareOptions): Middleware {
  /** Per channel: the clientDataHash of the last getAssertion (getNextAssertion responses are signed over it). */
  const lastClientDataHash = new Map<number, Uint8Array>();

  return (next) => async (payload, ctx) => {
    // The request's facts are decoded only if a rule at some seam asks for them (no rule armed: never).
    const lazy = new LazyFacts(payload, ctx.channel);
    engine.setCurrent(() => lazy.get());
    // A `drop` mark left by a request whose answer never went out (cancelled, power-cycled) must not eat this one.
    engine.takeSwallow(ctx.channel);
    try {
      if (payload[0] === CtapCommand.authenticatorGetAssertion) {
        const cdh = clientDataHashOf(payload);
        if (cdh) lastClientDataHash.set(ctx.channel, cdh);
      }
      if (!engine.armed('dispatch')) return await next(payload, ctx);
      const facts = lazy.get();

      // Before the handler, in insertion order: a delay, or an answer without running the command.
      for (const { effect: e } of engine.fireAll('dispatch', facts, BEFORE_CBOR)) {
        if (e.type === 'delay') {
          try {
            await waitOrCancel(engine, e.ms, ctx.signal);
          } catch (err) {
            if (isCtapError(err)) return new Uint8Array([err.status]);
            throw err;
          }
        } else if (e.type === 'status' && e.status !== undefined) {
          return new Uint8Array([e.status]);
        } else if (e.type === 'drop') {
          engine.swallowResponse(ctx.channel);
          return new Uint8Array([CtapStatus.CTAP1_ERR_OTHER]); // never reaches the wire
        }
      }

      let out = await next(payload, ctx);

      // After the handler: the answer's facts include the credential a getAssertion returned.
      const parsed = parseResponse(facts.command, out);
      const after: Facts = { ...facts };
      const returned = parsed?.kind === 'assertion' ? responseCredential(parsed.body) : undefined;
      if (returned) after.credentials = [...(facts.credentials ?? []), returned];
      const cdh = facts.command === 'getNextAssertion' ? lastClientDataHash.get(ctx.channel) : clientDataHashOf(payload);
      const applicable = (e: FaultEffect): boolean => {
        if (BEFORE(e)) return false;
        if (e.type === 'status') return e.status !== undefined;
        if (e.type === 'drop') return true;
        if (e.type === 'cbor') return out.length > 1 && out[0] === CtapStatus.CTAP2_OK;
        if (e.type === 'signature.corrupt') return parsed !== undefined && (parsed.kind === 'assertion' || (parsed.body.get(3) instanceof Map && (parsed.body.get(3) as Map<string, unknown>).has('sig')));
        return parsed !== undefined && AUTHDATA_EFFECTS.has(e.type);
      };
      // status / drop end it at once; otherwise authData edits (re-signed), then signature damage, then the CBOR
      // shape, whatever the insertion order: a later re-sign must not repair a damaged signature.
      const fired = engine.fireAll('dispatch', after, applicable);
      for (const { effect: e } of fired) {
        if (e.type === 'status' && e.status !== undefined) return new Uint8Array([e.status]);
        if (e.type === 'drop') {
          engine.swallowResponse(ctx.channel);
          return out;
        }
      }
      let tampered: Parsed | undefined;
      for (const f of fired) {
        const e = f.effect;
        if (e.type !== 'flags' && e.type !== 'rpIdHash' && e.type !== 'counter') continue;
        tampered ??= parsed!;
        const before = authDataOf(tampered);
        tampered.body.set(2, editAuthData(before, e, o.crypto));
        if (e.resign !== false) f.entry.detail = { ...f.entry.detail, resigned: resign(tampered, cdh, before.subarray(0, 32), o.keys, o.crypto) };
      }
      if (fired.some((f) => f.effect.type === 'signature.corrupt')) {
        tampered ??= parsed!;
        corruptSignature(tampered);
      }
      if (tampered) out = serialize(tampered);
      for (const { effect: e } of fired) if (e.type === 'cbor') out = malformBody(out, e.mode) ?? out;
      return out;
    } finally {
      engine.current = undefined;
    }
  };
}
