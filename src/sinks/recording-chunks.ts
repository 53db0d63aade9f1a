// Bytes of a recording waiting to be written, each at its place in the file, and the
// synchronous writes that put them there (recording-file.ts queues them).
import { writeSync } from 'node:fs';

/** Bytes of the recording waiting to be written, at their place in the file. */
export interface Chunk {
  position: number;
  bytes: Uint8Array;
  /** the whole buffer `bytes` lies in, spare again once they are written */
  buffer: Uint8Array;
  /** known written (synchronously, or by a failed write of the pool that got this far) */
  done: boolean;
}

/** Writes all of `bytes`, at `position` for a regular file (positional), else at the fd's offset. */
export function writeFully(fd: number, bytes: Uint8Array, position: number, positional: boolean): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, positional ? position + done : null);
  }
}

/** After a short writev of `chunks`: the bytes past `written`, synchronously, each chunk marked done. */
export function writeRest(fd: number, chunks: readonly Chunk[], written: number): void {
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
export function markWritten(chunks: readonly Chunk[], written: number): void {
  const end = chunks[0].position + written;
  for (const c of chunks) if (c.position + c.bytes.length <= end) c.done = true;
}
