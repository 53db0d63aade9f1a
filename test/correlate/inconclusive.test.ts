// A verdict never blames the network for what the capture lost (docs/verdicts.md "Inconclusive"): the remote
// tcpdump on the pod's interface is killed while pings run — the replies it could not
// see make those exchanges inconclusive, naming the capture, and none lost.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { ExchangeRecord, SummaryRecord } from '../../src/events/types.js';
import { labUp, type LabView } from '../../src/lab/index.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { jsonRecords, startCli } from '../support/cli-process.js';
import { runCli } from '../support/run-cli.js';

const PREFIX = runPrefix('vin');
const POD1 = 'cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d';
let lab: LabView;

beforeAll(async () => {
  requireRoot();
  lab = await labUp('sdn-vxlan', { prefix: PREFIX });
}, 180_000);
afterAll(async () => downAllLabs(PREFIX), 120_000);

/** tcpdump processes inside a namespace (the remote capture runs there). */
function tcpdumpsIn(netns: string): number[] {
  const pids = execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'tcpdump';
    } catch {
      return false;
    }
  });
}

describe('capture health', () => {
  it('a remote capture killed mid-exchange makes the exchanges it could not see inconclusive, never lost — live and replayed', async () => {
    const node1 = lab.hosts.find((h) => h.name === 'node1')?.sshName as string;
    const node2 = lab.hosts.find((h) => h.name === 'node2')?.sshName as string;
    const pod1 = `${lab.prefix}${POD1}`;
    const work = mkdtempSync(join(tmpdir(), 'hopscope-gap-'));
    onTestFinished(() => rmSync(work, { recursive: true, force: true }));
    const recording = join(work, 'gap.pcapng');
    const origin = `${node1}:${pod1}/eth0`;
    const cli = startCli([
      'capture',
      '--ssh-config',
      lab.sshConfigPath,
      '-i',
      origin,
      '-i',
      `${node1}:vxlan_sys_4789`,
      '-i',
      `${node2}:vxlan_sys_4789`,
      '-f',
      'icmp',
      '--json',
      '-w',
      recording,
    ]);
    try {
      await cli.waitForLine(
        () => jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length >= 3,
        60_000,
      );
      // Pings 50 ms apart, from before the capture at their origin is killed until well
      // after it is back: some are in flight while it is down.
      const pinger = spawn('ip', ['netns', 'exec', pod1, 'ping', '-i', '0.05', '-W', '1', '10.128.2.5'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let pingOut = '';
      pinger.stdout.setEncoding('utf8');
      pinger.stdout.on('data', (d: string) => (pingOut += d));
      const pingDone = new Promise<void>((resolve) => pinger.once('close', () => resolve()));
      try {
        const judged = (): ExchangeRecord[] =>
          jsonRecords(cli.lines).filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[];
        // some judged ok before the gap
        await cli.waitForLine(() => judged().filter((e) => e.status === 'ok').length >= 5, 30_000);
        const victims = tcpdumpsIn(pod1);
        expect(victims).toHaveLength(1);
        process.kill(victims[0], 'SIGKILL');
        await cli.waitForLine((l) => l.includes('"state":"retrying"'), 10_000);
        // back up (a second "up" for the origin), then some judged ok after the gap
        await cli.waitForLine(
          () =>
            jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.iface === origin && r.state === 'up')
              .length >= 2,
          60_000,
        );
        const okBefore = judged().length;
        await cli.waitForLine(
          () =>
            judged()
              .slice(okBefore)
              .filter((e) => e.status === 'ok').length >= 5,
          60_000,
        );
      } finally {
        pinger.kill('SIGINT');
        await pingDone;
      }
      // every ping sent is judged before the capture stops (none left open at the end)
      const sent = Number(/(\d+) packets transmitted/.exec(pingOut)?.[1] ?? NaN);
      expect(sent).toBeGreaterThan(0);
      await cli.waitForLine(
        () => jsonRecords(cli.lines).filter((r) => r.type === 'exchange').length >= sent,
        30_000,
      );
      cli.child.kill('SIGINT');
      await cli.exited;
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
    const records = jsonRecords(cli.lines);
    const exchanges = records.filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[];
    const summary = records.find((r) => r.type === 'summary') as unknown as SummaryRecord;
    expect(summary.lost).toBe(0);
    expect(summary.unanswered).toBe(0);
    const inconclusive = exchanges.filter((e) => e.status === 'inconclusive');
    expect(inconclusive.length).toBeGreaterThan(0);
    for (const e of inconclusive) expect(e.detail).toContain(`capture on ${origin} was gone`);
    // before and after the gap: ok
    const seq = (e: ExchangeRecord): number => Number(/seq=(\d+)/.exec(e.key)?.[1]);
    const gap = inconclusive.map(seq);
    const ok = exchanges.filter((e) => e.status === 'ok').map(seq);
    expect(ok.some((s) => s < Math.min(...gap))).toBe(true);
    expect(ok.some((s) => s > Math.max(...gap))).toBe(true);

    // The recording notes the gap: replayed, the same verdicts, none of them lost.
    const replay = runCli(['replay', recording, '--json']);
    const replayed = replay.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const replaySummary = replayed.find((r) => r.type === 'summary') as unknown as SummaryRecord;
    expect(replaySummary).toEqual(summary);
    const statusOf = (list: ExchangeRecord[]): string[] => list.map((e) => `${e.key} ${e.status}`).sort();
    expect(statusOf(replayed.filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[])).toEqual(
      statusOf(exchanges),
    );
  }, 120_000);
});
