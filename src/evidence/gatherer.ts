// The evidence gatherer (docs/json-lines.md `cause`): what the pipeline calls while it captures.
//
//   start(places)   when the capture starts, with every interface captured: kernel drop
//                   tracing begins (the addon's BPF program for this machine's
//                   namespaces, a tracefs instance per remote host), and each
//                   namespace's firewall counters and conntrack are read once, so a
//                   counter that moves later has something to move from
//   watch(places)   interfaces attached later (a glob's new match): the same for them
//   explain(ctx)    for each lost, unanswered or error verdict: the cause (null for the
//                   others); reads the last-seen hop's namespace and the next expected
//                   one (and NAT hops on the path when those do not explain it), never
//                   throws, never changes the system
//   stop()          when the capture stops (Ctrl-C included): the BPF program detached,
//                   the remote instances removed
//
// All of it runs off the capture path (child processes, the addon's own thread), and
// what it reads is bounded by the hop reader (state/hop-reader.ts: cached a second,
// at most 8 readings a second).
//
// Its parts: which namespaces an explanation looks at and what it reads there
// (view-specs.ts), the readings and the earlier ones kept (state/hop-readings.ts), the
// kernel's drops (kernel/drop-watch.ts), and the cause inferred from them (infer.ts).
import type { Cause } from '../events/types.js';
import type { HopView } from './cause/hop-view.js';
import {
  namespaceKey,
  sameNamespace,
  type HopPlace,
  type NamespaceKey,
  type VerdictContext,
} from './context.js';
import { RuleTraces } from './firewall/rule-traces.js';
import { inferCause } from './infer.js';
import { KernelDropWatch } from './kernel/drop-watch.js';
import type { RemoteDropTrace } from './kernel/tracefs-drops.js';
import type { HopReaderOptions } from './state/hop-reader.js';
import { HopReadings } from './state/hop-readings.js';
import {
  dnatRouteAsks,
  encapsulationOf,
  fullRequest,
  pathSpecs,
  viewSpecs,
  type ViewSpec,
} from './view-specs.js';

export interface EvidenceGathererOptions {
  /** `ssh -F FILE` for remote hosts */
  sshConfig?: string;
  sshProgram?: readonly string[];
  /** kernel drop tracing: `auto` (default) where it can run, `off` never */
  kernel?: 'auto' | 'off';
  reader?: Omit<HopReaderOptions, 'sshConfig' | 'sshProgram'>;
  /** drops are looked for this much before and after an exchange's window (clocks of hosts, kernel lag) */
  windowSlackMs?: number;
  /**
   * `--trace-rules`: a flow that breaks on this machine is traced (nft monitor trace,
   * firewall/rule-traces.ts) where it broke, and its later exchanges name the rule by
   * trace. Off by default: it adds tables to the ruleset while it runs.
   */
  traceRules?: boolean;
}

export const GATHERER_DEFAULTS = {
  windowSlackMs: 1000,
  /** longest an explanation waits for a remote host's trace to catch up with the exchange */
  traceWaitMs: 2500,
  /** readings of a namespace kept for counters to move from (besides the first) */
  snapshotsKept: 4,
} as const;

/**
 * What an explanation is waiting for, as it goes (a caller that stops waiting says
 * what had not been read): a hop's state, or a remote host's kernel trace.
 */
export interface ExplainProgress {
  step:
    | { kind: 'state'; places: Array<{ host: string | null; netns: string | null }> }
    | { kind: 'trace'; host: string }
    | null;
}

const NS_PER_MS = 1_000_000n;

export class EvidenceGatherer {
  readonly #readings: HopReadings;
  readonly #kernel: KernelDropWatch;
  readonly #places = new Map<string, NamespaceKey>();
  readonly #traces: RuleTraces | null;
  /** first readings and remote traces being started: stop() waits for them, so none starts after it */
  readonly #watching: Array<Promise<unknown>> = [];
  #started = false;

  constructor(options: EvidenceGathererOptions = {}) {
    this.#traces = options.traceRules === true ? new RuleTraces() : null;
    this.#readings = new HopReadings(
      { ...options.reader, sshConfig: options.sshConfig, sshProgram: options.sshProgram },
      GATHERER_DEFAULTS.snapshotsKept,
    );
    this.#kernel = new KernelDropWatch({
      kernel: options.kernel ?? 'auto',
      sshConfig: options.sshConfig,
      sshProgram: options.sshProgram,
      windowSlackMs: options.windowSlackMs ?? GATHERER_DEFAULTS.windowSlackMs,
      traceWaitMs: GATHERER_DEFAULTS.traceWaitMs,
    });
  }

  /** Readings made so far (tests, limits). */
  get readings(): number {
    return this.#readings.readings;
  }

  /** Why this machine's kernel drops are not traced; null when they are. */
  get kernelUnavailable(): string | null {
    return this.#kernel.unavailable;
  }

  /** The tracefs session of a remote host (tests). */
  remoteTrace(host: string): RemoteDropTrace | undefined {
    return this.#kernel.remoteTrace(host);
  }

  async start(places: readonly HopPlace[]): Promise<void> {
    this.#started = true;
    this.#kernel.open(places);
    await this.watch(places);
  }

  watch(places: readonly HopPlace[]): Promise<void> {
    if (!this.#started) throw new Error('EvidenceGatherer.watch() before start()');
    const watching = this.#watch(places);
    this.#watching.push(watching.catch(() => undefined));
    return watching;
  }

  async #watch(places: readonly HopPlace[]): Promise<void> {
    const fresh: NamespaceKey[] = [];
    for (const p of places) {
      const key = namespaceKey(p);
      if (this.#places.has(key)) continue;
      const place = { host: p.host, netns: p.netns };
      this.#places.set(key, place);
      fresh.push(place);
      this.#kernel.watch(p);
    }
    await Promise.all([...this.#kernel.startRemotes(), this.#readings.baseline(fresh)]);
  }

  async explain(ctx: VerdictContext, progress: ExplainProgress = { step: null }): Promise<Cause | null> {
    const ex = ctx.exchange;
    if (ex.status !== 'lost' && ex.status !== 'unanswered' && ex.status !== 'error') return null;
    try {
      return await this.#explain(ctx, progress);
    } catch (err) {
      return {
        code: 'unknown',
        summary: `evidence could not be gathered: ${err instanceof Error ? err.message : String(err)}`,
        at: ctx.lastSeen?.label ?? '',
        evidence: [],
      };
    }
  }

  async #explain(ctx: VerdictContext, progress: ExplainProgress): Promise<Cause | null> {
    const ex = ctx.exchange;
    if (ctx.packet === null || ctx.lastSeen === null) {
      return {
        code: 'unknown',
        summary: 'the packet that went missing is not known (no decoded sighting of it)',
        at: ctx.lastSeen?.label ?? ex.lost?.lastSeen ?? '',
        evidence: [],
      };
    }
    const specs = viewSpecs(ctx, ctx.packet, ctx.lastSeen, ctx.next);
    let views = await this.#views(ctx, specs, progress);
    let cause = inferCause({ exchange: ex, views, asker: ctx.asker });
    if (
      cause !== null &&
      (cause.code === 'unknown' ||
        cause.code === 'no-route' ||
        cause.code === 'forwarding-off' ||
        cause.code === 'wrong-neighbour')
    ) {
      // The hops before on the path: NAT hops, a flow that a NAT rule should have
      // translated and did not; the sender of a frame to a wrong MAC (one dropped as
      // another host's, or one a namespace that is no router then could not route), its
      // neighbour entry.
      const path = pathSpecs(ctx, ctx.packet, specs);
      if (path.length > 0) {
        views = [...views, ...(await this.#views(ctx, path, progress))];
        const again = inferCause({ exchange: ex, views, asker: ctx.asker });
        if (again !== null && (again.code === 'conntrack' || again.code === 'wrong-neighbour')) cause = again;
      }
    }
    if (this.#traces !== null && cause !== null) {
      const traced = await this.#traces.evidence(ctx.lastSeen, ctx.packet);
      if (traced.length > 0) {
        const rule = traced[0];
        cause = {
          ...cause,
          ...(cause.code === 'unknown'
            ? {
                code: 'netfilter-drop' as const,
                summary: `dropped by nftables rule handle ${rule.handle} in ${rule.family} ${rule.table} ${rule.chain} (traced): ${rule.rule}`,
              }
            : {}),
          evidence: [...cause.evidence, ...traced],
        };
      }
    }
    return cause;
  }

  async #views(
    ctx: VerdictContext,
    specs: readonly ViewSpec[],
    progress: ExplainProgress,
  ): Promise<HopView[]> {
    progress.step = { kind: 'state', places: specs.map((s) => s.place) };
    let facts = await this.#readings.read(specs.map((s) => ({ place: s.place, request: fullRequest(s) })));
    const extra = dnatRouteAsks(specs, facts);
    if (extra.length > 0) {
      const more = await this.#readings.read(extra);
      facts = facts.map((f) => more.find((m) => sameNamespace(m, f)) ?? f);
    }
    const encapsulation = encapsulationOf(ctx);
    const windowStartMs = Number(ctx.window.startNs / NS_PER_MS);
    return Promise.all(
      specs.map(async (s, k): Promise<HopView> => {
        const f = facts[k];
        const kernel = await this.#kernel.drops(s, f, ctx.window, (host) => {
          progress.step = { kind: 'trace', host };
        });
        return {
          label: s.label,
          role: s.role,
          packet: s.packet,
          which: s.which,
          iif: s.iif,
          oif: s.oif,
          expectedIface: s.expectedIface,
          entered: s.entered,
          encapsulation,
          facts: f,
          before: this.#readings.before(s.place, windowStartMs),
          drops: kernel.drops,
          kernelUnreadable: kernel.unreadable,
        };
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.#watching.splice(0));
    await this.#traces?.stop();
    await this.#kernel.stop();
  }
}
