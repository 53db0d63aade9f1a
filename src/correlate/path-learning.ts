// What exchanges teach. Judged ones: paths that made it become the expected paths of
// their flow direction, every hop of a path the route on from there towards its
// destination (and back towards its source) — per exchange judged, never per packet.
// Answered ones: an RTT sample for the flow's smoothed RTT, which sets its next
// exchanges' timeout — taken as the answer is read (correlator.ts), not when the
// exchange is judged: live, judging runs on wall-clock ticks, so what it had taught by
// the time a later exchange opened would differ from a replay of the same packets.
// Held in the bounded tables of learned.ts.
import type { Kind } from './kinds/table.js';
import { finish30, HASH_SEED, mix } from './hash.js';
import { LearnedTable, PathStore } from './learned.js';
import type { OrderedStage } from './verdict.js';

/** What was learned is per flow direction; a 30-bit key (a collision merges two flows' hints). */
export function flowKey(kind: Kind, src: number, dst: number): number {
  return finish30(mix(mix(mix(HASH_SEED ^ 0x464c4f57, kind), src), dst) ^ (dst / 4294967296));
}

/** Where packets to `addr` went on from interface `iface`: a 30-bit key. */
export function towardsKey(iface: number, addr: number): number {
  return finish30(mix(mix(HASH_SEED ^ 0x544f57, iface), addr) ^ (addr / 4294967296));
}

function samePath(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class PathKnowledge {
  /** per flow direction (flowKey): its path and smoothed RTT (ns) */
  readonly flows: LearnedTable;
  /** per (interface, address) (towardsKey): the route on from there */
  readonly towards: LearnedTable;
  readonly #paths = new PathStore();

  /** `maxFlows` of each kept, the oldest forgotten first. */
  constructor(maxFlows: number) {
    this.flows = new LearnedTable(maxFlows);
    this.towards = new LearnedTable(maxFlows);
  }

  /** The learned path of a flow direction, or null. */
  flowPath(kind: Kind, src: number, dst: number): readonly number[] | null {
    return this.#pathOf(this.flows, flowKey(kind, src, dst));
  }

  /** Where packets towards `addr` went on from `iface`, nearest first, or null. */
  towardsPath(iface: number, addr: number): readonly number[] | null {
    return this.#pathOf(this.towards, towardsKey(iface, addr));
  }

  #pathOf(table: LearnedTable, key: number): readonly number[] | null {
    const row = table.find(key);
    return row < 0 || table.path[row] < 0 ? null : this.#paths.path(table.path[row]);
  }

  /** Paths that made it become expectations: of the stages `delivered` (a bit each); routes from every path. */
  learn(kind: Kind, stages: ReadonlyArray<OrderedStage | undefined>, delivered: number): void {
    for (const s of stages) {
      // A flooded packet's sightings form a tree, not a path: nothing to learn about routes.
      if (s === undefined || s.ifaces.length < 2 || s.broadcast) continue;
      const n = s.ifaces.length;
      for (let j = 0; j < n; j++) {
        // From here, packets to this destination went on along the rest of the path…
        if (j < n - 1) this.#learnTowards(s.ifaces, j, s.dsts[j], false);
        // …and packets back to this source would retrace the path so far.
        if (j > 0) this.#learnTowards(s.ifaces, j, s.srcs[j], true);
      }
    }
    const flows = this.flows;
    for (let i = 0; i < stages.length; i++) {
      if ((delivered & (1 << i)) === 0) continue;
      const s = stages[i];
      // A path of one interface says nothing about where a packet goes next.
      if (s === undefined || s.ifaces.length < 2 || s.broadcast) continue;
      const row = flows.row(flowKey(kind, s.srcs[0], s.dsts[0]));
      const known = flows.path[row];
      // The longest path seen wins; of equal ones the latest (stored only when new).
      const path = known < 0 ? null : this.#paths.path(known);
      if (
        path === null ||
        s.ifaces.length > path.length ||
        (s.ifaces.length === path.length && !samePath(s.ifaces, path))
      )
        flows.path[row] = this.#intern(s.ifaces, 0, s.ifaces.length, false);
    }
  }

  /** An RTT sample of the flow (flowKey): its smoothed RTT moves an eighth of the way to it. */
  sampleRtt(flow: number, rttNs: number): void {
    const flows = this.flows;
    const row = flows.row(flow);
    const srtt = flows.value[row];
    flows.value[row] = srtt === 0 ? rttNs : (7 * srtt + rttNs) / 8;
  }

  /** The number of a path (part), stored when new; a full store forgets everything learned. */
  #intern(path: readonly number[], from: number, to: number, reversed: boolean): number {
    const id = this.#paths.intern(path, from, to, reversed);
    if (id >= 0) return id;
    this.#paths.clear();
    this.flows.forgetPaths();
    this.towards.forgetPaths();
    return this.#paths.intern(path, from, to, reversed);
  }

  /**
   * From path[j], packets to `addr` go on along the rest of the path (backwards: back
   * along the part before j, nearest first). The longer knowledge is kept (most
   * exchanges confirm what is known).
   */
  #learnTowards(path: readonly number[], j: number, addr: number, backwards: boolean): void {
    if (addr === 0) return;
    const key = towardsKey(path[j], addr);
    const towards = this.towards;
    const found = towards.find(key);
    const length = backwards ? j : path.length - j - 1;
    if (found >= 0 && towards.path[found] >= 0 && length <= this.#paths.path(towards.path[found]).length)
      return;
    const row = found >= 0 ? found : towards.row(key);
    towards.path[row] = backwards
      ? this.#intern(path, 0, j, true)
      : this.#intern(path, j + 1, path.length, false);
  }
}
