// Runs a plan step by step, recording every namespace (before creating it) and
// every process (as soon as it has a pid) so a failure or crash at any point
// leaves a record `lab down` can act on.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabPlan, PlanStep, ReadinessProbe } from './plan.js';
import { startDetached, type RecordedProcess } from './processes.js';
import { firstLine, runChecked, runCommand } from './run-command.js';

export interface PlanRecorder {
  addNamespace(name: string): void;
  forgetNamespace(name: string): void;
  addProcess(process: RecordedProcess): void;
}

/** A step failed: names the step, and what the command or daemon said. */
export class LabStepError extends Error {
  constructor(step: PlanStep, reason: string) {
    super(`${step.kind === 'netns' ? `namespace ${step.netns}` : step.what}: ${reason}`);
    this.name = 'LabStepError';
  }
}

const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 25;

/** `lab up` was told to stop (Ctrl-C): not a failure of any step. */
export class LabInterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'LabInterruptedError';
  }
}

export async function executePlan(
  plan: LabPlan,
  recorder: PlanRecorder,
  signal?: AbortSignal,
): Promise<void> {
  for (const step of plan.steps) {
    if (signal?.aborted) throw new LabInterruptedError();
    try {
      await executeStep(step, recorder, signal);
    } catch (err) {
      if (err instanceof LabStepError || err instanceof LabInterruptedError) throw err;
      throw new LabStepError(step, err instanceof Error ? err.message : String(err));
    }
  }
}

export function namespaceExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

async function executeStep(
  step: PlanStep,
  recorder: PlanRecorder,
  signal: AbortSignal | undefined,
): Promise<void> {
  switch (step.kind) {
    case 'netns':
      // Never adopt a namespace someone else made: `lab down` would delete it.
      if (namespaceExists(step.netns))
        throw new LabStepError(
          step,
          'already exists and is not this lab’s (another lab with an overlapping prefix?)',
        );
      recorder.addNamespace(step.netns);
      try {
        await runChecked(['ip', 'netns', 'add', step.netns]);
      } catch (err) {
        recorder.forgetNamespace(step.netns);
        throw err;
      }
      return;
    case 'command':
      await runChecked(step.argv);
      return;
    case 'file':
      writeFileSync(step.path, step.content, { mode: step.mode });
      return;
    case 'directory':
      mkdirSync(step.path, { recursive: true, mode: step.mode });
      return;
    case 'wait':
      await waitUntilReady(step, new Promise<string>(() => undefined), signal);
      return;
    case 'daemon': {
      const started = startDetached(step.argv, step.log);
      recorder.addProcess({
        name: step.name,
        netns: step.netns,
        pid: started.pid,
        startTicks: started.startTicks,
        argv: [...step.argv],
        log: step.log,
      });
      await waitUntilReady(step, started.exited, signal);
      return;
    }
  }
}

/** Polls the step's probes in turn; `exited` resolves if the process they wait for dies. */
async function waitUntilReady(
  step: Extract<PlanStep, { kind: 'daemon' | 'wait' }>,
  exited: Promise<string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  let exitReason: string | null = null;
  void exited.then((reason) => {
    exitReason = reason;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const probe of step.ready) {
    while (!(await isReady(probe))) {
      if (signal?.aborted) throw new LabInterruptedError();
      const log = step.kind === 'daemon' ? logTail(step.log) : '';
      if (exitReason !== null) throw new LabStepError(step, `${exitReason}${log}`);
      if (Date.now() > deadline)
        throw new LabStepError(
          step,
          `not ready after ${READY_TIMEOUT_MS / 1000}s (${describeProbe(probe)})${log}`,
        );
      await sleep(READY_POLL_MS);
    }
  }
}

async function isReady(probe: ReadinessProbe): Promise<boolean> {
  switch (probe.kind) {
    case 'listening': {
      const protocol = probe.protocol === 'tcp' ? '-t' : '-u';
      const result = await runCommand([
        'ip',
        'netns',
        'exec',
        probe.netns,
        'ss',
        '-H',
        '-l',
        '-n',
        protocol,
        'sport',
        '=',
        `:${probe.port}`,
      ]);
      return result.exitCode === 0 && result.stdout.trim() !== '';
    }
    case 'links':
      for (const name of probe.names) {
        const result = await runCommand(['ip', '-n', probe.netns, 'link', 'show', 'dev', name]);
        if (result.exitCode !== 0) return false;
      }
      return true;
    case 'operational': {
      const result = await runCommand(['ip', '-j', '-n', probe.netns, 'link', 'show']);
      if (result.exitCode !== 0) return false;
      const links = JSON.parse(result.stdout) as { ifname: string; operstate?: string }[];
      return probe.names.every((name) => {
        const state = links.find((l) => l.ifname === name)?.operstate;
        return state === 'UP' || state === 'UNKNOWN';
      });
    }
    case 'conntrack': {
      const result = await runCommand([
        ...['ip', 'netns', 'exec', probe.netns, 'conntrack', '-L'],
        ...['-p', probe.protocol, '--orig-src', probe.src, '--orig-dst', probe.dst],
      ]);
      return result.exitCode === 0 && result.stdout.trim() !== '';
    }
  }
}

function describeProbe(probe: ReadinessProbe): string {
  switch (probe.kind) {
    case 'listening':
      return `nothing listening on ${probe.protocol} port ${probe.port}`;
    case 'links':
      return `no ${probe.names.join(', ')} yet`;
    case 'operational':
      return `not all of ${probe.names.join(', ')} up in ${probe.netns}`;
    case 'conntrack':
      return `no conntrack entry ${probe.protocol} ${probe.src} > ${probe.dst} in ${probe.netns}`;
  }
}

function logTail(log: string): string {
  try {
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const last = firstLine(lines[lines.length - 1] ?? '');
    return last ? `; its log says: ${last}` : '';
  } catch {
    return '';
  }
}
