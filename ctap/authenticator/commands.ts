/** The command table, as data (STYLE.md "Status codes and the command table"). */
import type { CborMap } from '../cbor.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { CtapError } from '../errors.ts';
import { encodeBioEnrollmentResponse } from '../messages/bioEnrollment.ts';
import { encodeClientPinResponse, parseClientPinRequest } from '../messages/clientPin.ts';
import { encodeGetAssertionResponse, parseGetAssertionRequest } from '../messages/getAssertion.ts';
import { encodeGetInfoResponse } from '../messages/getInfo.ts';
import { encodeMakeCredentialResponse, parseMakeCredentialRequest } from '../messages/makeCredential.ts';
import { command, noParams, type Command, type CommandTable } from './dispatch.ts';
import { encodeCredentialManagementResponse } from '../messages/credentialManagement.ts';
import { encodeLargeBlobsResponse } from '../messages/largeBlobs.ts';
import { bioEnrollment } from './handlers/bioEnrollment.ts';
import { config } from './handlers/config.ts';
import { credentialManagement } from './handlers/credentialManagement.ts';
import { largeBlobs } from './handlers/largeBlobs.ts';
import { clientPin } from './handlers/clientPin.ts';
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

/**
 * CTAP 2.1 §6.7 authenticatorBioEnrollment; §6.12: the FIDO_2_1_PRE prototype (0x40) has the same layout.
 * The handler parses the map itself, after checking that the profile has the command at all.
 */
const bioEnrollmentCommand = command({
  name: 'bioEnrollment',
  parse: (params: CborMap | undefined) => params,
  handle: bioEnrollment,
  encode: encodeBioEnrollmentResponse,
});

/**
 * CTAP 2.1 §6.8 authenticatorCredentialManagement; §6.13: the FIDO_2_1_PRE prototype (0x41) has the same layout.
 * It continues an enumeration (enumerateRPsGetNextRP / enumerateCredentialsGetNextCredential); the handler drops
 * it for any other subcommand.
 */
const credentialManagementCommand = command({
  name: 'credentialManagement',
  parse: (params: CborMap | undefined) => params,
  handle: credentialManagement,
  encode: encodeCredentialManagementResponse,
  continues: 'credentialManagement',
});

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
  [
    CtapCommand.authenticatorClientPIN,
    command({ name: 'clientPin', parse: requireParams(parseClientPinRequest), handle: clientPin, encode: encodeClientPinResponse }),
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
  [CtapCommand.authenticatorBioEnrollment, bioEnrollmentCommand],
  [CtapCommand.authenticatorBioEnrollmentPreview, bioEnrollmentCommand],
  [CtapCommand.authenticatorCredentialManagement, credentialManagementCommand],
  [CtapCommand.authenticatorCredentialManagementPreview, credentialManagementCommand],
  [
    CtapCommand.authenticatorLargeBlobs,
    command({ name: 'largeBlobs', parse: (params: CborMap | undefined) => params, handle: largeBlobs, encode: encodeLargeBlobsResponse }),
  ],
  [
    CtapCommand.authenticatorConfig,
    command({ name: 'config', parse: (params: CborMap | undefined) => params, handle: config, encode: statusOnly }),
  ],
]);
