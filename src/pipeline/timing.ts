// The times a live capture and a replay of its recording must agree on, defined once:
// a replay judges a recording as the capture that made it judged live only while both
// use the same figures.
import { COUNTER_POLL_MS } from '../sources/counter-poll.js';

/**
 * The hold: how long live packet lines and verdicts wait for other interfaces' packets
 * before they are printed in time order or judged. Local: a TPACKET_V3 ring block is
 * handed over at most 50 ms after its first packet and read at once (a ring left with
 * packets unread holds judging back by itself: CaptureSession.unreadAfter), and the
 * drop counters are read at each judge tick, before judging — 350 ms covers a block, a
 * judge tick (JUDGE_INTERVAL_MS) and a tick up to LATE_TICK_MS (live.ts) late. It was
 * 600 ms while the counters were read only every COUNTER_POLL_MS (250). Remote:
 * tcpdump's 1 s buffer and ssh.
 */
export const HOLD_LOCAL_MS = 350;
export const HOLD_REMOTE_MS = 2500;

/** The hold of a run with (or without) interfaces on remote hosts. */
export function holdMs(remote: boolean): number {
  return remote ? HOLD_REMOTE_MS : HOLD_LOCAL_MS;
}

/**
 * A replay judges only what is due this long before the latest packet it read
 * (Correlator packetLagMs): a recording holds packets in the order the capture read
 * them, which trails their time stamps by up to the live hold, and by more where the
 * capture was held up and its judging waited for the packets it read late. A verdict
 * depends on the order packets were read, never on when it was judged, so waiting
 * longer than the live hold gives the same verdicts: locally the replay keeps 600 ms,
 * the live hold of earlier recordings, whichever made the recording.
 */
export const REPLAY_LAG_LOCAL_MS = 600;

/** The replay's lag for a recording with (or without) interfaces on remote hosts. */
export function replayLagMs(remote: boolean): number {
  return remote ? HOLD_REMOTE_MS : REPLAY_LAG_LOCAL_MS;
}

/**
 * Live: an exchange whose deadline passed this long ago (ms) is overdue. Its packets
 * have reached the capture by then (locally a ring block of 50 ms and a judge interval;
 * remotely tcpdump's 1 s buffer), so what it would be judged now is, almost always,
 * its verdict after the hold: the cause of a problem is looked for from then
 * (Correlator lookAhead, causes.ts anticipate), and the hold and the reading overlap.
 */
export const OVERDUE_LOCAL_MS = 100;
export const OVERDUE_REMOTE_MS = 1200;

/**
 * Overdue exchanges looked at per judge interval at most: 2560 a second, far more than
 * the problems explained a second (causes.ts EXPLAINED_PER_SECOND), while under tens of
 * thousands of exchanges a second the look does not double the work of judging.
 */
export const OVERDUE_LOOKS_PER_TICK = 256;

/** The overdue lag of a run with (or without) interfaces on remote hosts. */
export function overdueMs(remote: boolean): number {
  return remote ? OVERDUE_REMOTE_MS : OVERDUE_LOCAL_MS;
}

/**
 * A live capture learns of kernel drops when it reads the counters: the drops a
 * recording's statistics block reports happened in the poll interval before it.
 */
export const DROP_WINDOW_NS = COUNTER_POLL_MS * 1_000_000;

/** Live: how often verdicts whose hold has passed are given, and held packet lines printed. */
export const JUDGE_INTERVAL_MS = 100;
export const PRINT_INTERVAL_MS = 100;
/** Live: how often output is flushed when nothing else flushed it. */
export const FLUSH_INTERVAL_MS = 1000;

/** Exchanges judged at the end between two looks at stdout (a few MB of JSON). */
export const FINISH_STEP = 4096;
