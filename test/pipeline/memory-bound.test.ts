// A replay's memory stays within 150 MB (peak RSS, as GNU time measures it) on a capture
// where most exchanges stay open until their timeout: a million packets of
// scripts/gen-unanswered-pcap.mjs (DNS queries nobody answers, ICMP echo sent twice),
// a hundred thousand exchanges in flight at once. Text report and --json, every verdict
// written. (It took 200 MB before the correlator's rows were made smaller.)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT } from '../support/run-cli.js';

const BUDGET_MB = 150;
const dir = mkdtempSync(join(tmpdir(), 'hopscope-memory-'));
const file = join(dir, 'unanswered-1m.pcap');

beforeAll(() => {
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts/gen-unanswered-pcap.mjs'), file, '1000000']);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Peak RSS (MB) of `hopscope replay FILE ARGS…` and what it printed (read to the end, through a pipe). */
function replayPeak(args: readonly string[]): { peakMB: number; status: number | null; lines: string[] } {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'replay', file, ...args], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { peakMB: kb / 1024, status: r.status, lines: r.stdout.trim().split('\n') };
}

describe('peak memory with a hundred thousand exchanges open', () => {
  it.each([[[]], [['--json']]])(
    'replay %j',
    (args: string[]) => {
      const r = replayPeak(args);
      // every verdict was judged and written: the summary counts them all
      const last = r.lines.at(-1) ?? '';
      expect(last).toMatch(args.length > 0 ? /"type":"summary","exchanges":95264,/ : /^95264 exchanges: /);
      if (args.length > 0) {
        // and every one of them is a whole line of JSON (the output's buffers are written into again)
        const exchanges = r.lines.filter((l) => (JSON.parse(l) as { type: string }).type === 'exchange');
        expect(exchanges).toHaveLength(95264);
      }
      expect(r.status).toBe(1); // unanswered exchanges found
      expect(r.peakMB).toBeLessThanOrEqual(BUDGET_MB);
    },
    120_000,
  );
});
