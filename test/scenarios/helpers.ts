/**
 * Scenario plumbing: a vfido device started through the public API (src/index.ts startDevice) on a free UDP
 * port, driven by a real FIDO client (python-fido2's WebAuthn client, test/interop/python/scenario_*.py).
 * Each scenario asserts what the relying party / client sees; the test drives the device (power cycle,
 * sensor history) through the same public API an RP's test harness would use.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevice, type Device, type StartDeviceOptions } from '../../src/index.ts';
import { INTEROP_DIR, PYTHON, requireChecks, requirePythonFido2, run } from '../interop/helpers.ts';

export interface Scenario {
  device: Device;
  /** A scratch directory for the client's state files, removed afterwards. */
  dir: string;
  /**
   * Run test/interop/python/<script>.py against the device, require its one check `check` to pass and
   * return that check's detail.
   */
  client(script: string, check: string, args: string[]): Promise<Record<string, unknown>>;
}

export type ScenarioDeviceOptions = Omit<StartDeviceOptions, 'transport' | 'host' | 'port' | 'store'>;

/** Start a device (memory store, 'none' attestation unless told), run `fn`, always close it. */
export async function withScenario<T>(opts: ScenarioDeviceOptions, fn: (s: Scenario) => Promise<T>): Promise<T> {
  await requirePythonFido2();
  const dir = await mkdtemp(join(tmpdir(), 'vfido-scenario-'));
  let device: Device | undefined;
  try {
    device = await startDevice({ attestation: 'none', ...opts, transport: 'udp', host: '127.0.0.1', port: 0, store: 'memory' });
    const port = device.address?.port;
    if (port === undefined) throw new Error('startDevice({ transport: "udp" }) returned no address');
    const client = async (script: string, check: string, args: string[]) => {
      const r = await run(PYTHON, [join(INTEROP_DIR, 'python', `${script}.py`), '--port', String(port), ...args]);
      return requireChecks(r, [check])[check]!;
    };
    return await fn({ device, dir, client });
  } finally {
    await device?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The scenario_pin RP of one scenario: its state file, register with a PIN, authenticate `times` times. */
export interface PinRp {
  /** The device profile's maxPinRetries. */
  max: number | undefined;
  state: string;
  register(pin: string): Promise<Record<string, unknown>>;
  auth(pin: string, times?: number): Promise<Record<string, unknown>>;
}

export function pinRp({ device, dir, client }: Scenario): PinRp {
  const state = join(dir, 'rp.json');
  return {
    max: device.authenticator.profile.pin?.maxPinRetries,
    state,
    register: (pin) => client('scenario_pin', 'scenario.register', ['--phase', 'register', '--state', state, '--pin', pin]),
    auth: (pin, times = 1) =>
      client('scenario_pin', 'scenario.authenticate', ['--phase', 'authenticate', '--state', state, '--pin', pin, '--times', String(times)]),
  };
}
