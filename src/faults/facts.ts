/**
 * Request facts: what a rule's `when` can name, read once from a CTAP request (command, subcommand, rpId,
 * credential IDs, list sizes). The decode is lenient and never fails: a request the authenticator will reject
 * as malformed simply has fewer facts. The authenticator alone decides what the request means.
 */
import { decodeLenient } from '../../ctap/cbor.ts';
import { CtapCommand } from '../../ctap/constants/commands.ts';
import { U2fIns } from '../../ctap/u2f/apdu.ts';
import type { Facts } from './types.ts';

/** CTAP command byte → short name (authenticatorGetAssertion → getAssertion), as src/device.ts logs them. */
const NAMES = new Map<number, string>(Object.entries(CtapCommand).map(([name, code]) => [code, name[13]!.toLowerCase() + name.slice(14)]));

export function ctapCommandName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : (NAMES.get(code) ?? `unknown(0x${code.toString(16).padStart(2, '0')})`);
}

export function b64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

function descriptorIds(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((d) => (d instanceof Map && d.get('id') instanceof Uint8Array ? [b64url(d.get('id') as Uint8Array)] : []));
}

function uint(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** Where each command keeps its subCommand (CTAP 2.1 §6.5 clientPIN 0x02, §6.7 bio 0x02, §6.8 credMgmt 0x01, §6.11 config 0x01). */
const SUBCOMMAND_KEY = new Map<number, number>([
  [CtapCommand.authenticatorClientPIN, 0x02],
  [CtapCommand.authenticatorBioEnrollment, 0x02],
  [CtapCommand.authenticatorBioEnrollmentPreview, 0x02],
  [CtapCommand.authenticatorCredentialManagement, 0x01],
  [CtapCommand.authenticatorCredentialManagementPreview, 0x01],
  [CtapCommand.authenticatorConfig, 0x01],
]);

/** Facts of a CTAPHID_CBOR request payload (command byte || CBOR parameters) on `channel`. */
export function requestFacts(payload: Uint8Array, channel: number): Facts {
  const code = payload[0];
  const facts: Facts = { channel };
  if (code === undefined) return facts;
  facts.commandByte = code;
  facts.command = ctapCommandName(code)!;
  if (payload.length < 2) return facts;
  let params: unknown;
  try {
    params = decodeLenient(payload.subarray(1));
  } catch {
    return facts;
  }
  if (!(params instanceof Map)) return facts;
  const sub = SUBCOMMAND_KEY.get(code);
  if (sub !== undefined) {
    const s = uint(params.get(sub));
    if (s !== undefined) facts.subcommand = s;
  }
  switch (code) {
    case CtapCommand.authenticatorMakeCredential: {
      const rp = params.get(0x02);
      if (rp instanceof Map && typeof rp.get('id') === 'string') facts.rpId = rp.get('id') as string;
      const list = params.get(0x05);
      facts.credentials = descriptorIds(list);
      facts.listSize = Array.isArray(list) ? list.length : 0;
      break;
    }
    case CtapCommand.authenticatorGetAssertion: {
      if (typeof params.get(0x01) === 'string') facts.rpId = params.get(0x01) as string;
      const list = params.get(0x03);
      facts.credentials = descriptorIds(list);
      facts.listSize = Array.isArray(list) ? list.length : 0;
      break;
    }
    case CtapCommand.authenticatorCredentialManagement:
    case CtapCommand.authenticatorCredentialManagementPreview: {
      // subCommandParams (0x02): credentialID (0x02) for deleteCredential / updateUserInformation.
      const p = params.get(0x02);
      if (p instanceof Map) facts.credentials = descriptorIds([p.get(0x02)]);
      break;
    }
  }
  return facts;
}

/** The credential a getAssertion / getNextAssertion response names (key 0x01), base64url. */
export function responseCredential(body: unknown): string | undefined {
  if (!(body instanceof Map)) return undefined;
  const ids = descriptorIds([body.get(0x01)]);
  return ids[0];
}

/** U2F instruction byte → the command name rules match on (the names ctap/u2f gives the presence port). */
export const U2F_COMMAND_NAMES: ReadonlyMap<number, string> = new Map([
  [U2fIns.U2F_REGISTER, 'u2fRegister'],
  [U2fIns.U2F_AUTHENTICATE, 'u2fAuthenticate'],
  [U2fIns.U2F_VERSION, 'u2fVersion'],
]);

/** The command name of a U2F instruction byte (an unknown one: `u2fUnknown(0x..)`, matched by no rule name). */
export function u2fCommandName(ins: number | undefined): string | undefined {
  if (ins === undefined) return undefined;
  return U2F_COMMAND_NAMES.get(ins) ?? `u2fUnknown(0x${ins.toString(16).padStart(2, '0')})`;
}

/** Facts of a CTAPHID_MSG request (a U2F command APDU: CLA INS P1 P2 …) on `channel`. */
export function apduFacts(apdu: Uint8Array, channel: number): Facts {
  const facts: Facts = { channel };
  const name = u2fCommandName(apdu[1]);
  if (name !== undefined) facts.command = name;
  return facts;
}
