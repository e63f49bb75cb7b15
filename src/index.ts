/** vfido public API: start a virtual key, or build the pieces yourself. */
export { startDevice, type Device, type StartDeviceOptions, type AttestationMode, type Authenticator } from './device.ts';
export { createAuthenticator } from '../ctap/authenticator/authenticator.ts';
export { CtapHidClient } from './client/ctaphid.ts';
export { createLogger, type Logger, type LogLevel } from './log.ts';
export { createPresence, type PresenceMode } from './env/presence.ts';
export { createSensor, type SensorOptions, type SensorBehaviour, type SensorStep, type SimulatedSensor } from './env/verification.ts';
export { connectUdp, POWER_CYCLE_DATAGRAM } from '../transports/udp.ts';
export type { ClientPipe } from '../transports/memory.ts';
export type { ReportTransport } from '../transports/types.ts';
export { CtapError, EmulatorError } from '../ctap/errors.ts';
export { CtapStatus, statusName } from '../ctap/constants/status.ts';
export { CtapCommand } from '../ctap/constants/commands.ts';
export { loadScenario, parseScenario, startScenario, applyScenario, ScenarioError, type Scenario, type ScenarioRun } from './scenarios/index.ts';
export type { DeviceControl } from './control/types.ts';
export type { FaultRuleInput, FaultRule, HistoryEntry } from './faults/types.ts';
