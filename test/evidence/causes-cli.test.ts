// What a user sees of causes, on the dvr-fip lab with its security-group fault: the
// text report's `why:` line under each lost exchange naming the rule by the handle
// `nft -a list ruleset` gives it; the recording of that capture replayed in the TUI
// (tmux) with the cause under the selected row and at the ✗ of the ladder; a capture
// with --no-cause with no cause at all; and a replay of a file without causes (that
// recording, and one tcpdump wrote) saying so once on stderr.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSpec, labDown, labUp, runTraffic, type LabView } from '../../src/lab/index.js';
import { jsonRecords, startCli } from '../support/cli-process.js';
import { CLI, PROJECT_ROOT, runCli } from '../support/run-cli.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { handleOf, nft, tracefsInstances } from './support/cause-run.js';
import { ourBpfPrograms } from './support/bpf-programs.js';
import { waitFor } from '../native/netns-topology.js';
import { NO_CAUSES_NOTE } from '../support/replay-notes.js';

const PREFIX = runPrefix('ccl');
const SOCKET = `hopscope-causes-${process.pid}`;

let lab: LabView;
let dir = '';
let specs: string[] = [];
let before = new Map<string, string>();

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT });
}

async function screenWhere(predicate: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = tmux('capture-pane', '-p', '-t', 'causes');
    if (predicate(text)) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the screen never matched; last screen:\n${text}`);
}

/** The rulesets as they were, and nothing of ours left. */
async function nothingLeft(): Promise<void> {
  for (const [ns, rules] of before) expect(nft(ns, ['-s', 'list', 'ruleset']), ns).toBe(rules);
  for (const ns of before.keys()) expect(nft(ns, ['list', 'tables'])).not.toContain('hopscope');
  expect(tracefsInstances()).toEqual([]);
  await waitFor('no BPF program of ours', () => ourBpfPrograms().length === 0, 10_000);
}

beforeAll(async () => {
  requireRoot();
  lab = await labUp('dvr-fip', { fault: 'sg-drop', prefix: PREFIX });
  dir = mkdtempSync(join(tmpdir(), 'hopscope-causes-cli-'));
  specs = lab.capturePoints.flatMap((p) => ['-i', captureSpec(p, lab, false)]);
  before = new Map(lab.namespaces.map((n) => [n.name, nft(n.name, ['-s', 'list', 'ruleset'])]));
}, 120_000);

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // no TUI was started, or it is gone
  }
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  await labDown(PREFIX).catch(() => undefined);
  await downAllLabs(PREFIX);
}, 120_000);

/** A capture of the lab while its incident traffic runs, until `until` holds of its stdout. */
async function captureDuring(
  args: string[],
  until: (lines: string[]) => boolean,
): Promise<{ stdout: string[]; stderr: string; status: number | null }> {
  const cli = startCli(['capture', ...specs, ...args]);
  try {
    // (the text report says on stderr when every capture is up; --json gives a state record each)
    await waitFor(
      'every capture up',
      () =>
        cli.stderr().includes('hopscope: capturing on') ||
        jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length >=
          lab.capturePoints.length,
      90_000,
    );
    // all of it: the VM's own traffic first teaches the paths its answers take
    await runTraffic(lab, { timeoutMs: 20_000 });
    await waitFor('the verdicts', () => until(cli.lines), 60_000);
    cli.child.kill('SIGINT');
    const status = await cli.exited;
    return { stdout: cli.lines, stderr: cli.stderr(), status };
  } finally {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  }
}

describe('causes as a user sees them', () => {
  const recording = (): string => join(dir, 'incident.pcapng');

  it('the text report: a why: line under each lost exchange, naming the rule by its handle', async () => {
    const run = await captureDuring(
      ['-w', recording()],
      (lines) =>
        lines.some((l) => l.startsWith('LOST') && l.includes('tcp-handshake')) &&
        lines.filter((l) => l.trimStart().startsWith('why:')).length >= 2,
    );
    expect(run.status, run.stderr).toBe(1);
    const ruleset = nft(`${PREFIX}compute`, ['-a', 'list', 'ruleset']);
    const echo = handleOf(ruleset, 'bridge neutron_sg', 'icmp type echo-request drop');
    const ssh = handleOf(ruleset, 'bridge neutron_sg', 'tcp dport 22 drop');
    // each lost exchange: its head line, its stages, where it broke, then why
    const blocks: string[][] = [];
    let open = false;
    for (const line of run.stdout) {
      if (/^[A-Z]/.test(line)) blocks.push([line]);
      else if (open && line.startsWith('    ')) blocks.at(-1)?.push(line);
      open = /^[A-Z]/.test(line) || (open && line.startsWith('    '));
    }
    const lost = blocks.filter((b) => b[0].startsWith('LOST'));
    expect(lost.length).toBeGreaterThanOrEqual(2);
    for (const b of lost) {
      const why = b.at(-1) ?? '';
      const handle = b[0].includes('tcp-handshake') ? ssh : echo;
      expect(why, b.join('\n')).toMatch(
        new RegExp(`^ {4}why: dropped by nftables rule handle ${handle} in bridge neutron_sg forward`),
      );
      expect(b.at(-2)).toMatch(/last seen on .*qvb7aa08012-d0, never reached/);
    }
    // an ok exchange has no why
    for (const b of blocks.filter((x) => x[0].startsWith('OK'))) expect(b.join('\n')).not.toContain('why:');
    await nothingLeft();
  }, 240_000);

  it('its recording in the TUI: the cause under the selected lost row, and at the ✗ of its ladder', async () => {
    const command = `LANG=C.UTF-8 ${process.execPath} ${CLI} replay ${recording()}; echo EXIT=$?; sleep 30`;
    tmux('new-session', '-d', '-s', 'causes', '-x', '160', '-y', '50', command);
    const first = await screenWhere((t) => /LOST/.test(t) && t.includes('why:'));
    const lines = first.split('\n');
    // the first row (problems first, selected) and its cause on the line under it
    const row = lines.findIndex((l) => /LOST {2,}/.test(l));
    expect(lines[row + 1]).toMatch(
      /netfilter-drop at qvb7aa08012-d0: why: dropped by nftables rule handle \d+ in bridge neutron_sg/,
    );
    tmux('send-keys', '-t', 'causes', 'Enter');
    const ladder = await screenWhere((t) => t.includes('missing on:'));
    expect(ladder).toMatch(/stops after qvb7aa0/);
    expect(ladder).toMatch(/✗ netfilter-drop at qvb7aa08012-d0 — why: dropped by nftables rule handle \d+/);
    tmux('send-keys', '-t', 'causes', 'Escape');
    tmux('send-keys', '-t', 'causes', 'q');
    await screenWhere((t) => t.includes('EXIT=1'));
  }, 120_000);

  it('--no-cause: no cause anywhere, and its replay says once that it has none', async () => {
    const plain = join(dir, 'no-cause.pcapng');
    const run = await captureDuring(['--json', '--no-cause', '-w', plain], (lines) =>
      jsonRecords(lines).some(
        (r) => r.type === 'exchange' && r.status === 'lost' && r.kind === 'tcp-handshake',
      ),
    );
    const records = jsonRecords(run.stdout).filter((r) => r.type === 'exchange');
    expect(records.some((r) => r.status === 'lost')).toBe(true);
    for (const r of records) expect(r.cause, JSON.stringify(r)).toBeUndefined();
    const replay = runCli(['replay', plain, '--json']);
    expect(replay.status).toBe(1);
    expect(replay.stderr).toBe(NO_CAUSES_NOTE);
    for (const r of jsonRecords(replay.stdout.split('\n'))) expect(r.cause).toBeUndefined();
    // the recording with causes says nothing of the kind
    expect(runCli(['replay', recording(), '--json']).stderr).toBe('');
    await nothingLeft();
  }, 240_000);

  it('a file tcpdump wrote: no cause, said once when it has problem exchanges', async () => {
    const file = join(dir, 'tcpdump.pcap');
    const tcpdump = spawn(
      'ip',
      ['netns', 'exec', `${PREFIX}outside`, 'tcpdump', '-i', 'eth0', '-w', file, '-U'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    tcpdump.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitFor('tcpdump listening', () => err.includes('listening on'), 20_000);
      // (the SSH attempts after the pings go on long enough for the pings to be judged)
      await runTraffic(lab, { timeoutMs: 20_000 });
    } finally {
      const exited = new Promise((r) => tcpdump.once('exit', r));
      tcpdump.kill('SIGINT');
      await exited;
    }
    const replay = runCli(['replay', file]);
    expect(replay.status, replay.stdout).toBe(1);
    expect(replay.stdout).not.toContain('why:');
    expect(replay.stderr.split('\n').filter((l) => l.includes('no causes'))).toHaveLength(1);
  }, 120_000);
});
