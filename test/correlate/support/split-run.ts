// One lab scenario captured twice at the same time on the same capture points: once
// all local (every point by its namespace) and once split between ssh hosts and local
// namespaces. Both see the same packets; the verdicts must not depend on where each
// interface was captured from — nor on the ssh hosts' clocks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClockRecord, ExchangeRecord, SummaryRecord } from '../../../src/events/types.js';
import { parseLabel } from '../../../src/framing/index.js';
import { labDown, labUp, runTraffic, type CapturePoint, type LabView } from '../../../src/lab/index.js';
import { jsonRecords, startCli, type CliProcess } from '../../support/cli-process.js';
import { localSpecs, SETTLE_MS } from './scenario-run.js';

/** One of the two captures: what it was given and what it printed. */
export interface CaptureRun {
  specs: string[];
  exchanges: ExchangeRecord[];
  clocks: ClockRecord[];
  summary: SummaryRecord | undefined;
  exit: number | null;
  recording: string;
  stderr: string;
}

export interface SplitRun {
  lab: LabView;
  local: CaptureRun;
  split: CaptureRun;
  /** ssh destinations the split capture used */
  sshHosts: string[];
  /** removes the recordings (kept when a test fails before calling it) */
  removeRecordings(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A capture point as a remote spec: `SSHHOST:IFACE` in the host's namespace, else `SSHHOST:NETNS/IFACE`. */
export function sshSpec(lab: LabView, point: CapturePoint): string {
  const host = lab.hosts.find((h) => h.name === point.host);
  if (host === undefined) throw new Error(`no host ${point.host} in lab ${lab.prefix}`);
  return point.netns === host.netns
    ? `${host.sshName}:${point.iface}`
    : `${host.sshName}:${point.netns}/${point.iface}`;
}

/**
 * Every capture point in the lab's order, over ssh unless `local(point)` says it is
 * captured by its namespace here.
 */
export function splitSpecs(lab: LabView, local: (point: CapturePoint) => boolean): string[] {
  return lab.capturePoints.map((p) => (local(p) ? `${p.netns}/${p.iface}` : sshSpec(lab, p)));
}

/**
 * The capture point an interface label names, whichever way it was captured:
 * `host:netns/iface` with the lab's host name and the real namespace. A local label is
 * `NETNS/IFACE`; a remote one `SSHHOST:IFACE` (the host's own namespace) or
 * `SSHHOST:NETNS/IFACE`.
 */
export function canonicalLabel(lab: LabView, label: string): string {
  const { host, netns, name } = parseLabel(label);
  if (host === null) {
    const ns = lab.namespaces.find((n) => n.name === netns);
    if (ns === undefined)
      throw new Error(`label ${label}: no namespace ${String(netns)} in lab ${lab.prefix}`);
    return `${ns.host}:${ns.name}/${name}`;
  }
  const h = lab.hosts.find((x) => x.sshName === host);
  if (h === undefined) throw new Error(`label ${label}: no ssh host ${host} in lab ${lab.prefix}`);
  return `${h.name}:${netns ?? h.netns}/${name}`;
}

function sshHostsOf(specs: readonly string[]): string[] {
  const hosts = specs.map((s) => parseLabel(s).host).filter((h): h is string => h !== null);
  return [...new Set(hosts)];
}

function start(specs: readonly string[], extra: readonly string[], recording: string): CliProcess {
  return startCli(['capture', ...specs.flatMap((s) => ['-i', s]), ...extra, '--json', '-w', recording]);
}

async function allUp(cli: CliProcess, count: number): Promise<void> {
  await cli.waitForLine(
    () => jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length >= count,
    60_000,
  );
}

function result(cli: CliProcess, specs: string[], exit: number | null, recording: string): CaptureRun {
  const records = jsonRecords(cli.lines);
  return {
    specs,
    exchanges: records.filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[],
    clocks: records.filter((r) => r.type === 'clock') as unknown as ClockRecord[],
    summary: records.find((r) => r.type === 'summary') as unknown as SummaryRecord | undefined,
    exit,
    recording,
    stderr: cli.stderr(),
  };
}

/**
 * Builds the lab, starts the all-local capture and the split one together, waits until
 * both have every interface up, runs the scenario's traffic once, lets the verdicts
 * settle as runScenario does, and stops both with SIGINT.
 */
export async function runSplit(
  scenario: string,
  fault: string,
  prefix: string,
  split: (lab: LabView) => string[],
): Promise<SplitRun> {
  const lab = await labUp(scenario, { fault, prefix });
  const work = mkdtempSync(join(tmpdir(), `hopscope-split-${scenario}-`));
  const clis: CliProcess[] = [];
  try {
    const localAll = localSpecs(lab);
    const splitAll = split(lab);
    const localRecording = join(work, 'local.pcapng');
    const splitRecording = join(work, 'split.pcapng');
    clis.push(start(localAll, [], localRecording));
    clis.push(start(splitAll, ['--ssh-config', lab.sshConfigPath], splitRecording));
    const [local, remote] = clis;
    await Promise.all([allUp(local, localAll.length), allUp(remote, splitAll.length)]);
    await runTraffic(lab, { timeoutMs: 20_000 });
    await sleep(SETTLE_MS);
    for (const cli of clis) cli.child.kill('SIGINT');
    const [localExit, splitExit] = await Promise.all(clis.map((c) => c.exited));
    return {
      lab,
      local: result(local, localAll, localExit, localRecording),
      split: result(remote, splitAll, splitExit, splitRecording),
      sshHosts: sshHostsOf(splitAll),
      removeRecordings: () => rmSync(work, { recursive: true, force: true }),
    };
  } finally {
    for (const cli of clis)
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await labDown(lab.prefix);
  }
}

/**
 * What a verdict says, with every interface as its capture point: status, where it was
 * lost and, for an exchange that lost something, the path of each stage in order.
 */
export function canonicalVerdict(lab: LabView, ex: ExchangeRecord): string {
  const c = (label: string | null): string => (label === null ? '-' : canonicalLabel(lab, label));
  let text = `${ex.kind} ${ex.key} ${ex.status}${ex.detail !== undefined ? ` (${ex.detail})` : ''}`;
  if (ex.lost !== undefined) {
    text += ` lost ${ex.lost.stage} last=${c(ex.lost.lastSeen)} missing=${ex.lost.missingOn.map(c).join(',')}`;
    text += ` | ${ex.stages.map((s) => `${s.name}:${s.seen.map((x) => c(x.iface)).join('>')}`).join(' ')}`;
  }
  return text;
}

/** Verdicts by exchange (kind and key), each exchange's verdicts sorted (a key may recur). */
export function verdictsByExchange(lab: LabView, run: CaptureRun): Map<string, string[]> {
  const byExchange = new Map<string, string[]>();
  for (const ex of run.exchanges) {
    const id = `${ex.kind} ${ex.key}`;
    const list = byExchange.get(id) ?? [];
    list.push(canonicalVerdict(lab, ex));
    byExchange.set(id, list);
  }
  for (const list of byExchange.values()) list.sort();
  return new Map([...byExchange].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
