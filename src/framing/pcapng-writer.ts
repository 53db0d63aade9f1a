// pcapng writer for `-w FILE.pcapng` recordings, readable by tshark and
// Wireshark. Layout per draft-ietf-opsawg-pcapng, always little-endian:
//
//   SHB  shb_userappl "hopscope"
//   IDB  one per interface, written when the interface is added (so before any of its
//        packets): linktype, snaplen, if_name = the label ([HOST:][NETNS/]NAME),
//        if_description, one if_IPv4addr / if_IPv6addr per address of the interface
//        (its first MAX_INTERFACE_ADDRESSES, what a reader takes), if_tsresol = the
//        source's own resolution: 9 (nanoseconds), 6 for a source that stamps in
//        microseconds (a tcpdump without nanosecond support), so a replay knows what
//        the stamps can tell apart
//   EPB  one per packet: 64-bit timestamp in its interface's units, epb_flags
//        direction when known
//   ISB  at close (or writeStats): isb_starttime/isb_endtime (when the interface was
//        added / the statistics taken, in its units), isb_ifrecv, isb_ifdrop
//
// Blocks are assembled in one buffer (256 KiB by default) and handed to the sink when
// it fills, on flush() (a recorder flushes every second, so a crash loses at most that)
// and on close(). A packet larger than the buffer goes out in pieces, not copied. Every
// hand-over but those pieces ends on a block boundary, and the sink is told so
// (blockEnd) after each, and after the last piece.
//
// Statistics: isb_ifdrop carries InterfaceStats.dropped, the kernel's count of packets
// the capture lost (dumpcap puts pcap_stats' ps_drop there too, and Wireshark shows it
// as "dropped"); ifDropped has no block field of its own and is not written.

import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import type { FramedPacket, InterfaceStats } from '../events/types.js';
import { copyBytes, pad4, writeU16LE, writeU32LE } from './bytes.js';
import { addressOption, macOption, OPT_IF_MACADDR } from './interface-address.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_ISB, BLOCK_SHB, BYTE_ORDER_MAGIC } from './pcapng-blocks.js';
import { timestampToUnits, type Units64 } from './timestamp.js';
import { MAX_INTERFACE_ADDRESSES } from './types.js';

/** Where a writer's bytes go. Synchronous: the recorder's own pace is the backpressure. */
export interface ByteSink {
  /** writes `bytes`, which the caller may reuse once this returns */
  write(bytes: Uint8Array): void;
  /**
   * Optional: writes the first `length` bytes of `buffer` and keeps `buffer` until they
   * are written, returning another of the same length (4-byte aligned) for the writer to
   * fill meanwhile — a flush without a copy.
   */
  writeOwned?(buffer: Uint8Array, length: number): Uint8Array;
  /**
   * Optional: everything written so far ends on a block boundary, with `packets` EPBs
   * before it — where a recording cut short (a full disk) can be cut back to.
   */
  blockEnd?(packets: number): void;
  close(): void;
}

/** What the writer needs of an interface (InterfaceDescriptor fits). */
export interface WriterInterface {
  /** the caller's id, as packets carry it in FramedPacket.interfaceId */
  id: number;
  /** written as if_name */
  label: string;
  description?: string;
  linktype: number;
  snaplen: number;
  /**
   * ns its source's time stamps are multiples of (InterfaceDescriptor.tsResolutionNs):
   * a power of ten up to 1e9 is the unit its time stamps are written in (1000 →
   * if_tsresol 6); anything else, or none, nanoseconds. Finer digits are cut.
   */
  tsResolutionNs?: number;
  /**
   * its own addresses (InterfaceDescriptor.addresses: `10.0.0.1/24`, `fe80::1/64`),
   * written as if_IPv4addr / if_IPv6addr; text that is no address is left out
   */
  addresses?: readonly string[];
  /** its MAC address (InterfaceDescriptor.mac), written as if_MACaddr */
  mac?: string | null;
  /** opt_comment values (a capture of every device names its devices so: device-split.ts) */
  comments?: readonly string[];
}

export interface PcapngWriterOptions {
  /** bytes buffered before the sink is written (default 256 KiB) */
  bufferSize?: number;
  /** shb_userappl (default "hopscope") */
  userAppl?: string;
  /** SHB opt_comment (several: one option each) */
  comment?: string | readonly string[];
  /** wall clock for isb_starttime/isb_endtime (tests pin it) */
  now?: () => { sec: number; nsec: number };
}

export const DEFAULT_WRITER_BUFFER_BYTES = 256 * 1024;

/** Opens (creating or truncating) `path` with mode 0600: captures hold other people's traffic. */
export function fileSink(path: string): ByteSink {
  const fd = openSync(path, 'w', 0o600);
  // The mode given to open applies only to a new file, and is cut by the umask anyway.
  fchmodSync(fd, 0o600);
  return {
    write(bytes: Uint8Array): void {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    },
    close(): void {
      closeSync(fd);
    },
  };
}

interface WriterInterfaceState {
  index: number;
  startSec: number;
  startNsec: number;
  /** ns per unit of its time stamps (1: if_tsresol 9, 1000: 6), and units per second */
  unitNs: number;
  unitsPerSec: number;
  /**
   * Not in ns only: the second last converted to its units, and those units as two
   * 32-bit halves (ns interfaces share the writer's own).
   */
  unitsSec: number;
  secHi: number;
  secLo: number;
}

const encoder = new TextEncoder();
const EPB_FIXED = 28;
const TWO_32 = 4294967296;
const NS_PER_SEC = 1_000_000_000;
/**
 * Whether this machine stores a word's low byte first: then an EPB's fields and a
 * packet's bytes go into the (little-endian) section four bytes at a time.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class PcapngWriter {
  private buf: Uint8Array;
  private used = 0;
  private readonly sink: ByteSink;
  private readonly now: () => { sec: number; nsec: number };
  /** caller's interface id → pcapng interface index (dense array: ids are small) */
  private readonly interfaces: Array<WriterInterfaceState | undefined> = [];
  private interfaceCount = 0;
  private readonly units: Units64 = { hi: 0, lo: 0 };
  /** `buf` as 32-bit words (blocks start on 4-byte boundaries) */
  private words: Int32Array;
  /** the packets' buffer last seen, and its words (null when it does not start on a 4-byte boundary) */
  private srcOf: Uint8Array | null = null;
  private srcWords: Int32Array | null = null;
  /**
   * The second last converted to nanosecond units, and its units as two 32-bit halves:
   * kept here, not per interface, as every nanosecond interface shares them (and the
   * writer's own fields are what the per-packet path reads fastest: measured).
   */
  private unitsSec = -1;
  private secHi = 0;
  private secLo = 0;
  private closed = false;
  private written = 0;
  private packets = 0;

  /** Writer onto `path`, created with mode 0600. */
  static toFile(path: string, options: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(fileSink(path), options);
  }

  constructor(sink: ByteSink, options: PcapngWriterOptions = {}) {
    this.sink = sink;
    this.buf = new Uint8Array(Math.max(4096, options.bufferSize ?? DEFAULT_WRITER_BUFFER_BYTES) & ~3);
    this.words = new Int32Array(this.buf.buffer);
    this.now =
      options.now ??
      (() => {
        const ms = Date.now();
        return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
      });
    const options4 = [
      ...[options.comment ?? []].flat().map((c) => option(1, encoder.encode(c))),
      option(4, encoder.encode(options.userAppl ?? 'hopscope')),
    ];
    const body = new Uint8Array(16);
    writeU32LE(body, 0, BYTE_ORDER_MAGIC);
    writeU16LE(body, 4, 1); // major
    writeU16LE(body, 6, 0); // minor
    writeU32LE(body, 8, 0xffffffff); // section length: unknown (-1), we stream
    writeU32LE(body, 12, 0xffffffff);
    this.block(BLOCK_SHB, body, options4);
  }

  /** Bytes the writer gathers between flushes (the length of its buffer). */
  get bufferSize(): number {
    return this.buf.length;
  }

  /** Bytes handed to the sink or buffered so far (for size-based rotation). */
  get bytesWritten(): number {
    return this.written + this.used;
  }

  get packetCount(): number {
    return this.packets;
  }

  /** Writes the interface's IDB; returns its pcapng interface index. Adding an id twice is a no-op. */
  addInterface(iface: WriterInterface): number {
    this.checkOpen();
    const known = this.interfaces[iface.id];
    if (known !== undefined) return known.index;
    const body = new Uint8Array(8);
    writeU16LE(body, 0, iface.linktype);
    writeU32LE(body, 4, iface.snaplen);
    const opts = [option(2, encoder.encode(iface.label))];
    if (iface.description !== undefined) opts.push(option(3, encoder.encode(iface.description)));
    for (const comment of iface.comments ?? []) opts.push(option(1, encoder.encode(comment)));
    let addresses = 0;
    for (const text of iface.addresses ?? []) {
      const address = addressOption(text);
      if (address === null) continue;
      if (addresses++ === MAX_INTERFACE_ADDRESSES) break;
      opts.push(option(address.code, address.value));
    }
    const mac = iface.mac != null ? macOption(iface.mac) : null;
    if (mac !== null) opts.push(option(OPT_IF_MACADDR, mac));
    const exponent = decimalExponent(iface.tsResolutionNs ?? 1);
    opts.push(option(9, Uint8Array.of(exponent)));
    this.block(BLOCK_IDB, body, opts);
    const { sec, nsec } = this.now();
    const state: WriterInterfaceState = {
      index: this.interfaceCount++,
      startSec: sec,
      startNsec: nsec,
      unitNs: POWERS_OF_TEN[9 - exponent],
      unitsPerSec: POWERS_OF_TEN[exponent],
      unitsSec: -1,
      secHi: 0,
      secLo: 0,
    };
    this.interfaces[iface.id] = state;
    return state.index;
  }

  /** One EPB. `p.interfaceId` must have been added; bytes are copied before returning. */
  writePacket(p: FramedPacket): void {
    this.checkOpen();
    const iface = this.interfaces[p.interfaceId];
    if (iface === undefined)
      throw new Error(`pcapng writer: packet on interface ${p.interfaceId}, which was not added`);
    // The interface's units: the packets of one second share its conversion (a live
    // capture writes a million a second); within it only the fraction is added.
    const nsec = p.tsNsec;
    let hi: number;
    let lo: number;
    if (iface.unitNs === 1) {
      if (p.tsSec !== this.unitsSec) {
        if (!timestampToUnits(p.tsSec, 0, NS_PER_SEC, this.units)) {
          throw new Error(`pcapng writer: timestamp ${p.tsSec}.${nsec} cannot be written`);
        }
        this.unitsSec = p.tsSec;
        this.secHi = this.units.hi;
        this.secLo = this.units.lo;
      }
      hi = this.secHi;
      lo = this.secLo + nsec;
    } else {
      // (out of line: the nanosecond path above stays as small as it was)
      this.coarseUnits(iface, p.tsSec, nsec);
      hi = this.units.hi;
      lo = this.units.lo;
    }
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi++;
    }
    if (!(nsec >= 0 && nsec < NS_PER_SEC) || hi >= TWO_32) {
      throw new Error(`pcapng writer: timestamp ${p.tsSec}.${nsec} cannot be written`);
    }
    const caplen = p.caplen;
    const padded = pad4(caplen);
    const flags = p.direction === 1 || p.direction === 2;
    // type, length, 5 fixed fields | data, padded | [epb_flags 8 + opt_endofopt 4] | length
    const total = EPB_FIXED + padded + (flags ? 12 : 0) + 4;
    if (total > this.buf.length - this.used) this.flush();
    if (total <= this.buf.length) {
      const b = this.buf;
      let o = this.used;
      if (LITTLE_ENDIAN) {
        // (o is on a 4-byte boundary: every block's length is a multiple of 4)
        const w = this.words;
        const i = o >>> 2;
        w[i] = BLOCK_EPB;
        w[i + 1] = total;
        w[i + 2] = iface.index;
        w[i + 3] = hi;
        w[i + 4] = lo;
        w[i + 5] = caplen;
        w[i + 6] = p.len;
        o += EPB_FIXED;
        this.copyPacket(p.data, p.offset, caplen, o);
      } else {
        writeEpbHead(b, o, total, iface.index, hi, lo, caplen, p.len);
        o += EPB_FIXED;
        copyBytes(b, o, p.data, p.offset, caplen);
      }
      for (let k = o + caplen; k < o + padded; k++) b[k] = 0;
      o += padded;
      o = writeEpbTail(b, o, flags ? p.direction : 0, total);
      this.used = o;
    } else {
      // Larger than the whole buffer: header, the packet's own bytes, then the rest.
      const head = new Uint8Array(EPB_FIXED);
      writeEpbHead(head, 0, total, iface.index, hi, lo, caplen, p.len);
      this.emit(head);
      this.emit(p.data.subarray(p.offset, p.offset + caplen));
      const rest = new Uint8Array(padded - caplen + (flags ? 12 : 0) + 4);
      writeEpbTail(rest, padded - caplen, flags ? p.direction : 0, total);
      this.emit(rest);
      this.packets++;
      this.sink.blockEnd?.(this.packets);
      return;
    }
    this.packets++;
  }

  /**
   * EPBs assembled elsewhere (a live capture's batch, converted natively: native/epb.h)
   * go straight into the buffer: reserve(min) flushes unless `min` more bytes fit and
   * returns where in `buffer` to write; commit() says how many bytes of whole EPBs, and
   * how many packets, were written there.
   */
  reserve(min: number): number {
    this.checkOpen();
    if (min > this.buf.length - this.used) this.flush();
    return this.used;
  }

  /** The buffer reserve() points into (another one after a flush). */
  get buffer(): Uint8Array {
    return this.buf;
  }

  commit(bytes: number, packets: number): void {
    this.used += bytes;
    this.packets += packets;
  }

  /** The pcapng index of an added interface (-1: not added) and ns per unit of its time stamps. */
  interfaceIndex(id: number): number {
    return this.interfaces[id]?.index ?? -1;
  }

  interfaceUnitNs(id: number): number {
    return this.interfaces[id]?.unitNs ?? 1;
  }

  /**
   * One EPB with an opt_comment per comment (`replay --annotate`: a packet of a non-ok
   * exchange). Not the hot path: the block is assembled on its own, then copied.
   */
  writeCommentedPacket(p: FramedPacket, comments: readonly string[]): void {
    this.checkOpen();
    const iface = this.interfaces[p.interfaceId];
    if (iface === undefined)
      throw new Error(`pcapng writer: packet on interface ${p.interfaceId}, which was not added`);
    const when: Units64 = { hi: 0, lo: 0 };
    if (!timestampToUnits(p.tsSec, Math.floor(p.tsNsec / iface.unitNs), iface.unitsPerSec, when))
      throw new Error(`pcapng writer: timestamp ${p.tsSec}.${p.tsNsec} cannot be written`);
    const body = new Uint8Array(20 + pad4(p.caplen));
    writeU32LE(body, 0, iface.index);
    writeU32LE(body, 4, when.hi);
    writeU32LE(body, 8, when.lo);
    writeU32LE(body, 12, p.caplen);
    writeU32LE(body, 16, p.len);
    body.set(p.data.subarray(p.offset, p.offset + p.caplen), 20);
    const opts = comments.map((c) => option(1, encoder.encode(c)));
    if (p.direction === 1 || p.direction === 2) {
      const flags = new Uint8Array(4);
      writeU32LE(flags, 0, p.direction);
      opts.push(option(2, flags));
    }
    this.packets++;
    this.block(BLOCK_EPB, body, opts);
  }

  /**
   * A time stamp in the units of an interface coarser than ns, into `units` (the low half
   * may reach 2^32: writePacket carries it). A µs source's stamps are whole µs: nothing
   * is cut.
   */
  private coarseUnits(iface: WriterInterfaceState, sec: number, nsec: number): void {
    if (sec !== iface.unitsSec) {
      if (!timestampToUnits(sec, 0, iface.unitsPerSec, this.units)) {
        throw new Error(`pcapng writer: timestamp ${sec}.${nsec} cannot be written`);
      }
      iface.unitsSec = sec;
      iface.secHi = this.units.hi;
      iface.secLo = this.units.lo;
    }
    this.units.hi = iface.secHi;
    this.units.lo = iface.secLo + Math.floor(nsec / iface.unitNs);
  }

  /**
   * Copies a packet's bytes into `buf` at `at` (on a 4-byte boundary): four at a time
   * when the packet starts on one too (a capture batch's packets do), then the rest.
   */
  private copyPacket(src: Uint8Array, from: number, len: number, at: number): void {
    if (src !== this.srcOf) {
      this.srcOf = src;
      this.srcWords =
        (src.byteOffset & 3) === 0 ? new Int32Array(src.buffer, src.byteOffset, src.byteLength >>> 2) : null;
    }
    const sw = this.srcWords;
    let k = 0;
    if (sw !== null && (from & 3) === 0) {
      const w = this.words;
      const n = len >>> 2;
      const s0 = from >>> 2;
      const d0 = at >>> 2;
      for (let j = 0; j < n; j++) w[d0 + j] = sw[s0 + j];
      k = n << 2;
    }
    const b = this.buf;
    for (; k < len; k++) b[at + k] = src[from + k];
  }

  /** An ISB for the interface (also what close() writes for each final statistics). */
  writeStats(stats: InterfaceStats, comment?: string): void {
    this.checkOpen();
    const iface = this.interfaces[stats.interfaceId];
    if (iface === undefined)
      throw new Error(`pcapng writer: statistics for interface ${stats.interfaceId}, which was not added`);
    const { sec, nsec } = this.now();
    const when: Units64 = { hi: 0, lo: 0 };
    timestampToUnits(sec, Math.floor(nsec / iface.unitNs), iface.unitsPerSec, when);
    const start: Units64 = { hi: 0, lo: 0 };
    timestampToUnits(iface.startSec, Math.floor(iface.startNsec / iface.unitNs), iface.unitsPerSec, start);
    const body = new Uint8Array(12);
    writeU32LE(body, 0, iface.index);
    writeU32LE(body, 4, when.hi);
    writeU32LE(body, 8, when.lo);
    this.block(BLOCK_ISB, body, [
      ...(comment !== undefined ? [option(1, encoder.encode(comment))] : []),
      // Time stamps as in an EPB: the high 32 bits first, then the low (spec §4.6).
      option(2, timestampOption(start.hi, start.lo)),
      option(3, timestampOption(when.hi, when.lo)),
      option(4, u64(Math.floor(stats.received / 4294967296), stats.received >>> 0)),
      option(5, u64(Math.floor(stats.dropped / 4294967296), stats.dropped >>> 0)),
    ]);
  }

  /** Hands buffered blocks to the sink. */
  flush(): void {
    if (this.used === 0) return;
    if (this.sink.writeOwned !== undefined) {
      const next = this.sink.writeOwned(this.buf, this.used);
      this.written += this.used;
      if (next !== this.buf) {
        this.buf = next;
        this.words = new Int32Array(next.buffer, next.byteOffset, next.length >>> 2);
      }
    } else this.emit(this.buf.subarray(0, this.used));
    this.used = 0;
    this.sink.blockEnd?.(this.packets);
  }

  /** Writes an ISB per given statistics, flushes, closes the sink. Idempotent. */
  close(stats: readonly InterfaceStats[] = []): void {
    if (this.closed) return;
    for (const s of stats) this.writeStats(s);
    this.flush();
    this.closed = true;
    this.sink.close();
  }

  private emit(bytes: Uint8Array): void {
    this.sink.write(bytes);
    this.written += bytes.length;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('pcapng writer is closed');
  }

  /** A non-packet block: fixed body, then options and opt_endofopt. Not on the hot path. */
  private block(type: number, body: Uint8Array, options: Uint8Array[]): void {
    const optBytes = options.reduce((n, o) => n + o.length, 0) + (options.length > 0 ? 4 : 0);
    const total = 8 + body.length + optBytes + 4;
    const b = new Uint8Array(total);
    writeU32LE(b, 0, type);
    writeU32LE(b, 4, total);
    b.set(body, 8);
    let o = 8 + body.length;
    for (const opt of options) {
      b.set(opt, o);
      o += opt.length;
    }
    if (options.length > 0) o += 4; // opt_endofopt: code 0, length 0
    writeU32LE(b, o, total);
    if (total > this.buf.length - this.used) this.flush();
    if (total <= this.buf.length) {
      this.buf.set(b, this.used);
      this.used += total;
    } else {
      this.emit(b);
      this.sink.blockEnd?.(this.packets);
    }
  }
}

/**
 * An EPB's type, length and five fixed fields, byte by byte (writePacket stores them as
 * words where it can: on a little-endian machine, into its own buffer).
 */
function writeEpbHead(
  b: Uint8Array,
  o: number,
  total: number,
  ifIndex: number,
  hi: number,
  lo: number,
  caplen: number,
  len: number,
): void {
  writeU32LE(b, o, BLOCK_EPB);
  writeU32LE(b, o + 4, total);
  writeU32LE(b, o + 8, ifIndex);
  writeU32LE(b, o + 12, hi);
  writeU32LE(b, o + 16, lo);
  writeU32LE(b, o + 20, caplen);
  writeU32LE(b, o + 24, len);
}

/** epb_flags (if direction), opt_endofopt, trailing length; returns the offset after them. */
function writeEpbTail(b: Uint8Array, o: number, direction: number, total: number): number {
  if (direction !== 0) {
    writeU16LE(b, o, 2); // epb_flags
    writeU16LE(b, o + 2, 4);
    writeU32LE(b, o + 4, direction); // bits 0-1: 1 inbound, 2 outbound
    writeU32LE(b, o + 8, 0); // opt_endofopt
    o += 12;
  }
  writeU32LE(b, o, total);
  return o + 4;
}

/**
 * if_tsresol of a source whose stamps are multiples of `resolutionNs`: 9 - k for 10^k ns
 * (1 → 9, 1000 → 6), else 9 (nanoseconds hold any stamp exactly).
 */
function decimalExponent(resolutionNs: number): number {
  const k = POWERS_OF_TEN.indexOf(resolutionNs);
  return k < 0 ? 9 : 9 - k;
}

/**
 * 10^0 .. 10^9 as small-integer literals: a field set from `10 ** n` (a double) is
 * stored as one, and writePacket reading it was 2-3 ns a packet slower (measured).
 */
const POWERS_OF_TEN = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** One option: code, length, value padded to 32 bits. */
function option(code: number, value: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + pad4(value.length));
  writeU16LE(b, 0, code);
  writeU16LE(b, 2, value.length);
  b.set(value, 4);
  return b;
}

/** A 64-bit little-endian value from its halves. */
function timestampOption(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  writeU32LE(b, 0, hi);
  writeU32LE(b, 4, lo);
  return b;
}

function u64(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  writeU32LE(b, 0, lo);
  writeU32LE(b, 4, hi);
  return b;
}
