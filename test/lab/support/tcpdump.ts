// tcpdump as an independent witness: what did an interface really carry? Started
// inside the namespace, it prints one line per packet (-l); the helper waits for
// "listening on" (tcpdump needs about a second to open the interface) before
// the test sends anything.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunningCapture {
  /** stop tcpdump (after a short grace for packets in flight) and return its lines */
  stop(): Promise<string[]>;
}

const START_TIMEOUT_MS = 10_000;
const SETTLE_MS = 300;

/**
 * tcpdump inside `netns` on `iface` (`args` follow `-i IFACE`), once it says it listens;
 * fails if it does not within 10 s, or exits first. Its stdout is piped when `stdout`
 * says so (for the lines it prints), else discarded.
 */
export async function spawnTcpdump(
  netns: string,
  iface: string,
  args: readonly string[],
  stdout: 'pipe' | 'ignore' = 'ignore',
): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', iface, ...args], {
    stdio: ['ignore', stdout, 'pipe'],
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tcpdump on ${netns}/${iface} did not start: ${stderr.trim()}`)),
      START_TIMEOUT_MS,
    );
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump on ${netns}/${iface} exited (${code}): ${stderr.trim()}`));
    });
  });
  return child;
}

/**
 * tcpdump writing what `iface` carries to the pcap `file` (nanosecond stamps, each
 * packet as it comes); `args` follow (-s, a filter). Stop it with stopTcpdump.
 */
export function tcpdumpToFile(
  netns: string,
  iface: string,
  file: string,
  args: readonly string[] = [],
): Promise<ChildProcess> {
  return spawnTcpdump(netns, iface, [
    '-n',
    '-U',
    '--immediate-mode',
    '--time-stamp-precision=nano',
    '-w',
    file,
    ...args,
  ]);
}

/** Stops tcpdump as Ctrl-C does: it writes out what it holds, then exits. */
export async function stopTcpdump(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  await exited;
}

/** tcpdump printing one line per packet `filter` takes (stop() returns them). */
export async function startTcpdump(netns: string, iface: string, filter: string): Promise<RunningCapture> {
  const child = await spawnTcpdump(netns, iface, ['-nn', '-l', '-U', '-e', filter], 'pipe');
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  return {
    async stop(): Promise<string[]> {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await terminate(child);
      return packetLines(stdout);
    },
  };
}

const TIMESTAMP = /^\d{2}:\d{2}:\d{2}\.\d+ /;

/** One line per packet: tcpdump prints a tunnel's inner packet on a line of its own. */
function packetLines(output: string): string[] {
  const packets: string[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (TIMESTAMP.test(line) || packets.length === 0) packets.push(line);
    else packets[packets.length - 1] += ` | ${line.trim()}`;
  }
  return packets;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Capture on several interfaces while `action` runs; lines per `netns/iface`. */
export async function captureDuring(
  points: readonly { netns: string; iface: string }[],
  filter: string,
  action: () => Promise<void>,
): Promise<Map<string, string[]>> {
  const started = await Promise.allSettled(points.map((p) => startTcpdump(p.netns, p.iface, filter)));
  const captures = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const notStarted = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  let failure: unknown = notStarted?.reason;
  if (failure === undefined) {
    try {
      await action();
    } catch (err) {
      failure = err;
    }
  }
  // Every tcpdump is stopped whatever happened.
  const lines = await Promise.all(captures.map((c) => c.stop()));
  if (failure !== undefined) throw failure;
  return new Map(points.map((p, i) => [`${p.netns}/${p.iface}`, lines[i]]));
}
