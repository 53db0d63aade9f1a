// Clock offsets between hosts (docs/verdicts.md "Clocks"), with how sure we are of them.
//
// When an exchange's question and its answer were both seen on an interface a of host A
// and on an interface b of host B, each interface measured a round trip on its own
// clock. The two one-way differences hold the crossing's delays with opposite signs;
// half their sum is B's clock minus A's (NTP's formula):
//
//   θ = ((ask@b − ask@a) + (answer@b − answer@a)) / 2
//
// and since no delay is negative, the true offset lies within half the difference of
// the two round trips of θ (NTP's δ/2): the packet cannot reach B before it left A, nor
// come back before it left B. Each sample is that interval, widened by the stamps'
// resolution. The estimate is the intersection of the most recent samples — as many,
// newest first, as still agree (a drifting clock makes old ones disagree) — its middle
// the offset, its half-width the uncertainty: an order that is impossible narrows it,
// it never turns into a verdict. No ordering of hops is needed to compute it, so it can
// be applied before hops are ordered across hosts.

/** Samples kept per host (the newest that agree are intersected). */
const MAX_SAMPLES = 31;

class HostClock {
  readonly lo = new Float64Array(MAX_SAMPLES);
  readonly hi = new Float64Array(MAX_SAMPLES);
  /** ring position of the next sample, and samples held */
  next = 0;
  held = 0;
  count = 0;
  offsetNs = 0;
  uncertaintyNs = Number.POSITIVE_INFINITY;
}

export class ClockEstimator {
  readonly #hosts = new Map<number, HostClock>();

  /** Host B's clock minus the reference clock in ns (0 for the reference and for hosts never measured). */
  offsetNs(host: number): number {
    return this.#hosts.get(host)?.offsetNs ?? 0;
  }

  /**
   * How far the true offset may be from offsetNs, in ns: 0 for the reference host,
   * Infinity for a host never measured.
   */
  uncertaintyNs(host: number): number {
    if (host === 0) return 0;
    return this.#hosts.get(host)?.uncertaintyNs ?? Number.POSITIVE_INFINITY;
  }

  samples(host: number): number {
    return this.#hosts.get(host)?.count ?? 0;
  }

  /** Hosts with at least one sample. */
  hosts(): number[] {
    return [...this.#hosts.keys()];
  }

  /**
   * Adds one sample: `host`'s offset against the reference lies in [loNs, hiNs]. Returns
   * true when the estimate changed. `counted` false: a bound known before any exchange
   * (clock-probe.ts), not one of the exchanges' samples.
   */
  addSample(host: number, loNs: number, hiNs: number, counted = true): boolean {
    let c = this.#hosts.get(host);
    if (c === undefined) {
      c = new HostClock();
      this.#hosts.set(host, c);
    }
    c.lo[c.next] = loNs;
    c.hi[c.next] = hiNs;
    c.next = (c.next + 1) % MAX_SAMPLES;
    if (c.held < MAX_SAMPLES) c.held++;
    if (counted) c.count++;
    // the newest samples, as far back as they still overlap
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    for (let k = 1; k <= c.held; k++) {
      const i = (c.next - k + MAX_SAMPLES) % MAX_SAMPLES;
      const l = c.lo[i] > lo ? c.lo[i] : lo;
      const h = c.hi[i] < hi ? c.hi[i] : hi;
      if (l > h) break;
      lo = l;
      hi = h;
    }
    const offset = (lo + hi) / 2;
    const uncertainty = (hi - lo) / 2;
    const changed = offset !== c.offsetNs || uncertainty !== c.uncertaintyNs;
    c.offsetNs = offset;
    c.uncertaintyNs = uncertainty;
    return changed;
  }
}

/**
 * The interval one pair of interfaces gives (times in ns on each host's own clock): a
 * on the reference host, b on the other, each having seen the question and its answer,
 * with their stamps' resolutions.
 */
export function offsetInterval(
  askA: number,
  askB: number,
  answerA: number,
  answerB: number,
  resolutionA: number,
  resolutionB: number,
): { lo: number; hi: number } {
  const theta = (askB - askA + (answerB - answerA)) / 2;
  const half = Math.abs(answerA - askA - (answerB - askB)) / 2 + resolutionA + resolutionB;
  return { lo: theta - half, hi: theta + half };
}

// A recording names its clock reference in its Section Header Block comment, so that a
// replay puts time stamps on the same host's clock as the live run did, whatever order
// the interfaces happened to start in. Host names never hold parentheses (SPEC grammar).
const REFERENCE_PREFIX = 'hopscope clock reference: ';
const LOCAL_REFERENCE = '(local)';

/** The SHB comment naming the clock reference (null: the capturing machine). */
export function clockReferenceComment(host: string | null): string {
  return REFERENCE_PREFIX + (host ?? LOCAL_REFERENCE);
}

/** The reference host a section's comments name: a host, null for local, undefined when none. */
export function parseClockReference(comments: readonly string[]): string | null | undefined {
  for (const c of comments) {
    if (!c.startsWith(REFERENCE_PREFIX)) continue;
    const host = c.slice(REFERENCE_PREFIX.length).trim();
    if (host === LOCAL_REFERENCE) return null;
    if (host.length > 0) return host;
  }
  return undefined;
}
