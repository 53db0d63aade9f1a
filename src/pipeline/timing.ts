// The times a live capture and a replay of its recording must agree on, defined once:
// a replay judges a recording as the capture that made it judged live only while both
// use the same figures.
import { COUNTER_POLL_MS } from '../sources/counter-poll.js';

/**
 * The hold: how long live packet lines and verdicts wait for other interfaces' packets
 * before they are printed in time order or judged. Local: as long as a packet past an
 * exchange's timeout may still join it (Correlator LATE_JOIN_NS, a client's retry sent
 * a little late; busybox udhcpc's came 0.13 and 0.24 s late in the lab), so no verdict
 * is given before its retries could have joined it; a TPACKET_V3 ring block is
 * handed over at most 50 ms after its first packet (a ring left with packets unread
 * holds judging back by itself: CaptureSession.unreadAfter), and the drop counters are
 * read at each judge tick, before judging. Remote: tcpdump's 1 s buffer and ssh. A
 * recording holds packets in the order they arrived, which trails their time stamps by
 * up to the same hold: the replay judges only what is due that long before its latest
 * packet (Correlator packetLagMs).
 */
export const HOLD_LOCAL_MS = 600;
export const HOLD_REMOTE_MS = 2500;

/** The hold of a run with (or without) interfaces on remote hosts. */
export function holdMs(remote: boolean): number {
  return remote ? HOLD_REMOTE_MS : HOLD_LOCAL_MS;
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
