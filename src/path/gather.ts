// Runs the gather script (gather-script.ts) on this machine or, over ssh, on a host —
// one process per host — and parses what it printed. The only words from the user
// that reach a shell are the namespace pattern and the ssh destination: the pattern
// single-quoted as a positional parameter, the destination checked and given to ssh
// after `--` (sshArgv, the same ssh as remote capture).
import { execa } from 'execa';
import { shellJoin, shellQuote } from '../sources/shell-quote.js';
import { sshArgv, validateHost } from '../sources/ssh.js';
import { gatherScript, type GatherMode } from './gather-script.js';
import { parseGatherOutput, type HostState } from './snapshot.js';

export interface GatherOptions {
  /** ssh destination; null: this machine */
  host: string | null;
  /** named namespaces to ask (a shell pattern); the host's own is always asked */
  netns?: string;
  mode?: GatherMode;
  sshConfig?: string;
  /** default 60 s: a host with a thousand namespaces takes a while, one that does not answer is an error */
  timeoutMs?: number;
}

/** A host whose state could not be read; one line for the user. */
export class GatherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatherError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** The argv that runs the script (local `sh`, or ssh with the script as its one command). */
export function gatherArgv(options: GatherOptions): string[] {
  const params = [options.netns ?? '*', options.mode ?? 'full'];
  if (options.host === null) return ['sh', '-c', gatherScript(), 'sh', ...params];
  validateHost(options.host);
  const command = `exec sh -c ${shellQuote(gatherScript())} sh ${shellJoin(params)}`;
  return sshArgv({ host: options.host, sshConfig: options.sshConfig }, command);
}

export async function gatherHost(options: GatherOptions): Promise<HostState> {
  const argv = gatherArgv(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = options.host ?? 'this host';
  const r = await execa(argv[0], argv.slice(1), {
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.timedOut) throw new GatherError(`${where}: no answer within ${timeoutMs / 1000} s`);
  if (r.code === 'ENOENT') throw new GatherError(`${where}: cannot run ${argv[0]}`);
  if (r.failed) {
    const lines = String(r.stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('Warning: Permanently added'));
    const last = lines[lines.length - 1] ?? `${argv[0]} exited with status ${r.exitCode ?? r.signal}`;
    throw new GatherError(`${where}: cannot read its network state: ${last}`);
  }
  try {
    return parseGatherOutput(options.host, String(r.stdout));
  } catch (err) {
    throw new GatherError((err as Error).message);
  }
}
