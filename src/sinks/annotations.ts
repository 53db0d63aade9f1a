// The verdicts a recording's packets are annotated with (`-w`/`--record` of capture,
// `replay --annotate`): every non-ok exchange's comment, on the packets of its
// sightings — each identified by its interface's label and its exact time stamp.
//
//   hopscope: icmp-echo 10.0.0.5>203.0.113.1 id=4242 seq=3 LOST reply, last seen on
//   qg-1, missing on qr-1; why: dropped by nftables rule …
//
// Wireshark shows it as the packet's comment (`frame.comment contains "LOST"`).
//
// Time stamps: a sighting's `ts` is on the reference clock; a packet in a recording
// carries its own host's stamp. The clock offset the correlator applied to that host
// when it judged the exchange (asked through `clock` at that moment, so it is the one
// used) is added back: the packet's own stamp is then within half a nanosecond of the
// sum (the correlator rounds once), which is how a packet is matched.
//
// Bound: at most `maxPackets` sightings (MAX_ANNOTATED_PACKETS by default) are kept;
// beyond, they are counted (`skipped`) and their packets carry no comment. Lookups
// (one per packet of the annotation pass) allocate nothing: per interface, the
// sightings' times sorted in a Float64Array, searched by bisection.
import type { ExchangeRecord } from '../events/types.js';
import { parseTimestamp } from '../shared/timestamp-text.js';
import { verdictWords } from './exchange-text.js';

/** Sightings kept for annotation at most (a few tens of MB with their comments). */
export const MAX_ANNOTATED_PACKETS = 1_000_000;
/** A comment's length at most, in characters (an opt_comment holds 65,535 bytes). */
const MAX_COMMENT_CHARS = 4000;

const NS = 1e9;

const STATUS_WORDS: Record<ExchangeRecord['status'], string> = {
  ok: 'OK',
  lost: 'LOST',
  unanswered: 'UNANSWERED',
  error: 'ERROR',
  inconclusive: 'INCONCLUSIVE',
};

/** The comment of a non-ok exchange's packets. */
export function annotationText(ex: ExchangeRecord): string {
  const lost = ex.lost;
  const words =
    ex.status === 'lost' && lost !== undefined && lost.missingOn.length > 0
      ? `${lost.stage}, last seen on ${lost.lastSeen ?? '(nowhere)'}, missing on ${lost.missingOn.join(', ')}`
      : verdictWords(ex);
  const why = ex.cause !== undefined ? `; why: ${ex.cause.summary}` : '';
  const text = `hopscope: ${ex.kind} ${ex.key} ${STATUS_WORDS[ex.status]} ${words}${why}`;
  return text.length > MAX_COMMENT_CHARS ? `${text.slice(0, MAX_COMMENT_CHARS - 1)}…` : text;
}

/** One interface's sightings: times (ns from the table's base second) and their comments. */
class InterfaceSightings {
  times = new Float64Array(16);
  comments = new Int32Array(16);
  count = 0;
  sorted = true;

  add(time: number, comment: number): void {
    if (this.count === this.times.length) {
      const times = new Float64Array(this.count * 2);
      times.set(this.times);
      this.times = times;
      const comments = new Int32Array(this.count * 2);
      comments.set(this.comments);
      this.comments = comments;
    }
    if (this.count > 0 && time < this.times[this.count - 1]) this.sorted = false;
    this.times[this.count] = time;
    this.comments[this.count] = comment;
    this.count++;
  }

  sort(): void {
    if (this.sorted) return;
    const order = Array.from({ length: this.count }, (_, i) => i);
    order.sort((a, b) => this.times[a] - this.times[b]);
    const times = new Float64Array(this.times.length);
    const comments = new Int32Array(this.comments.length);
    order.forEach((from, to) => {
      times[to] = this.times[from];
      comments[to] = this.comments[from];
    });
    this.times = times;
    this.comments = comments;
    this.sorted = true;
  }

  /** The first position whose time is at least `t`. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class AnnotationTable {
  readonly #maxPackets: number;
  /**
   * the exchanges annotated; their text is made when a packet is annotated, so that a
   * cause found after the verdict (the record is the same object) is in it
   */
  readonly #exchanges: ExchangeRecord[] = [];
  readonly #byLabel = new Map<string, number>();
  readonly #interfaces: InterfaceSightings[] = [];
  /** the whole second times count from (the first sighting's) */
  #baseSec = Number.NaN;
  #packets = 0;
  #skipped = 0;
  /** ns the clock of an interface's host is ahead of the reference, as applied now (0 without one) */
  #clock: (label: string) => number = () => 0;
  /** where the last match() begins */
  matchFrom = 0;

  constructor(options: { maxPackets?: number } = {}) {
    this.#maxPackets = options.maxPackets ?? MAX_ANNOTATED_PACKETS;
  }

  /** How far each interface's host clock is ahead of the reference (the correlator's offsets). */
  setClock(clock: (label: string) => number): void {
    this.#clock = clock;
  }

  /** Only non-ok verdicts are annotated. */
  wants(status: ExchangeRecord['status']): boolean {
    return status !== 'ok';
  }

  /** A judged exchange (called as it is judged: the clock offsets are those it was judged with). */
  exchange(ex: ExchangeRecord): void {
    if (ex.status === 'ok') return;
    let comment = -1;
    for (const stage of ex.stages) {
      for (const s of stage.seen) {
        if (this.#packets >= this.#maxPackets) {
          this.#skipped++;
          continue;
        }
        if (comment < 0) comment = this.#exchanges.push(ex) - 1;
        const { sec, nsec } = parseTimestamp(s.ts);
        if (Number.isNaN(this.#baseSec)) this.#baseSec = sec;
        const time = (sec - this.#baseSec) * NS + nsec + this.#clock(s.iface);
        this.#sightingsOf(s.iface, true).add(time, comment);
        this.#packets++;
      }
    }
  }

  /** Sightings kept (each a packet to annotate). */
  get packets(): number {
    return this.#packets;
  }

  /** Sightings past the bound, not annotated. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Exchanges whose packets are annotated. */
  get exchanges(): number {
    return this.#exchanges.length;
  }

  /** The interface of this label among the annotated ones, or -1 (its packets need no lookup). */
  interfaceIndex(label: string): number {
    const ix = this.#byLabel.get(label);
    if (ix === undefined) return -1;
    this.#interfaces[ix].sort();
    return ix;
  }

  /**
   * How many comments the packet stamped (sec, nsec) on interface `ix` carries; they are
   * comment(ix, matchFrom) … comment(ix, matchFrom + n - 1). Allocates nothing.
   */
  match(ix: number, sec: number, nsec: number): number {
    const s = this.#interfaces[ix];
    const t = (sec - this.#baseSec) * NS + nsec;
    // The packet's stamp is within half a nanosecond of the sighting's (see the top).
    let k = s.lowerBound(t - 0.5);
    this.matchFrom = k;
    while (k < s.count && s.times[k] <= t + 0.5) k++;
    return k - this.matchFrom;
  }

  comment(ix: number, position: number): string {
    return annotationText(this.#exchanges[this.#interfaces[ix].comments[position]]);
  }

  #sightingsOf(label: string, create: boolean): InterfaceSightings {
    let ix = this.#byLabel.get(label);
    if (ix === undefined && create) {
      ix = this.#interfaces.push(new InterfaceSightings()) - 1;
      this.#byLabel.set(label, ix);
    }
    return this.#interfaces[ix as number];
  }
}
