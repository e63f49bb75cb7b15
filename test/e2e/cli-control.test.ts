/**
 * The control commands against a real `vfido start` process (UDP and control ports 0, memory store, VFIDO_HOME
 * in a temporary directory): token file, fault add / list / clear, credentials, state, power-cycle, history,
 * --json, one-line errors with exit status 1. A few commands run as `vfido` processes (the binary end to end);
 * the rest run the same CLI in-process (main(argv, io)) to keep the file fast — they still talk HTTP to the
 * spawned key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/program.ts';

const BIN = fileURLToPath(new URL('../../bin/vfido.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let home: string;
let key: ChildProcessWithoutNullStreams;
let keyDone: Promise<Run>;
let controlPort: number;
let tokenFile: string;

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VFIDO_HOME: home,
    VFIDO_PORT: '',
    VFIDO_STORE: '',
    VFIDO_LOG_LEVEL: '',
    VFIDO_CONTROL_PORT: '',
    VFIDO_CONTROL_URL: '',
    VFIDO_CONTROL_TOKEN: '',
  };
}

function finished(p: ChildProcessWithoutNullStreams): Promise<Run> {
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** One `vfido …` process against the running key (its control port added). */
function spawned(...args: string[]): Promise<Run> {
  return finished(spawn(process.execPath, [BIN, ...args, '--control-port', String(controlPort)], { env: env() }));
}

/** The same CLI in-process against the running key. */
async function vfido(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'vfido', ...args, '--control-port', String(controlPort)], {
    env: { VFIDO_HOME: home },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    stopSignal: () => new Promise(() => {}),
  });
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vfido-cli-control-'));
  key = spawn(process.execPath, [BIN, 'start', '--port', '0', '--control-port', '0', '--memory-store', '--log-level', 'warn'], { env: env() });
  keyDone = finished(key);
  const lines = await new Promise<string[]>((resolve, reject) => {
    let buf = '';
    key.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('control API on')) resolve(buf.split('\n'));
    });
    void keyDone.then((r) => reject(new Error(`vfido start exited (${r.code}): ${r.stderr}`)));
  });
  const line = lines.find((l) => l.includes('control API on'))!;
  const m = /^vfido: control API on http:\/\/127\.0\.0\.1:(\d+) \(authenticator "default"; token file: (.+)\)$/.exec(line);
  expect(m, line).not.toBeNull();
  controlPort = Number(m![1]);
  tokenFile = m![2]!;
});

afterAll(async () => {
  if (key && key.exitCode === null) key.kill('SIGTERM');
  await keyDone;
  await rm(home, { recursive: true, force: true });
});

describe('vfido control commands', () => {
  it('start writes the token file (0600) under VFIDO_HOME, named by the control port', async () => {
    expect(controlPort).toBeGreaterThan(0);
    expect(tokenFile).toBe(join(home, `control-${controlPort}.token`));
    const s = await stat(tokenFile);
    expect(s.mode & 0o777).toBe(0o600);
  });

  it('fault add (flags and JSON), fault list --json, fault clear', async () => {
    const add = await spawned('fault', 'add', '--effect', 'status', '--param', 'status=CTAP2_ERR_PIN_INVALID', '--when', 'command=getAssertion', '--when', 'attempt=[1,2]', '--times', '2', '--id', 'pin-invalid');
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^armed pin-invalid +\[dispatch\] status \{"status":49\}/);

    const json = await vfido('fault', 'add', '{"effect":"presence.deny","persist":true}', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'presence.deny#1', seam: 'presence', remaining: null });

    const list = await vfido('fault', 'list', '--json');
    const rules = JSON.parse(list.stdout) as { id: string; when: unknown; remaining: number | null }[];
    expect(rules.map((r) => r.id)).toEqual(['pin-invalid', 'presence.deny#1']);
    expect(rules[0]).toMatchObject({ when: { command: 'getAssertion', attempt: [1, 2] }, remaining: 2 });

    expect((await vfido('fault', 'clear', 'pin-invalid')).stdout.trim()).toBe('disarmed pin-invalid');
    expect((await vfido('fault', 'clear')).stdout.trim()).toBe('disarmed 1 rule');
    expect((await vfido('fault', 'list')).stdout.trim()).toBe('no faults armed');
  });

  it('credentials add / list / corrupt / remove, state --json, power-cycle, history', async () => {
    const add = await vfido('credentials', 'add', '--rp-id', 'cli.example', '--user-id', 'AQID', '--user-name', 'carol', '--json');
    expect(add.stderr).toBe('');
    const cred = JSON.parse(add.stdout) as { credentialId: string; userName: string; privateKey?: string };
    expect(cred).toMatchObject({ userName: 'carol', isResidentCredential: true });
    expect(cred.privateKey).toBeUndefined();

    const server = await vfido('credentials', 'add', '--rp-id', 'cli.example', '--credential-id', 'c2VydmVy', '--non-discoverable', '--sign-count', '4');
    expect(server.stderr).toBe('');
    expect(server.stdout.trim()).toBe('added c2VydmVy  cli.example  user -  alg -7  count 4  active  non-discoverable');

    const list = await vfido('credentials', 'list');
    expect(list.stdout).toContain(`${cred.credentialId}  cli.example  user carol (AQID)  alg -7  count 0  active`);
    expect(list.stdout).toContain('c2VydmVy  cli.example  user -  alg -7  count 4  active  non-discoverable');
    expect((await vfido('credentials', 'remove', 'c2VydmVy')).stdout.trim()).toBe('removed c2VydmVy');

    const corrupt = await vfido('credentials', 'corrupt', cred.credentialId, '--target', 'privateKey', '--json');
    expect(corrupt.code).toBe(0);
    expect(JSON.parse(corrupt.stdout).credentialId).toBe(cred.credentialId);

    const state = JSON.parse((await spawned('state', '--json')).stdout);
    expect(state).toMatchObject({ profile: 'ctap21', credentials: { discoverable: 1 }, suspended: false });
    expect((await vfido('state')).stdout).toMatch(/^profile: +ctap21 \(aaguid [0-9a-f-]{36}\)$/m);

    expect((await vfido('power-cycle')).stdout.trim()).toBe('power-cycled');
    expect((await vfido('credentials', 'remove', cred.credentialId)).code).toBe(0);

    const history = JSON.parse((await vfido('history', '--json')).stdout) as { effect: string }[];
    expect(history.map((h) => h.effect)).toEqual(['credentials.add', 'credentials.add', 'credentials.remove', 'credentials.corrupt', 'powerCycle', 'credentials.remove']);
    expect((await vfido('history', '--clear')).stdout.trim()).toBe('history cleared');
    expect((await vfido('history')).stdout.trim()).toBe('history is empty');
  });

  it('errors are one "vfido: …" line and exit status 1', async () => {
    const badEffect = await spawned('fault', 'add', '--effect', 'bogus');
    expect(badEffect.code).toBe(1);
    expect(badEffect.stderr).toMatch(/^vfido: fault\.effect\.type: unknown effect "bogus"/);
    expect(badEffect.stderr.trim().split('\n')).toHaveLength(1);

    const unknown = await vfido('credentials', 'remove', 'AAAAAAAA');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^vfido: no credential with id AAAAAAAA/);

    const badToken = await vfido('state', '--token', 'not-the-token-at-all');
    expect(badToken.code).toBe(1);
    expect(badToken.stderr.trim()).toBe('vfido: wrong control token');

    const otherAuth = await vfido('state', '--authenticator', 'nope');
    expect(otherAuth.code).toBe(1);
    expect(otherAuth.stderr).toMatch(/^vfido: no authenticator with id "nope"/);
  });

  it('without a running key: the missing token file is named', async () => {
    const r = await finished(spawn(process.execPath, [BIN, 'state', '--control-port', '1'], { env: env() }));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`vfido: no control token: ${join(home, 'control-1.token')} does not exist (is \`vfido start\` running on http://127.0.0.1:1? or pass --token / --token-file)`);
  });
});

describe('vfido start --scenario', () => {
  /** The scenario files' "Run: vfido start --scenario …" line, in-process (real UDP and HTTP sockets, port 0). */
  it('starts in the scenario state, served over the control API', async () => {
    const out: string[] = [];
    const err: string[] = [];
    let stop!: (s: string) => void;
    const stopped = new Promise<string>((r) => (stop = r));
    const scenario = fileURLToPath(new URL('../../scenarios/passkey-deactivated.yaml', import.meta.url));
    const running = main(['node', 'vfido', 'start', '--port', '0', '--scenario', scenario, '--log-level', 'silent'], {
      env: { VFIDO_HOME: home },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      stopSignal: () => stopped,
    });
    for (let i = 0; i < 400 && !out.some((l) => l.includes('control API on')); i++) await new Promise((r) => setTimeout(r, 5));
    expect(err).toEqual([]);
    expect(out[0]).toMatch(/\(store: memory, scenario state\)$/);
    expect(out[1]).toBe('vfido: scenario "passkey-deactivated" applied (1 credential, 0 faults armed)');
    const port = /control API on http:\/\/127\.0\.0\.1:(\d+)/.exec(out[2] ?? '')?.[1];
    expect(port).toBeDefined();
    const q: string[] = [];
    const io = { env: { VFIDO_HOME: home }, out: (l: string) => q.push(l), err: (l: string) => q.push(l), stopSignal: () => new Promise<string>(() => {}) };
    expect(await main(['node', 'vfido', 'credentials', 'list', '--json', '--control-port', port!], io)).toBe(0);
    expect(JSON.parse(q.join('\n'))).toEqual([expect.objectContaining({ rpId: 'example.com', userName: 'alice@example.com', status: 'deactivated' })]);
    stop('SIGTERM');
    expect(await running).toBe(0);
  });

  it('an invalid scenario file: exit 1, the file and line named', async () => {
    const file = join(home, 'bad.yaml');
    await writeFile(file, 'version: 1\nname: bad\nprofile: ctap99\n');
    const err: string[] = [];
    const code = await main(['node', 'vfido', 'start', '--port', '0', '--scenario', file], {
      env: { VFIDO_HOME: home },
      out: () => {},
      err: (l) => err.push(l),
      stopSignal: () => new Promise(() => {}),
    });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(new RegExp(`^vfido: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: profile`));
  });
});

describe('vfido start shutdown', () => {
  it('SIGTERM closes the control API and removes the token file', async () => {
    key.kill('SIGTERM');
    const r = await keyDone;
    expect(r.code).toBe(0);
    await expect(stat(tokenFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
