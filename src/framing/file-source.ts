// Capture files read incrementally: one reused chunk buffer, never the whole file.

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { CaptureReader } from './capture-reader.js';
import { CaptureFormatError, CaptureReadError } from './errors.js';
import type { CaptureFormat, CaptureHandlers, CaptureReaderOptions } from './types.js';

/** 256 KiB: large enough that syscalls cost little per packet, small enough to stay in cache. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

export interface ReadFileOptions extends CaptureReaderOptions {
  /** bytes per read (default DEFAULT_CHUNK_BYTES) */
  chunkSize?: number;
  /**
   * Read with blocking calls: for a thread that does nothing else (the replay's decoder
   * thread), where waiting on the event loop per chunk only adds latency.
   */
  blocking?: boolean;
}

export interface ReadFileSummary {
  format: CaptureFormat | null;
  packets: number;
  bytes: number;
}

/**
 * One capture file read a chunk at a time on demand (the merge pulls from several).
 * Handlers run inside readChunk(). Errors name the file: CaptureFormatError for a
 * damaged file, CaptureReadError when the system fails to open or read it (EACCES,
 * EIO, EISDIR, ...).
 */
export class CaptureFileReader {
  private readonly reader: CaptureReader;
  private readonly buffer: Uint8Array;
  private readonly blocking: boolean;
  private done = false;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    handlers: CaptureHandlers,
    options: ReadFileOptions,
  ) {
    this.reader = new CaptureReader(handlers, options);
    this.buffer = new Uint8Array(Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_BYTES));
    this.blocking = options.blocking === true;
  }

  static async open(
    path: string,
    handlers: CaptureHandlers,
    options: ReadFileOptions = {},
  ): Promise<CaptureFileReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw isErrno(err) ? CaptureReadError.from(err, path, null) : err;
    }
    return new CaptureFileReader(path, fh, handlers, options);
  }

  get finished(): boolean {
    return this.done;
  }

  get packetCount(): number {
    return this.reader.packetCount;
  }

  get format(): CaptureFormat | null {
    return this.reader.format;
  }

  get bytesRead(): number {
    return this.reader.bytesReceived;
  }

  /**
   * Reads and frames the next chunk; at end of file ends the reader. Returns false
   * once the file is finished. The chunk buffer is reused: the reader copies what it
   * keeps, and packets are only valid during their callback anyway.
   */
  async readChunk(): Promise<boolean> {
    if (this.done) return false;
    try {
      let bytesRead: number;
      try {
        bytesRead = this.blocking
          ? readSync(this.fh.fd, this.buffer, 0, this.buffer.length, null)
          : (await this.fh.read(this.buffer, 0, this.buffer.length, null)).bytesRead;
      } catch (err) {
        throw isErrno(err) ? CaptureReadError.from(err, this.path, this.reader.bytesReceived) : err;
      }
      if (bytesRead > 0) {
        this.reader.push(bytesRead === this.buffer.length ? this.buffer : this.buffer.subarray(0, bytesRead));
        return true;
      }
      this.done = true;
      this.reader.end();
      return false;
    } catch (err) {
      this.done = true;
      throw err instanceof CaptureFormatError && err.file === null ? err.inFile(this.path) : err;
    }
  }

  async close(): Promise<void> {
    this.done = true;
    await this.fh.close();
  }
}

/**
 * Checks before a replay starts that `path` is a regular file this process may open
 * for reading, and returns its size; else throws CaptureReadError saying why (no such
 * file, permission denied, a directory, a FIFO or a device: those would block or never
 * end). Opened without blocking, so a FIFO swapped in meanwhile does not hang it.
 */
export function checkCaptureFile(path: string): number {
  let fd: number;
  try {
    notRegular(path, statSync(path));
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw isErrno(err) && !(err instanceof CaptureReadError) ? CaptureReadError.from(err, path, null) : err;
  }
  try {
    const st = fstatSync(fd);
    notRegular(path, st);
    return st.size;
  } finally {
    closeSync(fd);
  }
}

function notRegular(path: string, st: Stats): void {
  if (st.isFile()) return;
  if (st.isDirectory()) throw new CaptureReadError(path, 'EISDIR', 'is a directory', 0);
  const kind = st.isFIFO()
    ? 'a FIFO'
    : st.isCharacterDevice()
      ? 'a character device'
      : st.isBlockDevice()
        ? 'a block device'
        : st.isSocket()
          ? 'a socket'
          : 'not a file';
  throw new CaptureReadError(path, 'EINVAL', 'not a regular file', 0, kind);
}

/** Streams one capture file through `handlers`; resolves when it is all read. */
export async function readCaptureFile(
  path: string,
  handlers: CaptureHandlers,
  options: ReadFileOptions = {},
): Promise<ReadFileSummary> {
  const file = await CaptureFileReader.open(path, handlers, options);
  try {
    while (await file.readChunk()) {
      // each chunk's packets went to the handlers
    }
    return { format: file.format, packets: file.packetCount, bytes: file.bytesRead };
  } finally {
    await file.close();
  }
}

/** An error from the system (with an errno code), not one of ours. */
function isErrno(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
