// What capture-reader.ts needs from a format reader (pcap-reader.ts, pcapng-reader.ts),
// and what they share: the reused packet record and warning de-duplication.
//
// The split: capture-reader owns bytes (chunks, the carry buffer for a unit that spans
// chunks, absolute offsets); a format parser owns meaning (headers, records, blocks)
// and only ever sees whole units lying in one buffer.

import { ReaderBudget } from './budget.js';
import type { CaptureHandlers, CapturePacket, CaptureReaderOptions } from './types.js';

export interface FormatParser {
  /** true once the pcap file header / first pcapng Section Header Block has been read */
  readonly headerDone: boolean;
  /** packets handed to onPacket so far */
  readonly packetCount: number;
  /**
   * Total bytes of the unit (file header, record, block) starting at b[off], or the
   * bytes needed to tell that when fewer are present in b[off, end). Validates the
   * unit's length fields and throws CaptureFormatError when they are impossible, so a
   * damaged length never makes the caller wait for (or buffer) gigabytes. `base` is
   * the stream offset of b[0].
   */
  needed(b: Uint8Array, off: number, end: number, base: number): number;
  /** Processes every whole unit in b[off, end); returns where the first incomplete one starts. */
  parse(b: Uint8Array, off: number, end: number, base: number): number;
  /** The stream ended cleanly after a whole unit. */
  finish(): void;
}

/** The single packet object a reader reuses for every packet (no allocation per packet). */
export class PacketRecord implements CapturePacket {
  interfaceId = 0;
  tsSec = 0;
  tsNsec = 0;
  caplen = 0;
  len = 0;
  data: Uint8Array = new Uint8Array(0);
  offset = 0;
  direction = 0;
  packetNumber = 0;
  comment: string | null = null;
  hasTimestamp = true;
}

/** Shared by the parsers of one reader. */
export class ParserContext {
  readonly packet = new PacketRecord();
  readonly maxBlockBytes: number;
  readonly packetComments: boolean;
  readonly skipUnknownSections: boolean;
  /** interfaces and their text handed on (limits: types.ts) */
  readonly budget: ReaderBudget;
  // One message per kind of oddity, however many records have it: a fuzzed file can
  // have a million of them and the operator needs to know once.
  private readonly warned = new Map<string, { message: string; count: number }>();

  constructor(
    readonly handlers: CaptureHandlers,
    options: CaptureReaderOptions,
    defaultMaxBlockBytes: number,
  ) {
    this.maxBlockBytes = options.maxBlockBytes ?? defaultMaxBlockBytes;
    this.packetComments = options.packetComments ?? false;
    this.skipUnknownSections = options.unknownSectionVersion === 'skip';
    this.budget = options.budget ?? new ReaderBudget();
  }

  warn(message: string): void {
    this.handlers.onWarning?.(message);
  }

  /** Warn the first time `kind` happens; count the rest for summarizeWarnings(). */
  warnOnce(kind: string, message: string): void {
    const seen = this.warned.get(kind);
    if (seen !== undefined) {
      seen.count++;
      return;
    }
    this.warned.set(kind, { message, count: 1 });
    this.warn(message);
  }

  /** At the end of the stream: how often each once-only warning would have repeated. */
  summarizeWarnings(): void {
    for (const { message, count } of this.warned.values()) {
      if (count > 1) this.warn(`${message} [${count} times in all]`);
    }
  }
}

const utf8 = new TextDecoder('utf-8');

/** An option's UTF-8 string value, without the NUL padding some writers leave in it. */
export function decodeOptionString(b: Uint8Array, start: number, length: number): string {
  let end = start + length;
  while (end > start && b[end - 1] === 0) end--;
  return utf8.decode(b.subarray(start, end));
}
