import { CtapStatus, statusName } from './constants/status.ts';

/** A protocol outcome that reaches the wire as a CTAP status byte. */
export class CtapError extends Error {
  readonly status: number;
  constructor(status: number, message?: string, options?: { cause?: unknown }) {
    super(message ? `${statusName(status)}: ${message}` : statusName(status), options);
    this.name = 'CtapError';
    this.status = status;
  }
}

export function isCtapError(e: unknown): e is CtapError {
  return e instanceof CtapError;
}

/** Raised when a request was cancelled (CTAPHID_CANCEL). */
export function cancelled(): CtapError {
  return new CtapError(CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL, 'request cancelled');
}

/** Failure of an adapter (transport, store, CLI), with a stable string code (ws / undici style). */
export class EmulatorError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmulatorError';
    this.code = code;
  }
}
