// stdout closed, full or slow (README "What hopscope promises"): a reader that goes
// away (`| head`) ends the run quietly, a full disk is one line and exit 2, and a reader
// slower than hopscope never makes it hold its output in memory — a replay waits for
// it (every line delivered, memory bounded), a live capture never waits (the recording
// complete) and skips what does not fit, saying how much.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { CLI, PROJECT_ROOT } from '../support/run-cli.js';

/** What the README promises for a replay into a reader that stalls (1M-packet capture). */
const REPLAY_PEAK_RSS_MB = 300;
/**
 * A live capture with --packets --json under a loopback flood whose reader is stopped:
 * the same capture with a reader that keeps up peaks at 370–435 MB here (the kernel
 * ring, the 32 MiB of recording buffers, packet lines held 0.6 s to be printed in
 * time order); the output queue adds at most 16 MiB. Before, everything not yet read
 * stayed in memory: 960 MB for this run, and more the longer the reader stalls.
 */
const LIVE_PEAK_RSS_MB = 600;

const INCIDENT = join(PROJECT_ROOT, 'captures', 'nova-flat-reply-drop-br100.pcapng');

let work: string;
let mixed: string;
let mixedBytes: number;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hopscope-stdout-'));
  mixed = join(work, 'mixed-1m.pcap');
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'gen-mixed-pcap.mjs'), mixed]);
  mixedBytes = statSync(mixed).size;
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Runs `hopscope ARGS` with stdout into `head -1`; returns its status and what it read (rchar, bytes). */
function intoHeadOne(args: readonly string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
  read: number;
} {
  // The shell reaps the CLI before it reads its own I/O counters: they then include the CLI's.
  const r = spawnSync(
    'bash',
    [
      '-c',
      '"$@" | head -1; s=${PIPESTATUS[0]}; grep ^rchar: /proc/$$/io >&2; exit $s',
      'bash',
      process.execPath,
      CLI,
      ...args,
    ],
    { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  const read = /^rchar: (\d+)$/m.exec(r.stderr);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr.replace(/^rchar: \d+\n/m, ''),
    read: read !== null ? Number(read[1]) : NaN,
  };
}

function intoDevFull(args: readonly string[]): { status: number | null; stderr: string } {
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', full, 'pipe'],
    });
    return { status: r.status, stderr: r.stderr };
  } finally {
    closeSync(full);
  }
}

/** Lines and a digest of everything a stream carries, read as fast as it comes. */
function consume(stream: Readable): Promise<{ lines: number; sha256: string }> {
  const hash = createHash('sha256');
  let lines = 0;
  stream.on('data', (b: Buffer) => {
    hash.update(b);
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
  });
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('end', () => resolve({ lines, sha256: hash.digest('hex') }));
  });
}

/**
 * Python runs the command as its child and reports on fd 3 the child's pid, then its
 * exit status and peak RSS (getrusage of the reaped child, KiB). The command's stdout
 * and stderr are Python's; the command is killed if Python dies (PR_SET_PDEATHSIG).
 */
const WITH_PEAK_RSS = `
import ctypes, os, resource, signal, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
report = os.fdopen(3, 'w')
child = subprocess.Popen(sys.argv[1:], preexec_fn=lambda: libc.prctl(1, signal.SIGKILL))
print(child.pid, file=report, flush=True)
status = child.wait()
print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=report, flush=True)
`;

interface Measured {
  child: ChildProcess;
  pid: Promise<number>;
  /** exit status (negative: killed by that signal) and peak RSS in MB */
  done: Promise<{ status: number; peakMb: number }>;
}

function withPeakRss(argv: readonly string[], stdout: 'pipe' | Readable | NodeJS.WritableStream): Measured {
  const child = spawn('python3', ['-c', WITH_PEAK_RSS, ...argv], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', stdout as 'pipe', 'pipe', 'pipe'],
  });
  const report = child.stdio[3] as Readable;
  report.setEncoding('utf8');
  let text = '';
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  report.on('data', (chunk: string) => {
    text += chunk;
    const parts = text.split('\n');
    text = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const line = (i: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (lines.length > i) resolve(lines[i]);
        else if (child.exitCode !== null)
          reject(new Error(`the measuring wrapper exited (${child.exitCode})`));
        else waiters.push(check);
      };
      child.once('exit', () => setImmediate(check));
      check();
    });
  return {
    child,
    pid: line(0).then(Number),
    done: line(1).then((l) => {
      const [status, kb] = l.split(' ').map(Number);
      return { status, peakMb: kb / 1024 };
    }),
  };
}

interface ProcessState {
  /** bytes the process read (read(2) and friends, any file) */
  read: number;
  /** each thread's state letter (R running, S sleeping, D disk, ...) */
  threads: string[];
}

function processState(pid: number): ProcessState | null {
  try {
    const read = Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
    const threads: string[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        threads.push(stat.charAt(stat.lastIndexOf(')') + 2));
      } catch {
        // a thread that just ended
      }
    }
    return { read, threads };
  } catch {
    return null;
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the replay, its stdout not read, either read its whole input (it does not
 * wait for its reader) or stopped reading with every thread asleep — no thread spinning
 * while it waits — through ten looks in a row.
 */
async function untilStalled(pid: number, inputBytes: number): Promise<'read it all' | 'waiting' | 'exited'> {
  const deadline = Date.now() + 60_000;
  let still = 0;
  let lastRead = -1;
  while (Date.now() < deadline) {
    const s = processState(pid);
    if (s === null) return 'exited';
    if (s.read >= inputBytes) return 'read it all';
    if (s.read === lastRead && s.threads.every((t) => t === 'S')) {
      if (++still === 10) return 'waiting';
    } else still = 0;
    lastRead = s.read;
    await pause(100);
  }
  throw new Error(`replay neither read its input nor stopped reading within 60 s (pid ${pid})`);
}

describe('stdout closed or full', () => {
  it('replay > /dev/full: one line, exit 2 (text report, --json, --packets)', () => {
    for (const args of [[], ['--json'], ['--packets']]) {
      const r = intoDevFull(['replay', INCIDENT, ...args]);
      expect(r.stderr, args.join(' ')).toBe(
        'hopscope: replay: cannot write to standard output: no space left on device\n',
      );
      expect(r.status, args.join(' ')).toBe(2);
    }
  });

  it('replay --json | head -1: quiet, exit 0, and the replay stops reading', () => {
    for (const args of [['--json'], ['--packets', '--json']]) {
      const r = intoHeadOne(['replay', mixed, ...args]);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.status, args.join(' ')).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ type: 'interface' });
      // it read only the start of the 125 MB capture (its first verdicts come 1.6 s into it)
      expect(r.read, args.join(' ')).toBeLessThan(mixedBytes / 2);
    }
  });

  it('stderr full: the replay goes on, its output complete', () => {
    // the same file twice: warnings on stderr (two interfaces with one label)
    const args = [CLI, 'replay', INCIDENT, INCIDENT, '--packets'];
    const reference = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(reference.stderr).toMatch(/warning: .* are both labelled/);
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, args, {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', full],
      });
      expect(r.stdout).toBe(reference.stdout);
      expect(r.status).toBe(reference.status);
    } finally {
      closeSync(full);
    }
  });
});

describe('replay into a reader that stalls', () => {
  for (const args of [['--json'], ['--packets', '--json']]) {
    it(`replay ${args.join(' ')}: reading waits for the reader, every line delivered, memory bounded`, async () => {
      // The reference: the same replay read as fast as it comes.
      const fast = spawn(process.execPath, [CLI, 'replay', mixed, ...args], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const expected = await consume(fast.stdout);
      const fastStatus = await new Promise<number | null>((r) => fast.once('close', r));
      expect(expected.lines).toBeGreaterThan(300_000);

      // Not read at all until the replay is waiting (or has read everything, as before).
      const slow = withPeakRss([process.execPath, CLI, 'replay', mixed, ...args], 'pipe');
      try {
        const stall = await untilStalled(await slow.pid, mixedBytes);
        const got = consume(slow.child.stdout as Readable);
        const { status, peakMb } = await slow.done;
        expect(await got).toEqual(expected);
        expect(status).toBe(fastStatus);
        // It stopped reading its input with every thread asleep: no thread spins while it waits.
        expect(stall).toBe('waiting');
        expect(peakMb).toBeLessThan(REPLAY_PEAK_RSS_MB);
      } finally {
        slow.child.kill('SIGKILL'); // and with it the replay
      }
    }, 180_000);
  }
});

describe('capture with stdout closed, full or not read (root: a namespace of its own)', () => {
  let ns: string;
  const background: ChildProcess[] = [];

  beforeAll(() => {
    requireRoot();
    ns = `${runPrefix('stdout')}ns`;
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  });

  afterAll(() => {
    for (const p of background) p.kill('SIGKILL');
    if (ns !== undefined && existsSync(`/run/netns/${ns}`)) execFileSync('ip', ['netns', 'del', ns]);
  });

  /** ping inside the namespace, on its loopback. */
  const ping = (args: readonly string[]): ChildProcess => {
    const p = spawn('ip', ['netns', 'exec', ns, 'ping', '-q', ...args, '127.0.0.1'], { stdio: 'ignore' });
    background.push(p);
    return p;
  };
  const exited = (p: ChildProcess): Promise<number | null> =>
    p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', r));

  /** capinfos and tshark read the recording to its end: its packets, and each interface's statistics. */
  const expectComplete = (rec: string): number => {
    const info = execFileSync('capinfos', ['-M', rec], { encoding: 'utf8' });
    expect(info).toMatch(/Number of stat entries = [1-9]/);
    const packets = Number(/Number of packets:\s+(\d+)/.exec(info)?.[1]);
    const frames = execFileSync('tshark', ['-r', rec, '-T', 'fields', '-e', 'frame.number'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(frames.split('\n').filter(Boolean)).toHaveLength(packets);
    return packets;
  };

  it('capture --json | head -1: ends quietly with exit 0, the recording complete', () => {
    const rec = join(work, 'head.pcapng');
    const pinging = ping(['-i', '0.05']);
    try {
      const r = intoHeadOne(['capture', '-i', `${ns}/lo`, '--json', '-w', rec]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ type: 'interface', label: `${ns}/lo` });
    } finally {
      pinging.kill();
    }
    expectComplete(rec);
  });

  it('capture > /dev/full: one line, exit 2, the recording complete', () => {
    const rec = join(work, 'full.pcapng');
    const pinging = ping(['-i', '0.05']);
    try {
      const r = intoDevFull(['capture', '-i', `${ns}/lo`, '--json', '-w', rec]);
      expect(r.stderr).toBe('hopscope: capture: cannot write to standard output: no space left on device\n');
      expect(r.status).toBe(2);
    } finally {
      pinging.kill();
    }
    expectComplete(rec);
  });

  it('a reader that stops: capture and recording go on, memory stays bounded, what was skipped is reported', async () => {
    const rec = join(work, 'stalled.pcapng');
    const outFile = join(work, 'stalled.jsonl');
    const fd = openSync(outFile, 'w');
    const reader = spawn('cat', [], { stdio: ['pipe', fd, 'inherit'] });
    closeSync(fd);
    background.push(reader);
    process.kill(reader.pid!, 'SIGSTOP');
    const cli = withPeakRss(
      [process.execPath, CLI, 'capture', '-i', `${ns}/lo`, '--json', '--packets', '-w', rec],
      reader.stdin!,
    );
    background.push(cli.child);
    reader.stdin!.destroy(); // the capture holds the pipe's only writing end
    let stderr = '';
    cli.child.stderr!.setEncoding('utf8');
    cli.child.stderr!.on('data', (s: string) => (stderr += s));
    const pid = await cli.pid;
    const until = async (what: string, done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`not within 60 s: ${what}; stderr: ${stderr}`);
        await pause(100);
      }
    };
    const output = (): string => readFileSync(outFile, 'utf8');
    const skippedRecords = (): Array<{ records: number }> =>
      output()
        .split('\n')
        .filter((l) => l.includes('"type":"skipped"'))
        .map((l) => JSON.parse(l) as { records: number });

    // The capture is up once its recording holds packets (it is flushed every second).
    const slowPing = ping(['-i', '0.05']);
    await until('packets recorded', () => existsSync(rec) && statSync(rec).size > 2000);
    slowPing.kill();

    // A flood while nobody reads: far more output (some 180 MB) than the queue holds.
    expect(await exited(ping(['-f', '-c', '250000']))).toBe(0);
    // The reader reads again: the queue drains, and what was skipped is reported.
    process.kill(reader.pid!, 'SIGCONT');
    await until('a skipped record', () => skippedRecords().length > 0);
    process.kill(reader.pid!, 'SIGSTOP');

    // Stopped again, another flood, and the capture is ended meanwhile.
    expect(await exited(ping(['-f', '-c', '50000']))).toBe(0);
    process.kill(pid, 'SIGINT');
    // The recording is closed while the reader is still stopped: it never waited for stdout.
    const holdsRecording = (): boolean => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((f) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${f}`) === rec;
          } catch {
            return false;
          }
        });
      } catch {
        return false; // exited
      }
    };
    await until('the recording closed', () => !holdsRecording());
    const recorded = expectComplete(rec);
    expect(recorded).toBeGreaterThan(100_000);

    process.kill(reader.pid!, 'SIGCONT');
    const { status, peakMb } = await cli.done;
    await exited(reader);
    const lines = output().trimEnd().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const skipped = skippedRecords();
    // Reported when the reader read again, and at the end for what the second flood left out.
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    expect(skipped.every((s) => s.records > 0)).toBe(true);
    expect(stderr.trimEnd().split('\n')).toEqual(
      skipped.map(
        (s) => `hopscope: ${s.records} output records skipped: standard output was not read fast enough`,
      ),
    );
    // The final counters and verdicts all came out, and the exit status is theirs.
    const summary = records[records.length - 1];
    expect(summary.type).toBe('summary');
    expect(records.some((r) => r.type === 'stats' && r.final === true)).toBe(true);
    expect(status).toBe((summary.lost as number) + (summary.unanswered as number) > 0 ? 1 : 0);
    expect(peakMb).toBeLessThan(LIVE_PEAK_RSS_MB);
  }, 240_000);
});
