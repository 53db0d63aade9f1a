// Exchange key slot (30 bits) → row: the correlator's index of its exchanges in flight
// (tables.ts holds the rows) and the learned path's of its flows (learned.ts).

/** A SlotIndex bucket's numbers. */
const enum Bucket {
  /** row + 1 (0: empty) */
  Row = 0,
  /** the slot of that row */
  Slot = 1,
  Ints = 2,
}

/**
 * Exchange key slot → exchange row: open addressing with linear probing and
 * backward-shift deletion (no tombstones, so lookups stay short however many
 * exchanges come and go). Holds at most one row per slot.
 */
export class SlotIndex {
  /** Buckets of Bucket.Ints numbers, side by side so a probe touches one cache line. */
  #buckets: Int32Array;
  #mask: number;
  #size = 0;

  /** Room for `expected` slots before the first resize (rounded up to a power of two). */
  constructor(expected = 2048) {
    let n = 4096;
    while (n < expected * 2) n *= 2;
    this.#buckets = new Int32Array(Bucket.Ints * n);
    this.#mask = n - 1;
  }

  get size(): number {
    return this.#size;
  }

  #home(slot: number): number {
    return (Math.imul(slot, 0x9e3779b1) >>> 0) & this.#mask;
  }

  /** The row of `slot`, or -1. */
  get(slot: number): number {
    const b = this.#buckets;
    const mask = this.#mask;
    for (let i = this.#home(slot); ; i = (i + 1) & mask) {
      const v = b[Bucket.Ints * i + Bucket.Row];
      if (v === 0) return -1;
      if (b[Bucket.Ints * i + Bucket.Slot] === slot) return v - 1;
    }
  }

  /** Adds slot → row (the slot must be absent). */
  set(slot: number, row: number): void {
    // at most half the buckets in use: probe runs stay short
    if ((this.#size + 1) * 2 * Bucket.Ints > this.#buckets.length) this.#resize((this.#mask + 1) * 2);
    this.#insert(slot, row);
    this.#size++;
  }

  delete(slot: number): void {
    const b = this.#buckets;
    const mask = this.#mask;
    let i = this.#home(slot);
    for (; ; i = (i + 1) & mask) {
      if (b[Bucket.Ints * i + Bucket.Row] === 0) return;
      if (b[Bucket.Ints * i + Bucket.Slot] === slot) break;
    }
    // Backward shift: move later entries of the probe run into the hole when their
    // home position allows, so no lookup ever stops early at it.
    let hole = i;
    for (let j = (i + 1) & mask; b[Bucket.Ints * j + Bucket.Row] !== 0; j = (j + 1) & mask) {
      const home = this.#home(b[Bucket.Ints * j + Bucket.Slot]);
      // j's entry may move to the hole when its home is not cyclically in (hole, j]
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        b[Bucket.Ints * hole + Bucket.Row] = b[Bucket.Ints * j + Bucket.Row];
        b[Bucket.Ints * hole + Bucket.Slot] = b[Bucket.Ints * j + Bucket.Slot];
        hole = j;
      }
    }
    b[Bucket.Ints * hole + Bucket.Row] = 0;
    this.#size--;
  }

  #insert(slot: number, row: number): void {
    const b = this.#buckets;
    let i = this.#home(slot);
    while (b[Bucket.Ints * i + Bucket.Row] !== 0) i = (i + 1) & this.#mask;
    b[Bucket.Ints * i + Bucket.Row] = row + 1;
    b[Bucket.Ints * i + Bucket.Slot] = slot;
  }

  #resize(n: number): void {
    const old = this.#buckets;
    this.#buckets = new Int32Array(Bucket.Ints * n);
    this.#mask = n - 1;
    for (let i = 0; i < old.length; i += Bucket.Ints)
      if (old[i + Bucket.Row] !== 0) this.#insert(old[i + Bucket.Slot], old[i + Bucket.Row] - 1);
  }
}
