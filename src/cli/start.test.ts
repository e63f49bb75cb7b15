import { describe, expect, it } from 'vitest';
import { describeStartError, planStart } from './start.ts';
import { CliError } from './errors.ts';
import { MAX_DELAY_MS } from '../limits.ts';

describe('vfido start options', () => {
  it('defaults to udp://127.0.0.1:8111 and the per-user store file', () => {
    const p = planStart({}, { HOME: '/home/u', XDG_DATA_HOME: '/data' });
    expect(p.options).toMatchObject({ transport: 'udp', host: '127.0.0.1', port: 8111, store: { path: '/data/vfido/default.vfido' } });
    expect(p.logLevel).toBe('info');
    expect(p.storeLabel).toBe('/data/vfido/default.vfido');
  });

  it('reads VFIDO_STORE, VFIDO_PORT and VFIDO_LOG_LEVEL, and flags win over them', () => {
    const env = { VFIDO_STORE: '/tmp/a.vfido', VFIDO_PORT: '9000', VFIDO_LOG_LEVEL: 'debug' };
    expect(planStart({}, env)).toMatchObject({ options: { port: 9000, store: { path: '/tmp/a.vfido' } }, logLevel: 'debug' });
    expect(planStart({ port: '0', store: '/tmp/b.vfido', logLevel: 'warn' }, env)).toMatchObject({
      options: { port: 0, store: { path: '/tmp/b.vfido' } },
      logLevel: 'warn',
    });
  });

  it('--memory-store keeps nothing on disk', () => {
    expect(planStart({ memoryStore: true }, {}).options.store).toBe('memory');
    expect(() => planStart({ memoryStore: true, store: '/x' }, {})).toThrow(/either/);
  });

  it('maps presence, attestation and seed flags', () => {
    const p = planStart({ presence: 'deny', presenceDelay: '150', attestation: 'basic', seed: 's1' }, {});
    expect(p.options).toMatchObject({ presence: { mode: 'deny', delayMs: 150 }, attestation: 'basic', seed: 's1' });
  });

  it('rejects bad values with a one-line CliError', () => {
    expect(() => planStart({ port: '70000' }, {})).toThrow(CliError);
    expect(() => planStart({ port: 'abc' }, {})).toThrow(/--port/);
    expect(() => planStart({}, { VFIDO_PORT: '-1' })).toThrow(/VFIDO_PORT/);
    expect(() => planStart({ logLevel: 'loud' }, {})).toThrow(/log level/);
    expect(() => planStart({ presence: 'maybe' }, {})).toThrow(/--presence/);
    expect(() => planStart({ presenceDelay: '-5' }, {})).toThrow(/--presence-delay/);
    expect(() => planStart({ transport: 'memory' }, {})).toThrow(/in-process/);
  });

  /** Regression: Node fires a timer longer than 2^31−1 ms at once, so `--presence-delay 3000000000` meant "now". */
  it('delays are bounded by MAX_DELAY_MS (one hour)', () => {
    expect(planStart({ presenceDelay: String(MAX_DELAY_MS) }, {}).options.presence).toEqual({ delayMs: MAX_DELAY_MS });
    expect(() => planStart({ presenceDelay: '3000000000' }, {})).toThrow(/--presence-delay must be at most 3600000 milliseconds/);
    expect(() => planStart({ presenceTimeout: String(MAX_DELAY_MS + 1) }, {})).toThrow(/--presence-timeout/);
  });

  it('explains a port in use', () => {
    const e = Object.assign(new Error('bind EADDRINUSE 127.0.0.1:8111'), { code: 'EADDRINUSE' });
    expect(describeStartError(e, { transport: 'udp', host: '127.0.0.1', port: 8111 })).toMatch(
      /udp:\/\/127\.0\.0\.1:8111.*in use/,
    );
  });
});
