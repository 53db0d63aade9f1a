// The correlation stage (docs/verdicts.md): decoded packets in, exchange verdicts out.
//
//   packet ─ classify ─► exchange (by kind + key) ─► stage ─► sightings (interface, time)
//                                                        │
//   time passes ─► exchanges whose deadline passed ─► sample clocks (clock-sampling.ts)
//   ─► order sightings (stage-order.ts) ─► verdict (verdict.ts) ─► learn paths
//   (path-learning.ts) ─► ExchangeRecord to the sinks (exchange-record.ts)
//
// This file holds the packet path and the exchanges' lifetime: what each kind of
// exchange is lives in kinds/. Identity: an exchange's packets are recognised by
// invariant fields (its kind's key: echo id/seq and payload, the SYN's ISN, DNS id and
// question, DHCP xid and client MAC, ARP sender and target), and each packet by its
// fingerprint (classify.ts); neither includes
// addresses, ports, MACs or TTL, so translation and tunnels keep them. Within a stage,
// the first sighting per interface counts: `-i any` doubles and repeats on one
// interface do not make a path longer.
//
// Time: sightings are kept as nanoseconds relative to the first packet's second (exact
// in a double for 104 days), raw on their host's clock; a host's estimated offset is
// subtracted when an exchange is judged. `advance(now)` judges every exchange whose
// deadline (last sighting + timeout) is before `now` — replay advances with packet
// time, live capture with the wall clock — so a recording replayed is judged as it was
// live. Verdicts come out in deadline order (of the oldest exchange first, a blocked
// queue costs at most one timeout of delay).
//
// Bounds (all documented in the README): exchanges in flight (`maxExchanges`, the
// oldest judged early beyond it), learned flows and routes (`maxFlows` each, least
// recently learned forgotten), sightings per stage (MAX_SIGHTINGS), clock samples,
// DNS-over-TCP flows followed (dns-tcp.ts).
// The state in flight is rows of typed arrays (tables.ts, learned.ts), reused: no
// object is made per packet, exchange or flow, and an ok verdict allocates nothing.
import { parseIp } from '../decode/format.js';
import type { PacketRecord } from '../decode/record.js';
import type { ClockRecord, ExchangeRecord, SummaryRecord } from '../events/types.js';
import type { JudgedExchange } from '../shared/judged-exchange.js';
import {
  EX_DOUBLES,
  EX_INTS,
  ExchangeRows,
  ExDouble,
  ExInt,
  MAX_STAGES,
  RowQueue,
  Sighting,
  SIGHTING_FIELDS,
  SlotIndex,
  Tr,
  TRACK_INTS,
  TrackRows,
} from './tables.js';
import { classify, Classified, hashAddr } from './classify.js';
import { ExchangeJsonWriter } from './exchange-json.js';
import { ExchangeRecordWriter, keepKey } from './exchange-record.js';
import { JudgedView } from './judged-view.js';
import { answeredBy, Kind, KIND_NAMES, opens, STAGE_NAMES } from './kinds/table.js';
import { ClockEstimator } from './clock.js';
import { ClockSampling } from './clock-sampling.js';
import { DnsTcpStreams } from './dns-tcp.js';
import { MAX_HOPS } from './hop-order.js';
import { CaptureHealth } from './health.js';
import type { LearnedTable } from './learned.js';
import { flowKey, PathKnowledge } from './path-learning.js';
import { StageOrder } from './stage-order.js';
import {
  judge,
  newVerdict,
  type JudgeTiming,
  type OrderedStage,
  type PathOracle,
  type Verdict,
} from './verdict.js';

export interface CorrelatorInterface {
  id: number;
  label: string;
  /** ssh destination; null for this machine */
  host: string | null;
  /**
   * How finely its time stamps tell time apart, in ns (1: nanosecond stamps; 1000: a
   * µs pcap, a remote tcpdump without nanosecond support). Two stamps closer than this
   * say nothing about which packet came first. Default 1.
   */
  tsResolutionNs?: number;
  /**
   * The interface's own IP addresses (`10.0.0.5`, `10.0.0.5/24`, `fe80::1/64`), where
   * known (a live capture's listing, a recording's IDB): a packet starts where its
   * source lives and ends where its destination does (hop-order.ts).
   */
  addresses?: readonly string[];
}

export interface CorrelatorOptions {
  /**
   * A verdict: its record, or its JSON line straight from the correlator's rows, for
   * the asking — only during this call (shared/judged-exchange.ts).
   */
  onExchange(judged: JudgedExchange): void;
  /**
   * Whether a verdict of this status is wanted as a record; false skips building it
   * (it is still counted in the summary). Default: every verdict.
   */
  wants?(status: ExchangeRecord['status']): boolean;
  onClock?(record: ClockRecord): void;
  /** timeout before any RTT is known, default 1000 ms */
  defaultTimeoutMs?: number;
  /** bounds of RTT-adaptive timeouts, default 500 ms .. 5000 ms */
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /** exchanges in flight at most, default 200 000 */
  maxExchanges?: number;
  /** learned flow paths and routes kept, default 65 536 each */
  maxFlows?: number;
  /**
   * true (replay): packet time judges exchanges as it passes their deadlines. false
   * (live capture): only advance() does — packets of several interfaces and hosts
   * arrive out of order, so the caller advances to a time all sources have passed.
   */
  advanceWithPackets?: boolean;
  /**
   * With advanceWithPackets: judge only what is due this long before the latest packet —
   * a recording made live holds packets in arrival order, which across interfaces and
   * hosts trails their time stamps by up to the live hold.
   */
  packetLagMs?: number;
}

/** Sightings kept per stage (interfaces on one path); more are counted, not kept. */
const MAX_SIGHTINGS = MAX_HOPS;
/** Distinct packets (fingerprints) remembered per stage, to count retransmissions. */
const MAX_STAGE_PACKETS = 16;
/** An exchange is judged at most this long after its first packet (retries included). */
const MAX_EXCHANGE_NS = 10e9;
/** tcpdump's buffer timeout (1 s) and a margin: what a remote session that died may not have sent. */
const REMOTE_UNFLUSHED_NS = 1.5e9;
/**
 * Packets of an exchange up to this long after its timeout still join it (a retry sent
 * right at the timeout); later ones do not, however long the capture holds packets for
 * late sources (0.6 s locally, 2.5 s with remote hosts): verdicts must not depend on it.
 * The local hold, so a local capture judges as it always did.
 */
const LATE_JOIN_NS = 0.6e9;
/** Multiples of the flow's smoothed RTT before an unanswered stage is judged. */
const RTT_TIMEOUT_FACTOR = 8;

/** No exchange row (SlotIndex.get's miss). */
const NONE = -1;

const NS = 1_000_000_000;

export class Correlator {
  readonly #options: CorrelatorOptions;
  readonly #classified = new Classified();
  readonly #dnsTcp = new DnsTcpStreams();
  /** exchanges in flight, by key slot; their rows, stage tracks and sightings */
  readonly #index = new SlotIndex(65536);
  readonly #ex = new ExchangeRows();
  readonly #tracks = new TrackRows();
  /** Exchange rows in creation order; judged ones are skipped, a row is freed once passed. */
  readonly #queue = new RowQueue();
  /** learned per flow direction: path and smoothed RTT; per (interface, address): the route on */
  readonly #learned: PathKnowledge;
  /** #learned.flows (read when an exchange opens, for its flow's smoothed RTT) */
  readonly #flows: LearnedTable;
  readonly #health = new CaptureHealth();
  readonly #clock = new ClockEstimator();
  readonly #clockSampling: ClockSampling;
  readonly #labels: string[] = [];
  /** writes verdicts as records (reads #labels) */
  readonly #records = new ExchangeRecordWriter(this.#labels);
  /** the verdict handed to onExchange (records built, or JSON written, only when asked) */
  readonly #judged = new JudgedView(this.#records, new ExchangeJsonWriter(this.#records));
  /** interface id → order of announcement */
  readonly #rank: number[] = [];
  #announced = 0;
  /** interface id → host index (0 = reference host) */
  readonly #hostOf: number[] = [];
  /** interface id → time stamp resolution in ns */
  readonly #resolutionOf: number[] = [];
  /** interface id → hashes of its own addresses (as classify hashes a packet's), or undefined */
  readonly #addressesOf: Array<readonly number[] | undefined> = [];
  /**
   * host index → its clock's estimated offset (ns) as of now, subtracted from a packet's
   * time to judge deadlines on the reference clock (a plain typed array: read per packet)
   */
  #offsetOf = new Float64Array(16);
  /** host index → how far that offset may be off (0 for the reference, Infinity until measured) */
  #uncertaintyOf = new Float64Array(16).fill(Number.POSITIVE_INFINITY);
  /** host index → its latest packet's time (relative ns on its own clock) */
  readonly #hostLastRel: number[] = [];
  /** interface id → when its capture stopped (relative ns on its host's clock), if told */
  readonly #stoppedRel: number[] = [];
  readonly #hosts: Array<string | null> = [];
  /** host → its index in #hosts: a file may name 65,536 interfaces, each on a host of its own */
  readonly #hostIndex = new Map<string | null, number>();
  #baseSec = -1;
  #nowRel = Number.NEGATIVE_INFINITY;
  /**
   * The time #judge judges at, set just before each call: a time in ns is a double, and
   * a double passed as an argument to a call that is not inlined is boxed on the heap.
   */
  #judgeNow = Number.NEGATIVE_INFINITY;
  /**
   * Packet time up to which nothing in the queue is due: the deadline of the unjudged
   * exchange at its head when last looked at (a deadline only moves later while the
   * exchange is open). Any judgement can change the head: it resets this.
   */
  #dueAfter = Number.NEGATIVE_INFINITY;
  readonly #defaultTimeoutNs: number;
  readonly #minTimeoutNs: number;
  readonly #maxTimeoutNs: number;
  readonly #maxExchanges: number;
  readonly #advanceWithPackets: boolean;
  #lagNs: number;
  #collisions = 0;
  /** finish() sampled the clocks of every exchange still open: #judge does not again */
  #clocksSampled = false;
  /** the time finish() judges what is still open at, once it began */
  #finishEnd: number | undefined = undefined;
  /** Scratch for judging (synchronous, so reused): per kind, the array of its ordered stages. */
  readonly #judgedStages: Array<Array<OrderedStage | undefined>> = KIND_NAMES.map((_, kind) =>
    new Array<OrderedStage | undefined>(STAGE_NAMES[kind as Kind].length).fill(undefined),
  );
  /** puts a stage's sightings in path order when it is judged */
  readonly #stageOrder: StageOrder;
  /** Scratch verdict and timing: judging is synchronous, its results are used before the next. */
  readonly #verdict: Verdict = newVerdict();
  // (times start as -Infinity: a double, so that the first time stored keeps the shape; see UNSIGNED_32)
  readonly #timing: JudgeTiming = {
    deadline: Number.NEGATIVE_INFINITY,
    now: Number.NEGATIVE_INFINITY,
    forcedReason: null,
  };
  /** the kind of the exchange being judged (the oracle's flow paths are per kind) */
  #judgedKind: Kind = Kind.None;
  readonly #oracle: PathOracle = {
    flowPath: (src, dst) => this.#learned.flowPath(this.#judgedKind, src, dst),
    towards: (iface, addr) => this.#learned.towardsPath(iface, addr),
    problem: (iface, from, to) => this.#health.problem(iface, from, to),
  };
  readonly #summary: SummaryRecord = {
    type: 'summary',
    exchanges: 0,
    ok: 0,
    lost: 0,
    unanswered: 0,
    error: 0,
    inconclusive: 0,
  };

  constructor(options: CorrelatorOptions) {
    this.#options = options;
    this.#defaultTimeoutNs = (options.defaultTimeoutMs ?? 1000) * 1e6;
    this.#minTimeoutNs = (options.minTimeoutMs ?? 500) * 1e6;
    this.#maxTimeoutNs = (options.maxTimeoutMs ?? 5000) * 1e6;
    this.#maxExchanges = options.maxExchanges ?? 200_000;
    this.#advanceWithPackets = options.advanceWithPackets ?? true;
    this.#lagNs = (options.packetLagMs ?? 0) * 1e6;
    this.#learned = new PathKnowledge(options.maxFlows ?? 65_536);
    this.#flows = this.#learned.flows;
    this.#clockSampling = new ClockSampling({
      clock: this.#clock,
      hosts: this.#hosts,
      hostOf: this.#hostOf,
      resolutionOf: this.#resolutionOf,
      offsetChanged: (host) => {
        this.#offsetOf[host] = this.#clock.offsetNs(host);
        this.#uncertaintyOf[host] = this.#clock.uncertaintyNs(host);
      },
      onClock: options.onClock,
    });
    this.#stageOrder = new StageOrder({
      ex: this.#ex,
      tracks: this.#tracks,
      clock: this.#clock,
      learned: this.#learned,
      hosts: this.#hosts,
      hostOf: this.#hostOf,
      resolutionOf: this.#resolutionOf,
      addressesOf: this.#addressesOf,
      rank: this.#rank,
    });
  }

  get summary(): Readonly<SummaryRecord> {
    return this.#summary;
  }

  /** Packets of an exchange not tracked because another held its key slot (rare). */
  get keyCollisions(): number {
    return this.#collisions;
  }

  /** Whether the packet last given to packet() was one of an exchange (the packet memory keeps those). */
  get lastWasExchange(): boolean {
    return this.#classified.kind !== Kind.None;
  }

  /** Exchanges waiting for their verdict. */
  get pending(): number {
    return this.#index.size;
  }

  /**
   * ns the clock of interface `iface`'s host is ahead of the reference clock, as verdicts
   * given now apply it (0 with one host): a sighting's `ts` plus this is its packet's own
   * time stamp, to half a nanosecond (the recording's annotation finds packets so).
   */
  clockOffsetNs(iface: number): number {
    return this.#hosts.length < 2 ? 0 : this.#clock.offsetNs(this.#hostOf[iface] ?? 0);
  }

  /** Raise the packet lag (a replay learns of remote interfaces as it reads them). */
  setPacketLagMs(ms: number): void {
    this.#lagNs = Math.max(this.#lagNs, ms * 1e6);
  }

  /**
   * The host whose clock time stamps are on (docs/json-lines.md "Time stamps": the first host named). Without
   * it, the host of the first interface added. Only before any interface is added.
   */
  setReferenceHost(host: string | null): void {
    if (this.#hosts.length === 0) {
      this.#hosts.push(host);
      this.#hostIndex.set(host, 0);
    }
  }

  addInterface(iface: CorrelatorInterface): void {
    if (this.#labels[iface.id] === undefined) this.#rank[iface.id] = this.#announced++;
    this.#labels[iface.id] = iface.label;
    let host = this.#hostIndex.get(iface.host);
    if (host === undefined) {
      host = this.#hosts.length;
      this.#hosts.push(iface.host);
      this.#hostIndex.set(iface.host, host);
    }
    this.#hostOf[iface.id] = host;
    if (host >= this.#offsetOf.length) {
      const size = this.#offsetOf.length * 2 > host ? this.#offsetOf.length * 2 : host + 1;
      const offsets = new Float64Array(size);
      offsets.set(this.#offsetOf);
      this.#offsetOf = offsets;
      const uncertainties = new Float64Array(size).fill(Number.POSITIVE_INFINITY);
      uncertainties.set(this.#uncertaintyOf);
      this.#uncertaintyOf = uncertainties;
    }
    this.#uncertaintyOf[0] = 0;
    const hashes: number[] = [];
    for (const text of iface.addresses ?? []) {
      const bytes = parseIp(text);
      if (bytes !== null) hashes.push(hashAddr(bytes, 0, bytes.length));
    }
    this.#addressesOf[iface.id] = hashes.length > 0 ? hashes : undefined;
    this.#resolutionOf[iface.id] = Math.max(1, iface.tsResolutionNs ?? 1);
  }

  /** Relative ns of a timestamp (the first one seen sets the base second). */
  rel(sec: number, nsec: number): number {
    if (this.#baseSec < 0) this.#baseSec = sec;
    return (sec - this.#baseSec) * NS + nsec;
  }

  // --- capture health (docs/verdicts.md "Inconclusive") ---

  interfaceStarted(id: number, sec: number, nsec: number): void {
    this.#health.started(id, this.rel(sec, nsec));
  }
  /**
   * The capture of `id` stopped at (sec, nsec) of its host's clock (a recording's last
   * statistics block): finish() without a time ends it there, on the reference clock.
   */
  interfaceStopped(id: number, sec: number, nsec: number): void {
    this.#stoppedRel[id] = this.rel(sec, nsec);
  }
  /**
   * The capture of `id` stopped (interface gone, remote session lost) at (sec, nsec). A
   * remote tcpdump that died took its unwritten buffer with it: up to its buffer timeout
   * of packets before that are missing too, so the gap starts that much earlier.
   */
  interfaceGone(id: number, sec: number, nsec: number): void {
    const remote = (this.#hosts[this.#hostOf[id] ?? 0] ?? null) !== null;
    this.#health.gone(id, this.rel(sec, nsec) - (remote ? REMOTE_UNFLUSHED_NS : 0));
  }
  interfaceBack(id: number, sec: number, nsec: number): void {
    this.#health.back(id, this.rel(sec, nsec));
  }
  interfaceDrops(id: number, totalDropped: number, sec: number, nsec: number): void {
    this.#health.dropCounter(id, totalDropped, this.rel(sec, nsec));
  }
  /** Drops known only as a whole-capture total (a recording's statistics block). */
  interfaceDropsOverall(
    id: number,
    totalDropped: number,
    fromSec: number,
    fromNsec: number,
    toSec: number,
    toNsec: number,
  ): void {
    this.#health.dropsOverall(id, totalDropped, this.rel(fromSec, fromNsec), this.rel(toSec, toNsec));
  }

  // --- packets ---

  /** One decoded packet seen on interface `iface` at (sec, nsec) of its host's clock. */
  packet(rec: PacketRecord, iface: number, sec: number, nsec: number): void {
    const c = this.#classified;
    classify(rec, c);
    if (c.kind !== Kind.None) this.classified(c, iface, sec, nsec);
    // DNS over TCP: the messages the segment begins or completes (the replay's decoder thread does the same)
    const dnsTcp = this.#dnsTcp;
    if (dnsTcp.segment(rec, c, iface)) while (dnsTcp.next(c)) this.classified(c, iface, sec, nsec);
  }

  /**
   * One packet of an exchange, classified already (classify.ts; the replay classifies
   * on its decoder thread): what `packet` does after classifying.
   */
  classified(c: Classified, iface: number, sec: number, nsec: number): void {
    // (this.rel, written out: its double result would be boxed when the call is not inlined)
    if (this.#baseSec < 0) this.#baseSec = sec;
    const rel = (sec - this.#baseSec) * NS + nsec;
    // Deadlines and the judging time are on the reference clock: a host's clock ahead
    // would otherwise judge everything early, one behind make a capture "end" too soon.
    const host = this.#hostOf[iface] ?? 0;
    const refRel = rel - this.#offsetOf[host];
    // A 30-bit slot indexes the exchange; the key's two bits above it are checked.
    const slot = c.keySlot;
    const check = c.keyCheck;
    const X = this.#ex;
    let x = this.#index.get(slot);
    if (x !== NONE && X.ints[x * EX_INTS + ExInt.Check] !== check) {
      // Two exchanges in one slot at once: the newer one is not tracked (counted).
      this.#collisions++;
      return;
    }
    if (x !== NONE && refRel - this.#uncertaintyOf[host] > this.#deadline(x) + LATE_JOIN_NS) {
      // Past its timeout (and the grace a retry gets): the exchange is over, whenever it
      // would have been judged — what a verdict holds must not depend on how long the
      // capture waited for late sources. (A host whose clock is not known yet cannot tell.)
      const deadline = this.#deadline(x);
      this.#judgeNow = this.#nowRel > deadline ? this.#nowRel : deadline;
      this.#judge(x);
      x = NONE;
    }
    if (
      x !== NONE &&
      X.ints[x * EX_INTS + ExInt.Kind] === c.kind &&
      opens(c.kind, c.stage) &&
      this.#answered(x, c.kind, c.stage) &&
      this.#repeated(x, c.stage, c.fingerprint, iface)
    ) {
      // The same question again after its answer (ARP refreshing, a DNS id reused, a new
      // DHCP transaction with the old xid): the old exchange is over, this one begins.
      const deadline = this.#deadline(x);
      this.#judgeNow = this.#nowRel > deadline ? this.#nowRel : deadline;
      this.#judge(x);
      x = NONE;
    }
    if (c.mustMatch >= 0) {
      // A packet that belongs only to an exchange that kept this number (TCP: the ACK
      // of a handshake we are tracking, acknowledging the server's ISN).
      if (
        x === NONE ||
        X.ints[x * EX_INTS + ExInt.Kind] !== c.kind ||
        X.doubles[x * EX_DOUBLES + ExDouble.Kept] !== c.mustMatch
      )
        return;
    }
    if (x !== NONE && X.ints[x * EX_INTS + ExInt.Kind] !== c.kind) return; // a key collision across kinds: ignore
    if (x === NONE) {
      // Answers without their question (capture started in between) are not exchanges.
      if (!opens(c.kind, c.stage)) return;
      if (this.#index.size >= this.#maxExchanges) this.#judgeOldest();
      x = X.open(c.kind, slot, check, this.#defaultTimeoutNs);
      X.doubles[x * EX_DOUBLES + ExDouble.FirstRel] = refRel;
      X.doubles[x * EX_DOUBLES + ExDouble.LastRel] = refRel;
      X.doubles[x * EX_DOUBLES + ExDouble.KeyRel] = refRel;
      keepKey(X, x, c);
      const fk = flowKey(c.kind, c.srcHash, c.dstHash);
      X.ints[x * EX_INTS + ExInt.Flow] = fk;
      const flow = this.#flows.find(fk);
      const srtt = flow >= 0 ? this.#flows.value[flow] : 0;
      if (srtt > 0) {
        // RTT_TIMEOUT_FACTOR × the flow's smoothed RTT, within bounds (written out: no boxed double)
        const t = srtt * RTT_TIMEOUT_FACTOR;
        X.doubles[x * EX_DOUBLES + ExDouble.TimeoutNs] =
          t < this.#minTimeoutNs ? this.#minTimeoutNs : t > this.#maxTimeoutNs ? this.#maxTimeoutNs : t;
      }
      this.#index.set(slot, x);
      this.#queue.push(x);
      this.#summary.exchanges++;
    } else if (opens(c.kind, c.stage)) {
      // Live, an interface further along may deliver first, and in a replay of several
      // hosts' files a clock ahead puts a later hop first: the exchange is named by its
      // first hop — the highest TTL, then the earliest on the reference clock.
      const keyTtl = X.ints[x * EX_INTS + ExInt.KeyTtl];
      if (c.ttl > keyTtl || (c.ttl === keyTtl && refRel < X.doubles[x * EX_DOUBLES + ExDouble.KeyRel])) {
        keepKey(X, x, c);
        X.doubles[x * EX_DOUBLES + ExDouble.KeyRel] = refRel;
        X.ints[x * EX_INTS + ExInt.Flow] = flowKey(c.kind, c.srcHash, c.dstHash);
      }
    }
    if (c.keep >= 0) X.doubles[x * EX_DOUBLES + ExDouble.Kept] = c.keep;
    if (c.errorAboutAnswer) {
      if (X.ints[x * EX_INTS + ExInt.AnswerError] === 0) {
        X.ints[x * EX_INTS + ExInt.AnswerError] = 1;
        X.answerError[x] = c.errorDetail;
      }
    } else if (c.errorDetail !== '' && X.ints[x * EX_INTS + ExInt.ErrorStage] < 0) {
      X.ints[x * EX_INTS + ExInt.ErrorStage] = c.stage;
      X.errorDetail[x] = c.errorDetail;
    }
    const T = this.#tracks;
    const at = x * EX_INTS + ExInt.Stages + c.stage;
    let t = X.ints[at] - 1;
    if (t < 0) {
      t = T.open();
      X.ints[at] = t + 1;
    }
    const ti = t * TRACK_INTS;
    if (c.broadcast) T.ints[ti + Tr.Broadcast] = 1;
    // a retransmission that differs is one more packet (rare: an array then)
    const fp = c.fingerprint;
    if (T.ints[ti + Tr.Packets] === 0 || !T.hasPacket(t, fp)) T.addPacket(t, fp, MAX_STAGE_PACKETS);
    // Within a stage the first sighting per interface counts.
    if (T.find(t, iface) < 0) {
      if (T.ints[ti + Tr.Count] < MAX_SIGHTINGS) {
        const r = T.addSighting(t, iface, c.srcHash, c.dstHash, c.tunnel, c.ttl);
        T.sightings.f[r * SIGHTING_FIELDS + Sighting.Time] = rel;
      } else T.ints[ti + Tr.Extra]++;
    }
    if (refRel > X.doubles[x * EX_DOUBLES + ExDouble.LastRel])
      X.doubles[x * EX_DOUBLES + ExDouble.LastRel] = refRel;
    if (!(rel <= this.#hostLastRel[host])) this.#hostLastRel[host] = rel;
    if (this.#advanceWithPackets) {
      // (checked here, not in a call: a time in ns is a double, boxed when passed)
      const at = refRel - this.#lagNs;
      if (at > this.#nowRel) {
        this.#nowRel = at;
        if (at > this.#dueAfter) this.#judgeDue();
      }
    }
  }

  /** Last activity plus the timeout, and never more than MAX_EXCHANGE_NS after it began. */
  #deadline(x: number): number {
    const X = this.#ex;
    return Math.min(
      X.doubles[x * EX_DOUBLES + ExDouble.LastRel] + X.doubles[x * EX_DOUBLES + ExDouble.TimeoutNs],
      X.doubles[x * EX_DOUBLES + ExDouble.FirstRel] + MAX_EXCHANGE_NS,
    );
  }

  /**
   * #deadline with every sighting put on the reference clock by today's offsets (several
   * hosts): packets read before a host's offset was known were timed with an older
   * estimate, and a replay of several hosts' files judges its first seconds only then.
   */
  #deadlineNow(x: number): number {
    const X = this.#ex;
    const T = this.#tracks;
    const f = T.sightings.f;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (let i = x * EX_INTS + ExInt.Stages; i < x * EX_INTS + ExInt.Stages + MAX_STAGES; i++) {
      const t = X.ints[i] - 1;
      if (t < 0) continue;
      for (let r = T.ints[t * TRACK_INTS + Tr.Head]; r >= 0; r = f[r * SIGHTING_FIELDS + Sighting.Next]) {
        const at = this.#referenceTime(r);
        if (at < first) first = at;
        if (at > last) last = at;
      }
    }
    if (last === Number.NEGATIVE_INFINITY) return this.#deadline(x);
    return Math.min(last + X.doubles[x * EX_DOUBLES + ExDouble.TimeoutNs], first + MAX_EXCHANGE_NS);
  }

  /** Time moved on to (sec, nsec) on the reference clock: judge what is due. */
  advance(sec: number, nsec: number): void {
    if (this.#baseSec < 0) return;
    this.#nowRel = this.rel(sec, nsec);
    this.#judgeDue();
  }

  /**
   * The capture ended: every exchange still open is judged now (one whose timeout had not
   * run out is inconclusive). Live, at (sec, nsec) on the reference clock, where every
   * interface stops. Without a time (a replay), each interface stops where its capture
   * stopped (interfaceStopped), else at its host's last packet — each on the reference
   * clock, since hosts' clocks disagree — and what is open is judged at the latest.
   */
  finish(sec?: number, nsec?: number): SummaryRecord {
    this.finishSome(Infinity, sec, nsec);
    this.#clockSampling.reportAll();
    return { ...this.#summary };
  }

  /**
   * finish() in steps, for a consumer whose output may fall behind (a replay waits for
   * stdout's reader in between): judges at most `count` of the exchanges still open,
   * as finish(sec, nsec) would; true once none is left. finish() with the same end
   * then gives the summary.
   */
  finishSome(count: number, sec?: number, nsec?: number): boolean {
    const end = this.#finishEnd ?? this.#endCapture(sec, nsec);
    this.#finishEnd = end;
    let judged = 0;
    while (this.#queue.length > 0 && judged < count) {
      const x = this.#queue.shift();
      if (this.#ex.ints[x * EX_INTS + ExInt.Judged] === 0) {
        this.#judgeNow = end;
        this.#judge(x);
        judged++;
      }
      this.#recycle(x);
    }
    return this.#queue.length === 0;
  }

  /** Where each interface's capture stopped (see finish), once; returns the time open exchanges are judged at. */
  #endCapture(sec?: number, nsec?: number): number {
    let end = sec !== undefined ? this.rel(sec, nsec ?? 0) : this.#nowRel;
    // What the exchanges still open say about the clocks first: the capture's end on
    // each host, and their own deadlines, are put on the reference clock with it.
    const queue = this.#queue;
    for (let k = 0; k < queue.length; k++) {
      const x = queue.at(k);
      if (this.#ex.ints[x * EX_INTS + ExInt.Judged] === 0)
        this.#clockSampling.sample(this.#ex, this.#tracks, x);
    }
    this.#clocksSampled = true;
    for (let id = 0; id < this.#labels.length; id++) {
      if (this.#labels[id] === undefined) continue;
      if (sec !== undefined) {
        this.#health.stopped(id, end);
        continue;
      }
      const host = this.#hostOf[id] ?? 0;
      const own = Math.max(
        this.#stoppedRel[id] ?? Number.NEGATIVE_INFINITY,
        this.#hostLastRel[host] ?? Number.NEGATIVE_INFINITY,
      );
      if (own === Number.NEGATIVE_INFINITY) continue;
      const stop = own - this.#clock.offsetNs(host);
      this.#health.stopped(id, stop);
      if (stop > end) end = stop;
    }
    return end;
  }

  /** Judges what is due at #nowRel (the time is a field, not a parameter: see #judgeNow). */
  #judgeDue(): void {
    const rel = this.#nowRel;
    // Most packets move time on without reaching the head's deadline.
    if (rel <= this.#dueAfter) return;
    const ints = this.#ex.ints;
    while (this.#queue.length > 0) {
      const x = this.#queue.peek();
      if (ints[x * EX_INTS + ExInt.Judged] === 0) {
        const deadline = this.#deadline(x);
        if (deadline >= rel) {
          this.#dueAfter = deadline;
          return;
        }
        this.#judgeNow = rel;
        this.#judge(x);
      }
      this.#queue.shift();
      this.#recycle(x);
    }
  }

  #judgeOldest(): void {
    while (this.#queue.length > 0) {
      const x = this.#queue.shift();
      const open = this.#ex.ints[x * EX_INTS + ExInt.Judged] === 0;
      if (open) {
        this.#judgeNow = this.#nowRel;
        this.#judge(x, 'state limit reached: judged before its timeout');
      }
      this.#recycle(x);
      if (open) return;
    }
  }

  /** Judges exchange x at packet time #judgeNow. */
  #judge(x: number, forcedReason?: string): void {
    const X = this.#ex;
    X.ints[x * EX_INTS + ExInt.Judged] = 1;
    this.#dueAfter = Number.NEGATIVE_INFINITY;
    this.#index.delete(X.ints[x * EX_INTS + ExInt.Slot]);
    if (!this.#clocksSampled) this.#clockSampling.sample(X, this.#tracks, x);
    const kind = X.ints[x * EX_INTS + ExInt.Kind] as Kind;
    const stages = this.#judgedStages[kind];
    for (let i = 0; i < stages.length; i++) {
      const t = X.ints[x * EX_INTS + ExInt.Stages + i] - 1;
      stages[i] = t < 0 ? undefined : this.#stageOrder.ordered(x, kind, t, i, stages);
    }
    this.#judgedKind = kind;
    const timing = this.#timing;
    timing.deadline = this.#hosts.length < 2 ? this.#deadline(x) : this.#deadlineNow(x);
    timing.now = this.#judgeNow;
    timing.forcedReason = forcedReason ?? null;
    const verdict = judge(
      kind,
      stages,
      X.ints[x * EX_INTS + ExInt.ErrorStage],
      X.ints[x * EX_INTS + ExInt.ErrorStage] >= 0 ? X.errorDetail[x] : '',
      this.#oracle,
      timing,
      this.#verdict,
    );
    this.#learned.learn(kind, X.ints[x * EX_INTS + ExInt.Flow], stages, verdict.delivered, verdict.rttNs);
    this.#summary[verdict.status]++;
    if (this.#options.wants !== undefined && !this.#options.wants(verdict.status)) {
      this.#release(x);
      return;
    }
    this.#records.baseSec = this.#baseSec;
    const judged = this.#judged.at(X, x, kind, stages, verdict);
    try {
      this.#options.onExchange(judged);
    } finally {
      judged.done();
      this.#release(x);
    }
  }

  /** A judged exchange's stage tracks are freed (its row may wait in the queue a while). */
  #release(x: number): void {
    const st = this.#ex.ints;
    for (let i = x * EX_INTS + ExInt.Stages; i < x * EX_INTS + ExInt.Stages + MAX_STAGES; i++) {
      if (st[i] === 0) continue;
      this.#tracks.close(st[i] - 1);
      st[i] = 0;
    }
  }

  /** A row the queue has passed (judged, referenced nowhere else) is free again. */
  #recycle(x: number): void {
    const X = this.#ex;
    if (X.longNames.size > 0) X.longNames.delete(x);
    X.rows.give(x);
  }

  /**
   * Whether the asker already got an answer to this stage: an answer (or error) was seen on
   * the interface where the question was first seen. Then the same question again starts
   * a new exchange (ARP refreshing, a DNS id reused, a new DHCP transaction with the old
   * xid); an answer that never reached the asker leaves retransmissions in the exchange.
   */
  #answered(x: number, kind: Kind, stage: number): boolean {
    const X = this.#ex;
    const T = this.#tracks;
    const ask = X.ints[x * EX_INTS + ExInt.Stages + stage] - 1;
    if (ask < 0 || T.ints[ask * TRACK_INTS + Tr.Count] === 0) return false;
    const f = T.sightings.f;
    // where the question started: its highest TTL, then its earliest on the reference clock
    let r = T.ints[ask * TRACK_INTS + Tr.Head];
    let origin = f[r * SIGHTING_FIELDS + Sighting.Iface];
    let ttl = f[r * SIGHTING_FIELDS + Sighting.Ttl];
    let first = this.#referenceTime(r);
    for (r = f[r * SIGHTING_FIELDS + Sighting.Next]; r >= 0; r = f[r * SIGHTING_FIELDS + Sighting.Next]) {
      const rTtl = f[r * SIGHTING_FIELDS + Sighting.Ttl];
      const t = this.#referenceTime(r);
      if (rTtl > ttl || (rTtl === ttl && t < first)) {
        first = t;
        ttl = rTtl;
        origin = f[r * SIGHTING_FIELDS + Sighting.Iface];
      }
    }
    // the answers that end it (kinds/: an echo's reply; a DHCP discover's offer, ack or nak), or an error answer
    for (let answers = answeredBy(kind, stage), s = 0; answers !== 0; answers >>>= 1, s++)
      if ((answers & 1) !== 0 && this.#reached(x, s, origin)) return true;
    return (
      X.ints[x * EX_INTS + ExInt.ErrorStage] >= 0 &&
      this.#reached(x, X.ints[x * EX_INTS + ExInt.ErrorStage], origin)
    );
  }

  /** A sighting's time on the reference clock. */
  #referenceTime(r: number): number {
    const f = this.#tracks.sightings.f;
    const t = f[r * SIGHTING_FIELDS + Sighting.Time];
    return this.#hosts.length < 2
      ? t
      : t - this.#clock.offsetNs(this.#hostOf[f[r * SIGHTING_FIELDS + Sighting.Iface]] ?? 0);
  }

  /** Whether a packet of the exchange's stage was seen on `iface`. */
  #reached(x: number, stage: number, iface: number): boolean {
    const t = this.#ex.ints[x * EX_INTS + ExInt.Stages + stage] - 1;
    return t >= 0 && this.#tracks.find(t, iface) >= 0;
  }

  /**
   * Whether an asking packet is a new one rather than the same packet reaching one more
   * interface (live, interfaces deliver in batches: a request's later hops may arrive
   * after its answer): another fingerprint, or one more sighting where it was seen.
   */
  #repeated(x: number, stage: number, fingerprint: number, iface: number): boolean {
    const t = this.#ex.ints[x * EX_INTS + ExInt.Stages + stage] - 1;
    if (t < 0) return true;
    if (!this.#tracks.hasPacket(t, fingerprint)) return true;
    return this.#tracks.find(t, iface) >= 0;
  }
}
