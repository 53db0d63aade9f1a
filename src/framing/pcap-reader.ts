// Classic pcap savefiles: libpcap's pcap-savefile(5) and draft-ietf-opsawg-pcap.
//
//  File header, 24 bytes, in the writing host's byte order (the magic tells which):
//     0 +-------------------------------+
//       | magic: a1b2c3d4 µs            |   a1b23c4d ns; a1b2cd34 Kuznetzov "modified"
//     4 +---------------+---------------+   pcap (µs, 24-byte records, see below)
//       | version major | version minor |   2.4 (libpcap reads 2.0-2.4, and 543.0)
//     8 +---------------+---------------+
//       | reserved1 (thiszone, ignored) |
//    12 +-------------------------------+
//       | reserved2 (sigfigs, ignored)  |
//    16 +-------------------------------+
//       | snaplen                       |
//    20 +----+-+-+----------+-----------+
//       |FCS |0|F| reserved |  LinkType |   bits 31-28 FCS length in 16-bit words,
//       +----+-+-+----------+-----------+   26 F (FCS length present), 25-16 reserved
//                                           (must be 0), 15-0 LINKTYPE_*
//  Record header, 16 bytes, then caplen bytes of packet (no padding):
//     0 ts seconds | 4 ts µs or ns | 8 caplen (incl_len) | 12 len (orig_len)
//  Kuznetzov records add 8 bytes: ifindex(4) protocol(2) pkt_type(1) pad(1).
//
// Limits, following libpcap's sf-pcap.c (pcap_next_packet): a caplen above the
// link type's maximum snapshot length (262144 for most, 1 MiB USBPCAP, 8 MiB
// EBHSCR, 128 MiB DBUS) is a damaged file, an error. A caplen above the file's
// snaplen but within that maximum is accepted (fuzzed and old Solaris files have
// them); libpcap then hands on only snaplen bytes, to protect callers that sized a
// buffer by the snaplen. We hand on every stored byte instead, as tshark does: our
// callers index the bytes they are given, and the bytes are really there. Files with
// a snaplen above 262144 (BIG TCP, GRO) keep their own snaplen as the maximum, up to
// maxBlockBytes.

import { hex32, readU16, readU32 } from './bytes.js';
import { CaptureFormatError } from './errors.js';
import type { FormatParser, ParserContext } from './format-parser.js';

const FILE_HEADER_BYTES = 24;
const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const MAGIC_KUZNETZOV = 0xa1b2cd34;

const LT_RESERVED_BITS = 0x03ff0000;
const LT_FCS_PRESENT = 0x04000000;

/** libpcap's max_snaplen_for_dlt(): the most a record of this link type may hold. */
export function maxSnaplenForLinktype(linktype: number): number {
  switch (linktype) {
    case 231: // DBUS
      return 128 * 1024 * 1024;
    case 279: // EBHSCR
      return 8 * 1024 * 1024;
    case 249: // USBPCAP
      return 1024 * 1024;
    default:
      return 262144;
  }
}

/** true when these 4 bytes begin a pcap file in either byte order. */
export function isPcapMagic(b: Uint8Array, off: number): boolean {
  const le = readU32(b, off, true);
  const be = readU32(b, off, false);
  return [MAGIC_MICRO, MAGIC_NANO, MAGIC_KUZNETZOV].some((m) => m === le || m === be);
}

// How caplen and len were stored: libpcap before 2.3 wrote them swapped, 2.3 did
// sometimes (then the smaller one is caplen), as sf-pcap.c untangles them.
const LENGTHS_NORMAL = 0;
const LENGTHS_SWAPPED = 1;
const LENGTHS_MAYBE_SWAPPED = 2;

export class PcapParser implements FormatParser {
  headerDone = false;
  packetCount = 0;
  private le = true;
  private nano = false;
  private recordHeaderBytes = 16;
  private lengthOrder = LENGTHS_NORMAL;
  private snaplen = 0;
  private maxCaplen = 0;
  private linktype = 0;

  constructor(private readonly ctx: ParserContext) {}

  needed(b: Uint8Array, off: number, end: number, base: number): number {
    if (!this.headerDone) return FILE_HEADER_BYTES;
    if (end - off < this.recordHeaderBytes) return this.recordHeaderBytes;
    return this.recordHeaderBytes + this.storedCaplen(b, off, base);
  }

  parse(b: Uint8Array, off: number, end: number, base: number): number {
    if (!this.headerDone) {
      if (end - off < FILE_HEADER_BYTES) return off;
      this.parseFileHeader(b, off, base);
      off += FILE_HEADER_BYTES;
    }
    const le = this.le;
    const headerBytes = this.recordHeaderBytes;
    const p = this.ctx.packet;
    const handlers = this.ctx.handlers;
    while (end - off >= headerBytes) {
      const caplen = this.storedCaplen(b, off, base);
      if (end - off < headerBytes + caplen) break;
      let len = readU32(b, off + 12, le);
      if (this.lengthOrder !== LENGTHS_NORMAL) {
        const first = readU32(b, off + 8, le);
        if (this.lengthOrder === LENGTHS_SWAPPED || first > len) len = first;
      }
      let sec = readU32(b, off, le);
      let frac = readU32(b, off + 4, le);
      const perSec = this.nano ? 1_000_000_000 : 1_000_000;
      if (frac >= perSec) {
        // Out-of-range fraction (tcpdump's timestamp_invalid_* tests). Carry it into
        // the seconds so the time is the one the fields add up to and still sorts.
        this.ctx.warnOnce(
          'frac',
          `pcap record has a ${this.nano ? 'nanosecond' : 'microsecond'} field of ${frac} (>= ${perSec}) at byte ${base + off} (packet ${this.packetCount + 1}); carried into the seconds`,
        );
        const carry = Math.floor(frac / perSec);
        sec += carry;
        frac -= carry * perSec;
      }
      if (this.snaplen > 0 && caplen > this.snaplen) {
        this.ctx.warnOnce(
          'snaplen',
          `pcap record caplen ${caplen} exceeds the file's snaplen ${this.snaplen} at byte ${base + off} (packet ${this.packetCount + 1}); kept as stored`,
        );
      }
      p.interfaceId = 0;
      p.tsSec = sec;
      p.tsNsec = this.nano ? frac : frac * 1000;
      p.caplen = caplen;
      p.len = len;
      p.data = b;
      p.offset = off + headerBytes;
      // Kuznetzov pkt_type: 0-3 host/broadcast/multicast/otherhost arrived, 4 we sent.
      p.direction = headerBytes === 24 ? (b[off + 22] === 4 ? 2 : b[off + 22] <= 3 ? 1 : 0) : 0;
      p.packetNumber = ++this.packetCount;
      p.comment = null;
      p.hasTimestamp = true;
      handlers.onPacket(p);
      off += headerBytes + caplen;
    }
    return off;
  }

  finish(): void {
    this.ctx.summarizeWarnings();
  }

  /** The record's captured length, after libpcap's length-swap rules, bounds-checked. */
  private storedCaplen(b: Uint8Array, off: number, base: number): number {
    let caplen = readU32(b, off + 8, this.le);
    if (this.lengthOrder !== LENGTHS_NORMAL) {
      const len = readU32(b, off + 12, this.le);
      if (this.lengthOrder === LENGTHS_SWAPPED || caplen > len) caplen = len;
    }
    if (caplen > this.maxCaplen) {
      throw new CaptureFormatError(
        'record_too_long',
        `pcap record caplen ${caplen} exceeds the ${this.maxCaplen}-byte maximum for link type ${this.linktype} (snaplen ${this.snaplen})`,
        base + off,
        this.packetCount + 1,
      );
    }
    return caplen;
  }

  private parseFileHeader(b: Uint8Array, off: number, base: number): void {
    const magicLE = readU32(b, off, true);
    const le = magicLE === MAGIC_MICRO || magicLE === MAGIC_NANO || magicLE === MAGIC_KUZNETZOV;
    const magic = readU32(b, off, le);
    const major = readU16(b, off + 4, le);
    const minor = readU16(b, off + 6, le);
    if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
      throw new CaptureFormatError(
        'unsupported_version',
        `unsupported pcap version ${major}.${minor} (2.0 to 2.4 are read)`,
        base + off + 4,
        0,
      );
    }
    const snaplen = readU32(b, off + 16, le);
    const linkField = readU32(b, off + 20, le);
    if ((linkField & LT_RESERVED_BITS) !== 0) {
      throw new CaptureFormatError(
        'reserved_bits',
        `pcap link-type field ${hex32(linkField)} has reserved bits 16-25 set`,
        base + off + 20,
        0,
      );
    }
    this.le = le;
    this.nano = magic === MAGIC_NANO;
    this.recordHeaderBytes = magic === MAGIC_KUZNETZOV ? 24 : 16;
    this.lengthOrder =
      major === 2 && minor < 3
        ? LENGTHS_SWAPPED
        : major === 2 && minor === 3
          ? LENGTHS_MAYBE_SWAPPED
          : LENGTHS_NORMAL;
    this.snaplen = snaplen;
    this.linktype = linkField & 0xffff;
    this.maxCaplen = Math.max(
      maxSnaplenForLinktype(this.linktype),
      Math.min(snaplen, this.ctx.maxBlockBytes),
    );
    this.ctx.budget.addInterface(base + off, 'in the stream');
    this.headerDone = true;
    const byteOrder = le ? 'LE' : 'BE';
    this.ctx.handlers.onSection?.({
      index: 0,
      format: 'pcap',
      byteOrder,
      versionMajor: major,
      versionMinor: minor,
      comments: [],
      hardware: null,
      os: null,
      userAppl: null,
    });
    this.ctx.handlers.onInterface({
      id: 0,
      format: 'pcap',
      section: 0,
      sectionInterfaceId: 0,
      linktype: this.linktype,
      snaplen,
      name: null,
      description: null,
      comments: [],
      tsResolution: { base: 10, exponent: this.nano ? 9 : 6 },
      tsOffsetSec: 0,
      // The FCS length counts 16-bit words and means something only with the F bit.
      fcsLen: (linkField & LT_FCS_PRESENT) !== 0 ? (linkField >>> 28) * 2 : null,
      blockOffset: base + off,
      // (a pcap header has no room for them)
      addresses: [],
      mac: null,
    });
  }
}
