// Removes exactly what a lab recorded: its processes, then its namespaces (with
// anything still running inside them, which can only have been started there by
// the lab or by someone using the lab), then its state directory.
import { rmSync } from 'node:fs';
import { namespaceExists } from './executor.js';
import { signal, stopProcess, type RecordedProcess } from './processes.js';
import { runCommand } from './run-command.js';

export interface TeardownInput {
  namespaces: readonly string[];
  processes: readonly RecordedProcess[];
}

export interface TeardownReport {
  namespacesDeleted: string[];
  /** things that could not be removed, one line each */
  problems: string[];
}

export async function teardownLab(input: TeardownInput, stateDir: string): Promise<TeardownReport> {
  // Daemons first: a namespace with processes in it outlives `ip netns del`.
  await Promise.all([...input.processes].reverse().map((p) => stopProcess(p)));
  const report = await deleteNamespaces(input.namespaces);
  if (report.problems.length === 0) rmSync(stateDir, { recursive: true, force: true });
  return report;
}

/** Deletes these namespaces, the last first, with whatever still runs inside them. */
export async function deleteNamespaces(namespaces: readonly string[]): Promise<TeardownReport> {
  const report: TeardownReport = { namespacesDeleted: [], problems: [] };
  for (const ns of [...namespaces].reverse()) {
    if (!namespaceExists(ns)) continue;
    await killEverythingIn(ns);
    const result = await runCommand(['ip', 'netns', 'del', ns]);
    if (result.exitCode === 0 || !namespaceExists(ns)) report.namespacesDeleted.push(ns);
    else report.problems.push(`could not delete namespace ${ns}: ${result.stderr.trim()}`);
  }
  return report;
}

async function pidsIn(ns: string): Promise<number[]> {
  const result = await runCommand(['ip', 'netns', 'pids', ns]);
  if (result.exitCode !== 0) return [];
  return result.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
}

async function killEverythingIn(ns: string): Promise<void> {
  let pids = await pidsIn(ns);
  if (pids.length === 0) return;
  for (const pid of pids) signal(pid, 'SIGTERM');
  for (let i = 0; i < 40 && pids.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    pids = await pidsIn(ns);
  }
  for (const pid of pids) signal(pid, 'SIGKILL');
}
