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
// buffer written goes back to (buffer-pool.ts says why). Bytes given to write() are
// copied. Beyond MAX_QUEUED_BYTES waiting, writes are synchronous (back-pressure).
//
// Other files (a device, a pipe) are written synchronously. drain() and close() write,
// in place and synchronously, whatever is still queued or in the pool — a positional write
// is idempotent, so a chunk the pool also writes lands twice as the same bytes — so a
// close from an exit handler loses nothing; close() then fsyncs. Errors become
// RecordingError naming the file (recording-error.ts). How the file is opened, never
// through a symbolic link and never clobbering one: recording-open.ts.
//
// A write that fails (a full disk: ENOSPC, EDQUOT, EFBIG, EIO) must not leave a file cut
// in the middle of a block. The writer says where its blocks end (blockEnd, at each
// hand-over: chunks are handed over at block boundaries, and a block larger than the
// writer's buffer goes out in pieces followed by one blockEnd); the file keeps the last
// block end before the first byte not known written — by the pool or synchronously — and
// stopAtLastBlock() cuts a regular file back to it. A write still in the pool then is
// cut back again when it lands, before its fd is closed. An asynchronous failure is told
// at once through onFailure, so the recording stops then, not at the next write.
import { closeSync, fsyncSync, ftruncateSync, writev } from 'node:fs';
import type { ByteSink } from '../framing/index.js';
import { BufferPool, MAX_QUEUED_BYTES, MAX_SPARE_BYTES } from './buffer-pool.js';
import { BlockEnds } from './recording-block-ends.js';
import { markWritten, writeFully, writeRest, type Chunk } from './recording-chunks.js';
import { errnoCode, reason, RecordingError } from './recording-error.js';
import { openRecording, type RecordingOpenOptions } from './recording-open.js';

// Also exported from here, where the recorder, the replay, the annotations and the
// report file import them.
export { BufferPool, errnoCode, MAX_SPARE_BYTES, reason, RecordingError, type RecordingOpenOptions };

/** Chunks in one writev at most (Linux's IOV_MAX is 1024). */
const MAX_CHUNKS_PER_WRITE = 64;

/** What stopAtLastBlock() left. */
export interface CutBack {
  /** the file's length now: the end of its last whole block */
  bytes: number;
  /** packets in it, as the writer counted them at that block end */
  packets: number;
  /** whether the file ends on a whole block (a regular file cut back to it) */
  complete: boolean;
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
  private readonly blockEnds = new BlockEnds();
  /** where a synchronous write that failed began */
  private failedAt = Infinity;
  /** stopAtLastBlock() with a write in the pool: the length to cut back to when it lands */
  private cutTo: number | null = null;
  private cut: CutBack | null = null;
  /**
   * Told once when a write in the pool fails (the error also stays for the next call):
   * a recorder stops at once instead of at its next write.
   */
  onFailure: ((err: RecordingError) => void) | null = null;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly regular: boolean,
    private readonly pool: BufferPool,
  ) {
    this.fd = fd;
  }

  /**
   * Creates `path` (mode 0600) or, with `overwrite`, replaces the regular file there
   * (recording-open.ts); its buffers come from and go back to `pool`. Throws
   * RecordingError: code EEXIST for a name taken, ELOOP for a symbolic link.
   */
  static open(
    path: string,
    pool: BufferPool = new BufferPool(),
    options: RecordingOpenOptions = {},
  ): RecordingFile {
    const { fd, regular } = openRecording(path, options);
    return new RecordingFile(path, fd, regular, pool);
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

  /**
   * Everything handed over so far ends on a block boundary, with `packets` packets before
   * it (the writer says so after each hand-over; see the top of this file).
   */
  blockEnd(packets: number): void {
    if (this.fd === null) return;
    this.blockEnds.add(this.position, packets);
    this.settle();
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

  /**
   * Writes what is queued, fsyncs and closes. On failure the fd stays open for the caller
   * to cut the file back (stopAtLastBlock) or abandon it.
   */
  close(): void {
    const fd = this.openFd();
    if (this.asyncError !== null) throw this.failed(this.asyncError);
    let what = 'write';
    try {
      this.writeQueueNow(fd);
      what = 'sync';
      if (this.regular) fsyncSync(fd);
    } catch (err) {
      throw this.failed(err, what);
    }
    this.fd = null;
    // The pool may still hold a write to this fd: it closes it when done, so the number
    // is not reused under it.
    if (this.writing > 0) this.closeWhenDone = true;
    else closeQuietly(fd);
  }

  /** Closes the fd after a failure, without writing anything more. */
  abandon(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    if (this.writing > 0) this.closeWhenDone = true;
    else closeQuietly(fd);
  }

  /**
   * After a failed write: cuts a regular file back to the end of the last whole block known
   * written (see the top of this file), and closes it without writing anything more. Never
   * throws; a second call returns what the first did.
   */
  stopAtLastBlock(): CutBack {
    if (this.cut !== null) return this.cut;
    const fd = this.fd;
    this.fd = null;
    this.settle();
    const whole = this.blockEnds.whole;
    let complete = false;
    if (fd !== null) {
      if (this.regular) {
        try {
          ftruncateSync(fd, whole.end);
          complete = true;
          fsyncSync(fd);
        } catch {
          // cut back or not, the recording stops here; `complete` says which
        }
      }
      if (this.writing > 0) {
        // its bytes may land past the cut: cut again then, before closing
        if (this.regular) this.cutTo = whole.end;
        this.closeWhenDone = true;
      } else {
        this.dropQueue();
        closeQuietly(fd);
      }
    }
    this.cut = { bytes: whole.end, packets: whole.packets, complete };
    return this.cut;
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
      this.failedAt = Math.min(this.failedAt, position);
      throw this.failed(err);
    }
    return true;
  }

  private enqueue(bytes: Uint8Array, buffer: Uint8Array): void {
    this.queue.push({ position: this.position, bytes, buffer, done: false });
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
    const chunks = q.slice(0, n);
    writev(
      fd,
      chunks.map((c) => c.bytes),
      first,
      (error, written) => {
        let err: unknown = error;
        const got = error === null ? written : 0;
        if (err === null && got < end - first) {
          try {
            writeRest(fd, chunks, got);
          } catch (e) {
            err = e;
          }
        }
        this.writing = 0;
        if (err === null) this.landed(n);
        else {
          // The chunks the write got through are written; the rest are not, and stay queued.
          markWritten(chunks, got);
          if (this.asyncError === null) this.asyncError = err;
        }
        if (this.closeWhenDone) {
          this.closeWhenDone = false;
          if (this.cutTo !== null) {
            try {
              ftruncateSync(fd, this.cutTo);
            } catch {
              // cut back already once, before this write landed
            }
          }
          this.queue = [];
          this.queuedBytes = 0;
          closeQuietly(fd);
        } else if (err === null) this.writeNext(fd);
        else if (this.fd !== null) this.onFailure?.(this.failed(err));
      },
    );
  }

  /** The first n chunks are written: their buffers go back to the pool. */
  private landed(n: number): void {
    for (const c of this.queue.splice(0, n)) {
      this.queuedBytes -= c.bytes.length;
      this.pool.give(c.buffer);
    }
    this.settle();
  }

  /**
   * Writes every queued chunk at its place, synchronously; then only what the pool still
   * writes stays queued (it lands again as the same bytes), the rest back to the pool.
   */
  private writeQueueNow(fd: number): void {
    for (const c of this.queue) {
      writeFully(fd, c.bytes, c.position, true);
      c.done = true;
    }
    for (let i = this.writing; i < this.queue.length; i++) {
      this.queuedBytes -= this.queue[i].bytes.length;
      this.pool.give(this.queue[i].buffer);
    }
    this.queue.length = this.writing;
    this.settle();
  }

  /** What is queued will not be written: buffers back to the pool. */
  private dropQueue(): void {
    for (let i = this.writing; i < this.queue.length; i++) this.pool.give(this.queue[i].buffer);
    this.queue.length = this.writing;
    this.queuedBytes = 0;
  }

  /** Moves the last whole block to the last block end before the first byte not known written. */
  private settle(): void {
    let known = Math.min(this.position, this.failedAt);
    for (const c of this.queue) {
      if (!c.done) {
        known = Math.min(known, c.position);
        break;
      }
    }
    this.blockEnds.settle(known);
  }

  private openFd(): number {
    if (this.fd === null) throw new RecordingError(`recording ${this.path} is closed`, this.path, null);
    return this.fd;
  }

  private failed(err: unknown, what = 'write'): RecordingError {
    if (err instanceof RecordingError) return err;
    const why = reason(err);
    return new RecordingError(
      `cannot ${what} recording ${this.path}: ${why}`,
      this.path,
      errnoCode(err),
      err,
      why,
    );
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing left to lose: every byte was written (or the recording stopped) before
  }
}
