// One live capture on one interface, possibly in another network namespace
// (docs/architecture.md "Stages"), over the native addon. Packets arrive in batches; a
// PacketBatchView walks a batch with one reused FramedPacket, so reading a
// packet allocates nothing.
//
// Buffer ownership (docs/architecture.md "Buffers"): a batch, its FramedPacket and its `data` bytes
// are valid only during the onBatch callback (or until the next read()); the
// addon reuses the buffer for the next batch. Copy what you keep.

import type { CaptureDevice, FramedPacket, InterfaceStats } from '../events/types.js';
import { reusedFramedPacket } from '../framing/reused-packet.js';
import {
  RECORD_HEADER_BYTES,
  RECORD_WORD,
  loadNativeAddon,
  type CaptureError,
  type NativeCaptureHandle,
  type NativeInterfaceInfo,
} from './native-addon.js';

export interface LiveCaptureOptions {
  iface: string;
  /** `/var/run/netns/<name>` or `/proc/<pid>/ns/net` (see netnsPathOf); absent: this process's namespace. */
  netnsPath?: string;
  /** tcpdump filter syntax, run in the kernel */
  filter?: string;
  /** default 262144 */
  snaplen?: number;
  /** kernel ring in bytes, default 4 MiB */
  bufferSize?: number;
  /** default true, like tcpdump */
  promisc?: boolean;
  /** default true; false trades up to 50 ms of latency for a dense ring that survives bursts (NativeOpenOptions) */
  immediate?: boolean;
  /** FramedPacket.interfaceId / InterfaceStats.interfaceId for this capture, default 0 */
  interfaceId?: number;
  /** batch buffer in bytes, default 1 MiB */
  batchBytes?: number;
}

export interface StartOptions {
  /** most packets per onBatch call, default 4096 */
  maxPacketsPerBatch?: number;
}

const TWO_POW_32 = 4294967296;
const EMPTY = new ArrayBuffer(0);

/**
 * A view of one batch. The same object (and the same FramedPacket inside it)
 * is reused for every batch of its capture.
 */
export class PacketBatchView {
  /** packets in this batch */
  count = 0;
  /** bytes of the batch buffer in use */
  byteLength = 0;
  /**
   * The batch ended full: the ring may hold more. When the last batch handed over
   * says so, packets stamped after its last may still wait unread in the ring.
   */
  more = false;
  /** with `more`: the time stamp of the batch's last packet (else -1) */
  lastTsSec = -1;
  lastTsNsec = 0;
  #buffer: ArrayBuffer | null = null;
  #bytes: Uint8Array = new Uint8Array(0);
  #words: Uint32Array = new Uint32Array(0);
  readonly #packet: FramedPacket;

  constructor(interfaceId: number) {
    // (libpcap's header does not say which way a packet went on EN10MB)
    this.#packet = reusedFramedPacket(interfaceId, this.#bytes);
  }

  /** @internal the capture points the view at a new batch */
  reset(buffer: ArrayBuffer, count: number, byteLength: number, more = false): void {
    this.more = more;
    if (buffer !== this.#buffer) {
      // Views are only rebuilt when the addon hands over a different buffer
      // (first batch, or after a transfer), not per batch.
      this.#buffer = buffer;
      this.#bytes = new Uint8Array(buffer);
      this.#words = new Uint32Array(buffer);
      this.#packet.data = this.#bytes;
    }
    this.count = count;
    this.byteLength = byteLength;
    this.lastTsSec = -1;
    if (more) this.#findLast();
  }

  /** The last packet's time stamp (headers only; a batch that ends full, rare under light load). */
  #findLast(): void {
    const words = this.#words;
    let offset = 0;
    for (let i = 0; i < this.count; i++) {
      const w = offset >>> 2;
      const caplen = words[w + RECORD_WORD.CAPLEN];
      const next = offset + RECORD_HEADER_BYTES + ((caplen + 7) & ~7);
      if (i === this.count - 1 || next + RECORD_HEADER_BYTES > this.byteLength) {
        this.lastTsSec = words[w + RECORD_WORD.TS_SEC_LO] + words[w + RECORD_WORD.TS_SEC_HI] * TWO_POW_32;
        this.lastTsNsec = words[w + RECORD_WORD.TS_NSEC];
        return;
      }
      offset = next;
    }
  }

  /** The batch's ArrayBuffer (the addon's layout, see native-addon.ts). */
  get buffer(): ArrayBuffer {
    return this.#buffer ?? EMPTY;
  }

  /** The whole batch buffer; packets are at the offsets forEach reports. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Calls `visit` once per packet with the same, refilled FramedPacket. */
  forEach(visit: (packet: FramedPacket, index: number) => void): void {
    const words = this.#words;
    const packet = this.#packet;
    const end = this.byteLength;
    let offset = 0;
    for (let i = 0; i < this.count; i++) {
      const w = offset >>> 2;
      const caplen = words[w + RECORD_WORD.CAPLEN];
      const dataOffset = offset + RECORD_HEADER_BYTES;
      // The addon never writes past byteLength; stop rather than read garbage if that ever broke.
      if (dataOffset + caplen > end) break;
      packet.tsSec = words[w + RECORD_WORD.TS_SEC_LO] + words[w + RECORD_WORD.TS_SEC_HI] * TWO_POW_32;
      packet.tsNsec = words[w + RECORD_WORD.TS_NSEC];
      packet.caplen = caplen;
      packet.len = words[w + RECORD_WORD.LEN];
      packet.offset = dataOffset;
      visit(packet, i);
      offset = dataOffset + ((caplen + 7) & ~7);
    }
  }
}

export class LiveCapture {
  readonly iface: string;
  readonly netnsPath: string | null;
  readonly interfaceId: number;
  /** LINKTYPE_* of the interface (1 = EN10MB) */
  readonly linktype: number;
  readonly snaplen: number;
  readonly tsPrecision: 'nano' | 'micro';
  /** pcap_activate's warning, or null */
  readonly warning: string | null;
  /** inode of the namespace the capture lives in (NativeCaptureHandle.netnsInode); null: this process's */
  readonly netnsInode: number | null;
  readonly #handle: NativeCaptureHandle;
  readonly #view: PacketBatchView;
  #finalStats: InterfaceStats | null = null;

  private constructor(handle: NativeCaptureHandle, options: LiveCaptureOptions) {
    this.#handle = handle;
    this.iface = options.iface;
    this.netnsPath = options.netnsPath ?? null;
    this.interfaceId = options.interfaceId ?? 0;
    this.linktype = handle.linktype;
    this.snaplen = handle.snaplen;
    this.tsPrecision = handle.tsPrecision;
    this.warning = handle.warning;
    // `?? null`: an addon built before it had netnsInode (undefined) knows none
    this.netnsInode = handle.netnsInode ?? null;
    this.#view = new PacketBatchView(this.interfaceId);
  }

  /** Opens and activates the capture (filter installed); throws a CaptureError naming interface and namespace. */
  static open(options: LiveCaptureOptions): LiveCapture {
    const handle = loadNativeAddon().open({
      iface: options.iface,
      netnsPath: options.netnsPath ?? null,
      filter: options.filter,
      snaplen: options.snaplen,
      bufferSize: options.bufferSize,
      promisc: options.promisc,
      immediate: options.immediate,
      batchBytes: options.batchBytes,
    });
    return new LiveCapture(handle, options);
  }

  /** pcap's selectable fd, for callers that poll themselves and call read(); -1 once closed. */
  get fd(): number {
    return this.#handle.fd;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /**
   * Device `ifindex` as the capture's namespace has it now (a capture of every device
   * names its packets' devices by ifindex only), or null: gone, closed, or an addon
   * built before it could ask. Asks the kernel: once per device, not per packet.
   */
  deviceAt(ifindex: number): CaptureDevice | null {
    const addon = loadNativeAddon();
    const found = addon.deviceAt?.(this.#handle.fd, ifindex) ?? null;
    return found === null ? null : { ifindex, name: found.name, addresses: interfaceAddresses(found) };
  }

  get started(): boolean {
    return this.#handle.started;
  }

  /**
   * Event-driven capture: `onBatch` runs on the event loop once per batch of
   * packets; `onError` runs once if the capture fails — `err.code` is
   * ERR_IFACE_GONE when the interface disappeared — and the capture is then
   * stopped (still open: stats() works, close() it). An exception thrown by
   * either callback is an uncaught exception, as for any event callback.
   */
  start(
    onBatch: (batch: PacketBatchView) => void,
    onError: (err: CaptureError) => void,
    options: StartOptions = {},
  ): void {
    const view = this.#view;
    this.#handle.start(
      (buffer, count, byteLength, more) => {
        view.reset(buffer, count, byteLength, more);
        onBatch(view);
      },
      onError,
      options.maxPacketsPerBatch,
    );
  }

  stop(): void {
    this.#handle.stop();
  }

  /** Reads what is waiting now, up to maxPackets, without blocking (for callers polling `fd`). */
  read(maxPackets?: number): PacketBatchView {
    const batch = this.#handle.read(maxPackets);
    this.#view.reset(batch.buffer, batch.count, batch.byteLength);
    return this.#view;
  }

  setFilter(expression: string): void {
    this.#handle.setFilter(expression);
  }

  /** Kernel counters (pcap_stats); after close(), the counters taken at close, with final: true. */
  stats(): InterfaceStats {
    if (this.#finalStats !== null) return this.#finalStats;
    return this.#stats(false);
  }

  /** Stops and closes; idempotent. */
  close(): void {
    if (this.#handle.closed) return;
    try {
      this.#finalStats = this.#stats(true);
    } catch {
      // Counters unavailable (socket already broken): stats() will say the capture is closed.
      this.#finalStats = null;
    }
    this.#handle.close();
  }

  #stats(final: boolean): InterfaceStats {
    const s = this.#handle.stats();
    const stats: InterfaceStats = {
      interfaceId: this.interfaceId,
      received: s.received,
      dropped: s.dropped,
      final,
    };
    if (s.ifDropped !== null) stats.ifDropped = s.ifDropped;
    return stats;
  }
}

/**
 * The path the addon enters for a namespace as a SPEC names it (docs/spec-grammar.md): a named
 * namespace (`qrouter-…`) → `/var/run/netns/<name>` (where `ip netns` keeps
 * them), `pid:1234` → `/proc/1234/ns/net`.
 */
export function netnsPathOf(netns: string): string {
  const pid = /^pid:(\d+)$/.exec(netns);
  if (pid !== null) return `/proc/${pid[1]}/ns/net`;
  if (netns === '' || netns.includes('/') || netns === '.' || netns === '..') {
    throw new Error(`not a network namespace name: '${netns}'`);
  }
  return `/var/run/netns/${netns}`;
}

/** Interfaces libpcap can capture on in a namespace (absent: this process's). */
export function listInterfaces(netnsPath?: string): NativeInterfaceInfo[] {
  return loadNativeAddon().listInterfaces(netnsPath ?? null);
}

/** listInterfaces on libuv's thread pool: what a running capture polls with. */
export function listInterfacesAsync(netnsPath?: string): Promise<NativeInterfaceInfo[]> {
  return loadNativeAddon().listInterfacesAsync(netnsPath ?? null);
}

/** An interface's own addresses as `ip -j addr` writes them (`10.0.0.1/24`, `fe80::1/64`). */
export function interfaceAddresses(info: Pick<NativeInterfaceInfo, 'addresses'>): string[] {
  return info.addresses.map((a) => (a.prefixLength !== null ? `${a.address}/${a.prefixLength}` : a.address));
}
