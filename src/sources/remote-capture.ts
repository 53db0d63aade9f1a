// One remote interface captured over ssh (DESIGN §4 "sources"): the system `ssh`
// runs `tcpdump -U -w -` on the host (inside a namespace with `ip netns exec`),
// and its stdout, a pcap stream, is framed incrementally by CaptureReader.
//
// The remote command is one string parsed by the remote shell (ssh has no argv),
// so it is built only from validated values, each single-quoted (shell-quote.ts).
//
// How a capture stops (the part that decides whether the last packets and the
// drop counters arrive): tcpdump flushes and prints "N packets captured / M
// received by filter / K dropped by kernel" only when it gets SIGINT or SIGTERM.
// Without a terminal, closing ssh sends nothing to the remote process: killing
// the local ssh would leave tcpdump running until its next write fails (SIGPIPE,
// counters lost on a closed stderr). Allocating a tty (-t) would deliver SIGHUP
// but mangles binary stdout (\n → \r\n). So the remote script ties tcpdump to
// the session's stdin:
//
//   tcpdump … </dev/null &               the capture, stdout = the session's stdout
//   ( read _ <&3; kill -TERM $pid ) &    a watcher blocked on the session's stdin
//   wait $pid; kill $watcher; exit $rc   the session ends when tcpdump ends
//
// `stop()` closes ssh's stdin → EOF reaches the watcher → SIGTERM → tcpdump
// flushes, prints its counts and exits → the session closes. Without
// --immediate-mode, libpcap reads the kernel ring (TPACKET_V3) a block at a
// time, and the kernel hands over a partly filled block only when tcpdump's
// 1 s block timeout expires; tcpdump does not drain the ring when signalled, so
// packets of the last second would be counted "received by filter" and never
// written. The watcher therefore waits STOP_FLUSH_SECONDS before the SIGTERM:
// every packet that arrived before stop() is written. The same EOF
// happens when this process dies (even SIGKILL: the pipe closes) or when the
// connection drops (sshd closes the session's pipes), so no remote tcpdump is
// left behind. If tcpdump fails by itself (no such device), `wait` returns and
// the session ends at once with its message. SIGTERM, not SIGINT: a
// non-interactive shell starts background jobs with SIGINT ignored. The watcher
// reads a copy of stdin on fd 3 because background jobs get /dev/null as stdin.
// The script runs under `sh -c`, so its meaning does not depend on the user's
// login shell (which only has to parse `exec sh -c '…'`).
//
// Time stamps: tcpdump writes µs unless given --time-stamp-precision=nano (tcpdump
// >= 4.6 built with libpcap >= 1.5); in µs, a packet on a tap and on its bridge get
// the same stamp. The script asks for nanoseconds where the host's tcpdump takes the
// option, found out on the host itself, without another ssh round trip:
//
//   if T --time-stamp-precision=nano --version || ! T --version   (quietly)
//   then set -- --time-stamp-precision=nano; else set --; fi
//   … T -i IFACE … "$@" -n -- FILTER
//
// A tcpdump that knows --version but rejects the option is run without it. One that
// knows neither (old) or is not there is run with it: then its own error is what the
// session reports, and a rejected option makes the next session go without (the
// no_nano_precision failure). What the stream then holds is told by its pcap magic
// (a1b2c3d4 µs, a1b23c4d ns), never by what was asked: the interface's tsResolutionNs.

import { execa, type ResultPromise } from 'execa';
import { CaptureReader } from '../framing/capture-reader.js';
import { CaptureFormatError } from '../framing/errors.js';
import { resolutionNs } from '../framing/timestamp.js';
import type { CaptureInterface, CapturePacket } from '../framing/types.js';
import {
  interfaceLabel,
  type FramedPacket,
  type InterfaceDescriptor,
  type InterfaceState,
  type InterfaceStats,
} from '../events/types.js';
import { shellJoin, shellQuote } from './shell-quote.js';
import {
  classifyFailure,
  emptyReport,
  LineSplitter,
  meansGone,
  parseStderrLine,
  SESSION_MARKER,
  type FailureContext,
  type RemoteFailure,
  type RemoteFailureKind,
  type SessionOutcome,
  type TcpdumpReport,
} from './tcpdump-stderr.js';

export interface BackoffOptions {
  /** wait before the first restart */
  initialMs: number;
  /** longest wait between restarts */
  maxMs: number;
  factor: number;
}

export interface RemoteCaptureOptions {
  /** ssh destination as the user wrote it (`root@compute2`, a `Host` alias) */
  host: string;
  /** named namespace on the host (`ip netns exec`), `pid:N` (nsenter), or null for the host's own */
  netns: string | null;
  iface: string;
  /** tcpdump filter syntax, compiled and run in the remote kernel */
  filter?: string;
  /** `ssh -F FILE` (the lab writes one); absent: the user's ~/.ssh/config applies */
  sshConfig?: string;
  /** bytes kept per packet, 0..262144, default 262144 (tcpdump's) */
  snaplen?: number;
  /** FramedPacket.interfaceId / InterfaceStats.interfaceId of this capture */
  interfaceId: number;
  /** the interface's own addresses (`10.0.0.1/24`) as the host's listing gave them; default none */
  addresses?: readonly string[];
  /** program run on the host, default 'tcpdump' (tests name a missing one) */
  tcpdumpPath?: string;
  /**
   * `--immediate-mode`: every packet is written at once. Default false: libpcap
   * buffers up to 1 s (a ring block) — fewer drops in bursts, up to 1 s later — and
   * stop() waits STOP_FLUSH_SECONDS for the last block.
   */
  immediate?: boolean;
  /** how `ssh` is run, default ['ssh'] (a wrapper such as `ip netns exec NS ssh`, `sudo -u U ssh`) */
  sshProgram?: readonly string[];
  /** start() rejects when tcpdump is not listening after this long; also bounds every restart */
  startTimeoutMs?: number;
  /** stop() waits this long (beyond STOP_FLUSH_SECONDS) for tcpdump's final counts before killing ssh */
  stopTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
}

/**
 * Callbacks run on the event loop; an exception thrown by one is an uncaught
 * exception, as for any event callback (LiveCapture does the same).
 */
export interface RemoteCaptureHandlers {
  /**
   * The interface as the pcap header describes it, before its first packet; called
   * again only if a later session reports a different linktype or snaplen.
   */
  onInterface?(iface: InterfaceDescriptor): void;
  /** The record is reused and `data` valid only during the call (STYLE 5: copy what you keep). */
  onPacket(packet: FramedPacket): void;
  /** After the packets of one chunk of the stream: a natural point to flush a batch. */
  onBatchEnd?(): void;
  /**
   * `up` (tcpdump listening), `retrying` (session lost, restarting after a backoff),
   * `gone` (the interface or its namespace is not there; still retrying), `stopped`
   * (stop(), or a failure at the first start). `reason` says why, null for `up`.
   */
  onState?(state: InterfaceState, reason: string | null): void;
  /** Cumulative counters: after every session that printed its counts, and once with final: true. */
  onStats?(stats: InterfaceStats): void;
  onWarning?(message: string): void;
}

export type RemoteCaptureErrorKind = RemoteFailureKind | 'invalid_argument' | 'stopped';

/** A remote capture that cannot start; `message` is one line for the user. */
export class RemoteCaptureError extends Error {
  readonly kind: RemoteCaptureErrorKind;
  constructor(kind: RemoteCaptureErrorKind, message: string) {
    super(message);
    this.name = 'RemoteCaptureError';
    this.kind = kind;
  }
}

export const REMOTE_CAPTURE_DEFAULTS = {
  snaplen: 262144,
  tcpdumpPath: 'tcpdump',
  sshProgram: ['ssh'] as readonly string[],
  startTimeoutMs: 15_000,
  stopTimeoutMs: 5_000,
  backoff: { initialMs: 500, maxMs: 10_000, factor: 2 } satisfies BackoffOptions,
  /** after SIGTERM to a local ssh that does not exit */
  killGraceMs: 2_000,
  /** stderr lines kept per session for error messages (first ones and last ones) */
  keptStderrLines: 40,
} as const;

/** Linux IFNAMSIZ (16) less the terminating NUL. */
const MAX_IFACE_BYTES = 15;
/** NAME_MAX: a named namespace is a file in /run/netns. */
const MAX_NETNS_BYTES = 255;
const MAX_SNAPLEN = 262144;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function fail(message: string): never {
  throw new RemoteCaptureError('invalid_argument', message);
}

function show(value: string): string {
  return JSON.stringify(value);
}

/** The rules the kernel applies to a device name (dev_valid_name), checked before anything reaches a shell. */
export function validateInterfaceName(iface: string): void {
  if (iface === '') fail('interface name is empty');
  if (Buffer.byteLength(iface) > MAX_IFACE_BYTES)
    fail(`interface name ${show(iface)} is longer than ${MAX_IFACE_BYTES} bytes (Linux IFNAMSIZ)`);
  if (iface === '.' || iface === '..') fail(`interface name ${show(iface)} is not valid`);
  if (iface.includes('/')) fail(`interface name ${show(iface)} contains '/'`);
  if (/\s/.test(iface) || CONTROL.test(iface))
    fail(`interface name ${show(iface)} contains whitespace or control characters`);
}

/** A named namespace is a file name under /run/netns; `pid:N` names a process's namespace. */
export function validateNetnsName(netns: string): void {
  if (/^pid:\d+$/.test(netns)) return;
  if (netns === '') fail('network namespace name is empty');
  if (netns === '.' || netns === '..') fail(`network namespace name ${show(netns)} is not valid`);
  if (netns.includes('/')) fail(`network namespace name ${show(netns)} contains '/'`);
  if (CONTROL.test(netns)) fail(`network namespace name ${show(netns)} contains control characters`);
  // `ip netns exec -x …` would be read as an option of ip.
  if (netns.startsWith('-')) fail(`network namespace name ${show(netns)} begins with '-'`);
  if (Buffer.byteLength(netns) > MAX_NETNS_BYTES)
    fail(`network namespace name ${show(netns).slice(0, 40)}… is longer than ${MAX_NETNS_BYTES} bytes`);
}

/** An ssh destination; one beginning with '-' would be read by ssh as an option (`-oProxyCommand=…`). */
export function validateHost(host: string): void {
  if (host === '') fail('ssh destination is empty');
  if (host.startsWith('-')) fail(`ssh destination ${show(host)} begins with '-'`);
  if (/\s/.test(host) || CONTROL.test(host))
    fail(`ssh destination ${show(host)} contains whitespace or control characters`);
}

/**
 * The filter as tcpdump gets it: one argument. Line ends and tabs become spaces
 * (the BPF lexer treats all whitespace alike), which keeps the remote command on
 * one line whatever shell reads it; other control characters are refused.
 */
export function normalizeFilter(filter: string | undefined): string | null {
  if (filter === undefined) return null;
  const text = filter.replace(/[\t\r\n]/g, ' ');
  if (CONTROL.test(text)) fail(`capture filter ${show(filter)} contains control characters`);
  return text.trim() === '' ? null : text;
}

export interface RemoteCommandInput {
  netns: string | null;
  iface: string;
  filter: string | null;
  snaplen: number;
  tcpdumpPath: string;
  immediate: boolean;
  /**
   * true: nanosecond time stamps where the host's tcpdump takes the option (the script
   * finds out, see the header comment); false: never asked (it was rejected before).
   */
  nano: boolean;
}

/** The option asking tcpdump for nanosecond time stamps. */
export const NANO_OPTION = '--time-stamp-precision=nano';

/** The capture's words before and after the place of NANO_OPTION. */
function captureWords(input: RemoteCommandInput): { head: string[]; tail: string[] } {
  const enter: string[] = [];
  if (input.netns !== null) {
    const pid = /^pid:(\d+)$/.exec(input.netns);
    // nsenter without --fork execs the program, so the pid the script signals is tcpdump's.
    enter.push(...(pid !== null ? ['nsenter', '-t', pid[1], '-n'] : ['ip', 'netns', 'exec', input.netns]));
  }
  return {
    head: [...enter, input.tcpdumpPath, '-i', input.iface, '-U', '-w', '-', '-s', String(input.snaplen)],
    tail: [
      ...(input.immediate ? ['--immediate-mode'] : []),
      '-n',
      ...(input.filter !== null ? ['--', input.filter] : []),
    ],
  };
}

/**
 * What runs on the host, as an argument vector, when its tcpdump takes every option
 * asked (without NANO_OPTION where it does not).
 */
export function remoteCaptureArgv(input: RemoteCommandInput): string[] {
  const { head, tail } = captureWords(input);
  return [...head, ...(input.nano ? [NANO_OPTION] : []), ...tail];
}

/**
 * The capture command as the script holds it: every word single-quoted, and with
 * `nano` a `"$@"` where NANO_OPTION goes — set, or not, by precisionProbe.
 */
export function remoteCaptureText(input: RemoteCommandInput): string {
  const { head, tail } = captureWords(input);
  return `${shellJoin(head)}${input.nano ? ' "$@"' : ''} ${shellJoin(tail)}`;
}

/** Sets the script's "$@" to NANO_OPTION where the host's tcpdump takes it, else empties it. */
export function precisionProbe(tcpdumpPath: string): string {
  const t = shellQuote(tcpdumpPath);
  const option = shellQuote(NANO_OPTION);
  const quiet = '</dev/null >/dev/null 2>&1';
  return `if ${t} ${option} --version ${quiet} || ! ${t} --version ${quiet}; then set -- ${option}; else set --; fi; `;
}

/**
 * Seconds between stop() and the SIGTERM when not in immediate mode: tcpdump's
 * 1 s ring-block timeout, and a margin (see the header comment).
 */
export const STOP_FLUSH_SECONDS = 1.5;

/** The POSIX sh script around the capture (see the header comment for why each piece is there). */
export function remoteScript(input: RemoteCommandInput): string {
  // In immediate mode nothing waits in the kernel's ring: no flush wait.
  const flushSeconds = input.immediate ? 0 : STOP_FLUSH_SECONDS;
  // A `sleep` without fractions fails at once; the whole-second one then still waits.
  const flush =
    flushSeconds > 0 ? `sleep ${flushSeconds} 2>/dev/null || sleep ${Math.ceil(flushSeconds)}; ` : '';
  return (
    // tcpdump and ip live in sbin, which a non-login PATH may lack; C messages are the ones parsed.
    'PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL; ' +
    `echo ${SESSION_MARKER} >&2; ` +
    (input.nano ? precisionProbe(input.tcpdumpPath) : '') +
    'exec 3<&0; ' +
    `${remoteCaptureText(input)} </dev/null 3<&- & pid=$!; ` +
    `(read _ <&3; ${flush}kill -TERM $pid) </dev/null >/dev/null 2>&1 & w=$!; ` +
    'exec 3<&-; wait $pid; rc=$?; kill $w 2>/dev/null; exit $rc'
  );
}

/** The one string ssh sends: the login shell only has to run `sh` with the quoted script. */
export function remoteCommand(input: RemoteCommandInput): string {
  return `exec sh -c ${shellQuote(remoteScript(input))}`;
}

export interface SshInput {
  host: string;
  sshConfig?: string;
  sshProgram?: readonly string[];
}

/** The local argv: ssh options, `--`, the destination, the remote command as one argument. */
export function sshArgv(input: SshInput, command: string): string[] {
  validateHost(input.host);
  if (input.sshConfig === '') fail('ssh config path is empty');
  return [
    ...(input.sshProgram ?? REMOTE_CAPTURE_DEFAULTS.sshProgram),
    ...(input.sshConfig !== undefined ? ['-F', input.sshConfig] : []),
    // No tty: the pcap stream is binary, and a tty would turn \n into \r\n.
    '-T',
    // Never wait for a password or a host-key question nobody will answer.
    '-o',
    'BatchMode=yes',
    // Notice a dead connection in ~6 s instead of TCP's minutes.
    '-o',
    'ServerAliveInterval=2',
    '-o',
    'ServerAliveCountMax=3',
    // A RemoteCommand in the user's config would make ssh refuse our command.
    '-o',
    'RemoteCommand=none',
    // One ssh per interface: the user's LocalForward lines would collide with each other.
    '-o',
    'ClearAllForwardings=yes',
    '--',
    input.host,
    command,
  ];
}

/** Keeps the first and the last lines of a long stderr, so memory stays bounded. */
class BoundedLines {
  readonly head: string[] = [];
  private tail: string[] = [];
  private dropped = 0;
  constructor(private readonly max: number) {}

  push(line: string): void {
    if (this.head.length < this.max / 2) {
      this.head.push(line);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > this.max / 2) {
      this.tail.shift();
      this.dropped++;
    }
  }

  all(): string[] {
    return this.dropped > 0
      ? [...this.head, `(${this.dropped} lines left out)`, ...this.tail]
      : [...this.head, ...this.tail];
  }
}

interface SessionEnd {
  outcome: SessionOutcome;
  report: TcpdumpReport;
  delivered: number;
  /** set when the session was killed for a reason of ours (timeout, bad stream) */
  forced: RemoteFailure | null;
  stopRequested: boolean;
}

type Phase = 'idle' | 'running' | 'stopping' | 'stopped';

export class RemoteCapture {
  readonly host: string;
  readonly netns: string | null;
  readonly iface: string;
  readonly interfaceId: number;
  /** `[HOST:][NETNS/]IFACE` (DESIGN §3) */
  readonly label: string;
  readonly filter: string | null;

  readonly #options: RemoteCaptureOptions;
  readonly #handlers: RemoteCaptureHandlers;
  readonly #backoff: BackoffOptions;
  readonly #snaplen: number;
  /** whether the next session asks for nanosecond stamps (false once tcpdump rejected them) */
  #nano = true;
  #phase: Phase = 'idle';
  #state: InterfaceState | null = null;
  #stateReason: string | null = null;
  #descriptor: InterfaceDescriptor | null = null;
  #session: Session | null = null;
  #loop: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;
  /** packets handed on, all sessions */
  #delivered = 0;
  /** counters of the sessions that ended */
  #receivedBase = 0;
  #droppedBase = 0;
  #ifDroppedBase: number | null = null;
  #finalStats: InterfaceStats | null = null;
  readonly #packet: FramedPacket;

  constructor(options: RemoteCaptureOptions, handlers: RemoteCaptureHandlers) {
    validateHost(options.host);
    if (options.netns !== null) validateNetnsName(options.netns);
    validateInterfaceName(options.iface);
    const snaplen = options.snaplen ?? REMOTE_CAPTURE_DEFAULTS.snaplen;
    if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > MAX_SNAPLEN)
      fail(`snaplen ${snaplen} is not an integer from 0 to ${MAX_SNAPLEN}`);
    const tcpdumpPath = options.tcpdumpPath ?? REMOTE_CAPTURE_DEFAULTS.tcpdumpPath;
    if (tcpdumpPath === '' || CONTROL.test(tcpdumpPath))
      fail(`tcpdump path ${show(tcpdumpPath)} is not valid`);
    this.filter = normalizeFilter(options.filter);
    this.#options = options;
    this.#handlers = handlers;
    this.#snaplen = snaplen;
    this.#backoff = { ...REMOTE_CAPTURE_DEFAULTS.backoff, ...options.backoff };
    this.host = options.host;
    this.netns = options.netns;
    this.iface = options.iface;
    this.interfaceId = options.interfaceId;
    this.label = interfaceLabel({ host: options.host, netns: options.netns, name: options.iface });
    this.#packet = {
      interfaceId: options.interfaceId,
      tsSec: 0,
      tsNsec: 0,
      caplen: 0,
      len: 0,
      data: new Uint8Array(0),
      offset: 0,
      // pcap records no direction.
      direction: 0,
    };
    // Built once here so a bad value fails in the constructor, not in a later session.
    this.argv();
  }

  /** The local command line of the next session (for logs and tests). */
  argv(): string[] {
    return sshArgv(this.#options, remoteCommand(this.#commandInput()));
  }

  get state(): InterfaceState | null {
    return this.#state;
  }

  /** The interface as its pcap header described it; null before the first header. */
  get descriptor(): InterfaceDescriptor | null {
    return this.#descriptor;
  }

  /** pid of the local ssh of the running session (diagnostics, tests); null between sessions. */
  get sshPid(): number | null {
    return this.#session?.pid ?? null;
  }

  /**
   * Resolves when the remote tcpdump is listening; rejects with a RemoteCaptureError
   * (one line: ssh failed, tcpdump missing, interface or namespace not found, …)
   * when the first session fails or does not start within startTimeoutMs. A first
   * failure is not retried: what fails at once (a typo, a missing program) would
   * fail again. Losses after that are retried (see onState).
   */
  start(): Promise<void> {
    if (this.#phase !== 'idle') return Promise.reject(new Error(`${this.label}: start() called twice`));
    this.#phase = 'running';
    return new Promise<void>((resolve, reject) => {
      this.#loop = this.#run(resolve, reject);
    });
  }

  /**
   * Ends the capture: tcpdump is told to stop (stdin closed), every packet it wrote
   * is delivered, its counts are read; then the final stats. Idempotent.
   */
  async stop(): Promise<InterfaceStats> {
    if (this.#phase === 'idle') {
      this.#phase = 'stopped';
      return this.#finish(null);
    }
    if (this.#phase === 'running') {
      this.#phase = 'stopping';
      this.#session?.requestStop(this.#options.stopTimeoutMs ?? REMOTE_CAPTURE_DEFAULTS.stopTimeoutMs);
      this.#wakeUp?.();
    }
    await this.#loop;
    return this.#finalStats ?? this.stats();
  }

  /** Live counters: `received` = packets delivered so far (plus counts of ended sessions). */
  stats(): InterfaceStats {
    if (this.#finalStats !== null) return this.#finalStats;
    return this.#statsNow(false);
  }

  #statsNow(final: boolean): InterfaceStats {
    const current = this.#session?.delivered ?? 0;
    const stats: InterfaceStats = {
      interfaceId: this.interfaceId,
      received: this.#receivedBase + current,
      dropped: this.#droppedBase,
      final,
    };
    if (this.#ifDroppedBase !== null) stats.ifDropped = this.#ifDroppedBase;
    return stats;
  }

  #commandInput(): RemoteCommandInput {
    return {
      netns: this.netns,
      iface: this.iface,
      filter: this.filter,
      snaplen: this.#snaplen,
      tcpdumpPath: this.#options.tcpdumpPath ?? REMOTE_CAPTURE_DEFAULTS.tcpdumpPath,
      immediate: this.#options.immediate ?? false,
      nano: this.#nano,
    };
  }

  #setState(state: InterfaceState, reason: string | null): void {
    // Repeated failures with the same cause are one state, not an event per attempt.
    if (state === this.#state && reason === this.#stateReason) return;
    this.#state = state;
    this.#stateReason = reason;
    this.#handlers.onState?.(state, reason);
  }

  async #run(resolveStart: () => void, rejectStart: (err: Error) => void): Promise<void> {
    let everUp = false;
    let delayMs = this.#backoff.initialMs;
    let failure: RemoteCaptureError | null = null;
    while (this.#phase === 'running') {
      const session = new Session(this.argv(), this.label, {
        onInterface: (iface) => this.#announce(iface),
        onPacket: (p) => this.#deliver(p),
        onBatchEnd: () => this.#handlers.onBatchEnd?.(),
        onWarning: (message) => this.#handlers.onWarning?.(message),
      });
      this.#session = session;
      const startTimeoutMs = this.#options.startTimeoutMs ?? REMOTE_CAPTURE_DEFAULTS.startTimeoutMs;
      const timer = setTimeout(() => session.timeOut(startTimeoutMs), startTimeoutMs);
      const first = await Promise.race([session.listening.then(() => 'up' as const), session.ended]);
      clearTimeout(timer);
      if (first === 'up') {
        everUp = true;
        delayMs = this.#backoff.initialMs;
        this.#setState('up', null);
        resolveStart();
      }
      const end = await session.ended;
      this.#session = null;
      this.#accumulate(end);
      if (end.stopRequested) break;
      const why = end.forced ?? classifyFailure(end.outcome, this.#failureContext());
      if (why.kind === 'no_nano_precision' && this.#nano) {
        // An older tcpdump/libpcap: microseconds are still the kernel's time stamps.
        this.#nano = false;
        this.#handlers.onWarning?.(`${this.label}: ${why.message}; capturing with microsecond time stamps`);
        continue;
      }
      if (!everUp) {
        failure = new RemoteCaptureError(why.kind, why.message);
        break;
      }
      if (end.report.captured !== null) this.#handlers.onStats?.(this.#statsNow(false));
      this.#setState(meansGone(why.kind) ? 'gone' : 'retrying', why.message);
      await this.#sleep(delayMs);
      delayMs = Math.min(delayMs * this.#backoff.factor, this.#backoff.maxMs);
    }
    if (failure === null && !everUp) {
      failure = new RemoteCaptureError('stopped', `capture on ${this.label} stopped before tcpdump started`);
    }
    if (failure !== null) rejectStart(failure);
    this.#phase = 'stopped';
    this.#finish(failure?.message ?? null);
  }

  #finish(reason: string | null): InterfaceStats {
    this.#finalStats = this.#statsNow(true);
    this.#handlers.onStats?.(this.#finalStats);
    this.#setState('stopped', reason);
    return this.#finalStats;
  }

  #failureContext(): FailureContext {
    return {
      host: this.host,
      where: interfaceLabel({ host: null, netns: this.netns, name: this.iface }),
      netns: this.netns,
      tcpdumpPath: this.#options.tcpdumpPath ?? REMOTE_CAPTURE_DEFAULTS.tcpdumpPath,
    };
  }

  #accumulate(end: SessionEnd): void {
    const r = end.report;
    // tcpdump's own count when it printed one (it includes packets the kernel dropped);
    // else what arrived here.
    this.#receivedBase += r.receivedByFilter ?? end.delivered;
    this.#droppedBase += r.droppedByKernel ?? 0;
    if (r.droppedByInterface !== null)
      this.#ifDroppedBase = (this.#ifDroppedBase ?? 0) + r.droppedByInterface;
    if (r.captured !== null && r.captured !== end.delivered) {
      this.#handlers.onWarning?.(
        `${this.label}: tcpdump reported ${r.captured} packets captured, ${end.delivered} arrived`,
      );
    }
    if (r.captured === null && end.delivered > 0 && !end.stopRequested) {
      // A session that died took its last buffered packets and its drop counts with it.
      this.#handlers.onWarning?.(
        `${this.label}: session ended without tcpdump's counts; packets in flight may be lost`,
      );
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }

  #announce(iface: CaptureInterface): void {
    const prev = this.#descriptor;
    // What the stream holds (its magic), not what was asked.
    const tsResolutionNs = resolutionNs(iface.tsResolution);
    if (
      prev !== null &&
      prev.linktype === iface.linktype &&
      prev.snaplen === iface.snaplen &&
      prev.tsResolutionNs === tsResolutionNs
    )
      return;
    if (prev !== null) {
      this.#handlers.onWarning?.(
        `${this.label}: link type, snaplen or time stamp resolution changed between sessions (${prev.linktype}/${prev.snaplen}/${prev.tsResolutionNs} ns → ${iface.linktype}/${iface.snaplen}/${tsResolutionNs} ns)`,
      );
    }
    this.#descriptor = {
      host: this.host,
      netns: this.netns,
      name: this.iface,
      id: this.interfaceId,
      label: this.label,
      linktype: iface.linktype,
      snaplen: iface.snaplen,
      tsResolutionNs,
      addresses: [...(this.#options.addresses ?? [])],
    };
    this.#handlers.onInterface?.(this.#descriptor);
  }

  #deliver(p: CapturePacket): void {
    // Copy the fields into our own reused record: the reader's carries its own
    // interface id (0), and consumers see one stable object per capture.
    const out = this.#packet;
    out.tsSec = p.tsSec;
    out.tsNsec = p.tsNsec;
    out.caplen = p.caplen;
    out.len = p.len;
    out.data = p.data;
    out.offset = p.offset;
    this.#delivered++;
    this.#handlers.onPacket(out);
  }

  /** Packets handed on since start(), all sessions. */
  get packetsDelivered(): number {
    return this.#delivered;
  }
}

interface SessionHandlers {
  onInterface(iface: CaptureInterface): void;
  onPacket(packet: CapturePacket): void;
  onBatchEnd(): void;
  onWarning(message: string): void;
}

/** One ssh process and the tcpdump it runs: from connect to exit. */
class Session {
  readonly listening: Promise<void>;
  readonly ended: Promise<SessionEnd>;
  delivered = 0;
  readonly #child: ResultPromise;
  readonly #reader: CaptureReader;
  readonly #stderr = new LineSplitter();
  readonly #sshLines = new BoundedLines(REMOTE_CAPTURE_DEFAULTS.keptStderrLines);
  readonly #remoteLines = new BoundedLines(REMOTE_CAPTURE_DEFAULTS.keptStderrLines);
  readonly #report = emptyReport();
  #markerSeen = false;
  #listeningSeen = false;
  #resolveListening: () => void = () => {};
  #forced: RemoteFailure | null = null;
  #stopRequested = false;
  #killTimers: NodeJS.Timeout[] = [];

  constructor(
    argv: readonly string[],
    private readonly label: string,
    private readonly handlers: SessionHandlers,
  ) {
    this.listening = new Promise((resolve) => {
      this.#resolveListening = resolve;
    });
    this.#reader = new CaptureReader({
      onInterface: (iface) => handlers.onInterface(iface),
      onPacket: (p) => {
        this.delivered++;
        handlers.onPacket(p);
      },
      onWarning: (message) => handlers.onWarning(`${label}: ${message}`),
    });
    this.#child = execa(argv[0], argv.slice(1), {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      encoding: 'buffer',
      // Streamed, never collected: a capture can run for days.
      buffer: false,
      reject: false,
      // No signal-exit handlers (they can re-raise SIGINT past the CLI's own, see
      // lab/run-command.ts). Nothing is left behind without them: if this process
      // dies, ssh's stdin closes and the remote script stops tcpdump.
      cleanup: false,
      // A process group of its own: the terminal's Ctrl-C goes to the CLI, which
      // stops captures gracefully (counts, last packets), instead of killing every
      // ssh at once; and ssh with its ProxyCommand can be signalled as one.
      detached: true,
    });
    this.#child.on('exit', () => {
      // ssh is gone; what is left of its group (a ProxyCommand ssh had no time to
      // stop) has no use, and would hold our stderr pipe open.
      this.#signalGroup('SIGTERM');
      // Something outside the group may still hold the pipes: do not wait for it forever.
      this.#killTimers.push(
        setTimeout(() => {
          this.#child.stdout?.destroy();
          this.#child.stderr?.destroy();
        }, REMOTE_CAPTURE_DEFAULTS.killGraceMs),
      );
    });
    // Writing to (or closing) the stdin of an ssh that already exited raises EPIPE; the exit itself is what matters.
    this.#child.stdin?.on('error', () => {});
    this.#child.stdout?.on('data', (chunk: Uint8Array) => this.#onStdout(chunk));
    this.#child.stderr?.on('data', (chunk: Uint8Array) => {
      for (const line of this.#stderr.push(chunk)) this.#onStderrLine(line);
    });
    this.ended = this.#waitEnd();
  }

  get pid(): number | null {
    return this.#child.pid ?? null;
  }

  /** Graceful stop: EOF on the remote script's stdin; force after `graceMs`. */
  requestStop(graceMs: number): void {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    if (!this.#listeningSeen) {
      // Nothing captured yet: no counts to wait for.
      this.#kill();
      return;
    }
    this.#child.stdin?.end();
    this.#killTimers.push(setTimeout(() => this.#kill(), graceMs + STOP_FLUSH_SECONDS * 1000));
  }

  timeOut(ms: number): void {
    if (this.#listeningSeen || this.#forced !== null) return;
    const last = [...this.#remoteLines.all(), ...this.#sshLines.all()].filter((l) => l.trim() !== '').pop();
    const kind: RemoteFailureKind = 'start_timeout';
    this.#forced = {
      kind,
      message: `tcpdump for ${this.label} not listening after ${ms / 1000} s${last !== undefined ? ` (last said: ${last})` : ''}`,
    };
    this.#kill();
  }

  #kill(): void {
    this.#signalGroup('SIGTERM');
    this.#killTimers.push(
      setTimeout(() => this.#signalGroup('SIGKILL'), REMOTE_CAPTURE_DEFAULTS.killGraceMs),
    );
  }

  /** ssh and whatever it started (ProxyCommand): the group is led by ssh (detached). */
  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the whole group has exited already.
    }
  }

  #onStdout(chunk: Uint8Array): void {
    if (this.#forced?.kind === 'bad_stream') return;
    try {
      this.#reader.push(chunk);
    } catch (err) {
      if (!(err instanceof CaptureFormatError)) throw err;
      const text = new TextDecoder()
        .decode(chunk.subarray(0, 60))
        .replace(/[^\x20-\x7e]+/g, ' ')
        .trim();
      this.#forced = {
        kind: 'bad_stream',
        message: `the output of tcpdump on ${this.label} is not a capture (${err.message}; it begins "${text}" — does a login script print to stdout?)`,
      };
      this.#kill();
      return;
    }
    this.handlers.onBatchEnd();
  }

  #onStderrLine(line: string): void {
    const parsed = parseStderrLine(line);
    switch (parsed.kind) {
      case 'marker':
        this.#markerSeen = true;
        return;
      case 'listening':
        this.#listeningSeen = true;
        this.#resolveListening();
        return;
      case 'count':
        this.#report[parsed.field] = parsed.value;
        return;
      case 'warning':
        this.handlers.onWarning(`${this.label}: ${parsed.message}`);
        break;
      case 'other':
        break;
    }
    (this.#markerSeen ? this.#remoteLines : this.#sshLines).push(line);
  }

  async #waitEnd(): Promise<SessionEnd> {
    const result = await this.#child;
    for (const t of this.#killTimers) clearTimeout(t);
    for (const line of this.#stderr.end()) this.#onStderrLine(line);
    if (this.#forced?.kind !== 'bad_stream') {
      try {
        this.#reader.end();
      } catch (err) {
        // No bytes at all: the session failed before tcpdump wrote its header (its stderr says why).
        if (!(err instanceof CaptureFormatError)) throw err;
        if (this.#reader.bytesReceived > 0) this.handlers.onWarning(`${this.label}: ${err.message}`);
      }
    }
    let exitCode = result.exitCode ?? null;
    const sshLines = this.#sshLines.all();
    if (exitCode === null && result.signal === undefined && result.cause instanceof Error) {
      // ssh itself could not be run (ENOENT): report like ssh's own failure.
      sshLines.push(`cannot run ${result.command.split(' ')[0]}: ${result.cause.message}`);
      exitCode = 255;
    }
    return {
      outcome: {
        exitCode,
        signal: result.signal ?? null,
        sshLines,
        remoteLines: this.#remoteLines.all(),
        markerSeen: this.#markerSeen,
        listeningSeen: this.#listeningSeen,
      },
      report: { ...this.#report },
      delivered: this.delivered,
      forced: this.#forced,
      stopRequested: this.#stopRequested,
    };
  }
}
