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
//
// Opening (a root tool writing where an unprivileged user may point it): the file is
// created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, so a symbolic link is never followed
// (a dangling one would otherwise create its target) and nothing existing is clobbered.
// An existing name is refused (code EEXIST) unless `overwrite`; a symbolic link always
// (code ELOOP). With `overwrite` the existing file is opened O_NOFOLLOW without O_CREAT and
// replaced only when it is a regular file of ours with one link — another user's file
// could be held open by them to read the capture, and a hard link would clobber the
// other name too — made 0600 first, then truncated. An existing device or FIFO (`-w
// /dev/null`, a pipe to Wireshark) is written as it is, without --overwrite: nothing in
// it is replaced.
//
// A write that fails (a full disk: ENOSPC, EDQUOT, EFBIG, EIO) must not leave a file cut
// in the middle of a block. The writer says where its blocks end (blockEnd, at each
// hand-over: chunks are handed over at block boundaries, and a block larger than the
// writer's buffer goes out in pieces followed by one blockEnd); the file keeps the last
// block end before the first byte not known written — by the pool or synchronously — and
// stopAtLastBlock() cuts a regular file back to it. A write still in the pool then is
// cut back again when it lands, before its fd is closed. An asynchronous failure is told
// at once through onFailure, so the recording stops then, not at the next write.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  writeSync,
  writev,
} from 'node:fs';
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
  /** what went wrong, short, without the file (`no space left on device`) */
  readonly reason: string;

  constructor(message: string, path: string, code: string | null, cause?: unknown, why?: string) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RecordingError';
    this.path = path;
    this.code = code;
    this.reason = why ?? message;
  }
}

/** Bytes of the recording waiting to be written, at their place in the file. */
interface Chunk {
  position: number;
  bytes: Uint8Array;
  /** the whole buffer `bytes` lies in, spare again once they are written */
  buffer: Uint8Array;
  /** known written (synchronously, or by a failed write of the pool that got this far) */
  done: boolean;
}

/** A place where a block of the recording ends, and the packets before it. */
interface BlockEnd {
  end: number;
  packets: number;
}

/** What stopAtLastBlock() left. */
export interface CutBack {
  /** the file's length now: the end of its last whole block */
  bytes: number;
  /** packets in it, as the writer counted them at that block end */
  packets: number;
  /** whether the file ends on a whole block (a regular file cut back to it) */
  complete: boolean;
}

export interface RecordingOpenOptions {
  /** replace an existing regular file (never a symbolic link) instead of refusing it */
  overwrite?: boolean;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const EXISTING_FLAGS = constants.O_WRONLY | constants.O_NOFOLLOW;

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
  /** block ends handed over and not yet known written, in file order */
  private readonly blockEnds: BlockEnd[] = [];
  /** the last block end known written (everything before it is) */
  private whole: BlockEnd = { end: 0, packets: 0 };
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
   * Creates `path` (mode 0600) or, with `overwrite`, replaces the regular file there (see
   * the top of this file); its buffers come from and go back to `pool`. Throws
   * RecordingError: code EEXIST for a name taken, ELOOP for a symbolic link.
   */
  static open(
    path: string,
    pool: BufferPool = new BufferPool(),
    options: RecordingOpenOptions = {},
  ): RecordingFile {
    const fd = openRecording(path, options.overwrite === true);
    try {
      // The mode given to open() is cut by the umask. Only a regular file is made 0600:
      // `-w /dev/null` must not change /dev/null.
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

  /**
   * Everything handed over so far ends on a block boundary, with `packets` packets before
   * it (the writer says so after each hand-over; see the top of this file).
   */
  blockEnd(packets: number): void {
    if (this.fd === null) return;
    this.blockEnds.push({ end: this.position, packets });
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
    const whole = this.whole;
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

  /** Moves `whole` to the last block end before the first byte not known written. */
  private settle(): void {
    let known = Math.min(this.position, this.failedAt);
    for (const c of this.queue) {
      if (!c.done) {
        known = Math.min(known, c.position);
        break;
      }
    }
    const ends = this.blockEnds;
    let n = 0;
    while (n < ends.length && ends[n].end <= known) n++;
    if (n > 0) {
      this.whole = ends[n - 1];
      ends.splice(0, n);
    }
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

/** Writes all of `bytes`, at `position` for a regular file (positional), else at the fd's offset. */
function writeFully(fd: number, bytes: Uint8Array, position: number, positional: boolean): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, positional ? position + done : null);
  }
}

/** After a short writev of `chunks`: the bytes past `written`, synchronously, each chunk marked done. */
function writeRest(fd: number, chunks: readonly Chunk[], written: number): void {
  const start = chunks[0].position;
  markWritten(chunks, written);
  for (const c of chunks) {
    if (c.done) continue;
    const skip = Math.max(0, start + written - c.position);
    writeFully(fd, c.bytes.subarray(skip), c.position + skip, true);
    c.done = true;
  }
}

/** Marks the chunks that the first `written` bytes of a write of them covered completely. */
function markWritten(chunks: readonly Chunk[], written: number): void {
  const end = chunks[0].position + written;
  for (const c of chunks) if (c.position + c.bytes.length <= end) c.done = true;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing left to lose: every byte was written (or the recording stopped) before
  }
}

/**
 * Opens a recording without following a symbolic link or clobbering a file (see the top
 * of this file); returns the fd.
 */
function openRecording(path: string, overwrite: boolean): number {
  // A name that vanishes between the two opens is tried again; twice is plenty.
  for (let attempt = 0; ; attempt++) {
    try {
      return openSync(path, CREATE_FLAGS, 0o600);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST' || attempt === 2) throw cannotCreate(path, err);
    }
    let fd: number;
    try {
      fd = openSync(path, EXISTING_FLAGS);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      if (errnoCode(err) === 'ELOOP')
        throw new RecordingError(
          `${path} is a symbolic link; not following it`,
          path,
          'ELOOP',
          err,
          'a symbolic link',
        );
      throw cannotCreate(path, err);
    }
    let refusal: string | null = null;
    try {
      const st = fstatSync(fd);
      // A device or a FIFO is written as it is; a regular file is replaced or refused.
      if (st.isFile()) {
        refusal = replaceRefusal(st, overwrite);
        if (refusal === null) {
          // private before it is emptied: a failure leaves the old content, not a readable capture
          fchmodSync(fd, 0o600);
          ftruncateSync(fd, 0);
        }
      }
    } catch (err) {
      closeSync(fd);
      throw cannotCreate(path, err);
    }
    if (refusal !== null) {
      closeSync(fd);
      throw new RecordingError(`${path} ${refusal}`, path, 'EEXIST', undefined, 'it exists');
    }
    return fd;
  }
}

/** Why an existing regular file may not be replaced by a recording (null: it may). */
function replaceRefusal(st: { nlink: number; uid: number }, overwrite: boolean): string | null {
  if (!overwrite) return 'exists (give --overwrite to replace it, or another name)';
  if (st.nlink > 1)
    return `has ${st.nlink} hard links; not replacing it (remove it first, or give another name)`;
  const me = process.geteuid?.();
  if (me !== undefined && st.uid !== me)
    return `belongs to another user (uid ${st.uid}); not replacing it (remove it first, or give another name)`;
  return null;
}

function cannotCreate(path: string, err: unknown): RecordingError {
  const why = reason(err, path);
  return new RecordingError(`cannot create recording ${path}: ${why}`, path, errnoCode(err), err, why);
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
    case 'EFBIG':
      return 'file too large';
    case 'EIO':
      return 'input/output error';
    case 'EPIPE':
      return 'broken pipe (its reader is gone)';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
