// The one exception framing throws: a broken file, with its byte offset, packet number
// and interface (docs/architecture.md "Errors"; decoders never throw).

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
  /** more interfaces than a section, a stream or a merge of files may describe (types.ts) */
  | 'too_many_interfaces'
  /** more interface and statistics option text than a stream may hand on (types.ts) */
  | 'too_much_text'
  /** a packet time before 1970 or past MAX_TIMESTAMP_SEC (timestamp.ts) */
  | 'time_out_of_range'
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

/**
 * A capture file the system would not let us open or read: permission denied, a
 * failing disk (EIO), not a file. Not a fault of the capture, so not a
 * CaptureFormatError, but handled alike: every packet read before it is delivered,
 * then it is reported in one line. `offset` is how far the file had been read.
 */
export class CaptureReadError extends Error {
  /** the system's error code: EACCES, EIO, EISDIR, ... */
  readonly code: string;
  readonly file: string;
  readonly offset: number;

  /** `FILE: what (detail)`; the detail is the code unless given. */
  constructor(file: string, code: string, what: string, offset: number, detail = code) {
    super(`${file}: ${what} (${detail})`);
    this.name = 'CaptureReadError';
    this.code = code;
    this.file = file;
    this.offset = offset;
  }

  /** From a failed open (offset null) or read (offset: bytes read before it) of `file`. */
  static from(err: NodeJS.ErrnoException, file: string, offset: number | null): CaptureReadError {
    const code = err.code ?? 'EUNKNOWN';
    // libuv's text otherwise: "EXDEV: cross-device link not permitted, open '/x'"
    const reason = ERRNO_TEXT[code] ?? err.message.replace(/^[A-Z0-9]+: /, '').replace(/, \w+( '.*')?$/, '');
    const what = offset === null ? `cannot open: ${reason}` : `read failed at byte ${offset}: ${reason}`;
    return new CaptureReadError(file, code, what, offset ?? 0);
  }
}

/** Errors a capture file can meet, as the system's manuals say them (strerror). */
const ERRNO_TEXT: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  ENOTDIR: 'a component of the path is not a directory',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EINVAL: 'invalid argument',
  EOVERFLOW: 'value too large',
  ESTALE: 'stale file handle',
  ENOMEM: 'out of memory',
};

/** A fault of a capture input: a damaged file or one the system would not read. */
export function isCaptureInputError(err: unknown): err is CaptureFormatError | CaptureReadError {
  return err instanceof CaptureFormatError || err instanceof CaptureReadError;
}
