// An exchange's stages put in path order when it is judged: each stage track's
// sightings ordered along the packet's path by hop-order.ts (TTL, tunnels, which
// interface holds which address, round trips, learned paths and routes, clocks), with
// times on the reference clock, into reused scratch stages. Per exchange judged,
// never per packet.
import type { ClockEstimator } from './clock.js';
import { HopOrder, MAX_HOPS } from './hop-order.js';
import { askingStageOf, type Kind, roundTripPartner } from './kinds/table.js';
import type { PathKnowledge } from './path-learning.js';
import {
  EX_INTS,
  ExInt,
  type ExchangeRows,
  L2_SRC_UNIT,
  MAX_STAGES,
  Sighting,
  SIGHTING_FIELDS,
  Tr,
  TRACK_INTS,
  type TrackRows,
} from './tables.js';
import type { OrderedStage } from './verdict.js';

/** What ordering reads of the correlator's state (its own arrays, shared, never copied). */
export interface StageOrderContext {
  readonly ex: ExchangeRows;
  readonly tracks: TrackRows;
  readonly clock: ClockEstimator;
  readonly learned: PathKnowledge;
  /** host names (its length: how many hosts) */
  readonly hosts: ReadonlyArray<string | null>;
  /** interface id → host index, time stamp resolution (ns), own address hashes, order of announcement */
  readonly hostOf: readonly number[];
  readonly resolutionOf: readonly number[];
  readonly addressesOf: ReadonlyArray<readonly number[] | undefined>;
  /** interface id → its own MAC's hash (0: not known) */
  readonly macOf: readonly number[];
  readonly rank: readonly number[];
  /** interface id → the capture it is seen through (several interfaces share an `any` capture) */
  readonly captureOf: readonly number[];
}

export class StageOrder {
  readonly #c: StageOrderContext;
  /**
   * Scratch (ordering is synchronous, its results used before the next): per stage
   * index and sighting count, one ordered stage whose arrays have that length, so they
   * are never resized.
   */
  readonly #scratch: OrderedStage[][] = Array.from({ length: MAX_STAGES }, () => []);
  /** Orders a stage's sightings along its path (hop-order.ts); reused. */
  readonly #hops = new HopOrder();
  /** each sighting's row, by its index in #hops */
  readonly #hopRow: number[] = new Array<number>(MAX_HOPS).fill(0);

  constructor(context: StageOrderContext) {
    this.#c = context;
  }

  /**
   * Orders a stage track's sightings along the packet's path, with times on the
   * reference clock. Stages are ordered in index order, questions before their
   * answers: an answer's order leans on its question's (`stages`, filled so far).
   * The result is scratch: valid until the next call for the same stage and count.
   */
  ordered(
    x: number,
    kind: Kind,
    track: number,
    stage: number,
    stages: ReadonlyArray<OrderedStage | undefined>,
  ): OrderedStage {
    const c = this.#c;
    const T = c.tracks;
    const clock = c.clock;
    const n = T.ints[track * TRACK_INTS + Tr.Count];
    const f = T.sightings.f;
    const o = this.#scratch[stage][n] ?? this.#newScratch(stage, n);
    o.packets = T.ints[track * TRACK_INTS + Tr.Packets];
    o.broadcast = T.ints[track * TRACK_INTS + Tr.Broadcast] === 1;
    // One host: every time stamp is on the reference clock already.
    const oneHost = c.hosts.length < 2;
    if (n === 1) {
      const b = T.ints[track * TRACK_INTS + Tr.Head] * SIGHTING_FIELDS;
      const iface = f[b + Sighting.Iface];
      o.ifaces[0] = iface;
      o.times[0] = Math.round(
        oneHost ? f[b + Sighting.Time] : f[b + Sighting.Time] - clock.offsetNs(c.hostOf[iface] ?? 0),
      );
      o.srcs[0] = f[b + Sighting.Src];
      o.dsts[0] = f[b + Sighting.Dst];
      o.tunnels[0] = f[b + Sighting.Tunnel];
      return o;
    }
    const h = this.#hops;
    h.begin(n);
    const rows = this.#hopRow;
    // the stage it measures round trips against: its answer, or the question it answers
    const partnerStage = roundTripPartner(kind, stage);
    const partner = partnerStage < 0 ? -1 : c.ex.ints[x * EX_INTS + ExInt.Stages + partnerStage] - 1;
    const asking = askingStageOf(kind, stage);
    let i = 0;
    for (
      let r = T.ints[track * TRACK_INTS + Tr.Head];
      r >= 0 && i < n;
      r = f[r * SIGHTING_FIELDS + Sighting.Next], i++
    ) {
      const b = r * SIGHTING_FIELDS;
      const iface = f[b + Sighting.Iface];
      const host = c.hostOf[iface] ?? 0;
      const time = f[b + Sighting.Time];
      rows[i] = r;
      h.iface[i] = iface;
      h.host[i] = host;
      h.time[i] = time;
      h.refTime[i] = oneHost ? time : time - clock.offsetNs(host);
      h.clockError[i] = oneHost ? 0 : clock.uncertaintyNs(host);
      h.resolution[i] = c.resolutionOf[iface] ?? 1;
      h.ttl[i] = f[b + Sighting.Ttl];
      h.tunnelled[i] = f[b + Sighting.Tunnel] >= 0 ? 1 : 0;
      const own = c.addressesOf[iface];
      h.holdsSource[i] = own !== undefined && own.includes(f[b + Sighting.Src]) ? 1 : 0;
      h.holdsDestination[i] = own !== undefined && own.includes(f[b + Sighting.Dst]) ? 1 : 0;
      const mac = c.macOf[iface] ?? 0;
      const l2 = f[b + Sighting.L2];
      h.ownsFrameSource[i] = mac !== 0 && Math.floor(l2 / L2_SRC_UNIT) === mac ? 1 : 0;
      h.ownsFrameDestination[i] = mac !== 0 && l2 % L2_SRC_UNIT === mac ? 1 : 0;
      h.hasAddresses[i] = own !== undefined ? 1 : 0;
      h.rank[i] = c.rank[iface] ?? 0;
      h.capture[i] = c.captureOf[iface] ?? iface;
      // the local round trip on this interface, when it saw the partner stage too
      const p = partner < 0 ? -1 : T.find(partner, iface);
      h.roundTrip[i] =
        p < 0
          ? Number.NaN
          : asking === partnerStage
            ? time - f[p * SIGHTING_FIELDS + Sighting.Time]
            : f[p * SIGHTING_FIELDS + Sighting.Time] - time;
    }
    if (partner >= 0) h.roundTripSign = asking === partnerStage ? -1 : 1;
    h.addNetworkEvidence();
    // Paths packets took before: this flow direction's; the question's, back; the opposite direction's, back.
    const flowPath = this.#hintPath(kind, false);
    if (flowPath !== null) h.addPathHint(flowPath, false);
    const ask = asking < 0 ? undefined : stages[asking];
    if (ask !== undefined && ask.ifaces.length > 1) h.addPathHint(ask.ifaces, true);
    // Routes learned from any packet: from an interface, packets to this destination went
    // on there, and packets back to this source (the way this one came).
    for (let k = 0; k < n; k++) {
      const b = rows[k] * SIGHTING_FIELDS;
      const on = c.learned.towardsPath(h.iface[k], f[b + Sighting.Dst]);
      if (on !== null && on.length > 0) h.addRouteHint(k, on, false);
      const back = c.learned.towardsPath(h.iface[k], f[b + Sighting.Src]);
      if (back !== null && back.length > 0) h.addRouteHint(k, back, true);
    }
    const backPath = this.#hintPath(kind, true);
    if (backPath !== null) h.addPathHint(backPath, true);
    if (!oneHost) h.addClockEvidence();
    h.finish();
    for (let k = 0; k < n; k++) {
      const s = h.order[k];
      const b = rows[s] * SIGHTING_FIELDS;
      o.ifaces[k] = h.iface[s];
      o.times[k] = Math.round(h.refTime[s]);
      o.srcs[k] = f[b + Sighting.Src];
      o.dsts[k] = f[b + Sighting.Dst];
      o.tunnels[k] = f[b + Sighting.Tunnel];
    }
    return o;
  }

  /**
   * The learned path of the flow direction of the sightings in #hops (`opposite`: of the
   * direction back), or null. A path is learned under the addresses at its first hop,
   * which are not known before ordering: each sighting's addresses are tried, and the
   * first path that holds two of the stage's interfaces is taken.
   */
  #hintPath(kind: Kind, opposite: boolean): readonly number[] | null {
    const h = this.#hops;
    const f = this.#c.tracks.sightings.f;
    const rows = this.#hopRow;
    const learned = this.#c.learned;
    for (let i = 0; i < h.n; i++) {
      const b = rows[i] * SIGHTING_FIELDS;
      const src = f[b + Sighting.Src];
      const dst = f[b + Sighting.Dst];
      const path = opposite ? learned.flowPath(kind, dst, src) : learned.flowPath(kind, src, dst);
      if (path === null) continue;
      let on = 0;
      for (let k = 0; k < h.n && on < 2; k++) if (path.includes(h.iface[k])) on++;
      if (on >= 2) return path;
    }
    return null;
  }

  #newScratch(stage: number, n: number): OrderedStage {
    const filled = (): number[] => new Array<number>(n).fill(0);
    const o: OrderedStage = {
      ifaces: filled(),
      // an array of doubles from the start (filled with one first): times are doubles, and
      // an array of small integers that later gets one changes kind (see UNSIGNED_32)
      times: new Array<number>(n).fill(0.5).fill(0),
      srcs: filled(),
      dsts: filled(),
      tunnels: filled(),
      packets: 0,
      broadcast: false,
    };
    this.#scratch[stage][n] = o;
    return o;
  }
}
