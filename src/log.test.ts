import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, REDACTED, isLogLevel } from './log.ts';

function sink(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('createLogger', () => {
  it('writes structured JSON lines when not pretty', () => {
    const s = sink();
    const log = createLogger({ level: 'info', pretty: false, destination: s.stream });
    log.info({ cid: 'c0ffee01', cmd: 'getInfo', status: 'CTAP2_OK', ms: 3 }, 'ctap');
    const line = JSON.parse(s.lines()[0]!);
    expect(line).toMatchObject({ cid: 'c0ffee01', cmd: 'getInfo', status: 'CTAP2_OK', ms: 3, msg: 'ctap', level: 30 });
  });

  it('redacts secrets at the top level and nested, and the secret value appears nowhere', () => {
    const s = sink();
    const log = createLogger({ level: 'info', pretty: false, destination: s.stream });
    const secret = 'hunter2-super-secret';
    log.info({ pin: secret, req: { pinHash: secret, privateKey: secret }, a: { b: { token: secret } }, ok: 'visible' });
    const raw = s.lines()[0]!;
    expect(raw).not.toContain(secret);
    const line = JSON.parse(raw);
    expect(line.pin).toBe(REDACTED);
    expect(line.req.pinHash).toBe(REDACTED);
    expect(line.req.privateKey).toBe(REDACTED);
    expect(line.a.b.token).toBe(REDACTED);
    expect(line.ok).toBe('visible');
  });

  it('redacts in child loggers too', () => {
    const s = sink();
    const child = createLogger({ pretty: false, destination: s.stream }).child({ cid: 1 });
    child.warn({ masterKey: 'abcd' }, 'x');
    expect(JSON.parse(s.lines()[0]!).masterKey).toBe(REDACTED);
  });

  it('pretty output is human-readable and still redacted', () => {
    const s = sink();
    const log = createLogger({ pretty: true, destination: s.stream });
    log.info({ secret: 'do-not-print' }, 'hello there');
    const out = s.lines().join('\n');
    expect(out).toContain('hello there');
    expect(out).not.toContain('do-not-print');
    expect(() => JSON.parse(s.lines()[0]!)).toThrow();
  });

  it('respects the level', () => {
    const s = sink();
    const log = createLogger({ level: 'warn', pretty: false, destination: s.stream });
    log.info('hidden');
    log.warn('shown');
    expect(s.lines().map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('knows the level names', () => {
    expect(isLogLevel('trace')).toBe(true);
    expect(isLogLevel('loud')).toBe(false);
  });
});
