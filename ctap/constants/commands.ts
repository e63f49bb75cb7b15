/** CTAP2 command bytes, CTAP 2.1 §6 (Authenticator API) — first byte of a CTAPHID_CBOR payload. */
export const CtapCommand = {
  authenticatorMakeCredential: 0x01,
  authenticatorGetAssertion: 0x02,
  authenticatorGetInfo: 0x04,
  authenticatorClientPIN: 0x06,
  authenticatorReset: 0x07,
  authenticatorGetNextAssertion: 0x08,
  authenticatorBioEnrollment: 0x09,
  authenticatorCredentialManagement: 0x0a,
  authenticatorSelection: 0x0b,
  authenticatorLargeBlobs: 0x0c,
  authenticatorConfig: 0x0d,
  authenticatorBioEnrollmentPreview: 0x40,
  authenticatorCredentialManagementPreview: 0x41,
} as const;
export type CtapCommand = (typeof CtapCommand)[keyof typeof CtapCommand];

/** Short command names used in logs, fault rules and history: authenticatorGetInfo → getInfo. */
const COMMAND_NAMES = new Map<number, string>(
  Object.entries(CtapCommand).map(([name, code]) => [code, name[13]!.toLowerCase() + name.slice(14)]),
);

/** The short name of a CTAP command byte; `unknown(0xNN)` for bytes without a command, `empty` for none. */
export function ctapCommandName(code: number | undefined): string {
  if (code === undefined) return 'empty';
  return COMMAND_NAMES.get(code) ?? `unknown(0x${code.toString(16).padStart(2, '0')})`;
}

/** Every short command name (getInfo, makeCredential, …). */
export function ctapCommandNames(): string[] {
  return [...new Set(COMMAND_NAMES.values())];
}

/** CTAPHID command codes without the 0x80 init-packet bit, CTAP 2.1 §11.2.9. */
export const CtapHidCmd = {
  PING: 0x01,
  MSG: 0x03,
  LOCK: 0x04,
  INIT: 0x06,
  WINK: 0x08,
  CBOR: 0x10,
  CANCEL: 0x11,
  KEEPALIVE: 0x3b,
  ERROR: 0x3f,
} as const;
export type CtapHidCmd = (typeof CtapHidCmd)[keyof typeof CtapHidCmd];

/** CTAPHID_ERROR payload codes, CTAP 2.1 §11.2.9.1.6. */
export const CtapHidError = {
  ERR_INVALID_CMD: 0x01,
  ERR_INVALID_PAR: 0x02,
  ERR_INVALID_LEN: 0x03,
  ERR_INVALID_SEQ: 0x04,
  ERR_MSG_TIMEOUT: 0x05,
  ERR_CHANNEL_BUSY: 0x06,
  ERR_LOCK_REQUIRED: 0x0a,
  ERR_INVALID_CHANNEL: 0x0b,
  ERR_OTHER: 0x7f,
} as const;
export type CtapHidErrorCode = (typeof CtapHidError)[keyof typeof CtapHidError];

/** CTAPHID_KEEPALIVE status byte, CTAP 2.1 §11.2.9.1.7. */
export const KeepaliveStatus = { PROCESSING: 1, UPNEEDED: 2 } as const;
export type KeepaliveStatus = (typeof KeepaliveStatus)[keyof typeof KeepaliveStatus];

/** CTAPHID_INIT capability flags, CTAP 2.1 §11.2.9.1.3. */
export const CtapHidCapability = { WINK: 0x01, CBOR: 0x04, NMSG: 0x08 } as const;

export const HID_REPORT_SIZE = 64;
export const HID_BROADCAST_CID = 0xffffffff;
/** 57 bytes in the init packet + 128 continuation packets × 59 bytes. */
export const HID_MAX_MESSAGE_SIZE = 7609;
export const HID_PROTOCOL_VERSION = 2;
