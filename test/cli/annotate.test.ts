// Verdicts as Wireshark packet comments: a live recording on a lab's fault, `replay
// --annotate` of a shipped recording and of tcpdump's files. tshark reads the comments
// back, and they are on exactly the packets the --json exchange records' sightings
// name for non-ok exchanges — nothing on an ok exchange's packets. A pass that runs out
// of disk (a real tmpfs) leaves the recording as it was.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord, InterfaceStats } from '../../src/events/types.js';
import { readCaptureFile } from '../../src/framing/index.js';
import { labUp, runTraffic, type LabView } from '../../src/lab/index.js';
import { AnnotationTable } from '../../src/sinks/annotations.js';
import { AnnotateError, annotateRecording } from '../../src/sinks/pcapng-annotate.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { stopTcpdump, tcpdumpToFile } from '../lab/support/tcpdump.js';
import { exchangesOf, jsonRecords, startCli } from '../support/cli-process.js';
import { PROJECT_ROOT, runCli } from '../support/run-cli.js';
import { tsharkRows } from '../support/tshark-fields.js';

const SHIPPED = join(PROJECT_ROOT, 'captures', 'dvr-fip-sg-drop.pcapng');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hopscope-annotate-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Commented {
  iface: string;
  ns: bigint;
  comment: string;
}

function tshark(args: readonly string[]): string {
  return execFileSync('tshark', args, {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** Packets tshark shows with a comment (with `filter`, only those it keeps). */
function commentedPackets(file: string, filter = 'frame.comment'): Commented[] {
  return tsharkRows(file, ['frame.interface_name', 'frame.time_epoch', 'frame.comment'], filter).map(
    ([iface, epoch, comment]) => ({ iface, ns: toNs(epoch), comment }),
  );
}

function toNs(ts: string): bigint {
  const [sec, frac = ''] = ts.split('.');
  return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

/**
 * Every sighting of a non-ok exchange is one commented packet on its interface, saying
 * the exchange's kind, key and status, stamped within `toleranceNs(iface)` of the
 * sighting (0 on the reference host's clock); and every commented packet is one of them.
 */
function expectCommentsOnSightings(
  records: readonly ExchangeRecord[],
  commented: readonly Commented[],
  toleranceNs: (iface: string) => bigint = () => 0n,
): void {
  const left = [...commented];
  let sightings = 0;
  for (const ex of records) {
    if (ex.status === 'ok') continue;
    const words = `hopscope: ${ex.kind} ${ex.key} ${ex.status.toUpperCase()} `;
    for (const stage of ex.stages)
      for (const s of stage.seen) {
        sightings++;
        const ts = toNs(s.ts);
        const tolerance = toleranceNs(s.iface);
        const at = left.findIndex(
          (c) =>
            c.iface === s.iface &&
            c.comment.includes(words) &&
            (c.ns > ts ? c.ns - ts : ts - c.ns) <= tolerance,
        );
        expect(at, `${words} on ${s.iface} at ${s.ts}: no such commented packet`).toBeGreaterThanOrEqual(0);
        left.splice(at, 1);
      }
  }
  expect(sightings).toBeGreaterThan(0);
  expect(left, 'commented packets that are no non-ok sighting').toEqual([]);
}

/** The packets of ok exchanges carry no comment: none of their sightings is commented. */
function expectOkUncommented(records: readonly ExchangeRecord[], commented: readonly Commented[]): void {
  const stamps = new Set(commented.map((c) => `${c.iface} ${c.ns}`));
  let ok = 0;
  for (const ex of records) {
    if (ex.status !== 'ok') continue;
    for (const stage of ex.stages)
      for (const s of stage.seen) {
        ok++;
        expect(stamps.has(`${s.iface} ${toNs(s.ts)}`), `ok ${ex.key} on ${s.iface}`).toBe(false);
      }
  }
  expect(ok).toBeGreaterThan(0);
}

async function statsBlocks(
  file: string,
): Promise<{ stats: InterfaceStats[]; sections: string[][]; packets: number }> {
  const stats: InterfaceStats[] = [];
  const sections: string[][] = [];
  let packets = 0;
  await readCaptureFile(file, {
    onInterface: () => undefined,
    onSection: (s) => sections.push(s.comments),
    onStats: (s) => stats.push(s),
    onPacket: () => {
      packets++;
    },
  });
  return { stats, sections, packets };
}

describe('replay --annotate', () => {
  it('writes every packet of the shipped dvr-fip recording, with the verdict on the packets of the lost exchanges', async () => {
    const out = join(work, 'dvr-annotated.pcapng');
    const r = runCli(['replay', SHIPPED, '--json', '--annotate', out]);
    expect(r.status, r.stderr).toBe(1);
    const records = exchangesOf(r.stdout.split('\n'));
    expect(r.stderr).toMatch(
      /hopscope: wrote .*dvr-annotated\.pcapng: 32 packets of 4 non-ok exchanges annotated/,
    );
    expect(statSync(out).mode & 0o777).toBe(0o600);

    // Wireshark's filter finds them, with the verdict in words
    const lost = commentedPackets(out, 'frame.comment contains "LOST"');
    expect(lost.map((c) => c.comment)).toContain(
      'hopscope: icmp-echo 203.0.113.1>203.0.113.20 id=16578 seq=3 LOST request, last seen on compute:qvb7aa08012-d0, missing on compute:tap7aa08012-d0, compute:instance-0000002a/eth0',
    );
    const all = commentedPackets(out);
    expect(lost).toEqual(all);
    // Sightings on the outside and network hosts are on compute's clock: within the offset applied.
    const clocks = jsonRecords(r.stdout.split('\n')).filter((c) => c.type === 'clock');
    const toleranceOf = (iface: string): bigint => {
      const host = iface.split(':')[0];
      const c = clocks.filter((x) => x.host === host).at(-1);
      if (c === undefined) return 0n;
      return BigInt(Math.ceil((Math.abs(Number(c.offsetMs)) + Number(c.uncertaintyMs)) * 1e6)) + 1n;
    };
    expectCommentsOnSightings(records, all, toleranceOf);
    expectOkUncommented(records, all);

    // Everything else of the recording is kept: every packet, its statistics blocks, the
    // reference clock — a replay of the annotated file gives the very same verdicts.
    const before = await statsBlocks(SHIPPED);
    const after = await statsBlocks(out);
    expect(after.packets).toBe(before.packets);
    expect(after.stats).toEqual(before.stats);
    expect(after.sections).toEqual(before.sections);
    const again = runCli(['replay', out, '--json']);
    expect(exchangesOf(again.stdout.split('\n'))).toEqual(records);
  });

  it('refuses an existing file without --overwrite, a file replayed, and an empty name; --overwrite replaces', () => {
    const out = join(work, 'taken.pcapng');
    writeFileSync(out, 'mine');
    let r = runCli(['replay', SHIPPED, '--annotate', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `hopscope: replay: ${out} exists (give --overwrite to replace it, or another name)\n`,
    );
    expect(readFileSync(out, 'utf8')).toBe('mine');
    const copy = join(work, 'input-copy.pcapng');
    copyFileSync(SHIPPED, copy);
    r = runCli(['replay', copy, '--annotate', copy, '--overwrite']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `hopscope: replay: --annotate ${copy} is one of the files replayed; give another name\n`,
    );
    expect(readFileSync(copy)).toEqual(readFileSync(SHIPPED));
    r = runCli(['replay', SHIPPED, '--annotate', '']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^hopscope: replay: --annotate needs a file name/);
    r = runCli(['replay', SHIPPED, '--annotate', out, '--overwrite']);
    expect(r.status).toBe(1);
    expect(commentedPackets(out)).toHaveLength(32);
  });
});

describe('the annotation pass over a recording', () => {
  it('runs out of space on a full tmpfs: the recording stays as it was, nothing left beside it', () => {
    // The table of the shipped recording's verdicts (the compute host's sightings match as they are).
    const table = new AnnotationTable();
    const r = runCli(['replay', SHIPPED, '--json']);
    for (const ex of exchangesOf(r.stdout.split('\n'))) if (table.wants(ex.status)) table.exchange(ex);
    const dir = mkdtempSync(join(work, 'tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48k,mode=0700', 'tmpfs', dir]);
    try {
      const file = join(dir, 'rec.pcapng');
      copyFileSync(SHIPPED, file);
      const hash = (): string => createHash('sha256').update(readFileSync(file)).digest('hex');
      const before = hash();
      expect(() => annotateRecording(file, table)).toThrow(AnnotateError);
      expect(() => annotateRecording(file, table)).toThrow(/no space left on device/);
      expect(hash()).toBe(before);
      expect(readdirSync(dir)).toEqual(['rec.pcapng']);
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

describe('a live recording on a lab fault, and tcpdump files of it', () => {
  const PREFIX = runPrefix('annot');
  let lab: LabView;

  beforeAll(async () => {
    requireRoot();
    lab = await labUp('dvr-fip', { fault: 'sg-drop', prefix: PREFIX });
  }, 180_000);

  afterAll(async () => {
    await downAllLabs(PREFIX);
  }, 120_000);

  it('annotates the recording once the capture stops: the comments are on exactly the non-ok sightings', async () => {
    const dir = mkdtempSync(join(work, 'live-'));
    const recording = join(dir, 'incident.pcapng');
    const outside = `${lab.prefix}outside`;
    const tap = `${lab.prefix}compute`;
    const witnesses = await Promise.all([
      tcpdumpToFile(outside, 'eth0', join(dir, 'outside.pcap')),
      tcpdumpToFile(tap, 'tap7aa08012-d0', join(dir, 'tap.pcap')),
    ]);
    const specs = lab.capturePoints.flatMap((p) => ['-i', `${p.netns}/${p.iface}`]);
    const cli = startCli(['capture', ...specs, '-w', recording, '--json']);
    await cli.waitForLine(
      () =>
        jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length >=
        specs.length / 2,
    );
    await runTraffic(lab, { timeoutMs: 20_000 });
    cli.child.kill('SIGINT');
    expect(await cli.exited, cli.stderr()).toBe(1);
    for (const w of witnesses) await stopTcpdump(w);

    const records = exchangesOf(cli.lines);
    expect(records.some((e) => e.status === 'lost')).toBe(true);
    const commented = commentedPackets(recording);
    // one host: the packets carry the very stamps of the sightings
    expectCommentsOnSightings(records, commented);
    expectOkUncommented(records, commented);
    expect(commentedPackets(recording, 'frame.comment contains "LOST"').length).toBeGreaterThan(0);
    // still the recording: private, its statistics blocks and its section comment (the
    // reference clock) kept, and nothing left beside it
    expect(statSync(recording).mode & 0o777).toBe(0o600);
    const kept = await statsBlocks(recording);
    expect(kept.stats.length).toBeGreaterThanOrEqual(lab.capturePoints.length);
    expect(kept.sections[0].some((c) => c.startsWith('hopscope'))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['incident.pcapng', 'outside.pcap', 'tap.pcap']);

    // tcpdump's files of the same traffic, replayed together into one annotated pcapng
    const out = join(dir, 'tcpdump-annotated.pcapng');
    const r = runCli([
      'replay',
      join(dir, 'outside.pcap'),
      join(dir, 'tap.pcap'),
      '--json',
      '--annotate',
      out,
    ]);
    expect(r.status, r.stderr).toBe(1);
    const replayed = exchangesOf(r.stdout.split('\n'));
    const fromTcpdump = commentedPackets(out);
    expect(fromTcpdump.length).toBeGreaterThan(0);
    expectCommentsOnSightings(replayed, fromTcpdump);
    expectOkUncommented(replayed, fromTcpdump);
    // every packet of both files is in it
    const count = (f: string): number =>
      tshark(['-r', f, '-T', 'fields', '-e', 'frame.number']).split('\n').length;
    expect(count(out)).toBe(count(join(dir, 'outside.pcap')) + count(join(dir, 'tap.pcap')) - 1);
  }, 120_000);
});
