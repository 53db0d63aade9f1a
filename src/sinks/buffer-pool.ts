// Buffers a recording has written and may fill again (BufferPool): a recorder's files
// share one, and so may a capture's recordings.
//
// Fresh memory is what costs on a recording's path: first-touch page faults, measured at
// ~13 µs a 4 KiB page on the bench's VM, ~3 µs a 1 KiB packet, five times all the rest
// of its path. So the file takes the writer's buffer instead of copying it and gives the
// writer a spare one of the same size from the pool, and every buffer written goes back
// to the pool, up to the bound of what a file queues. Keeping only 8 MiB of spares made a
// 300 MB/s capture allocate, fault and discard buffers without end, and even a pool that
// keeps them all faults its way up to the queue's bound during the first burst — when
// the capture is furthest behind — unless reserve() touched them beforehand.

/** Bytes a recording queues at most; beyond, its writes are synchronous (back-pressure). */
export const MAX_QUEUED_BYTES = 32 << 20;
/** Written buffers kept for reuse, in bytes at most: as many as can be queued at once. */
export const MAX_SPARE_BYTES = MAX_QUEUED_BYTES;
const PAGE_BYTES = 4096;

/** Buffers written and free again, for the next to fill. */
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
