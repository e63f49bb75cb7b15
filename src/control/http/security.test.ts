import { describe, expect, it } from 'vitest';
import type { NetworkInterfaceInfo } from 'node:os';
import {
  allowedHostsFor,
  checkContentType,
  checkHost,
  checkOrigin,
  checkToken,
  generateToken,
  isHostName,
  isLocalRequest,
  isLoopback,
  isUnspecified,
  sameSecret,
  type GuardConfig,
} from './security.ts';

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

  /** Regression: bound to 0.0.0.0 only loopback names and "0.0.0.0" were accepted, so no remote client could connect. */
  it('bound to 0.0.0.0 / ::, every interface address is an allowed host; a named bind host is one itself', () => {
    const iface = (address: string, family: 'IPv4' | 'IPv6'): NetworkInterfaceInfo =>
      ({ address, family, netmask: '', mac: '', internal: false, cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;
    const interfaces = { lo: [iface('127.0.0.1', 'IPv4')], eth0: [iface('192.0.2.7', 'IPv4'), iface('FE80::1%eth0', 'IPv6')] };
    for (const bind of ['0.0.0.0', '::', '[::]']) {
      expect(isUnspecified(bind), bind).toBe(true);
      const allowed = allowedHostsFor(bind, ['vfido.lan'], interfaces);
      expect(allowed.sort(), bind).toEqual(['127.0.0.1', '192.0.2.7', 'fe80::1', 'vfido.lan']);
      const c = { ...cfg, allowedHosts: allowed };
      for (const h of ['192.0.2.7:8112', '[fe80::1]:8112', 'vfido.lan:8112']) expect(checkHost(c, h), h).toBeUndefined();
      for (const h of ['192.0.2.8:8112', '0.0.0.0:8112', '192.0.2.7:8113']) expect(checkHost(c, h)?.status, h).toBe(403);
    }
    expect(allowedHostsFor('192.0.2.9', [], interfaces)).toEqual(['192.0.2.9']);
    expect(allowedHostsFor('127.0.0.1', [], interfaces)).toEqual([]);
    expect(isUnspecified('192.0.2.9')).toBe(false);
  });

  it('allowed host names: a name or an address, never a port or anything else', () => {
    for (const h of ['vfido.lan', '192.0.2.10', '::1', '[fe80::1]', 'a']) expect(isHostName(h), h).toBe(true);
    for (const h of ['vfido.lan:8112', '', ' vfido', 'a b', 'http://x', '-x', 'x/y']) expect(isHostName(h), h).toBe(false);
  });

  it('a local request: from a loopback peer, addressed to a loopback name', () => {
    expect(isLocalRequest('127.0.0.1', '127.0.0.1:8112')).toBe(true);
    expect(isLocalRequest('::ffff:127.0.0.1', 'localhost:8112')).toBe(true);
    expect(isLocalRequest('::1', '[::1]:8112')).toBe(true);
    expect(isLocalRequest('127.0.0.1', '192.0.2.10:8112')).toBe(false);
    expect(isLocalRequest('192.0.2.20', '127.0.0.1:8112')).toBe(false);
    expect(isLocalRequest(undefined, '127.0.0.1:8112')).toBe(false);
    expect(isLocalRequest('127.0.0.1', undefined)).toBe(false);
  });

  it('tokens are 32 random bytes, base64url', () => {
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
  });
});
