/**
 * YAML scenario plumbing: start a shipped scenario (scenarios/*.yaml) through the public loader on a free UDP
 * port, and run python-fido2 against it as browser + relying party (python/rp_flows.py). The scenario file
 * decides everything about the device; the test only says what the user and the RP do.
 */
import { join } from 'node:path';
import { startScenario, type ScenarioRun } from '../../../src/scenarios/index.ts';
import { PYTHON, REPO_ROOT, requireChecks, requirePythonFido2, run } from '../../interop/helpers.ts';

export const SCENARIOS_DIR = join(REPO_ROOT, 'scenarios');
const RP_FLOWS = join(REPO_ROOT, 'test', 'scenarios', 'yaml', 'python', 'rp_flows.py');

export type Action = 'register' | 'authenticate' | 'uv-token';

export interface YamlScenario {
  run: ScenarioRun;
  /** Run one rp_flows.py action; returns its detail (the check passes whenever the flow ran to its end). */
  client(action: Action, args?: string[]): Promise<Record<string, unknown>>;
  /** --credential-id / --public-key of an injected credential, as the RP registered it. */
  rpHolds(name: string): string[];
}

/** Start scenarios/<name>.yaml on a UDP port, run `fn`, always close the device. */
export async function withYamlScenario<T>(name: string, fn: (s: YamlScenario) => Promise<T>): Promise<T> {
  await requirePythonFido2();
  const r = await startScenario(join(SCENARIOS_DIR, `${name}.yaml`), { transport: 'udp', host: '127.0.0.1', port: 0 });
  try {
    const port = r.device.address?.port;
    if (port === undefined) throw new Error('the scenario device has no UDP address');
    const client = async (action: Action, args: string[] = []) => {
      const out = await run(PYTHON, [RP_FLOWS, '--port', String(port), '--action', action, ...args]);
      return requireChecks(out, [`scenario.${action}`])[`scenario.${action}`]!;
    };
    const rpHolds = (n: string) => {
      const c = r.credentials[n];
      if (!c) throw new Error(`the scenario injected no credential named ${n}`);
      return ['--credential-id', c.credentialId, '--public-key', c.publicKey];
    };
    return await fn({ run: r, client, rpHolds });
  } finally {
    await r.close();
  }
}

/** History entries without `at` (the only field that is not reproducible). */
export function historyWithoutTimes(r: ScenarioRun): Record<string, unknown>[] {
  return r.device.control.history.list().map(({ at: _at, ...rest }) => rest);
}
