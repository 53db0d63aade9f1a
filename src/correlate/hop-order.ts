// The order of one packet's sightings along its path (docs/verdicts.md "Hop order"): by position, from
// what the network shows, not by time stamps alone. Hops on one host are microseconds
// apart, two ends of a veth or a bridge and its port often carry the very same stamp,
// a µs capture ties hops that a ns one tells apart, and two hosts' clocks disagree by
// more than a hop's delay — so time alone puts a reply "last seen" on the interface it
// crossed first.
//
// Evidence, strongest first; each says "sighting i is before sighting j" for a pair, and
// an edge that would contradict what stronger evidence already says is not added:
//
//   1. the network and one clock (certain):
//      - TTL / hop limit: a routed hop decrements it, so the higher one is nearer the
//        sender (the innermost header's: tunnels carry it unchanged);
//      - where the addresses live: a packet starts on the interface that holds its
//        source address (an ARP request: its sender's) and ends on the one that holds
//        its destination — where that sighting has the packet's highest TTL (lowest,
//        for the destination), so that a source rewritten to a router's own address by
//        SNAT, seen after a routed hop, is not taken for the start;
//      - where the MAC addresses live: among the sightings of one routed hop (the same
//        TTL), a frame starts on the interface that owns its source MAC and ends on the
//        one that owns its destination MAC — a VM's frame to its gateway reaches the
//        tap before the bridge that owns the gateway's MAC, though both stamp it the
//        same nanosecond. A bridge takes the MAC of one of its ports: where several
//        own it, the one with IP addresses (a port has none: it hands the frame to its
//        bridge), else none of them;
//      - nested round trips: where an interface saw both the question and its answer,
//        answer − question is a round trip on ONE clock; the interface nearer the asker
//        sees the longer one (it encloses the other's), so a question goes from longer
//        to shorter round trips and its answer back the other way — across hosts too,
//        without any clock offset; only where the round trips differ by more than
//        twice the stamps' resolution;
//      - time on one clock, where two stamps differ by more than their resolution;
//        where they do not, and one capture saw both on two of its devices (`any`), the
//        order it was handed them: the kernel hands a packet to the capture at each
//        device as the packet crosses it (a bridged packet keeps the very same stamp);
//   2. encapsulation: on a host where the inner packet comes before its tunnelled form,
//      the packet is leaving (that host encapsulates); where the tunnelled form comes
//      first, it is arriving. Every hop of the leaving host precedes every hop of the
//      arriving one;
//   3. paths learned from packets that made it (the caller's hints, in its order of
//      preference: the flow's own path, the question's path reversed for an answer,
//      the routes other packets took from these interfaces towards the destination
//      and back towards the source,
//      the opposite direction's path reversed);
//   4. time across hosts, on the reference clock, only where the gap exceeds both
//      clocks' uncertainty plus the stamps' resolution.
//
// What stays undecided is laid out by the last of these: a path visits a host's
// interfaces together (the next hop is taken on the host of the last one while one is
// ready), then the earliest on the reference clock, then the order the interfaces were
// announced in (the order of a recording's interface blocks), in the stage's overall
// direction — the same live and in replay.
//
// Sets of "after" sightings are 64-bit masks in two 32-bit words (a stage keeps at most
// MAX_HOPS sightings), kept transitively closed: one edge costs O(n), a stage O(n³) at
// worst and O(n²) in practice, with nothing allocated.

/** Sightings ordered at most (the correlator keeps this many per stage). */
export const MAX_HOPS = 64;

/** No TTL (ARP; an IP header not decoded). */
export const NO_TTL = -1;

// A host's part in a tunnelled crossing (#addEncapsulation), seen on the host itself
// (its inner and tunnelled sightings in order) or from the hosts' order.
const LEAVING = 1;
const ARRIVING = 2;
const LEAVING_BY_ORDER = 4;
const ARRIVING_BY_ORDER = 8;

export class HopOrder {
  /** sightings in this stage (0 .. n-1); the caller fills the columns below for each */
  n = 0;
  /** interface id */
  readonly iface = new Int32Array(MAX_HOPS);
  /** host index (0: the reference host) */
  readonly host = new Int32Array(MAX_HOPS);
  /** time stamp on its own host's clock (relative ns) */
  readonly time = new Float64Array(MAX_HOPS);
  /** the same on the reference clock (the host's estimated offset subtracted) */
  readonly refTime = new Float64Array(MAX_HOPS);
  /** how far refTime may be from the truth: the offset's uncertainty (0 on the reference host, Infinity when unknown) */
  readonly clockError = new Float64Array(MAX_HOPS);
  /** how finely the source's stamps tell time apart (ns, at least 1) */
  readonly resolution = new Float64Array(MAX_HOPS);
  /** TTL / hop limit of the innermost IP header, NO_TTL when none */
  readonly ttl = new Int32Array(MAX_HOPS);
  /** 1 when seen tunnelled (VXLAN, Geneve, GRE), else 0 */
  readonly tunnelled = new Uint8Array(MAX_HOPS);
  /** 1 when the interface holds the packet's source address as seen there, else 0 */
  readonly holdsSource = new Uint8Array(MAX_HOPS);
  /** 1 when the interface holds the packet's destination address as seen there, else 0 */
  readonly holdsDestination = new Uint8Array(MAX_HOPS);
  /** 1 when the interface owns the source MAC of the frame it saw, else 0 */
  readonly ownsFrameSource = new Uint8Array(MAX_HOPS);
  /** 1 when the interface owns the destination MAC of the frame it saw, else 0 */
  readonly ownsFrameDestination = new Uint8Array(MAX_HOPS);
  /** 1 when the interface holds IP addresses of its own (a bridge port holds none), else 0 */
  readonly hasAddresses = new Uint8Array(MAX_HOPS);
  /** the local round trip on this interface (answer − question, one clock), NaN when it did not see both */
  readonly roundTrip = new Float64Array(MAX_HOPS);
  /** +1: this stage asks (longer round trips are nearer the start); -1: it answers; 0: no round trips */
  roundTripSign = 0;
  /** the order the interface was announced in: the last tie-break */
  readonly rank = new Int32Array(MAX_HOPS);
  /**
   * the capture the interface is seen through (the devices of one `any` capture share
   * it); sightings are given in the order they arrived, so within a capture that is the
   * order it was handed them
   */
  readonly capture = new Int32Array(MAX_HOPS);

  /** the result of finish(): sighting indices in path order */
  readonly order = new Int32Array(MAX_HOPS);

  // transitive closure: sightings known to come after i
  readonly #afterLo = new Uint32Array(MAX_HOPS);
  readonly #afterHi = new Uint32Array(MAX_HOPS);
  // scratch for finish(): sightings known to come before k
  readonly #beforeLo = new Uint32Array(MAX_HOPS);
  readonly #beforeHi = new Uint32Array(MAX_HOPS);
  // scratch for hints: each sighting's position on the hint path (-1: not on it)
  readonly #position = new Int32Array(MAX_HOPS);
  // scratch for encapsulation: per sighting, its host's part (LEAVING, ARRIVING, ... bits)
  readonly #role = new Uint8Array(MAX_HOPS);

  /** Starts a stage of n sightings (n ≤ MAX_HOPS); then fill the columns. */
  begin(n: number): void {
    this.n = n;
    for (let i = 0; i < n; i++) {
      this.#afterLo[i] = 0;
      this.#afterHi[i] = 0;
    }
    this.roundTripSign = 0;
  }

  /** Whether j is known to come after i. */
  isBefore(i: number, j: number): boolean {
    return j < 32 ? ((this.#afterLo[i] >>> j) & 1) === 1 : ((this.#afterHi[i] >>> (j - 32)) & 1) === 1;
  }

  /**
   * Records "i before j" with everything it implies, unless it contradicts what is known
   * already (then nothing changes). Returns whether i is now before j.
   */
  before(i: number, j: number): boolean {
    if (i === j || this.isBefore(j, i)) return false;
    if (this.isBefore(i, j)) return true;
    const lo = this.#afterLo;
    const hi = this.#afterHi;
    // j and everything after it come after i and after everything before i
    const addLo = lo[j] | (j < 32 ? (1 << j) >>> 0 : 0);
    const addHi = hi[j] | (j >= 32 ? (1 << (j - 32)) >>> 0 : 0);
    for (let a = 0; a < this.n; a++) {
      if (a === i || this.isBefore(a, i)) {
        lo[a] = (lo[a] | addLo) >>> 0;
        hi[a] = (hi[a] | addHi) >>> 0;
      }
    }
    return true;
  }

  /** Evidence 1 and 2: TTL, nested round trips, one clock, encapsulation. */
  addNetworkEvidence(): void {
    const n = this.n;
    const ttl = this.ttl;
    for (let i = 0; i < n; i++) {
      if (ttl[i] === NO_TTL) continue;
      for (let j = i + 1; j < n; j++) {
        if (ttl[j] === NO_TTL || ttl[j] === ttl[i]) continue;
        if (ttl[i] > ttl[j]) this.before(i, j);
        else this.before(j, i);
      }
    }
    this.#addAddressOwners();
    this.#addFrameOwners();
    const sign = this.roundTripSign;
    if (sign !== 0) {
      const rt = this.roundTrip;
      const res = this.resolution;
      for (let i = 0; i < n; i++) {
        if (rt[i] !== rt[i]) continue; // NaN: not both seen here
        for (let j = i + 1; j < n; j++) {
          if (rt[j] !== rt[j]) continue;
          const d = (rt[i] - rt[j]) * sign;
          // each round trip is two stamps, each off by up to its resolution
          const margin = 2 * (res[i] > res[j] ? res[i] : res[j]);
          if (d > margin) this.before(i, j);
          else if (-d > margin) this.before(j, i);
        }
      }
    }
    const host = this.host;
    const t = this.time;
    const res = this.resolution;
    const capture = this.capture;
    const iface = this.iface;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (host[i] !== host[j]) continue;
        const d = t[j] - t[i];
        const margin = res[i] > res[j] ? res[i] : res[j];
        if (d > margin) this.before(i, j);
        else if (-d > margin) this.before(j, i);
      }
    }
    // stamps that tie, on two devices of one capture: the order it was handed them (after
    // every time edge, so that it never stands against one)
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (capture[i] !== capture[j] || iface[i] === iface[j]) continue;
        const d = t[j] - t[i];
        const margin = res[i] > res[j] ? res[i] : res[j];
        if (d <= margin && -d <= margin) this.before(i, j);
      }
    }
    this.#addEncapsulation();
  }

  /** Evidence 1: the packet starts where its source address lives and ends where its destination does. */
  #addAddressOwners(): void {
    const n = this.n;
    const ttl = this.ttl;
    let highest = NO_TTL;
    let lowest = Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < n; i++) {
      if (ttl[i] === NO_TTL) continue;
      if (ttl[i] > highest) highest = ttl[i];
      if (ttl[i] < lowest) lowest = ttl[i];
    }
    // (only where one sighting alone holds it: a relay's own copy of the packet — a DHCP
    // relay's — starts where the relay holds its source too, and time tells them apart)
    const start = this.#onlyOne(this.holdsSource, highest);
    if (start >= 0) for (let j = 0; j < n; j++) if (j !== start) this.before(start, j);
    const end = this.#onlyOne(this.holdsDestination, lowest);
    if (end >= 0) for (let j = 0; j < n; j++) if (j !== end) this.before(j, end);
  }

  /** The one sighting with `holds` set and this TTL (or none); -1 when none or several. */
  #onlyOne(holds: Uint8Array, ttlThere: number): number {
    let found = -1;
    for (let i = 0; i < this.n; i++) {
      if (holds[i] === 0 || (this.ttl[i] !== NO_TTL && this.ttl[i] !== ttlThere)) continue;
      if (found >= 0) return -1;
      found = i;
    }
    return found;
  }

  /**
   * Evidence 1: among the sightings of one routed hop (one TTL), the frame starts where
   * its source MAC lives and ends where its destination MAC does.
   */
  #addFrameOwners(): void {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const start = this.#frameOwner(this.ownsFrameSource, i);
      if (start === i)
        for (let j = 0; j < n; j++) if (j !== i && this.ttl[j] === this.ttl[i]) this.before(i, j);
      const end = this.#frameOwner(this.ownsFrameDestination, i);
      if (end === i)
        for (let j = 0; j < n; j++) if (j !== i && this.ttl[j] === this.ttl[i]) this.before(j, i);
    }
  }

  /**
   * The sighting of i's routed hop that owns the frame's MAC by `owns`: the one that
   * does, or of several (a bridge and the port whose MAC it took) the one alone with IP
   * addresses; -1 when none or no single one.
   */
  #frameOwner(owns: Uint8Array, i: number): number {
    if (owns[i] === 0) return -1;
    const ttl = this.ttl;
    let owners = 0;
    let owner = -1;
    let withAddresses = 0;
    let addressed = -1;
    for (let j = 0; j < this.n; j++) {
      if (owns[j] === 0 || ttl[j] !== ttl[i]) continue;
      owners++;
      owner = j;
      if (this.hasAddresses[j] === 1) {
        withAddresses++;
        addressed = j;
      }
    }
    if (owners === 1) return owner;
    return withAddresses === 1 ? addressed : -1;
  }

  /**
   * Evidence 2: the host that encapsulates comes before the host that decapsulates —
   * and the other way round: on a host the packet is known to leave for another that
   * sees it tunnelled, its inner form comes first; on one it is known to arrive at, its
   * tunnelled form (a NIC and its VXLAN device often stamp the same nanosecond).
   */
  #addEncapsulation(): void {
    const n = this.n;
    const tun = this.tunnelled;
    let any = 0;
    for (let i = 0; i < n; i++) any |= tun[i];
    if (any === 0) return;
    const host = this.host;
    const role = this.#role;
    for (let i = 0; i < n; i++) role[i] = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (host[i] !== host[j] || tun[i] === tun[j] || !this.isBefore(i, j)) continue;
        // inner then tunnelled: leaving; tunnelled then inner: arriving
        const r = tun[i] === 0 ? LEAVING : ARRIVING;
        for (let k = 0; k < n; k++) if (host[k] === host[i]) role[k] |= r;
      }
    }
    // where the hosts' order is known already (round trips, TTL), it says which role each has
    for (let i = 0; i < n; i++) {
      if (tun[i] === 0) continue;
      for (let j = 0; j < n; j++) {
        if (tun[j] === 0 || host[j] === host[i] || !this.isBefore(i, j)) continue;
        for (let k = 0; k < n; k++) {
          if (host[k] === host[i]) role[k] |= LEAVING_BY_ORDER;
          else if (host[k] === host[j]) role[k] |= ARRIVING_BY_ORDER;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if ((role[i] & (LEAVING | ARRIVING)) !== LEAVING) continue;
      for (let j = 0; j < n; j++)
        if ((role[j] & (LEAVING | ARRIVING)) === ARRIVING && host[j] !== host[i]) this.before(i, j);
    }
    for (let i = 0; i < n; i++) {
      const r = role[i] & (LEAVING_BY_ORDER | ARRIVING_BY_ORDER);
      if (tun[i] !== 0 || r === 0 || r === (LEAVING_BY_ORDER | ARRIVING_BY_ORDER)) continue;
      for (let j = 0; j < n; j++) {
        if (host[j] !== host[i] || tun[j] === 0) continue;
        if (r === LEAVING_BY_ORDER) this.before(i, j);
        else this.before(j, i);
      }
    }
  }

  /**
   * Evidence 3: a path packets took before (interface ids, nearest first; `reversed`:
   * read from its end). Sightings on it keep its order where nothing stronger says otherwise.
   */
  addPathHint(path: readonly number[], reversed: boolean): void {
    const n = this.n;
    const pos = this.#position;
    const len = path.length;
    let on = 0;
    for (let i = 0; i < n; i++) {
      pos[i] = -1;
      for (let p = 0; p < len; p++) {
        if (path[reversed ? len - 1 - p : p] === this.iface[i]) {
          pos[i] = p;
          on++;
          break;
        }
      }
    }
    if (on < 2) return;
    for (let i = 0; i < n; i++) {
      if (pos[i] < 0) continue;
      for (let j = 0; j < n; j++) if (pos[j] > pos[i]) this.before(i, j);
    }
  }

  /**
   * Evidence 3 too: a route learned from other packets. From sighting `from`'s interface,
   * packets towards an address went along `route` (nearest first): towards this packet's
   * destination, the sightings on it come after `from`; towards its source
   * (`backwards`), they come before it — the way the packet came — nearest last.
   */
  addRouteHint(from: number, route: readonly number[], backwards: boolean): void {
    const n = this.n;
    const pos = this.#position;
    const len = route.length;
    let on = 0;
    for (let i = 0; i < n; i++) {
      pos[i] = -1;
      if (i === from) continue;
      for (let p = 0; p < len; p++) {
        if (route[p] === this.iface[i]) {
          pos[i] = p;
          on++;
          break;
        }
      }
    }
    if (on === 0) return;
    for (let i = 0; i < n; i++) {
      if (pos[i] < 0) continue;
      if (backwards) this.before(i, from);
      else this.before(from, i);
      for (let j = 0; j < n; j++) {
        if (pos[j] <= pos[i]) continue;
        // further along the route: after i towards the destination, before it back to the source
        if (backwards) this.before(j, i);
        else this.before(i, j);
      }
    }
  }

  /** Evidence 4: time across hosts, beyond the clocks' uncertainty. */
  addClockEvidence(): void {
    const n = this.n;
    const host = this.host;
    const t = this.refTime;
    const err = this.clockError;
    const res = this.resolution;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (host[i] === host[j]) continue;
        const margin = err[i] + err[j] + res[i] + res[j];
        if (margin === Number.POSITIVE_INFINITY) continue;
        const d = t[j] - t[i];
        if (d > margin) this.before(i, j);
        else if (-d > margin) this.before(j, i);
      }
    }
  }

  /** Lays the sightings out in `order`: every known "before" kept, the rest as the header says. */
  finish(): void {
    const n = this.n;
    const order = this.order;
    if (n === 1) {
      order[0] = 0;
      return;
    }
    const bLo = this.#beforeLo;
    const bHi = this.#beforeHi;
    for (let k = 0; k < n; k++) {
      bLo[k] = 0;
      bHi[k] = 0;
    }
    for (let p = 0; p < n; p++) {
      for (let k = 0; k < n; k++) {
        if (!this.isBefore(p, k)) continue;
        if (p < 32) bLo[k] = (bLo[k] | (1 << p)) >>> 0;
        else bHi[k] = (bHi[k] | (1 << (p - 32))) >>> 0;
      }
    }
    // The stage's overall direction in announcement order: from its earliest sighting to its latest.
    const t = this.refTime;
    const rank = this.rank;
    let earliest = 0;
    let latest = 0;
    for (let k = 1; k < n; k++) {
      if (t[k] < t[earliest]) earliest = k;
      if (t[k] >= t[latest]) latest = k;
    }
    const dir = rank[earliest] <= rank[latest] ? 1 : -1;
    const host = this.host;
    let placedLo = 0;
    let placedHi = 0;
    let previousHost = -1;
    for (let step = 0; step < n; step++) {
      let best = -1;
      for (let k = 0; k < n; k++) {
        const placed = k < 32 ? (placedLo >>> k) & 1 : (placedHi >>> (k - 32)) & 1;
        if (placed === 1 || (bLo[k] & ~placedLo) !== 0 || (bHi[k] & ~placedHi) !== 0) continue;
        if (best < 0 || this.#preferred(k, best, previousHost, dir)) best = k;
      }
      // (the closure is acyclic, so some sighting is always ready)
      order[step] = best;
      if (best < 32) placedLo = (placedLo | (1 << best)) >>> 0;
      else placedHi = (placedHi | (1 << (best - 32))) >>> 0;
      previousHost = host[best];
    }
  }

  /** Whether ready sighting k goes before ready sighting b. */
  #preferred(k: number, b: number, previousHost: number, dir: number): boolean {
    const host = this.host;
    if (previousHost >= 0 && host[k] !== host[b]) {
      if (host[k] === previousHost) return true;
      if (host[b] === previousHost) return false;
    }
    const t = this.refTime;
    if (t[k] !== t[b]) return t[k] < t[b];
    return dir * this.rank[k] < dir * this.rank[b];
  }
}
