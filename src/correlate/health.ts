// Capture health per interface (docs/verdicts.md "Inconclusive"): when it was running, when it was gone,
// when the kernel dropped packets. A verdict consults it before blaming the network:
// a packet "missing" on an interface whose capture was not looking is inconclusive.
// Times are relative nanoseconds on the reference clock (see correlator.ts).

/** Most intervals kept per interface; older ones are forgotten (bounded state). */
export const MAX_INTERVALS = 256;

/** A gap in a capture: a row of `gone`. */
const enum Gone {
  From = 0,
  /** +Infinity while still gone */
  To = 1,
  Fields = 2,
}

/** Drops counted between two readings (or over a whole recording): a row of `drops`. */
const enum Drops {
  From = 0,
  To = 1,
  Count = 2,
  Fields = 3,
}

class InterfaceHealth {
  /** capture start, -Infinity when unknown (replay without statistics: assumed running) */
  start = Number.NEGATIVE_INFINITY;
  /** capture end, +Infinity while running */
  end = Number.POSITIVE_INFINITY;
  /** rows of Gone.Fields numbers: [from, to) */
  gone: number[] = [];
  /** rows of Drops.Fields numbers: drops counted between two polls */
  drops: number[] = [];
  lastDropTotal = 0;
  lastPoll = Number.NEGATIVE_INFINITY;
}

export class CaptureHealth {
  readonly #ifaces: InterfaceHealth[] = [];

  #get(iface: number): InterfaceHealth {
    let h = this.#ifaces[iface];
    if (h === undefined) {
      h = new InterfaceHealth();
      this.#ifaces[iface] = h;
    }
    return h;
  }

  started(iface: number, at: number): void {
    const h = this.#get(iface);
    if (h.start === Number.NEGATIVE_INFINITY) h.start = at;
    h.lastPoll = Math.max(h.lastPoll, at);
  }

  stopped(iface: number, at: number): void {
    this.#get(iface).end = at;
  }

  gone(iface: number, at: number): void {
    const h = this.#get(iface);
    const last = h.gone.length - Gone.Fields;
    if (last >= 0 && h.gone[last + Gone.To] === Number.POSITIVE_INFINITY) return;
    if (h.gone.length >= MAX_INTERVALS * Gone.Fields) h.gone.splice(0, Gone.Fields);
    h.gone.push(at, Number.POSITIVE_INFINITY);
  }

  back(iface: number, at: number): void {
    const h = this.#get(iface);
    const last = h.gone.length - Gone.Fields;
    if (last >= 0 && h.gone[last + Gone.To] === Number.POSITIVE_INFINITY) h.gone[last + Gone.To] = at;
  }

  /**
   * A cumulative drop counter read at `at`: an increase is blamed on the time since the
   * last reading, and on at least `window` before `at`.
   */
  dropCounter(iface: number, total: number, at: number, window = 0): void {
    const h = this.#get(iface);
    if (total > h.lastDropTotal) {
      if (h.drops.length >= MAX_INTERVALS * Drops.Fields) h.drops.splice(0, Drops.Fields);
      h.drops.push(Math.min(h.lastPoll, at - window), at, total - h.lastDropTotal);
      h.lastDropTotal = total;
    }
    h.lastPoll = at;
  }

  /**
   * Drops known only as a total over the whole capture (a recording's statistics
   * block): every moment of [from, to] is suspect.
   */
  dropsOverall(iface: number, total: number, from: number, to: number): void {
    if (total <= 0) return;
    const h = this.#get(iface);
    // a recording may hold any number of statistics blocks: bounded like dropCounter's
    if (h.drops.length >= MAX_INTERVALS * Drops.Fields) h.drops.splice(0, Drops.Fields);
    h.drops.push(from, to, total);
    h.lastDropTotal = total;
  }

  /** What was wrong with the capture of `iface` during [from, to], or null when it was looking all along. */
  problem(iface: number, from: number, to: number): string | null {
    const h = this.#ifaces[iface];
    if (h === undefined) return null;
    if (h.start > from) return 'not running yet';
    if (h.end < to) return 'stopped';
    for (let i = 0; i < h.gone.length; i += Gone.Fields) {
      if (h.gone[i + Gone.From] <= to && h.gone[i + Gone.To] >= from) return 'gone';
    }
    for (let i = 0; i < h.drops.length; i += Drops.Fields) {
      if (h.drops[i + Drops.From] <= to && h.drops[i + Drops.To] >= from)
        return `dropped ${h.drops[i + Drops.Count]} packets`;
    }
    return null;
  }
}
