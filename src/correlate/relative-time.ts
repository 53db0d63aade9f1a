// The correlator's time: nanoseconds relative to the first packet's second, exact in a
// double for 104 days (a time stamp in ns since 1970 is not). Shared by the packet path
// and what the captures report besides packets (capture-events.ts).

const NS = 1_000_000_000;

export class RelativeTime {
  /** the second of the first time stamp seen; -1 until then */
  baseSec = -1;

  /** Relative ns of a time stamp (the first one seen sets the base second). */
  rel(sec: number, nsec: number): number {
    if (this.baseSec < 0) this.baseSec = sec;
    return (sec - this.baseSec) * NS + nsec;
  }
}
