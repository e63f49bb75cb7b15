import * as fs from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatorError } from '../../ctap/errors.ts';
import { createFileStore, defaultStoreDir, defaultStorePath, isUnderTemporaryDirectory, type FileStoreFs } from './fileStore.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vfido-store-'));
  file = path.join(dir, 'sub', 'dev.vfido');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const payload = new Uint8Array([0xa2, 0x01, 0x02, 0x03, 0x44, 1, 2, 3, 4]);

/** The on-disk format, built here from the documented layout (not with the code under test). */
function fileBytes(p: Uint8Array, { version = 1, length = p.length } = {}): Buffer {
  const h = Buffer.alloc(52);
  h.write('VFIDO-STORE\0', 0, 'latin1');
  h.writeUInt32BE(version, 12);
  h.writeUInt32BE(length, 16);
  createHash('sha256').update(p).digest().copy(h, 20);
  return Buffer.concat([h, p]);
}

async function expectStoreError(p: Promise<unknown>, code: string, problem: RegExp): Promise<EmulatorError> {
  const e = await p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EmulatorError);
  const err = e as EmulatorError;
  expect(err.code).toBe(code);
  expect(err.message).toContain(file);
  expect(err.message).toMatch(problem);
  return err;
}

describe('createFileStore: round trip and file format', () => {
  it('missing file loads as undefined; save then load returns the bytes', async () => {
    const s = createFileStore(file);
    expect(await s.load()).toBeUndefined();
    await s.save(payload);
    expect(Array.from((await s.load())!)).toEqual(Array.from(payload));
    expect(Array.from((await createFileStore(file).load())!)).toEqual(Array.from(payload));
  });

  it('writes the documented header: magic, version 1, length, SHA-256, payload', async () => {
    await createFileStore(file).save(payload);
    expect((await fs.readFile(file)).equals(fileBytes(payload))).toBe(true);
  });

  it('reads a file written to the documented layout, including an empty payload', async () => {
    await fs.mkdir(path.dirname(file));
    await fs.writeFile(file, fileBytes(new Uint8Array(0)));
    expect((await createFileStore(file).load())?.length).toBe(0);
  });

  it.skipIf(process.platform === 'win32')('creates the directory 0700 and the file 0600', async () => {
    await createFileStore(file).save(payload);
    expect((await fs.stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('serialises concurrent saves in call order and leaves no temp files', async () => {
    const s = createFileStore(file);
    await Promise.all([1, 2, 3, 4, 5].map((i) => s.save(new Uint8Array([i]))));
    expect(Array.from((await s.load())!)).toEqual([5]);
    expect(await fs.readdir(path.dirname(file))).toEqual(['dev.vfido']);
  });

  it('copies the data at save() time', async () => {
    const s = createFileStore(file);
    const d = new Uint8Array([1, 2, 3]);
    const p = s.save(d);
    d[0] = 9;
    await p;
    expect(Array.from((await s.load())!)).toEqual([1, 2, 3]);
  });
});

describe('createFileStore: damaged files', () => {
  async function writeRaw(b: Uint8Array): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, b);
  }

  const cases: Array<[string, () => Buffer, RegExp]> = [
    ['truncated payload', () => fileBytes(payload).subarray(0, 52 + 3), /truncated payload/],
    ['truncated header', () => fileBytes(payload).subarray(0, 30), /truncated header/],
    ['empty file', () => Buffer.alloc(0), /bad magic/],
    [
      'flipped payload byte',
      () => {
        const b = fileBytes(payload);
        b[b.length - 1]! ^= 0x40;
        return b;
      },
      /checksum mismatch/,
    ],
    [
      'flipped checksum byte',
      () => {
        const b = fileBytes(payload);
        b[25]! ^= 0x01;
        return b;
      },
      /checksum mismatch/,
    ],
    ['bad magic', () => Buffer.concat([Buffer.from('NOT-A-STORE!'), fileBytes(payload).subarray(12)]), /bad magic/],
    ['future version', () => fileBytes(payload, { version: 2 }), /unsupported schema version 2.*newer vfido/],
    ['trailing bytes', () => Buffer.concat([fileBytes(payload), Buffer.from([0])]), /1 unexpected trailing bytes/],
    ['length larger than file', () => fileBytes(payload, { length: 1000 }), /truncated payload: header says 1000/],
  ];

  it.each(cases)('%s → EMU_ERR_STORE_CORRUPT, and the file is never overwritten', async (_name, make, problem) => {
    const bad = make();
    await writeRaw(bad);
    const s = createFileStore(file);
    await expectStoreError(s.load(), 'EMU_ERR_STORE_CORRUPT', problem);
    const refused = await expectStoreError(s.save(payload), 'EMU_ERR_STORE_CORRUPT', /refusing to overwrite/);
    expect(refused.message).toMatch(problem);
    expect((await fs.readFile(file)).equals(bad)).toBe(true);
  });

  it('a store that never loaded still refuses to overwrite a corrupt file', async () => {
    const bad = fileBytes(payload, { version: 7 });
    await writeRaw(bad);
    await expectStoreError(createFileStore(file).save(payload), 'EMU_ERR_STORE_CORRUPT', /refusing to overwrite.*version 7/);
    expect((await fs.readFile(file)).equals(bad)).toBe(true);
  });

  it('saving works again once the file was repaired and loads cleanly', async () => {
    await writeRaw(Buffer.from('garbage'));
    const s = createFileStore(file);
    await expect(s.load()).rejects.toThrow(/bad magic/);
    await fs.writeFile(file, fileBytes(payload));
    expect((await s.load())?.length).toBe(payload.length);
    await s.save(new Uint8Array([7]));
    expect(Array.from((await s.load())!)).toEqual([7]);
  });

  it('a path that cannot be read (a directory) → EMU_ERR_STORE_UNREADABLE, save refuses', async () => {
    await fs.mkdir(file, { recursive: true });
    const s = createFileStore(file);
    await expectStoreError(s.load(), 'EMU_ERR_STORE_UNREADABLE', /cannot read \(EISDIR\)/);
    await expectStoreError(s.save(payload), 'EMU_ERR_STORE_UNREADABLE', /refusing to overwrite/);
  });

  it('a permission error → EMU_ERR_STORE_UNREADABLE naming the errno, and nothing is written', async () => {
    await createFileStore(file).save(payload);
    const before = await fs.readFile(file);
    const denied: FileStoreFs = {
      ...fs,
      readFile: (async () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      }) as FileStoreFs['readFile'],
    };
    const s = createFileStore(file, { fs: denied });
    await expectStoreError(s.load(), 'EMU_ERR_STORE_UNREADABLE', /cannot read \(EACCES\)/);
    await expect(s.save(new Uint8Array([1]))).rejects.toThrow(/refusing to overwrite/);
    expect((await fs.readFile(file)).equals(before)).toBe(true);
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('a mode-000 file → EMU_ERR_STORE_UNREADABLE', async () => {
    await createFileStore(file).save(payload);
    await fs.chmod(file, 0o000);
    await expectStoreError(createFileStore(file).load(), 'EMU_ERR_STORE_UNREADABLE', /EACCES/);
  });
});

describe('createFileStore: atomicity', () => {
  it('a crash between temp write and rename leaves the old file intact and loadable', async () => {
    await createFileStore(file).save(payload);
    const before = await fs.readFile(file);
    let renames = 0;
    const crashing: FileStoreFs = {
      ...fs,
      rename: (async () => {
        renames++;
        throw Object.assign(new Error('EIO: simulated crash'), { code: 'EIO' });
      }) as FileStoreFs['rename'],
    };
    const s = createFileStore(file, { fs: crashing });
    expect((await s.load())?.length).toBe(payload.length);
    await expectStoreError(s.save(new Uint8Array(4096).fill(0xee)), 'EMU_ERR_STORE_WRITE', /cannot save \(EIO\)/);
    expect(renames).toBe(1);
    expect((await fs.readFile(file)).equals(before)).toBe(true);
    expect(await fs.readdir(path.dirname(file))).toEqual(['dev.vfido']); // temp cleaned up
    // the store keeps working after the failure
    await createFileStore(file).save(new Uint8Array([1]));
    expect(Array.from((await createFileStore(file).load())!)).toEqual([1]);
  });

  it('a leftover temp file from a killed process does not affect load or later saves', async () => {
    await createFileStore(file).save(payload);
    const stale = path.join(path.dirname(file), '.dev.vfido.999.abcdef.tmp');
    await fs.writeFile(stale, Buffer.from('partial'));
    const s = createFileStore(file);
    expect(Array.from((await s.load())!)).toEqual(Array.from(payload));
    await s.save(new Uint8Array([2]));
    expect(Array.from((await s.load())!)).toEqual([2]);
  });

  it('the target only ever holds complete files: it is replaced by rename, never written in place', async () => {
    await createFileStore(file).save(payload);
    const opened: string[] = [];
    const spying: FileStoreFs = {
      ...fs,
      open: ((p: string, ...rest: unknown[]) => {
        opened.push(p);
        return (fs.open as (...a: unknown[]) => ReturnType<typeof fs.open>)(p, ...rest);
      }) as FileStoreFs['open'],
    };
    const s = createFileStore(file, { fs: spying });
    await s.save(new Uint8Array(100_000).fill(1));
    expect(opened).not.toContain(file);
    expect(opened.some((p) => p.endsWith('.tmp') && path.dirname(p) === path.dirname(file))).toBe(true);
    expect(opened).toContain(path.dirname(file)); // directory fsync
    expect((await s.load())?.length).toBe(100_000);
  });

  /** A file system whose directory handles cannot be synced with `code`; data files sync normally. */
  function dirSyncFails(code: string): FileStoreFs {
    return {
      ...fs,
      open: (async (p: string, flags?: string, mode?: number) => {
        const h = await fs.open(p, flags, mode);
        if (p !== path.dirname(file)) return h;
        return {
          sync: async () => {
            throw Object.assign(new Error(`${code}: fsync`), { code });
          },
          close: () => h.close(),
        };
      }) as FileStoreFs['open'],
    };
  }

  /** Regression: a file system that cannot fsync a directory made a completed save look failed. */
  it.skipIf(process.platform === 'win32').each(['EINVAL', 'ENOTSUP', 'EISDIR'])(
    'a directory sync failing with %s after the rename: the save succeeded',
    async (code) => {
      const s = createFileStore(file, { fs: dirSyncFails(code) });
      await s.save(new Uint8Array([1, 2, 3]));
      expect(Array.from((await createFileStore(file).load())!)).toEqual([1, 2, 3]);
    },
  );

  it.skipIf(process.platform === 'win32')('any other directory sync error is a write error saying the data was saved', async () => {
    const s = createFileStore(file, { fs: dirSyncFails('EIO') });
    await expectStoreError(s.save(new Uint8Array([4])), 'EMU_ERR_STORE_WRITE', /saved, but syncing .* failed \(EIO\)/);
    expect(Array.from((await createFileStore(file).load())!)).toEqual([4]);
  });
});

describe('isUnderTemporaryDirectory', () => {
  it('a path inside the temporary directory (not the directory itself), also through its real path', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vfido-tmpcheck-'));
    try {
      expect(isUnderTemporaryDirectory(path.join(tmp, 'a', 'b.vfido'), tmp)).toBe(true);
      expect(isUnderTemporaryDirectory(tmp, tmp)).toBe(false);
      expect(isUnderTemporaryDirectory(`${tmp}-sibling/x.vfido`, tmp)).toBe(false);
      expect(isUnderTemporaryDirectory('/home/u/.local/share/vfido/default.vfido', tmp)).toBe(false);
      await fs.symlink(tmp, `${tmp}-link`);
      expect(isUnderTemporaryDirectory(path.join(tmp, 'x.vfido'), `${tmp}-link`)).toBe(true);
    } finally {
      await fs.rm(`${tmp}-link`, { force: true });
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('defaultStorePath', () => {
  const home = '/home/u';
  it('prefers $VFIDO_HOME', () => {
    expect(defaultStorePath('work', { env: { VFIDO_HOME: '/v', XDG_DATA_HOME: '/x' }, homedir: home })).toBe(
      path.join('/v', 'work.vfido'),
    );
  });
  it('then $XDG_DATA_HOME/vfido (absolute only)', () => {
    expect(defaultStorePath(undefined, { env: { XDG_DATA_HOME: '/x' }, platform: 'linux', homedir: home })).toBe(
      path.join('/x', 'vfido', 'default.vfido'),
    );
    expect(defaultStoreDir({ env: { XDG_DATA_HOME: 'rel' }, platform: 'linux', homedir: home })).toBe(
      path.join(home, '.local', 'share', 'vfido'),
    );
  });
  it('then the platform default', () => {
    expect(defaultStoreDir({ env: {}, platform: 'linux', homedir: home })).toBe(path.join(home, '.local', 'share', 'vfido'));
    expect(defaultStoreDir({ env: {}, platform: 'darwin', homedir: home })).toBe(
      path.join(home, 'Library', 'Application Support', 'vfido'),
    );
  });
  it('rejects names that are not plain file stems', () => {
    for (const bad of ['', '../x', 'a/b', '.hidden', '-x', 'a\\b']) expect(() => defaultStorePath(bad)).toThrow(TypeError);
  });
});
