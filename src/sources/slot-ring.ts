// A one-way pipe of records between two threads over shared memory: a ring of byte
// slots, each empty (length 0) or full (its length in bytes). The writer fills slots
// in order and publishes each whole; the reader takes them in the same order and hands
// each back empty. Nothing is copied or posted per record: a slot holds thousands.
// When every slot is full the writer waits (Atomics.wait, allowed on a worker), so a
// slow reader bounds the memory in flight to the ring; the reader waits without
// blocking its event loop (Atomics.waitAsync), so its output keeps flowing.
//
// Records are 8-byte aligned inside a slot (Float64Array access) and never straddle
// two slots. A record starts with one 32-bit word: its type (low 8 bits) and its
// length in 8-byte units (the rest).

export interface SlotRingBuffers {
  /** one Int32 per slot: its byte length when full, 0 when empty */
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  slots: number;
  slotBytes: number;
}

export const DEFAULT_SLOTS = 8;
export const DEFAULT_SLOT_BYTES = 1 << 20;

export function createSlotRing(slots = DEFAULT_SLOTS, slotBytes = DEFAULT_SLOT_BYTES): SlotRingBuffers {
  if (slotBytes % 8 !== 0 || slotBytes < 64) throw new RangeError('slotBytes: a multiple of 8, at least 64');
  return {
    control: new SharedArrayBuffer(4 * slots),
    data: new SharedArrayBuffer(slots * slotBytes),
    slots,
    slotBytes,
  };
}

/** Record header word: type and length (8-byte units). */
export function recordHeader(type: number, bytes: number): number {
  return (type & 0xff) | ((bytes >>> 3) << 8);
}
export function recordType(header: number): number {
  return header & 0xff;
}
export function recordBytes(header: number): number {
  return (header >>> 8) << 3;
}

/** Views over the ring's data, shared by writer and reader. */
class RingViews {
  readonly control: Int32Array;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly slots: number;
  readonly slotBytes: number;

  constructor(ring: SlotRingBuffers) {
    this.control = new Int32Array(ring.control);
    this.u8 = new Uint8Array(ring.data);
    this.i32 = new Int32Array(ring.data);
    this.f64 = new Float64Array(ring.data);
    this.slots = ring.slots;
    this.slotBytes = ring.slotBytes;
  }
}

export class SlotWriter extends RingViews {
  #slot = 0;
  /** byte offset (in the whole data) of the next record, and of the current slot's end */
  #pos = 0;
  #end: number;
  /** the writer is waiting for the current slot to be handed back */
  #needSlot = true;

  constructor(ring: SlotRingBuffers) {
    super(ring);
    this.#end = this.slotBytes;
  }

  /** Largest record a slot takes. */
  get maxRecordBytes(): number {
    return this.slotBytes;
  }

  /**
   * Byte offset where a record of `bytes` (a multiple of 8) is to be written; it is
   * in the ring once `commit(bytes)` is called. Publishes the current slot first when
   * the record does not fit in what is left of it.
   */
  reserve(bytes: number): number {
    if (bytes > this.slotBytes) throw new RangeError(`record of ${bytes} bytes exceeds a slot`);
    if (this.#needSlot) this.#waitEmpty();
    if (this.#pos + bytes > this.#end) {
      this.publish();
      this.#waitEmpty();
    }
    return this.#pos;
  }

  commit(bytes: number): void {
    this.#pos += bytes;
  }

  /** Bytes the current slot still takes. */
  get room(): number {
    return this.#needSlot ? this.slotBytes : this.#end - this.#pos;
  }

  /** Hands the current slot (if it holds anything) to the reader. */
  publish(): void {
    if (this.#needSlot) return;
    const start = this.#slot * this.slotBytes;
    const used = this.#pos - start;
    if (used === 0) return;
    Atomics.store(this.control, this.#slot, used);
    Atomics.notify(this.control, this.#slot);
    this.#slot = (this.#slot + 1) % this.slots;
    this.#needSlot = true;
  }

  #waitEmpty(): void {
    // The reader empties slots in order: wait for this one.
    for (let v = Atomics.load(this.control, this.#slot); v !== 0; v = Atomics.load(this.control, this.#slot))
      Atomics.wait(this.control, this.#slot, v);
    this.#pos = this.#slot * this.slotBytes;
    this.#end = this.#pos + this.slotBytes;
    this.#needSlot = false;
  }
}

export class SlotReader extends RingViews {
  #slot = 0;
  #aborted = false;

  /**
   * The next full slot as [start, end) byte offsets, waiting for it; null once
   * `abort()` was called (the writer is gone).
   */
  async next(): Promise<{ start: number; end: number } | null> {
    for (;;) {
      // What the writer published before it died is still read.
      const used = Atomics.load(this.control, this.#slot);
      if (used !== 0) {
        const start = this.#slot * this.slotBytes;
        return { start, end: start + used };
      }
      if (this.#aborted) return null;
      const w = Atomics.waitAsync(this.control, this.#slot, 0);
      if (w.async) await w.value;
    }
  }

  /** Hands the slot `next()` returned back to the writer. */
  release(): void {
    Atomics.store(this.control, this.#slot, 0);
    Atomics.notify(this.control, this.#slot);
    this.#slot = (this.#slot + 1) % this.slots;
  }

  /** The writer died: wake a waiting `next()`, which returns null. */
  abort(): void {
    this.#aborted = true;
    Atomics.notify(this.control, this.#slot);
  }
}
