/**
 * CTAP1/U2F command APDUs (FIDO U2F Raw Message Formats v1.2 §3; ISO/IEC 7816-4 short and extended length)
 * and response APDUs (`data || SW1 SW2`). Pure byte handling: no crypto, no state.
 */
import { concat } from '../bytes.ts';

/** U2F instructions, U2F Raw Message Formats v1.2 §4.1 / §5.1 / §6.1. */
export const U2fIns = { U2F_REGISTER: 0x01, U2F_AUTHENTICATE: 0x02, U2F_VERSION: 0x03 } as const;

/** U2F_AUTHENTICATE control byte (P1), U2F Raw Message Formats v1.2 §5.1. */
export const U2fControl = {
  /** Sign only with a fresh test of user presence. */
  ENFORCE_USER_PRESENCE_AND_SIGN: 0x03,
  /** Only say whether the key handle is valid for this application (answered with a status word). */
  CHECK_ONLY: 0x07,
  /** Sign without testing user presence (the UP byte is 0). */
  DONT_ENFORCE_USER_PRESENCE_AND_SIGN: 0x08,
} as const;

/** Status words, U2F Raw Message Formats v1.2 §3.3 plus the ISO 7816 ones it names and CTAP 2.1's 0x6986. */
export const U2fStatus = {
  SW_NO_ERROR: 0x9000,
  /** "The request was rejected due to test-of-user-presence being required." */
  SW_CONDITIONS_NOT_SATISFIED: 0x6985,
  /** ISO 7816 "command not allowed": CTAP1 disabled while alwaysUv is on (OpenSK; CHECKLIST E8). */
  SW_COMMAND_NOT_ALLOWED: 0x6986,
  /** "The request was rejected due to an invalid key handle." */
  SW_WRONG_DATA: 0x6a80,
  SW_WRONG_LENGTH: 0x6700,
  SW_INS_NOT_SUPPORTED: 0x6d00,
  SW_CLA_NOT_SUPPORTED: 0x6e00,
  /** ISO 7816 "no precise diagnosis": an internal failure (e.g. the store could not be written). */
  SW_UNKNOWN: 0x6f00,
} as const;
export type U2fStatus = (typeof U2fStatus)[keyof typeof U2fStatus];

const STATUS_NAMES = new Map<number, string>(Object.entries(U2fStatus).map(([k, v]) => [v, k]));

/** SW_NO_ERROR …, or `SW_XXXX` in hex for a status word that has no name here. */
export function swName(sw: number): string {
  return STATUS_NAMES.get(sw) ?? `SW_${sw.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** U2F Raw Message Formats v1.2 §3.1: the only class byte U2F defines. */
export const U2F_CLA = 0x00;

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** The command data (Lc bytes). */
  data: Uint8Array;
  /** Maximum response length the host expects, when Le was sent (ignored: U2F responses always fit a CTAPHID message). */
  le?: number;
}

/** A command APDU that cannot be processed; the status word says why. */
export class ApduError extends Error {
  readonly sw: number;
  constructor(sw: number, message: string) {
    super(`${swName(sw)}: ${message}`);
    this.name = 'ApduError';
    this.sw = sw;
  }
}

const HEADER_LENGTH = 4;

function wrongLength(message: string): ApduError {
  return new ApduError(U2fStatus.SW_WRONG_LENGTH, message);
}

/**
 * Split the body after CLA INS P1 P2 into data and Le (ISO 7816-4 §5.1 cases 1–4, short and extended).
 * U2F Raw Message Formats v1.2 §3.1.1 specifies extended length: `00 Lc1 Lc2 data [Le1 Le2]`. Hosts also send
 * `00 00 00` (Lc = 0) before an Le for commands without data, as python-fido2 and libfido2 do for U2F_VERSION;
 * that is accepted as "no data". A body that fits no case → SW_WRONG_LENGTH.
 */
function splitBody(body: Uint8Array): { data: Uint8Array; le?: number } {
  const n = body.length;
  if (n === 0) return { data: body }; // case 1
  if (n === 1) return { data: body.subarray(0, 0), le: body[0] === 0 ? 256 : body[0]! }; // case 2S
  if (body[0] !== 0) {
    // Short Lc (1..255): case 3S, or 4S with a one-byte Le.
    const lc = body[0]!;
    if (n === 1 + lc) return { data: body.subarray(1) };
    if (n === 2 + lc) return { data: body.subarray(1, 1 + lc), le: body[n - 1] === 0 ? 256 : body[n - 1]! };
    throw wrongLength(`short Lc ${lc} does not match the ${n - 1} bytes after it`);
  }
  if (n < 3) throw wrongLength('truncated extended length');
  const ext = (body[1]! << 8) | body[2]!;
  if (n === 3) return { data: body.subarray(0, 0), le: ext === 0 ? 65536 : ext }; // case 2E
  // Extended Lc: case 3E, or 4E with a two-byte Le (Lc = 0 tolerated, see above).
  if (n === 3 + ext) return { data: body.subarray(3) };
  if (n === 5 + ext) {
    const le = (body[n - 2]! << 8) | body[n - 1]!;
    return { data: body.subarray(3, 3 + ext), le: le === 0 ? 65536 : le };
  }
  throw wrongLength(`extended Lc ${ext} does not match the ${n - 3} bytes after it`);
}

/**
 * Parse a command APDU. Checks in this order, each with its status word: the 4-byte header
 * (SW_WRONG_LENGTH), CLA 0 (SW_CLA_NOT_SUPPORTED), then the length fields (SW_WRONG_LENGTH). The instruction
 * is not checked here.
 */
export function parseCommandApdu(bytes: Uint8Array): CommandApdu {
  if (bytes.length < HEADER_LENGTH) throw wrongLength(`an APDU has a 4-byte header, got ${bytes.length} bytes`);
  const [cla, ins, p1, p2] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  // U2F Raw Message Formats v1.2 §3.1: CLA is 0; ISO 7816: any other class → SW_CLA_NOT_SUPPORTED.
  if (cla !== U2F_CLA) throw new ApduError(U2fStatus.SW_CLA_NOT_SUPPORTED, `CLA 0x${cla.toString(16)}`);
  const { data, le } = splitBody(bytes.subarray(HEADER_LENGTH));
  const apdu: CommandApdu = { cla, ins, p1, p2, data: data.slice() };
  if (le !== undefined) apdu.le = le;
  return apdu;
}

/** Encode a command APDU with extended length (U2F Raw Message Formats v1.2 §3.1.1), as U2F hosts send it. */
export function encodeCommandApdu(a: { cla?: number; ins: number; p1?: number; p2?: number; data?: Uint8Array }): Uint8Array {
  const data = a.data ?? new Uint8Array(0);
  if (data.length > 0xffff) throw new RangeError(`APDU data of ${data.length} bytes does not fit extended length`);
  const header = Uint8Array.of(a.cla ?? U2F_CLA, a.ins, a.p1 ?? 0, a.p2 ?? 0, 0, data.length >> 8, data.length & 0xff);
  return concat(header, data, Uint8Array.of(0, 0));
}

/** Response APDU: `data || SW1 SW2` (U2F Raw Message Formats v1.2 §3.2). */
export function encodeResponseApdu(sw: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat(data, Uint8Array.of((sw >> 8) & 0xff, sw & 0xff));
}

/** Split a response APDU; undefined when it is shorter than a status word. */
export function parseResponseApdu(bytes: Uint8Array): { sw: number; data: Uint8Array } | undefined {
  if (bytes.length < 2) return undefined;
  const n = bytes.length;
  return { sw: (bytes[n - 2]! << 8) | bytes[n - 1]!, data: bytes.subarray(0, n - 2) };
}
