// One lab scenario with one fault, captured live by the real CLI on every capture point
// while the scenario's traffic runs, then the recording of that run replayed: the
// verdicts of both, for tests to compare with each other and with what the fault does.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, expect } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExchangeRecord, SummaryRecord } from '../../../src/events/types.js';
import { parseLabel } from '../../../src/framing/index.js';
import { labDown, labUp, runTraffic, type LabView } from '../../../src/lab/index.js';
import { jsonRecords, startCli } from '../../support/cli-process.js';
import { runCli } from '../../support/run-cli.js';
import { shiftRecording, smallestHopDelay, verdictFields, withoutHost } from './clock-shift.js';

export interface ScenarioRun {
  lab: LabView;
  live: ExchangeRecord[];
  replayed: ExchangeRecord[];
  liveSummary: SummaryRecord | undefined;
  replaySummary: SummaryRecord | undefined;
  liveExit: number | null;
  replayExit: number | null;
  recording: string;
}

/** Longest a verdict can wait: the largest timeout (DHCP retries, no RTT known yet) and the live hold. */
const SETTLE_MS = 2500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each run's folder (its recording and the copies made of it), removed once the test file is done. */
const workDirs: string[] = [];
afterAll(() => {
  for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Labels of the lab's capture points as the capture command names them (local, by namespace). */
export function localSpecs(lab: LabView): string[] {
  return lab.capturePoints.map((p) => `${p.netns}/${p.iface}`);
}

export async function runScenario(
  scenario: string,
  fault: string | undefined,
  prefix: string,
  options: { specs?: (lab: LabView) => string[]; extraArgs?: (lab: LabView) => string[] } = {},
): Promise<ScenarioRun> {
  const lab = await labUp(scenario, { fault, prefix });
  const work = mkdtempSync(join(tmpdir(), `hopscope-${scenario}-`));
  workDirs.push(work);
  const recording = join(work, 'run.pcapng');
  const specs = (options.specs ?? localSpecs)(lab);
  const cli = startCli([
    'capture',
    ...specs.flatMap((s) => ['-i', s]),
    ...(options.extraArgs?.(lab) ?? []),
    '--json',
    '-w',
    recording,
  ]);
  try {
    await cli.waitForLine(
      () =>
        jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length >= specs.length,
      60_000,
    );
    await runTraffic(lab, { timeoutMs: 20_000 });
    await sleep(SETTLE_MS);
    cli.child.kill('SIGINT');
    const liveExit = await cli.exited;
    const liveRecords = jsonRecords(cli.lines);
    const replay = runCli(['replay', recording, '--json']);
    const replayRecords = replay.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return {
      lab,
      live: liveRecords.filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[],
      replayed: replayRecords.filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[],
      liveSummary: liveRecords.find((r) => r.type === 'summary') as unknown as SummaryRecord | undefined,
      replaySummary: replayRecords.find((r) => r.type === 'summary') as unknown as SummaryRecord | undefined,
      liveExit,
      replayExit: replay.status,
      recording,
    };
  } finally {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await labDown(lab.prefix);
  }
}

/** What a verdict says, without times: for comparing live with replay. */
export function verdictOf(ex: ExchangeRecord): string {
  const lost = ex.lost
    ? ` ${ex.lost.stage} last=${ex.lost.lastSeen} missing=${ex.lost.missingOn.join(',')}`
    : '';
  const paths = ex.stages.map((s) => `${s.name}:${s.seen.map((x) => x.iface).join('>')}`).join(' ');
  return `${ex.kind} ${ex.key} ${ex.status}${lost}${ex.detail ? ` (${ex.detail})` : ''} | ${paths}`;
}

/** Short label: the interface name without host and namespace. */
export function short(label: string | null | undefined): string {
  if (label === null || label === undefined) return '';
  return label.slice(Math.max(label.lastIndexOf('/'), label.lastIndexOf(':')) + 1);
}

/** Verdicts of one kind, in the order judged. */
export function ofKind(run: readonly ExchangeRecord[], kind: string): ExchangeRecord[] {
  return run.filter((e) => e.kind === kind);
}

/**
 * The run's recording as if each lab host had a clock of its own (clock-shift.ts): every
 * interface labelled with its host, each host shifted by up to ±0.5 s, stamps jittered
 * and cut to µs — the same verdicts as the recording replayed as it is, and each host's
 * estimated offset within its reported uncertainty of the shift it got. The first seed's
 * copy is replayed on one thread too (paced, too fast to wait): that path hands the
 * correlator what the decoder thread does (interfaces with their addresses, packets).
 */
export async function expectSameVerdictsOnHostClocks(
  run: ScenarioRun,
  seeds: readonly number[] = [11, 12, 13],
): Promise<void> {
  const hostOf = new Map(run.lab.capturePoints.map((p) => [`${p.netns}/${p.iface}`, p.host]));
  // (without hosts on both sides: a capture over ssh labels its interfaces with theirs)
  const want = run.replayed.map((e) => verdictFields(e, withoutHost)).sort();
  const jitterNs = Math.floor(smallestHopDelay(run.replayed) / 2);
  for (const seed of seeds) {
    const shifted = run.recording.replace(/\.pcapng$/, `-hosts-${seed}.pcapng`);
    const { offsets } = await shiftRecording(run.recording, shifted, {
      seed,
      jitterNs,
      // local captures are labelled by namespace; remote ones carry their host already
      relabel: (label) =>
        parseLabel(label).host !== null ? label : `${hostOf.get(label) ?? 'unknown'}:${label}`,
    });
    const replay = runCli(['replay', shifted, '--json']);
    const records = replay.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            host?: string;
            reference?: string;
            offsetMs?: number;
            uncertaintyMs?: number;
          },
      );
    const got = (records.filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[])
      .map((e) => verdictFields(e, withoutHost))
      .sort();
    expect(got, `seed ${seed}: ${shifted}`).toEqual(want);
    if (seed === seeds[0]) {
      const oneThread = runCli(['replay', shifted, '--json', '--speed', '1e12']);
      expect(oneThread.stdout, `seed ${seed} on one thread: ${shifted}`).toBe(replay.stdout);
    }
    const clocks = new Map<string, (typeof records)[number]>();
    for (const r of records) if (r.type === 'clock' && r.host !== undefined) clocks.set(r.host, r);
    for (const c of clocks.values()) {
      const truth = ((offsets.get(c.host ?? null) ?? 0) - (offsets.get(c.reference ?? null) ?? 0)) / 1e6;
      expect(
        Math.abs((c.offsetMs ?? 0) - truth),
        `seed ${seed}: ${JSON.stringify(c)}, truth ${truth}`,
      ).toBeLessThanOrEqual((c.uncertaintyMs ?? 0) + 1e-6);
    }
  }
}

/** For other live runs that wait for verdicts the same way. */
export { SETTLE_MS };
