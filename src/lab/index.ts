// The lab (README "The lab"): namespace topologies with real daemons and faults, for
// demos and tests. Public API of src/lab.
export { DEFAULT_PREFIX, getLab, getScenario, labDown, labStatus, labUp, listScenarios } from './lab.js';
export type {
  LabDownResult,
  LabProcessStatus,
  LabStatus,
  LabStatusPhase,
  LabUpOptions,
  ScenarioSummary,
} from './lab.js';
export { runTraffic, trafficArgv } from './traffic.js';
export type { RunTrafficOptions, TrafficResult } from './traffic.js';
export { captureCommand, captureSpec, formatLabStatus, formatScenarioList, shellLine } from './report.js';
export { buildLab } from './builder.js';
export { SCENARIOS } from './scenarios/index.js';
export type { LiveInterface } from './live.js';
export type { CapturePoint, LabHost, LabInterface, LabNamespace, LabTraffic, LabView } from './view.js';
export type { FaultSpec, InterfaceRole, ScenarioSpec } from './topology.js';
export { LAB_STATE_ROOT, labStateDir } from './state-dir.js';
