// pcapng: draft-ietf-opsawg-pcapng ("PCAP Next Generation (pcapng) Capture File Format"),
// read block by block: each block's frame checked, sections followed, and each block
// handed to the reader of its kind.
//
//  Every block (pcapng-blocks.ts):       Section Header Block (type 0x0A0D0D0A):
//     0  block type                          8  byte-order magic 0x1A2B3C4D, in the
//     4  block total length                     section's order (4D3C2B1A read = LE)
//     8  body, options (pcapng-options.ts)  12  major (1) | minor (0; 1.2 also read)
//        block total length again           16  section length, 64 bits (-1 unknown)
//                                           24  options: opt_comment 1, shb_hardware 2,
//  Interface Description Block (1):             shb_os 3, shb_userappl 4
//    pcapng-interfaces.ts
//  Enhanced Packet (6), Simple Packet (3), Packet (2, obsolete) Blocks:
//    pcapng-packets.ts
//  Interface Statistics Block (5): pcapng-statistics.ts
//
// Byte order is per section, so is interface numbering: ids restart at every SHB. Name
// Resolution, Decryption Secrets, custom (0x00000BAD, 0x40000BAD) and unknown blocks
// are skipped whole, and so is every block of a section of a version not read when the
// reader is told to skip those (unknownSectionVersion 'skip'): only their frames are
// checked.
//
// Strictness: a damaged block frame (length, trailer) or SHB/IDB option is an error,
// as in libpcap and tshark, because nothing after it can be trusted. Odd options in a
// packet or statistics block only cost that option (a warning, once per kind with a
// count at the end: a file can repeat one a million times): the packet is sound.
//
// Memory stays bounded whatever the file: blocks are at most maxBlockBytes long;
// interfaces and their text have limits (pcapng-interfaces.ts); NRB, DSB, custom and
// unknown blocks are skipped, packets and SHBs are handed on and forgotten, and of
// statistics only the last block of each interface is kept.

import { readU16, readU32 } from './bytes.js';
import { CaptureFormatError } from './errors.js';
import { decodeOptionString, type FormatParser, type ParserContext } from './format-parser.js';
import {
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_PB,
  BLOCK_SHB,
  BLOCK_SPB,
  blockName,
  BYTE_ORDER_MAGIC,
  isPacketBlock,
  minimumLength,
  OPT_COMMENT,
} from './pcapng-blocks.js';
import { PcapngInterfaces } from './pcapng-interfaces.js';
import { forEachOption } from './pcapng-options.js';
import { PcapngPackets } from './pcapng-packets.js';
import { PcapngStatistics } from './pcapng-statistics.js';

// The block types, for the modules that still take them from the reader (the capture
// reader, the writer, the recorder's annotations, the annotated replay):
// pcapng-blocks.ts is their home.
export { BLOCK_EPB, BLOCK_IDB, BLOCK_ISB, BLOCK_SHB, BYTE_ORDER_MAGIC };

export class PcapngParser implements FormatParser {
  headerDone = false;
  /** byte order of the current section */
  private le = true;
  /** inside a section of a version we do not read, with unknownSectionVersion 'skip' */
  private skipping = false;
  /** side outputs of blockLength(), to read type and order once per block */
  private blockType = 0;
  private blockLe = true;
  private readonly interfaces: PcapngInterfaces;
  private readonly packets: PcapngPackets;
  private readonly statistics: PcapngStatistics;

  constructor(private readonly ctx: ParserContext) {
    this.interfaces = new PcapngInterfaces(ctx);
    this.packets = new PcapngPackets(ctx, this.interfaces);
    this.statistics = new PcapngStatistics(ctx, this.interfaces);
  }

  get packetCount(): number {
    return this.packets.count;
  }

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
          isPacketBlock(type) ? this.packets.count + 1 : 0,
        );
      }
      if (type === BLOCK_SHB) this.readSectionHeader(b, off, length, base);
      else if (this.skipping) {
        // a section of unknown version: only its blocks' frames are trusted
      } else if (type === BLOCK_EPB || type === BLOCK_PB)
        this.packets.readEnhanced(b, off, length, base, le, type);
      else if (type === BLOCK_IDB) this.interfaces.read(b, off, length, base, le);
      else if (type === BLOCK_SPB) this.packets.readSimple(b, off, length, base, le);
      else if (type === BLOCK_ISB) this.statistics.read(b, off, length, base, le);
      // NRB, DSB, custom and unknown blocks: nothing framing needs.
      off += length;
    }
    return off;
  }

  finish(): void {
    this.statistics.finish();
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
    const packetNumber = isPacketBlock(type) && !this.skipping ? this.packets.count + 1 : 0;
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
    const sectionIndex = this.interfaces.section + 1;
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
    this.interfaces.startSection(sectionIndex);
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
    forEachOption(this.ctx, b, off + 24, off + length - 4, base, le, BLOCK_SHB, (code, start, len) => {
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
}

function hexBytes(b: Uint8Array, off: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += b[off + i].toString(16).padStart(2, '0');
  return s;
}
