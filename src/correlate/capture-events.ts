// What the captures report to the correlator besides packets (docs/verdicts.md
// "Inconclusive"): when each started and stopped, went and came back, and what its drop
// counters said — each put on the correlator's relative time, for the verdicts a gap
// or a drop makes inconclusive (health.ts) and for where a replay ends each interface.
import type { CaptureInterfaces } from './capture-interfaces.js';
import { REMOTE_UNFLUSHED_NS } from './correlator-options.js';
import type { CaptureHealth } from './health.js';
import type { RelativeTime } from './relative-time.js';

export class CaptureEvents {
  readonly #time: RelativeTime;
  readonly #health: CaptureHealth;
  readonly #ifaces: CaptureInterfaces;

  constructor(time: RelativeTime, health: CaptureHealth, ifaces: CaptureInterfaces) {
    this.#time = time;
    this.#health = health;
    this.#ifaces = ifaces;
  }

  started(id: number, sec: number, nsec: number): void {
    this.#health.started(id, this.#time.rel(sec, nsec));
  }

  /**
   * The capture of `id` stopped at (sec, nsec) of its host's clock (a recording's last
   * statistics block): finish() without a time ends it there, on the reference clock.
   */
  stopped(id: number, sec: number, nsec: number): void {
    this.#ifaces.stoppedRel[id] = this.#time.rel(sec, nsec);
  }

  /**
   * The capture of `id` stopped (interface gone, remote session lost) at (sec, nsec). A
   * remote tcpdump that died took its unwritten buffer with it: up to its buffer timeout
   * of packets before that are missing too, so the gap starts that much earlier.
   */
  gone(id: number, sec: number, nsec: number): void {
    const unflushed = this.#ifaces.remote(id) ? REMOTE_UNFLUSHED_NS : 0;
    this.#health.gone(id, this.#time.rel(sec, nsec) - unflushed);
  }

  back(id: number, sec: number, nsec: number): void {
    this.#health.back(id, this.#time.rel(sec, nsec));
  }

  /**
   * A capture's cumulative drop counter read at (sec, nsec). An increase is blamed on
   * the time since the reading before, and on at least `windowNs` before this one: the
   * window a replay blames the same drops on (files.ts, from the recording's statistics
   * block), so that both judge the same moments suspect however often the counters
   * were read live.
   */
  drops(id: number, totalDropped: number, sec: number, nsec: number, windowNs = 0): void {
    this.#health.dropCounter(id, totalDropped, this.#time.rel(sec, nsec), windowNs);
  }

  /** Drops known only as a whole-capture total (a recording's statistics block). */
  dropsOverall(
    id: number,
    totalDropped: number,
    fromSec: number,
    fromNsec: number,
    toSec: number,
    toNsec: number,
  ): void {
    const time = this.#time;
    this.#health.dropsOverall(id, totalDropped, time.rel(fromSec, fromNsec), time.rel(toSec, toNsec));
  }
}
