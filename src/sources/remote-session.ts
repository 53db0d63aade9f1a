// One remote capture session: one local ssh process and the tcpdump it runs on the
// host, from connect to exit. Its stdout, a pcap stream, is framed as it comes
// (CaptureReader); its stderr is read line by line (tcpdump-stderr.ts) for "listening
// on", warnings and the final counts; how it ended is what RemoteCapture decides
// on (retry, give up). How the script on the host stops tcpdump: remote-script.ts.
import { execa, type ResultPromise } from 'execa';
import { CaptureReader } from '../framing/capture-reader.js';
import { CaptureFormatError } from '../framing/errors.js';
import type { CaptureInterface, CapturePacket } from '../framing/types.js';
import { STOP_FLUSH_SECONDS } from './remote-script.js';
import {
  BoundedLines,
  emptyReport,
  LineSplitter,
  parseStderrLine,
  type RemoteFailure,
  type RemoteFailureKind,
  type SessionOutcome,
  type TcpdumpReport,
} from './tcpdump-stderr.js';

export const SESSION_DEFAULTS = {
  /** after SIGTERM to a local ssh that does not exit */
  killGraceMs: 2_000,
  /** stderr lines kept per session for error messages (first ones and last ones) */
  keptStderrLines: 40,
} as const;

export interface SessionEnd {
  outcome: SessionOutcome;
  report: TcpdumpReport;
  delivered: number;
  /** set when the session was killed for a reason of ours (timeout, bad stream) */
  forced: RemoteFailure | null;
  stopRequested: boolean;
}

export interface SessionHandlers {
  onInterface(iface: CaptureInterface): void;
  onPacket(packet: CapturePacket): void;
  onBatchEnd(): void;
  onWarning(message: string): void;
}

/** One ssh process and the tcpdump it runs: from connect to exit. */
export class Session {
  readonly listening: Promise<void>;
  readonly ended: Promise<SessionEnd>;
  delivered = 0;
  readonly #child: ResultPromise;
  readonly #reader: CaptureReader;
  readonly #stderr = new LineSplitter();
  readonly #sshLines = new BoundedLines(SESSION_DEFAULTS.keptStderrLines);
  readonly #remoteLines = new BoundedLines(SESSION_DEFAULTS.keptStderrLines);
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
        }, SESSION_DEFAULTS.killGraceMs),
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
    this.#killTimers.push(setTimeout(() => this.#signalGroup('SIGKILL'), SESSION_DEFAULTS.killGraceMs));
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
