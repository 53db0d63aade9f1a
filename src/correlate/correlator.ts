// The correlation stage (docs/verdicts.md): decoded packets in, exchange verdicts out.
//
//   packet ─ classify ─► exchange (by kind + key) ─► stage ─► sightings (interface, time)
//                                                        │
//   time passes ─► exchanges whose deadline passed ─► sample clocks (clock-sampling.ts)
//   ─► order sightings (stage-order.ts) ─► verdict (verdict.ts) ─► learn paths
//   (path-learning.ts) ─► ExchangeRecord to the sinks (exchange-record.ts)
//
// This file holds the packet path, the deadline queue and when an exchange is judged:
// what its verdict is lives in exchange-verdicts.ts, what each kind of
// exchange is in kinds/, the interfaces and hosts known in capture-interfaces.ts,
// what a packet asks of an exchange in flight in exchange-questions.ts, answers read
// before their question in early-answers.ts, what the captures report besides packets
// (starts, gaps, drops) in capture-events.ts, the options and bounds in
// correlator-options.ts. Identity: an exchange's packets are recognised by
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
// Bounds (all documented in the README): exchanges in flight (`maxExchanges`, weighed by
// the memory they hold, the oldest judged early beyond it), learned flows and routes
// (`maxFlows` each, least recently learned forgotten), sightings per stage
// (MAX_SIGHTINGS), clock samples, DNS-over-TCP flows followed (dns-tcp.ts).
// The state in flight is rows of typed arrays (tables.ts, learned.ts), reused: no
// object is made per packet, exchange or flow, and an ok verdict allocates nothing.
import type { PacketRecord } from '../decode/record.js';
import type { SummaryRecord } from '../events/types.js';
import {
  EX_DOUBLES,
  EX_INTS,
  ExchangeRows,
  exchangeWeight,
  ExDouble,
  ExInt,
  MAX_STAGES,
  ROW_WEIGHT,
  RowQueue,
  Sighting,
  SIGHTING_FIELDS,
  Tr,
  TRACK_INTS,
  TrackRows,
} from './tables.js';
import { SlotIndex } from './slot-index.js';
import { CaptureInterfaces, type CorrelatorInterface } from './capture-interfaces.js';
import { RecentExchanges } from './recent-exchanges.js';
import { classify, Classified } from './classify.js';
import {
  type CorrelatorOptions,
  LATE_JOIN_NS,
  MAX_SIGHTINGS,
  MAX_STAGE_PACKETS,
  RTT_TIMEOUT_FACTOR,
} from './correlator-options.js';
import { EarlyAnswers } from './early-answers.js';
import { ExchangeQuestions } from './exchange-questions.js';
import { CaptureEvents } from './capture-events.js';
import { RelativeTime } from './relative-time.js';
import { ExchangeRecordWriter, keepKey } from './exchange-record.js';
import { JudgedView } from './judged-view.js';
import { OverdueMarks } from './overdue-marks.js';
import { Kind, opens } from './kinds/table.js';
import { ClockSampling } from './clock-sampling.js';
import type { ProbedOffset } from './clock-probe.js';
import { DnsTcpStreams } from './dns-tcp.js';
import { CaptureHealth } from './health.js';
import { flowKey, PathKnowledge } from './path-learning.js';
import { ExchangeVerdicts } from './exchange-verdicts.js';

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
  readonly #health = new CaptureHealth();
  /** the interfaces and hosts known: labels, hosts, clock offsets, stop times */
  readonly #ifaces = new CaptureInterfaces();
  /** host → a bound on its clock offset, until its first interface is added (seedClocks) */
  readonly #clockSeeds = new Map<string | null, ProbedOffset>();
  readonly #clockSampling: ClockSampling;
  /** writes verdicts as records (reads the interfaces' labels) */
  /** sightings' time: ns since the first packet's second */
  readonly #time = new RelativeTime();
  readonly #records = new ExchangeRecordWriter(this.#ifaces.labels, this.#time);
  /** the verdict handed to onExchange (records built, or JSON written, only when asked) */
  readonly #judged = new JudgedView(this.#records);
  /** what the packet path asks of an exchange in flight */
  readonly #questions = new ExchangeQuestions(this.#ex, this.#tracks, this.#ifaces);
  /** answers read before their question, waiting for it */
  readonly #early = new EarlyAnswers();
  readonly #rejoin = (c: Classified, iface: number, sec: number, nsec: number): void =>
    this.classified(c, iface, sec, nsec);
  /** what each exchange's verdict is (its `now` is the time #judge judges at, set just before each call) */
  readonly #verdicts: ExchangeVerdicts;
  /** Live: the exchanges that began since a moment, for a cause that waits on one (recent-exchanges.ts) */
  readonly recent = new RecentExchanges(
    this.#queue,
    this.#ex,
    this.#tracks,
    this.#ifaces,
    this.#records,
    this.#time,
  );
  /** what the captures report besides packets: starts, stops, gaps, drops */
  readonly captures: CaptureEvents;
  #nowRel = Number.NEGATIVE_INFINITY;
  /**
   * Packet time up to which nothing in the queue is due: the deadline of the unjudged
   * exchange at its head when last looked at (a deadline only moves later while the
   * exchange is open). Any judgement can change the head: it resets this.
   */
  #dueAfter = Number.NEGATIVE_INFINITY;
  readonly #defaultTimeoutNs: number;
  readonly #minTimeoutNs: number;
  readonly #maxTimeoutNs: number;
  /** what the rows in flight may weigh (tables.ts exchangeWeight) */
  readonly #maxWeight: number;
  readonly #advanceWithPackets: boolean;
  #lagNs: number;
  /** the open exchanges lookAhead handed on, by row (made on its first call) */
  #overdue: OverdueMarks | null = null;
  #collisions = 0;
  /** finish() sampled the clocks of every exchange still open: #judge does not again */
  #clocksSampled = false;
  /** the time finish() judges what is still open at, once it began */
  #finishEnd: number | undefined = undefined;
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
    this.#maxWeight = (options.maxExchanges ?? 200_000) * ROW_WEIGHT;
    this.#advanceWithPackets = options.advanceWithPackets ?? true;
    this.#lagNs = (options.packetLagMs ?? 0) * 1e6;
    this.#learned = new PathKnowledge(options.maxFlows ?? 65_536);
    this.captures = new CaptureEvents(this.#time, this.#health, this.#ifaces);
    this.#clockSampling = new ClockSampling({
      clock: this.#ifaces.clock,
      hosts: this.#ifaces.hosts,
      hostOf: this.#ifaces.hostOf,
      resolutionOf: this.#ifaces.resolutionOf,
      offsetChanged: (host) => this.#ifaces.offsetChanged(host),
      onClock: options.onClock,
    });
    this.#verdicts = new ExchangeVerdicts({
      ex: this.#ex,
      tracks: this.#tracks,
      ifaces: this.#ifaces,
      learned: this.#learned,
      health: this.#health,
      questions: this.#questions,
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
    return this.#ifaces.clockOffsetNs(iface);
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
    this.#ifaces.setReferenceHost(host);
  }

  /**
   * Bounds on hosts' clock offsets known before the first packet (a replay's first read
   * of several hosts' files: clock-probe.ts), each taken when its host's first interface
   * is added.
   */
  seedClocks(offsets: readonly ProbedOffset[]): void {
    for (const o of offsets) this.#clockSeeds.set(o.host, o);
  }

  addInterface(iface: CorrelatorInterface): void {
    const hosts = this.#ifaces.hosts.length;
    this.#ifaces.add(iface);
    const seed = this.#ifaces.hosts.length > hosts ? this.#clockSeeds.get(iface.host) : undefined;
    if (seed !== undefined) this.#clockSampling.seed(hosts, seed.loNs, seed.hiNs);
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
    // (RelativeTime.rel, written out: its double result would be boxed when the call is not inlined)
    const time = this.#time;
    if (time.baseSec < 0) time.baseSec = sec;
    const rel = (sec - time.baseSec) * NS + nsec;
    // Deadlines and the judging time are on the reference clock: a host's clock ahead
    // would otherwise judge everything early, one behind make a capture "end" too soon.
    const I = this.#ifaces;
    const host = I.hostOf[iface] ?? 0;
    const refRel = rel - I.offsetOf[host];
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
    if (x !== NONE && refRel - I.uncertaintyOf[host] > this.#questions.deadline(x) + LATE_JOIN_NS) {
      // Past its timeout (and the grace a retry gets): the exchange is over, whenever it
      // would have been judged — what a verdict holds must not depend on how long the
      // capture waited for late sources. (A host whose clock is not known yet cannot tell.)
      this.#judgeAtDeadline(x);
      x = NONE;
    }
    if (
      x !== NONE &&
      X.ints[x * EX_INTS + ExInt.Kind] === c.kind &&
      opens(c.kind, c.stage) &&
      this.#questions.answered(x, c.kind, c.stage) &&
      this.#questions.repeated(x, c.stage, c.fingerprint, iface, c.ttl, refRel - I.uncertaintyOf[host])
    ) {
      if (!this.#questions.notTaken(x, c, refRel)) {
        // The same question again after its answer reached the asker (ARP refreshing, a
        // DNS id reused, a new DHCP transaction with the old xid): the old exchange is
        // over, this one begins. (Else the answer was not taken: a TCP client's SYN again
        // after its SYN-ACK, a resolver's query after its response, which stays this
        // exchange's.)
        this.#judgeAtDeadline(x);
        x = NONE;
      }
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
    let opened = false;
    if (x === NONE) {
      if (!opens(c.kind, c.stage)) {
        // An answer read before its question (another interface's batch came first), or
        // one whose question was never captured: it waits for its question a while.
        const early = this.#early;
        early.sec = sec;
        early.nsec = nsec;
        early.latestRel = refRel + I.uncertaintyOf[host];
        early.park(c, iface);
        return;
      }
      opened = true;
      const weight = exchangeWeight(c.nameLen);
      while (X.weight + weight > this.#maxWeight && this.#queue.length > 0) this.#judgeOldest();
      x = X.open(c.kind, slot, check, this.#defaultTimeoutNs, c.nameLen);
      X.doubles[x * EX_DOUBLES + ExDouble.FirstRel] = refRel;
      X.doubles[x * EX_DOUBLES + ExDouble.LastRel] = refRel;
      X.doubles[x * EX_DOUBLES + ExDouble.KeyRel] = refRel;
      keepKey(X, x, c);
      const fk = flowKey(c.kind, c.srcHash, c.dstHash);
      X.ints[x * EX_INTS + ExInt.Flow] = fk;
      const flows = this.#learned.flows;
      const flow = flows.find(fk);
      const srtt = flow >= 0 ? flows.value[flow] : 0;
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
        const r = T.sightings.add(iface, c.srcHash, c.dstHash, c.tunnel, c.ttl, c.l2Src, c.l2Dst);
        T.sightings.f[r * SIGHTING_FIELDS + Sighting.Time] = rel;
        T.chain(t, r);
      } else T.ints[ti + Tr.Extra]++;
    }
    if (c.stage > 0 && X.ints[x * EX_INTS + ExInt.RttSampled] === 0) {
      // the flow's RTT, sampled as the answer is read (not when judged: see answerRtt);
      // checked here first: a time passed in a call is a boxed double
      const rtt = this.#questions.answerRtt(x, c.stage, iface, rel);
      if (rtt > 0) this.#learned.sampleRtt(X.ints[x * EX_INTS + ExInt.Flow], rtt);
    }
    if (refRel > X.doubles[x * EX_DOUBLES + ExDouble.LastRel])
      X.doubles[x * EX_DOUBLES + ExDouble.LastRel] = refRel;
    if (!(rel <= I.hostLastRel[host])) I.hostLastRel[host] = rel;
    if (opened && this.#early.waitingFor(slot)) {
      this.#early.earliestRel = refRel - I.uncertaintyOf[host];
      this.#early.release(slot, check, this.#rejoin);
    }
    if (this.#advanceWithPackets) {
      // (checked here, not in a call: a time in ns is a double, boxed when passed)
      const at = refRel - this.#lagNs;
      if (at > this.#nowRel) {
        this.#nowRel = at;
        if (at > this.#dueAfter) this.#judgeDue();
      }
    }
  }

  /** Time moved on to (sec, nsec) on the reference clock: judge what is due. */
  advance(sec: number, nsec: number): void {
    if (this.#time.baseSec < 0) return;
    this.#nowRel = this.#time.rel(sec, nsec);
    this.#judgeDue();
  }

  /**
   * The capture ended: every exchange still open is judged now (one whose timeout had not
   * run out is inconclusive). Live, at (sec, nsec) on the reference clock, where every
   * interface stops. Without a time (a replay), each interface stops where its capture
   * stopped (captures.stopped), else at its host's last packet — each on the reference
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
        this.#verdicts.now = end;
        this.#judge(x);
        judged++;
      }
      this.#recycle(x);
    }
    return this.#queue.length === 0;
  }

  /** Where each interface's capture stopped (see finish), once; returns the time open exchanges are judged at. */
  #endCapture(sec?: number, nsec?: number): number {
    let end = sec !== undefined ? this.#time.rel(sec, nsec ?? 0) : this.#nowRel;
    // What the exchanges still open say about the clocks first: the capture's end on
    // each host, and their own deadlines, are put on the reference clock with it.
    const queue = this.#queue;
    for (let k = 0; k < queue.length; k++) {
      const x = queue.at(k);
      if (this.#ex.ints[x * EX_INTS + ExInt.Judged] === 0)
        this.#clockSampling.sample(this.#ex, this.#tracks, x);
    }
    this.#clocksSampled = true;
    const labels = this.#ifaces.labels;
    for (let id = 0; id < labels.length; id++) {
      if (labels[id] === undefined) continue;
      if (sec !== undefined) {
        this.#health.stopped(id, end);
        continue;
      }
      const stop = this.#ifaces.stopRel(id);
      if (stop === Number.NEGATIVE_INFINITY) continue;
      this.#health.stopped(id, stop);
      if (stop > end) end = stop;
    }
    return end;
  }

  /** Judges what is due at #nowRel (a field, not a parameter: see ExchangeVerdicts.now). */
  #judgeDue(): void {
    const rel = this.#nowRel;
    // Most packets move time on without reaching the head's deadline.
    if (rel <= this.#dueAfter) return;
    const ints = this.#ex.ints;
    while (this.#queue.length > 0) {
      const x = this.#queue.peek();
      if (ints[x * EX_INTS + ExInt.Judged] === 0) {
        const deadline = this.#questions.deadline(x);
        if (deadline >= rel) {
          this.#dueAfter = deadline;
          return;
        }
        this.#verdicts.now = rel;
        this.#judge(x);
      }
      this.#queue.shift();
      this.#recycle(x);
    }
  }

  /**
   * Live, before the hold has passed: each open exchange whose deadline is before
   * (sec, nsec) on the reference clock is handed to `onOverdue` as it would be judged
   * now, once per deadline (again only when a later packet moved its deadline on). The
   * verdict it is given after the hold is advance()'s alone; this one only lets the
   * pipeline start what a problem verdict will need (its cause) while the hold lasts.
   * The queue is walked as advance() walks it: up to the first open exchange not yet due.
   * At most `most` exchanges are judged so per call (the rest are looked at by a later
   * call, or just judged): the look costs a verdict's work, and under many exchanges a
   * second it must not double judging's.
   */
  lookAhead(sec: number, nsec: number, most = Number.POSITIVE_INFINITY): void {
    const onOverdue = this.#options.onOverdue;
    if (onOverdue === undefined || this.#time.baseSec < 0) return;
    let looked = 0;
    const marks = (this.#overdue ??= new OverdueMarks());
    const at = this.#time.rel(sec, nsec);
    const X = this.#ex;
    const queue = this.#queue;
    for (let k = 0; k < queue.length; k++) {
      const x = queue.at(k);
      if (X.ints[x * EX_INTS + ExInt.Judged] !== 0) continue;
      const deadline = this.#questions.deadline(x);
      if (deadline >= at) return;
      if (marks.seen(x, deadline)) continue;
      if (++looked > most) {
        marks.forget(x);
        return;
      }
      const kind = X.ints[x * EX_INTS + ExInt.Kind] as Kind;
      this.#verdicts.now = at;
      const verdict = this.#verdicts.of(x, kind, undefined);
      const judged = this.#judged.at(X, x, kind, this.#verdicts.stages(kind), verdict);
      try {
        onOverdue(judged);
      } finally {
        judged.done();
      }
    }
  }

  #judgeOldest(): void {
    while (this.#queue.length > 0) {
      const x = this.#queue.shift();
      const open = this.#ex.ints[x * EX_INTS + ExInt.Judged] === 0;
      if (open) {
        this.#verdicts.now = this.#nowRel;
        this.#judge(x, 'state limit reached: judged before its timeout');
      }
      this.#recycle(x);
      if (open) return;
    }
  }

  /** Judges exchange x, over before this packet: at its deadline, or now if that is later. */
  #judgeAtDeadline(x: number): void {
    const deadline = this.#questions.deadline(x);
    this.#verdicts.now = this.#nowRel > deadline ? this.#nowRel : deadline;
    this.#judge(x);
  }

  /** Judges exchange x at packet time #verdicts.now. */
  #judge(x: number, forcedReason?: string): void {
    const X = this.#ex;
    X.ints[x * EX_INTS + ExInt.Judged] = 1;
    this.#dueAfter = Number.NEGATIVE_INFINITY;
    this.#index.delete(X.ints[x * EX_INTS + ExInt.Slot]);
    if (!this.#clocksSampled) this.#clockSampling.sample(X, this.#tracks, x);
    const kind = X.ints[x * EX_INTS + ExInt.Kind] as Kind;
    const verdict = this.#verdicts.of(x, kind, forcedReason);
    const stages = this.#verdicts.stages(kind);
    this.#learned.learn(kind, stages, verdict.delivered);
    this.#summary[verdict.status]++;
    if (this.#options.wants !== undefined && !this.#options.wants(verdict.status)) {
      this.#release(x);
      return;
    }
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
    this.#overdue?.forget(x);
    this.#ex.free(x);
  }
}
