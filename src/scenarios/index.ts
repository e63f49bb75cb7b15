/** YAML scenarios (README "Scenarios"): load a file, start a device in its state, arm its faults. */
export { loadScenario, parseScenario, ScenarioError, SCENARIO_ERROR } from './load.ts';
export { applyScenario, scenarioStartOptions, startScenario } from './apply.ts';
export type { AppliedScenario, ScenarioOverrides, ScenarioRun } from './apply.ts';
export { profileByName } from './schema.ts';
export type { Scenario, ScenarioCredential, ScenarioDeviceOptions, ScenarioState } from './schema.ts';
export { formatIssue } from './source.ts';
export type { Position, ScenarioIssue } from './source.ts';
