// The built CLI as a long-running child (a capture): its stdout lines as they come,
// a way to wait for one, signals, and its exit.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ExchangeRecord } from '../../src/events/types.js';
import { expectContract } from './json-schema.js';
import { CLI, PROJECT_ROOT } from './run-cli.js';

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** stdout lines so far */
  lines: string[];
  stderr(): string;
  /** resolves with the first line (old or new) for which `match` is true */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** resolves with the exit code (null when killed by a signal) */
  exited: Promise<number | null>;
}

/** Every child still running when the test process ends is killed (a failed test leaves none). */
const running = new Set<ChildProcessWithoutNullStreams>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function startCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: PROJECT_ROOT, stdio: 'pipe' });
  running.add(child);
  child.once('close', () => running.delete(child));
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      if (partial !== '') lines.push(partial);
      partial = '';
      for (const w of waiters.splice(0)) w();
      resolve(code);
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const waitForLine = (match: (line: string) => boolean, timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching line after ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`,
            ),
          ),
        timeoutMs,
      );
      const check = (): void => {
        const found = lines.find(match);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else if (done) {
          clearTimeout(timer);
          reject(
            new Error(`exited without a matching line; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`),
          );
        } else waiters.push(check);
      };
      check();
    });
  return { child, lines, stderr: () => stderr, waitForLine, exited };
}

/**
 * The JSON records among the lines (a capture with --json prints only those), each
 * checked against the contract (docs/hopscope.schema.json).
 */
export function jsonRecords(lines: readonly string[]): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    // Tests call this again and again while a capture runs: each line is checked once.
    if (!keptContract.has(line)) {
      expectContract([record], 'hopscope --json');
      keptContract.add(line);
    }
    records.push(record);
  }
  return records;
}

/** The exchange records among the lines (checked as jsonRecords does), of one kind if given. */
export function exchangesOf(lines: readonly string[], kind?: string): ExchangeRecord[] {
  return jsonRecords(lines).filter(
    (r) => r.type === 'exchange' && (kind === undefined || r.kind === kind),
  ) as unknown as ExchangeRecord[];
}

/** Lines already checked against the contract. */
const keptContract = new Set<string>();

/**
 * `hopscope capture ARGS --json` while `traffic` runs: once `interfaces` captures are up,
 * `traffic`; then until `done` holds of the lines; then SIGINT. Its lines, and whether
 * it exited (its status).
 */
export async function captureWhile(
  args: readonly string[],
  interfaces: number,
  traffic: () => Promise<unknown>,
  done: (lines: readonly string[]) => boolean,
  timeoutMs = 30_000,
): Promise<{ lines: string[]; status: number | null }> {
  const cli = startCli(['capture', ...args, '--json']);
  try {
    await cli.waitForLine(
      () =>
        jsonRecords(cli.lines).filter((x) => x.type === 'state' && x.state === 'up').length === interfaces,
      60_000,
    );
    await traffic();
    await cli.waitForLine(() => done(cli.lines), timeoutMs);
  } finally {
    cli.child.kill('SIGINT');
  }
  const status = await cli.exited;
  return { lines: cli.lines, status };
}
