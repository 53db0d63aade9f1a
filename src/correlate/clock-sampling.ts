// Hosts' clock offsets from the exchanges themselves (clock.ts): an
// exchange whose question and answer were both seen on interfaces of the reference
// host and of another host bounds that host's offset, as NTP does; the estimates go
// out as `clock` records when they first exist and when they move. Per exchange
// judged (with more than one host), never per packet.
import type { ClockRecord } from '../events/types.js';
import { ClockEstimator, offsetInterval } from './clock.js';
import { KIND_SPECS, type Kind } from './kinds/table.js';
import {
  EX_INTS,
  ExInt,
  type ExchangeRows,
  Sighting,
  SIGHTING_FIELDS,
  Tr,
  TRACK_INTS,
  type TrackRows,
} from './tables.js';

/** An estimate moved by more than this (ns) is reported again (not every sample's jitter). */
const REPORT_CHANGE_NS = 100_000;

/** One interface's sightings of the question and of its answer: their times, and how finely it tells time. */
interface RoundTrip {
  host: number;
  ask: number;
  ans: number;
  res: number;
}

export interface ClockSamplingContext {
  readonly clock: ClockEstimator;
  /** host index → its name (null: this machine); index 0 is the reference */
  readonly hosts: ReadonlyArray<string | null>;
  /** interface id → host index */
  readonly hostOf: readonly number[];
  /** interface id → time stamp resolution in ns */
  readonly resolutionOf: readonly number[];
  /** a host's estimate changed (the correlator puts its packets on the reference clock with it) */
  offsetChanged(host: number): void;
  onClock?(record: ClockRecord): void;
}

export class ClockSampling {
  readonly #c: ClockSamplingContext;
  /** host → the offset last reported */
  readonly #reported = new Map<number, number>();

  constructor(context: ClockSamplingContext) {
    this.#c = context;
  }

  /**
   * Clock samples from exchange x: for each other host, of the pairs of interfaces (one
   * on the reference host, one on it) that saw both a question and its answer (the
   * kind's clockPairs), the pair that bounds the offset most tightly — the two ends of
   * the crossing between the hosts, whose round trips differ least.
   */
  sample(X: ExchangeRows, T: TrackRows, x: number): void {
    const c = this.#c;
    if (c.hosts.length < 2) return;
    const f = T.sightings.f;
    for (const [askIdx, ansIdx] of KIND_SPECS[X.ints[x * EX_INTS + ExInt.Kind] as Kind].clockPairs) {
      const ask = X.ints[x * EX_INTS + ExInt.Stages + askIdx] - 1;
      const ans = X.ints[x * EX_INTS + ExInt.Stages + ansIdx] - 1;
      if (ask < 0 || ans < 0) continue;
      const ref: RoundTrip[] = [];
      const others: RoundTrip[] = [];
      for (let r = T.ints[ask * TRACK_INTS + Tr.Head]; r >= 0; r = f[r * SIGHTING_FIELDS + Sighting.Next]) {
        const iface = f[r * SIGHTING_FIELDS + Sighting.Iface];
        const j = T.find(ans, iface);
        if (j < 0) continue;
        const host = c.hostOf[iface] ?? 0;
        (host === 0 ? ref : others).push({
          host,
          ask: f[r * SIGHTING_FIELDS + Sighting.Time],
          ans: f[j * SIGHTING_FIELDS + Sighting.Time],
          res: c.resolutionOf[iface] ?? 1,
        });
      }
      if (ref.length === 0 || others.length === 0) continue;
      const best = new Map<number, { lo: number; hi: number }>();
      for (const o of others) {
        for (const own of ref) {
          const iv = offsetInterval(own.ask, o.ask, own.ans, o.ans, own.res, o.res);
          const known = best.get(o.host);
          if (known === undefined || iv.hi - iv.lo < known.hi - known.lo) best.set(o.host, iv);
        }
      }
      for (const [host, iv] of best) {
        if (!c.clock.addSample(host, iv.lo, iv.hi)) continue;
        c.offsetChanged(host);
        this.#changed(host);
      }
    }
  }

  /** A bound on `host`'s offset known before any exchange (a replay's first read: clock-probe.ts). */
  seed(host: number, loNs: number, hiNs: number): void {
    if (!this.#c.clock.addSample(host, loNs, hiNs, false)) return;
    this.#c.offsetChanged(host);
    this.#changed(host);
  }

  /** Reports the first estimate of a host and changes beyond REPORT_CHANGE_NS. */
  #changed(host: number): void {
    const offset = this.#c.clock.offsetNs(host);
    const last = this.#reported.get(host);
    if (last === undefined || Math.abs(last - offset) > REPORT_CHANGE_NS) {
      this.#reported.set(host, offset);
      this.#report(host);
    }
  }

  /** Every host's final estimate. */
  reportAll(): void {
    for (const host of this.#c.clock.hosts()) this.#report(host);
  }

  #report(host: number): void {
    const c = this.#c;
    const offsetNs = c.clock.offsetNs(host);
    const offsetMs = Math.round(offsetNs / 1e3) / 1e3;
    // rounded up, and widened by the offset's own rounding: the truth stays within what is written
    const uncertaintyNs = c.clock.uncertaintyNs(host) + Math.abs(offsetMs * 1e6 - offsetNs);
    c.onClock?.({
      type: 'clock',
      host: c.hosts[host] ?? 'local',
      reference: c.hosts[0] ?? 'local',
      offsetMs,
      uncertaintyMs: Math.ceil(uncertaintyNs / 1e3) / 1e3,
      samples: c.clock.samples(host),
    });
  }
}
