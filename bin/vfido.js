#!/usr/bin/env node
// vfido command line. No build step: the TypeScript sources run through tsx's ESM loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
