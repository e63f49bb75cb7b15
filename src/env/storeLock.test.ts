import * as fs from 'node:fs/promises';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatorError } from '../../ctap/errors.ts';
import { acquireStoreLock, isProcessAlive, storeLockPath } from './storeLock.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vfido-lock-'));
  file = path.join(dir, 'sub', 'dev.vfido');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** The PID of a process that has exited (nothing runs under it right after). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

async function lockError(p: Promise<unknown>): Promise<EmulatorError> {
  const e = await p.then(
    () => expect.unreachable('expected the lock to be refused'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EmulatorError);
  expect((e as EmulatorError).code).toBe('EMU_ERR_STORE_LOCKED');
  return e as EmulatorError;
}

describe('store lock', () => {
  it('creates <store>.lock holding the PID (mode 0600, directory created), release removes it', async () => {
    const lock = await acquireStoreLock(file);
    expect(lock.file).toBe(`${path.resolve(file)}.lock`);
    expect(storeLockPath(file)).toBe(lock.file);
    expect((await fs.readFile(lock.file, 'utf8')).trim()).toBe(String(process.pid));
    if (process.platform !== 'win32') expect((await fs.stat(lock.file)).mode & 0o777).toBe(0o600);
    await lock.release();
    await lock.release(); // idempotent
    await expect(fs.stat(lock.file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  /** Regression: two keys on one store file each overwrote the other's saves. */
  it('a live holder (here: this process) → EMU_ERR_STORE_LOCKED naming the store, the PID and the lock file', async () => {
    const first = await acquireStoreLock(file);
    const e = await lockError(acquireStoreLock(file));
    expect(e.message).toContain(path.resolve(file));
    expect(e.message).toContain(String(process.pid));
    expect(e.message).toContain(first.file);
    // Another live process holds it: named by its PID.
    await first.release();
    await fs.writeFile(storeLockPath(file), '4242\n');
    const other = await lockError(acquireStoreLock(file, { isAlive: (pid) => pid === 4242 }));
    expect(other.message).toMatch(/in use by process 4242/);
    expect((await fs.readFile(storeLockPath(file), 'utf8')).trim()).toBe('4242'); // untouched
  });

  it('a stale lock (its PID is not running) is taken over', async () => {
    const pid = await deadPid();
    expect(isProcessAlive(pid)).toBe(false);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(storeLockPath(file), `${pid}\n`);
    const lock = await acquireStoreLock(file);
    expect((await fs.readFile(lock.file, 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
  });

  it('a lock file without a PID (empty, garbage) is stale too', async () => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    for (const text of ['', 'not a pid', '-5', '0']) {
      await fs.writeFile(storeLockPath(file), text);
      const lock = await acquireStoreLock(file);
      await lock.release();
    }
  });

  it('release leaves a lock that is no longer ours (taken over meanwhile) alone', async () => {
    const lock = await acquireStoreLock(file, { pid: 111 });
    await fs.writeFile(lock.file, '222\n');
    await lock.release();
    expect((await fs.readFile(lock.file, 'utf8')).trim()).toBe('222');
  });

  it('isProcessAlive: this process is, a finished one is not', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(await deadPid())).toBe(false);
  });
});
