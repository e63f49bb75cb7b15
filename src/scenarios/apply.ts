/**
 * Running a scenario: its device options go to startDevice; its initial state is then put in place through
 * the control API (the same calls the HTTP API and the CLI make), and its fault rules are armed last, so the
 * setup never trips a rule and the first client request meets them. Every step that fails names the field
 * of the file it came from.
 */
import { EmulatorError } from '../../ctap/errors.ts';
import type { CredentialInfo, CredentialInput, DeviceControl } from '../control/types.ts';
import { startDevice, type Device, type StartDeviceOptions } from '../device.ts';
import type { FaultRule, FaultRuleInput } from '../faults/types.ts';
import { loadScenario, parseScenario, ScenarioError } from './load.ts';
import type { Scenario, ScenarioCredential } from './schema.ts';
import { nearest } from './source.ts';

export interface AppliedScenario {
  /**
   * The injected credentials by their scenario names, as they were registered (before any damage the file
   * asks for): what the relying party holds.
   */
  credentials: Record<string, CredentialInfo>;
  /** The armed rules, in file order (ids assigned). */
  faults: FaultRule[];
}

/** How to run it: transport, store, logger, … (they win over the file's options). */
export type ScenarioOverrides = Partial<StartDeviceOptions>;

/** startDevice options for a scenario: a memory transport and store unless overridden. */
export function scenarioStartOptions(scenario: Scenario, overrides: ScenarioOverrides = {}): StartDeviceOptions {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as ScenarioOverrides;
  return { transport: 'memory', store: 'memory', ...scenario.device, ...given };
}

function fail(scenario: Scenario, path: string, what: string, e: unknown): ScenarioError {
  const text = e instanceof Error ? e.message : String(e);
  // The control API names the field it rejects ("privateKey: not a valid P-256 scalar"): point at it if we can.
  const field = /^([A-Za-z][A-Za-z.]*): /.exec(text)?.[1];
  const at = field !== undefined && scenario.locations.has(`${path}.${field}`) ? `${path}.${field}` : path;
  const { line, col } = nearest(scenario.locations, at);
  return new ScenarioError([{ file: scenario.file, line, col, path: at, message: `${what}: ${text}` }], { cause: e });
}

function credentialInput(c: ScenarioCredential): CredentialInput {
  const input: CredentialInput = { rpId: c.rpId };
  if (c.user !== undefined) input.user = { ...c.user };
  if (c.discoverable !== undefined) input.discoverable = c.discoverable;
  if (c.credentialId !== undefined) input.credentialId = c.credentialId;
  if (c.largeBlob !== undefined) input.largeBlob = c.largeBlob;
  if (c.rpName !== undefined) input.rpName = c.rpName;
  if (c.alg !== undefined) input.alg = c.alg;
  if (c.privateKey !== undefined) input.privateKey = c.privateKey;
  if (c.signCount !== undefined) input.signCount = c.signCount;
  return input;
}

/** A rule with `when.credential` naming an injected credential replaced by that credential's ID. */
function resolveRule(rule: FaultRuleInput, credentials: Record<string, CredentialInfo>): FaultRuleInput {
  const ref = rule.when?.credential;
  const info = ref === undefined ? undefined : credentials[ref];
  if (!info) return rule;
  return { ...rule, when: { ...rule.when, credential: info.credentialId } };
}

/**
 * Put the scenario's state in place, then arm its faults. Order: PIN, credentials (each injected, damaged,
 * deactivated), PIN retries / force-change, UV retries, lock, faults.
 */
export async function applyScenario(device: { control: DeviceControl }, scenario: Scenario): Promise<AppliedScenario> {
  const control = device.control;
  const st = scenario.state;
  const step = async <T>(path: string, what: string, fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw fail(scenario, path, what, e);
    }
  };

  const pin = st.pin;
  if (pin?.value !== undefined) await step('state.pin.value', 'control.pin.set', () => control.pin.set(pin.value!));

  const credentials: Record<string, CredentialInfo> = {};
  for (const [i, c] of st.credentials.entries()) {
    const at = `state.credentials[${i}]`;
    const info = await step(at, 'control.credentials.add', () => control.credentials.add(credentialInput(c)));
    credentials[c.name] = info;
    for (const target of c.corrupt) {
      await step(`${at}.corrupt`, `control.credentials.corrupt(${target})`, () => control.credentials.corrupt(info.credentialId, target));
    }
    if (c.status === 'deactivated') {
      await step(`${at}.status`, 'control.credentials.deactivate', () => control.credentials.deactivate(info.credentialId));
    }
  }

  if (pin?.retries !== undefined) await step('state.pin.retries', 'control.pin.setRetries', () => control.pin.setRetries(pin.retries!));
  if (pin?.forceChange !== undefined) {
    await step('state.pin.forceChange', 'control.pin.forceChange', () => control.pin.forceChange(pin.forceChange));
  }
  const uvRetries = st.uv?.retries;
  if (uvRetries !== undefined) await step('state.uv.retries', 'control.uv.setRetries', () => control.uv.setRetries(uvRetries));
  if (st.locked === true) await step('state.locked', 'control.lock', () => control.lock());
  if (st.locked === false) await step('state.locked', 'control.unlock', () => control.unlock());

  const faults: FaultRule[] = [];
  for (const [i, rule] of scenario.faults.entries()) {
    faults.push(await step(`faults[${i}]`, 'control.faults.add', () => control.faults.add(resolveRule(rule, credentials))));
  }
  return { credentials, faults };
}

export interface ScenarioRun extends AppliedScenario {
  scenario: Scenario;
  device: Device;
  /** = device.close(). */
  close(): Promise<void>;
}

/**
 * Load (a path; or YAML text when the string has a line break; or `{ text, file? }`; or a parsed Scenario),
 * start the device and apply the scenario. On failure the device is closed again.
 */
export async function startScenario(
  source: string | { text: string; file?: string } | Scenario,
  overrides: ScenarioOverrides = {},
): Promise<ScenarioRun> {
  const scenario =
    typeof source === 'string'
      ? source.includes('\n')
        ? parseScenario(source)
        : await loadScenario(source)
      : 'text' in source
        ? parseScenario(source.text, source.file)
        : source;
  let device: Device;
  try {
    device = await startDevice(scenarioStartOptions(scenario, overrides));
  } catch (e) {
    // Options the schema could not check (the profile was not known to it): still this file's problem.
    if (e instanceof TypeError || (e instanceof EmulatorError && e.code === 'EMU_ERR_INVALID_ARGUMENT')) throw fail(scenario, '', 'startDevice', e);
    throw e;
  }
  try {
    const applied = await applyScenario(device, scenario);
    return { scenario, device, ...applied, close: () => device.close() };
  } catch (e) {
    await device.close();
    throw e;
  }
}
