// Hosts' clocks before a replay of several hosts' files reads them (docs/verdicts.md
// "Clocks"). The replay merges files by time stamp and judges by packet time: a host
// whose clock is seconds off has its packets read seconds away from the same packets
// elsewhere, and exchanges are judged (and split) before its sightings come. The
// estimate from exchanges (clock.ts) comes only once an exchange has been joined across
// hosts — too late. So a first read of the files (pipeline/clock-probe-pass.ts) gives
// each packet seen on two hosts to this probe, which bounds the hosts' offsets from the
// packets themselves, whatever the skew; the replay then merges the files on the
// reference clock and starts its estimate from these bounds.
//
// One packet on hosts A and B (the same fingerprint: classify.ts) was stamped t_A and
// t_B, each on its own clock; d = t_B − t_A is B's offset plus the time the packet took
// from A to B (minus it, going the other way). The TTL tells the way where a router lay
// between the two (the higher TTL is upstream): A before B bounds the offset from above
// (θ ≤ d), B before A from below (θ ≥ d). Both bounds, agreeing, give the interval.
// Without both, the offset is the median d, within the spread of the middle 80% of the
// samples and at least MIN_UNCERTAINTY_NS: the delay a packet may take between hosts,
// one way, which the samples cannot tell apart from the offset. A host with no packet
// in common with any other gets nothing; hosts in common with another host only are
// reached through it.
//
// Bounds: fingerprints are kept by their low bits (all hosts keep the same ones, so a
// packet kept on one is kept on all): beyond MAX_FINGERPRINTS, one bit more is required
// and the rest forgotten — memory stays flat however long the files. At most MAX_HOSTS
// hosts are probed (the first ones met); the first sighting per host of each packet counts.
import type { Classified } from './classify.js';

/** Fingerprints kept at most (each with a sighting per host). */
export const MAX_FINGERPRINTS = 65_536;
/** Hosts probed at most. */
export const MAX_HOSTS = 64;
/** Packets two hosts must share for their offset to count (one alone may be a hash collision). */
export const MIN_SHARED = 3;
/** Least uncertainty of an offset without bounds on both sides: a one-way delay between hosts (ns). */
export const MIN_UNCERTAINTY_NS = 1_000_000;

/** A host's clock minus the reference clock lies within [loNs, hiNs]. */
export interface ProbedOffset {
  host: string | null;
  loNs: number;
  hiNs: number;
  /** packets it shared with the host it was measured against */
  shared: number;
}

/** One host's first sighting of a packet: its time (ns from the probe's base second, own clock) and TTL. */
interface Sighting {
  host: number;
  rel: number;
  ttl: number;
}

/** One pair of hosts' samples: b's clock minus a's, from packets both saw. */
interface PairSamples {
  d: number[];
  /** θ ≤ d: a was upstream */
  upper: number;
  /** θ ≥ d: b was upstream */
  lower: number;
}

export class ClockProbe {
  readonly #hostIndex = new Map<string | null, number>();
  readonly #hosts: Array<string | null> = [];
  /** interface id → host index (-1: a host past MAX_HOSTS) */
  readonly #hostOf: number[] = [];
  /** host index → the coarsest resolution of its interfaces (ns) */
  readonly #resolution: number[] = [];
  readonly #seen = new Map<number, Sighting[]>();
  #mask = 0;
  #baseSec = -1;

  /** The host whose clock the others are measured against; before any interface. */
  setReferenceHost(host: string | null): void {
    if (this.#hosts.length === 0) this.#host(host);
  }

  interface(id: number, host: string | null, tsResolutionNs = 1): void {
    const h = this.#host(host);
    this.#hostOf[id] = h;
    if (h >= 0) this.#resolution[h] = Math.max(this.#resolution[h] ?? 1, tsResolutionNs);
  }

  /** Hosts met so far. */
  get hostCount(): number {
    return this.#hosts.length;
  }

  packet(c: Classified, iface: number, sec: number, nsec: number): void {
    const fp = c.fingerprint;
    // only packets with an IP header: ARP requests and the like repeat, the same bytes each time
    if (fp === 0 || c.ttl < 0 || (fp & this.#mask) !== 0) return;
    const host = this.#hostOf[iface] ?? -1;
    if (host < 0) return;
    if (this.#baseSec < 0) this.#baseSec = sec;
    const rel = (sec - this.#baseSec) * 1e9 + nsec;
    let list = this.#seen.get(fp);
    if (list === undefined) {
      list = [];
      this.#seen.set(fp, list);
      if (this.#seen.size > MAX_FINGERPRINTS) this.#narrow();
    }
    for (const s of list) if (s.host === host) return;
    list.push({ host, rel, ttl: c.ttl });
  }

  /** Each host's offset against the reference, where packets tie it to the reference. */
  offsets(): ProbedOffset[] {
    const n = this.#hosts.length;
    const pairs = new Map<number, PairSamples>();
    for (const list of this.#seen.values()) {
      for (let i = 0; i < list.length; i++) {
        for (let j = 0; j < list.length; j++) {
          const a = list[i];
          const b = list[j];
          if (a.host >= b.host) continue;
          const key = a.host * n + b.host;
          let p = pairs.get(key);
          if (p === undefined) {
            p = { d: [], upper: Number.POSITIVE_INFINITY, lower: Number.NEGATIVE_INFINITY };
            pairs.set(key, p);
          }
          const d = b.rel - a.rel;
          p.d.push(d);
          if (a.ttl > b.ttl && d < p.upper) p.upper = d;
          if (b.ttl > a.ttl && d > p.lower) p.lower = d;
        }
      }
    }
    // each pair's interval, then the narrowest chain from the reference to each host
    const edges: Array<{ a: number; b: number; lo: number; hi: number; shared: number }> = [];
    for (const [key, p] of pairs) {
      if (p.d.length < MIN_SHARED) continue;
      const a = Math.floor(key / n);
      const b = key % n;
      const res = (this.#resolution[a] ?? 1) + (this.#resolution[b] ?? 1);
      const iv = pairInterval(p, res);
      edges.push({ a, b, lo: iv.lo, hi: iv.hi, shared: p.d.length });
    }
    const lo: number[] = new Array<number>(n).fill(Number.NEGATIVE_INFINITY);
    const hi: number[] = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
    const shared: number[] = new Array<number>(n).fill(0);
    if (n > 0) {
      lo[0] = 0;
      hi[0] = 0;
    }
    const improve = (to: number, l: number, h: number, s: number): boolean => {
      if (!(h - l < hi[to] - lo[to])) return false;
      lo[to] = l;
      hi[to] = h;
      shared[to] = s;
      return true;
    };
    for (let round = 0; round < n; round++) {
      let changed = false;
      for (const e of edges) {
        // θ_b = θ_a + θ_ab; θ_a = θ_b − θ_ab
        if (Number.isFinite(hi[e.a]) && improve(e.b, lo[e.a] + e.lo, hi[e.a] + e.hi, e.shared))
          changed = true;
        if (Number.isFinite(hi[e.b]) && improve(e.a, lo[e.b] - e.hi, hi[e.b] - e.lo, e.shared))
          changed = true;
      }
      if (!changed) break;
    }
    const out: ProbedOffset[] = [];
    for (let h = 1; h < n; h++)
      if (Number.isFinite(hi[h]))
        out.push({ host: this.#hosts[h], loNs: lo[h], hiNs: hi[h], shared: shared[h] });
    return out;
  }

  #host(host: string | null): number {
    let h = this.#hostIndex.get(host);
    if (h === undefined) {
      h = this.#hosts.length < MAX_HOSTS ? this.#hosts.length : -1;
      if (h >= 0) this.#hosts.push(host);
      this.#hostIndex.set(host, h);
    }
    return h;
  }

  /** One more low bit of the fingerprint must be 0: half the packets kept are forgotten. */
  #narrow(): void {
    this.#mask = (this.#mask << 1) | 1;
    for (const fp of this.#seen.keys()) if ((fp & this.#mask) !== 0) this.#seen.delete(fp);
  }
}

/** b's clock minus a's, from one pair's samples (see the header); `res`: both hosts' resolutions. */
function pairInterval(p: PairSamples, res: number): { lo: number; hi: number } {
  if (p.lower <= p.upper && Number.isFinite(p.lower) && Number.isFinite(p.upper))
    return { lo: p.lower - res, hi: p.upper + res };
  const d = p.d.slice().sort((x, y) => x - y);
  const mid = d[Math.floor(d.length / 2)];
  const from = d[Math.floor(d.length * 0.1)];
  const to = d[Math.min(d.length - 1, Math.ceil(d.length * 0.9) - 1)];
  const w = Math.max(MIN_UNCERTAINTY_NS, mid - from, to - mid) + res;
  let lo = mid - w;
  let hi = mid + w;
  // one side's bound, where it agrees, still holds
  if (Number.isFinite(p.upper) && p.upper >= lo && p.upper < hi) hi = p.upper + res;
  if (Number.isFinite(p.lower) && p.lower <= hi && p.lower > lo) lo = p.lower - res;
  return { lo, hi };
}
