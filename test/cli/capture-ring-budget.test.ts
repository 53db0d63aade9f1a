// Kernel ring memory over many interfaces: every local capture maps its ring into
// hopscope at once (libpcap's TPACKET_V3 blocks, counted in RSS traffic or not), so
// 150 veth ends at the default 8 MiB each would take 1.2 GB. Without -B the rings
// share 256 MiB in all, and stderr says so once. Measured for real: the peak RSS
// (VmHWM) of the running hopscope, read from /proc once every interface is up.
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespacesStartingWith, requireRoot, run, runPrefix } from '../lab/support/lab-env.js';
import { jsonRecords, startCli, type CliProcess } from '../support/cli-process.js';

const PREFIX = runPrefix('rings');
const NAMESPACES = ['a', 'b', 'c'].map((n) => `${PREFIX}${n}`);
/** veth pairs between each two of the three namespaces: 3 × 25 pairs = 150 ends */
const PAIRS = 25;
const ENDS = 3 * 2 * PAIRS;
/**
 * 256 MiB of rings and the rest of hopscope (about 90 MB here) fit well below this;
 * 150 rings of 8 MiB alone exceed it.
 */
const PEAK_RSS_BOUND_KB = 600 * 1024;

async function must(argv: readonly string[]): Promise<void> {
  const r = await run(argv, 60_000);
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/** Commands for `ip -batch`, in one namespace. */
async function ipBatch(netns: string, commands: readonly string[]): Promise<void> {
  const r = await execa('ip', ['-n', netns, '-batch', '-'], { input: commands.join('\n'), reject: false });
  if (r.exitCode !== 0) throw new Error(`ip -n ${netns} -batch: ${String(r.stderr)}`);
}

/** Sizes of the packet rings mapped into a process (mappings of a socket), bytes. */
function ringMappings(pid: number): number[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((l) => / socket:\[\d+\]$/.test(l))
    .map((l) => {
      const [from, to] = l.split(' ')[0].split('-');
      return parseInt(to, 16) - parseInt(from, 16);
    });
}

const MiB = 1024 * 1024;

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function upCount(cli: CliProcess): number {
  return jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length;
}

async function stop(cli: CliProcess): Promise<number | null> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGINT');
  return cli.exited;
}

function peakRssKb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]);
}

describe('capture: kernel buffers over many interfaces', () => {
  beforeAll(async () => {
    requireRoot();
    for (const ns of NAMESPACES) await must(['ip', 'netns', 'add', ns]);
    const [a, b, c] = NAMESPACES;
    const pairs = (from: string, to: string, toNs: string): string[] =>
      Array.from(
        { length: PAIRS },
        (_, i) => `link add ${from}${i} type veth peer name ${to}${i} netns ${toNs}`,
      );
    await ipBatch(a, [...pairs('ab', 'ba', b), ...pairs('ac', 'ca', c)]);
    await ipBatch(b, pairs('bc', 'cb', c));
    const up = (names: readonly string[]): string[] =>
      names.flatMap((n) => Array.from({ length: PAIRS }, (_, i) => `link set ${n}${i} up`));
    await ipBatch(a, up(['ab', 'ac']));
    await ipBatch(b, up(['ba', 'bc']));
    await ipBatch(c, up(['ca', 'cb']));
  }, 120_000);

  afterAll(async () => {
    for (const ns of namespacesStartingWith(PREFIX)) await run(['ip', 'netns', 'del', ns]);
  });

  it('150 veth ends: the rings share 256 MiB, said once on stderr, and the peak RSS stays bounded; later ones get what is left, then the floor', async () => {
    const cli = startCli(['capture', '-i', `${PREFIX}*/*`, '--json']);
    try {
      await cli.waitForLine(() => upCount(cli) >= ENDS, 60_000);
      const pid = cli.child.pid;
      if (pid === undefined) throw new Error('no pid');
      const peak = peakRssKb(pid);
      expect(peak).toBeLessThan(PEAK_RSS_BOUND_KB);
      const notices = (): string[] =>
        cli
          .stderr()
          .split('\n')
          .filter((l) => l.includes('kernel buffer'));
      expect(notices()).toEqual([
        `hopscope: ${ENDS} interfaces: kernel buffer 1.5 MiB each (225 MiB in all, within 256 MiB; -B to change)`,
      ]);
      // What the kernel mapped is what the notice says: 150 rings of 1.5 MiB.
      const rings = ringMappings(pid);
      expect(rings).toHaveLength(ENDS);
      expect(new Set(rings)).toEqual(new Set([1.5 * MiB]));
      expect(sum(rings)).toBeLessThanOrEqual(256 * MiB);

      // 50 more ends match the glob: 20 fit in the 31 MiB left at 1.5 MiB, the next 30 get
      // the 1 MiB floor, and that is said once.
      const [a, b] = NAMESPACES;
      await ipBatch(
        a,
        Array.from({ length: PAIRS }, (_, i) => `link add ad${i} type veth peer name da${i} netns ${b}`),
      );
      await ipBatch(
        a,
        Array.from({ length: PAIRS }, (_, i) => `link set ad${i} up`),
      );
      await ipBatch(
        b,
        Array.from({ length: PAIRS }, (_, i) => `link set da${i} up`),
      );
      await cli.waitForLine(() => upCount(cli) >= ENDS + 2 * PAIRS, 30_000);
      const later = ringMappings(pid);
      expect(later).toHaveLength(ENDS + 2 * PAIRS);
      expect(later.filter((r) => r === 1.5 * MiB)).toHaveLength(ENDS + 20);
      expect(later.filter((r) => r === 1 * MiB)).toHaveLength(30);
      expect(notices()).toHaveLength(2);
      expect(notices()[1]).toMatch(
        /^hopscope: 171 interfaces: kernel buffer 1 MiB for this one and others attached while the 256 MiB in all is taken \(the first ones keep 1\.5 MiB; -B to change\)$/,
      );
      expect(await stop(cli)).toBe(0);
    } finally {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
      for (let i = 0; i < PAIRS; i++) await run(['ip', '-n', NAMESPACES[0], 'link', 'del', `ad${i}`]);
    }
  }, 120_000);

  it('an explicit -B is per interface, like tcpdump: a total over 256 MiB is only warned about', async () => {
    const cli = startCli(['capture', '-i', `${PREFIX}*/*`, '-B', '2048', '--json']);
    try {
      await cli.waitForLine(() => upCount(cli) >= ENDS, 60_000);
      const pid = cli.child.pid;
      if (pid === undefined) throw new Error('no pid');
      expect(new Set(ringMappings(pid))).toEqual(new Set([2 * MiB]));
      expect(cli.stderr()).toContain(
        `hopscope: warning: ${ENDS} interfaces: kernel buffer 2 MiB each (-B) is 300 MiB in all, over the 256 MiB hopscope takes without -B\n`,
      );
      expect(await stop(cli)).toBe(0);
    } finally {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }, 120_000);
});
