// One lab scenario captured twice at the same time on the same capture points: once
// all local (every point by its namespace) and once split between ssh hosts and local
// namespaces. Both see the same packets; the verdicts must not depend on where each
// interface was captured from — nor on the ssh hosts' clocks.
//
// Both see the same packets only while both are capturing on every interface: from the
// moment each has reported every interface up until they are told to stop. The lab sends
// packets of its own outside the scenario's traffic (a bridge coming up reports its
// multicast group, the VXLAN tunnel carries it, and five seconds later the kernel probes
// the tunnel peer's ARP entry); the all-local capture is up within a second or two, the
// ssh one after many sessions, so such a packet may be seen by one capture only. The
// verdicts are compared on that common window (comparableVerdicts).
import { execFileSync } from 'node:child_process';
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

/** Wall-clock nanoseconds (the clock the lab's packets are stamped with: one machine). */
export interface CaptureWindow {
  /** both captures had reported every interface up */
  fromNs: bigint;
  /** neither had been told to stop yet */
  toNs: bigint;
}

export interface SplitRun {
  lab: LabView;
  /** when both captures were capturing on every interface */
  window: CaptureWindow;
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

/** How many interfaces are up now: each one's latest `state` record says `up`. */
function interfacesUp(cli: CliProcess): number {
  const latest = new Map<unknown, unknown>();
  for (const r of jsonRecords(cli.lines))
    if (r.type === 'state' && 'iface' in r) latest.set(r.iface, r.state);
  let up = 0;
  for (const state of latest.values()) if (state === 'up') up++;
  return up;
}

async function allUp(cli: CliProcess, count: number): Promise<void> {
  await cli.waitForLine(() => interfacesUp(cli) >= count, 60_000);
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

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
    // Read after both said so: every packet stamped from here on was sent while both captured.
    const fromNs = nowNs();
    await runTraffic(lab, { timeoutMs: 20_000 });
    await sleep(SETTLE_MS);
    // Every interface still up in both: no gap inside the window.
    for (const [cli, count] of [
      [local, localAll.length],
      [remote, splitAll.length],
    ] as const)
      if (interfacesUp(cli) < count)
        throw new Error(`an interface left \`up\` during the run:\n${cli.lines.join('\n')}`);
    const toNs = nowNs();
    for (const cli of clis) cli.child.kill('SIGINT');
    const [localExit, splitExit] = await Promise.all(clis.map((c) => c.exited));
    return {
      lab,
      window: { fromNs, toNs },
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

/** A `ts` field (decimal seconds, nine fraction digits) in nanoseconds. */
function tsNs(ts: string): bigint {
  const [sec, frac = ''] = ts.split('.');
  return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

/** Whether any sighting of the exchange was stamped outside the window. */
function outsideWindow(ex: ExchangeRecord, window: CaptureWindow): boolean {
  for (const stage of ex.stages)
    for (const s of stage.seen) {
      const ns = tsNs(s.ts);
      if (ns < window.fromNs || ns > window.toNs) return true;
    }
  return false;
}

/**
 * Packets a capture's recording holds, stamped inside the window, by capture point
 * (canonicalLabel), as tshark reads the file.
 */
export function packetsInWindow(run: SplitRun, capture: CaptureRun): Map<string, number> {
  const out = execFileSync(
    'tshark',
    ['-r', capture.recording, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.interface_name'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 },
  );
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [ts, label] = line.split('\t');
    if (label === undefined) continue;
    const ns = tsNs(ts);
    if (ns < run.window.fromNs || ns > run.window.toNs) continue;
    const point = canonicalLabel(run.lab, label);
    counts.set(point, (counts.get(point) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface ComparableVerdicts {
  local: Map<string, string[]>;
  split: Map<string, string[]>;
  /** exchanges (kind and key) left out: one of the captures saw some of them outside the window */
  outside: string[];
}

/**
 * The verdicts of both captures by exchange (verdictsByExchange), without the exchanges
 * either capture saw any part of outside the window both captured in: what only one of
 * them could have seen. An exchange is left out with every verdict of its kind and key,
 * in both, so a key that recurs is never compared half.
 */
export function comparableVerdicts(run: SplitRun): ComparableVerdicts {
  const outside = new Set<string>();
  for (const capture of [run.local, run.split])
    for (const ex of capture.exchanges)
      if (outsideWindow(ex, run.window)) outside.add(`${ex.kind} ${ex.key}`);
  const within = (capture: CaptureRun): CaptureRun => ({
    ...capture,
    exchanges: capture.exchanges.filter((ex) => !outside.has(`${ex.kind} ${ex.key}`)),
  });
  return {
    local: verdictsByExchange(run.lab, within(run.local)),
    split: verdictsByExchange(run.lab, within(run.split)),
    outside: [...outside].sort(),
  };
}

/** The summary record the exchanges add up to (its fields are the statuses counted). */
export function summaryOf(exchanges: readonly ExchangeRecord[]): SummaryRecord {
  const summary: SummaryRecord = {
    type: 'summary',
    exchanges: exchanges.length,
    ok: 0,
    lost: 0,
    unanswered: 0,
    error: 0,
    inconclusive: 0,
  };
  for (const ex of exchanges) summary[ex.status]++;
  return summary;
}
