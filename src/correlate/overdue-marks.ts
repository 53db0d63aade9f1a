// Which open exchanges were already looked at as overdue (Correlator.lookAhead), and at
// which deadline: each is handed on once per deadline — again only when a later packet
// moved its deadline on. Per exchange row, so nothing is allocated per exchange; live
// only (a replay never looks ahead, and never makes one).

/** No deadline looked at (a row's mark after it is forgotten). */
const UNMARKED = Number.NEGATIVE_INFINITY;

export class OverdueMarks {
  #deadlines = new Float64Array(1024).fill(UNMARKED);

  /** Whether row x was looked at with this deadline already; marks it so. */
  seen(x: number, deadline: number): boolean {
    if (x >= this.#deadlines.length) this.#grow(x);
    if (this.#deadlines[x] === deadline) return true;
    this.#deadlines[x] = deadline;
    return false;
  }

  /** Row x is free again (a new exchange may take it). */
  forget(x: number): void {
    if (x < this.#deadlines.length) this.#deadlines[x] = UNMARKED;
  }

  #grow(x: number): void {
    let n = this.#deadlines.length * 2;
    while (n <= x) n *= 2;
    const grown = new Float64Array(n).fill(UNMARKED);
    grown.set(this.#deadlines);
    this.#deadlines = grown;
  }
}
