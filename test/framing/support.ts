// Collects what a reader reports, as plain values, for tests to compare.

import {
  CaptureFormatError,
  CaptureReader,
  formatTimestamp,
  readCaptureBytes,
} from '../../src/framing/index.js';
import type { InterfaceStats } from '../../src/events/types.js';
import type { CaptureInterface, CaptureReaderOptions, CaptureSection } from '../../src/framing/index.js';

export interface SeenPacket {
  iface: number;
  ts: string;
  caplen: number;
  len: number;
  bytes: string;
  direction: number;
  comment: string | null;
  hasTimestamp: boolean;
  n: number;
}

export interface Seen {
  sections: CaptureSection[];
  interfaces: CaptureInterface[];
  packets: SeenPacket[];
  stats: InterfaceStats[];
  /** isb_starttime / isb_endtime of the statistics blocks that had them */
  statTimes: Array<Pick<InterfaceStats, 'interfaceId' | 'start' | 'end'>>;
  warnings: string[];
  /** order of events: `i<id>` interface, `p<n>` packet, `s<id>` stats */
  events: string[];
}

export function collector(): { seen: Seen; handlers: ConstructorParameters<typeof CaptureReader>[0] } {
  const seen: Seen = {
    sections: [],
    interfaces: [],
    packets: [],
    stats: [],
    statTimes: [],
    warnings: [],
    events: [],
  };
  return {
    seen,
    handlers: {
      onSection: (s) => void seen.sections.push(s),
      onInterface: (i) => {
        seen.interfaces.push(i);
        seen.events.push(`i${i.id}`);
      },
      onPacket: (p) => {
        seen.packets.push({
          iface: p.interfaceId,
          ts: formatTimestamp(p.tsSec, p.tsNsec),
          caplen: p.caplen,
          len: p.len,
          bytes: Buffer.from(p.data.subarray(p.offset, p.offset + p.caplen)).toString('hex'),
          direction: p.direction,
          comment: p.comment,
          hasTimestamp: p.hasTimestamp,
          n: p.packetNumber,
        });
        seen.events.push(`p${p.packetNumber}`);
      },
      onStats: (s) => {
        // Counters here; the time span a block covers (start/end) is checked where it matters.
        const { start, end, ...counters } = s;
        seen.stats.push(counters);
        if (start !== undefined || end !== undefined)
          seen.statTimes.push({ interfaceId: s.interfaceId, start, end });
        seen.events.push(`s${s.interfaceId}`);
      },
      onWarning: (m) => void seen.warnings.push(m),
    },
  };
}

/** Reads `bytes` pushed in chunks of the given sizes (cycled), then end(). */
export function readChunked(bytes: Uint8Array, sizes: number[], options?: CaptureReaderOptions): Seen {
  const { seen, handlers } = collector();
  const reader = new CaptureReader(handlers, options);
  let o = 0;
  for (let i = 0; o < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    reader.push(bytes.subarray(o, o + n));
    o += n;
  }
  reader.end();
  return seen;
}

/** Reads `bytes` in one go: everything the reader handed over. */
export function readAll(bytes: Uint8Array, options?: CaptureReaderOptions): Seen {
  const { seen, handlers } = collector();
  readCaptureBytes(bytes, handlers, options);
  return seen;
}

/** The format error reading `bytes` stops at; an error when it reads them without one. */
export function readError(bytes: Uint8Array, options?: CaptureReaderOptions): CaptureFormatError {
  try {
    readAll(bytes, options);
  } catch (err) {
    if (err instanceof CaptureFormatError) return err;
    throw err;
  }
  throw new Error('expected a CaptureFormatError');
}
