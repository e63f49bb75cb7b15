import { defineConfig } from 'vitest/config';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default defineConfig({
  test: {
    include: ['ctap/**/*.test.ts', 'transports/**/*.test.ts', 'src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests (and the vfido processes they spawn) keep their data out of the real home directory.
    env: { VFIDO_HOME: join(tmpdir(), `vfido-test-home-${process.pid}`) },
  },
});
