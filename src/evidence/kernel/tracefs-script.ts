// The script that traces skb:kfree_skb on a remote host (docs/json-lines.md `cause`), in a tracefs
// instance of its own — never the global trace buffer other tools use:
//
//   /sys/kernel/tracing/instances/hopscope-<pid>-<nonce>
//
// <pid> is the script's own shell on the host, <nonce> a random word of this run that
// also appears in that shell's command line. A run killed before it could clean up
// leaves its instance; the next run on the host removes every hopscope-* instance
// whose shell no longer runs with its nonce (its event disabled, a reader left behind
// ended, the directory removed) and says so.
//
// The instance's event is filtered to IPv4, IPv6 and ARP (`protocol == …`), stamped
// with the `mono` trace clock, and read from trace_pipe as the kernel writes it; the
// lines go out on stdout in the order they come. To turn trace times into wall-clock
// times the script writes a marker between two `date` calls: the marker's trace time
// and the mean of the two dates pair the clocks (a millisecond or so apart).
//
// Life: the trace ends, and the instance is removed, when the session's stdin closes
// (stop(), this process dying, the connection dropping — remote-capture.ts does the
// same), or when the shell gets SIGHUP/SIGTERM/SIGINT. Where tracefs is not mounted
// (`ip netns exec` mounts a /sys of the namespace, without it) the script mounts it in a
// mount namespace of its own (unshare), which disappears with it: the host's mounts
// are left as they were.
//
// Output lines:
//   @@hopscope removed-stale NAME     an instance of a killed run was removed
//   @@hopscope unavailable REASON     no trace here (no tracefs, not root, …): the script ends
//   @@hopscope sync DATE1 DATE2       wall clock around the marker
//   @@hopscope tracing NAME           the event is enabled
//   …trace_pipe lines… (with a `hopscope-tick` marker every second: how far it has come)
//   @@hopscope removed NAME           the end: the instance is gone
import { shellQuote } from '../../sources/shell-quote.js';

export const TRACEFS_MARKER = '@@hopscope';
export const SYNC_MARK = 'hopscope-sync';
/** Written to the instance every second: how far the trace has been read (drops lag behind in trace_pipe). */
export const TICK_MARK = 'hopscope-tick';
/** The event's filter: EtherTypes of IPv4, IPv6, ARP. */
export const TRACEFS_FILTER = 'protocol == 2048 || protocol == 34525 || protocol == 2054';

/** A nonce is letters and digits: it is matched in a command line with grep -F. */
export function validNonce(nonce: string): boolean {
  return /^[a-z0-9]{6,32}$/.test(nonce);
}

export function tracefsScript(nonce: string): string {
  if (!validNonce(nonce)) throw new Error(`bad nonce ${JSON.stringify(nonce)}`);
  const m = TRACEFS_MARKER;
  return [
    'PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL',
    'T=""',
    'for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do if [ -d "$d/instances" ]; then T=$d; break; fi; done',
    // not mounted here: mount it in a mount namespace of our own, once
    'if [ -z "$T" ] && [ -z "$HOPSCOPE_UNSHARED" ] && command -v unshare >/dev/null 2>&1; then ' +
      'HOPSCOPE_UNSHARED=1; export HOPSCOPE_UNSHARED; ' +
      `exec unshare -m --propagation private sh -c 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; exec sh -c "$1" sh "$1"' sh "$1"; fi`,
    `if [ -z "$T" ]; then echo "${m} unavailable no tracefs on this host (mount it on /sys/kernel/tracing)"; exit 0; fi`,
    // instances of runs that were killed: their shell is gone (or is another process now)
    'for d in "$T"/instances/hopscope-*; do [ -d "$d" ] || continue; n=${d##*/hopscope-}; p=${n%%-*}; k=${n#*-}; ' +
      'if ! tr "\\0" " " </proc/$p/cmdline 2>/dev/null | grep -qF -- "$k"; then ' +
      'echo 0 >"$d/events/skb/kfree_skb/enable" 2>/dev/null; ' +
      'for q in /proc/[0-9]*; do if ls -l "$q/fd" 2>/dev/null | grep -qF "$d/trace_pipe"; then kill "${q#/proc/}" 2>/dev/null; fi; done; ' +
      'i=0; while ! rmdir "$d" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; ' +
      `[ -d "$d" ] || echo "${m} removed-stale \${d##*/}"; fi; done`,
    `N=hopscope-$$-${nonce}`,
    'I="$T/instances/$N"; E="$I/events/skb/kfree_skb"',
    `if ! mkdir "$I" 2>/dev/null; then echo "${m} unavailable cannot create a tracing instance in $T/instances (needs root)"; exit 0; fi`,
    `if [ ! -d "$E" ]; then rmdir "$I"; echo "${m} unavailable this kernel has no skb:kfree_skb tracepoint"; exit 0; fi`,
    'c=""; w=""; t=""',
    `cleanup() { [ -n "$c" ] && kill $c 2>/dev/null; [ -n "$w" ] && kill $w 2>/dev/null; [ -n "$t" ] && kill $t 2>/dev/null; echo 0 >"$E/enable" 2>/dev/null; i=0; while ! rmdir "$I" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; echo "${m} removed $N"; }`,
    "trap 'cleanup; exit 0' HUP TERM INT",
    'echo mono >"$I/trace_clock" 2>/dev/null',
    `echo ${shellQuote(TRACEFS_FILTER)} >"$E/filter" 2>/dev/null`,
    `if ! echo 1 >"$E/enable" 2>/dev/null; then cleanup >/dev/null; echo "${m} unavailable cannot enable skb:kfree_skb"; exit 0; fi`,
    `a=$(date +%s.%N); echo ${SYNC_MARK} >"$I/trace_marker"; b=$(date +%s.%N); echo "${m} sync $a $b"`,
    `echo "${m} tracing $N"`,
    'exec 3<&0',
    'cat "$I/trace_pipe" </dev/null 3<&- & c=$!',
    `(while echo ${TICK_MARK} >"$I/trace_marker"; do sleep 1; done) </dev/null >/dev/null 2>&1 3<&- & t=$!`,
    '(read _ <&3; kill $c) </dev/null >/dev/null 2>&1 & w=$!',
    'exec 3<&-',
    'wait $c 2>/dev/null',
    'cleanup',
  ].join('\n');
}

/** The string ssh sends: the script runs under `sh -c` with itself as $1 (to re-run itself under unshare). */
export function tracefsCommand(nonce: string): string {
  const script = tracefsScript(nonce);
  return `exec sh -c ${shellQuote(script)} sh ${shellQuote(script)}`;
}
