// One incremental reader for every capture format: push chunks of any size in, get
// interfaces and packets out through callbacks. It tells pcap from pcapng by the first
// four bytes and keeps the bytes of a record that spans chunks in a carry buffer; the
// format parsers (pcap-reader.ts, pcapng-reader.ts) only ever see whole records.
//
// Buffer ownership (docs/architecture.md "Buffers"): a packet's `data` is either the chunk being pushed or
// the carry buffer, valid only during onPacket. The caller may reuse its chunk buffer
// as soon as push() returns: whatever is left of it has been copied.
//
// Errors: a damaged or foreign input throws CaptureFormatError from push() or end();
// every packet before the fault has been delivered. A stream that stops inside a
// record (a capture cut short, a killed `tcpdump -w -`) is not an error: end() warns
// and every whole packet has been delivered. A stream that stops inside its file
// header is an error (there is nothing to read).

import { hex32, readU32 } from './bytes.js';
import { CaptureFormatError } from './errors.js';
import { ParserContext, type FormatParser } from './format-parser.js';
import { isPcapMagic, PcapParser } from './pcap-reader.js';
import { BLOCK_SHB } from './pcapng-blocks.js';
import { PcapngParser } from './pcapng-reader.js';
import {
  MAX_BLOCK_BYTES,
  type CaptureFormat,
  type CaptureHandlers,
  type CaptureReaderOptions,
} from './types.js';

const INITIAL_CARRY_BYTES = 64 * 1024;
const SHRINK_CARRY_ABOVE = 4 * 1024 * 1024;

export class CaptureReader {
  private readonly ctx: ParserContext;
  private parser: FormatParser | null = null;
  private detected: CaptureFormat | null = null;
  private carry = new Uint8Array(INITIAL_CARRY_BYTES);
  private carryLen = 0;
  /** stream offset of carry[0] */
  private carryBase = 0;
  private received = 0;
  private ended = false;
  private failure: unknown = null;

  constructor(handlers: CaptureHandlers, options: CaptureReaderOptions = {}) {
    this.ctx = new ParserContext(handlers, options, MAX_BLOCK_BYTES);
  }

  /** 'pcap' or 'pcapng' once the first four bytes are in; null before. */
  get format(): CaptureFormat | null {
    return this.detected;
  }

  /** Bytes pushed so far. */
  get bytesReceived(): number {
    return this.received;
  }

  /** Bytes of whole headers, records and blocks processed (the rest waits in the carry buffer). */
  get bytesConsumed(): number {
    return this.received - this.carryLen;
  }

  get packetCount(): number {
    return this.parser?.packetCount ?? 0;
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('CaptureReader.push() after end()');
    if (this.failure !== null) throw this.failure;
    try {
      this.pushChunk(chunk);
    } catch (err) {
      // Whatever failed (the input or a handler), the parser is mid-record: stay failed.
      this.failure = err;
      throw err;
    }
  }

  /** The stream is over: checks that it did not stop inside a header, warns if inside a record. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.failure !== null) throw this.failure;
    const parser = this.parser;
    if (parser === null) {
      throw new CaptureFormatError(
        'truncated_header',
        this.received === 0
          ? 'empty input: not a pcap or pcapng file'
          : `input of ${this.received} bytes is too short to be a pcap or pcapng file`,
        0,
        0,
      );
    }
    if (!parser.headerDone) {
      throw new CaptureFormatError(
        'truncated_header',
        `${this.detected} file cut short in its ${this.detected === 'pcap' ? 'file header' : 'Section Header Block'} (${this.received} bytes in all)`,
        this.received,
        0,
      );
    }
    if (this.carryLen > 0) {
      this.ctx.warn(
        `capture cut short at byte ${this.received}: last record incomplete (packet ${parser.packetCount + 1}, ${this.carryLen} bytes from byte ${this.carryBase})`,
      );
    }
    parser.finish();
  }

  private pushChunk(chunk: Uint8Array): void {
    const base = this.received;
    this.received += chunk.length;
    let off = 0;
    if (this.parser === null) {
      off = Math.min(4 - this.carryLen, chunk.length);
      this.append(chunk, 0, off);
      if (this.carryLen < 4) return;
      this.parser = this.detect(this.carry);
    }
    const parser = this.parser;
    if (this.carryLen > 0) {
      // Complete the one unit the carry buffer holds the start of, then parse it there.
      for (;;) {
        const need = parser.needed(this.carry, 0, this.carryLen, this.carryBase);
        if (this.carryLen >= need) break;
        const take = Math.min(need - this.carryLen, chunk.length - off);
        this.append(chunk, off, take);
        off += take;
        if (this.carryLen < need) return;
      }
      const used = parser.parse(this.carry, 0, this.carryLen, this.carryBase);
      if (used !== this.carryLen)
        throw new Error(`internal: parsed ${used} of ${this.carryLen} carried bytes`);
      this.carryLen = 0;
      // One huge record should not pin its buffer for the rest of the stream.
      if (this.carry.length > SHRINK_CARRY_ABOVE) this.carry = new Uint8Array(INITIAL_CARRY_BYTES);
    }
    const stop = parser.parse(chunk, off, chunk.length, base);
    this.carryBase = base + stop;
    this.append(chunk, stop, chunk.length - stop);
  }

  private detect(b: Uint8Array): FormatParser {
    if (isPcapMagic(b, 0)) {
      this.detected = 'pcap';
      return new PcapParser(this.ctx);
    }
    if (readU32(b, 0, true) === BLOCK_SHB) {
      this.detected = 'pcapng';
      return new PcapngParser(this.ctx);
    }
    const hint = b[0] === 0x1f && b[1] === 0x8b ? ' (gzip-compressed: decompress it first)' : '';
    throw new CaptureFormatError(
      'not_a_capture',
      `not a pcap or pcapng file: magic ${hex32(readU32(b, 0, false))}${hint}`,
      0,
      0,
    );
  }

  private append(src: Uint8Array, start: number, n: number): void {
    if (n <= 0) return;
    const need = this.carryLen + n;
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, this.carry.length * 2));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(src.subarray(start, start + n), this.carryLen);
    this.carryLen = need;
  }
}

/** Reads a whole capture held in memory (tests, small inputs): push + end. */
export function readCaptureBytes(
  bytes: Uint8Array,
  handlers: CaptureHandlers,
  options?: CaptureReaderOptions,
): CaptureReader {
  const reader = new CaptureReader(handlers, options);
  reader.push(bytes);
  reader.end();
  return reader;
}
