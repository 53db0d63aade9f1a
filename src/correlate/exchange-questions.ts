// What the packet path asks of an exchange in flight before a packet joins it: was the
// question answered where it was asked, did a stage reach an interface, is an asking
// packet a new one (or its answer not taken), when is it due, how long its answer
// took — read from the exchange's rows (tables.ts), on the reference clock.
// Per packet that asks again (rare), allocation-free.
import type { CaptureInterfaces } from './capture-interfaces.js';
import { answeredBy, type Kind, NO_NEXT_STEP, notTakenUnless } from './kinds/table.js';
import type { Classified } from './classified.js';
import { MAX_EXCHANGE_NS } from './correlator-options.js';
import { MAX_STAGES } from './kinds/kind-spec.js';
import {
  EX_DOUBLES,
  EX_INTS,
  ExDouble,
  ExInt,
  type ExchangeRows,
  Sighting,
  SIGHTING_FIELDS,
  Tr,
  TRACK_INTS,
  type TrackRows,
} from './tables.js';

/**
 * How long past the time since its first question an exchange asked again waits for
 * the next try, more than that time itself (a TCP SYN's retransmissions come 1, 3, 7 s
 * after the first: each as long after the last as the last after the first, plus 1 s).
 */
const RETRY_SLACK_NS = 1.5e9;

export class ExchangeQuestions {
  readonly #ex: ExchangeRows;
  readonly #tracks: TrackRows;
  readonly #ifaces: CaptureInterfaces;

  /** when the answer last found by answered() reached the asker (reference clock; Infinity: none) */
  #answeredAt = Number.POSITIVE_INFINITY;

  constructor(ex: ExchangeRows, tracks: TrackRows, ifaces: CaptureInterfaces) {
    this.#ex = ex;
    this.#tracks = tracks;
    this.#ifaces = ifaces;
  }

  /**
   * The exchange's RTT sample, once: when a packet of a later stage (an answer, an error;
   * the asker's next step) is first seen on an interface an earlier stage passed, the time
   * between the two on that interface's clock (ns; marks the exchange sampled), else -1.
   * Asked only while the exchange is not sampled (ExInt.RttSampled). Taken as packets are read, not when the exchange is judged: live,
   * judging runs on the wall clock's ticks, and a replay of the recording reads the same
   * packets in the same order, so both give the exchanges after it the same timeout.
   */
  answerRtt(x: number, stage: number, iface: number, rel: number): number {
    const X = this.#ex;
    const T = this.#tracks;
    for (let s = 0; s < stage; s++) {
      const t = X.ints[x * EX_INTS + ExInt.Stages + s] - 1;
      const r = t < 0 ? -1 : T.find(t, iface);
      if (r < 0) continue;
      X.ints[x * EX_INTS + ExInt.RttSampled] = 1;
      return rel - T.sightings.f[r * SIGHTING_FIELDS + Sighting.Time];
    }
    return -1;
  }

  /**
   * Whether the asker already got an answer to this stage: an answer (or error) was seen on
   * the interface where the question was first seen. Then the same question again starts
   * a new exchange (ARP refreshing, a DNS id reused, a new DHCP transaction with the old
   * xid); an answer that never reached the asker leaves retransmissions in the exchange.
   */
  answered(x: number, kind: Kind, stage: number): boolean {
    this.#answeredAt = Number.POSITIVE_INFINITY;
    const X = this.#ex;
    const T = this.#tracks;
    const ask = X.ints[x * EX_INTS + ExInt.Stages + stage] - 1;
    if (ask < 0 || T.ints[ask * TRACK_INTS + Tr.Count] === 0) return false;
    const f = T.sightings.f;
    // where the question started: its highest TTL, then its earliest on the reference clock
    let r = T.ints[ask * TRACK_INTS + Tr.Head];
    let origin = f[r * SIGHTING_FIELDS + Sighting.Iface];
    let ttl = f[r * SIGHTING_FIELDS + Sighting.Ttl];
    let first = this.referenceTime(r);
    for (r = f[r * SIGHTING_FIELDS + Sighting.Next]; r >= 0; r = f[r * SIGHTING_FIELDS + Sighting.Next]) {
      const rTtl = f[r * SIGHTING_FIELDS + Sighting.Ttl];
      const t = this.referenceTime(r);
      if (rTtl > ttl || (rTtl === ttl && t < first)) {
        first = t;
        ttl = rTtl;
        origin = f[r * SIGHTING_FIELDS + Sighting.Iface];
      }
    }
    // the answers that end it (kinds/: an echo's reply; a DHCP discover's offer, ack or nak), or an error answer
    for (let answers = answeredBy(kind, stage), s = 0; answers !== 0; answers >>>= 1, s++)
      if ((answers & 1) !== 0) this.#noteAnswer(x, s, origin);
    const error = X.ints[x * EX_INTS + ExInt.ErrorStage];
    if (error >= 0) this.#noteAnswer(x, error, origin);
    return this.#answeredAt !== Number.POSITIVE_INFINITY;
  }

  /** Keeps in #answeredAt the earliest time (reference clock) stage `s` of x reached `origin`. */
  #noteAnswer(x: number, s: number, origin: number): void {
    const t = this.#ex.ints[x * EX_INTS + ExInt.Stages + s] - 1;
    const r = t < 0 ? -1 : this.#tracks.find(t, origin);
    if (r < 0) return;
    const at = this.referenceTime(r);
    if (at < this.#answeredAt) this.#answeredAt = at;
  }

  /** A sighting's time on the reference clock. */
  referenceTime(r: number): number {
    const f = this.#tracks.sightings.f;
    const t = f[r * SIGHTING_FIELDS + Sighting.Time];
    const I = this.#ifaces;
    return I.hosts.length < 2
      ? t
      : t - I.clock.offsetNs(I.hostOf[f[r * SIGHTING_FIELDS + Sighting.Iface]] ?? 0);
  }

  /** Whether a packet of the exchange's stage was seen on `iface`. */
  reached(x: number, stage: number, iface: number): boolean {
    const t = this.#ex.ints[x * EX_INTS + ExInt.Stages + stage] - 1;
    return t >= 0 && this.#tracks.find(t, iface) >= 0;
  }

  /**
   * Whether an asking packet is a new one rather than the same packet reaching one more
   * interface (live, interfaces deliver in batches: a request's later hops may arrive
   * after its answer): another fingerprint, or one more sighting where it was seen —
   * unless with a lower TTL than there (`ttl`, -1 for none): that is the same packet
   * back from a routing loop, still going round when its ICMP error was read.
   */
  repeated(
    x: number,
    stage: number,
    fingerprint: number,
    iface: number,
    ttl: number,
    /** the packet's time on the reference clock, less how far that may be off (called only once answered) */
    earliestRel: number,
  ): boolean {
    const t = this.#ex.ints[x * EX_INTS + ExInt.Stages + stage] - 1;
    // another packet: a new question if it came after the answer reached the asker —
    // not one a relay made of the question before (a DHCP relay's, read after the
    // answer because live interfaces deliver in batches)
    if (t < 0 || !this.#tracks.hasPacket(t, fingerprint)) return earliestRel > this.#answeredAt;
    const r = this.#tracks.find(t, iface);
    if (r < 0) return false;
    return !(ttl >= 0 && ttl < this.#tracks.sightings.f[r * SIGHTING_FIELDS + Sighting.Ttl]);
  }

  /**
   * The question of x asked again (`repeated`) after its answer reached the asker: when
   * its kind says that means the answer was not taken (KindSpec.notTakenWhenAskedAgain),
   * the next step was not seen, the answer was no error, the question not flooded and
   * asked the same way, marks x so (ExInt.AskedAgain), lets it wait for the
   * next try — each comes after twice the time since the first — and returns true: the
   * packet stays x's. Else false: x is over, and a new exchange begins. Per such packet
   * only (rare): `refRel` (its time, reference clock) may be boxed.
   */
  notTaken(x: number, c: Classified, refRel: number): boolean {
    const X = this.#ex;
    const unless = notTakenUnless(c.kind, c.stage);
    if (unless < 0 || (unless !== NO_NEXT_STEP && X.ints[x * EX_INTS + ExInt.Stages + unless] !== 0))
      return false;
    // asked again after an error answer (a resolver tries its next server), by routine (a
    // flooded question: mDNS), or another way (over TCP after a truncated answer): new
    if (X.ints[x * EX_INTS + ExInt.ErrorStage] >= 0 || X.ints[x * EX_INTS + ExInt.AnswerError] !== 0)
      return false;
    const t = X.ints[x * EX_INTS + ExInt.Stages + c.stage] - 1;
    if (t >= 0 && this.#tracks.ints[t * TRACK_INTS + Tr.Broadcast] !== 0) return false;
    // (the key's third number: DNS's transport, TCP's ISN; not the first two — ports a NAT rewrote)
    if (X.doubles[x * EX_DOUBLES + ExDouble.Part2] !== c.keyPart2) return false;
    X.ints[x * EX_INTS + ExInt.AskedAgain] = 1;
    const wait = refRel - X.doubles[x * EX_DOUBLES + ExDouble.FirstRel] + RETRY_SLACK_NS;
    if (wait > X.doubles[x * EX_DOUBLES + ExDouble.TimeoutNs])
      X.doubles[x * EX_DOUBLES + ExDouble.TimeoutNs] = wait;
    return true;
  }

  /** Last activity plus the timeout, and never more than MAX_EXCHANGE_NS after it began. */
  deadline(x: number): number {
    const X = this.#ex;
    return Math.min(
      X.doubles[x * EX_DOUBLES + ExDouble.LastRel] + X.doubles[x * EX_DOUBLES + ExDouble.TimeoutNs],
      X.doubles[x * EX_DOUBLES + ExDouble.FirstRel] + MAX_EXCHANGE_NS,
    );
  }

  /**
   * deadline() with every sighting put on the reference clock by today's offsets (several
   * hosts): packets read before a host's offset was known were timed with an older
   * estimate, and a replay of several hosts' files judges its first seconds only then.
   */
  deadlineNow(x: number): number {
    const X = this.#ex;
    const T = this.#tracks;
    const f = T.sightings.f;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (let i = x * EX_INTS + ExInt.Stages; i < x * EX_INTS + ExInt.Stages + MAX_STAGES; i++) {
      const t = X.ints[i] - 1;
      if (t < 0) continue;
      for (let r = T.ints[t * TRACK_INTS + Tr.Head]; r >= 0; r = f[r * SIGHTING_FIELDS + Sighting.Next]) {
        const at = this.referenceTime(r);
        if (at < first) first = at;
        if (at > last) last = at;
      }
    }
    if (last === Number.NEGATIVE_INFINITY) return this.deadline(x);
    return Math.min(last + X.doubles[x * EX_DOUBLES + ExDouble.TimeoutNs], first + MAX_EXCHANGE_NS);
  }
}
