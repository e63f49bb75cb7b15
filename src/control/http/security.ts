/**
 * The control API's request guards. A web page can reach a loopback port, so every request must prove it is
 * not one (DESIGN.md "Control"):
 * - Host must name this server (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`, the bind address, every
 *   interface address of the machine when bound to 0.0.0.0 / ::, or an allowed host): a DNS-rebinding page's
 *   requests carry its own host name → 403.
 * - No `Origin` header unless explicitly allowed (default: none; `null` is refused too): browsers send Origin on
 *   every cross-origin fetch and on every POST, so this refuses all browser-initiated calls → 403. A
 *   `Sec-Fetch-Site` other than `none` (a browser navigation from another site) → 403. No CORS headers, ever.
 * - `Authorization: Bearer <token>` on every request (GET too: credential metadata names users), compared in
 *   constant time → 401.
 * - A request body must be `application/json` (the "simple request" content types a form can send without a
 *   preflight — text/plain, form encodings — are refused) → 415.
 * - Private keys are exported only to a local request (isLocalRequest): from loopback, addressed to loopback.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

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

/** A host name, an IPv4 or an IPv6 address (brackets optional), without a port: an allowed Host name. */
export function isHostName(h: string): boolean {
  return /^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[?[0-9A-Fa-f:.]+\]?)$/.test(h);
}

/** 0.0.0.0 or :: — every interface. */
export function isUnspecified(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === '0.0.0.0' || (isIP(h) === 6 && /^[0:]+$/.test(h));
}

/** A host name or address as Host headers carry it: lower case, no brackets, no IPv6 zone (`%eth0`). */
function normalHost(h: string): string {
  return h.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase();
}

/**
 * The names a Host header may carry besides the loopback ones: the `extra` allowed hosts, and the bind address;
 * bound to 0.0.0.0 / :: that is every address of the machine's interfaces (a client on the LAN sends the one
 * it connected to).
 */
export function allowedHostsFor(
  bindHost: string,
  extra: readonly string[] = [],
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const out = new Set(extra.map(normalHost));
  if (isUnspecified(bindHost)) {
    for (const list of Object.values(interfaces)) for (const i of list ?? []) out.add(normalHost(i.address));
  } else if (!isLoopback(bindHost)) {
    out.add(normalHost(bindHost));
  }
  return [...out];
}

/** The host part of a Host header (undefined when absent or malformed). */
function hostOfHeader(hostHeader: string | undefined): string | undefined {
  return hostHeader === undefined ? undefined : splitHostHeader(hostHeader)?.host;
}

/**
 * A request that never left the machine: it came from a loopback address and was addressed to a loopback name.
 * A request addressed to another name went (or could have gone) over the network, even when the peer is local.
 */
export function isLocalRequest(remoteAddress: string | undefined, hostHeader: string | undefined): boolean {
  const host = hostOfHeader(hostHeader);
  return remoteAddress !== undefined && isLoopback(remoteAddress) && host !== undefined && isLoopback(host);
}

export function checkHost(cfg: GuardConfig, hostHeader: string | undefined): GuardFailure | undefined {
  const parsed = hostHeader === undefined ? undefined : splitHostHeader(hostHeader);
  const ok =
    parsed !== undefined &&
    parsed.port === cfg.port &&
    (LOOPBACK_NAMES.includes(parsed.host) || cfg.allowedHosts.some((h) => normalHost(h) === parsed.host));
  if (ok) return undefined;
  return {
    status: 403,
    code: 'EMU_ERR_FORBIDDEN_HOST',
    message:
      `Host header must be 127.0.0.1:${cfg.port}, localhost:${cfg.port}, [::1]:${cfg.port} or an allowed host with this port ` +
      '(DNS rebinding protection; vfido start --control-allowed-host NAME adds one)',
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
