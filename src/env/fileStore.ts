/**
 * Store port on one file per authenticator. Layout (all integers big-endian):
 *
 *   offset  size  field
 *   0       12    magic "VFIDO-STORE\0"
 *   12      4     schema version (1)
 *   16      4     payload length
 *   20      32    SHA-256(payload)
 *   52      n     payload (the authenticator's CBOR state, opaque here)
 *
 * Saves are atomic: temp file in the same directory → write → fsync → rename over the target → fsync the
 * directory, so a crash leaves either the old or the new file (a file system that cannot sync a directory —
 * EINVAL, ENOTSUP, EISDIR — does not fail a save whose rename is done). A file that fails to load is never
 * overwritten: save() refuses until a load succeeds (the user moves or repairs the file). One process at a
 * time: see storeLock.ts (the device takes the lock before it opens the store).
 */
import { realpathSync } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Store } from '../../ctap/authenticator/env.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import { errnoCode } from '../errno.ts';

export const STORE_MAGIC = new TextEncoder().encode('VFIDO-STORE\0');
export const STORE_SCHEMA_VERSION = 1;
export const STORE_HEADER_LENGTH = STORE_MAGIC.length + 4 + 4 + 32;

/** The file-system calls the store makes; injectable so tests can simulate failures (e.g. a crash before rename). */
export type FileStoreFs = Pick<typeof nodeFs, 'readFile' | 'mkdir' | 'open' | 'rename' | 'unlink'>;

export interface FileStoreOptions {
  fs?: FileStoreFs;
}

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Header + payload, as written to disk. */
export function encodeStoreFile(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(STORE_HEADER_LENGTH + payload.length);
  const view = new DataView(out.buffer);
  out.set(STORE_MAGIC, 0);
  view.setUint32(12, STORE_SCHEMA_VERSION);
  view.setUint32(16, payload.length);
  out.set(sha256(payload), 20);
  out.set(payload, STORE_HEADER_LENGTH);
  return out;
}

/** The payload of a store file, or a description of what is wrong with it. */
export function decodeStoreFile(file: Uint8Array): { payload: Uint8Array } | { problem: string } {
  if (file.length < STORE_MAGIC.length || !equalBytes(file.subarray(0, STORE_MAGIC.length), STORE_MAGIC)) {
    return { problem: 'not a vfido store (bad magic)' };
  }
  if (file.length < STORE_HEADER_LENGTH) {
    return { problem: `truncated header: expected ${STORE_HEADER_LENGTH} bytes, file has ${file.length}` };
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = view.getUint32(12);
  if (version !== STORE_SCHEMA_VERSION) {
    return {
      problem: `unsupported schema version ${version} (this vfido reads version ${STORE_SCHEMA_VERSION}${version > STORE_SCHEMA_VERSION ? '; written by a newer vfido?' : ''})`,
    };
  }
  const length = view.getUint32(16);
  const actual = file.length - STORE_HEADER_LENGTH;
  if (actual < length) return { problem: `truncated payload: header says ${length} bytes, file has ${actual}` };
  if (actual > length) return { problem: `${actual - length} unexpected trailing bytes after the ${length}-byte payload` };
  const payload = file.subarray(STORE_HEADER_LENGTH);
  if (!equalBytes(sha256(payload), file.subarray(20, 52))) return { problem: 'checksum mismatch (payload damaged)' };
  return { payload: new Uint8Array(payload) };
}

export function createFileStore(file: string, { fs = nodeFs }: FileStoreOptions = {}): Store {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  /** Why the file on disk must not be overwritten; undefined once a load (or the pre-save check) succeeded. */
  let blocked: EmulatorError | undefined;
  /** Whether the on-disk file has been checked (load or pre-save check) since this store was created. */
  let checked = false;
  /** Saves run one after another, in call order. */
  let queue: Promise<void> = Promise.resolve();

  async function read(): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(target);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw new EmulatorError('EMU_ERR_STORE_UNREADABLE', `store ${target}: cannot read (${errnoCode(e) ?? String(e)})`, {
        cause: e,
      });
    }
    const r = decodeStoreFile(bytes);
    if ('problem' in r) {
      throw new EmulatorError('EMU_ERR_STORE_CORRUPT', `store ${target} is corrupt: ${r.problem}; move it aside or delete it`);
    }
    return r.payload;
  }

  async function checkedRead(): Promise<Uint8Array | undefined> {
    try {
      const data = await read();
      blocked = undefined;
      checked = true;
      return data;
    } catch (e) {
      blocked = e as EmulatorError;
      checked = true;
      throw e;
    }
  }

  async function write(data: Uint8Array): Promise<void> {
    // Never overwrite a file we could not read: it may be a user's only copy of their credentials.
    if (!checked) await checkedRead().catch(() => undefined);
    if (blocked) {
      throw new EmulatorError(blocked.code, `refusing to overwrite ${target}: ${blocked.message}`, { cause: blocked });
    }
    const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const fh = await fs.open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(encodeStoreFile(data));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, target);
    } catch (e) {
      await fs.unlink(tmp).catch(() => undefined);
      throw new EmulatorError('EMU_ERR_STORE_WRITE', `store ${target}: cannot save (${errnoCode(e) ?? String(e)})`, {
        cause: e,
      });
    }
    // The new file is in place: from here on the save has happened, whatever the directory sync says.
    try {
      await syncDirectory(fs, dir);
    } catch (e) {
      if (!DIRECTORY_SYNC_UNSUPPORTED.has(errnoCode(e) ?? '')) {
        throw new EmulatorError('EMU_ERR_STORE_WRITE', `store ${target}: saved, but syncing ${dir} failed (${errnoCode(e) ?? String(e)})`, {
          cause: e,
        });
      }
    }
  }

  return Object.freeze({
    load: checkedRead,
    save(data: Uint8Array): Promise<void> {
      const copy = new Uint8Array(data);
      const run = queue.then(() => write(copy));
      queue = run.catch(() => undefined);
      return run;
    },
  });
}

/**
 * What a file system answers when it cannot fsync a directory (some network and FUSE file systems, WSL1):
 * the rename is done and the data is on disk, so the save succeeded.
 */
const DIRECTORY_SYNC_UNSUPPORTED: ReadonlySet<string> = new Set(['EINVAL', 'ENOTSUP', 'EISDIR']);

/** fsync the directory so the rename itself is durable. Not possible on Windows (directories cannot be opened). */
async function syncDirectory(fs: FileStoreFs, dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Whether `file` lies inside the temporary directory (os.tmpdir(), also by its real path: /tmp vs
 * /private/tmp). Test stores live there; a user's key does not (faults that destroy a file ask for this).
 */
export function isUnderTemporaryDirectory(file: string, tmp: string = os.tmpdir()): boolean {
  const target = path.resolve(file);
  const roots = new Set([path.resolve(tmp)]);
  try {
    roots.add(realpathSync(tmp));
  } catch {
    // a temporary directory that does not exist holds nothing
  }
  let real = target;
  try {
    real = path.join(realpathSync(path.dirname(target)), path.basename(target));
  } catch {
    // the directory does not exist yet: compare the path as given
  }
  const inside = (root: string, p: string): boolean => {
    const rel = path.relative(root, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  return [...roots].some((root) => inside(root, target) || inside(root, real));
}

export interface StorePathOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homedir?: string;
}

/** Directory for vfido data: $VFIDO_HOME, else $XDG_DATA_HOME/vfido, else the platform's per-user data dir. */
export function defaultStoreDir({
  env = process.env,
  platform = process.platform,
  homedir = os.homedir(),
}: StorePathOptions = {}): string {
  if (env.VFIDO_HOME) return path.resolve(env.VFIDO_HOME);
  // XDG Base Directory spec: a relative $XDG_DATA_HOME is invalid and must be ignored.
  if (env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)) return path.join(env.XDG_DATA_HOME, 'vfido');
  if (platform === 'darwin') return path.join(homedir, 'Library', 'Application Support', 'vfido');
  if (platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'vfido');
  return path.join(homedir, '.local', 'share', 'vfido');
}

/** `<defaultStoreDir>/<name>.vfido`. `name` is a plain file-name stem (letters, digits, . _ -). */
export function defaultStorePath(name = 'default', options: StorePathOptions = {}): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) {
    throw new TypeError(`store name must be letters, digits, '.', '_' or '-' (not starting with '.' or '-'), got ${JSON.stringify(name)}`);
  }
  return path.join(defaultStoreDir(options), `${name}.vfido`);
}
