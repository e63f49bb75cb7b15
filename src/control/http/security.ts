/**
 * The control API's request guards. A web page can reach a loopback port, so every request must prove it is
 * not one (DESIGN.md "Control"):
 * - Host must name this server (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`, or an allowed host): a DNS-
 *   rebinding page's requests carry its own host name → 403.
 * - No `Origin` header unless explicitly allowed (default: none; `null` is refused too): browsers send Origin on
 *   every cross-origin fetch and on every POST, so this refuses all browser-initiated calls → 403. A
 *   `Sec-Fetch-Site` other than `none` (a browser navigation from another site) → 403. No CORS headers, ever.
 * - `Authorization: Bearer <token>` on every request (GET too: credential metadata names users), compared in
 *   constant time → 401.
 * - A request body must be `application/json` (the "simple request" content types a form can send without a
 *   preflight — text/plain, form encodings — are refused) → 415.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export interface GuardConfig {
  /** The port the server listens on (Host headers must carry it). */
  port: number;
  /** Extra host names / addresses (without port) accepted in Host, e.g. the non-loopback bind address. */
  allowedHosts: readonly string[];
  /** Origins accepted in an Origin header (exact match, e.g. 'http://localhost:3000'); default none. */
  allowedOrigins: readonly string[];
  token: string;
}

export interface GuardFailure {
  status: 401 | 403 | 415;
  code: string;
  message: string;
}

/** A per-start random token: 32 bytes, base64url. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The host part of a Host header (brackets kept off an IPv6 literal) and its port, or undefined if malformed. */
function splitHostHeader(v: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port: Number(m[2]) };
}

/** Compare two secrets in constant time (digests first: equal lengths, no length leak). */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];

export function checkHost(cfg: GuardConfig, hostHeader: string | undefined): GuardFailure | undefined {
  const parsed = hostHeader === undefined ? undefined : splitHostHeader(hostHeader);
  const ok =
    parsed !== undefined &&
    parsed.port === cfg.port &&
    (LOOPBACK_NAMES.includes(parsed.host) || cfg.allowedHosts.some((h) => h.replace(/^\[|\]$/g, '').toLowerCase() === parsed.host));
  if (ok) return undefined;
  return {
    status: 403,
    code: 'EMU_ERR_FORBIDDEN_HOST',
    message: `Host header must be 127.0.0.1:${cfg.port}, localhost:${cfg.port} or [::1]:${cfg.port} (DNS rebinding protection)`,
  };
}

export function checkOrigin(cfg: GuardConfig, origin: string | undefined, fetchSite: string | undefined): GuardFailure | undefined {
  if (origin !== undefined && !cfg.allowedOrigins.includes(origin)) {
    return { status: 403, code: 'EMU_ERR_FORBIDDEN_ORIGIN', message: 'requests with an Origin header are refused (no browser access to the control API)' };
  }
  if (origin === undefined && fetchSite !== undefined && fetchSite !== 'none') {
    return { status: 403, code: 'EMU_ERR_FORBIDDEN_ORIGIN', message: `requests from a browser page (Sec-Fetch-Site: ${fetchSite}) are refused` };
  }
  return undefined;
}

export function checkToken(cfg: GuardConfig, authorization: string | undefined): GuardFailure | undefined {
  const m = authorization === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  if (m && sameSecret(m[1]!, cfg.token)) return undefined;
  return {
    status: 401,
    code: 'EMU_ERR_UNAUTHORIZED',
    message: m ? 'wrong control token' : 'missing control token: send Authorization: Bearer <token> (vfido start writes it to its token file)',
  };
}

/** A request that carries a body must say application/json. */
export function checkContentType(headers: { 'content-type'?: string; 'content-length'?: string; 'transfer-encoding'?: string }): GuardFailure | undefined {
  const hasBody = (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;
  const type = headers['content-type'];
  if (!hasBody && type === undefined) return undefined;
  const essence = type?.split(';')[0]!.trim().toLowerCase();
  if (essence === 'application/json') return undefined;
  return {
    status: 415,
    code: 'EMU_ERR_UNSUPPORTED_MEDIA_TYPE',
    message: `request bodies must be application/json, got ${type === undefined ? 'no Content-Type' : JSON.stringify(type)}`,
  };
}
