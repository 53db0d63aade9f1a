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
import type { Cause, KernelDropEvidence } from '../events/types.js';
import { answerOf } from './answer-packet.js';
import type { HopView } from './cause/hop-view.js';
import {
  namespaceKey,
  sameNamespace,
  type ExchangePacket,
  type HopPlace,
  type NamespaceKey,
  type VerdictContext,
  nsToTs,
} from './context.js';
import { hookPasses } from './firewall/hooks.js';
import { nftNatRules } from './firewall/nft-walk.js';
import { RuleTraces } from './firewall/rule-traces.js';
import { inferCause } from './infer.js';
import { DropTracerUnavailable, LocalDropTracer } from './kernel/drop-tracer.js';
import { Kallsyms } from './kernel/kallsyms.js';
import { RemoteDropTrace } from './kernel/tracefs-drops.js';
import { VXLAN_OVERHEAD } from './packet-fields.js';
import { isUnreadable, type HopFacts } from './state/hop-facts.js';
import { HopReader, mergeRequests, type HopReaderOptions, type HopReadRequest } from './state/hop-reader.js';
import type { HopScriptRequest, RouteQuery } from './state/hop-script.js';

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
const GRE_OVERHEAD = 38;

/** What one view of a namespace asks and is about (before its facts are read). */
interface ViewSpec {
  place: NamespaceKey;
  label: string;
  role: HopView['role'];
  packet: ExchangePacket;
  which: HopView['which'];
  iif: string | null;
  oif: string | null;
  expectedIface: string | null;
}

function netnsPath(netns: string | null): string | null {
  if (netns === null) return null;
  const pid = /^pid:(\d+)$/.exec(netns);
  return pid !== null ? `/proc/${pid[1]}/ns/net` : `/run/netns/${netns}`;
}

function fullRequest(spec: ViewSpec): HopScriptRequest {
  const p = spec.packet;
  const routes: RouteQuery[] = [];
  if (p.family === 'arp') routes.push({ dst: p.dst });
  else {
    if (spec.iif !== null && p.src !== '0.0.0.0') routes.push({ dst: p.dst, from: p.src, iif: spec.iif });
    routes.push({ dst: p.dst });
    if (p.src !== '0.0.0.0') routes.push({ dst: p.src });
  }
  return {
    links: true,
    routes: routes.filter((r) => !r.dst.startsWith('255.') && r.dst !== '0.0.0.0'),
    sysctlDevices: [spec.iif, spec.oif, spec.expectedIface].filter((d): d is string => d !== null),
    sockets: true,
    conntrack: true,
    firewall: true,
  };
}

const BASELINE: HopScriptRequest = {
  links: true,
  routes: [],
  sysctlDevices: [],
  sockets: false,
  conntrack: true,
  firewall: true,
};

export class EvidenceGatherer {
  readonly #options: EvidenceGathererOptions;
  readonly #reader: HopReader;
  readonly #kallsyms = new Kallsyms();
  #tracer: LocalDropTracer | null = null;
  #tracerUnavailable: string | null = null;
  readonly #inodes = new Map<string, number>();
  readonly #remote = new Map<string, RemoteDropTrace>();
  readonly #snapshots = new Map<string, HopFacts[]>();
  readonly #places = new Map<string, NamespaceKey>();
  readonly #traces: RuleTraces | null;
  /** first readings and remote traces being started: stop() waits for them, so none starts after it */
  readonly #watching: Array<Promise<unknown>> = [];
  #started = false;

  constructor(options: EvidenceGathererOptions = {}) {
    this.#options = options;
    this.#traces = options.traceRules === true ? new RuleTraces() : null;
    this.#reader = new HopReader({
      ...options.reader,
      sshConfig: options.sshConfig,
      sshProgram: options.sshProgram,
    });
  }

  /** Readings made so far (tests, limits). */
  get readings(): number {
    return this.#reader.readings;
  }

  /** Why this machine's kernel drops are not traced; null when they are. */
  get kernelUnavailable(): string | null {
    return this.#tracerUnavailable;
  }

  /** The tracefs session of a remote host (tests). */
  remoteTrace(host: string): RemoteDropTrace | undefined {
    return this.#remote.get(host);
  }

  async start(places: readonly HopPlace[]): Promise<void> {
    this.#started = true;
    if (this.#options.kernel !== 'off' && places.some((p) => p.host === null)) {
      try {
        this.#tracer = LocalDropTracer.open();
      } catch (err) {
        this.#tracerUnavailable = err instanceof DropTracerUnavailable ? err.message : String(err);
      }
    } else if (this.#options.kernel === 'off') this.#tracerUnavailable = 'kernel drop tracing is off';
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
      if (p.host === null && this.#tracer !== null) {
        try {
          this.#inodes.set(key, this.#tracer.watch(netnsPath(p.netns)));
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
    await Promise.all([
      ...[...this.#remote.values()]
        .filter((t) => t.instance === null && t.unavailable === null)
        .map((t) => t.start()),
      ...this.#byHost(fresh).map(async ([host, list]) => {
        const facts = await this.#reader.read(
          host,
          list.map((p) => ({ netns: p.netns, request: BASELINE })),
        );
        for (const f of facts) this.#remember(f);
      }),
    ]);
  }

  #byHost(places: readonly NamespaceKey[]): Array<[string | null, NamespaceKey[]]> {
    const m = new Map<string | null, NamespaceKey[]>();
    for (const p of places) m.set(p.host, [...(m.get(p.host) ?? []), p]);
    return [...m];
  }

  #remember(f: HopFacts): void {
    if (f.nftables === null && f.iptables === null) return;
    const key = namespaceKey(f);
    const list = this.#snapshots.get(key) ?? [];
    list.push(f);
    // the first (taken when the capture started) stays: counters move from there at least
    if (list.length > GATHERER_DEFAULTS.snapshotsKept + 1) list.splice(1, 1);
    this.#snapshots.set(key, list);
  }

  /** The latest reading taken before `ms` (a counter's value before the exchange), null when none is. */
  #before(place: NamespaceKey, ms: number): HopFacts | null {
    const list = this.#snapshots.get(namespaceKey(place)) ?? [];
    let best: HopFacts | null = null;
    for (const f of list) if (f.readAtMs <= ms && (best === null || f.readAtMs > best.readAtMs)) best = f;
    return best;
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
    const specs = this.#viewSpecs(ctx, ctx.packet, ctx.lastSeen, ctx.next);
    let views = await this.#views(ctx, specs, progress);
    let cause = inferCause({ exchange: ex, views });
    if (cause !== null && (cause.code === 'unknown' || cause.code === 'no-route')) {
      // NAT hops on the path: a flow that a NAT rule should have translated and did not
      const path = this.#pathSpecs(ctx, ctx.packet, specs);
      if (path.length > 0) {
        views = [...views, ...(await this.#views(ctx, path, progress))];
        const again = inferCause({ exchange: ex, views });
        if (again !== null && again.code === 'conntrack') cause = again;
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

  /**
   * Devices of the packet in the namespace of `at` (see infer.ts HopView): from `at` to
   * the next hop when that is in the same namespace; else, when it was seen there
   * before `at`, from its first sighting there out through `at`; else in through `at`.
   */
  #devices(
    ctx: VerdictContext,
    at: HopPlace,
    next: HopPlace | null,
  ): { iif: string | null; oif: string | null; expected: string | null } {
    if (next !== null && sameNamespace(next, at))
      return { iif: at.iface, oif: next.iface, expected: next.iface };
    const upTo = ctx.path.slice(
      0,
      Math.max(
        0,
        ctx.path.findIndex((p) => p.label === at.label),
      ) + 1,
    );
    const here = upTo.filter((p) => sameNamespace(p, at));
    if (here.length > 1) return { iif: here[0].iface, oif: at.iface, expected: null };
    return { iif: at.iface, oif: null, expected: null };
  }

  #viewSpecs(ctx: VerdictContext, packet: ExchangePacket, last: HopPlace, next: HopPlace | null): ViewSpec[] {
    const ex = ctx.exchange;
    const d = this.#devices(ctx, last, next);
    const specs: ViewSpec[] = [];
    const placeOfLast = { host: last.host, netns: last.netns };
    // ARP: the namespace that asked keeps the neighbour entry, wherever its request was last seen
    const asker = ctx.path[0];
    if (packet.family === 'arp' && asker !== undefined && !sameNamespace(asker, last)) {
      specs.push({
        place: { host: asker.host, netns: asker.netns },
        label: asker.label,
        role: 'path',
        packet,
        which: 'question',
        iif: null,
        oif: asker.iface,
        expectedIface: null,
      });
    }
    if (ex.status === 'unanswered') {
      specs.push({
        place: placeOfLast,
        label: last.label,
        role: 'last-seen',
        packet,
        which: 'question',
        iif: d.iif,
        oif: null,
        expectedIface: null,
      });
      const answer = answerOf(packet);
      if (answer !== null)
        specs.push({
          place: placeOfLast,
          label: last.label,
          role: 'last-seen',
          packet: answer,
          which: 'answer',
          iif: null,
          oif: d.iif,
          expectedIface: null,
        });
      return specs;
    }
    specs.push({
      place: placeOfLast,
      label: last.label,
      role: 'last-seen',
      packet,
      which: 'missing',
      iif: d.iif,
      oif: d.oif,
      expectedIface: d.expected,
    });
    if (next !== null && !sameNamespace(next, last)) {
      specs.push({
        place: { host: next.host, netns: next.netns },
        label: next.label,
        role: 'next',
        packet,
        which: 'missing',
        iif: next.iface,
        oif: null,
        expectedIface: next.iface,
      });
    }
    return specs;
  }

  #pathSpecs(ctx: VerdictContext, packet: ExchangePacket, done: readonly ViewSpec[]): ViewSpec[] {
    const specs: ViewSpec[] = [];
    for (const hop of ctx.path) {
      if (done.some((s) => sameNamespace(s.place, hop)) || specs.some((s) => sameNamespace(s.place, hop)))
        continue;
      const inNs = ctx.path.filter((p) => sameNamespace(p, hop));
      specs.push({
        place: { host: hop.host, netns: hop.netns },
        label: inNs[inNs.length - 1].label,
        role: 'path',
        packet,
        which: 'missing',
        iif: inNs.length > 1 ? inNs[0].iface : null,
        oif: inNs[inNs.length - 1].iface,
        expectedIface: null,
      });
    }
    return specs;
  }

  async #views(
    ctx: VerdictContext,
    specs: readonly ViewSpec[],
    progress: ExplainProgress,
  ): Promise<HopView[]> {
    progress.step = { kind: 'state', places: specs.map((s) => s.place) };
    let facts = await this.#read(specs.map((s) => ({ place: s.place, request: fullRequest(s) })));
    // a DNAT in the namespace: the route is looked up for where it sends the packet
    const extra: Array<{ place: NamespaceKey; request: HopScriptRequest }> = [];
    specs.forEach((s, k) => {
      const f = facts[k];
      if (s.packet.family !== 4 || f.nftables === null || isUnreadable(f.nftables)) return;
      const links = f.links !== null && !isUnreadable(f.links) ? f.links : null;
      for (const n of nftNatRules(f.nftables, hookPasses(s.packet, s.iif, s.oif, links), s.packet)) {
        const v = n.rule.verdict;
        if (
          n.fit.fits === 'yes' &&
          v.kind === 'nat' &&
          v.nat === 'dnat' &&
          v.addr !== null &&
          v.addr !== s.packet.dst
        ) {
          const req = fullRequest(s);
          extra.push({
            place: s.place,
            request: mergeRequests(req, {
              ...req,
              routes: [{ dst: v.addr, from: s.packet.src, ...(s.iif !== null ? { iif: s.iif } : {}) }],
            }),
          });
          return;
        }
      }
    });
    if (extra.length > 0) {
      const more = await this.#read(extra);
      facts = facts.map((f) => more.find((m) => sameNamespace(m, f)) ?? f);
    }
    const encapsulation = this.#encapsulation(ctx);
    const windowStartMs = Number(ctx.window.startNs / NS_PER_MS);
    return Promise.all(
      specs.map(async (s, k): Promise<HopView> => {
        const f = facts[k];
        const kernel = await this.#kernelDrops(ctx, s, f, progress);
        return {
          label: s.label,
          role: s.role,
          packet: s.packet,
          which: s.which,
          iif: s.iif,
          oif: s.oif,
          expectedIface: s.expectedIface,
          encapsulation,
          facts: f,
          before: this.#before(s.place, windowStartMs),
          drops: kernel.drops,
          kernelUnreadable: kernel.unreadable,
        };
      }),
    );
  }

  /** Reads each namespace once (requests of one namespace merged), host by host. */
  async #read(asks: ReadonlyArray<{ place: NamespaceKey; request: HopScriptRequest }>): Promise<HopFacts[]> {
    const merged = new Map<string, { place: NamespaceKey; request: HopScriptRequest }>();
    for (const a of asks) {
      const key = namespaceKey(a.place);
      const had = merged.get(key);
      merged.set(
        key,
        had === undefined ? { ...a } : { place: a.place, request: mergeRequests(had.request, a.request) },
      );
    }
    const byHost = new Map<string | null, HopReadRequest[]>();
    for (const m of merged.values())
      byHost.set(m.place.host, [
        ...(byHost.get(m.place.host) ?? []),
        { netns: m.place.netns, request: m.request },
      ]);
    const read: HopFacts[] = [];
    await Promise.all(
      [...byHost].map(async ([host, list]) => {
        const facts = await this.#reader.read(host, list);
        for (const f of facts) {
          read.push(f);
          this.#remember(f);
        }
      }),
    );
    return asks.map((a) => read.find((f) => sameNamespace(f, a.place)) as HopFacts);
  }

  #encapsulation(ctx: VerdictContext): number {
    const stage =
      ctx.exchange.stages.find((s) => s.name === ctx.exchange.lost?.stage) ?? ctx.exchange.stages[0];
    const seen = stage?.seen.find((s) => s.iface === ctx.lastSeen?.label);
    const type = seen?.tunnel?.type;
    if (type === 'vxlan' || type === 'geneve') return VXLAN_OVERHEAD;
    if (type === 'gre') return GRE_OVERHEAD;
    return 0;
  }

  async #kernelDrops(
    ctx: VerdictContext,
    s: ViewSpec,
    f: HopFacts,
    progress: ExplainProgress,
  ): Promise<{ drops: KernelDropEvidence[]; unreadable: string | null }> {
    const slack = BigInt(this.#options.windowSlackMs ?? GATHERER_DEFAULTS.windowSlackMs) * NS_PER_MS;
    const window = { startNs: ctx.window.startNs - slack, endNs: ctx.window.endNs + slack };
    const where = {
      ...(f.host !== null ? { host: f.host } : {}),
      ...(f.netns !== null ? { netns: f.netns } : {}),
    };
    if (s.place.host === null) {
      if (this.#tracer === null)
        return { drops: [], unreadable: this.#tracerUnavailable ?? 'kernel drop tracing did not start' };
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
    progress.step = { kind: 'trace', host: s.place.host };
    await trace.readPast(ctx.window.endNs < now ? ctx.window.endNs : now, GATHERER_DEFAULTS.traceWaitMs);
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
    await Promise.all(this.#watching.splice(0));
    await this.#traces?.stop();
    this.#tracer?.close();
    this.#tracer = null;
    await Promise.all([...this.#remote.values()].map((t) => t.stop()));
  }
}
