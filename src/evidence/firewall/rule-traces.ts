// `capture --trace-rules`: rule tracing (nft-trace.ts) for the flows that break, in the
// namespace where they broke, on this machine. A flow's first broken exchange starts
// its trace; its next packets are traced, so the exchanges after it name the rule
// that dropped them by handle (evidence `matchedBy: "trace"`). At most MAX_TRACES
// at once; every table goes at stop(); a killed run's are removed by the next run
// before it adds its own (RuleTrace.cleanStale, once per namespace).
import type { NftablesEvidence } from '../../events/types.js';
import type { ExchangePacket, HopPlace } from '../context.js';
import { RuleTrace } from './nft-trace.js';

export const MAX_TRACES = 8;

function flowKey(netns: string | null, packet: ExchangePacket): string {
  const addresses = [...new Set([packet.src, packet.dst, ...packet.aliases])].sort();
  return `${netns ?? ''}\u0000${addresses.join(' ')}`;
}

export class RuleTraces {
  readonly #traces = new Map<string, { trace: RuleTrace; started: Promise<boolean> }>();
  readonly #cleaned = new Map<string, Promise<unknown>>();
  #stopped = false;

  /**
   * The rules the flow's traced packets were dropped by in the namespace of `at`
   * (this machine only); starts the flow's trace there when it has none yet.
   */
  async evidence(at: HopPlace, packet: ExchangePacket): Promise<NftablesEvidence[]> {
    if (this.#stopped || at.host !== null || packet.family === 'arp') return [];
    const key = flowKey(at.netns, packet);
    let entry = this.#traces.get(key);
    if (entry === undefined) {
      if (this.#traces.size >= MAX_TRACES) return [];
      const trace = new RuleTrace(at.netns, {
        family: packet.family,
        addresses: [packet.src, packet.dst, ...packet.aliases].filter((a) => a !== '0.0.0.0'),
      });
      const ns = at.netns ?? '';
      let cleaned = this.#cleaned.get(ns);
      if (cleaned === undefined) {
        cleaned = RuleTrace.cleanStale(at.netns).catch(() => []);
        this.#cleaned.set(ns, cleaned);
      }
      const started = cleaned.then(() =>
        trace.start().then(
          () => true,
          () => false,
        ),
      );
      entry = { trace, started };
      this.#traces.set(key, entry);
    }
    if (!(await entry.started)) return [];
    const seen = new Set<string>();
    const out: NftablesEvidence[] = [];
    for (const d of entry.trace.drops()) {
      const id = `${d.family} ${d.table} ${d.handle}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({
        source: 'nftables',
        ...(at.netns !== null ? { netns: at.netns } : {}),
        family: d.family,
        table: d.table,
        chain: d.chain,
        handle: d.handle,
        rule: d.rule,
        verdict: d.verdict === 'reject' ? 'reject' : 'drop',
        matchedBy: 'trace',
      });
    }
    return out;
  }

  /** Every trace table removed (the rulesets as they were), the monitors ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#traces.values()];
    this.#traces.clear();
    await Promise.all(
      all.map(async (e) => {
        await e.started;
        await e.trace.stop();
      }),
    );
  }
}
