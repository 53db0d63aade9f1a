// Test runs that build network namespaces (labs, the native tests' topologies) name
// them with a prefix of their own and take them down in afterAll. A run killed by
// SIGKILL never gets there: its namespaces, the lab daemons inside them and the labs'
// state directories stay. So each run records its prefix with the process that owns
// it (pid and start time: pids are reused) in TEST_RUNS_DIR, and the next test run
// (vitest's globalSetup) takes down what every dead owner's prefix names, and only that.
// The run's own records go when it ends (globalSetup's teardown): by then its test
// processes are gone, and what their afterAll left is taken down the same way.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, LAB_STATE_ROOT } from '../../src/lab/index.js';
import { isSameProcessAlive, processStartTicks } from '../../src/lab/processes.js';
import { deleteNamespaces } from '../../src/lab/teardown.js';

/** One file per prefix, `<prefix>.json`; tmpfs: a reboot removes it with the namespaces. */
export const TEST_RUNS_DIR = '/run/hopscope-test-runs';

/**
 * What a prefix must look like to be recorded: long enough that it cannot name
 * namespaces of anything else (`t4fz91a3c-dnat-`, `nt123456ab12c`), and a file name.
 */
const PREFIX_SHAPE = /^[a-z0-9][a-z0-9-]{7,}$/;

export interface TestRunRecord {
  readonly prefix: string;
  readonly pid: number;
  /** /proc/<pid>/stat field 22 when the run was recorded */
  readonly startTicks: number;
}

/**
 * Records that process `pid` (this one unless told) builds namespaces and labs named
 * `prefix`… A run that is not root builds none and records nothing.
 */
export function recordTestRun(prefix: string, dir = TEST_RUNS_DIR, pid = process.pid): void {
  if (!PREFIX_SHAPE.test(prefix))
    throw new Error(`test runs: prefix ${JSON.stringify(prefix)} is too short or not a file name`);
  if (process.getuid?.() !== 0) return;
  const startTicks = processStartTicks(pid);
  if (startTicks === null) throw new Error(`test runs: no process ${pid} to record`);
  const record: TestRunRecord = { prefix, pid, startTicks };
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, `${prefix}.json`);
  // Written whole or not at all: a cleanup reading it meanwhile never sees half a record.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record)}\n`, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}

function readRecord(file: string): TestRunRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const r = parsed as Partial<TestRunRecord> | null;
  if (r === null || typeof r !== 'object') return null;
  if (typeof r.prefix !== 'string' || !PREFIX_SHAPE.test(r.prefix)) return null;
  if (!Number.isInteger(r.pid) || !Number.isInteger(r.startTicks)) return null;
  return { prefix: r.prefix, pid: r.pid as number, startTicks: r.startTicks as number };
}

function namesStartingWith(dir: string, prefix: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

export interface DeadRunCleanup {
  /** each dead run's prefix, with the labs and namespaces taken down for it */
  readonly cleaned: ReadonlyArray<{ prefix: string; labs: string[]; namespaces: string[] }>;
  /** what could not be removed (its record stays, for the next run to try again), one line each */
  readonly problems: readonly string[];
}

/**
 * For every recorded run whose process is gone (or whose pid now belongs to another
 * process): its labs taken down as `hopscope lab down --prefix` does (their daemons,
 * then their namespaces), then any namespace left that its prefix names, with what
 * runs inside; then its record removed. Records of live runs are left alone.
 */
export async function cleanUpDeadTestRuns(dir = TEST_RUNS_DIR): Promise<DeadRunCleanup> {
  const cleaned: { prefix: string; labs: string[]; namespaces: string[] }[] = [];
  const problems: string[] = [];
  const records = namesStartingWith(dir, '').filter((n) => n.endsWith('.json'));
  for (const name of records.sort()) {
    const file = join(dir, name);
    const record = readRecord(file);
    if (record === null) {
      problems.push(`${file}: not a test run record (left alone)`);
      continue;
    }
    if (isSameProcessAlive(record)) continue;
    const labs = namesStartingWith(LAB_STATE_ROOT, record.prefix).sort();
    const namespaces: string[] = [];
    const runProblems: string[] = [];
    for (const lab of labs) {
      try {
        namespaces.push(...(await labDown(lab)).namespacesDeleted);
      } catch (err) {
        runProblems.push(`lab ${lab}: ${(err as Error).message}`);
      }
    }
    const report = await deleteNamespaces(namesStartingWith('/run/netns', record.prefix).sort());
    namespaces.push(...report.namespacesDeleted);
    runProblems.push(...report.problems);
    cleaned.push({ prefix: record.prefix, labs, namespaces });
    // (force: a cleanup running alongside may have removed it first)
    if (runProblems.length === 0) rmSync(file, { force: true });
    else problems.push(...runProblems.map((p) => `test run ${record.prefix} (pid ${record.pid}): ${p}`));
  }
  return { cleaned, problems };
}
