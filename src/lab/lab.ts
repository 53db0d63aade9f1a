// The lab's programmatic API: bring a scenario up, take it down, say what is up.
// The CLI (`hopscope lab`), the demo and the tests all go through these.
import { existsSync, rmSync } from 'node:fs';
import { UserError } from '../shared/user-error.js';
import { buildLab } from './builder.js';
import { executePlan, LabInterruptedError, namespaceExists } from './executor.js';
import { readLiveInterfaces, type LiveInterface } from './live.js';
import { assertRoot, checkTools, validatePrefix } from './preflight.js';
import { isSameProcessAlive, processStartTicks } from './processes.js';
import { findScenario, SCENARIOS } from './scenarios/index.js';
import { labStateDir } from './state-dir.js';
import { LabExistsError, LabStateFile, listLabStateDirs, readLabState } from './state-file.js';
import { teardownLab } from './teardown.js';
import type { FaultSpec, ScenarioSpec } from './topology.js';
import type { LabView } from './view.js';

/** Namespaces get this prefix unless told otherwise: names still look real, and never clash with a real deployment's. */
export const DEFAULT_PREFIX = 'hs-';

export interface ScenarioSummary {
  name: string;
  summary: string;
  faults: FaultSpec[];
  hosts: string[];
}

export interface LabUpOptions {
  fault?: string | null;
  prefix?: string;
  /** abort (Ctrl-C): stop building, remove what was built */
  signal?: AbortSignal;
}

export interface LabDownResult {
  /** false when no lab was up with that prefix */
  found: boolean;
  prefix: string;
  scenario: string | null;
  namespacesDeleted: string[];
}

export type LabStatusPhase = 'up' | 'building' | 'interrupted';

export interface LabProcessStatus {
  name: string;
  netns: string;
  pid: number;
  startTicks: number;
  alive: boolean;
}

export interface LabStatus extends LabView {
  /** 'interrupted': `lab up` stopped before finishing (crash, Ctrl-C); run `lab down` */
  phase: LabStatusPhase;
  startedAt: string;
  processes: LabProcessStatus[];
  /** what the namespaces hold right now (`ip -j addr`), with the scenario's roles */
  liveInterfaces: LiveInterface[];
  /** the scenario's namespaces that do not exist (while up: the lab is damaged) */
  missingNamespaces: string[];
}

export function listScenarios(): ScenarioSummary[] {
  return SCENARIOS.map((s) => ({
    name: s.name,
    summary: s.summary,
    faults: [...s.faults],
    hosts: s.hosts.map((h) => h.name),
  }));
}

export function getScenario(name: string): ScenarioSpec {
  const spec = findScenario(name);
  if (!spec)
    throw new UserError(
      `lab: unknown scenario '${name}' (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`,
    );
  return spec;
}

function downHint(prefix: string): string {
  return prefix === DEFAULT_PREFIX ? 'hopscope lab down' : `hopscope lab down --prefix ${prefix}`;
}

/** Build a scenario. On failure removes what it built and throws a one-line UserError. */
export async function labUp(scenarioName: string, options: LabUpOptions = {}): Promise<LabView> {
  const spec = getScenario(scenarioName);
  const fault = options.fault ?? null;
  if (fault !== null && !spec.faults.some((f) => f.name === fault)) {
    throw new UserError(
      `lab: scenario ${spec.name} has no fault '${fault}' (faults: ${spec.faults.map((f) => f.name).join(', ')})`,
    );
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  validatePrefix(prefix);
  assertRoot();
  const tools = checkTools(spec);
  const stateDir = labStateDir(prefix);
  const { plan, view } = buildLab(spec, { fault, prefix, stateDir, tools });

  let record: LabStateFile;
  try {
    record = LabStateFile.create(stateDir, {
      scenario: spec.name,
      fault,
      prefix,
      builder: { pid: process.pid, startTicks: processStartTicks(process.pid) ?? 0 },
      view,
    });
  } catch (err) {
    if (!(err instanceof LabExistsError)) throw err;
    const what = err.existing
      ? ` (${err.existing.scenario}${err.existing.fault ? `, fault ${err.existing.fault}` : ''})`
      : '';
    throw new UserError(
      `lab: a lab is already up with prefix '${prefix}'${what}; run '${downHint(prefix)}' first`,
    );
  }
  try {
    await executePlan(plan, record, options.signal);
    record.setPhase('up');
    return view;
  } catch (err) {
    const report = await teardownLab(record.state, stateDir);
    const cleanup =
      report.problems.length === 0
        ? 'removed what was built'
        : `could not remove everything: ${report.problems.join('; ')}`;
    // Ctrl-C also reaches the command running at that moment: its failure is the interruption.
    if (err instanceof LabInterruptedError || options.signal?.aborted) {
      throw new UserError(`lab: building ${spec.name} was interrupted; ${cleanup}`);
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new UserError(`lab: could not build ${spec.name}: ${reason}; ${cleanup}`);
  }
}

/** Take down the lab with this prefix: exactly the namespaces and processes it recorded. */
export async function labDown(prefix: string = DEFAULT_PREFIX): Promise<LabDownResult> {
  // '' is refused for `lab up`, but a lab an older version built without a prefix can still go.
  if (prefix !== '') validatePrefix(prefix);
  assertRoot();
  const stateDir = labStateDir(prefix);
  if (!existsSync(stateDir)) return { found: false, prefix, scenario: null, namespacesDeleted: [] };
  const state = readLabState(stateDir);
  if (state === null) {
    // Crashed before the first record was written: nothing was created yet.
    rmSync(stateDir, { recursive: true, force: true });
    return { found: true, prefix, scenario: null, namespacesDeleted: [] };
  }
  const report = await teardownLab(state, stateDir);
  if (report.problems.length > 0)
    throw new UserError(`lab: down left things behind: ${report.problems.join('; ')}`);
  return { found: true, prefix, scenario: state.scenario, namespacesDeleted: report.namespacesDeleted };
}

/** The lab recorded under this prefix, as built (null when none is up). */
export function getLab(prefix: string = DEFAULT_PREFIX): LabView | null {
  return readLabState(labStateDir(prefix))?.view ?? null;
}

/** Every lab recorded on this machine (or the one with `prefix`), with what is live now. */
export async function labStatus(filter: { prefix?: string } = {}): Promise<LabStatus[]> {
  assertRoot();
  const dirs = filter.prefix !== undefined ? [labStateDir(filter.prefix)] : listLabStateDirs();
  const out: LabStatus[] = [];
  for (const dir of dirs) {
    const state = readLabState(dir);
    if (state === null) continue;
    const phase: LabStatusPhase =
      state.phase === 'up' ? 'up' : isSameProcessAlive(state.builder) ? 'building' : 'interrupted';
    const all = state.view.namespaces.map((n) => n.name);
    const missingNamespaces = all.filter((ns) => !namespaceExists(ns));
    const present = all.filter((ns) => !missingNamespaces.includes(ns));
    out.push({
      ...state.view,
      phase,
      startedAt: state.startedAt,
      processes: state.processes.map((p) => ({
        name: p.name,
        netns: p.netns,
        pid: p.pid,
        startTicks: p.startTicks,
        alive: isSameProcessAlive(p),
      })),
      liveInterfaces: await readLiveInterfaces(present, state.view.interfaces),
      missingNamespaces,
    });
  }
  return out;
}
