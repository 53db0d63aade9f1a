// The correlation stage (DESIGN §5): decoded packets in, exchange verdicts out.
//
//   packet ─ classify ─► exchange (by kind + key) ─► stage ─► sightings (interface, time)
//                                                        │
//   time passes ─► exchanges whose deadline passed ─► order sightings (clock offsets
//   applied) ─► verdict (verdict.ts) ─► learn paths ─► ExchangeRecord to the sinks
//
// Identity: an exchange's packets are recognised by invariant fields (echo id/seq and
// payload, the SYN's ISN, DNS id and question, DHCP xid and client MAC, ARP sender and
// target), and each packet by its fingerprint (classify.ts); neither includes
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
// recently learned forgotten), sightings per stage (MAX_SIGHTINGS), clock samples.
import { dnsTypeName, readDnsName } from '../decode/dns.js';
import { formatIp, formatMac } from '../decode/format.js';
import { TunnelType, TUNNEL_NAMES, type PacketRecord } from '../decode/record.js';
import type { ClockRecord, ExchangeRecord, StageSighting, SummaryRecord } from '../events/types.js';
import { formatTimestamp } from '../framing/timestamp.js';
import { BoundedMap } from './bounded-map.js';
import { classify, Classified, Kind, KIND_NAMES, STAGE, STAGE_NAMES } from './classify.js';
import { ClockEstimator, ntpOffset } from './clock.js';
import { finish, HASH_SEED, mix } from './hash.js';
import { CaptureHealth } from './health.js';
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
}

export interface CorrelatorOptions {
  onExchange(record: ExchangeRecord): void;
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
const MAX_SIGHTINGS = 64;
/** Distinct packets (fingerprints) remembered per stage, to count retransmissions. */
const MAX_STAGE_PACKETS = 16;
/** An exchange is judged at most this long after its first packet (retries included). */
const MAX_EXCHANGE_NS = 10e9;
/** tcpdump's buffer timeout (1 s) and a margin: what a remote session that died may not have sent. */
const REMOTE_UNFLUSHED_NS = 1.5e9;
/** Multiples of the flow's smoothed RTT before an unanswered stage is judged. */
const RTT_TIMEOUT_FACTOR = 8;

const EMPTY_SIGHTINGS: number[] = [];

/** Judged exchanges and their stage tracks kept for reuse, at most this many each. */
const MAX_POOLED = 65_536;

/** Fields per sighting in StageTrack.s: interface, raw relative ns, src hash, dst hash, tunnel. */
const SIGHTING = 5;

class StageTrack {
  /**
   * Sightings in arrival order, SIGHTING numbers each, first per interface only:
   * interface id, raw relative ns (its host's clock), the flow-direction address hashes
   * there (translation changes them hop by hop), tunnel (type << 24 | vni, or -1).
   * One flat array, of which the first `n` numbers are in use: tracks are pooled and
   * reused, keeping their array (no allocation per stage once the pool is warm).
   */
  s: number[] = EMPTY_SIGHTINGS;
  n = 0;
  /** the first packet's fingerprint; more distinct ones (retransmissions) in `more` */
  fp0 = 0;
  more: number[] | null = null;
  packets = 0;
  extraSightings = 0;
  /** a packet of the stage was broadcast or multicast (flooded: no path to learn or expect) */
  broadcast = false;

  reset(): void {
    this.n = 0;
    this.fp0 = 0;
    this.more = null;
    this.packets = 0;
    this.extraSightings = 0;
    this.broadcast = false;
  }

  get count(): number {
    return this.n / SIGHTING;
  }

  add(iface: number, rel: number, src: number, dst: number, tunnel: number): void {
    const s = this.s;
    const n = this.n;
    if (n + SIGHTING <= s.length) {
      s[n] = iface;
      s[n + 1] = rel;
      s[n + 2] = src;
      s[n + 3] = dst;
      s[n + 4] = tunnel;
    } else if (n === 0) {
      // An exactly-sized first array (a push would reserve room for 18 more numbers, and
      // most stages have one sighting or a few): memory, with 200k exchanges open.
      this.s = [iface, rel, src, dst, tunnel];
    } else s.push(iface, rel, src, dst, tunnel);
    this.n = n + SIGHTING;
  }

  indexOf(iface: number): number {
    const s = this.s;
    for (let i = 0; i < this.n; i += SIGHTING) if (s[i] === iface) return i / SIGHTING;
    return -1;
  }

  iface(i: number): number {
    return this.s[i * SIGHTING];
  }

  time(i: number): number {
    return this.s[i * SIGHTING + 1];
  }
}

class Exchange {
  kind: Kind = Kind.None;
  /** the map slot (30-bit key) */
  key = 0;
  /** by stage index (STAGE_NAMES), sized for the kind; its tracks go back to the pool once judged */
  readonly stages: Array<StageTrack | undefined> = [];
  /**
   * What the key text is written from, taken from the earliest packet of the asking
   * stage (before any NAT): kept as numbers and bytes, and written only when a record
   * is built (most ok verdicts are only counted). `parts`: echo id/seq, TCP ports/ISN,
   * DNS id/qtype/name offset, DHCP xid; `addrs`: source and destination address (16
   * bytes each; DHCP: the client MAC); `dns`: the DNS message's header and question.
   */
  readonly parts: number[] = [0, 0, 0, 0, 0];
  readonly addrs = new Uint8Array(32);
  addrVersion = 0;
  srcKnown = false;
  dstKnown = false;
  dns: Uint8Array | null = null;
  dnsLen = 0;
  keyRel = 0;
  /** the upper bits of the 52-bit key, checked against the map's 30-bit slot */
  keyCheck = 0;
  judged = false;
  errorStage = -1;
  errorDetail = '';
  /** an ICMP error about the answer (it could not be delivered): told with a lost verdict */
  answerError = '';
  /** TCP: the server's ISN, from the SYN-ACK, to recognise the handshake's ACK */
  serverIsn = -1;
  firstRel = 0;
  lastRel = 0;
  timeoutNs = 0;
  flowKey = 0;

  /** (Re)starts the object as a new exchange (exchanges are pooled). */
  init(kind: Kind, key: number, rel: number, timeoutNs: number): this {
    this.kind = kind;
    this.key = key;
    const n = STAGE_NAMES[kind].length;
    const st = this.stages;
    st.length = n;
    for (let i = 0; i < n; i++) st[i] = undefined;
    this.addrVersion = 0;
    this.srcKnown = false;
    this.dstKnown = false;
    this.dnsLen = 0;
    this.keyRel = rel;
    this.keyCheck = 0;
    this.judged = false;
    this.errorStage = -1;
    this.errorDetail = '';
    this.answerError = '';
    this.serverIsn = -1;
    this.firstRel = rel;
    this.lastRel = rel;
    this.timeoutNs = timeoutNs;
    this.flowKey = 0;
    return this;
  }

  /** Last activity plus the timeout, and never more than MAX_EXCHANGE_NS after it began. */
  get deadline(): number {
    return Math.min(this.lastRel + this.timeoutNs, this.firstRel + MAX_EXCHANGE_NS);
  }
}

interface FlowState {
  path: number[] | null;
  srttNs: number;
}

const NS = 1_000_000_000;

export class Correlator {
  readonly #options: CorrelatorOptions;
  readonly #classified = new Classified();
  readonly #exchanges = new Map<number, Exchange>();
  readonly #exchangePool: Exchange[] = [];
  readonly #stagePool: StageTrack[] = [];
  /** exchanges in creation order; judged ones are skipped */
  #queue: Exchange[] = [];
  #queueHead = 0;
  readonly #flows: BoundedMap<number, FlowState>;
  readonly #towards: BoundedMap<number, number[]>;
  readonly #health = new CaptureHealth();
  readonly #clock = new ClockEstimator();
  readonly #labels: string[] = [];
  /** interface id → order of announcement */
  readonly #rank: number[] = [];
  #announced = 0;
  /** interface id → host index (0 = reference host) */
  readonly #hostOf: number[] = [];
  readonly #hosts: Array<string | null> = [];
  #baseSec = -1;
  #nowRel = Number.NEGATIVE_INFINITY;
  readonly #defaultTimeoutNs: number;
  readonly #minTimeoutNs: number;
  readonly #maxTimeoutNs: number;
  readonly #maxExchanges: number;
  readonly #advanceWithPackets: boolean;
  #lagNs: number;
  #collisions = 0;
  /** Scratch for judging: one ordered stage per stage index, reused (judging is synchronous). */
  readonly #scratch: OrderedStage[] = Array.from({ length: 8 }, () => ({
    ifaces: [],
    times: [],
    srcs: [],
    dsts: [],
    tunnels: [],
    packets: 0,
    broadcast: false,
  }));
  readonly #judgedStages: Array<OrderedStage | undefined> = [];
  /** Scratch for #ordered: times on the reference clock and the sort order, by sighting. */
  readonly #orderTimes: number[] = new Array<number>(MAX_SIGHTINGS).fill(0);
  readonly #orderIndex: number[] = new Array<number>(MAX_SIGHTINGS).fill(0);
  /** Scratch verdict and timing: judging is synchronous, its results are used before the next. */
  readonly #verdict: Verdict = newVerdict();
  readonly #timing: JudgeTiming = { deadline: 0, now: 0, forcedReason: null };
  /** the kind of the exchange being judged (the oracle's flow paths are per kind) */
  #judgedKind: Kind = Kind.None;
  readonly #oracle: PathOracle = {
    flowPath: (src, dst) => this.#flows.get(flowKey(this.#judgedKind, src, dst))?.path ?? null,
    towards: (iface, addr) => this.#towards.get(towardsKey(iface, addr)) ?? null,
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
    this.#flows = new BoundedMap(options.maxFlows ?? 65_536);
    this.#towards = new BoundedMap(options.maxFlows ?? 65_536);
  }

  get summary(): Readonly<SummaryRecord> {
    return this.#summary;
  }

  /** Packets of an exchange not tracked because another held its key slot (rare). */
  get keyCollisions(): number {
    return this.#collisions;
  }

  /** Exchanges waiting for their verdict. */
  get pending(): number {
    return this.#exchanges.size;
  }

  /** Raise the packet lag (a replay learns of remote interfaces as it reads them). */
  setPacketLagMs(ms: number): void {
    this.#lagNs = Math.max(this.#lagNs, ms * 1e6);
  }

  /**
   * The host whose clock time stamps are on (DESIGN §3: the first host named). Without
   * it, the host of the first interface added. Only before any interface is added.
   */
  setReferenceHost(host: string | null): void {
    if (this.#hosts.length === 0) this.#hosts.push(host);
  }

  addInterface(iface: CorrelatorInterface): void {
    if (this.#labels[iface.id] === undefined) this.#rank[iface.id] = this.#announced++;
    this.#labels[iface.id] = iface.label;
    let host = this.#hosts.indexOf(iface.host);
    if (host < 0) {
      host = this.#hosts.length;
      this.#hosts.push(iface.host);
    }
    this.#hostOf[iface.id] = host;
  }

  /** Relative ns of a timestamp (the first one seen sets the base second). */
  rel(sec: number, nsec: number): number {
    if (this.#baseSec < 0) this.#baseSec = sec;
    return (sec - this.#baseSec) * NS + nsec;
  }

  // --- capture health (DESIGN §5.6) ---

  interfaceStarted(id: number, sec: number, nsec: number): void {
    this.#health.started(id, this.rel(sec, nsec));
  }
  interfaceStopped(id: number, sec: number, nsec: number): void {
    this.#health.stopped(id, this.rel(sec, nsec));
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
    if (c.kind === Kind.None) return;
    const rel = this.rel(sec, nsec);
    // Small-integer map keys (V8 Smis) cost no allocation; the rest of the key is checked.
    const slot = c.key % KEY_SLOTS;
    const check = Math.floor(c.key / KEY_SLOTS);
    let ex = this.#exchanges.get(slot);
    if (ex !== undefined && ex.keyCheck !== check) {
      // Two exchanges in one slot at once: the newer one is not tracked (counted).
      this.#collisions++;
      return;
    }
    if (
      ex !== undefined &&
      ex.kind === c.kind &&
      answered(ex, c.kind, c.stage) &&
      repeated(ex, c.stage, c.fingerprint, iface)
    ) {
      // The same question again after its answer (ARP refreshing, a DNS id reused, a new
      // DHCP transaction with the old xid): the old exchange is over, this one begins.
      this.#judge(ex, this.#nowRel > ex.deadline ? this.#nowRel : ex.deadline);
      ex = undefined;
    }
    if (c.maybeAck) {
      // Only the ACK of a handshake we are tracking, acknowledging the server's ISN.
      if (ex === undefined || ex.kind !== Kind.TcpHandshake || ex.serverIsn < 0) return;
      if (c.ackNumber !== (ex.serverIsn + 1) >>> 0) return;
    }
    if (ex !== undefined && ex.kind !== c.kind) return; // a key collision across kinds: ignore
    if (ex === undefined) {
      // Answers without their question (capture started in between) are not exchanges.
      if (!opensExchange(c.kind, c.stage)) return;
      if (this.#exchanges.size >= this.#maxExchanges) this.#judgeOldest();
      ex = (this.#exchangePool.pop() ?? new Exchange()).init(c.kind, slot, rel, this.#defaultTimeoutNs);
      ex.keyCheck = check;
      setKey(ex, rec, c.kind);
      ex.flowKey = flowKey(c.kind, c.srcHash, c.dstHash);
      const flow = this.#flows.get(ex.flowKey);
      if (flow !== undefined && flow.srttNs > 0) ex.timeoutNs = this.#timeoutFor(flow.srttNs);
      this.#exchanges.set(slot, ex);
      this.#queue.push(ex);
      this.#summary.exchanges++;
    } else if (rel < ex.keyRel && opensExchange(c.kind, c.stage)) {
      // Live, an interface further along may deliver first: name it by its first hop.
      setKey(ex, rec, c.kind);
      ex.keyRel = rel;
    }
    if (c.kind === Kind.TcpHandshake && c.stage === STAGE.SYN_ACK) ex.serverIsn = rec.tcpSeq;
    if (c.errorAboutAnswer) {
      if (ex.answerError === '') ex.answerError = c.errorDetail;
    } else if (c.errorDetail !== '' && ex.errorStage < 0) {
      ex.errorStage = c.stage;
      ex.errorDetail = c.errorDetail;
    }
    let stage = ex.stages[c.stage];
    if (stage === undefined) {
      stage = this.#stagePool.pop() ?? new StageTrack();
      stage.reset();
      ex.stages[c.stage] = stage;
    }
    if (c.broadcast) stage.broadcast = true;
    const fp = c.fingerprint;
    if (stage.packets === 0) {
      stage.fp0 = fp;
      stage.packets = 1;
    } else if (fp !== stage.fp0 && (stage.more === null || stage.more.indexOf(fp) < 0)) {
      stage.packets++;
      if (stage.more === null) stage.more = [fp];
      else if (stage.more.length < MAX_STAGE_PACKETS) stage.more.push(fp);
    }
    if (stage.indexOf(iface) < 0) {
      if (stage.count < MAX_SIGHTINGS) {
        const tunnel =
          rec.tunnelType === TunnelType.None ? -1 : (rec.tunnelType << 24) | (rec.tunnelVni & 0xffffff);
        stage.add(iface, rel, c.srcHash, c.dstHash, tunnel);
      } else stage.extraSightings++;
    }
    if (rel > ex.lastRel) ex.lastRel = rel;
    if (this.#advanceWithPackets && rel - this.#lagNs > this.#nowRel) this.#advanceRel(rel - this.#lagNs);
  }

  /** Time moved on to (sec, nsec) on the reference clock: judge what is due. */
  advance(sec: number, nsec: number): void {
    if (this.#baseSec < 0) return;
    this.#advanceRel(this.rel(sec, nsec));
  }

  /**
   * The capture ended at (sec, nsec): every interface stops there, and every exchange
   * still open is judged now (one whose timeout had not run out is inconclusive).
   */
  finish(sec?: number, nsec?: number): SummaryRecord {
    const end = sec !== undefined ? this.rel(sec, nsec ?? 0) : this.#nowRel;
    for (let id = 0; id < this.#labels.length; id++) {
      if (this.#labels[id] !== undefined) this.#health.stopped(id, end);
    }
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const ex = this.#queue[i];
      if (!ex.judged) this.#judge(ex, end);
    }
    this.#queue = [];
    this.#queueHead = 0;
    this.#emitClocks(true);
    return { ...this.#summary };
  }

  #timeoutFor(srttNs: number): number {
    return Math.min(this.#maxTimeoutNs, Math.max(this.#minTimeoutNs, srttNs * RTT_TIMEOUT_FACTOR));
  }

  #advanceRel(rel: number): void {
    this.#nowRel = rel;
    const q = this.#queue;
    while (this.#queueHead < q.length) {
      const ex = q[this.#queueHead];
      if (!ex.judged) {
        if (ex.deadline >= rel) break;
        this.#judge(ex, rel);
      }
      this.#queueHead++;
      this.#recycle(ex);
    }
    // Judged exchanges leave the queue in chunks (they hold little once judged).
    if (this.#queueHead > 1024 && this.#queueHead * 4 > q.length) {
      this.#queue = q.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #judgeOldest(): void {
    while (this.#queueHead < this.#queue.length) {
      const ex = this.#queue[this.#queueHead++];
      const open = !ex.judged;
      if (open) this.#judge(ex, this.#nowRel, 'state limit reached: judged before its timeout');
      this.#recycle(ex);
      if (open) return;
    }
  }

  /** Orders a stage's sightings on the reference clock. */
  #ordered(stage: StageTrack, o: OrderedStage): OrderedStage {
    const n = stage.count;
    const raw = stage.s;
    // The scratch object's arrays are reused from one judgement to the next (no garbage).
    if (o.ifaces.length !== n) {
      o.ifaces.length = n;
      o.times.length = n;
      o.srcs.length = n;
      o.dsts.length = n;
      o.tunnels.length = n;
    }
    o.packets = stage.packets;
    o.broadcast = stage.broadcast;
    if (n === 1) {
      o.ifaces[0] = raw[0];
      o.times[0] = Math.round(raw[1] - this.#clock.offsetNs(this.#hostOf[raw[0]] ?? 0));
      o.srcs[0] = raw[2];
      o.dsts[0] = raw[3];
      o.tunnels[0] = raw[4];
      return o;
    }
    const t = this.#orderTimes;
    const idx = this.#orderIndex;
    for (let i = 0; i < n; i++) {
      idx[i] = i;
      t[i] = raw[i * SIGHTING + 1] - this.#clock.offsetNs(this.#hostOf[raw[i * SIGHTING]] ?? 0);
    }
    // Equal stamps (two ends of a veth, a bridge and its port) are ordered by the order
    // the interfaces were announced (the order of a recording's interface blocks), in the
    // stage's overall direction: the same live and in replay, and right when interfaces
    // were listed along the path (as `lab status` prints them). The direction: from the
    // earliest sighting to the latest (ties: the first and the last to arrive).
    let earliest = 0;
    let latest = 0;
    for (let i = 1; i < n; i++) {
      if (t[i] < t[earliest]) earliest = i;
      if (t[i] >= t[latest]) latest = i;
    }
    const rank = this.#rank;
    const dir = (rank[raw[earliest * SIGHTING]] ?? 0) <= (rank[raw[latest * SIGHTING]] ?? 0) ? 1 : -1;
    // An insertion sort: a stage has a few sightings (at most MAX_SIGHTINGS), mostly in order.
    for (let i = 1; i < n; i++) {
      const x = idx[i];
      const rx = dir * (rank[raw[x * SIGHTING]] ?? 0);
      let j = i - 1;
      while (j >= 0) {
        const y = idx[j];
        const dt = t[y] - t[x];
        if (dt < 0 || (dt === 0 && dir * (rank[raw[y * SIGHTING]] ?? 0) <= rx)) break;
        idx[j + 1] = y;
        j--;
      }
      idx[j + 1] = x;
    }
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      const b = i * SIGHTING;
      o.ifaces[k] = raw[b];
      o.times[k] = Math.round(t[i]);
      o.srcs[k] = raw[b + 2];
      o.dsts[k] = raw[b + 3];
      o.tunnels[k] = raw[b + 4];
    }
    return o;
  }

  #judge(ex: Exchange, nowRel: number, forcedReason?: string): void {
    ex.judged = true;
    this.#exchanges.delete(ex.key);
    this.#sampleClocks(ex);
    const stages = this.#judgedStages;
    stages.length = ex.stages.length;
    for (let i = 0; i < ex.stages.length; i++) {
      const st = ex.stages[i];
      stages[i] = st === undefined ? undefined : this.#ordered(st, this.#scratch[i]);
    }
    this.#judgedKind = ex.kind;
    const timing = this.#timing;
    timing.deadline = ex.deadline;
    timing.now = nowRel;
    timing.forcedReason = forcedReason ?? null;
    const verdict = judge(
      ex.kind,
      stages,
      ex.errorStage,
      ex.errorDetail,
      this.#oracle,
      timing,
      this.#verdict,
    );
    this.#learn(ex, stages, verdict.delivered, verdict.rttNs);
    this.#summary[verdict.status]++;
    if (this.#options.wants !== undefined && !this.#options.wants(verdict.status)) {
      this.#release(ex);
      return;
    }
    const names = STAGE_NAMES[ex.kind];
    // Plain loops: with the TUI or --json every verdict becomes a record.
    let first = Number.POSITIVE_INFINITY;
    for (const s of stages)
      if (s !== undefined && s.times.length > 0 && s.times[0] < first) first = s.times[0];
    const record: ExchangeRecord = {
      type: 'exchange',
      kind: KIND_NAMES[ex.kind],
      key: keyTextOf(ex),
      status: verdict.status,
      ts: this.#tsText(first),
      stages: [],
    };
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i];
      if (s === undefined) continue;
      const seen: StageSighting[] = new Array<StageSighting>(s.ifaces.length);
      for (let j = 0; j < s.ifaces.length; j++) {
        const iface = s.ifaces[j];
        const sighting: StageSighting = {
          iface: this.#labels[iface] ?? `#${iface}`,
          ts: this.#tsText(s.times[j]),
        };
        if (j > 0) sighting.hopMs = Math.round((s.times[j] - s.times[j - 1]) / 1e3) / 1e3;
        const tun = s.tunnels[j];
        if (tun >= 0) sighting.tunnel = { type: TUNNEL_NAMES[tun >>> 24] ?? 'tunnel', vni: tun & 0xffffff };
        seen[j] = sighting;
      }
      record.stages.push({ name: names[i], packets: s.packets, seen });
    }
    if (verdict.lost !== null) {
      record.lost = {
        stage: names[verdict.lost.stage],
        lastSeen: verdict.lost.lastSeen === null ? null : (this.#labels[verdict.lost.lastSeen] ?? null),
        missingOn: verdict.lost.missingOn.map((i) => this.#labels[i] ?? `#${i}`),
      };
    }
    if (verdict.detail !== null) record.detail = verdict.detail;
    else if (ex.answerError !== '' && verdict.status !== 'ok') {
      record.detail = `${ex.answerError} (an ICMP error about the ${names[STAGE.ECHO_REPLY]})`;
    } else if (verdict.problems.length > 0) {
      record.detail = verdict.problems
        .map(
          (p) =>
            `capture on ${this.#labels[p.iface] ?? `#${p.iface}`} ${p.text === 'gone' ? 'was gone' : p.text === 'stopped' ? 'had stopped (capture ended before the timeout)' : p.text === 'not running yet' ? 'was not running yet' : p.text}`,
        )
        .join('; ');
    }
    if (verdict.rttNs !== null) record.rttMs = Math.round(verdict.rttNs / 1e3) / 1e3;
    this.#release(ex);
    this.#options.onExchange(record);
  }

  /** A judged exchange's stage tracks go back to the pool (the exchange may wait in the queue a while). */
  #release(ex: Exchange): void {
    const st = ex.stages;
    for (let i = 0; i < st.length; i++) {
      const track = st[i];
      if (track === undefined) continue;
      st[i] = undefined;
      if (this.#stagePool.length < MAX_POOLED) this.#stagePool.push(track);
    }
  }

  /** An exchange the queue has passed (judged, referenced nowhere else) is reused. */
  #recycle(ex: Exchange): void {
    if (this.#exchangePool.length < MAX_POOLED) this.#exchangePool.push(ex);
  }

  /** Paths that made it become expectations (§5.2); RTTs adapt the flow's timeout (§5.4). */
  #learn(
    ex: Exchange,
    stages: Array<OrderedStage | undefined>,
    delivered: readonly number[],
    rttNs: number | null,
  ): void {
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
    for (const i of delivered) {
      const s = stages[i];
      // A path of one interface says nothing about where a packet goes next.
      if (s === undefined || s.ifaces.length < 2 || s.broadcast) continue;
      const flow = this.#flow(flowKey(ex.kind, s.srcs[0], s.dsts[0]));
      // The longest path seen wins; of equal ones the latest (copied only when it differs).
      if (flow.path === null || s.ifaces.length > flow.path.length) flow.path = s.ifaces.slice();
      else if (s.ifaces.length === flow.path.length && !samePath(s.ifaces, flow.path))
        flow.path = s.ifaces.slice();
    }
    if (rttNs !== null && rttNs > 0) {
      const flow = this.#flow(ex.flowKey);
      flow.srttNs = flow.srttNs === 0 ? rttNs : (7 * flow.srttNs + rttNs) / 8;
    }
  }

  /** The flow's state, created (and the oldest flow forgotten beyond the limit) when new. */
  #flow(key: number): FlowState {
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      flow = { path: null, srttNs: 0 };
      this.#flows.set(key, flow);
    }
    return flow;
  }

  /**
   * From path[j], packets to `addr` go on along the rest of the path (backwards: back
   * along the part before j, nearest first). The longer knowledge is kept; the rest is
   * copied only when it is kept (most exchanges confirm what is known).
   */
  #learnTowards(path: readonly number[], j: number, addr: number, backwards: boolean): void {
    if (addr === 0) return;
    const key = towardsKey(path[j], addr);
    const known = this.#towards.get(key);
    const length = backwards ? j : path.length - j - 1;
    if (known !== undefined && length <= known.length) return;
    this.#towards.set(key, backwards ? path.slice(0, j).reverse() : path.slice(j + 1));
  }

  /**
   * NTP-style samples from an exchange seen on two hosts (asking stage and its answer).
   * The pair of interfaces used is the one facing the other host on each side: on the
   * asker's side the interface with the shortest local round trip (answer − ask), on the
   * answerer's side the one with the longest — the two ends of the crossing — so the
   * hosts' own forwarding times stay out of the estimate.
   */
  #sampleClocks(ex: Exchange): void {
    if (this.#hosts.length < 2) return;
    for (const [askIdx, ansIdx] of answerPairs(ex.kind)) {
      const ask = ex.stages[askIdx];
      const ans = ex.stages[ansIdx];
      if (ask === undefined || ans === undefined) continue;
      // Per host: interfaces that saw both, with their local round trip.
      const spans = new Map<number, Array<{ iface: number; ask: number; ans: number; span: number }>>();
      for (let i = 0; i < ask.count; i++) {
        const iface = ask.iface(i);
        const j = ans.indexOf(iface);
        if (j < 0) continue;
        const host = this.#hostOf[iface] ?? 0;
        const list = spans.get(host) ?? [];
        list.push({ iface, ask: ask.time(i), ans: ans.time(j), span: ans.time(j) - ask.time(i) });
        spans.set(host, list);
      }
      const ref = spans.get(0);
      if (ref === undefined) continue;
      for (const [host, list] of spans) {
        if (host === 0) continue;
        const refMax = Math.max(...ref.map((x) => x.span));
        const otherMax = Math.max(...list.map((x) => x.span));
        // The host with the longer round trip is on the asker's side.
        const pick = (xs: typeof list, shortest: boolean): (typeof list)[number] =>
          xs.reduce((best, x) => ((shortest ? x.span < best.span : x.span > best.span) ? x : best));
        const refAsker = refMax >= otherMax;
        const a = pick(ref, refAsker);
        const b = pick(list, !refAsker);
        const theta = ntpOffset(a.ask, b.ask, a.ans, b.ans);
        if (this.#clock.addSample(host, theta)) this.#clockChanged(host);
      }
    }
  }

  readonly #reported = new Map<number, number>();

  #clockChanged(host: number): void {
    const offset = this.#clock.offsetNs(host);
    const last = this.#reported.get(host);
    // Report the first estimate and changes beyond 0.1 ms (not every sample's jitter).
    if (last === undefined || Math.abs(last - offset) > 100_000) {
      this.#reported.set(host, offset);
      this.#emitClock(host);
    }
  }

  #emitClock(host: number): void {
    this.#options.onClock?.({
      type: 'clock',
      host: this.#hosts[host] ?? 'local',
      reference: this.#hosts[0] ?? 'local',
      offsetMs: Math.round(this.#clock.offsetNs(host) / 1e3) / 1e3,
      samples: this.#clock.samples(host),
    });
  }

  #emitClocks(final: boolean): void {
    if (!final) return;
    for (const host of this.#clock.hosts()) this.#emitClock(host);
  }

  /** Decimal seconds with nanosecond digits (DESIGN §3), from relative ns. */
  #tsText(rel: number): string {
    if (!Number.isFinite(rel)) return '0.000000000';
    const r = Math.round(rel);
    const whole = Math.floor(r / NS);
    return formatTimestamp(this.#baseSec + whole, r - whole * NS);
  }
}

function samePath(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether the asker already got an answer to this stage: an answer (or error) was seen on
 * the interface where the question was first seen. Then the same question again starts
 * a new exchange (ARP refreshing, a DNS id reused, a new DHCP transaction with the old
 * xid); an answer that never reached the asker leaves retransmissions in the exchange.
 */
function answered(ex: Exchange, kind: Kind, stage: number): boolean {
  if (!opensExchange(kind, stage)) return false;
  const ask = ex.stages[stage];
  if (ask === undefined || ask.count === 0) return false;
  let origin = ask.iface(0);
  let first = ask.time(0);
  for (let i = 1; i < ask.count; i++) {
    if (ask.time(i) < first) {
      first = ask.time(i);
      origin = ask.iface(i);
    }
  }
  const reached = (st: StageTrack | undefined): boolean => st !== undefined && st.indexOf(origin) >= 0;
  const st = ex.stages;
  if (kind === Kind.Dhcp) {
    if (stage === STAGE.DHCP_DISCOVER)
      return reached(st[STAGE.DHCP_OFFER]) || reached(st[STAGE.DHCP_ACK]) || reached(st[STAGE.DHCP_NAK]);
    return reached(st[STAGE.DHCP_ACK]) || reached(st[STAGE.DHCP_NAK]);
  }
  // echo reply / SYN-ACK / DNS response / ARP reply are stage 1; an error answer ends it too
  return reached(st[1]) || (ex.errorStage >= 0 && reached(st[ex.errorStage]));
}

/**
 * Whether an asking packet is a new one rather than the same packet reaching one more
 * interface (live, interfaces deliver in batches: a request's later hops may arrive
 * after its answer): another fingerprint, or one more sighting where it was seen.
 */
function repeated(ex: Exchange, stage: number, fingerprint: number, iface: number): boolean {
  const st = ex.stages[stage];
  if (st === undefined) return true;
  if (fingerprint !== st.fp0 && (st.more === null || st.more.indexOf(fingerprint) < 0)) return true;
  return st.indexOf(iface) >= 0;
}

/** Which stage may open an exchange (the asking side). */
function opensExchange(kind: Kind, stage: number): boolean {
  switch (kind) {
    case Kind.IcmpEcho:
    case Kind.Icmpv6Echo:
      return stage === STAGE.ECHO_REQUEST;
    case Kind.TcpHandshake:
      return stage === STAGE.SYN;
    case Kind.Dns:
      return stage === STAGE.DNS_QUERY;
    case Kind.Dhcp:
      return stage === STAGE.DHCP_DISCOVER || stage === STAGE.DHCP_REQUEST;
    case Kind.Arp:
      return stage === STAGE.ARP_REQUEST;
    default:
      return false;
  }
}

/** Asking stage → answering stage pairs, for clock samples. */
function answerPairs(kind: Kind): ReadonlyArray<readonly [number, number]> {
  switch (kind) {
    case Kind.TcpHandshake:
      return [[STAGE.SYN, STAGE.SYN_ACK]];
    case Kind.Dhcp:
      return [
        [STAGE.DHCP_DISCOVER, STAGE.DHCP_OFFER],
        [STAGE.DHCP_REQUEST, STAGE.DHCP_ACK],
      ];
    default:
      return [[0, 1]];
  }
}

/** 2^30: map keys below it are V8 small integers (no allocation per lookup). */
const KEY_SLOTS = 1073741824;

/** What was learned is per flow direction; a 30-bit key (a collision merges two flows' hints). */
function flowKey(kind: Kind, src: number, dst: number): number {
  return finish(mix(mix(mix(HASH_SEED ^ 0x464c4f57, kind), src), dst) ^ (dst / 4294967296)) % KEY_SLOTS;
}

function towardsKey(iface: number, addr: number): number {
  return finish(mix(mix(HASH_SEED ^ 0x544f57, iface), addr) ^ (addr / 4294967296)) % KEY_SLOTS;
}

/** DNS header and question bytes kept for the key text: a name is at most 255 bytes. */
const DNS_KEY_BYTES = 12 + 255 + 4;

/** Copies `len` bytes at `off` (none when off < 0) to `to[at..]`; whether there were any. */
function copyBytes(b: Uint8Array, off: number, len: number, to: Uint8Array, at: number): boolean {
  if (off < 0) return false;
  for (let i = 0; i < len; i++) to[at + i] = b[off + i];
  return true;
}

/**
 * Keeps what the exchange's key text needs (DESIGN §3 `key`) as numbers and bytes,
 * without building a string: keyTextOf writes it when a record is built.
 */
function setKey(ex: Exchange, rec: PacketRecord, kind: Kind): void {
  const b = rec.bytes;
  const k = ex.parts;
  if (kind === Kind.Arp) {
    ex.addrVersion = 4;
    ex.srcKnown = copyBytes(b, rec.arpSpaOff, 4, ex.addrs, 0);
    ex.dstKnown = copyBytes(b, rec.arpTpaOff, 4, ex.addrs, 16);
    return;
  }
  if (kind === Kind.Dhcp) {
    k[0] = rec.dhcpXid >>> 0;
    ex.srcKnown = copyBytes(b, rec.dhcpChaddrOff, 6, ex.addrs, 0);
    return;
  }
  const alen = rec.ipVersion === 6 ? 16 : 4;
  ex.addrVersion = rec.ipVersion;
  ex.srcKnown = copyBytes(b, rec.srcAddrOff, alen, ex.addrs, 0);
  ex.dstKnown = copyBytes(b, rec.dstAddrOff, alen, ex.addrs, 16);
  if (kind === Kind.TcpHandshake) {
    k[0] = rec.srcPort;
    k[1] = rec.dstPort;
    k[2] = rec.tcpSeq >>> 0;
  } else if (kind === Kind.Dns) {
    k[0] = rec.dnsId;
    k[1] = rec.dnsQtype;
    k[2] = -1;
    ex.dnsLen = 0;
    if (rec.dnsQnameOff >= 0 && rec.dnsOff >= 0) {
      const end = rec.dnsEnd > 0 ? rec.dnsEnd : rec.end;
      const len = Math.min(end - rec.dnsOff, DNS_KEY_BYTES);
      if (len > 0) {
        ex.dns ??= new Uint8Array(DNS_KEY_BYTES);
        copyBytes(b, rec.dnsOff, len, ex.dns, 0);
        ex.dnsLen = len;
        k[2] = rec.dnsQnameOff - rec.dnsOff;
      }
    }
  } else {
    k[0] = rec.icmpId;
    k[1] = rec.icmpSeq;
  }
}

/** The exchange's key as a reader would write it (DESIGN §3 `key`). */
function keyTextOf(ex: Exchange): string {
  const k = ex.parts;
  const a = ex.addrs;
  const src = ex.srcKnown ? formatIp(a, 0, ex.addrVersion) : '?';
  const dst = ex.dstKnown ? formatIp(a, 16, ex.addrVersion) : '?';
  switch (ex.kind) {
    case Kind.IcmpEcho:
    case Kind.Icmpv6Echo:
      return `${src}>${dst} id=${k[0]} seq=${k[1]}`;
    case Kind.TcpHandshake:
      return `${src}:${k[0]}>${dst}:${k[1]} isn=${k[2]}`;
    case Kind.Dns: {
      const name = k[2] >= 0 && ex.dns !== null ? readDnsName(ex.dns, 0, ex.dnsLen, k[2]) : null;
      return `${src}>${dst} id=${k[0]} ${name ?? '?'} ${dnsTypeName(k[1])}`;
    }
    case Kind.Dhcp:
      return `xid=0x${k[0].toString(16).padStart(8, '0')} chaddr=${ex.srcKnown ? formatMac(a, 0) : '?'}`;
    case Kind.Arp:
      return `who-has ${dst} tell ${src}`;
    default:
      return '';
  }
}
