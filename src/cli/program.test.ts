import { describe, expect, it } from 'vitest';
import { main } from './program.ts';
import type { CliIo } from './io.ts';

function fakeIo(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let stop!: (sig: string) => void;
  const stopped = new Promise<string>((r) => (stop = r));
  const io: CliIo = { env: { VFIDO_HOME: process.env.VFIDO_HOME, ...env }, out: (l) => out.push(l), err: (l) => err.push(l), stopSignal: () => stopped };
  return { io, out, err, stop };
}

const argv = (...a: string[]) => ['node', 'vfido', ...a];

describe('vfido main (in-process)', () => {
  it('start prints where it listens, info reads it, and a stop signal ends with 0', async () => {
    const k = fakeIo({ VFIDO_LOG_LEVEL: 'silent' });
    const running = main(argv('start', '--memory-store', '--port', '0'), k.io);
    for (let i = 0; i < 200 && k.out.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const port = Number(/^vfido: virtual key listening on udp:\/\/127\.0\.0\.1:(\d+) \(store: memory/.exec(k.out[0] ?? '')?.[1]);
    expect(port).toBeGreaterThan(0);

    const q = fakeIo();
    expect(await main(argv('info', '--json', '--port', String(port)), q.io)).toBe(0);
    expect(JSON.parse(q.out.join('\n')).versions).toContain('FIDO_2_0');

    k.stop('SIGTERM');
    expect(await running).toBe(0);
    expect(k.err).toEqual([]);
  });

  it('a CliError becomes one "vfido: …" line on stderr and status 1', async () => {
    const k = fakeIo();
    expect(await main(argv('start', '--memory-store', '--presence-delay', 'soon'), k.io)).toBe(1);
    expect(k.err).toEqual(['vfido: --presence-delay must be a non-negative number of milliseconds, got "soon"']);
  });

  it('--control-allowed-host reaches the start plan (each one checked)', async () => {
    const k = fakeIo();
    const args = argv('start', '--memory-store', '--control-allowed-host', 'vfido.lan', '--control-allowed-host', 'vfido.lan:8112');
    expect(await main(args, k.io)).toBe(1);
    expect(k.err).toEqual(['vfido: --control-allowed-host must be a host name or address without a port, got "vfido.lan:8112"']);
  });

  /** Regression: the JSON parser's message quoted the text around the mistake, i.e. the private key. */
  it('a credential that is not valid JSON is reported without quoting it', async () => {
    const k = fakeIo();
    const json = '{"rpId":"a.example","privateKey":SECRETKEYSECRETKEY}';
    expect(await main(argv('credentials', 'add', json, '--token', 't'.repeat(32)), k.io)).toBe(1);
    expect(k.err).toEqual(['vfido: the credential is not valid JSON']);
  });

  it('unknown commands and --help go through commander with its exit status', async () => {
    const bad = fakeIo();
    expect(await main(argv('frobnicate'), bad.io)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/unknown command/);
    const help = fakeIo();
    expect(await main(argv('--help'), help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/start\b.*\n.*info\b/s);
  });
});
