// The statistics of a pcapng stream's interfaces, from Interface Statistics Blocks
// (type 5, draft-ietf-opsawg-pcapng):
//
//     8  interface id  12/16 timestamp
//    20  options: opt_comment 1, isb_starttime 2, isb_endtime 3, isb_ifrecv 4,
//        isb_ifdrop 5, isb_filteraccept 6, isb_osdrop 7, isb_usrdeliv 8
//
// Each block is handed on as it comes, and the last one of each interface again, as
// final, when the stream ends: of statistics only that one is kept. A block that names
// an interface its section has not described, a start or end time out of range and an
// option that runs past the block are warnings (once per kind): they cost that block or
// option only.

import { readU32, readU64 } from './bytes.js';
import { decodeOptionString, type ParserContext } from './format-parser.js';
import { BLOCK_ISB, OPT_COMMENT } from './pcapng-blocks.js';
import type { PcapngInterfaces } from './pcapng-interfaces.js';
import { forEachOption } from './pcapng-options.js';
import { describeOutOfRange, unitsToTimestamp } from './timestamp.js';
import type { InterfaceStats } from '../events/types.js';

export class PcapngStatistics {
  /** the last statistics of each interface, by its id */
  private readonly last = new Map<number, InterfaceStats>();

  constructor(
    private readonly ctx: ParserContext,
    private readonly interfaces: PcapngInterfaces,
  ) {}

  /** Reads the Interface Statistics Block at b[off] (`length` bytes) and hands its figures on. */
  read(b: Uint8Array, off: number, length: number, base: number, le: boolean): void {
    const sectionInterfaceId = readU32(b, off + 8, le);
    const iface = this.interfaces.find(sectionInterfaceId);
    if (iface === undefined) {
      this.ctx.warnOnce(
        'isb-interface',
        `pcapng Interface Statistics Block at byte ${base + off} names interface ${sectionInterfaceId}, which section ${this.interfaces.section} has not described; ignored`,
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
    forEachOption(this.ctx, b, off + 20, off + length - 4, base, le, BLOCK_ISB, (code, start, len) => {
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
    this.last.set(iface.id, stats);
    this.ctx.handlers.onStats?.(stats);
  }

  /** At the end of the stream: each interface's last statistics again, as final. */
  finish(): void {
    const onStats = this.ctx.handlers.onStats;
    if (onStats !== undefined) for (const s of this.last.values()) onStats({ ...s, final: true });
  }
}
