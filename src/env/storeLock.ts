/**
 * One process per store file: two keys saving the same file would each overwrite the other's credentials.
 * The lock is a file beside the store, `<store>.lock`, created exclusively (`wx`) and holding the owner's PID.
 * A lock whose PID is no longer a running process (a crashed vfido) is stale and taken over; a live one makes
 * the second start fail with a message naming the store, the PID and the lock file. Two devices of one
 * process on one file are refused the same way (the PID is alive: it is ours).
 *
 * Limits (documented, not solved): a PID reused by an unrelated process keeps a stale lock looking live (the
 * message names the lock file to delete); two processes taking over the same stale lock at the same instant
 * can both succeed; a lock on a network file system shared by two machines cannot check the other's PIDs.
 */
import * as nodeFs from 'node:fs/promises';
import * as path from 'node:path';
import { EmulatorError } from '../../ctap/errors.ts';
import { errnoCode } from '../errno.ts';

export const STORE_LOCKED = 'EMU_ERR_STORE_LOCKED';

export interface StoreLock {
  /** The lock file. */
  readonly file: string;
  /** Remove the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

export interface StoreLockOptions {
  /** The PID written into the lock (default process.pid). */
  pid?: number;
  /** Whether a PID is a running process (default: process.kill(pid, 0)). */
  isAlive?: (pid: number) => boolean;
  fs?: Pick<typeof nodeFs, 'mkdir' | 'open' | 'readFile' | 'unlink'>;
}

/** `<store>.lock`, beside the store file. */
export function storeLockPath(storeFile: string): string {
  return `${path.resolve(storeFile)}.lock`;
}

/** Signal 0 checks existence only; EPERM means it exists but belongs to someone else. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/** The PID in a lock file's text; undefined for anything else (an empty or foreign file is stale). */
function parsePid(text: string): number | undefined {
  const m = /^\s*(\d{1,10})\s*$/.exec(text);
  const pid = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Take the store's lock, or reject with EmulatorError EMU_ERR_STORE_LOCKED while a live process holds it. */
export async function acquireStoreLock(storeFile: string, o: StoreLockOptions = {}): Promise<StoreLock> {
  const { pid = process.pid, isAlive = isProcessAlive, fs = nodeFs } = o;
  const target = path.resolve(storeFile);
  const file = storeLockPath(target);
  await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  let holder: number | undefined;
  // Create; on EEXIST look at the holder; a stale lock is removed and creation tried again (a few times: a
  // concurrent start may be doing the same).
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await fs.open(file, 'wx', 0o600);
      try {
        await fh.writeFile(`${pid}\n`);
      } finally {
        await fh.close();
      }
      return lockHandle(file, pid, fs);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') {
        throw new EmulatorError('EMU_ERR_STORE_UNREADABLE', `store ${target}: cannot create the lock file ${file} (${errnoCode(e) ?? String(e)})`, {
          cause: e,
        });
      }
    }
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') continue; // released meanwhile
      throw new EmulatorError('EMU_ERR_STORE_UNREADABLE', `store ${target}: cannot read the lock file ${file} (${errnoCode(e) ?? String(e)})`, {
        cause: e,
      });
    }
    holder = parsePid(text);
    if (holder !== undefined && isAlive(holder)) break;
    await fs.unlink(file).catch((e: unknown) => {
      if (errnoCode(e) !== 'ENOENT') throw e;
    });
  }
  const who = holder === undefined ? 'another process' : holder === pid ? `another device of this process (PID ${pid})` : `process ${holder}`;
  throw new EmulatorError(
    STORE_LOCKED,
    `store ${target} is in use by ${who} (lock file ${file}): stop that vfido or use another store; ` +
      'if no vfido is running, delete the lock file',
  );
}

function lockHandle(file: string, pid: number, fs: NonNullable<StoreLockOptions['fs']>): StoreLock {
  let released: Promise<void> | undefined;
  return Object.freeze({
    file,
    release(): Promise<void> {
      released ??= (async () => {
        // Only our own lock: after a takeover (we were thought dead) the file belongs to someone else.
        const text = await fs.readFile(file, 'utf8').catch(() => undefined);
        if (text !== undefined && parsePid(text) === pid) await fs.unlink(file).catch(() => undefined);
      })();
      return released;
    },
  });
}
