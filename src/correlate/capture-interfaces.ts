// The interfaces and hosts the correlator knows: each interface's label, order of
// announcement, host, time stamp resolution and own addresses; each host's clock
// offset and how far it may be off (clock.ts estimates them), its latest packet's time,
// and where each interface's capture stopped. Interfaces are numbered by their id;
// hosts by order of appearance, 0 being the reference host (whose clock time stamps
// are on). The arrays are shared, never copied: clock sampling and stage ordering read
// them, and the packet path reads a host's offset per packet.
import { parseIp } from '../decode/format.js';
import { hashAddr, hashMacText } from './classify.js';
import { ClockEstimator } from './clock.js';

export interface CorrelatorInterface {
  id: number;
  label: string;
  /** ssh destination; null for this machine */
  host: string | null;
  /**
   * The network namespace it is in on its host (null: the host's own); absent when not
   * known (a plain pcap's). A packet that reached a namespace reached its addresses.
   */
  netns?: string | null;
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
  /**
   * Its own MAC address (`fa:16:3e:00:00:01`), where known: a frame starts on the
   * interface that owns its source MAC and ends on the one that owns its destination's
   * (hop-order.ts) — a tap and its bridge stamp a packet the same nanosecond.
   */
  mac?: string | null;
  /**
   * The capture it is seen through, when that capture sees several interfaces (the
   * devices of an `any` capture): its id. Default: its own id.
   */
  capture?: number;
}

export class CaptureInterfaces {
  /** hosts' clock offsets, estimated from exchanges seen on several hosts */
  readonly clock = new ClockEstimator();
  /** interface id → its label (undefined: never added) */
  readonly labels: string[] = [];
  /** interface id → order of announcement */
  readonly rank: number[] = [];
  /** interface id → the capture it is seen through (CorrelatorInterface.capture) */
  readonly captureOf: number[] = [];
  /** interface id → the capture of every device it is a device of, or -1 (CorrelatorInterface.capture) */
  readonly anyCaptureOf: number[] = [];
  #announced = 0;
  /** interface id → host index (0 = reference host) */
  readonly hostOf: number[] = [];
  /** interface id → time stamp resolution in ns */
  readonly resolutionOf: number[] = [];
  /** interface id → hashes of its own addresses (as classify hashes a packet's), or undefined */
  readonly addressesOf: Array<readonly number[] | undefined> = [];
  /** interface id → hash of its own MAC (classify.ts hashMac), 0 when not known */
  readonly macOf: number[] = [];
  /** interface id → its namespace (host and netns) as a number, -1 when not known */
  readonly namespaceOf: number[] = [];
  /** host and netns → its number in namespaceOf */
  readonly #namespaceIndex = new Map<string, number>();
  /** address hash → the interfaces holding it (as announced last) */
  readonly #holders = new Map<number, number[]>();
  /** host index → its name (null: this machine); its length: how many hosts */
  readonly hosts: Array<string | null> = [];
  /** host → its index in hosts: a file may name 65,536 interfaces, each on a host of its own */
  readonly #hostIndex = new Map<string | null, number>();
  /** host index → its latest packet's time (relative ns on its own clock); the packet path keeps it */
  readonly hostLastRel: number[] = [];
  /** interface id → when its capture stopped (relative ns on its host's clock), if told */
  readonly stoppedRel: number[] = [];
  /**
   * host index → its clock's estimated offset (ns) as of now, subtracted from a packet's
   * time to judge deadlines on the reference clock (a plain typed array: read per packet)
   */
  #offsetOf = new Float64Array(16);
  /** host index → how far that offset may be off (0 for the reference, Infinity until measured) */
  #uncertaintyOf = new Float64Array(16).fill(Number.POSITIVE_INFINITY);

  /** host index → clock offset in ns (replaced as hosts are added: read it through this object) */
  get offsetOf(): Float64Array {
    return this.#offsetOf;
  }

  /** host index → how far its offset may be off, in ns (replaced as hosts are added) */
  get uncertaintyOf(): Float64Array {
    return this.#uncertaintyOf;
  }

  /**
   * The host whose clock time stamps are on (docs/json-lines.md "Time stamps": the first host named). Without
   * it, the host of the first interface added. Only before any interface is added.
   */
  setReferenceHost(host: string | null): void {
    if (this.hosts.length === 0) {
      this.hosts.push(host);
      this.#hostIndex.set(host, 0);
    }
  }

  add(iface: CorrelatorInterface): void {
    if (this.labels[iface.id] === undefined) this.rank[iface.id] = this.#announced++;
    this.labels[iface.id] = iface.label;
    this.captureOf[iface.id] = iface.capture ?? iface.id;
    this.anyCaptureOf[iface.id] = iface.capture ?? -1;
    let host = this.#hostIndex.get(iface.host);
    if (host === undefined) {
      host = this.hosts.length;
      this.hosts.push(iface.host);
      this.#hostIndex.set(iface.host, host);
    }
    this.hostOf[iface.id] = host;
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
    this.#setHolder(iface.id, this.addressesOf[iface.id], hashes);
    this.addressesOf[iface.id] = hashes.length > 0 ? hashes : undefined;
    this.namespaceOf[iface.id] =
      iface.netns === undefined ? -1 : this.#namespace(`${iface.host ?? ''}\0${iface.netns ?? ''}`);
    // (announced again without it, as a listing without MACs may: the one known stays)
    const mac = iface.mac != null ? hashMacText(iface.mac) : 0;
    if (mac !== 0 || this.macOf[iface.id] === undefined) this.macOf[iface.id] = mac;
    this.resolutionOf[iface.id] = Math.max(1, iface.tsResolutionNs ?? 1);
  }

  /**
   * Where a packet last seen on `lastSeen` going to `addr` (a hash, as classify's) is
   * expected to end: the one interface holding that address in a known namespace —
   * the nearest, on `lastSeen`'s host, where interfaces on several hold it — unless the
   * packet was already seen in that namespace (`seen`): it reached its address, by
   * whichever device it entered. -1 when no interface holds it, several do, or it
   * arrived.
   */
  destinationOf(lastSeen: number, addr: number, seen: readonly number[]): number {
    const holders = this.#holders.get(addr);
    if (holders === undefined) return -1;
    const host = this.hostOf[lastSeen];
    let found = -1;
    let onHost = false;
    let several = false;
    for (const h of holders) {
      const ns = this.namespaceOf[h];
      if (ns < 0) continue;
      for (const i of seen) if (this.namespaceOf[i] === ns) return -1;
      const here = this.hostOf[h] === host;
      if (found < 0 || (here && !onHost)) {
        found = h;
        onHost = here;
        several = false;
        // (one namespace is one destination: a device captured by name and in an `any` capture)
      } else if (here === onHost && ns !== this.namespaceOf[found]) several = true;
    }
    return several ? -1 : found;
  }

  /** `id` holds `now` instead of `before` (its addresses as announced, hashed). */
  #setHolder(id: number, before: readonly number[] | undefined, now: readonly number[]): void {
    for (const addr of before ?? []) {
      const list = this.#holders.get(addr);
      const at = list?.indexOf(id) ?? -1;
      if (list !== undefined && at >= 0) list.splice(at, 1);
      if (list?.length === 0) this.#holders.delete(addr);
    }
    for (const addr of now) {
      const list = this.#holders.get(addr);
      if (list === undefined) this.#holders.set(addr, [id]);
      else if (!list.includes(id)) list.push(id);
    }
  }

  #namespace(key: string): number {
    let n = this.#namespaceIndex.get(key);
    if (n === undefined) {
      n = this.#namespaceIndex.size;
      this.#namespaceIndex.set(key, n);
    }
    return n;
  }

  /** The clock's estimate for `host` changed: packets are put on the reference clock with it from now on. */
  offsetChanged(host: number): void {
    this.#offsetOf[host] = this.clock.offsetNs(host);
    this.#uncertaintyOf[host] = this.clock.uncertaintyNs(host);
  }

  /** ns the clock of interface `iface`'s host is ahead of the reference clock (0 with one host). */
  clockOffsetNs(iface: number): number {
    return this.hosts.length < 2 ? 0 : this.clock.offsetNs(this.hostOf[iface] ?? 0);
  }

  /** Whether interface `id` is on a remote host (captured through ssh). */
  remote(id: number): boolean {
    return (this.hosts[this.hostOf[id] ?? 0] ?? null) !== null;
  }

  /**
   * Where interface `id`'s capture stopped on the reference clock, without a time told
   * for all: where it stopped (CaptureEvents.stopped), else at its host's last packet;
   * -Infinity when neither is known.
   */
  stopRel(id: number): number {
    const host = this.hostOf[id] ?? 0;
    const own = Math.max(
      this.stoppedRel[id] ?? Number.NEGATIVE_INFINITY,
      this.hostLastRel[host] ?? Number.NEGATIVE_INFINITY,
    );
    if (own === Number.NEGATIVE_INFINITY) return own;
    return own - this.clock.offsetNs(host);
  }
}
