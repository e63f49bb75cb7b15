/**
 * .ci/run checks the Node version first: on an old node it stops with one clear line (before apt, npm ci and
 * the tests would fail on syntax or a missing global). A fake `node` first on PATH plays the old version.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const RUN = fileURLToPath(new URL('../../.ci/run', import.meta.url));
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function runWithNode(version: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  dir = await mkdtemp(join(tmpdir(), 'vfido-ci-'));
  const fake = join(dir, 'node');
  await writeFile(fake, `#!/bin/sh\necho ${version}\n`);
  await chmod(fake, 0o755);
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
  return new Promise((resolve) => {
    execFile('bash', [RUN], { env, timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(process.platform === 'win32')('.ci/run', () => {
  /** Regression: CI on Node 18 failed late and obscurely. */
  it.each(['v18.19.0', 'v16.20.2'])('node %s → exit 1 with "Node.js >= 20 is required", nothing else runs', async (version) => {
    const r = await runWithNode(version);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`vfido CI: Node.js >= 20 is required, found ${version}`);
    expect(r.stdout).not.toContain('== system packages');
  });
});
