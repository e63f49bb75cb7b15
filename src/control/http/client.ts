/**
 * A small client of the HTTP control API (used by the CLI commands): JSON in, JSON out, the bearer token on
 * every request, `{ error: { code, message } }` answers thrown as ControlRequestError.
 */
import { EmulatorError } from '../../../ctap/errors.ts';

export class ControlRequestError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ControlRequestError';
    this.status = status;
    this.code = code;
  }
}

export interface ControlClientOptions {
  /** e.g. http://127.0.0.1:8112 */
  url: string;
  token: string;
  timeoutMs?: number;
}

export class ControlClient {
  readonly url: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor({ url, token, timeoutMs = 10_000 }: ControlClientOptions) {
    this.url = url.replace(/\/+$/, '');
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  /** One request; resolves with the parsed JSON answer (undefined for 204). */
  async request<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      const why = cause === 'ECONNREFUSED' ? 'connection refused' : (e as Error).name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : (e as Error).message;
      throw new EmulatorError('EMU_ERR_CONTROL_UNREACHABLE', `cannot reach the control API at ${this.url} (${why}): is \`vfido start\` running?`);
    }
    const text = await res.text();
    let json: unknown;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        throw new ControlRequestError(res.status, 'EMU_ERR_BAD_RESPONSE', `${method} ${path}: answer ${res.status} is not JSON`);
      }
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      throw new ControlRequestError(
        res.status,
        typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`,
        typeof err?.message === 'string' ? err.message : `${method} ${path} failed with HTTP ${res.status}`,
      );
    }
    return json as T;
  }
}
