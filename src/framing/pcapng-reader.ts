// pcapng: draft-ietf-opsawg-pcapng ("PCAP Next Generation (pcapng) Capture File Format").
//
//  Every block:                          Section Header Block (type 0x0A0D0D0A):
//     0 +---------------------------+       8  byte-order magic 0x1A2B3C4D, in the
//       | block type                |          section's order (4D3C2B1A read = LE)
//     4 +---------------------------+      12  major (1) | minor (0; 1.2 also read)
//       | block total length        |      16  section length, 64 bits (-1 unknown)
//     8 +---------------------------+      24  options: shb_hardware 2, shb_os 3,
//       | body (padded to 32 bits)  |          shb_userappl 4
//       |   ... options ...         |
//       +---------------------------+    Interface Description Block (1):
//       | block total length        |       8  linktype(16) | reserved(16)
//       +---------------------------+      12  snaplen
//  length: multiple of 4, >= 12;           16  options: if_name 2, if_description 3,
//  options: code(16) length(16) value         if_IPv4addr 4, if_IPv6addr 5 (repeated,
//  padded to 32 bits, ended by code 0.        interface-address.ts), if_tsresol 9,
//                                             if_fcslen 13, if_tsoffset 14
//  opt_comment (1) is valid in every      Enhanced Packet Block (6):
//  block.                                   8  interface id     12 timestamp high
//                                          16  timestamp low    20 captured length
//  Simple Packet Block (3):                24  original length  28 data, padded
//     8  original length                       then options: epb_flags 2 (bits 0-1
//    12  data: min(original, snaplen)          direction: 1 inbound, 2 outbound)
//        bytes of interface 0, no time
//                                         Packet Block (2, obsolete): as EPB but
//  Interface Statistics Block (5):          8 interface id(16) | drops count(16)
//     8  interface id  12/16 timestamp
//    20  options: isb_starttime 2, isb_endtime 3, isb_ifrecv 4, isb_ifdrop 5,
//        isb_filteraccept 6, isb_osdrop 7, isb_usrdeliv 8
//
// Byte order is per section, so is interface numbering: ids restart at every SHB.
// Timestamps are 64-bit counts of if_tsresol units (default 10^-6) since 1970, plus
// if_tsoffset seconds. Name Resolution, Decryption Secrets, custom (0x00000BAD,
// 0x40000BAD) and unknown blocks are skipped whole.
//
// Strictness: a damaged block frame (length, trailer) or SHB/IDB option is an error,
// as in libpcap and tshark, because nothing after it can be trusted. Odd options in a
// packet or statistics block only cost that option (a warning, once per kind with a
// count at the end: a file can repeat one a million times): the packet is sound.
//
// Limits (types.ts, budget.ts), each an error at the offset of the block or option that
// passes it, so that memory stays bounded whatever the file: MAX_SECTION_INTERFACES
// (65,536) interfaces per section, MAX_INTERFACES (65,536) over all sections (and all
// files merged), MAX_KEPT_TEXT_BYTES (4 MiB) of IDB and ISB names, descriptions and
// comments. Nothing else is kept per block: NRB, DSB, custom and unknown blocks are
// skipped, packets and SHBs are handed on and forgotten, and of statistics only the
// last block of each interface is kept.
//
// Time: 64-bit units times if_tsresol plus if_tsoffset, computed exactly for every
// if_tsresol (10^-0 .. 10^-127, 2^-0 .. 2^-127) and offset (timestamp.ts); a packet
// whose time is before 1970 or past 2^53 - 1 seconds is an error (its offset and
// number), a statistics block's start or end time out of range is a warning.

import { pad4, readI64, readU16, readU32, readU64 } from './bytes.js';
import { CaptureFormatError } from './errors.js';
import { decodeOptionString, type FormatParser, type ParserContext } from './format-parser.js';
import {
  IF_IPV4ADDR_BYTES,
  IF_IPV6ADDR_BYTES,
  ipv4AddressText,
  ipv6AddressText,
  OPT_IF_IPV4ADDR,
  OPT_IF_IPV6ADDR,
} from './interface-address.js';
import {
  describeOutOfRange,
  makeTimestampConverter,
  unitsToTimestamp,
  type TimestampConverter,
} from './timestamp.js';
import type { InterfaceStats } from '../events/types.js';
import { MAX_INTERFACE_ADDRESSES, MAX_SECTION_INTERFACES, type TimestampResolution } from './types.js';

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_PB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_ISB = 0x00000005;
export const BLOCK_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;

const BLOCK_NAMES: Record<number, string> = {
  [BLOCK_SHB]: 'Section Header Block',
  [BLOCK_IDB]: 'Interface Description Block',
  [BLOCK_PB]: 'Packet Block',
  [BLOCK_SPB]: 'Simple Packet Block',
  [BLOCK_ISB]: 'Interface Statistics Block',
  [BLOCK_EPB]: 'Enhanced Packet Block',
};

/** Fixed part + trailer of each block type we read: anything shorter is damaged. */
function minimumLength(type: number): number {
  switch (type) {
    case BLOCK_SHB:
      return 28;
    case BLOCK_IDB:
      return 20;
    case BLOCK_EPB:
    case BLOCK_PB:
      return 32;
    case BLOCK_SPB:
      return 16;
    case BLOCK_ISB:
      return 24;
    default:
      return 12;
  }
}

function isPacketBlock(type: number): boolean {
  return type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_PB;
}

/** Per-interface state the packet path needs, set up once per IDB. */
interface InterfaceState {
  id: number;
  snaplen: number;
  conv: TimestampConverter;
}

export class PcapngParser implements FormatParser {
  headerDone = false;
  packetCount = 0;
  /** byte order of the current section */
  private le = true;
  private section = -1;
  private interfaces: InterfaceState[] = [];
  private nextInterfaceId = 0;
  /** inside a section of a version we do not read, with unknownSectionVersion 'skip' */
  private skipping = false;
  /** side outputs of blockLength(), to read type and order once per block */
  private blockType = 0;
  private blockLe = true;
  /** last timestamp seen, given to Simple Packet Blocks (which have none) */
  private lastSec = 0;
  private lastNsec = 0;
  private readonly lastStats = new Map<number, InterfaceStats>();
  /** shared by interfaces alike, so that 65,536 of them do not each hold one */
  private lastConverter: TimestampConverter | null = null;

  constructor(private readonly ctx: ParserContext) {}

  needed(b: Uint8Array, off: number, end: number, base: number): number {
    if (end - off < 12) return 12;
    return this.blockLength(b, off, base);
  }

  parse(b: Uint8Array, off: number, end: number, base: number): number {
    while (end - off >= 12) {
      const length = this.blockLength(b, off, base);
      if (end - off < length) break;
      const type = this.blockType;
      const le = this.blockLe;
      const trailer = readU32(b, off + length - 4, le);
      if (trailer !== length) {
        throw new CaptureFormatError(
          'block_length_mismatch',
          `pcapng ${blockName(type)} trailing length ${trailer} differs from its leading length ${length}`,
          base + off + length - 4,
          isPacketBlock(type) ? this.packetCount + 1 : 0,
        );
      }
      if (type === BLOCK_SHB) this.readSectionHeader(b, off, length, base);
      else if (this.skipping) {
        // a section of unknown version: only its blocks' frames are trusted
      } else if (type === BLOCK_EPB) this.readEnhancedPacket(b, off, length, base);
      else if (type === BLOCK_IDB) this.readInterface(b, off, length, base);
      else if (type === BLOCK_SPB) this.readSimplePacket(b, off, length, base);
      else if (type === BLOCK_PB) this.readObsoletePacket(b, off, length, base);
      else if (type === BLOCK_ISB) this.readStatistics(b, off, length, base);
      // NRB, DSB, custom and unknown blocks: nothing framing needs.
      off += length;
    }
    return off;
  }

  finish(): void {
    const onStats = this.ctx.handlers.onStats;
    if (onStats !== undefined) for (const s of this.lastStats.values()) onStats({ ...s, final: true });
    this.ctx.summarizeWarnings();
  }

  /** Validated total length of the block at b[off] (12 bytes present); sets blockType/blockLe. */
  private blockLength(b: Uint8Array, off: number, base: number): number {
    // The SHB type reads the same in both orders, and its byte-order magic says how to
    // read its length; every other block is in the order of the current section.
    let le = this.le;
    let type = readU32(b, off, le);
    if (type === BLOCK_SHB) {
      const magic = readU32(b, off + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (magic === 0x4d3c2b1a) le = false;
      else {
        throw new CaptureFormatError(
          'bad_byte_order_magic',
          `pcapng Section Header Block byte-order magic ${hexBytes(b, off + 8, 4)} is neither 1a2b3c4d nor 4d3c2b1a`,
          base + off + 8,
          0,
        );
      }
      type = BLOCK_SHB;
    }
    const length = readU32(b, off + 4, le);
    const packetNumber = isPacketBlock(type) && !this.skipping ? this.packetCount + 1 : 0;
    if (length % 4 !== 0) {
      throw new CaptureFormatError(
        'bad_block_length',
        `pcapng block length ${length} not a multiple of 4`,
        base + off + 4,
        packetNumber,
      );
    }
    const minimum = this.skipping && type !== BLOCK_SHB ? 12 : minimumLength(type);
    if (length < minimum) {
      throw new CaptureFormatError(
        'bad_block_length',
        `pcapng ${blockName(type)} length ${length} below its ${minimum}-byte minimum`,
        base + off + 4,
        packetNumber,
      );
    }
    if (length > this.ctx.maxBlockBytes) {
      throw new CaptureFormatError(
        'record_too_long',
        `pcapng ${blockName(type)} length ${length} exceeds the ${this.ctx.maxBlockBytes}-byte limit`,
        base + off + 4,
        packetNumber,
      );
    }
    this.blockType = type;
    this.blockLe = le;
    return length;
  }

  private readSectionHeader(b: Uint8Array, off: number, length: number, base: number): void {
    const le = this.blockLe;
    const major = readU16(b, off + 12, le);
    const minor = readU16(b, off + 14, le);
    const sectionIndex = this.section + 1;
    const supported = major === 1 && (minor === 0 || minor === 2);
    if (!supported && !this.ctx.skipUnknownSections) {
      throw new CaptureFormatError(
        'unsupported_version',
        `unsupported pcapng section version ${major}.${minor} (section ${sectionIndex}; 1.0 and 1.2 are read)`,
        base + off + 12,
        0,
      );
    }
    this.le = le;
    this.section = sectionIndex;
    this.interfaces = [];
    this.headerDone = true;
    this.skipping = !supported;
    if (!supported) {
      this.ctx.warn(
        `skipping pcapng section ${sectionIndex} at byte ${base + off}: version ${major}.${minor} is not read (1.0 and 1.2 are)`,
      );
      return;
    }
    const comments: string[] = [];
    let hardware: string | null = null;
    let os: string | null = null;
    let userAppl: string | null = null;
    this.forEachOption(b, off + 24, off + length - 4, base, BLOCK_SHB, true, (code, start, len) => {
      if (code === OPT_COMMENT) comments.push(decodeOptionString(b, start, len));
      else if (code === 2) hardware = decodeOptionString(b, start, len);
      else if (code === 3) os = decodeOptionString(b, start, len);
      else if (code === 4) userAppl = decodeOptionString(b, start, len);
    });
    this.ctx.handlers.onSection?.({
      index: sectionIndex,
      format: 'pcapng',
      byteOrder: le ? 'LE' : 'BE',
      versionMajor: major,
      versionMinor: minor,
      comments,
      hardware,
      os,
      userAppl,
    });
  }

  private readInterface(b: Uint8Array, off: number, length: number, base: number): void {
    const le = this.le;
    const sectionInterfaceId = this.interfaces.length;
    if (sectionInterfaceId >= MAX_SECTION_INTERFACES) {
      throw new CaptureFormatError(
        'too_many_interfaces',
        `pcapng section ${this.section} describes more than ${MAX_SECTION_INTERFACES} interfaces (the limit)`,
        base + off,
        0,
      );
    }
    this.ctx.budget.addInterface(base + off, `in the file, over its ${this.section + 1} sections`);
    const linktype = readU16(b, off + 8, le);
    const snaplen = readU32(b, off + 12, le);
    let name: string | null = null;
    let description: string | null = null;
    const comments: string[] = [];
    let resolution: TimestampResolution = { base: 10, exponent: 6 };
    let offsetSec = 0n;
    let fcsLen: number | null = null;
    const addresses: string[] = [];
    let addressOptions = 0;
    this.forEachOption(b, off + 16, off + length - 4, base, BLOCK_IDB, true, (code, start, len, at) => {
      if (code === OPT_COMMENT || code === 2 || code === 3) {
        const what = code === OPT_COMMENT ? 'opt_comment' : code === 2 ? 'if_name' : 'if_description';
        this.ctx.budget.keepText(
          len,
          `pcapng Interface Description Block ${what} of ${len} bytes`,
          base + at,
        );
        const text = decodeOptionString(b, start, len);
        if (code === OPT_COMMENT) comments.push(text);
        else if (code === 2) name = text;
        else description = text;
      } else if (code === OPT_IF_IPV4ADDR || code === OPT_IF_IPV6ADDR) {
        // Counted before their length is looked at: a file of a million is refused, not warned about.
        if (++addressOptions > MAX_INTERFACE_ADDRESSES) {
          throw new CaptureFormatError(
            'too_many_addresses',
            `pcapng Interface Description Block ${sectionInterfaceId} of section ${this.section} has more than ${MAX_INTERFACE_ADDRESSES} address options`,
            base + at,
            0,
          );
        }
        const v4 = code === OPT_IF_IPV4ADDR;
        const want = v4 ? IF_IPV4ADDR_BYTES : IF_IPV6ADDR_BYTES;
        if (len !== want) {
          this.ctx.warn(
            `pcapng ${v4 ? 'if_IPv4addr' : 'if_IPv6addr'} option of ${len} bytes (not ${want}) at byte ${base + at} ignored`,
          );
        } else addresses.push(v4 ? ipv4AddressText(b, start) : ipv6AddressText(b, start));
      } else if (code === 9 || code === 13 || code === 14) {
        const want = code === 14 ? 8 : 1;
        if (len !== want) {
          const what = code === 9 ? 'if_tsresol' : code === 13 ? 'if_fcslen' : 'if_tsoffset';
          this.ctx.warnOnce(
            `idb-option-${code}`,
            `pcapng ${what} option of ${len} bytes (not ${want}) at byte ${base + at} ignored`,
          );
        } else if (code === 9) {
          const v = b[start];
          resolution = (v & 0x80) !== 0 ? { base: 2, exponent: v & 0x7f } : { base: 10, exponent: v };
        } else if (code === 13) fcsLen = b[start];
        else offsetSec = readI64(b, start, le);
      }
    });
    const id = this.nextInterfaceId++;
    this.interfaces.push({ id, snaplen, conv: this.converterFor(resolution, offsetSec) });
    this.ctx.handlers.onInterface({
      id,
      format: 'pcapng',
      section: this.section,
      sectionInterfaceId,
      linktype,
      snaplen,
      name,
      description,
      comments,
      tsResolution: resolution,
      tsOffsetSec: Number(offsetSec),
      fcsLen,
      blockOffset: base + off,
      addresses,
    });
  }

  /** The previous interface's converter when its unit and offset are these (the usual case), else a new one. */
  private converterFor(resolution: TimestampResolution, offsetSec: bigint): TimestampConverter {
    const last = this.lastConverter;
    if (
      last !== null &&
      last.resolution.base === resolution.base &&
      last.resolution.exponent === resolution.exponent &&
      last.offsetSecBig === offsetSec
    )
      return last;
    this.lastConverter = makeTimestampConverter(resolution, offsetSec);
    return this.lastConverter;
  }

  /** The hot path: one call per packet, no allocation unless comments are asked for. */
  private readEnhancedPacket(b: Uint8Array, off: number, length: number, base: number): void {
    const le = this.le;
    const iface = this.packetInterface(readU32(b, off + 8, le), 'Enhanced Packet Block', off, base);
    const caplen = readU32(b, off + 20, le);
    const dataEnd = 28 + pad4(caplen);
    if (dataEnd > length - 4) this.overrun(caplen, length, off, base);
    const p = this.ctx.packet;
    const hi = readU32(b, off + 12, le);
    const lo = readU32(b, off + 16, le);
    if (!unitsToTimestamp(iface.conv, hi, lo, p))
      this.timeOutOfRange(iface, hi, lo, 'Enhanced Packet Block', off, base);
    this.lastSec = p.tsSec;
    this.lastNsec = p.tsNsec;
    p.interfaceId = iface.id;
    p.caplen = caplen;
    p.len = readU32(b, off + 24, le);
    p.data = b;
    p.offset = off + 28;
    p.hasTimestamp = true;
    p.packetNumber = ++this.packetCount;
    this.readPacketOptions(b, off + dataEnd, off + length - 4, base);
    this.ctx.handlers.onPacket(p);
  }

  private readObsoletePacket(b: Uint8Array, off: number, length: number, base: number): void {
    const le = this.le;
    const iface = this.packetInterface(readU16(b, off + 8, le), 'Packet Block', off, base);
    const caplen = readU32(b, off + 20, le);
    const dataEnd = 28 + pad4(caplen);
    if (dataEnd > length - 4) this.overrun(caplen, length, off, base);
    const p = this.ctx.packet;
    const hi = readU32(b, off + 12, le);
    const lo = readU32(b, off + 16, le);
    if (!unitsToTimestamp(iface.conv, hi, lo, p))
      this.timeOutOfRange(iface, hi, lo, 'Packet Block', off, base);
    this.lastSec = p.tsSec;
    this.lastNsec = p.tsNsec;
    p.interfaceId = iface.id;
    p.caplen = caplen;
    p.len = readU32(b, off + 24, le);
    p.data = b;
    p.offset = off + 28;
    p.hasTimestamp = true;
    p.packetNumber = ++this.packetCount;
    // pack_flags (2) has epb_flags' layout.
    this.readPacketOptions(b, off + dataEnd, off + length - 4, base);
    this.ctx.handlers.onPacket(p);
  }

  private readSimplePacket(b: Uint8Array, off: number, length: number, base: number): void {
    const iface = this.packetInterface(0, 'Simple Packet Block', off, base);
    const len = readU32(b, off + 8, this.le);
    // Captured bytes are min(original length, snaplen); the block's size bounds them too.
    let caplen = iface.snaplen > 0 && iface.snaplen < len ? iface.snaplen : len;
    if (caplen > length - 16) {
      this.ctx.warnOnce(
        'spb-short',
        `pcapng Simple Packet Block at byte ${base + off} (packet ${this.packetCount + 1}) holds ${length - 16} bytes, fewer than min(length ${len}, snaplen ${iface.snaplen}); using what it holds`,
      );
      caplen = length - 16;
    }
    this.ctx.warnOnce(
      'spb-time',
      `pcapng Simple Packet Block at byte ${base + off} (packet ${this.packetCount + 1}) has no timestamp; given the previous packet's`,
    );
    const p = this.ctx.packet;
    p.interfaceId = iface.id;
    p.tsSec = this.lastSec;
    p.tsNsec = this.lastNsec;
    p.caplen = caplen;
    p.len = len;
    p.data = b;
    p.offset = off + 12;
    p.direction = 0;
    p.comment = null;
    p.hasTimestamp = false;
    p.packetNumber = ++this.packetCount;
    this.ctx.handlers.onPacket(p);
  }

  private readStatistics(b: Uint8Array, off: number, length: number, base: number): void {
    const le = this.le;
    const sectionInterfaceId = readU32(b, off + 8, le);
    const iface = this.interfaces[sectionInterfaceId];
    if (iface === undefined) {
      this.ctx.warnOnce(
        'isb-interface',
        `pcapng Interface Statistics Block at byte ${base + off} names interface ${sectionInterfaceId}, which section ${this.section} has not described; ignored`,
      );
      return;
    }
    let received: number | null = null;
    let ifDrop: number | null = null;
    let osDrop: number | null = null;
    const startTime = { tsSec: 0, tsNsec: 0 };
    const endTime = { tsSec: 0, tsNsec: 0 };
    let hasStart = false;
    let hasEnd = false;
    const comments: string[] = [];
    this.forEachOption(b, off + 20, off + length - 4, base, BLOCK_ISB, false, (code, start, len) => {
      if (code === OPT_COMMENT) {
        this.ctx.budget.keepText(
          len,
          `pcapng Interface Statistics Block opt_comment of ${len} bytes`,
          base + start - 4,
        );
        comments.push(decodeOptionString(b, start, len));
        return;
      }
      if (len !== 8) return;
      // isb_starttime / isb_endtime: high and low 32 bits, in the interface's resolution
      if (code === 2 || code === 3) {
        const hi = readU32(b, start, le);
        const lo = readU32(b, start + 4, le);
        if (unitsToTimestamp(iface.conv, hi, lo, code === 2 ? startTime : endTime)) {
          if (code === 2) hasStart = true;
          else hasEnd = true;
        } else {
          this.ctx.warnOnce(
            'isb-time',
            `pcapng Interface Statistics Block ${code === 2 ? 'isb_starttime' : 'isb_endtime'} at byte ${base + start - 4} is out of range (${describeOutOfRange(iface.conv, hi, lo)}); ignored`,
          );
        }
      } else if (code === 4) received = readU64(b, start, le);
      else if (code === 5) ifDrop = readU64(b, start, le);
      else if (code === 7) osDrop = readU64(b, start, le);
    });
    if (received === null && ifDrop === null && osDrop === null) return;
    // isb_ifdrop is where dumpcap puts the kernel's drop count (ps_drop), isb_osdrop is
    // the OS's: for "did the capture lose packets" both count.
    const stats: InterfaceStats = {
      interfaceId: iface.id,
      received: received ?? 0,
      dropped: (ifDrop ?? 0) + (osDrop ?? 0),
      final: false,
    };
    if (hasStart) stats.start = { sec: startTime.tsSec, nsec: startTime.tsNsec };
    if (comments.length > 0) stats.comments = comments;
    if (hasEnd) stats.end = { sec: endTime.tsSec, nsec: endTime.tsNsec };
    this.lastStats.set(iface.id, stats);
    this.ctx.handlers.onStats?.(stats);
  }

  private packetInterface(
    sectionInterfaceId: number,
    what: string,
    off: number,
    base: number,
  ): InterfaceState {
    const iface = this.interfaces[sectionInterfaceId];
    if (iface === undefined) {
      throw new CaptureFormatError(
        'unknown_interface',
        `pcapng ${what} on interface ${sectionInterfaceId}, but section ${this.section} has described ${this.interfaces.length} interface(s)`,
        base + off,
        this.packetCount + 1,
      );
    }
    return iface;
  }

  /** A packet time the converter refused: before 1970, or seconds past 2^53 - 1. */
  private timeOutOfRange(
    iface: InterfaceState,
    hi: number,
    lo: number,
    what: string,
    off: number,
    base: number,
  ): never {
    throw new CaptureFormatError(
      'time_out_of_range',
      `pcapng ${what} time stamp out of range (${describeOutOfRange(iface.conv, hi, lo)})`,
      base + off + 12,
      this.packetCount + 1,
    );
  }

  private overrun(caplen: number, length: number, off: number, base: number): never {
    throw new CaptureFormatError(
      'packet_overruns_block',
      `pcapng packet captured length ${caplen} runs past the end of its ${length}-byte block`,
      base + off + 20,
      this.packetCount + 1,
    );
  }

  /** epb_flags / pack_flags direction and opt_comment into the packet record. */
  private readPacketOptions(b: Uint8Array, o: number, end: number, base: number): void {
    const p = this.ctx.packet;
    const le = this.le;
    p.direction = 0;
    p.comment = null;
    while (end - o >= 4) {
      const code = readU16(b, o, le);
      if (code === OPT_ENDOFOPT) break;
      const len = readU16(b, o + 2, le);
      if (o + 4 + len > end) {
        this.ctx.warnOnce(
          'packet-option',
          `pcapng packet option ${code} of ${len} bytes runs past its block at byte ${base + o} (packet ${p.packetNumber}); rest of its options ignored`,
        );
        return;
      }
      if (code === 2 && len === 4) {
        const direction = readU32(b, o + 4, le) & 3;
        p.direction = direction === 3 ? 0 : direction;
      } else if (code === OPT_COMMENT && this.ctx.packetComments) {
        p.comment = decodeOptionString(b, o + 4, len);
      }
      o += 4 + pad4(len);
    }
  }

  /**
   * Calls `each` for every option in b[start, end) up to opt_endofopt. An option that
   * runs past `end` is an error when `strict` (SHB, IDB), else a warning that ends the
   * walk.
   */
  private forEachOption(
    b: Uint8Array,
    start: number,
    end: number,
    base: number,
    type: number,
    strict: boolean,
    each: (code: number, valueStart: number, valueLength: number, optionStart: number) => void,
  ): void {
    const le = this.le;
    let o = start;
    while (end - o >= 4) {
      const code = readU16(b, o, le);
      if (code === OPT_ENDOFOPT) return;
      const len = readU16(b, o + 2, le);
      if (o + 4 + len > end) {
        const detail = `pcapng ${blockName(type)} option ${code} of ${len} bytes runs past the end of its block`;
        if (strict) throw new CaptureFormatError('option_overrun', detail, base + o, 0);
        this.ctx.warnOnce(
          `option-overrun-${type}`,
          `${detail} at byte ${base + o}; rest of its options ignored`,
        );
        return;
      }
      each(code, o + 4, len, o);
      o += 4 + pad4(len);
    }
  }
}

function blockName(type: number): string {
  return BLOCK_NAMES[type] ?? `block of type 0x${type.toString(16).padStart(8, '0')}`;
}

function hexBytes(b: Uint8Array, off: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += b[off + i].toString(16).padStart(2, '0');
  return s;
}
