// The kernel's drop reasons on a remote host, over ssh (docs/json-lines.md `cause`): one session per
// host runs tracefs-script.ts and streams its skb:kfree_skb lines back. tracefs
// records nothing of the packet (reason, location, EtherType only), so these drops
// are matched to an exchange by time alone, and marked so (`matchedBy: "time"`).
//
//   <idle>-0 [001] ..s2. 5021.123456: kfree_skb: skbaddr=… rx_sk=… protocol=2048 location=nf_hook_slow+0x9e/0xd0 reason: NETFILTER_DROP
//
// Kept: the newest `capacity` drops (default 16 384), as plain records.
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { sshArgv } from '../../sources/ssh.js';
import { acquireSshStart } from '../../sources/ssh-start-gate.js';
import { SYNC_MARK, TICK_MARK, TRACEFS_MARKER, tracefsCommand } from './tracefs-script.js';

export interface TracefsDrop {
  /** wall-clock time of the host, ns since 1970 */
  tsNs: bigint;
  reason: string;
  /** `nf_hook_slow+0x9e` */
  location: string;
  /** EtherType */
  protocol: number;
}

export type TracefsLine =
  | { kind: 'drop'; traceSec: number; traceUsec: number; reason: string; location: string; protocol: number }
  | { kind: 'sync-mark'; traceSec: number; traceUsec: number }
  | { kind: 'tick'; traceSec: number; traceUsec: number }
  | { kind: 'sync'; before: string; after: string }
  | { kind: 'tracing' | 'removed' | 'removed-stale'; name: string }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'other' };

const TRACE_LINE = /\s(\d+)\.(\d+): (\S+): (.*)$/;

/** One line of the session's output. Pure. */
export function parseTracefsLine(line: string): TracefsLine {
  if (line.startsWith(`${TRACEFS_MARKER} `)) {
    const rest = line.slice(TRACEFS_MARKER.length + 1);
    const space = rest.indexOf(' ');
    const word = space < 0 ? rest : rest.slice(0, space);
    const arg = space < 0 ? '' : rest.slice(space + 1);
    if (word === 'sync') {
      const [before, after] = arg.split(' ');
      return { kind: 'sync', before, after };
    }
    if (word === 'unavailable') return { kind: 'unavailable', reason: arg };
    if (word === 'tracing' || word === 'removed' || word === 'removed-stale')
      return { kind: word, name: arg };
    return { kind: 'other' };
  }
  const m = TRACE_LINE.exec(line);
  if (m === null) return { kind: 'other' };
  const traceSec = Number(m[1]);
  const traceUsec = Number(m[2].padEnd(6, '0').slice(0, 6));
  if (m[3] === 'tracing_mark_write:' || m[3] === 'tracing_mark_write') {
    if (m[4].includes(SYNC_MARK)) return { kind: 'sync-mark', traceSec, traceUsec };
    return m[4].includes(TICK_MARK) ? { kind: 'tick', traceSec, traceUsec } : { kind: 'other' };
  }
  if (m[3] !== 'kfree_skb') return { kind: 'other' };
  const body = m[4];
  const location = /location=(\S+)/.exec(body)?.[1] ?? '?';
  return {
    kind: 'drop',
    traceSec,
    traceUsec,
    reason: /reason: (\S+)/.exec(body)?.[1] ?? 'NOT_SPECIFIED',
    // `nf_hook_slow+0x9e/0xd0`: the function's size is no help to a reader
    location: location.replace(/\/0x[0-9a-f]+$/, ''),
    protocol: Number(/protocol=(\d+)/.exec(body)?.[1] ?? 0),
  };
}

/** `1700000000.123456789` → ns */
function decimalNs(text: string): bigint {
  const [sec, frac = ''] = text.split('.');
  return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

export interface RemoteDropTraceOptions {
  host: string;
  sshConfig?: string;
  sshProgram?: readonly string[];
  /** random by default */
  nonce?: string;
  capacity?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export class RemoteDropTrace {
  readonly host: string;
  readonly nonce: string;
  readonly #options: RemoteDropTraceOptions;
  readonly #drops: TracefsDrop[] = [];
  readonly #capacity: number;
  #child: ResultPromise | null = null;
  /** the session's output read to its end (its last lines say the instance is gone) */
  #stdoutEnded: Promise<void> = Promise.resolve();
  #partial = '';
  #mark: bigint | null = null;
  /** wall clock minus trace clock, ns */
  #offsetNs: bigint | null = null;
  #pendingSync: bigint | null = null;
  #unavailable: string | null = null;
  #instance: string | null = null;
  #removed = false;
  /** instances of killed runs this session removed */
  readonly removedStale: string[] = [];
  #onState: (() => void) | null = null;
  /** wall-clock time the trace has been read up to (its latest tick), ns */
  #readUpTo = 0n;
  #onTick: Array<() => void> = [];

  constructor(options: RemoteDropTraceOptions) {
    this.host = options.host;
    this.nonce = options.nonce ?? randomBytes(8).toString('hex');
    this.#options = options;
    this.#capacity = options.capacity ?? 16_384;
  }

  /** Why there is no trace on this host (null while tracing or before start). */
  get unavailable(): string | null {
    return this.#unavailable;
  }

  /** The instance's name once tracing (`hopscope-<pid>-<nonce>`). */
  get instance(): string | null {
    return this.#instance;
  }

  get removed(): boolean {
    return this.#removed;
  }

  /** Resolves once the host traces, or once it said it cannot (then `unavailable` says why). Never rejects. */
  async start(): Promise<void> {
    const argv = sshArgv(
      { host: this.host, sshConfig: this.#options.sshConfig, sshProgram: this.#options.sshProgram },
      tracefsCommand(this.nonce),
    );
    // One of the few connections to this host set up at a time (the capture's too).
    const releaseStart = await acquireSshStart(this.host, this.#options.sshConfig);
    const child = execa(argv[0], argv.slice(1), {
      reject: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
    });
    this.#child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => this.#onData(d.toString()));
    this.#stdoutEnded = new Promise<void>((resolve) => {
      if (child.stdout === null || child.stdout === undefined) resolve();
      else child.stdout.once('close', () => resolve());
    });
    const ready = new Promise<void>((resolve) => {
      this.#onState = resolve;
      void child.then((r) => {
        if (this.#instance === null && this.#unavailable === null) {
          const last = stderr.trim().split('\n').pop() ?? '';
          this.#unavailable = `ssh ${this.host}: ${last || `exit status ${r.exitCode}`}`;
        }
        resolve();
      });
    });
    const timeout = new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        if (this.#instance === null && this.#unavailable === null)
          this.#unavailable = `no answer from ${this.host} within ${this.#options.startTimeoutMs ?? 15_000} ms`;
        resolve();
      }, this.#options.startTimeoutMs ?? 15_000);
      t.unref();
    });
    await Promise.race([ready, timeout]);
    releaseStart();
  }

  #onData(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#onLine(line);
  }

  #onLine(line: string): void {
    const l = parseTracefsLine(line);
    switch (l.kind) {
      case 'drop': {
        const trace = BigInt(l.traceSec) * 1_000_000_000n + BigInt(l.traceUsec) * 1000n;
        const offset = this.#offsetNs ?? 0n;
        this.#drops.push({
          tsNs: trace + offset,
          reason: l.reason,
          location: l.location,
          protocol: l.protocol,
        });
        if (this.#drops.length > this.#capacity) this.#drops.splice(0, this.#drops.length - this.#capacity);
        return;
      }
      case 'tick':
        this.#readUpTo =
          BigInt(l.traceSec) * 1_000_000_000n + BigInt(l.traceUsec) * 1000n + (this.#offsetNs ?? 0n);
        for (const f of this.#onTick.splice(0)) f();
        return;
      case 'sync-mark':
        this.#mark = BigInt(l.traceSec) * 1_000_000_000n + BigInt(l.traceUsec) * 1000n;
        if (this.#pendingSync !== null) this.#offsetNs = this.#pendingSync - this.#mark;
        return;
      case 'sync': {
        const wall = (decimalNs(l.before) + decimalNs(l.after)) / 2n;
        this.#pendingSync = wall;
        if (this.#mark !== null) this.#offsetNs = wall - this.#mark;
        return;
      }
      case 'tracing':
        this.#instance = l.name;
        this.#onState?.();
        return;
      case 'removed':
        this.#removed = true;
        return;
      case 'removed-stale':
        this.removedStale.push(l.name);
        return;
      case 'unavailable':
        this.#unavailable = l.reason;
        this.#onState?.();
        return;
      case 'other':
        return;
    }
  }

  /**
   * Resolves once the host's trace has been read past `ns` (its wall clock): the drops
   * of a window that ended are all here then. At most `timeoutMs`; at once without a trace.
   */
  async readPast(ns: bigint, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#readUpTo < ns && this.#child !== null && this.#instance !== null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#onTick.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Drops of the host in [startNs, endNs] (its wall clock). */
  query(window: { startNs: bigint; endNs: bigint }): TracefsDrop[] {
    return this.#drops.filter((d) => d.tsNs >= window.startNs && d.tsNs <= window.endNs);
  }

  /** Ends the trace: the host disables the event and removes its instance; resolves when the session ended. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    this.#child = null;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGTERM'), this.#options.stopTimeoutMs ?? 5000);
    await child;
    await this.#stdoutEnded;
    clearTimeout(timer);
    if (this.#partial !== '') this.#onLine(this.#partial);
    this.#partial = '';
  }
}
