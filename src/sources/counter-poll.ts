// How often a live capture reads its interfaces' kernel counters (pcap_stats): a drop
// is known this long after it happened at most. Its own module so that a replay, which
// judges a recording's drops over the same window (pipeline/timing.ts), need not load
// the capture session.
export const COUNTER_POLL_MS = 250;
