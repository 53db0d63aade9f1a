// The kernel's drops in the namespaces an evidence gatherer watches (gatherer.ts): this
// machine's through the addon's BPF program (drop-tracer.ts), one watch per namespace;
// a remote host's through a tracefs instance of its own (tracefs-drops.ts), one per
// host. Asked for a packet's drops in an exchange's window (widened by a slack for
// hosts' clocks and the kernel's lag), it answers them grouped by reason and place, or
// why they could not be read.
import type { KernelDropEvidence } from '../../events/types.js';
import { namespaceKey, nsToTs, type ExchangePacket, type HopPlace, type NamespaceKey } from '../context.js';
import { isUnreadable, type HopFacts } from '../state/hop-facts.js';
import { DropTracerUnavailable, LocalDropTracer } from './drop-tracer.js';
import { Kallsyms } from './kallsyms.js';
import { RemoteDropTrace } from './tracefs-drops.js';

const NS_PER_MS = 1_000_000n;

export interface KernelDropWatchOptions {
  /** `auto`: where it can run; `off`: never */
  kernel: 'auto' | 'off';
  sshConfig?: string;
  sshProgram?: readonly string[];
  /** drops are looked for this much before and after an exchange's window */
  windowSlackMs: number;
  /** longest a query waits for a remote host's trace to catch up with the exchange */
  traceWaitMs: number;
}

/** The file of a namespace the tracer watches: a named one's, or a process's (`pid:N`). */
function netnsPath(netns: string | null): string | null {
  if (netns === null) return null;
  const pid = /^pid:(\d+)$/.exec(netns);
  return pid !== null ? `/proc/${pid[1]}/ns/net` : `/run/netns/${netns}`;
}

/** The kernel's drops of one gatherer's namespaces: open, watch, ask, stop. */
export class KernelDropWatch {
  readonly #options: KernelDropWatchOptions;
  readonly #kallsyms = new Kallsyms();
  #tracer: LocalDropTracer | null = null;
  #unavailable: string | null = null;
  /** namespace → its inode, as the local tracer watches it */
  readonly #inodes = new Map<string, number>();
  readonly #remote = new Map<string, RemoteDropTrace>();

  constructor(options: KernelDropWatchOptions) {
    this.#options = options;
  }

  /** Why this machine's kernel drops are not traced; null when they are. */
  get unavailable(): string | null {
    return this.#unavailable;
  }

  /** The tracefs session of a remote host (tests). */
  remoteTrace(host: string): RemoteDropTrace | undefined {
    return this.#remote.get(host);
  }

  /** When the capture starts: the local tracer opens when some place is on this machine. */
  open(places: readonly HopPlace[]): void {
    if (this.#options.kernel !== 'off' && places.some((p) => p.host === null)) {
      try {
        this.#tracer = LocalDropTracer.open();
      } catch (err) {
        this.#unavailable = err instanceof DropTracerUnavailable ? err.message : String(err);
      }
    } else if (this.#options.kernel === 'off') this.#unavailable = 'kernel drop tracing is off';
  }

  /** A namespace newly captured: watched by the local tracer, or its host gets a trace (started by startRemotes). */
  watch(p: HopPlace): void {
    if (p.host === null && this.#tracer !== null) {
      try {
        this.#inodes.set(namespaceKey(p), this.#tracer.watch(netnsPath(p.netns)));
      } catch {
        // a namespace gone already: its drops are not watched
      }
    }
    if (p.host !== null && this.#options.kernel !== 'off' && !this.#remote.has(p.host)) {
      const trace = new RemoteDropTrace({
        host: p.host,
        sshConfig: this.#options.sshConfig,
        sshProgram: this.#options.sshProgram,
      });
      this.#remote.set(p.host, trace);
    }
  }

  /** Starts the remote traces not started yet (nor found unavailable). */
  startRemotes(): Array<Promise<void>> {
    return [...this.#remote.values()]
      .filter((t) => t.instance === null && t.unavailable === null)
      .map((t) => t.start());
  }

  /**
   * The drops of `s.packet` in the namespace `s.place` (read as `f`) in the exchange's
   * window; `waitingFor` is told when the query waits for a remote host's trace.
   */
  async drops(
    s: { place: NamespaceKey; packet: ExchangePacket },
    f: HopFacts,
    exchangeWindow: { startNs: bigint; endNs: bigint },
    waitingFor: (host: string) => void,
  ): Promise<{ drops: KernelDropEvidence[]; unreadable: string | null }> {
    const slack = BigInt(this.#options.windowSlackMs) * NS_PER_MS;
    const window = { startNs: exchangeWindow.startNs - slack, endNs: exchangeWindow.endNs + slack };
    const where = {
      ...(f.host !== null ? { host: f.host } : {}),
      ...(f.netns !== null ? { netns: f.netns } : {}),
    };
    if (s.place.host === null) {
      if (this.#tracer === null)
        return { drops: [], unreadable: this.#unavailable ?? 'kernel drop tracing did not start' };
      const inode = this.#inodes.get(namespaceKey(s.place));
      if (inode === undefined)
        return { drops: [], unreadable: 'this namespace was not watched by the drop tracer' };
      const found = this.#tracer.query(new Set([inode]), window, s.packet);
      if (found.byPacket.length === 0) return { drops: [], unreadable: null };
      const names = await this.#kallsyms.symbolise(found.byPacket.map((d) => d.location));
      const links = f.links !== null && !isUnreadable(f.links) ? f.links : [];
      const groups = new Map<string, KernelDropEvidence>();
      for (const d of found.byPacket) {
        const reason = this.#tracer.reasonName(d.reason);
        const location = names.get(d.location) ?? d.location;
        const key = `${reason} ${location}`;
        const had = groups.get(key);
        if (had !== undefined) {
          had.drops++;
          continue;
        }
        const iface = links.find((l) => l.ifindex === d.ifindex)?.name;
        groups.set(key, {
          source: 'kernel',
          ...where,
          reason,
          location,
          ...(iface !== undefined ? { iface } : {}),
          matchedBy: 'packet',
          drops: 1,
          ts: nsToTs(BigInt(d.tsSec) * 1_000_000_000n + BigInt(d.tsNsec)),
        });
      }
      return { drops: [...groups.values()], unreadable: null };
    }
    const trace = this.#remote.get(s.place.host);
    if (trace === undefined)
      return {
        drops: [],
        unreadable: this.#options.kernel === 'off' ? 'kernel drop tracing is off' : 'no trace on this host',
      };
    if (trace.unavailable !== null) return { drops: [], unreadable: trace.unavailable };
    // trace_pipe hands drops over a little late: the window's are in once a later tick is
    const now = BigInt(Date.now()) * NS_PER_MS;
    waitingFor(s.place.host);
    await trace.readPast(exchangeWindow.endNs < now ? exchangeWindow.endNs : now, this.#options.traceWaitMs);
    const ether = s.packet.family === 4 ? 0x0800 : s.packet.family === 6 ? 0x86dd : 0x0806;
    const groups = new Map<string, KernelDropEvidence>();
    for (const d of trace.query(window)) {
      if (d.protocol !== ether) continue;
      const key = `${d.reason} ${d.location}`;
      const had = groups.get(key);
      if (had !== undefined) {
        had.drops++;
        continue;
      }
      groups.set(key, {
        source: 'kernel',
        host: s.place.host,
        reason: d.reason,
        location: d.location,
        matchedBy: 'time',
        drops: 1,
        ts: nsToTs(d.tsNs),
      });
    }
    // the host's own drops are not all this exchange's: only those of a kind that explains a drop
    return { drops: [...groups.values()].filter((g) => g.reason !== 'NOT_SPECIFIED'), unreadable: null };
  }

  async stop(): Promise<void> {
    this.#tracer?.close();
    this.#tracer = null;
    await Promise.all([...this.#remote.values()].map((t) => t.stop()));
  }
}
