/** The command table, as data (STYLE.md "Status codes and the command table"). */
import type { CborMap } from '../cbor.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { encodeGetAssertionResponse, parseGetAssertionRequest } from '../messages/getAssertion.ts';
import { encodeGetInfoResponse } from '../messages/getInfo.ts';
import { encodeMakeCredentialResponse, parseMakeCredentialRequest } from '../messages/makeCredential.ts';
import { command, noParams, type Command, type CommandTable } from './dispatch.ts';
import { getAssertion } from './handlers/getAssertion.ts';
import { getInfo } from './handlers/getInfo.ts';
import { getNextAssertion } from './handlers/getNextAssertion.ts';
import { makeCredential } from './handlers/makeCredential.ts';
import { reset } from './handlers/reset.ts';
import { selection } from './handlers/selection.ts';

/** Commands whose parameters are required: no CBOR map at all → MISSING_PARAMETER. */
function requireParams<T>(parse: (m: CborMap) => T): (params: CborMap | undefined) => T {
  return (params) => {
    if (!params) throw new CtapError(CtapStatus.CTAP2_ERR_MISSING_PARAMETER, 'parameters are required');
    return parse(params);
  };
}

const statusOnly = (): undefined => undefined;

export const commandTable: CommandTable = new Map<number, Command>([
  [
    CtapCommand.authenticatorMakeCredential,
    command({
      name: 'makeCredential',
      parse: requireParams(parseMakeCredentialRequest),
      handle: makeCredential,
      encode: encodeMakeCredentialResponse,
    }),
  ],
  [
    CtapCommand.authenticatorGetAssertion,
    command({
      name: 'getAssertion',
      parse: requireParams(parseGetAssertionRequest),
      handle: getAssertion,
      encode: encodeGetAssertionResponse,
    }),
  ],
  [
    CtapCommand.authenticatorGetInfo,
    command({ name: 'getInfo', parse: noParams, handle: getInfo, encode: encodeGetInfoResponse }),
  ],
  [CtapCommand.authenticatorReset, command({ name: 'reset', parse: noParams, handle: reset, encode: statusOnly })],
  [
    CtapCommand.authenticatorGetNextAssertion,
    command({
      name: 'getNextAssertion',
      parse: noParams,
      handle: getNextAssertion,
      encode: encodeGetAssertionResponse,
      continues: 'getAssertion',
    }),
  ],
  [CtapCommand.authenticatorSelection, command({ name: 'selection', parse: noParams, handle: selection, encode: statusOnly })],
]);
