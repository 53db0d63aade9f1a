// A live run ends once, whatever ends it (--duration, Ctrl-C): its final records come
// once — each interface's final counters, then the summary, last — its exit status is
// the summary's, and its recording is closed complete, holding every packet the run
// says it captured. Captured for real on the loopback of a namespace of this test,
// under a ping inside it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitStatus } from '../../src/cli/errors.js';
import type { SummaryRecord } from '../../src/events/types.js';
import { requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { jsonRecords, startCli } from '../support/cli-process.js';

let ns: string;
let work: string;
let pinging: ChildProcess;

beforeAll(() => {
  requireRoot();
  ns = `${runPrefix('ends')}ns`;
  work = mkdtempSync(join(tmpdir(), 'hopscope-live-ends-'));
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  pinging = spawn('ip', ['netns', 'exec', ns, 'ping', '-q', '-i', '0.1', '127.0.0.1'], { stdio: 'ignore' });
});

afterAll(() => {
  pinging?.kill('SIGKILL');
  if (ns !== undefined && existsSync(`/run/netns/${ns}`)) execFileSync('ip', ['netns', 'del', ns]);
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Packets in a recording tshark reads to its end, with its statistics blocks. */
function recorded(file: string): number {
  const info = execFileSync('capinfos', ['-M', file], { encoding: 'utf8' });
  expect(info).toMatch(/Number of stat entries = [1-9]/);
  const packets = Number(/Number of packets:\s+(\d+)/.exec(info)?.[1]);
  const frames = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
  });
  expect(frames.split('\n').filter(Boolean)).toHaveLength(packets);
  return packets;
}

describe('a live run ends once, with its recording complete', () => {
  for (const end of ['--duration', 'SIGINT'] as const) {
    it(`ended by ${end}`, async () => {
      const file = join(work, `${end}.pcapng`);
      const args = ['capture', '-i', `${ns}/lo`, '-f', 'icmp', '--json', '-w', file];
      const cli = startCli(end === '--duration' ? [...args, '--duration', '2'] : args);
      // running: the verdicts of the first pings are given while it captures
      await cli.waitForLine((l) => l.startsWith('{"type":"exchange"'));
      if (end !== '--duration') cli.child.kill(end);
      const code = await cli.exited;

      const records = jsonRecords(cli.lines);
      const summaries = records.filter((r) => r.type === 'summary');
      expect(summaries, cli.stderr()).toHaveLength(1);
      expect(records.at(-1)).toBe(summaries[0]);
      const finals = records.filter((r) => r.type === 'stats' && r.final === true);
      expect(finals).toHaveLength(1);
      expect(records.indexOf(finals[0])).toBe(records.length - 2);
      expect(code).toBe(exitStatus(summaries[0] as unknown as SummaryRecord));
      expect(recorded(file)).toBe(finals[0].captured);
    }, 60_000);
  }
});
