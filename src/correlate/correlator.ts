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
import { formatIp, formatIpv4, formatMac } from '../decode/format.js';
import { TunnelType, TUNNEL_NAMES, type PacketRecord } from '../decode/record.js';
import type { ClockRecord, ExchangeRecord, StageSighting, SummaryRecord } from '../events/types.js';
import { BoundedMap } from './bounded-map.js';
import { classify, Classified, Kind, KIND_NAMES, STAGE, STAGE_NAMES } from './classify.js';
import { ClockEstimator, ntpOffset } from './clock.js';
import { finish, HASH_SEED, mix } from './hash.js';
import { CaptureHealth } from './health.js';
import { judge, type OrderedStage, type PathOracle } from './verdict.js';

export interface CorrelatorInterface {
  id: number;
  label: string;
  /** ssh destination; null for this machine */
  host: string | null;
}

export interface CorrelatorOptions {
  onExchange(record: ExchangeRecord): void;
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
}

/** Sightings kept per stage (interfaces on one path); more are counted, not kept. */
const MAX_SIGHTINGS = 64;
/** Distinct packets (fingerprints) remembered per stage, to count retransmissions. */
const MAX_STAGE_PACKETS = 16;
/** Multiples of the flow's smoothed RTT before an unanswered stage is judged. */
const RTT_TIMEOUT_FACTOR = 8;

class StageTrack {
  /** interface ids, in arrival order, one per interface */
  ifaces: number[] = [];
  /** raw relative ns of each sighting (on its host's clock) */
  times: number[] = [];
  /** flow-direction address hashes at each sighting (translation changes them hop by hop) */
  srcs: number[] = [];
  dsts: number[] = [];
  /** tunnel context per sighting: type << 24 | (vni & 0xffffff), or -1 */
  tunnels: number[] = [];
  fingerprints: number[] = [];
  packets = 0;
  extraSightings = 0;
  /** a packet of the stage was broadcast or multicast (flooded: no path to learn or expect) */
  broadcast = false;
}

class Exchange {
  readonly stages: Array<StageTrack | undefined> = [];
  /** the key text is written from the earliest packet of the asking stage (before any NAT) */
  keyText: string;
  keyRel: number;
  judged = false;
  errorStage = -1;
  errorDetail = '';
  /** an ICMP error about the answer (it could not be delivered): told with a lost verdict */
  answerError = '';
  /** TCP: the server's ISN, from the SYN-ACK, to recognise the handshake's ACK */
  serverIsn = -1;
  firstRel: number;
  lastRel: number;
  timeoutNs: number;
  flowKey = 0;
  constructor(
    readonly kind: Kind,
    readonly key: number,
    keyText: string,
    rel: number,
    timeoutNs: number,
  ) {
    this.keyText = keyText;
    this.keyRel = rel;
    this.firstRel = rel;
    this.lastRel = rel;
    this.timeoutNs = timeoutNs;
  }

  get deadline(): number {
    return this.lastRel + this.timeoutNs;
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
    this.#flows = new BoundedMap(options.maxFlows ?? 65_536);
    this.#towards = new BoundedMap(options.maxFlows ?? 65_536);
  }

  get summary(): Readonly<SummaryRecord> {
    return this.#summary;
  }

  /** Exchanges waiting for their verdict. */
  get pending(): number {
    return this.#exchanges.size;
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
  interfaceGone(id: number, sec: number, nsec: number): void {
    this.#health.gone(id, this.rel(sec, nsec));
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
    let ex = this.#exchanges.get(c.key);
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
      ex = new Exchange(c.kind, c.key, keyText(rec, c.kind), rel, this.#defaultTimeoutNs);
      ex.flowKey = flowKey(c.kind, c.srcHash, c.dstHash);
      const flow = this.#flows.get(ex.flowKey);
      if (flow !== undefined && flow.srttNs > 0) ex.timeoutNs = this.#timeoutFor(flow.srttNs);
      this.#exchanges.set(c.key, ex);
      this.#queue.push(ex);
      this.#summary.exchanges++;
    } else if (rel < ex.keyRel && opensExchange(c.kind, c.stage)) {
      // Live, an interface further along may deliver first: name it by its first hop.
      ex.keyText = keyText(rec, c.kind);
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
      stage = new StageTrack();
      ex.stages[c.stage] = stage;
    }
    if (c.broadcast) stage.broadcast = true;
    if (stage.fingerprints.indexOf(c.fingerprint) < 0) {
      stage.packets++;
      if (stage.fingerprints.length < MAX_STAGE_PACKETS) stage.fingerprints.push(c.fingerprint);
    }
    if (stage.ifaces.indexOf(iface) < 0) {
      if (stage.ifaces.length < MAX_SIGHTINGS) {
        stage.ifaces.push(iface);
        stage.times.push(rel);
        stage.srcs.push(c.srcHash);
        stage.dsts.push(c.dstHash);
        stage.tunnels.push(
          rec.tunnelType === TunnelType.None ? -1 : (rec.tunnelType << 24) | (rec.tunnelVni & 0xffffff),
        );
      } else stage.extraSightings++;
    }
    if (rel > ex.lastRel) ex.lastRel = rel;
    if (this.#advanceWithPackets && rel > this.#nowRel) this.#advanceRel(rel);
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
    }
    if (this.#queueHead > 4096 && this.#queueHead * 2 > q.length) {
      this.#queue = q.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #judgeOldest(): void {
    while (this.#queueHead < this.#queue.length) {
      const ex = this.#queue[this.#queueHead++];
      if (!ex.judged) {
        this.#judge(ex, this.#nowRel, 'state limit reached: judged before its timeout');
        return;
      }
    }
  }

  /** Orders a stage's sightings on the reference clock. */
  #ordered(stage: StageTrack): OrderedStage {
    const n = stage.ifaces.length;
    const idx = Array.from({ length: n }, (_, i) => i);
    const t = stage.times.map((raw, i) => raw - this.#clock.offsetNs(this.#hostOf[stage.ifaces[i]] ?? 0));
    idx.sort((a, b) => t[a] - t[b] || a - b);
    // Equal stamps (two ends of a veth, a bridge and its port) are ordered by the order
    // the interfaces were announced (the order of a recording's interface blocks), in the
    // stage's overall direction: the same live and in replay, and right when interfaces
    // were listed along the path (as `lab status` prints them).
    if (n > 1) {
      const rank = this.#rank;
      const dir = (rank[stage.ifaces[idx[0]]] ?? 0) <= (rank[stage.ifaces[idx[n - 1]]] ?? 0) ? 1 : -1;
      idx.sort((a, b) => t[a] - t[b] || dir * ((rank[stage.ifaces[a]] ?? 0) - (rank[stage.ifaces[b]] ?? 0)));
    }
    return {
      ifaces: idx.map((i) => stage.ifaces[i]),
      times: idx.map((i) => Math.round(t[i])),
      srcs: idx.map((i) => stage.srcs[i]),
      dsts: idx.map((i) => stage.dsts[i]),
      tunnels: idx.map((i) => stage.tunnels[i]),
      packets: stage.packets,
      broadcast: stage.broadcast,
    };
  }

  #judge(ex: Exchange, nowRel: number, forcedReason?: string): void {
    ex.judged = true;
    this.#exchanges.delete(ex.key);
    this.#sampleClocks(ex);
    const stages: Array<OrderedStage | undefined> = ex.stages.map((s) =>
      s === undefined ? undefined : this.#ordered(s),
    );
    const oracle: PathOracle = {
      flowPath: (src, dst) => this.#flows.get(flowKey(ex.kind, src, dst))?.path ?? null,
      towards: (iface, addr) => this.#towards.get(towardsKey(iface, addr)) ?? null,
      problem: (iface, from, to) => this.#health.problem(iface, from, to),
    };
    const verdict = judge(ex.kind, stages, ex.errorStage, ex.errorDetail, oracle, {
      deadline: ex.deadline,
      now: nowRel,
      forcedReason: forcedReason ?? null,
    });
    this.#learn(ex, stages, verdict.delivered, verdict.rttNs);
    this.#summary[verdict.status]++;
    const names = STAGE_NAMES[ex.kind];
    const record: ExchangeRecord = {
      type: 'exchange',
      kind: KIND_NAMES[ex.kind],
      key: ex.keyText,
      status: verdict.status,
      ts: this.#tsText(Math.min(...stages.flatMap((s) => (s === undefined ? [] : s.times.slice(0, 1))))),
      stages: [],
    };
    stages.forEach((s, i) => {
      if (s === undefined) return;
      const seen: StageSighting[] = s.ifaces.map((iface, j) => {
        const sighting: StageSighting = {
          iface: this.#labels[iface] ?? `#${iface}`,
          ts: this.#tsText(s.times[j]),
        };
        if (j > 0) sighting.hopMs = Math.round((s.times[j] - s.times[j - 1]) / 1e3) / 1e3;
        const tun = s.tunnels[j];
        if (tun >= 0) sighting.tunnel = { type: TUNNEL_NAMES[tun >>> 24] ?? 'tunnel', vni: tun & 0xffffff };
        return sighting;
      });
      record.stages.push({ name: names[i], packets: s.packets, seen });
    });
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
    this.#options.onExchange(record);
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
        if (j < n - 1) this.#learnTowards(s.ifaces[j], s.dsts[j], s.ifaces.slice(j + 1));
        // …and packets back to this source would retrace the path so far.
        if (j > 0) this.#learnTowards(s.ifaces[j], s.srcs[j], s.ifaces.slice(0, j).reverse());
      }
    }
    for (const i of delivered) {
      const s = stages[i];
      if (s === undefined || s.ifaces.length === 0 || s.broadcast) continue;
      const key = flowKey(ex.kind, s.srcs[0], s.dsts[0]);
      const flow = this.#flows.get(key) ?? { path: null, srttNs: 0 };
      if (flow.path === null || s.ifaces.length >= flow.path.length) flow.path = s.ifaces;
      this.#flows.set(key, flow);
    }
    if (rttNs !== null && rttNs > 0) {
      const flow = this.#flows.get(ex.flowKey) ?? { path: null, srttNs: 0 };
      flow.srttNs = flow.srttNs === 0 ? rttNs : (7 * flow.srttNs + rttNs) / 8;
      this.#flows.set(ex.flowKey, flow);
    }
  }

  #learnTowards(iface: number, addr: number, rest: number[]): void {
    if (addr === 0) return;
    const key = towardsKey(iface, addr);
    const known = this.#towards.get(key);
    if (known === undefined || rest.length > known.length) this.#towards.set(key, rest);
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
      ask.ifaces.forEach((iface, i) => {
        const j = ans.ifaces.indexOf(iface);
        if (j < 0) return;
        const host = this.#hostOf[iface] ?? 0;
        const list = spans.get(host) ?? [];
        list.push({ iface, ask: ask.times[i], ans: ans.times[j], span: ans.times[j] - ask.times[i] });
        spans.set(host, list);
      });
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
    const sec = this.#baseSec + Math.floor(r / NS);
    const nsec = r - Math.floor(r / NS) * NS;
    return `${sec}.${String(nsec).padStart(9, '0')}`;
  }
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

function flowKey(kind: Kind, src: number, dst: number): number {
  return finish(mix(mix(mix(HASH_SEED ^ 0x464c4f57, kind), src), dst) ^ (dst / 4294967296));
}

function towardsKey(iface: number, addr: number): number {
  return finish(mix(mix(HASH_SEED ^ 0x544f57, iface), addr) ^ (addr / 4294967296));
}

/** The exchange's key as a reader would write it (DESIGN §3 `key`); once per exchange. */
function keyText(rec: PacketRecord, kind: Kind): string {
  const b = rec.bytes;
  const addr = (off: number): string => (off < 0 ? '?' : formatIp(b, off, rec.ipVersion));
  switch (kind) {
    case Kind.IcmpEcho:
    case Kind.Icmpv6Echo:
      return `${addr(rec.srcAddrOff)}>${addr(rec.dstAddrOff)} id=${rec.icmpId} seq=${rec.icmpSeq}`;
    case Kind.TcpHandshake:
      return `${addr(rec.srcAddrOff)}:${rec.srcPort}>${addr(rec.dstAddrOff)}:${rec.dstPort} isn=${rec.tcpSeq >>> 0}`;
    case Kind.Dns: {
      const name =
        rec.dnsQnameOff >= 0
          ? readDnsName(b, rec.dnsOff, rec.dnsEnd > 0 ? rec.dnsEnd : rec.end, rec.dnsQnameOff)
          : null;
      return `${addr(rec.srcAddrOff)}>${addr(rec.dstAddrOff)} id=${rec.dnsId} ${name ?? '?'} ${dnsTypeName(rec.dnsQtype)}`;
    }
    case Kind.Dhcp:
      return `xid=0x${(rec.dhcpXid >>> 0).toString(16).padStart(8, '0')} chaddr=${rec.dhcpChaddrOff >= 0 ? formatMac(b, rec.dhcpChaddrOff) : '?'}`;
    case Kind.Arp:
      return `who-has ${formatIpv4(b, rec.arpTpaOff)} tell ${formatIpv4(b, rec.arpSpaOff)}`;
    default:
      return '';
  }
}
