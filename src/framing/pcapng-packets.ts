// The packets of a pcapng stream (draft-ietf-opsawg-pcapng), into the one reused packet
// record (format-parser.ts): the framing hot path, millions of blocks a second.
//
//  Enhanced Packet Block (6):              Packet Block (2, obsolete): as EPB but
//     8  interface id   12 timestamp high     8  interface id(16) | drops count(16),
//    16  timestamp low  20 captured length       and pack_flags (2) laid out as epb_flags
//    24  original length                   Simple Packet Block (3):
//    28  data, padded                         8  original length
//        then options: epb_flags 2 (bits      12  data: min(original, snaplen) bytes
//        0-1 direction: 1 inbound,                of interface 0, no time
//        2 outbound), opt_comment 1
//
// Time: 64-bit units times the interface's if_tsresol plus its if_tsoffset, computed
// exactly (timestamp.ts); a packet whose time is before 1970 or past 2^53 - 1 seconds is
// an error (its offset and number). A Simple Packet Block is given the previous packet's
// time (a warning, once).
//
// Odd options in a packet block only cost that option (a warning, once per kind with a
// count at the end: a file can repeat one a million times): the packet is sound. Nothing
// is allocated per packet, unless its comments are asked for.

import { pad4, readU16, readU32 } from './bytes.js';
import { CaptureFormatError } from './errors.js';
import { decodeOptionString, type ParserContext } from './format-parser.js';
import { BLOCK_EPB, BLOCK_SPB, blockName, OPT_COMMENT, OPT_ENDOFOPT } from './pcapng-blocks.js';
import type { InterfaceState, PcapngInterfaces } from './pcapng-interfaces.js';
import { describeOutOfRange, unitsToTimestamp } from './timestamp.js';

export class PcapngPackets {
  /** packets handed to onPacket so far */
  count = 0;
  /** last timestamp seen, given to Simple Packet Blocks (which have none) */
  private lastSec = 0;
  private lastNsec = 0;

  constructor(
    private readonly ctx: ParserContext,
    private readonly interfaces: PcapngInterfaces,
  ) {}

  /**
   * The Enhanced Packet Block at b[off], `length` bytes (`base` is the stream offset of
   * b[0]), or, `type` BLOCK_PB, the obsolete Packet Block: the same layout but for its
   * 16-bit interface id (then a drops count), and pack_flags for epb_flags. The hot path.
   */
  readEnhanced(b: Uint8Array, off: number, length: number, base: number, le: boolean, type: number): void {
    const sectionInterfaceId = type === BLOCK_EPB ? readU32(b, off + 8, le) : readU16(b, off + 8, le);
    const iface = this.interfaces.ofPacket(sectionInterfaceId, type, base + off, this.count + 1);
    const caplen = readU32(b, off + 20, le);
    const dataEnd = 28 + pad4(caplen);
    if (dataEnd > length - 4) this.overrun(caplen, length, off, base);
    const p = this.ctx.packet;
    const hi = readU32(b, off + 12, le);
    const lo = readU32(b, off + 16, le);
    if (!unitsToTimestamp(iface.conv, hi, lo, p)) this.timeOutOfRange(iface, hi, lo, type, off, base);
    this.lastSec = p.tsSec;
    this.lastNsec = p.tsNsec;
    p.interfaceId = iface.id;
    p.caplen = caplen;
    p.len = readU32(b, off + 24, le);
    p.data = b;
    p.offset = off + 28;
    p.hasTimestamp = true;
    p.packetNumber = ++this.count;
    this.readOptions(b, off + dataEnd, off + length - 4, base, le);
    this.ctx.handlers.onPacket(p);
  }

  /** The Simple Packet Block at b[off]: interface 0, no time. */
  readSimple(b: Uint8Array, off: number, length: number, base: number, le: boolean): void {
    const iface = this.interfaces.ofPacket(0, BLOCK_SPB, base + off, this.count + 1);
    const len = readU32(b, off + 8, le);
    // Captured bytes are min(original length, snaplen); the block's size bounds them too.
    let caplen = iface.snaplen > 0 && iface.snaplen < len ? iface.snaplen : len;
    if (caplen > length - 16) {
      this.ctx.warnOnce(
        'spb-short',
        `pcapng Simple Packet Block at byte ${base + off} (packet ${this.count + 1}) holds ${length - 16} bytes, fewer than min(length ${len}, snaplen ${iface.snaplen}); using what it holds`,
      );
      caplen = length - 16;
    }
    this.ctx.warnOnce(
      'spb-time',
      `pcapng Simple Packet Block at byte ${base + off} (packet ${this.count + 1}) has no timestamp; given the previous packet's`,
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
    p.packetNumber = ++this.count;
    this.ctx.handlers.onPacket(p);
  }

  /** epb_flags / pack_flags direction and opt_comment into the packet record. */
  private readOptions(b: Uint8Array, o: number, end: number, base: number, le: boolean): void {
    const p = this.ctx.packet;
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

  /** A packet time the converter refused: before 1970, or seconds past 2^53 - 1. */
  private timeOutOfRange(
    iface: InterfaceState,
    hi: number,
    lo: number,
    type: number,
    off: number,
    base: number,
  ): never {
    throw new CaptureFormatError(
      'time_out_of_range',
      `pcapng ${blockName(type)} time stamp out of range (${describeOutOfRange(iface.conv, hi, lo)})`,
      base + off + 12,
      this.count + 1,
    );
  }

  private overrun(caplen: number, length: number, off: number, base: number): never {
    throw new CaptureFormatError(
      'packet_overruns_block',
      `pcapng packet captured length ${caplen} runs past the end of its ${length}-byte block`,
      base + off + 20,
      this.count + 1,
    );
  }
}
