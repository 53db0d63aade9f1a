// The interfaces of a pcapng stream, each described by an Interface Description Block
// (type 1, draft-ietf-opsawg-pcapng):
//
//     8  linktype(16) | reserved(16)
//    12  snaplen
//    16  options: opt_comment 1, if_name 2, if_description 3, if_IPv4addr 4, if_IPv6addr 5,
//        if_MACaddr 6
//        (repeated, interface-address.ts), if_tsresol 9, if_fcslen 13, if_tsoffset 14
//
// Numbering is per section: a block names its interface by its place among the IDBs of
// its section, and ids restart at every Section Header Block. Each interface is handed
// on with a number of its own, unique over the whole stream.
//
// Limits (types.ts, budget.ts), each an error at the offset of the block or option that
// passes it, so that memory stays bounded whatever the file: MAX_SECTION_INTERFACES
// (65,536) interfaces per section, MAX_INTERFACES (65,536) over all sections (and all
// files merged), MAX_INTERFACE_ADDRESSES address options per interface,
// MAX_KEPT_TEXT_BYTES (4 MiB) of names, descriptions and comments (those of statistics
// blocks too: pcapng-statistics.ts). Of an interface only
// what its packets need is kept (InterfaceState); interfaces alike share one timestamp
// converter.

import { formatMac } from '../decode/format.js';
import { readI64, readU16, readU32 } from './bytes.js';
import { CaptureFormatError } from './errors.js';
import { decodeOptionString, type ParserContext } from './format-parser.js';
import {
  IF_IPV4ADDR_BYTES,
  IF_IPV6ADDR_BYTES,
  ipv4AddressText,
  ipv6AddressText,
  OPT_IF_IPV4ADDR,
  OPT_IF_MACADDR,
  IF_MACADDR_BYTES,
  OPT_IF_IPV6ADDR,
} from './interface-address.js';
import { BLOCK_IDB, blockName, OPT_COMMENT } from './pcapng-blocks.js';
import { forEachOption } from './pcapng-options.js';
import { makeTimestampConverter, type TimestampConverter } from './timestamp.js';
import { MAX_INTERFACE_ADDRESSES, MAX_SECTION_INTERFACES, type TimestampResolution } from './types.js';

/** Per-interface state the packet path needs, set up once per IDB. */
export interface InterfaceState {
  id: number;
  snaplen: number;
  conv: TimestampConverter;
}

/** Shared by interfaces that have none, and by those of these units (never changed: readonly). */
const NONE: readonly string[] = Object.freeze([]);
const MICROSECONDS: TimestampResolution = Object.freeze({ base: 10, exponent: 6 });
const NANOSECONDS: TimestampResolution = Object.freeze({ base: 10, exponent: 9 });

export class PcapngInterfaces {
  private sectionIndex = -1;
  /** the current section's interfaces, by their number in it */
  private inSection: InterfaceState[] = [];
  private nextId = 0;
  /** shared by interfaces alike, so that 65,536 of them do not each hold one */
  private lastConverter: TimestampConverter | null = null;

  constructor(private readonly ctx: ParserContext) {}

  /** A Section Header Block: the interfaces described before it are no longer named. */
  startSection(section: number): void {
    this.sectionIndex = section;
    this.inSection = [];
  }

  /** The current section's number, from 0 (-1 before the first). */
  get section(): number {
    return this.sectionIndex;
  }

  /** The current section's interface `sectionInterfaceId`, if described. */
  find(sectionInterfaceId: number): InterfaceState | undefined {
    return this.inSection[sectionInterfaceId];
  }

  /**
   * The interface a packet block of `type` at stream offset `at` names (packet
   * `packetNumber`); an error when its section has not described it.
   */
  ofPacket(sectionInterfaceId: number, type: number, at: number, packetNumber: number): InterfaceState {
    const iface = this.inSection[sectionInterfaceId];
    if (iface === undefined) this.unknown(sectionInterfaceId, type, at, packetNumber);
    return iface;
  }

  // Apart from ofPacket(), which stays small enough to be inlined into the packet loop.
  private unknown(sectionInterfaceId: number, type: number, at: number, packetNumber: number): never {
    throw new CaptureFormatError(
      'unknown_interface',
      `pcapng ${blockName(type)} on interface ${sectionInterfaceId}, but section ${this.section} has described ${this.inSection.length} interface(s)`,
      at,
      packetNumber,
    );
  }

  /** Reads the Interface Description Block at b[off] (`length` bytes) and hands the interface on. */
  read(b: Uint8Array, off: number, length: number, base: number, le: boolean): void {
    const sectionInterfaceId = this.inSection.length;
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
    // (most interfaces have no comment, no address and a common unit: shared, not one each)
    let comments: string[] | null = null;
    let resolution: TimestampResolution = MICROSECONDS;
    let offsetSec = 0n;
    let fcsLen: number | null = null;
    let addresses: string[] | null = null;
    let addressOptions = 0;
    let mac: string | null = null;
    forEachOption(this.ctx, b, off + 16, off + length - 4, base, le, BLOCK_IDB, (code, start, len, at) => {
      if (code === OPT_COMMENT || code === 2 || code === 3) {
        const what = code === OPT_COMMENT ? 'opt_comment' : code === 2 ? 'if_name' : 'if_description';
        this.ctx.budget.keepText(
          len,
          `pcapng Interface Description Block ${what} of ${len} bytes`,
          base + at,
        );
        const text = decodeOptionString(b, start, len);
        if (code === OPT_COMMENT) (comments ??= []).push(text);
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
        } else (addresses ??= []).push(v4 ? ipv4AddressText(b, start) : ipv6AddressText(b, start));
      } else if (code === OPT_IF_MACADDR) {
        if (len !== IF_MACADDR_BYTES)
          this.ctx.warnOnce(
            'idb-option-6',
            `pcapng if_MACaddr option of ${len} bytes (not ${IF_MACADDR_BYTES}) at byte ${base + at} ignored`,
          );
        else mac = formatMac(b, start);
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
          resolution =
            v === 6
              ? MICROSECONDS
              : v === 9
                ? NANOSECONDS
                : { base: (v & 0x80) !== 0 ? 2 : 10, exponent: v & 0x7f };
        } else if (code === 13) fcsLen = b[start];
        else offsetSec = readI64(b, start, le);
      }
    });
    const id = this.nextId++;
    this.inSection.push({ id, snaplen, conv: this.converterFor(resolution, offsetSec) });
    this.ctx.handlers.onInterface({
      id,
      format: 'pcapng',
      section: this.section,
      sectionInterfaceId,
      linktype,
      snaplen,
      name,
      description,
      comments: comments ?? NONE,
      tsResolution: resolution,
      tsOffsetSec: Number(offsetSec),
      fcsLen,
      blockOffset: base + off,
      addresses: addresses ?? NONE,
      mac,
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
}
