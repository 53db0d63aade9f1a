// Runs short commands (an argument array, never a shell string) from a small helper
// process started once, so that hopscope's own process does not fork per command.
//
// Why: to start a child, libuv forks this process and waits until the child has exec'd.
// With a capture's heap and rings mapped, that holds the event loop 10–15 ms per command
// (and a fork from a worker thread stalls it as much: the fork write-locks the whole
// address space). While a live capture reads the state of the hops a verdict crossed,
// those stalls add up and the capture falls behind. The helper is a bare `node -e` of a
// few MB: its forks are cheap and hold up only its own loop.
//
// The helper reads one JSON request a line on stdin ({id, argv, timeoutMs, maxBuffer})
// and answers one JSON line on stdout ({id, exitCode, signal, stdout, stderr, timedOut,
// error}); each command runs with execFile (no shell), its stdin closed. It exits when
// its stdin closes (hopscope exited, however). A helper that dies is started again at
// the next command, at most once per RESTART_MS; a command that finds none gets an
// error result, as one whose program could not start.
//
// The helper runs at nice 19, and so does every command it starts. On a core shared
// with the capture (a pinned capture, a busy hypervisor), readings that run at the
// capture's priority took its CPU for hundreds of milliseconds at a time, and its
// kernel rings overflowed: the pinned latency trial of `npm run bench` dropped packets
// in most runs. At nice 19 a reading waits for the CPU the capture leaves.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import { setPriority } from 'node:os';
import type { Readable, Writable } from 'node:stream';

export interface LaunchedCommandResult {
  /** null when it did not exit by itself (killed, or never started) */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** killed after `timeoutMs` */
  timedOut: boolean;
  /** why it did not run or was cut (not found, output beyond maxBuffer, the helper died), else null */
  error: string | null;
  /** that error's code when it has one (ENOENT, EACCES, ERR_CHILD_PROCESS_STDIO_MAXBUFFER) */
  errorCode: string | null;
}

export interface LaunchOptions {
  timeoutMs: number;
  /** bytes of stdout (and of stderr) kept at most; beyond, the command is killed */
  maxBuffer: number;
}

/** nice 19: the helper and its commands never take CPU the capture wants. */
const LOWEST_PRIORITY = 19;

/** A helper is started at most once per this long (ms): one that keeps dying is not forked in a loop. */
const RESTART_MS = 5000;

/** The helper's program: CommonJS for `node -e`. */
const HELPER = `
'use strict';
const { execFile } = require('node:child_process');
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  pending += d;
  for (let i = pending.indexOf('\\n'); i >= 0; i = pending.indexOf('\\n')) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    run(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
function run(m) {
  let child;
  try {
    child = execFile(m.argv[0], m.argv.slice(1), { timeout: m.timeoutMs, maxBuffer: m.maxBuffer, encoding: 'utf8', killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      // err.code: the exit status (a number), or why it did not run or was cut (a string)
      const why = err != null && typeof err.code === 'string' ? err.code : null;
      process.stdout.write(JSON.stringify({
        id: m.id,
        exitCode: err == null ? 0 : typeof err.code === 'number' ? err.code : null,
        signal: err != null && err.signal != null ? err.signal : null,
        stdout: String(stdout),
        stderr: String(stderr),
        timedOut: err != null && err.killed === true && why === null,
        error: why !== null ? String(err.message) : null,
        errorCode: why,
      }) + '\\n');
    });
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: m.id, exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, error: String(err && err.message), errorCode: err && typeof err.code === 'string' ? err.code : null }) + '\\n');
    return;
  }
  if (child.stdin) child.stdin.end();
}
`;

type Helper = ChildProcessByStdio<Writable, Readable, null>;

interface Waiting {
  resolve(r: LaunchedCommandResult): void;
}

class CommandLauncher {
  #helper: Helper | null = null;
  #startedAt = Number.NEGATIVE_INFINITY;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();

  run(argv: readonly string[], options: LaunchOptions): Promise<LaunchedCommandResult> {
    const helper = this.#helper ?? this.#start();
    if (helper === null) return Promise.resolve(failed('the command helper process could not be started'));
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, { resolve });
      // The helper (and its pipes) keep this process alive only while commands wait.
      if (this.#waiting.size === 1) this.#hold(helper, true);
      helper.stdin.write(
        `${JSON.stringify({ id, argv, timeoutMs: options.timeoutMs, maxBuffer: options.maxBuffer })}\n`,
      );
    });
  }

  /** The helper process (tests: to see that commands are its children). */
  get pid(): number | undefined {
    return this.#helper?.pid;
  }

  #start(): Helper | null {
    if (Date.now() - this.#startedAt < RESTART_MS) return null;
    this.#startedAt = Date.now();
    let helper: Helper;
    try {
      helper = spawn(process.execPath, ['-e', HELPER], { stdio: ['pipe', 'pipe', 'ignore'] });
    } catch {
      return null;
    }
    if (helper.pid !== undefined) yieldToCapture(helper.pid);
    let pending = '';
    helper.stdout.setEncoding('utf8');
    helper.stdout.on('data', (d: string) => {
      pending += d;
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        this.#answer(JSON.parse(line) as LaunchedCommandResult & { id: number });
      }
    });
    // a write to a helper that died is answered by its 'close' below
    helper.stdin.on('error', () => undefined);
    helper.on('error', () => undefined);
    helper.on('close', () => {
      if (this.#helper === helper) this.#helper = null;
      const lost = [...this.#waiting.values()];
      this.#waiting.clear();
      for (const w of lost) w.resolve(failed('the command helper process ended'));
    });
    this.#helper = helper;
    this.#hold(helper, false);
    return helper;
  }

  #answer(r: LaunchedCommandResult & { id: number }): void {
    const w = this.#waiting.get(r.id);
    if (w === undefined) return;
    this.#waiting.delete(r.id);
    if (this.#waiting.size === 0 && this.#helper !== null) this.#hold(this.#helper, false);
    const { id: _id, ...result } = r;
    w.resolve(result);
  }

  #hold(helper: Helper, hold: boolean): void {
    // (its pipes are sockets: they keep the loop alive as the process does)
    for (const h of [helper, helper.stdin as Socket, helper.stdout as Socket]) {
      if (hold) h.ref();
      else h.unref();
    }
  }
}

/**
 * The helper, and every command it starts (niceness is inherited), runs at the lowest
 * priority: on a core the capture shares with them, the capture's thread gets the CPU
 * first, and a reading waits instead of costing packets.
 */
function yieldToCapture(pid: number): void {
  try {
    setPriority(pid, LOWEST_PRIORITY);
  } catch {
    // not allowed here (an unprivileged user may only lower priority, which this is): run as is
  }
}

function failed(error: string): LaunchedCommandResult {
  return { exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, error, errorCode: null };
}

const launcher = new CommandLauncher();

/** Runs `argv` (no shell) through the helper process; never rejects. */
export function launch(argv: readonly string[], options: LaunchOptions): Promise<LaunchedCommandResult> {
  return launcher.run(argv, options);
}

/** The helper's pid once started (for tests). */
export function launcherPid(): number | undefined {
  return launcher.pid;
}
