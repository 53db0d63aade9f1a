// The options of a pcapng Section Header, Interface Description or Interface Statistics
// Block, walked one by one:
//
//     0 +---------------+---------------+
//       | option code   | value length  |   ended by code 0 (opt_endofopt) or by the end
//     4 +---------------+---------------+   of the block's option area
//       | value, padded to 32 bits      |
//       +-------------------------------+
//
// Strictness: an option that runs past its block is an error in the blocks that
// describe (SHB, IDB), as in libpcap and tshark, because nothing after it can be
// trusted; in a statistics block it only costs the rest of its options (a warning,
// once per kind, with a count at the end). Packets' options are read on the hot path,
// without a callback (pcapng-packets.ts).

import { pad4, readU16 } from './bytes.js';
import { CaptureFormatError } from './errors.js';
import type { ParserContext } from './format-parser.js';
import { BLOCK_IDB, BLOCK_SHB, blockName, OPT_ENDOFOPT } from './pcapng-blocks.js';

/** One option: its code, where its value starts and how long it is, and where the option starts. */
export type OptionVisitor = (
  code: number,
  valueStart: number,
  valueLength: number,
  optionStart: number,
) => void;

/**
 * Calls `each` for every option in b[start, end) of a block of `type`, up to
 * opt_endofopt; `base` is the stream offset of b[0], for messages.
 */
export function forEachOption(
  ctx: ParserContext,
  b: Uint8Array,
  start: number,
  end: number,
  base: number,
  le: boolean,
  type: number,
  each: OptionVisitor,
): void {
  let o = start;
  while (end - o >= 4) {
    const code = readU16(b, o, le);
    if (code === OPT_ENDOFOPT) return;
    const len = readU16(b, o + 2, le);
    if (o + 4 + len > end) {
      const detail = `pcapng ${blockName(type)} option ${code} of ${len} bytes runs past the end of its block`;
      if (type === BLOCK_SHB || type === BLOCK_IDB)
        throw new CaptureFormatError('option_overrun', detail, base + o, 0);
      ctx.warnOnce(`option-overrun-${type}`, `${detail} at byte ${base + o}; rest of its options ignored`);
      return;
    }
    each(code, o + 4, len, o);
    o += 4 + pad4(len);
  }
}
