// The exchanges of one kind that began at or after a moment and are not judged yet, for
// a cause that depends on another exchange's verdict: a DNS forwarder's query upstream
// explains its client's (pipeline/onward-causes.ts), and whether such a query exists at
// all decides whether the client's verdict waits for it. Off the packet path: asked per
// problem verdict, and bounded.
import type { ExchangeFlow } from '../events/types.js';
import type { CaptureInterfaces } from './capture-interfaces.js';
import type { ExchangeRecordWriter } from './exchange-record.js';
import type { Kind } from './kinds/table.js';
import type { RelativeTime } from './relative-time.js';
import {
  EX_DOUBLES,
  EX_INTS,
  ExDouble,
  ExInt,
  MAX_STAGES,
  Sighting,
  SIGHTING_FIELDS,
  Tr,
  TRACK_INTS,
  type ExchangeRows,
  type RowQueue,
  type TrackRows,
} from './tables.js';

/** One exchange found: where it was first seen, and its flow (made when asked for). */
export type ExchangeSince = (firstLabel: string, flow: () => ExchangeFlow) => boolean;

/** The correlator's queue of exchanges, looked through from its newest. */
export class RecentExchanges {
  readonly #queue: RowQueue;
  readonly #X: ExchangeRows;
  readonly #T: TrackRows;
  readonly #I: CaptureInterfaces;
  readonly #records: ExchangeRecordWriter;
  readonly #time: RelativeTime;

  constructor(
    queue: RowQueue,
    X: ExchangeRows,
    T: TrackRows,
    I: CaptureInterfaces,
    records: ExchangeRecordWriter,
    time: RelativeTime,
  ) {
    this.#queue = queue;
    this.#X = X;
    this.#T = T;
    this.#I = I;
    this.#records = records;
    this.#time = time;
  }

  /**
   * Hands each exchange of `kind` not judged yet that began at or after (sec, nsec) on the
   * reference clock to `visit`, newest first, with the label of the earliest sighting of
   * its first stage seen; `visit` returns true to stop (found). The queue is in the order
   * packets were read, and a packet is read within `lagNs` of its time stamp, so the walk
   * stops at the first exchange that began `lagNs` before that moment: every exchange
   * before it in the queue was read, and so began, before the moment. It stops too after
   * `most` exchanges: then it returns false (it cannot tell), else true.
   */
  since(kind: Kind, sec: number, nsec: number, lagNs: number, most: number, visit: ExchangeSince): boolean {
    if (this.#time.baseSec < 0) return true;
    const sinceRel = this.#time.rel(sec, nsec);
    const queue = this.#queue;
    const X = this.#X;
    let looked = 0;
    for (let k = queue.length - 1; k >= 0; k--) {
      const x = queue.at(k);
      const first = X.doubles[x * EX_DOUBLES + ExDouble.FirstRel];
      if (first < sinceRel - lagNs) return true;
      if (++looked > most) return false;
      const i = x * EX_INTS;
      if (first < sinceRel || X.ints[i + ExInt.Kind] !== kind || X.ints[i + ExInt.Judged] !== 0) continue;
      const iface = earliestSighting(X, this.#T, this.#I, x);
      const records = this.#records;
      if (iface >= 0 && visit(records.label(iface), () => records.flow(X, x, kind))) return true;
    }
    return true;
  }
}

/** The interface of the earliest sighting (reference clock) of exchange x's first stage seen, or -1. */
function earliestSighting(X: ExchangeRows, T: TrackRows, I: CaptureInterfaces, x: number): number {
  for (let s = 0; s < MAX_STAGES; s++) {
    const t = X.ints[x * EX_INTS + ExInt.Stages + s] - 1;
    if (t < 0) continue;
    const f = T.sightings.f;
    let iface = -1;
    let earliest = Infinity;
    for (let r = T.ints[t * TRACK_INTS + Tr.Head]; r >= 0; r = f[r * SIGHTING_FIELDS + Sighting.Next]) {
      const at = f[r * SIGHTING_FIELDS + Sighting.Iface];
      // (a sighting's time is on its host's clock)
      const time = f[r * SIGHTING_FIELDS + Sighting.Time] - I.offsetOf[I.hostOf[at] ?? 0];
      if (time < earliest) {
        earliest = time;
        iface = at;
      }
    }
    return iface;
  }
  return -1;
}
