// Long-running lab processes: started detached (they outlive `hopscope lab up`),
// identified by pid *and* start time so `lab down` never signals a process that
// merely reuses a recorded pid.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RecordedProcess {
  /** file-name friendly name ("sshd-compute") */
  name: string;
  netns: string;
  pid: number;
  /** /proc/<pid>/stat field 22: start time in clock ticks since boot */
  startTicks: number;
  argv: string[];
  log: string;
}

export interface StartedProcess {
  pid: number;
  startTicks: number;
  /** resolves with the exit code (or signal) if the process ends while this process lives */
  exited: Promise<string>;
}

/** Start time of a live process, or null if there is none with that pid. */
export function processStartTicks(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); start time is field 22.
  if (fields[0] === 'Z') return null;
  const ticks = Number(fields[22 - 3]);
  return Number.isFinite(ticks) ? ticks : null;
}

export function isSameProcessAlive(p: Pick<RecordedProcess, 'pid' | 'startTicks'>): boolean {
  return processStartTicks(p.pid) === p.startTicks;
}

/** Start argv detached, stdin from /dev/null, stdout and stderr appended to `log`. */
export function startDetached(argv: readonly string[], log: string): StartedProcess {
  const fd = openSync(log, 'a', 0o600);
  try {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${argv[0]}`);
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) =>
        resolve(signal !== null ? `killed by ${signal}` : `exited with status ${code}`),
      );
      child.once('error', (err) => resolve(`failed to start: ${err.message}`));
    });
    child.unref();
    const startTicks = processStartTicks(pid);
    if (startTicks === null) throw new Error(`${argv[0]} exited at once (see ${log})`);
    return { pid, startTicks, exited };
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; only if pid still is the recorded process. */
export async function stopProcess(
  p: Pick<RecordedProcess, 'pid' | 'startTicks'>,
  graceMs = 2000,
): Promise<void> {
  if (!isSameProcessAlive(p)) return;
  signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isSameProcessAlive(p)) return;
    await sleep(20);
  }
  if (isSameProcessAlive(p)) signal(p.pid, 'SIGKILL');
}

/** Signal a pid, ignoring "no such process" (it ended between check and kill). */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
