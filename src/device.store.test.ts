/**
 * startDevice and its store: one process per store file (the lock), and a state that could not be loaded is
 * never overwritten (the guard), for file and memory stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevice, type Device } from './device.ts';
import { encodeStoreFile } from './env/fileStore.ts';
import { storeLockPath } from './env/storeLock.ts';

let dir: string;
let file: string;
const open: Device[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vfido-device-store-'));
  file = join(dir, 'key.vfido');
});
afterEach(async () => {
  while (open.length) await open.pop()!.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(path = file): Promise<Device> {
  const d = await startDevice({ transport: 'memory', store: { path }, attestation: 'none' });
  open.push(d);
  return d;
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('startDevice: one process per store file', () => {
  /** Regression: two keys on one file both started, and the second one's saves erased the first one's credential. */
  it('a second device on the same file is refused while the first runs; after close the file is free', async () => {
    const a = await start();
    await a.control.credentials.add({ rpId: 'a.example', user: { id: 'AAAA' } });
    const e = await start().catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'EMU_ERR_STORE_LOCKED' });
    expect((e as Error).message).toContain(file);
    expect((e as Error).message).toContain(String(process.pid));
    expect((e as Error).message).toContain(storeLockPath(file));
    await a.close();
    expect(await exists(storeLockPath(file))).toBe(false);
    const b = await start();
    expect((await b.control.credentials.list()).map((c) => c.rpId)).toEqual(['a.example']);
  });

  it('a start that fails (a corrupt file) releases the lock', async () => {
    await writeFile(file, 'not a vfido store');
    await expect(start()).rejects.toMatchObject({ code: 'EMU_ERR_STORE_CORRUPT' });
    expect(await exists(storeLockPath(file))).toBe(false);
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const pid = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('error', reject);
      child.on('exit', () => resolve(child.pid!));
    });
    await writeFile(storeLockPath(file), `${pid}\n`);
    const d = await start();
    expect((await readFile(storeLockPath(file), 'utf8')).trim()).toBe(String(process.pid));
    await d.close();
  });

  it('memory stores take no lock', async () => {
    const a = await startDevice({ transport: 'memory', store: 'memory' });
    const b = await startDevice({ transport: 'memory', store: 'memory' });
    await a.close();
    await b.close();
  });
});

describe('startDevice: a state that could not be loaded is never overwritten', () => {
  /**
   * Regression: a file with a valid envelope but a state this vfido cannot decode (another program, a newer
   * vfido) failed the power-up, and the next save replaced it with the old state still in memory.
   */
  it('file store: after the failed power-up every save is refused and the file stays; a good file brings it back', async () => {
    const d = await start();
    await d.control.credentials.add({ rpId: 'a.example', user: { id: 'AAAA' } });
    const good = join(dir, 'good.vfido');
    await copyFile(file, good);
    const foreign = encodeStoreFile(new Uint8Array([0xa1, 0x61, 0x78, 0x01])); // {"x": 1}
    await writeFile(file, foreign);

    await expect(d.control.powerCycle()).rejects.toMatchObject({ code: 'EMU_ERR_STATE_CORRUPT' });
    const refused = await d.control.credentials.add({ rpId: 'b.example', user: { id: 'BBBB' } }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'EMU_ERR_STATE_CORRUPT', message: expect.stringMatching(/^refusing to save: the last power-up could not load/) });
    expect(Buffer.compare(await readFile(file), Buffer.from(foreign))).toBe(0);

    await copyFile(good, file);
    await d.control.powerCycle();
    await d.control.credentials.add({ rpId: 'b.example', user: { id: 'BBBB' } });
    expect((await d.control.credentials.list()).map((c) => c.rpId).sort()).toEqual(['a.example', 'b.example']);
  });

  it('memory store: store.corrupt fails the power-up, saves are refused until a power-up succeeds', async () => {
    const d = await startDevice({ transport: 'memory', store: 'memory', seed: 'guard' });
    open.push(d);
    await d.control.credentials.add({ rpId: 'a.example', user: { id: 'AAAA' } });
    d.control.faults.add({ effect: 'store.corrupt' });
    await expect(d.control.powerCycle()).rejects.toMatchObject({ code: 'EMU_ERR_STATE_CORRUPT' });
    await expect(d.control.credentials.add({ rpId: 'b.example', user: { id: 'BBBB' } })).rejects.toThrow(/^refusing to save/);
    await d.control.powerCycle(); // the rule fired once: the stored bytes load again
    await d.control.credentials.add({ rpId: 'b.example', user: { id: 'BBBB' } });
    expect((await d.control.credentials.list()).map((c) => c.rpId).sort()).toEqual(['a.example', 'b.example']);
  });
});
