// `hopscope capture -w` / `--record` as a user (and an attacker) meets them: a symbolic
// link planted by an unprivileged user is never followed, an existing file is never
// clobbered without --overwrite, a full disk stops the recording at its last whole block
// while the capture and its verdicts go on, two captures started in the same second never
// share a file, and recordings without a name go to the working directory.
import {
  execFileSync,
  spawn,
  spawnSync,
  type ChildProcess,
  type ChildProcessWithoutNullStreams,
} from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../lab/support/lab-env.js';
import { CLI, PROJECT_ROOT, runCli, type CliResult } from '../support/run-cli.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
/** A filter nothing on this machine sends: a capture of lo that sees no exchange exits 0. */
const QUIET = ['-f', 'udp port 7 and host 127.0.0.79'];
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

let work: string;
let capturesBefore: Set<string>;

beforeAll(() => {
  requireRoot();
  work = mkdtempSync(join(tmpdir(), 'hopscope-capture-recording-'));
  capturesBefore = new Set(readdirSync(CAPTURES));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  // Whatever a capture put into the project's captures/ (it must not) goes again.
  for (const name of readdirSync(CAPTURES)) {
    if (!capturesBefore.has(name)) rmSync(join(CAPTURES, name), { force: true });
  }
});

function expectOneLineError(r: CliResult, line: string | RegExp): void {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  if (typeof line === 'string') expect(r.stderr).toBe(`${line}\n`);
  else expect(r.stderr).toMatch(line);
  expect(r.stdout).toBe('');
}

const mode = (path: string): number => statSync(path).mode & 0o777;

/** tshark reads the whole file without a complaint; returns one line per packet of `fields`. */
function tsharkFields(path: string, fields: string[]): string[] {
  const r = spawnSync('tshark', ['-r', path, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
  });
  expect(r.stderr.replace(/^Running as user "root".*\n/m, ''), `tshark -r ${path}`).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** capinfos reads the file without error; its packet count. */
function capinfosPackets(path: string): number {
  const r = spawnSync('capinfos', ['-M', '-c', path], { encoding: 'utf8' });
  expect(r.stderr, `capinfos ${path}`).toBe('');
  expect(r.status).toBe(0);
  return Number(/Number of packets:\s+(\d+)/.exec(r.stdout)?.[1]);
}

// ---------------------------------------------------------------------------------
// A capture as a child process in a given working directory, waited on by what it prints.

interface Capture {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** resolves with the match once stdout (or stderr) matches `re` */
  waitFor(stream: 'stdout' | 'stderr', re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** The CLI's `capture` in `cwd`, run through `wrapper` (e.g. prlimit) when given. */
function startCapture(args: readonly string[], cwd: string, wrapper: readonly string[] = []): Capture {
  const argv = [...wrapper, process.execPath, CLI, 'capture', ...args];
  const child = spawn(argv[0], argv.slice(1), { cwd, stdio: 'pipe' });
  running.add(child);
  const text = { stdout: '', stderr: '' };
  const waiters: Array<() => void> = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    text.stdout += s;
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    text.stderr += s;
    wake();
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      done = true;
      wake();
      resolve(code);
    }),
  );
  const waitFor = (stream: 'stdout' | 'stderr', re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${re} on ${stream}; stdout:\n${text.stdout}\nstderr:\n${text.stderr}`)),
        timeoutMs,
      );
      const check = (): void => {
        const m = re.exec(text[stream]);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m);
        } else if (done) {
          clearTimeout(timer);
          reject(
            new Error(`exited without ${re} on ${stream}; stdout:\n${text.stdout}\nstderr:\n${text.stderr}`),
          );
        } else waiters.push(check);
      };
      check();
    });
  return { child, stdout: () => text.stdout, stderr: () => text.stderr, waitFor, exited };
}

async function sendUdp(port: number, count: number): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (let k = 0; k < count; k++) {
      await new Promise<void>((resolve, reject) =>
        socket.send(`datagram ${k} to ${port}`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
    }
  } finally {
    socket.close();
  }
}

// ---------------------------------------------------------------------------------

describe('-w never follows a symbolic link and never clobbers a file', () => {
  /** a sticky, world-writable directory, as /tmp is */
  let sticky: string;
  /** root's file, readable by everyone, that a link points at */
  let victim: string;

  beforeAll(() => {
    sticky = mkdtempSync(join(tmpdir(), 'hopscope-sticky-'));
    chmodSync(sticky, 0o1777);
    victim = join(work, 'victim');
    writeFileSync(victim, 'secret, and not a capture\n');
    chmodSync(victim, 0o644);
  });

  afterAll(() => {
    rmSync(sticky, { recursive: true, force: true });
  });

  /** `nobody` makes a symbolic link `name` in the sticky directory pointing at `target`. */
  function nobodyLinks(target: string, name: string): string {
    const link = join(sticky, name);
    execFileSync('setpriv', [...NOBODY, 'ln', '-s', target, link]);
    const st = lstatSync(link);
    expect(st.isSymbolicLink() && st.uid === 65534).toBe(true);
    return link;
  }

  function expectVictimUntouched(): void {
    expect(readFileSync(victim, 'utf8')).toBe('secret, and not a capture\n');
    expect(mode(victim)).toBe(0o644);
  }

  it('a link planted by another user: refused in one line, exit 2, its target untouched', () => {
    const link = nobodyLinks(victim, 'cap.pcapng');
    const r = runCli(['capture', '-i', 'lo', '-w', link, '--duration', '1', ...QUIET]);
    expectOneLineError(r, `hopscope: capture: ${link} is a symbolic link; not following it`);
    expectVictimUntouched();
  });

  it('the same with --overwrite: a link is never followed', () => {
    const link = nobodyLinks(victim, 'cap-overwrite.pcapng');
    const r = runCli(['capture', '-i', 'lo', '-w', link, '--overwrite', '--duration', '1', ...QUIET]);
    expectOneLineError(r, `hopscope: capture: ${link} is a symbolic link; not following it`);
    expectVictimUntouched();
  });

  it('a dangling link does not create its target', () => {
    const target = join(work, 'made-through-a-link');
    const link = nobodyLinks(target, 'dangling.pcapng');
    const r = runCli(['capture', '-i', 'lo', '-w', link, '--duration', '1', ...QUIET]);
    expectOneLineError(r, `hopscope: capture: ${link} is a symbolic link; not following it`);
    expect(existsSync(target)).toBe(false);
  });

  it('an existing file: refused without --overwrite, replaced (0600, a pcapng) with it', () => {
    const file = join(work, 'existing.pcapng');
    writeFileSync(file, 'an earlier capture, say\n');
    chmodSync(file, 0o644);
    const refused = runCli(['capture', '-i', 'lo', '-w', file, '--duration', '1', ...QUIET]);
    expectOneLineError(
      refused,
      `hopscope: capture: ${file} exists (give --overwrite to replace it, or another name)`,
    );
    expect(readFileSync(file, 'utf8')).toBe('an earlier capture, say\n');
    expect(mode(file)).toBe(0o644);

    const replaced = runCli(['capture', '-i', 'lo', '-w', file, '--overwrite', '--duration', '1', ...QUIET]);
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(mode(file)).toBe(0o600);
    expect(capinfosPackets(file)).toBe(0);
    expect(readFileSync(file).subarray(0, 4).toString('hex')).toBe('0a0d0d0a'); // a pcapng section header
  });

  it("--overwrite does not replace another user's file, nor a file with another hard link", () => {
    const theirs = join(sticky, 'theirs.pcapng');
    execFileSync('setpriv', [...NOBODY, 'sh', '-c', `echo theirs > ${theirs}`]);
    const r1 = runCli(['capture', '-i', 'lo', '-w', theirs, '--overwrite', '--duration', '1', ...QUIET]);
    expectOneLineError(
      r1,
      `hopscope: capture: ${theirs} belongs to another user (uid 65534); not replacing it (remove it first, or give another name)`,
    );
    expect(readFileSync(theirs, 'utf8')).toBe('theirs\n');

    const linked = join(work, 'linked.pcapng');
    linkSync(victim, linked);
    const r2 = runCli(['capture', '-i', 'lo', '-w', linked, '--overwrite', '--duration', '1', ...QUIET]);
    expectOneLineError(
      r2,
      `hopscope: capture: ${linked} has 2 hard links; not replacing it (remove it first, or give another name)`,
    );
    expectVictimUntouched();
  });
});

describe('where recordings go', () => {
  it("-w '' (an unset variable): a usage error in one line, exit 2, nothing recorded anywhere", () => {
    const cwd = mkdtempSync(join(work, 'empty-w-'));
    const r = runCli(['capture', '-i', 'lo', '-w', '', '--duration', '1', ...QUIET], { cwd });
    expectOneLineError(r, /^hopscope: capture: -w needs a file name/);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(CAPTURES).filter((n) => !capturesBefore.has(n))).toEqual([]);
  });

  it('--overwrite without -w FILE: a usage error in one line, exit 2', () => {
    const r = runCli(['capture', '-i', 'lo', '--record', '--overwrite', '--duration', '1', ...QUIET]);
    expectOneLineError(
      r,
      'hopscope: capture: --overwrite replaces the file of -w FILE or --report FILE: give one',
    );
  });

  it('capture --help says where --record writes and what --overwrite does', () => {
    const r = runCli(['capture', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /--record +record to hopscope-YYYYMMDD-HHMMSS\.pcapng \(UTC\) in the\s+working directory/,
    );
    expect(r.stdout).toMatch(
      /--overwrite +replace FILE \(or the --report file\) if it is a regular\s+file of yours/,
    );
  });

  it('--record writes into the working directory and names the file, absolute, on the first line', () => {
    const cwd = mkdtempSync(join(work, 'record-cwd-'));
    const r = runCli(['capture', '-i', 'lo', '--record', '--duration', '1', ...QUIET], { cwd });
    expect(r.status, r.stderr).toBe(0);
    const first = r.stderr.split('\n')[0];
    const named = /; recording to (\/\S+\/hopscope-\d{8}-\d{6}\.pcapng);/.exec(first);
    expect(named, first).not.toBeNull();
    const path = (named as RegExpExecArray)[1];
    expect(path).toBe(join(cwd, readdirSync(cwd)[0]));
    expect(readdirSync(cwd)).toHaveLength(1);
    expect(r.stdout).toContain(`recorded 0 packets to ${path}`);
    expect(mode(path)).toBe(0o600);
    expect(capinfosPackets(path)).toBe(0);
    expect(readdirSync(CAPTURES).filter((n) => !capturesBefore.has(n))).toEqual([]);
  });
});

describe('--record runs started together', () => {
  const PAIRS = 50;
  /** pairs running at once (5 captures per core) */
  const AT_ONCE = 5;

  /** Two `--record` captures started at once, each sent its own datagrams; what each reported. */
  async function pair(
    cwd: string,
    i: number,
  ): Promise<Array<{ port: number; path: string; packets: number }>> {
    const ports = [42000 + 2 * i, 42001 + 2 * i];
    const runs = ports.map((port) =>
      startCapture(
        ['-i', 'lo', '--record', '--packets', '-f', `udp dst port ${port} and host 127.0.0.1`],
        cwd,
      ),
    );
    try {
      const paths = await Promise.all(
        runs.map(async (r) => (await r.waitFor('stderr', /; recording to (\S+); Ctrl-C to stop/))[1]),
      );
      for (const port of ports) await sendUdp(port, 3);
      // every datagram printed (so captured) before the captures are stopped
      await Promise.all(runs.map((r) => r.waitFor('stdout', /(?:.*\n){3}/)));
      for (const r of runs) r.child.kill('SIGINT');
      const codes = await Promise.all(runs.map((r) => r.exited));
      return runs.map((r, k) => {
        expect(codes[k], r.stderr()).toBe(0);
        const reported = /recorded (\d+) packets to (\S+)\n/.exec(r.stderr());
        expect(reported, r.stderr()).not.toBeNull();
        expect((reported as RegExpExecArray)[2]).toBe(paths[k]);
        return { port: ports[k], path: paths[k], packets: Number((reported as RegExpExecArray)[1]) };
      });
    } finally {
      for (const r of runs) r.child.kill('SIGKILL');
    }
  }

  it('never share a file: each run records its own packets in a file of its own, in the working directory', async () => {
    const cwd = mkdtempSync(join(work, 'race-'));
    const results: Array<{ port: number; path: string; packets: number }> = [];
    for (let start = 0; start < PAIRS; start += AT_ONCE) {
      const batch = Array.from({ length: Math.min(AT_ONCE, PAIRS - start) }, (_, k) => pair(cwd, start + k));
      for (const runs of await Promise.all(batch)) results.push(...runs);
    }
    const paths = results.map((r) => r.path);
    expect(new Set(paths).size).toBe(2 * PAIRS);
    expect(readdirSync(cwd).sort()).toEqual(paths.map((p) => p.slice(cwd.length + 1)).sort());
    for (const r of results) {
      expect(r.packets).toBe(3);
      expect(tsharkFields(r.path, ['udp.dstport'])).toEqual([String(r.port), String(r.port), String(r.port)]);
      expect(mode(r.path)).toBe(0o600);
    }
    // The race was run: pairs that started in the same second took `_2` next to the other.
    expect(paths.filter((p) => /_2\.pcapng$/.test(p)).length).toBeGreaterThan(0);
  }, 600_000);
});

describe('a full disk', () => {
  /** Mounts a 2 MiB tmpfs for `body`, unmounted whatever happens. */
  async function onSmallTmpfs(body: (dir: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(work, 'tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir]);
    try {
      await body(dir);
    } finally {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Pings 127.0.0.77 with 60 000-byte echoes: 200 of them and their replies, 24 MB. */
  function bigPings(): Promise<number | null> {
    const ping = spawn('ping', ['-n', '-q', '-c', '200', '-i', '0.01', '-s', '60000', '127.0.0.77'], {
      stdio: 'ignore',
    });
    pings.add(ping);
    return new Promise((resolve) =>
      ping.once('close', (code) => {
        pings.delete(ping);
        resolve(code);
      }),
    );
  }
  /** pings still running when a test ends (it failed): stopped, not left to the next test */
  const pings = new Set<ChildProcess>();
  afterEach(() => {
    for (const ping of pings) ping.kill('SIGKILL');
  });

  const FILTER = ['-f', 'icmp and host 127.0.0.77'];
  const NOTICE = (file: string): RegExp =>
    new RegExp(
      `^hopscope: recording ${file} stopped at (\\d+) packets: no space left on device; the file is complete up to there$`,
      'm',
    );

  it('stops the recording at its last whole block; the capture, its verdicts and its exit status go on', async () => {
    await onSmallTmpfs(async (dir) => {
      const file = join(dir, 'full.pcapng');
      const cli = startCapture(['-i', 'lo', '-w', file, ...FILTER], work);
      await cli.waitFor('stderr', /capturing on 1 interface: lo; recording to/);
      const pinged = bigPings();
      const notice = await cli.waitFor('stderr', NOTICE(file));
      expect(await pinged).toBe(0);
      cli.child.kill('SIGINT');
      expect(await cli.exited, cli.stderr()).toBe(0);

      const kept = Number(notice[1]);
      expect(kept).toBeGreaterThan(0);
      // the file: valid to the end, every packet kept whole
      expect(capinfosPackets(file)).toBe(kept);
      expect(tsharkFields(file, ['frame.len'])).toEqual(Array(kept).fill('60042'));
      // the capture went on: every echo judged, the table of what was captured, the recording said incomplete
      const out = cli.stdout();
      expect(out).toMatch(/^200 exchanges: 200 ok, 0 lost, 0 unanswered, 0 error, 0 inconclusive$/m);
      const captured = Number(/^(\d+) packets captured on 1 interface:$/m.exec(out)?.[1]);
      expect(captured).toBe(400);
      expect(out).toContain(
        `recording ${file} incomplete: stopped at ${kept} packets: no space left on device; the file is complete up to there`,
      );
      expect(cli.stderr()).not.toMatch(/RecordingError|\n\s+at /);
    });
  }, 120_000);

  it('a file-size limit (EFBIG) likewise: the recording stops whole, the capture goes on', async () => {
    const file = join(work, 'fsize.pcapng');
    const cli = startCapture(['-i', 'lo', '-w', file, ...FILTER], work, ['prlimit', '--fsize=1000000']);
    await cli.waitFor('stderr', /capturing on 1 interface: lo; recording to/);
    const pinged = bigPings();
    const notice = await cli.waitFor(
      'stderr',
      new RegExp(
        `^hopscope: recording ${file} stopped at (\\d+) packets: file too large; the file is complete up to there$`,
        'm',
      ),
    );
    expect(await pinged).toBe(0);
    cli.child.kill('SIGINT');
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(capinfosPackets(file)).toBe(Number(notice[1]));
    expect(statSync(file).size).toBeLessThanOrEqual(1_000_000);
    expect(cli.stdout()).toMatch(/^200 exchanges: 200 ok, 0 lost, 0 unanswered, 0 error, 0 inconclusive$/m);
  }, 120_000);

  it('with --json: a state record saying the recording is incomplete, then the final stats and summary', async () => {
    await onSmallTmpfs(async (dir) => {
      const file = join(dir, 'full.pcapng');
      const cli = startCapture(['-i', 'lo', '-w', file, '--json', ...FILTER], work);
      await cli.waitFor('stdout', /"type":"state","iface":"lo","state":"up"/);
      const pinged = bigPings();
      const line = await cli.waitFor('stdout', /^\{"type":"state","recording".*\}$/m);
      await cli.waitFor('stderr', NOTICE(file));
      expect(await pinged).toBe(0);
      cli.child.kill('SIGINT');
      expect(await cli.exited, cli.stderr()).toBe(0);

      const state = JSON.parse(line[0]) as Record<string, unknown>;
      expect(state).toEqual({
        type: 'state',
        recording: file,
        state: 'incomplete',
        reason: 'no space left on device',
        packets: expect.any(Number) as number,
        bytes: statSync(file).size,
      });
      expect(capinfosPackets(file)).toBe(state.packets);
      const records = cli
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.filter((r) => r.type === 'exchange' && r.status === 'ok')).toHaveLength(200);
      expect(records.find((r) => r.type === 'stats' && r.final === true)?.captured).toBe(400);
      expect(records.at(-1)).toMatchObject({ type: 'summary', exchanges: 200, ok: 200 });
    });
  }, 120_000);
});
