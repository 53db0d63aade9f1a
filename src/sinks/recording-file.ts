// The file under a recording (PcapngRecorder): bytes land in order, off the thread that
// drains every capture ring.
//
// A regular file is written with positional writes on libuv's thread pool, so a slow disk
// (dirty-page throttling after a burst) or a busy machine does not stall the capture.
// One write is in the pool at a time, and it takes every chunk queued since the last one
// landed (one writev, up to MAX_CHUNKS_PER_WRITE): chunks land in file order, so the file
// is always a prefix of the recording, and however long the capture thread keeps the
// event loop busy, the next write carries all of that time's bytes at once. (Writing one
// chunk per turn of the loop capped the file at a chunk per turn: at 300 MB/s of 1 KiB
// packets the queue reached its bound, and the synchronous writes beyond it stalled the
// capture until the kernel rings overflowed.)
//
// The writer's buffer is taken, not copied (writeOwned): the file keeps it until written
// and gives the writer a spare one of the same size instead, from a BufferPool that every
// buffer written goes back to (up to the queue's bound) — a recorder's files share one, and
// so may a capture's recordings. Fresh memory is what costs here: first-touch page faults,
// measured at ~13 µs a 4 KiB page on the bench's VM, ~3 µs a 1 KiB packet, five times all
// the rest of its path. Keeping only 8 MiB of spares made a 300 MB/s capture allocate,
// fault and discard buffers without end, and even a pool that keeps them all faults its
// way up to the queue's bound during the first burst — when the capture is furthest
// behind — unless reserve() touched them beforehand. Bytes given to write() are copied.
// Beyond MAX_QUEUED_BYTES waiting, writes are synchronous (back-pressure).
//
// Other files (a device, a pipe) are written synchronously. drain() and close() write,
// in place and synchronously, whatever is still queued or in the pool — a positional write
// is idempotent, so a chunk the pool also writes lands twice as the same bytes — so a
// close from an exit handler loses nothing; close() then fsyncs. Errors become
// RecordingError naming the file.
import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, writeSync, writev } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ByteSink } from '../framing/index.js';

/** Bytes queued at most; beyond, writes are synchronous (back-pressure). */
const MAX_QUEUED_BYTES = 32 << 20;
/** Chunks in one writev at most (Linux's IOV_MAX is 1024). */
const MAX_CHUNKS_PER_WRITE = 64;
/** Written buffers kept for reuse, in bytes at most: as many as can be queued at once. */
export const MAX_SPARE_BYTES = MAX_QUEUED_BYTES;
const PAGE_BYTES = 4096;

export class RecordingError extends Error {
  readonly path: string;
  /** errno code (ENOENT, EACCES, ENOSPC, ...) when the system gave one */
  readonly code: string | null;

  constructor(message: string, path: string, code: string | null, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RecordingError';
    this.path = path;
    this.code = code;
  }
}

/** Bytes of the recording waiting to be written, at their place in the file. */
interface Chunk {
  position: number;
  bytes: Uint8Array;
  /** the whole buffer `bytes` lies in, spare again once they are written */
  buffer: Uint8Array;
}

/** Buffers written and free again, for the next to fill (see the top of this file). */
export class BufferPool {
  private readonly spare: Uint8Array[] = [];
  private spareBytes = 0;

  /** Bytes held. */
  get bytes(): number {
    return this.spareBytes;
  }

  /** A spare buffer of `size` bytes (`exact`) or at least that, else a new one. */
  take(size: number, exact: boolean): Uint8Array {
    const s = this.spare;
    for (let i = s.length - 1; i >= 0; i--) {
      const b = s[i];
      if (b.length === size || (!exact && b.length > size)) {
        s.splice(i, 1);
        this.spareBytes -= b.length;
        return b;
      }
    }
    return new Uint8Array(size);
  }

  /** Keeps a buffer no longer in use, while the pool holds less than MAX_SPARE_BYTES. */
  give(buffer: Uint8Array): void {
    if (this.spareBytes + buffer.length > MAX_SPARE_BYTES) return;
    this.spare.push(buffer);
    this.spareBytes += buffer.length;
  }

  /**
   * Fills the pool up to `bytes` (at most MAX_SPARE_BYTES) with buffers of `size`, every
   * page touched now, so that a capture's first burst finds them ready.
   */
  reserve(size: number, bytes: number): void {
    while (this.spareBytes + size <= Math.min(bytes, MAX_SPARE_BYTES)) {
      const b = new Uint8Array(size);
      for (let i = 0; i < size; i += PAGE_BYTES) b[i] = 0xff;
      this.give(b);
    }
  }
}

export class RecordingFile implements ByteSink {
  private fd: number | null;
  private position = 0;
  /** chunks not known to be written, in file order; the first `writing` are in the pool */
  private queue: Chunk[] = [];
  private writing = 0;
  private queuedBytes = 0;
  private asyncError: unknown = null;
  /** close() came while a write was in the pool: its completion closes the fd */
  private closeWhenDone = false;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly regular: boolean,
    private readonly pool: BufferPool,
  ) {
    this.fd = fd;
  }

  /** Creates (or truncates) `path`, mode 0600; its buffers come from and go back to `pool`. */
  static open(path: string, pool: BufferPool = new BufferPool()): RecordingFile {
    let fd: number;
    try {
      fd = openSync(path, 'w', 0o600);
    } catch (err) {
      throw new RecordingError(
        `cannot create recording ${path}: ${reason(err, path)}`,
        path,
        errnoCode(err),
        err,
      );
    }
    try {
      // The mode given to open() applies only to a new file, and the umask cuts it. Only a
      // regular file is made 0600: `-w /dev/null` must not change /dev/null.
      const regular = fstatSync(fd).isFile();
      if (regular) fchmodSync(fd, 0o600);
      return new RecordingFile(path, fd, regular, pool);
    } catch (err) {
      closeSync(fd);
      throw new RecordingError(
        `cannot make recording ${path} private (mode 0600): ${reason(err)}`,
        path,
        errnoCode(err),
        err,
      );
    }
  }

  /** Whether writes go through the thread pool and its buffers (a regular file), or straight. */
  get queues(): boolean {
    return this.regular;
  }

  /** Bytes queued and not yet known to be written. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Writes `bytes` (copied before returning). */
  write(bytes: Uint8Array): void {
    if (!this.writesNow(bytes)) {
      const buffer = this.pool.take(bytes.length, false);
      const copy = buffer.length === bytes.length ? buffer : buffer.subarray(0, bytes.length);
      copy.set(bytes);
      this.enqueue(copy, buffer);
    }
  }

  /**
   * Writes the first `length` bytes of `buffer`, which the file keeps until they are
   * written; returns a buffer of the same size for the caller to go on with.
   */
  writeOwned(buffer: Uint8Array, length: number): Uint8Array {
    const bytes = buffer.subarray(0, length);
    if (this.writesNow(bytes)) return buffer;
    this.enqueue(bytes, buffer);
    return this.pool.take(buffer.length, true);
  }

  /** Writes what is queued now, synchronously. */
  drain(): void {
    const fd = this.openFd();
    if (this.asyncError !== null) throw this.failed(this.asyncError);
    try {
      this.writeQueueNow(fd);
    } catch (err) {
      throw this.failed(err);
    }
  }

  /** Writes what is queued, fsyncs and closes. */
  close(): void {
    const fd = this.openFd();
    this.fd = null;
    try {
      this.writeQueueNow(fd);
      if (this.asyncError !== null) throw this.asyncError;
      if (this.regular) fsyncSync(fd);
    } catch (err) {
      throw this.failed(err, this.asyncError !== null ? 'write' : 'sync');
    } finally {
      // The pool may still hold a write to this fd: it closes it when done, so the number
      // is not reused under it.
      if (this.writing > 0) this.closeWhenDone = true;
      else closeSync(fd);
    }
  }

  /** Closes the fd after a failure, without writing anything more. */
  abandon(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    if (this.writing > 0) {
      this.closeWhenDone = true;
      return;
    }
    try {
      closeSync(fd);
    } catch {
      // already failing; the first error is the one to report
    }
  }

  /**
   * Takes the bytes' place in the file; writes them synchronously (true) when the file is
   * not regular or too much is queued, else leaves them to be queued (false).
   */
  private writesNow(bytes: Uint8Array): boolean {
    const fd = this.openFd();
    if (this.asyncError !== null) throw this.failed(this.asyncError);
    if (this.regular && this.queuedBytes + bytes.length <= MAX_QUEUED_BYTES) return false;
    const position = this.position;
    this.position += bytes.length;
    try {
      writeFully(fd, bytes, position, this.regular);
    } catch (err) {
      throw this.failed(err);
    }
    return true;
  }

  private enqueue(bytes: Uint8Array, buffer: Uint8Array): void {
    this.queue.push({ position: this.position, bytes, buffer });
    this.position += bytes.length;
    this.queuedBytes += bytes.length;
    if (this.writing === 0) this.writeNext(this.openFd());
  }

  /**
   * Hands the queued chunks that follow each other in the file (a synchronous write can
   * have taken its place between two) to the pool as one write.
   */
  private writeNext(fd: number): void {
    const q = this.queue;
    if (q.length === 0) return;
    const first = q[0].position;
    let end = first + q[0].bytes.length;
    let n = 1;
    while (n < q.length && n < MAX_CHUNKS_PER_WRITE && q[n].position === end) {
      end += q[n].bytes.length;
      n++;
    }
    this.writing = n;
    const parts = q.slice(0, n).map((c) => c.bytes);
    writev(fd, parts, first, (error, written) => {
      let err: unknown = error;
      if (err === null && written < end - first) {
        try {
          writeRest(fd, parts, first, written);
        } catch (e) {
          err = e;
        }
      }
      if (err !== null && this.asyncError === null) this.asyncError = err;
      this.landed(n);
      if (this.closeWhenDone) {
        this.closeWhenDone = false;
        this.queue = [];
        this.queuedBytes = 0;
        try {
          closeSync(fd);
        } catch {
          // nothing left to lose
        }
      } else if (err === null) this.writeNext(fd);
    });
  }

  /** The first n chunks are written: their buffers go back to the pool. */
  private landed(n: number): void {
    for (const c of this.queue.splice(0, n)) {
      this.queuedBytes -= c.bytes.length;
      this.pool.give(c.buffer);
    }
    this.writing = 0;
  }

  /**
   * Writes every queued chunk at its place, synchronously; then only what the pool still
   * writes stays queued (it lands again as the same bytes), the rest back to the pool.
   */
  private writeQueueNow(fd: number): void {
    for (const c of this.queue) writeFully(fd, c.bytes, c.position, true);
    for (let i = this.writing; i < this.queue.length; i++) {
      this.queuedBytes -= this.queue[i].bytes.length;
      this.pool.give(this.queue[i].buffer);
    }
    this.queue.length = this.writing;
  }

  private openFd(): number {
    if (this.fd === null) throw new RecordingError(`recording ${this.path} is closed`, this.path, null);
    return this.fd;
  }

  private failed(err: unknown, what = 'write'): RecordingError {
    return new RecordingError(
      `cannot ${what} recording ${this.path}: ${reason(err)}`,
      this.path,
      errnoCode(err),
      err,
    );
  }
}

/** Writes all of `bytes`, at `position` for a regular file (positional), else at the fd's offset. */
function writeFully(fd: number, bytes: Uint8Array, position: number, positional: boolean): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, positional ? position + done : null);
  }
}

/** After a short writev of `parts` at `position`: the bytes past `written`, synchronously. */
function writeRest(fd: number, parts: readonly Uint8Array[], position: number, written: number): void {
  let at = position;
  for (const p of parts) {
    const skip = Math.min(p.length, Math.max(0, position + written - at));
    if (skip < p.length) writeFully(fd, p.subarray(skip), at + skip, true);
    at += p.length;
  }
}

export function errnoCode(err: unknown): string | null {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return null;
}

/** A short, operator-facing reason for a failed file operation. */
export function reason(err: unknown, path?: string): string {
  switch (errnoCode(err)) {
    case 'ENOENT':
      return path !== undefined ? `directory ${dirname(path)} does not exist` : 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return path !== undefined ? `${basename(path)} is a directory` : 'is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'EDQUOT':
      return 'disk quota exceeded';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
