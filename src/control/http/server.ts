/**
 * The HTTP control API (DESIGN.md "Control"): a fastify server on loopback that holds several virtual keys
 * (authenticators) and maps each request onto one call of their control API (src/control/control.ts).
 * Resource shapes follow the W3C WebDriver virtual-authenticator extension (WebAuthn L3 §11) where they fit.
 * Security: security.ts (Host, Origin, token, Content-Type); every answer is JSON, errors `{ error: { code, message } }`.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Device } from '../../device.ts';
import { silentLogger } from '../../log.ts';
import { EmulatorError } from '../../../ctap/errors.ts';
import { errorBody, formatValidation, HttpError, toHttpError } from './errors.ts';
import { AuthenticatorRegistry } from './registry.ts';
import {
  allowedHostsFor,
  checkContentType,
  checkHost,
  checkOrigin,
  checkToken,
  generateToken,
  isHostName,
  isLoopback,
  type GuardConfig,
} from './security.ts';
import { authenticatorRoutes } from './routes/authenticators.ts';
import { credentialRoutes } from './routes/credentials.ts';
import { faultRoutes } from './routes/faults.ts';
import { deviceRoutes } from './routes/device.ts';

export interface ControlServerOptions {
  /** Bind address. Default 127.0.0.1; anything not loopback needs allowRemote. */
  host?: string;
  /** TCP port; 0 (default) = any free port (see ControlServer.port). */
  port?: number;
  /** The bearer token every request must carry. Default: 32 random bytes, base64url (ControlServer.token). */
  token?: string;
  /** Allow a non-loopback bind address (the token is still required on every request). */
  allowRemote?: boolean;
  /**
   * Extra names accepted in the Host header (host names or addresses, no port), besides 127.0.0.1, localhost,
   * [::1] and the bind address (bound to 0.0.0.0 / ::: every interface address of the machine).
   */
  allowedHosts?: string[];
  /** Origins whose requests are accepted (exact `scheme://host:port`). Default none: any Origin header → 403. */
  allowedOrigins?: string[];
  logger?: Logger;
  /** Devices started by the host program, served under these ids (e.g. { default: device }); not closed by close(). */
  authenticators?: Record<string, Device>;
  /** Most authenticators created over HTTP at once (default 32). */
  maxAuthenticators?: number;
}

export interface ControlServer {
  /** e.g. http://127.0.0.1:8112 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly authenticators: AuthenticatorRegistry;
  /** Stop listening and close the authenticators created over HTTP. Idempotent. */
  close(): Promise<void>;
}

export interface RouteContext {
  registry: AuthenticatorRegistry;
}

const MIN_TOKEN_LENGTH = 16;

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Drop prototype-polluting keys while parsing. */
function parseJson(text: string): unknown {
  return JSON.parse(text, (k, v: unknown) => (k === '__proto__' || k === 'constructor' || k === 'prototype' ? undefined : v));
}

function buildApp(cfg: GuardConfig, registry: AuthenticatorRegistry, log: Logger): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 256 * 1024,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) =>
      new HttpError(400, 'EMU_ERR_INVALID_ARGUMENT', formatValidation(errors, dataVar === 'querystring' ? 'query' : dataVar)),
  });

  // Only application/json bodies; an empty body is no body (POST /power-cycle with a JSON content type).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, parseJson(text));
    } catch {
      done(new HttpError(400, 'EMU_ERR_INVALID_ARGUMENT', 'body: not valid JSON'), undefined);
    }
  });

  const refuse = (reply: FastifyReply, f: { status: number; code: string; message: string }): FastifyReply => {
    if (f.status === 401) void reply.header('www-authenticate', 'Bearer realm="vfido"');
    return reply.code(f.status).send(errorBody(f.code, f.message));
  };

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
    const h = req.headers;
    const failure =
      checkHost(cfg, h.host) ??
      checkOrigin(cfg, h.origin, typeof h['sec-fetch-site'] === 'string' ? h['sec-fetch-site'] : undefined) ??
      checkToken(cfg, h.authorization) ??
      checkContentType(h as Record<string, string | undefined>);
    if (failure) return refuse(reply, failure);
    return undefined;
  });

  // One line per request: method, path (no query string), status, time. Never headers or bodies.
  app.addHook('onResponse', async (req, reply) => {
    log.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'control http');
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody('EMU_ERR_NOT_FOUND', `no such resource: ${req.method} ${req.url.split('?')[0]}`));
  });

  app.setErrorHandler((err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const fe = err as FastifyError;
    if (!(err instanceof HttpError) && !(err instanceof EmulatorError) && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      // fastify's own request errors (body too large, bad JSON framing …): their messages carry no secrets.
      return reply.code(fe.statusCode).send(errorBody('EMU_ERR_BAD_REQUEST', fe.message));
    }
    const mapped = toHttpError(err);
    if (mapped.internal) log.error({ err, method: req.method, path: req.url.split('?')[0] }, 'control http: internal error');
    return reply.code(mapped.status).send(mapped.body);
  });

  const ctx: RouteContext = { registry };
  authenticatorRoutes(app, ctx);
  credentialRoutes(app, ctx);
  faultRoutes(app, ctx);
  deviceRoutes(app, ctx);
  return app;
}

export async function startControlServer({
  host = '127.0.0.1',
  port = 0,
  token = generateToken(),
  allowRemote = false,
  allowedHosts = [],
  allowedOrigins = [],
  logger,
  authenticators = {},
  maxAuthenticators,
}: ControlServerOptions = {}): Promise<ControlServer> {
  const log = (logger ?? silentLogger()).child({ component: 'control' });
  if (!isLoopback(host) && !allowRemote) {
    throw new EmulatorError('EMU_ERR_INVALID_ARGUMENT', `host: ${JSON.stringify(host)} is not a loopback address; pass allowRemote to listen on it`);
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new EmulatorError('EMU_ERR_INVALID_ARGUMENT', `token: at least ${MIN_TOKEN_LENGTH} characters, no whitespace`);
  }
  allowedHosts.forEach((h, i) => {
    if (typeof h !== 'string' || !isHostName(h)) {
      throw new EmulatorError('EMU_ERR_INVALID_ARGUMENT', `allowedHosts[${i}]: expected a host name or address without a port, got ${JSON.stringify(h)}`);
    }
  });
  const registry = new AuthenticatorRegistry({ logger: log, allowRemote, ...(maxAuthenticators !== undefined ? { maxAuthenticators } : {}) });
  for (const [id, device] of Object.entries(authenticators)) registry.attach(id, device);

  const cfg: GuardConfig = {
    port,
    allowedHosts: allowedHostsFor(host, allowedHosts),
    allowedOrigins: [...allowedOrigins],
    token,
  };
  const app = buildApp(cfg, registry, log);
  await app.listen({ host, port });
  const address = app.server.address();
  cfg.port = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${urlHost(host)}:${cfg.port}`;
  log.info({ url, remote: !isLoopback(host) }, 'control API listening');

  let closing: Promise<void> | undefined;
  return Object.freeze({
    url,
    host,
    port: cfg.port,
    token,
    authenticators: registry,
    close() {
      closing ??= (async () => {
        await app.close();
        await registry.close();
      })();
      return closing;
    },
  });
}
