/**
 * Errors of the HTTP control API: every failure is `{ error: { code, message } }` with a stable code.
 * EmulatorError codes map to statuses (faults-api.md §6): bad input 400, unknown things 404, things this
 * device cannot do 409. Schema violations become 400 with a message naming the field.
 */
import { EmulatorError } from '../../../ctap/errors.ts';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error the server answers with a chosen status and code. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  EMU_ERR_INVALID_ARGUMENT: 400,
  EMU_ERR_DUPLICATE_FAULT: 400,
  EMU_ERR_TEMPLATE_NAME_TOO_LONG: 400,
  EMU_ERR_UNKNOWN_FAULT: 404,
  EMU_ERR_UNKNOWN_CREDENTIAL: 404,
  EMU_ERR_UNKNOWN_AUTHENTICATOR: 404,
  EMU_ERR_UNSUPPORTED: 409,
  EMU_ERR_UNSUPPORTED_MODALITY: 409,
  EMU_ERR_CREDENTIAL_STORE_FULL: 409,
  // A credential ID the device already holds (WebDriver Add Credential with a credentialId in use).
  EMU_ERR_DUPLICATE_CREDENTIAL: 409,
  EMU_ERR_TEMPLATE_STORE_FULL: 409,
  EMU_ERR_STORE_FULL: 409,
  EMU_ERR_ADDRESS_IN_USE: 409,
  EMU_ERR_LIMIT: 409,
  // The device could not reload its store (a store.corrupt fault, a damaged file): the request was fine.
  EMU_ERR_STORE_CORRUPT: 409,
  EMU_ERR_STATE_CORRUPT: 409,
  EMU_ERR_STATE_VERSION: 409,
  EMU_ERR_STORE_UNREADABLE: 409,
  // After such a power-up every save is refused with the same code (src/env/storeGuard.ts); a closed device too.
  EMU_ERR_STORE_CLOSED: 409,
};

/** HTTP status for an EmulatorError code: the table, else UNKNOWN_* → 404, else 500. */
export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? (code.startsWith('EMU_ERR_UNKNOWN_') ? 404 : 500);
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

export function notFound(what: string): HttpError {
  return new HttpError(404, 'EMU_ERR_NOT_FOUND', what);
}

/** An input error (400) naming the field. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'EMU_ERR_INVALID_ARGUMENT', message);
}

/** Something vfido does not do (409). */
export function unsupported(message: string): HttpError {
  return new HttpError(409, 'EMU_ERR_UNSUPPORTED', message);
}

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/user/id` → `user.id`; `/faults/0` → `faults[0]`. */
function dotted(context: string, instancePath: string, extra?: string): string {
  let out = context;
  for (const seg of [...instancePath.split('/').slice(1), ...(extra !== undefined ? [extra] : [])]) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(s) ? `[${s}]` : `.${s}`;
  }
  return out;
}

/** One line for the first schema violation, naming the field: `body.rpId: must be string`. */
export function formatValidation(issues: readonly ValidationIssue[], context: string): string {
  const first = issues[0];
  if (!first) return `${context}: invalid`;
  switch (first.keyword) {
    case 'required':
      return `${dotted(context, first.instancePath, String(first.params.missingProperty))}: required`;
    case 'additionalProperties':
      return `${dotted(context, first.instancePath, String(first.params.additionalProperty))}: unknown field`;
    case 'enum':
      return `${dotted(context, first.instancePath)}: must be one of ${(first.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${dotted(context, first.instancePath)}: ${first.message ?? 'invalid'}`;
  }
}

/** Any thrown value → status + body. Unknown errors are 500 with a generic message (details go to the log). */
export function toHttpError(e: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (e instanceof HttpError) return { status: e.status, body: errorBody(e.code, e.message), internal: false };
  if (e instanceof EmulatorError) {
    const status = statusForCode(e.code);
    return { status, body: errorBody(e.code, status === 500 ? 'internal error' : e.message), internal: status === 500 };
  }
  return { status: 500, body: errorBody('EMU_ERR_INTERNAL', 'internal error (see the vfido log)'), internal: true };
}
