// `hopscope replay` on input that is hostile, unreadable or out of range, as a user
// meets it: a file of a million Interface Description Blocks (memory stays bounded, the
// offset is named), a file this user may not read, a disk that fails mid-file (EIO from
// the kernel: a loop device shrunk under a mounted file system), directories, FIFOs and
// devices, and pcapng times past what can be printed exactly. Each ends in one line
// `hopscope: replay: FILE: ...` and exit 2, on the decoder thread (the default) and on
// the command's own thread (--packets), after whatever was read before the fault.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epb, idb, isb, manyIdbs, shb, tsoffset, tsresol } from '../framing/pcapng-blocks.js';
import { CLI, PROJECT_ROOT, runCli, type CliResult } from '../support/run-cli.js';
import { asNobodyArgv } from '../support/as-nobody.js';

/** The peak memory the README promises a replay stays under, whatever the file. */
const PEAK_RSS_LIMIT_MB = 200;

/** Runs the CLI under python, which reports the child's peak resident memory (ru_maxrss). */
function runMeasured(args: readonly string[]): CliResult & { peakMb: number } {
  const script = [
    'import resource, subprocess, sys',
    'r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)',
    'sys.stderr.buffer.write(r.stderr)',
    'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)',
    'sys.exit(r.returncode)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, process.execPath, CLI, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: '', stderr: r.stderr, peakMb: Number(r.stdout.trim()) / 1024 };
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0];
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopscope-replay-input-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = 1_700_000_000_000_000n; // 1700000000 s in µs

describe('a file of a million Interface Description Blocks', () => {
  const SHB = shb().length;
  const IDB = idb().length;

  it('one section: exit 2 at the 65,537th IDB, peak memory bounded, on both threads', () => {
    const file = join(dir, 'idb-bomb.pcapng');
    writeFileSync(file, Buffer.concat([shb(), manyIdbs(1_000_000)])); // 20 MB
    for (const extra of [[], ['--packets']]) {
      const r = runMeasured(['replay', file, ...extra]);
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toBe(
        `hopscope: replay: ${file}: pcapng section 0 describes more than 65536 interfaces (the limit) at byte ${SHB + 65536 * IDB}`,
      );
      expect(r.peakMb, `${extra.join(' ')}: peak RSS`).toBeLessThan(PEAK_RSS_LIMIT_MB);
    }
  });

  it('split over 50 sections of 20,000 (each under the section limit): the file is bounded', () => {
    const file = join(dir, 'idb-sections.pcapng');
    const section = Buffer.concat([shb(), manyIdbs(20_000), epb(0, T)]);
    writeFileSync(file, Buffer.concat(Array.from({ length: 50 }, () => section)));
    const r = runMeasured(['replay', file]);
    expect(r.status, r.stderr).toBe(2);
    // the 65,537th: the 5,537th IDB of section 3
    const at = 3 * section.length + SHB + (65536 - 3 * 20_000) * IDB;
    expect(oneLine(r.stderr)).toBe(
      `hopscope: replay: ${file}: more than 65536 interfaces in the file, over its 4 sections (the limit) at byte ${at}`,
    );
    expect(r.peakMb).toBeLessThan(PEAK_RSS_LIMIT_MB);
  });

  it('split over 20 files of 50,000: the files replayed together are bounded, the file named', () => {
    const part = Buffer.concat([shb(), manyIdbs(50_000), epb(0, T)]);
    const files = Array.from({ length: 20 }, (_, i) => {
      const file = join(dir, `idb-part${i}.pcapng`);
      writeFileSync(file, part);
      return file;
    });
    for (const extra of [[], ['--packets']]) {
      const r = runMeasured(['replay', ...files, ...extra]);
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toBe(
        `hopscope: replay: ${files[1]}: more than 65536 interfaces in the 20 files together (the limit) at byte ${SHB + (65536 - 50_000) * IDB}`,
      );
      expect(r.peakMb, `${extra.join(' ')}: peak RSS`).toBeLessThan(PEAK_RSS_LIMIT_MB);
    }
  });
});

describe('a file of a million other blocks', () => {
  it('statistics blocks naming an undescribed interface: one warning with the count, memory bounded', () => {
    const file = join(dir, 'isb-flood.pcapng');
    const one = isb(7, []);
    const flood = Buffer.alloc(one.length * 1_000_000);
    flood.fill(one);
    writeFileSync(file, Buffer.concat([shb(), idb(), flood]));
    const r = runMeasured(['replay', file]);
    expect(r.status, r.stderr).toBe(0);
    const at = shb().length + idb().length;
    expect(r.stderr.trim().split('\n')).toEqual([
      `hopscope: warning: ${file}: pcapng Interface Statistics Block at byte ${at} names interface 7, which section 0 has not described; ignored`,
      `hopscope: warning: ${file}: pcapng Interface Statistics Block at byte ${at} names interface 7, which section 0 has not described; ignored [1000000 times in all]`,
    ]);
    expect(r.peakMb).toBeLessThan(PEAK_RSS_LIMIT_MB);
  });
});

describe('a file that cannot be read', () => {
  const bothThreads = (args: string[]): CliResult[] => [
    runCli(['replay', ...args], { timeout: 60_000 }),
    runCli(['replay', ...args, '--packets'], { timeout: 60_000 }),
  ];

  it('EACCES: a user replaying a file it may not read', () => {
    // a directory anyone may enter, a file only root may read: stat works, open does not
    chmodSync(dir, 0o755);
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    const file = join(shared, 'root-only.pcapng');
    writeFileSync(file, readFileSync(join(PROJECT_ROOT, 'captures/dvr-fip-sg-drop.pcapng')));
    chmodSync(file, 0o600);
    const asNobody = (extra: string[]): CliResult => {
      const [cmd, ...args] = asNobodyArgv([process.execPath, CLI, 'replay', file, ...extra]);
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    // the user can run hopscope (the project is readable to all), only not read the file
    const [cmd, ...args] = asNobodyArgv([process.execPath, CLI, '--version']);
    const version = spawnSync(cmd, args, { encoding: 'utf8' });
    expect(version.status, `uid 65534 cannot run ${CLI}: ${version.stderr}`).toBe(0);
    for (const extra of [[], ['--packets']]) {
      const r = asNobody(extra);
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toBe(`hopscope: replay: ${file}: cannot open: permission denied (EACCES)`);
    }
  });

  it('EIO at the first read (/proc/self/mem reads address 0)', () => {
    for (const r of bothThreads(['/proc/self/mem'])) {
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toBe(
        'hopscope: replay: /proc/self/mem: read failed at byte 0: input/output error (EIO)',
      );
    }
  });

  it('a directory, a FIFO, a device, a missing file: one line each, nothing waits on the FIFO', () => {
    const fifo = join(dir, 'fifo.pcap');
    execFileSync('mkfifo', [fifo]);
    const cases: Array<[string, string]> = [
      [dir, `${dir}: is a directory (EISDIR)`],
      [fifo, `${fifo}: not a regular file (a FIFO)`],
      ['/dev/null', '/dev/null: not a regular file (a character device)'],
      [join(dir, 'missing.pcap'), `${join(dir, 'missing.pcap')}: cannot open: no such file (ENOENT)`],
    ];
    for (const [file, what] of cases) {
      for (const r of bothThreads([file])) {
        expect(r.status, r.stderr).toBe(2);
        expect(oneLine(r.stderr)).toBe(`hopscope: replay: ${what}`);
      }
    }
  });

  describe('EIO part-way: a disk that fails after the first MiB (root: a loop device)', () => {
    let work: string;
    let device = '';
    let mounted = false;
    let file: string;
    /** packets whose whole record lies before the failing block */
    let readablePackets = 0;
    const BLOCK = 4096;
    const GOOD_BYTES = 256 * BLOCK; // 1 MiB

    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'hopscope-eio-'));
      const src = join(work, 'src');
      mkdirSync(src);
      const capture = join(src, 'capture.pcap');
      execFileSync(
        process.execPath,
        ['scripts/gen-mixed-pcap.mjs', capture, '--packets', '30000', '--flows', '2000'],
        {
          cwd: PROJECT_ROOT,
        },
      );
      const bytes = readFileSync(capture);
      for (let at = 24; at + 16 <= bytes.length;) {
        const end = at + 16 + bytes.readUInt32LE(at + 8);
        if (end > GOOD_BYTES) break;
        readablePackets++;
        at = end;
      }
      // ext4 without a journal, the capture one extent (no indirect blocks to fail first)
      const image = join(work, 'fs.img');
      writeFileSync(image, '');
      truncateSync(image, 16 * 1024 * 1024);
      execFileSync('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-b', String(BLOCK), '-d', src, image]);
      const blocks = execFileSync('debugfs', ['-R', 'blocks /capture.pcap', image], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
        .trim()
        .split(/\s+/)
        .map(Number);
      const cut = blocks[GOOD_BYTES / BLOCK];
      // every block before the cut is readable, the one at it is not
      expect(blocks.slice(0, GOOD_BYTES / BLOCK).every((b) => b < cut)).toBe(true);
      device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
      const mnt = join(work, 'mnt');
      mkdirSync(mnt);
      execFileSync('mount', ['-o', 'ro', device, mnt]);
      mounted = true;
      // the device now ends where the capture's 257th block begins: reading it is EIO
      truncateSync(image, cut * BLOCK);
      execFileSync('losetup', ['-c', device]);
      file = join(mnt, 'capture.pcap');
    });

    afterAll(() => {
      if (mounted) spawnSync('umount', [join(work, 'mnt')]);
      if (device !== '') spawnSync('losetup', ['-d', device]);
      rmSync(work, { recursive: true, force: true });
    });

    it('--packets: every packet before the failing block printed, then one line, exit 2', () => {
      const r = runCli(['replay', file, '--packets'], { timeout: 60_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toBe(
        `hopscope: replay: ${file}: read failed at byte ${GOOD_BYTES}: input/output error (EIO)`,
      );
      expect(r.stdout.split('\n').filter((l) => /^\d+\.\d{9} /.test(l))).toHaveLength(readablePackets);
    });

    it('the decoder thread: the verdicts of what was read, then the same line, exit 2', () => {
      const r = runCli(['replay', file, '--json'], { timeout: 60_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toBe(
        `hopscope: replay: ${file}: read failed at byte ${GOOD_BYTES}: input/output error (EIO)`,
      );
      const records = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; received?: number });
      expect(records.filter((x) => x.type === 'exchange').length).toBeGreaterThan(1000);
      expect(records.find((x) => x.type === 'stats')?.received).toBe(readablePackets);
    });
  });
});

describe('pcapng times past what a number holds exactly', () => {
  // interface 0: whole-second units and an offset of -2^63 s (the most negative a file
  // can say): 2^63 + 1700000000 units is exactly 1700000000 s. Interface 1: an offset of
  // 2^63 - 1 s: any time on it is past 2^53 - 1 s, refused rather than printed rounded.
  const blocks = [
    shb(),
    idb([tsresol(0), tsoffset(-(2n ** 63n))]),
    idb([tsoffset(2n ** 63n - 1n)]),
    epb(0, 2n ** 63n + 1700000000n),
    epb(1, 1n),
  ];

  it('the exact time is printed; the one out of range is an error with its offset, on both threads', () => {
    const path = join(dir, 'extreme-times.pcapng');
    writeFileSync(path, Buffer.concat(blocks));
    // the second EPB's time stamp: 12 bytes into it
    const offset = blocks.slice(0, 4).reduce((n, b) => n + b.length, 0) + 12;
    const want = `hopscope: replay: ${path}: pcapng Enhanced Packet Block time stamp out of range (1 × 10^-6 s + if_tsoffset 9223372036854775807 s = 9223372036854775807 s, past the 9007199254740991-second limit) at byte ${offset} (packet 2)`;
    const packets = runCli(['replay', path, '--packets', '--json']);
    expect(packets.status, packets.stderr).toBe(2);
    expect(oneLine(packets.stderr)).toBe(want);
    const records = packets.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; ts?: string });
    expect(records.filter((x) => x.type === 'packet').map((x) => x.ts)).toEqual(['1700000000.000000000']);
    const threaded = runCli(['replay', path]);
    expect(threaded.status, threaded.stderr).toBe(2);
    expect(oneLine(threaded.stderr)).toBe(want);
  });
});
