// Live sources deliver in batches, one interface at a time: packets of different
// interfaces reach us out of time order by up to a batch interval locally and by
// up to tcpdump's buffer timeout (1 s) plus the ssh round trip remotely. Whoever
// prints a single time-ordered stream holds items for a window and releases them
// in timestamp order once the window has passed. (The recorder does not wait:
// pcapng orders packets per interface, not across them.)

interface Held<T> {
  sec: number;
  nsec: number;
  seq: number;
  item: T;
}

export class TimeOrderBuffer<T> {
  #held: Array<Held<T>> = [];
  #seq = 0;

  get size(): number {
    return this.#held.length;
  }

  push(sec: number, nsec: number, item: T): void {
    this.#held.push({ sec, nsec, seq: this.#seq++, item });
  }

  /**
   * Emits, in timestamp order (arrival order among equal stamps), every item stamped
   * before `horizonSec` (seconds, fractional); keeps the rest.
   */
  release(horizonSec: number, emit: (item: T) => void): void {
    if (this.#held.length === 0 || !(horizonSec > Number.NEGATIVE_INFINITY)) return;
    this.#held.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || a.seq - b.seq);
    // Whole seconds and nanoseconds compared apart: a double of epoch seconds steps by ~240 ns.
    const hSec = Math.floor(horizonSec);
    const hNsec = Number.isFinite(horizonSec) ? Math.round((horizonSec - hSec) * 1e9) : 0;
    let i = 0;
    for (; i < this.#held.length; i++) {
      const h = this.#held[i];
      if (Number.isFinite(horizonSec) && (h.sec > hSec || (h.sec === hSec && h.nsec >= hNsec))) break;
      emit(h.item);
    }
    this.#held = this.#held.slice(i);
  }

  /** Emits everything held, in timestamp order. */
  drain(emit: (item: T) => void): void {
    this.release(Number.POSITIVE_INFINITY, emit);
  }
}
