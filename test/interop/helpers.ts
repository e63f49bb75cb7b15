/**
 * Shared plumbing for the interop suites: run an external client (python-fido2 scripts, the libfido2
 * driver) against an in-process vfido UDP device and parse its JSON-lines report.
 *
 * Every external program prints one JSON object per check: {"check": name, "ok": bool, "detail": {...}}.
 * Missing system packages FAIL the suites (they are not skipped): run `bash scripts/setup-system.sh`.
 */
import { afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevice, type Device, type StartDeviceOptions } from '../../src/device.ts';
import { decodeStoreFile } from '../../src/env/fileStore.ts';
import { decodeState } from '../../ctap/authenticator/state.ts';
import type { Profile } from '../../ctap/authenticator/profile.ts';

export const INTEROP_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(INTEROP_DIR, '..', '..');
/** Debian's interpreter: a pyenv/venv python3 on PATH does not see the python3-fido2 package. */
export const PYTHON = '/usr/bin/python3';
const SETUP_HINT =
  'run `bash scripts/setup-system.sh` (installs python3-fido2 libfido2-dev fido2-tools gcc pkg-config libusb-1.0-0)';

export interface Check {
  check: string;
  ok: boolean;
  detail: Record<string, unknown>;
}

export interface ExecResult {
  /** Exit code; null if the process was killed (timeout) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunResult extends ExecResult {
  /** Parsed JSON lines, by check name (later duplicates win). */
  checks: Map<string, Check>;
}

/** Run a program without a shell; never rejects (a non-zero exit or a spawn failure is in the result). */
export function exec(file: string, args: string[], timeoutMs = 25_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8', env: childEnv() },
      (error, stdout, stderr) => {
        let code: number | null = 0;
        if (error) {
          const c = (error as NodeJS.ErrnoException & { code?: unknown }).code;
          code = typeof c === 'number' ? c : null;
          if (code === null) stderr = `${stderr}\n[${file}] ${error.message}`;
        }
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Run an interop client and parse its JSON-lines report (a malformed line makes the result fail). */
export async function run(file: string, args: string[], timeoutMs = 25_000): Promise<RunResult> {
  const r = await exec(file, args, timeoutMs);
  try {
    return { ...r, checks: parseChecks(r.stdout) };
  } catch (e) {
    return { ...r, code: r.code === 0 ? -1 : r.code, stderr: `${r.stderr}\n[${file}] ${(e as Error).message}`, checks: new Map() };
  }
}

/** The environment for children: no PYTHONPATH/PYTHONHOME from a pyenv shell, no __pycache__ in the tree. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  return env;
}

function parseChecks(stdout: string): Map<string, Check> {
  const checks = new Map<string, Check>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`not a JSON check line: ${line.slice(0, 200)}`);
    }
    const c = parsed as Check;
    if (typeof c.check !== 'string' || typeof c.ok !== 'boolean') throw new Error(`not a check object: ${line.slice(0, 200)}`);
    checks.set(c.check, c);
  }
  return checks;
}

/** A readable account of a run, for assertion messages. */
export function describeRun(r: RunResult): string {
  const failed = [...r.checks.values()].filter((c) => !c.ok).map((c) => `${c.check}: ${JSON.stringify(c.detail)}`);
  return [
    `exit code ${r.code}; ${r.checks.size} checks, ${failed.length} failed`,
    ...failed,
    r.stderr.trim() ? `stderr:\n${r.stderr.trim().slice(-4000)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * Throw unless the run exited 0 and every one of `expected` checks is present and ok (and no other check
 * failed). Returns the checks' details by name.
 */
export function requireChecks(r: RunResult, expected: string[]): Record<string, Record<string, unknown>> {
  const problems: string[] = [];
  for (const name of expected) {
    const c = r.checks.get(name);
    if (!c) problems.push(`missing check ${name}`);
    else if (!c.ok) problems.push(`check ${name} failed`);
  }
  for (const c of r.checks.values()) if (!c.ok && !expected.includes(c.check)) problems.push(`check ${c.check} failed`);
  if (r.code !== 0) problems.push(`exit code ${r.code}`);
  if (problems.length) throw new Error(`${problems.join('; ')}\n${describeRun(r)}`);
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of expected) out[name] = r.checks.get(name)!.detail;
  return out;
}

let pythonReady: Promise<string> | undefined;

/** Resolves to python-fido2's version; rejects with the setup hint when /usr/bin/python3 cannot import fido2. */
export function requirePythonFido2(): Promise<string> {
  pythonReady ??= (async () => {
    const r = await exec(PYTHON, ['-c', 'import fido2, sys; sys.stdout.write(fido2.__version__)'], 10_000);
    if (r.code !== 0) {
      throw new Error(`${PYTHON} cannot import fido2 (python-fido2 is missing): ${SETUP_HINT}\n${r.stderr.trim()}`);
    }
    return r.stdout.trim();
  })();
  return pythonReady;
}

export interface BuiltDriver {
  /** Path of the compiled libfido2 driver. */
  path: string;
  /** libfido2 version (pkg-config). */
  version: string;
  cleanup(): Promise<void>;
}

/**
 * Compile test/interop/libfido2/{vfido_udp.c,driver.c,driver_uv.c,driver_ext.c} against the system libfido2 into a fresh temp dir.
 * Rejects with the setup hint when pkg-config, libfido2-dev or gcc are missing.
 */
export async function buildLibfido2Driver(): Promise<BuiltDriver> {
  const flags = await exec('pkg-config', ['--cflags', '--libs', 'libfido2'], 10_000);
  const version = await exec('pkg-config', ['--modversion', 'libfido2'], 10_000);
  if (flags.code !== 0 || version.code !== 0) {
    throw new Error(`pkg-config cannot find libfido2 (libfido2-dev missing?): ${SETUP_HINT}\n${flags.stderr.trim()}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'vfido-libfido2-'));
  const path = join(dir, 'vfido-fido2');
  const src = join(INTEROP_DIR, 'libfido2');
  const cc = await exec(
    'gcc',
    [
      '-std=c11',
      '-O1',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-o',
      path,
      join(src, 'vfido_udp.c'),
      join(src, 'driver.c'),
      join(src, 'driver_uv.c'),
      join(src, 'driver_ext.c'),
      ...flags.stdout.trim().split(/\s+/).filter(Boolean),
    ],
    60_000,
  );
  if (cc.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`building the libfido2 driver failed (gcc/libfido2-dev missing?): ${SETUP_HINT}\n${cc.stderr.trim()}`);
  }
  return { path, version: version.stdout.trim(), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface InteropDevice {
  device: Device;
  /** The UDP port the device listens on (127.0.0.1). */
  port: number;
  /** The running device's profile: what getInfo must report. */
  profile: Profile;
  /** DER of the device's attestation CA, read from its store file (only for 'basic' attestation). */
  caDer?: Uint8Array;
  /** The same certificate as a DER file, for the external clients' --ca-cert. */
  caFile?: string;
  close(): Promise<void>;
}

/** startDevice options an interop test may choose (profile, attestation, sensor script, …); the transport is fixed. */
export type InteropDeviceOptions = Omit<StartDeviceOptions, 'transport' | 'host' | 'port' | 'store'>;

/**
 * An in-process vfido device on a free UDP port on 127.0.0.1. With 'basic' attestation (the device default)
 * it persists to a store file in a temp dir, and the attestation CA is read back from that file: the trust
 * root comes from the device's own state, not from the x5c it sends on the wire.
 */
export async function openInteropDevice(opts: InteropDeviceOptions = {}): Promise<InteropDevice> {
  const dir = await mkdtemp(join(tmpdir(), 'vfido-interop-'));
  const basic = (opts.attestation ?? 'basic') === 'basic';
  const storePath = join(dir, 'device.vfido');
  let device: Device;
  try {
    device = await startDevice({
      ...opts,
      transport: 'udp',
      host: '127.0.0.1',
      port: 0,
      store: basic ? { path: storePath } : 'memory',
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const close = async (): Promise<void> => {
    await device.close();
    await rm(dir, { recursive: true, force: true });
  };
  const address = device.address;
  if (!address) {
    await close();
    throw new Error('startDevice({ transport: "udp" }) returned no address');
  }
  const out: InteropDevice = { device, port: address.port, profile: device.authenticator.profile, close };
  if (basic) {
    const file = decodeStoreFile(new Uint8Array(await readFile(storePath)));
    if ('problem' in file) {
      await close();
      throw new Error(`cannot read the device store ${storePath}: ${file.problem}`);
    }
    const chain = decodeState(file.payload).attestation.certChain;
    const ca = chain[chain.length - 1];
    if (!ca || chain.length < 2) {
      await close();
      throw new Error(`the device store holds ${chain.length} attestation certificate(s), expected [leaf, CA]`);
    }
    out.caDer = ca;
    out.caFile = join(dir, 'attestation-ca.der');
    await writeFile(out.caFile, ca);
  }
  return out;
}

/**
 * An interop device for a python-fido2 test: fails with the setup hint when python-fido2 is missing, closes the
 * device however `fn` ends.
 */
export async function withPythonDevice<T>(opts: InteropDeviceOptions, fn: (d: InteropDevice) => Promise<T>): Promise<T> {
  await requirePythonFido2();
  const d = await openInteropDevice(opts);
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

/** Run test/interop/python/<name>.py against `d` (its port, and its CA certificate when it has one). */
export function python(name: string, d: InteropDevice, ...args: string[]): Promise<RunResult> {
  return run(PYTHON, [join(INTEROP_DIR, 'python', `${name}.py`), '--port', String(d.port), ...(d.caFile ? ['--ca-cert', d.caFile] : []), ...args]);
}

/**
 * The libfido2 driver for one test file: built once (on first use; every test awaits it, so a missing toolchain
 * fails each test with the setup hint), removed after the file. Returns `fido2(sub, opts)`: a fresh device with
 * `defaults` under `opts`, the driver's `sub` command run against it, the device closed.
 */
export function libfido2Runner<Sub extends string>(
  defaults: InteropDeviceOptions = {},
): (sub: Sub, opts?: InteropDeviceOptions) => Promise<{ d: InteropDevice; r: RunResult }> {
  let built: Promise<BuiltDriver> | undefined;
  afterAll(async () => {
    const b = await built?.catch(() => undefined);
    await b?.cleanup();
  });
  return async (sub, opts = {}) => {
    built ??= buildLibfido2Driver();
    const { path } = await built;
    const d = await openInteropDevice({ ...defaults, ...opts });
    try {
      return { d, r: await run(path, [sub, String(d.port), '127.0.0.1']) };
    } finally {
      await d.close();
    }
  };
}

/**
 * What a client's parsed getInfo must report for a device with profile `p` (python-fido2's Info, libfido2's
 * fido_cbor_info): versions, AAGUID, algorithms, the profile's fixed options, limits, transports, extensions.
 * `options` is the reported options map (the preview versions depend on it).
 */
export function expectedInfo(p: Profile, options: Record<string, unknown>): Record<string, unknown> {
  return {
    versions: expectedVersions(p, options),
    aaguid: hex(p.aaguid),
    algorithms: p.algorithms,
    options: { rk: p.options.rk, up: p.options.up, plat: p.options.plat },
    maxMsgSize: p.maxMsgSize,
    maxCredentialCountInList: p.maxCredentialCountInList,
    maxCredentialIdLength: p.maxCredentialIdLength,
    transports: p.transports,
    extensions: p.extensions,
  };
}

/**
 * The getInfo versions a device with profile `p` reports: the profile's, plus "FIDO_2_1_PRE" (before
 * "FIDO_2_1") when getInfo announces a preview command (CTAP 2.1 §6.12 / §6.13: the credentialMgmtPreview or
 * userVerificationMgmtPreview option is present).
 */
export function expectedVersions(p: Profile, options: Record<string, unknown>): string[] {
  const preview = 'credentialMgmtPreview' in options || 'userVerificationMgmtPreview' in options;
  return preview ? p.versions.flatMap((v) => (v === 'FIDO_2_1' ? ['FIDO_2_1_PRE', v] : [v])) : p.versions;
}

/** Lowercase hex, as the external clients print bytes. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
