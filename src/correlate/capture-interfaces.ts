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
    this.addressesOf[iface.id] = hashes.length > 0 ? hashes : undefined;
    // (announced again without it, as a listing without MACs may: the one known stays)
    const mac = iface.mac != null ? hashMacText(iface.mac) : 0;
    if (mac !== 0 || this.macOf[iface.id] === undefined) this.macOf[iface.id] = mac;
    this.resolutionOf[iface.id] = Math.max(1, iface.tsResolutionNs ?? 1);
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
   * for all: where it stopped (interfaceStopped), else at its host's last packet;
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
