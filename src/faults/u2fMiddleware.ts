/**
 * Dispatch middleware for CTAP1/U2F (seam 2 on CTAPHID_MSG): the dispatch effects that make sense for an APDU.
 * `delay` waits before the handler; `status` answers its `sw` (a U2F status word, no data) instead of the
 * handler's answer (runHandler: after running it); `drop` leaves the request unanswered (the transport swallows
 * the response). The other dispatch effects rewrite a CTAP2 CBOR answer and never fire here; a `status` rule
 * without `sw` neither. The request's facts (its U2F command name) are what the presence port matches against.
 */
import type { RequestContext } from '../../ctap/authenticator/env.ts';
import { U2fStatus } from '../../ctap/u2f/apdu.ts';
import type { FaultEngine } from './engine.ts';
import { apduFacts } from './facts.ts';
import { BEFORE } from './middleware.ts';
import { waitOrCancel } from './ports.ts';
import type { FaultEffect } from './types.ts';

export type MsgHandler = (apdu: Uint8Array, ctx: RequestContext) => Promise<Uint8Array>;

/** Only the effects an APDU can take; `status` only with a status word. */
const forU2f = (e: FaultEffect): boolean => e.type === 'delay' || e.type === 'drop' || (e.type === 'status' && e.sw !== undefined);

/** U2F Raw Message Formats v1.2 §3.2: a response APDU ends with SW1 SW2 (here with no data). */
function swOnly(sw: number): Uint8Array {
  return new Uint8Array([sw >> 8, sw & 0xff]);
}

export function u2fFaultMiddleware(engine: FaultEngine): (next: MsgHandler) => MsgHandler {
  return (next) => async (apdu, ctx) => {
    engine.setCurrent(() => apduFacts(apdu, ctx.channel));
    // A `drop` mark left by a request whose answer never went out must not eat this one.
    engine.takeSwallow(ctx.channel);
    try {
      if (!engine.armed('dispatch')) return await next(apdu, ctx);
      const facts = engine.current!;
      for (const { effect: e } of engine.fireAll('dispatch', facts, (e) => forU2f(e) && BEFORE(e))) {
        if (e.type === 'delay') {
          // U2F has no cancel status (CTAPHID_CANCEL): a cancelled delay just ends and the handler answers.
          await waitOrCancel(engine, e.ms, ctx.signal).catch(() => undefined);
        } else if (e.type === 'status' && e.sw !== undefined) {
          return swOnly(e.sw);
        } else if (e.type === 'drop') {
          engine.swallowResponse(ctx.channel);
          return swOnly(U2fStatus.SW_UNKNOWN); // never reaches the wire
        }
      }
      const out = await next(apdu, ctx);
      for (const { effect: e } of engine.fireAll('dispatch', facts, (e) => forU2f(e) && !BEFORE(e))) {
        if (e.type === 'status' && e.sw !== undefined) return swOnly(e.sw);
        if (e.type === 'drop') {
          engine.swallowResponse(ctx.channel);
          return out;
        }
      }
      return out;
    } finally {
      engine.current = undefined;
    }
  };
}
