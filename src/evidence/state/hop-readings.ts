// The readings of namespaces an evidence gatherer makes (gatherer.ts), through one
// HopReader: a baseline of each namespace when its capture starts, then full readings
// for explanations — each namespace read once however many views ask of it, the hosts
// at once. Readings with firewall rules are kept (the first, and the last few) so a
// rule's counter has an earlier value to have moved from.
import { namespaceKey, sameNamespace, type NamespaceKey } from '../context.js';
import type { HopFacts } from './hop-facts.js';
import { HopReader, mergeRequests, type HopReaderOptions, type HopReadRequest } from './hop-reader.js';
import type { HopScriptRequest } from './hop-script.js';

/** What is read when a capture starts: the counters and conntrack later readings are compared with. */
const BASELINE: HopScriptRequest = {
  links: true,
  routes: [],
  sysctlDevices: [],
  sockets: false,
  conntrack: true,
  firewall: true,
};

/** A reading asked of a namespace. */
export interface ReadAsk {
  place: NamespaceKey;
  request: HopScriptRequest;
}

/** The readings of one gatherer: `kept` readings of a namespace are kept besides its first. */
export class HopReadings {
  readonly #reader: HopReader;
  /** readings kept besides the first */
  readonly #kept: number;
  readonly #snapshots = new Map<string, HopFacts[]>();

  constructor(reader: HopReaderOptions, kept: number) {
    this.#reader = new HopReader(reader);
    this.#kept = kept;
  }

  /** Readings made so far. */
  get readings(): number {
    return this.#reader.readings;
  }

  /** The baseline of namespaces newly watched, host by host. */
  async baseline(places: readonly NamespaceKey[]): Promise<void> {
    await Promise.all(
      placesByHost(places).map(async ([host, list]) => {
        const facts = await this.#reader.read(
          host,
          list.map((p) => ({ netns: p.netns, request: BASELINE })),
        );
        for (const f of facts) this.#remember(f);
      }),
    );
  }

  /** Reads each namespace once (requests of one namespace merged), host by host. */
  async read(asks: readonly ReadAsk[]): Promise<HopFacts[]> {
    const merged = new Map<string, ReadAsk>();
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

  #remember(f: HopFacts): void {
    if (f.nftables === null && f.iptables === null) return;
    const key = namespaceKey(f);
    const list = this.#snapshots.get(key) ?? [];
    list.push(f);
    // the first (taken when the capture started) stays: counters move from there at least
    if (list.length > this.#kept + 1) list.splice(1, 1);
    this.#snapshots.set(key, list);
  }

  /** The latest reading taken before `ms` (a counter's value before the exchange), null when none is. */
  before(place: NamespaceKey, ms: number): HopFacts | null {
    const list = this.#snapshots.get(namespaceKey(place)) ?? [];
    let best: HopFacts | null = null;
    for (const f of list) if (f.readAtMs <= ms && (best === null || f.readAtMs > best.readAtMs)) best = f;
    return best;
  }
}

function placesByHost(places: readonly NamespaceKey[]): Array<[string | null, NamespaceKey[]]> {
  const m = new Map<string | null, NamespaceKey[]>();
  for (const p of places) m.set(p.host, [...(m.get(p.host) ?? []), p]);
  return [...m];
}
