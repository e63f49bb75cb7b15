/**
 * Dispatcher: bytes in, status || CBOR out; never throws (STYLE.md "The state machine: small handlers").
 * 1. look the command up (CTAP1_ERR_INVALID_COMMAND if unknown or empty),
 * 2. apply the stateful-command rule (data: the table entry's `continues`),
 * 3. strict canonical decode of the parameters, which must be a map, then the command's parser,
 * 4. the handler, 5. encode; a CtapError becomes its status byte, anything else CTAP1_ERR_OTHER.
 */
import { decodeCanonical, type CborMap } from '../cbor.ts';
import { concat } from '../bytes.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError, isCtapError } from '../errors.ts';
import type { HandlerContext } from './context.ts';
import type { DeviceState, StatefulCommand } from './deviceState.ts';
import { refusedWhileSuspended } from './suspension.ts';
import type { RequestContext } from './env.ts';

export interface CommandSpec<Req, Res> {
  name: string;
  parse(params: CborMap | undefined): Req;
  handle(h: HandlerContext, req: Req): Promise<Res>;
  /** CBOR body of a success response; undefined → the status byte alone (CTAP 2.1 §8: empty success). */
  encode(res: Res): Uint8Array | undefined;
  /** This command continues that stateful command instead of clearing it (CTAP 2.1 §6.3). */
  continues?: StatefulCommand['kind'];
}

/** A table entry with its request/response types erased. */
export interface Command {
  name: string;
  continues?: StatefulCommand['kind'];
  run(h: HandlerContext, params: CborMap | undefined): Promise<Uint8Array | undefined>;
}

export function command<Req, Res>(spec: CommandSpec<Req, Res>): Command {
  const entry: Command = {
    name: spec.name,
    run: async (h, params) => spec.encode(await spec.handle(h, spec.parse(params))),
  };
  if (spec.continues) entry.continues = spec.continues;
  return entry;
}

export type CommandTable = ReadonlyMap<number, Command>;

/** Parameterless commands: any parameters that were sent are ignored (after the framing checks). */
export function noParams(): undefined {
  return undefined;
}

/** CTAP 2.1 §8: the parameters are one canonical CBOR map; an empty remainder means no parameters. */
function decodeParams(body: Uint8Array): CborMap | undefined {
  if (body.length === 0) return undefined;
  const value = decodeCanonical(body); // CTAP2_ERR_INVALID_CBOR on anything non-canonical
  if (!(value instanceof Map)) {
    throw new CtapError(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE, 'command parameters must be a CBOR map');
  }
  return value;
}

export interface DispatcherOptions {
  table: CommandTable;
  device: DeviceState;
  context(request: RequestContext): HandlerContext;
  /** Called with any non-CtapError a handler throws (answered CTAP1_ERR_OTHER), so the caller can log it. */
  onInternalError?(error: unknown, command: number | undefined): void;
}

export type Dispatch = (payload: Uint8Array, request: RequestContext) => Promise<Uint8Array>;

export function createDispatcher({ table, device, context, onInternalError }: DispatcherOptions): Dispatch {
  return async (payload, request) => {
    const cmd = payload[0];
    try {
      // CTAP 2.1 §8.2: an empty request or an unknown command byte → CTAP1_ERR_INVALID_COMMAND.
      const entry = cmd === undefined ? undefined : table.get(cmd);
      // CTAP 2.1 §6.3 / CHECKLIST B0.6: only the entry's `continues`, on the same channel, keeps a stateful command.
      device.endStatefulCommand(entry?.continues ? { kind: entry.continues, channel: request.channel } : undefined);
      if (!entry) throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_COMMAND, `unknown command ${cmd ?? '(empty)'}`);
      // A suspended ("locked") device (suspension.ts) denies the command: OPERATION_DENIED.
      if (refusedWhileSuspended(device, entry.name)) {
        throw new CtapError(CtapStatus.CTAP2_ERR_OPERATION_DENIED, 'the device is suspended');
      }
      const body = await entry.run(context(request), decodeParams(payload.subarray(1)));
      return body ? concat(new Uint8Array([CtapStatus.CTAP2_OK]), body) : new Uint8Array([CtapStatus.CTAP2_OK]);
    } catch (e) {
      if (isCtapError(e)) return new Uint8Array([e.status]);
      try {
        onInternalError?.(e, cmd);
      } catch {
        // the hook must not break the "never throws" contract
      }
      return new Uint8Array([CtapStatus.CTAP1_ERR_OTHER]);
    }
  };
}
