/**
 * Where a running `vfido start` leaves its control token for the CLI commands: `<data dir>/control-<port>.token`
 * (the data dir of the default store: $VFIDO_HOME, $XDG_DATA_HOME/vfido, …), mode 0600 in a 0700 directory,
 * written atomically, removed on exit. Clients that know the port find it without being told.
 */
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { defaultStoreDir, type StorePathOptions } from '../../env/fileStore.ts';

export const DEFAULT_CONTROL_PORT = 8112;

export function defaultTokenPath(port: number, options: StorePathOptions = {}): string {
  return path.join(defaultStoreDir(options), `control-${port}.token`);
}

/** Write `token` to `file` (mode 0600, atomic: temp file + rename); creates the directory (0700) if needed. */
export async function writeTokenFile(file: string, token: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${token}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(tmp, 0o600); // the umask cannot widen it, but an existing temp file might have other bits
  await rename(tmp, file);
}

export async function readTokenFile(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).trim();
}

export async function removeTokenFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
