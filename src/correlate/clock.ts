// Clock offsets between hosts (DESIGN §5.5). When an exchange's asking packet and its
// answer were both seen on an interface of host A and on one of host B, the two
// one-way differences, taken on the same pair of interfaces, hold the link's delay
// with opposite signs; half their sum is B's clock minus A's (NTP's formula):
//
//   θ = ((ask@B − ask@A) + (answer@B − answer@A)) / 2
//
// No ordering is needed to compute it, so it can be applied before ordering sightings
// across hosts. The median of the most recent estimates is applied.

/** Estimates kept per host (median of these). */
const MAX_SAMPLES = 31;

class HostClock {
  samples: number[] = [];
  count = 0;
  offsetNs = 0;
}

export class ClockEstimator {
  readonly #hosts = new Map<number, HostClock>();

  /** Host B's clock minus the reference clock in ns (0 for the reference and for hosts never measured). */
  offsetNs(host: number): number {
    return this.#hosts.get(host)?.offsetNs ?? 0;
  }

  samples(host: number): number {
    return this.#hosts.get(host)?.count ?? 0;
  }

  /** Hosts with at least one sample. */
  hosts(): number[] {
    return [...this.#hosts.keys()];
  }

  /**
   * Adds one estimate of `host` against the reference, in ns; returns true when the
   * applied offset changed.
   */
  addSample(host: number, thetaNs: number): boolean {
    let c = this.#hosts.get(host);
    if (c === undefined) {
      c = new HostClock();
      this.#hosts.set(host, c);
    }
    c.samples.push(thetaNs);
    if (c.samples.length > MAX_SAMPLES) c.samples.shift();
    c.count++;
    const sorted = [...c.samples].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    const changed = median !== c.offsetNs;
    c.offsetNs = median;
    return changed;
  }
}

/** θ from one pair of interfaces (times in ns on each host's own clock). */
export function ntpOffset(askA: number, askB: number, answerA: number, answerB: number): number {
  return (askB - askA + (answerB - answerA)) / 2;
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
