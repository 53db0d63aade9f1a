// The one exception framing throws (STYLE: "exceptions belong to framing (a broken
// file) and carry file offset, packet number, interface").

/** Stable names for what was wrong, for callers and tests that branch on the cause. */
export type CaptureErrorCode =
  /** first bytes are neither a pcap nor a pcapng magic number */
  | 'not_a_capture'
  /** the input ended before its file header / first Section Header Block was complete */
  | 'truncated_header'
  /** pcap major/minor version or pcapng section version this reader does not know */
  | 'unsupported_version'
  /** pcap link-type field with reserved bits 16-25 set */
  | 'reserved_bits'
  /** pcapng Section Header Block whose byte-order magic is neither 1A2B3C4D nor 4D3C2B1A */
  | 'bad_byte_order_magic'
  /** pcapng block length below 12 or below its type's minimum, or not a multiple of 4 */
  | 'bad_block_length'
  /** pcapng block whose trailing length differs from its leading one */
  | 'block_length_mismatch'
  /** a record or block longer than the reader accepts (see limits in types.ts) */
  | 'record_too_long'
  /** a packet whose captured bytes run past the end of its block */
  | 'packet_overruns_block'
  /** an option whose length runs past the end of its block's option area */
  | 'option_overrun'
  /** an option with the wrong value length (if_tsresol not 1 byte, ...) */
  | 'bad_option'
  /** a packet on an interface the section has not described (no such IDB) */
  | 'unknown_interface'
  /** a pcapng IDB with more address options than MAX_INTERFACE_ADDRESSES (types.ts) */
  | 'too_many_addresses';

/**
 * A capture that is not one, or is damaged. `offset` is the absolute byte offset in
 * the stream of the header, record or field at fault; `packetNumber` the 1-based
 * number of the packet being read, or 0 when the fault is in a file header or a
 * non-packet block. `file` is set by the file readers.
 */
export class CaptureFormatError extends Error {
  readonly code: CaptureErrorCode;
  readonly offset: number;
  readonly packetNumber: number;
  readonly file: string | null;
  /** the fault without location, as passed in (the message adds offset, packet, file) */
  readonly detail: string;

  constructor(
    code: CaptureErrorCode,
    detail: string,
    offset: number,
    packetNumber: number,
    file: string | null = null,
  ) {
    super(
      `${file !== null ? `${file}: ` : ''}${detail} at byte ${offset}${packetNumber > 0 ? ` (packet ${packetNumber})` : ''}`,
    );
    this.name = 'CaptureFormatError';
    this.code = code;
    this.detail = detail;
    this.offset = offset;
    this.packetNumber = packetNumber;
    this.file = file;
  }

  /** The same fault, named as coming from `file`. */
  inFile(file: string): CaptureFormatError {
    return new CaptureFormatError(this.code, this.detail, this.offset, this.packetNumber, file);
  }
}
