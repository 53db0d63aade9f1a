// One remote interface captured over ssh: the system `ssh` runs a script around
// `tcpdump -U -w -` on the host (remote-script.ts, ssh.ts), one session after another
// (remote-session.ts): a session lost after the capture was up is started again
// after a backoff (remote-backoff.ts), and the counts of all sessions are added up
// (remote-stats.ts). What the sessions say on stderr is read in tcpdump-stderr.ts.
// The interface, its packets, its states and its counters go to the handlers.

import { reusedFramedPacket } from '../framing/reused-packet.js';
import { resolutionNs } from '../framing/timestamp.js';
import type { CaptureInterface, CapturePacket } from '../framing/types.js';
import {
  interfaceLabel,
  type FramedPacket,
  type InterfaceDescriptor,
  type InterfaceState,
  type InterfaceStats,
} from '../events/types.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './remote-backoff.js';
import { RemoteCaptureError } from './remote-error.js';
import {
  normalizeFilter,
  remoteCommand,
  validateInterfaceName,
  validateNetnsName,
  validateSnaplen,
  validateTcpdumpPath,
  type RemoteCommandInput,
} from './remote-script.js';
import { Session } from './remote-session.js';
import { RemoteCounters } from './remote-stats.js';
import { sshArgv, validateHost } from './ssh.js';
import { acquireSshStart, SSH_REFUSED_AT_STARTUP } from './ssh-start-gate.js';
import { classifyFailure, meansGone, type FailureContext } from './tcpdump-stderr.js';

// start() rejects with it: callers catch it from here.
export { RemoteCaptureError, type RemoteCaptureErrorKind } from './remote-error.js';

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
  /** its MAC address as the host's listing gave it */
  mac?: string | null;
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
  /** The record is reused and `data` valid only during the call (copy what you keep: docs/architecture.md "Buffers"). */
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

export const REMOTE_CAPTURE_DEFAULTS = {
  snaplen: 262144,
  tcpdumpPath: 'tcpdump',
  startTimeoutMs: 15_000,
  stopTimeoutMs: 5_000,
  backoff: DEFAULT_BACKOFF,
} as const;

type Phase = 'idle' | 'running' | 'stopping' | 'stopped';

/** First sessions sshd closed before the key exchange that are tried again before start() fails. */
const MAX_REFUSED_AT_STARTUP = 4;

export class RemoteCapture {
  readonly host: string;
  readonly netns: string | null;
  readonly iface: string;
  readonly interfaceId: number;
  /** `[HOST:][NETNS/]IFACE` (docs/json-lines.md "Labels") */
  readonly label: string;
  readonly filter: string | null;

  readonly #options: RemoteCaptureOptions;
  readonly #handlers: RemoteCaptureHandlers;
  readonly #backoff: Backoff;
  readonly #snaplen: number;
  /** whether the next session asks for nanosecond stamps (false once tcpdump rejected them) */
  #nano = true;
  #phase: Phase = 'idle';
  #state: InterfaceState | null = null;
  #stateReason: string | null = null;
  #descriptor: InterfaceDescriptor | null = null;
  #session: Session | null = null;
  #loop: Promise<void> | null = null;
  /** packets handed on, all sessions */
  #delivered = 0;
  readonly #counters: RemoteCounters;
  #finalStats: InterfaceStats | null = null;
  readonly #packet: FramedPacket;

  constructor(options: RemoteCaptureOptions, handlers: RemoteCaptureHandlers) {
    validateHost(options.host);
    if (options.netns !== null) validateNetnsName(options.netns);
    validateInterfaceName(options.iface);
    const snaplen = options.snaplen ?? REMOTE_CAPTURE_DEFAULTS.snaplen;
    validateSnaplen(snaplen);
    validateTcpdumpPath(options.tcpdumpPath ?? REMOTE_CAPTURE_DEFAULTS.tcpdumpPath);
    this.filter = normalizeFilter(options.filter);
    this.#options = options;
    this.#handlers = handlers;
    this.#snaplen = snaplen;
    this.#backoff = new Backoff({ ...REMOTE_CAPTURE_DEFAULTS.backoff, ...options.backoff });
    this.#counters = new RemoteCounters(options.interfaceId);
    this.host = options.host;
    this.netns = options.netns;
    this.iface = options.iface;
    this.interfaceId = options.interfaceId;
    this.label = interfaceLabel({ host: options.host, netns: options.netns, name: options.iface });
    // (pcap records no direction)
    this.#packet = reusedFramedPacket(options.interfaceId);
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
      this.#backoff.wake();
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
    return this.#counters.now(this.#session?.delivered ?? 0, final);
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
    let failure: RemoteCaptureError | null = null;
    let refusedAtStartup = 0;
    while (this.#phase === 'running') {
      // A few connection set-ups at a time per host (ssh-start-gate.ts).
      const releaseStart = await acquireSshStart(this.host, this.#options.sshConfig);
      if (this.#phase !== 'running') {
        releaseStart();
        break;
      }
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
      releaseStart();
      if (first === 'up') {
        everUp = true;
        this.#backoff.reset();
        this.#setState('up', null);
        resolveStart();
      }
      const end = await session.ended;
      this.#session = null;
      this.#counters.add(end, this.label, (message) => this.#handlers.onWarning?.(message));
      if (end.stopRequested) break;
      const why = end.forced ?? classifyFailure(end.outcome, this.#failureContext());
      if (why.kind === 'no_nano_precision' && this.#nano) {
        // An older tcpdump/libpcap: microseconds are still the kernel's time stamps.
        this.#nano = false;
        this.#handlers.onWarning?.(`${this.label}: ${why.message}; capturing with microsecond time stamps`);
        continue;
      }
      if (
        !everUp &&
        why.kind === 'ssh_failed' &&
        SSH_REFUSED_AT_STARTUP.test(why.message) &&
        refusedAtStartup < MAX_REFUSED_AT_STARTUP
      ) {
        // sshd closed the connection before the key exchange (its MaxStartups, a
        // restart): not a mistake of the user's, which a first failure otherwise is.
        refusedAtStartup++;
        await this.#backoff.wait();
        continue;
      }
      if (!everUp) {
        failure = new RemoteCaptureError(why.kind, why.message);
        break;
      }
      if (end.report.captured !== null) this.#handlers.onStats?.(this.#statsNow(false));
      this.#setState(meansGone(why.kind) ? 'gone' : 'retrying', why.message);
      await this.#backoff.wait();
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
      mac: this.#options.mac ?? null,
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
