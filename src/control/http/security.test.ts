import { describe, expect, it } from 'vitest';
import { checkContentType, checkHost, checkOrigin, checkToken, generateToken, isLoopback, sameSecret, type GuardConfig } from './security.ts';

const cfg: GuardConfig = { port: 8112, allowedHosts: [], allowedOrigins: [], token: 'a'.repeat(43) };

describe('control API guards', () => {
  it('loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LocalHost', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.1', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });

  /** DNS rebinding: the attacker's page keeps its own host name in Host. */
  it('Host must be a loopback name with this port, or an allowed host', () => {
    for (const h of ['127.0.0.1:8112', 'localhost:8112', '[::1]:8112']) expect(checkHost(cfg, h), h).toBeUndefined();
    for (const h of [undefined, '127.0.0.1', 'localhost', '127.0.0.1:8113', 'evil.example:8112', '[::2]:8112', '127.0.0.1:8112@evil', ' 127.0.0.1:8112']) {
      expect(checkHost(cfg, h)?.status, String(h)).toBe(403);
    }
    expect(checkHost({ ...cfg, allowedHosts: ['vfido.internal'] }, 'vfido.internal:8112')).toBeUndefined();
  });

  it('any Origin is refused unless allowed; cross-site fetch metadata too', () => {
    expect(checkOrigin(cfg, undefined, undefined)).toBeUndefined();
    expect(checkOrigin(cfg, undefined, 'none')).toBeUndefined();
    expect(checkOrigin(cfg, 'null', undefined)?.status).toBe(403);
    expect(checkOrigin(cfg, 'http://localhost:8112', undefined)?.status).toBe(403);
    expect(checkOrigin(cfg, undefined, 'same-site')?.status).toBe(403);
    expect(checkOrigin(cfg, undefined, 'cross-site')?.status).toBe(403);
    expect(checkOrigin({ ...cfg, allowedOrigins: ['http://localhost:3000'] }, 'http://localhost:3000', 'same-site')).toBeUndefined();
  });

  it('Bearer token, exact match', () => {
    expect(checkToken(cfg, `Bearer ${cfg.token}`)).toBeUndefined();
    expect(checkToken(cfg, `bearer ${cfg.token}`)).toBeUndefined();
    for (const a of [undefined, '', cfg.token, `Basic ${cfg.token}`, `Bearer ${cfg.token}x`, `Bearer ${cfg.token.slice(1)}`, 'Bearer ']) {
      expect(checkToken(cfg, a)?.status, String(a)).toBe(401);
    }
    expect(sameSecret('x', 'x')).toBe(true);
    expect(sameSecret('x', 'y')).toBe(false);
  });

  it('a body must be application/json', () => {
    expect(checkContentType({})).toBeUndefined();
    expect(checkContentType({ 'content-length': '0' })).toBeUndefined();
    expect(checkContentType({ 'content-type': 'application/json', 'content-length': '2' })).toBeUndefined();
    expect(checkContentType({ 'content-type': 'Application/JSON; charset=utf-8', 'content-length': '2' })).toBeUndefined();
    expect(checkContentType({ 'content-type': 'text/plain', 'content-length': '2' })?.status).toBe(415);
    expect(checkContentType({ 'transfer-encoding': 'chunked' })?.status).toBe(415);
    expect(checkContentType({ 'content-type': 'application/x-www-form-urlencoded' })?.status).toBe(415);
  });

  it('tokens are 32 random bytes, base64url', () => {
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
  });
});
