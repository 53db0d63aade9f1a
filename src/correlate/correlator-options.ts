// The correlator's options (their defaults are applied where it is built) and the
// fixed bounds and grace times it judges by (docs/verdicts.md; bounds in the README).
import type { ClockRecord, ExchangeRecord } from '../events/types.js';
import type { JudgedExchange } from '../shared/judged-exchange.js';
import { MAX_HOPS } from './hop-order.js';

export interface CorrelatorOptions {
  /**
   * A verdict: its record, or its JSON line straight from the correlator's rows, for
   * the asking — only during this call (shared/judged-exchange.ts).
   */
  onExchange(judged: JudgedExchange): void;
  /**
   * Live: an exchange whose deadline passed while the hold has not (Correlator
   * lookAhead), as it would be judged now — only during this call. Its verdict may
   * still change (a late packet); the pipeline starts looking for a problem's cause.
   */
  onOverdue?(judged: JudgedExchange): void;
  /**
   * Whether a verdict of this status is wanted as a record; false skips building it
   * (it is still counted in the summary). Default: every verdict.
   */
  wants?(status: ExchangeRecord['status']): boolean;
  onClock?(record: ClockRecord): void;
  /** timeout before any RTT is known, default 1000 ms */
  defaultTimeoutMs?: number;
  /** bounds of RTT-adaptive timeouts, default 500 ms .. 5000 ms */
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /**
   * exchanges in flight at most, default 200 000 — those without a DNS name; one with a
   * name weighs 1.2, one with a name over 64 bytes 2 (tables.ts exchangeWeight)
   */
  maxExchanges?: number;
  /** learned flow paths and routes kept, default 65 536 each */
  maxFlows?: number;
  /**
   * true (replay): packet time judges exchanges as it passes their deadlines. false
   * (live capture): only advance() does — packets of several interfaces and hosts
   * arrive out of order, so the caller advances to a time all sources have passed.
   */
  advanceWithPackets?: boolean;
  /**
   * With advanceWithPackets: judge only what is due this long before the latest packet —
   * a recording made live holds packets in arrival order, which across interfaces and
   * hosts trails their time stamps by up to the live hold.
   */
  packetLagMs?: number;
}

/** Sightings kept per stage (interfaces on one path); more are counted, not kept. */
export const MAX_SIGHTINGS = MAX_HOPS;
/** Distinct packets (fingerprints) remembered per stage, to count retransmissions. */
export const MAX_STAGE_PACKETS = 16;
/** An exchange is judged at most this long after its first packet (retries included). */
export const MAX_EXCHANGE_NS = 10e9;
/** tcpdump's buffer timeout (1 s) and a margin: what a remote session that died may not have sent. */
export const REMOTE_UNFLUSHED_NS = 1.5e9;
/**
 * Packets of an exchange up to this long after its timeout still join it (a retry sent
 * right at the timeout); later ones do not, however long the capture holds packets for
 * late sources (0.6 s locally, 2.5 s with remote hosts): verdicts must not depend on it.
 * The local hold, so a local capture judges as it always did.
 */
export const LATE_JOIN_NS = 0.6e9;
/** Multiples of the flow's smoothed RTT before an unanswered stage is judged. */
export const RTT_TIMEOUT_FACTOR = 8;
