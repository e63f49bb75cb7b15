/**
 * The `vfido` binary end to end: real processes, real UDP sockets (port 0 only).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/vfido.js', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function vfido(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, VFIDO_PORT: '', VFIDO_STORE: '', VFIDO_LOG_LEVEL: '', ...env },
  });
}

function finished(p: ChildProcessWithoutNullStreams): Promise<Run> {
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Start `vfido start …` and wait for its listening line; returns the process, the port and the line. */
async function startKey(args: string[]): Promise<{ proc: ChildProcessWithoutNullStreams; port: number; line: string; done: Promise<Run> }> {
  const proc = vfido(['start', '--port', '0', ...args]);
  const done = finished(proc);
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.split('\n').find((l) => l.includes('listening on udp://'));
      if (m) resolve(m);
    });
    void done.then((r) => reject(new Error(`vfido start exited (${r.code}) before listening: ${r.stderr}`)));
  });
  const port = Number(/udp:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  return { proc, port, line, done };
}

const tmpDirs: string[] = [];
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

describe.concurrent('vfido CLI', () => {
  it('start --port 0 prints the real port; info reads getInfo over UDP; SIGTERM exits 0', async () => {
    const key = await startKey(['--memory-store', '--log-level', 'warn']);
    try {
      expect(key.line).toMatch(/^vfido: virtual key listening on udp:\/\/127\.0\.0\.1:\d+ \(store: memory/);
      expect(key.port).toBeGreaterThan(0);
      expect(key.port).not.toBe(8111);

      const text = await finished(vfido(['info', '--port', String(key.port)]));
      expect(text.stderr).toBe('');
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/versions:\s+.*FIDO_2_0/);
      expect(text.stdout).toMatch(/aaguid:\s+[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
      expect(text.stdout).toMatch(/algorithms:\s+.*ES256/);
      expect(text.stdout).toMatch(/options:\s+.*up=true/);

      const json = await finished(vfido(['info', '--json'], { VFIDO_PORT: String(key.port) }));
      expect(json.code).toBe(0);
      const info = JSON.parse(json.stdout);
      expect(info.versions).toContain('FIDO_2_0');
      expect(info.aaguid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(info.algorithms).toContain('ES256');
      expect(typeof info.maxMsgSize).toBe('number');
    } finally {
      key.proc.kill('SIGTERM');
    }
    const r = await key.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('logs one JSON line per CTAP command at info', async () => {
    const key = await startKey(['--memory-store', '--log-level', 'info']);
    let out = '';
    key.proc.stdout.on('data', (d) => (out += d));
    try {
      const r = await finished(vfido(['info', '--port', String(key.port)]));
      expect(r.code).toBe(0);
      for (let i = 0; i < 50 && !out.includes('"cmd":"getInfo"'); i++) await new Promise((res) => setTimeout(res, 20));
    } finally {
      key.proc.kill('SIGINT');
    }
    expect((await key.done).code).toBe(0);
    const line = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.cmd === 'getInfo');
    expect(line).toMatchObject({ level: 30, cmd: 'getInfo', status: 'CTAP2_OK' });
    expect(line.cid).toMatch(/^[0-9a-f]{8}$/);
    expect(typeof line.ms).toBe('number');
  });

  it('a corrupt store file: exit 1, one line naming the file, no stack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vfido-e2e-'));
    tmpDirs.push(dir);
    const file = join(dir, 'broken.vfido');
    await writeFile(file, 'this is not a vfido store');
    const r = await finished(vfido(['start', '--port', '0', '--store', file]));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/listening/);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/^vfido: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a port in use: exit 1 with a clear message', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    try {
      const r = await finished(vfido(['start', '--memory-store', '--port', String(sock.address().port)]));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^vfido: cannot listen on udp:\/\/127\.0\.0\.1:\d+: the port is in use/);
    } finally {
      sock.close();
    }
  });

  it('info against a U2F-only key says so instead of failing on CTAPHID_CBOR', async () => {
    const key = await startKey(['--memory-store', '--profile', 'u2f']);
    try {
      const r = await finished(vfido(['info', '--port', String(key.port)]));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^vfido: the key at udp:\/\/127\.0\.0\.1:\d+ is a U2F-only key/);
      expect(r.stderr).toMatch(/no CBOR/);
    } finally {
      key.proc.kill('SIGTERM');
    }
    expect((await key.done).code).toBe(0);
  });

  it('info with nothing answering: exit 1 after the timeout, clear message', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((res) => silent.bind(0, '127.0.0.1', () => res()));
    try {
      const r = await finished(vfido(['info', '--port', String(silent.address().port), '--timeout', '300']));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^vfido: no answer from a key at udp:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    } finally {
      silent.close();
    }
  });

  it('bad arguments: exit non-zero with a message, no stack', async () => {
    const r = await finished(vfido(['start', '--port', 'nope', '--memory-store']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vfido: --port must be an integer/);
  });
});
