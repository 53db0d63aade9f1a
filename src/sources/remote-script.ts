// What a remote capture runs on its host: `tcpdump -U -w -` (inside a namespace with
// `ip netns exec`, or nsenter for `pid:N`) in a POSIX sh script, whose stdout, a pcap
// stream, the session frames as it comes (remote-session.ts).
//
// The remote command is one string parsed by the remote shell (ssh has no argv),
// so it is built only from validated values, each single-quoted (shell-quote.ts).
//
// How a capture stops (the part that decides whether the last packets and the
// drop counters arrive): tcpdump flushes and prints "N packets captured / M
// received by filter / K dropped by kernel" only when it gets SIGINT or SIGTERM.
// Without a terminal, closing ssh sends nothing to the remote process: killing
// the local ssh would leave tcpdump running until its next write fails (SIGPIPE,
// counters lost on a closed stderr). Allocating a tty (-t) would deliver SIGHUP
// but mangles binary stdout (\n → \r\n). So the remote script ties tcpdump to
// the session's stdin:
//
//   tcpdump … </dev/null &               the capture, stdout = the session's stdout
//   ( read _ <&3; kill -TERM $pid ) &    a watcher blocked on the session's stdin
//   wait $pid; kill $watcher; exit $rc   the session ends when tcpdump ends
//
// `stop()` closes ssh's stdin → EOF reaches the watcher → SIGTERM → tcpdump
// flushes, prints its counts and exits → the session closes. Without
// --immediate-mode, libpcap reads the kernel ring (TPACKET_V3) a block at a
// time, and the kernel hands over a partly filled block only when tcpdump's
// 1 s block timeout expires; tcpdump does not drain the ring when signalled, so
// packets of the last second would be counted "received by filter" and never
// written. The watcher therefore waits STOP_FLUSH_SECONDS before the SIGTERM:
// every packet that arrived before stop() is written. The same EOF
// happens when this process dies (even SIGKILL: the pipe closes) or when the
// connection drops (sshd closes the session's pipes), so no remote tcpdump is
// left behind. If tcpdump fails by itself (no such device), `wait` returns and
// the session ends at once with its message. SIGTERM, not SIGINT: a
// non-interactive shell starts background jobs with SIGINT ignored. The watcher
// reads a copy of stdin on fd 3 because background jobs get /dev/null as stdin.
// The script runs under `sh -c`, so its meaning does not depend on the user's
// login shell (which only has to parse `exec sh -c '…'`).
//
// Time stamps: tcpdump writes µs unless given --time-stamp-precision=nano (tcpdump
// >= 4.6 built with libpcap >= 1.5); in µs, a packet on a tap and on its bridge get
// the same stamp. The script asks for nanoseconds where the host's tcpdump takes the
// option, found out on the host itself, without another ssh round trip:
//
//   if T --time-stamp-precision=nano --version || ! T --version   (quietly)
//   then set -- --time-stamp-precision=nano; else set --; fi
//   … T -i IFACE … "$@" -n -- FILTER
//
// A tcpdump that knows --version but rejects the option is run without it. One that
// knows neither (old) or is not there is run with it: then its own error is what the
// session reports, and a rejected option makes the next session go without (the
// no_nano_precision failure). What the stream then holds is told by its pcap magic
// (a1b2c3d4 µs, a1b23c4d ns), never by what was asked: the interface's tsResolutionNs.

import { CONTROL, invalidArgument, show } from './remote-error.js';
import { shellJoin, shellQuote } from './shell-quote.js';
import { SESSION_MARKER } from './tcpdump-stderr.js';

/** Linux IFNAMSIZ (16) less the terminating NUL. */
const MAX_IFACE_BYTES = 15;
/** NAME_MAX: a named namespace is a file in /run/netns. */
const MAX_NETNS_BYTES = 255;
const MAX_SNAPLEN = 262144;

/** The rules the kernel applies to a device name (dev_valid_name), checked before anything reaches a shell. */
export function validateInterfaceName(iface: string): void {
  if (iface === '') invalidArgument('interface name is empty');
  if (Buffer.byteLength(iface) > MAX_IFACE_BYTES)
    invalidArgument(`interface name ${show(iface)} is longer than ${MAX_IFACE_BYTES} bytes (Linux IFNAMSIZ)`);
  if (iface === '.' || iface === '..') invalidArgument(`interface name ${show(iface)} is not valid`);
  if (iface.includes('/')) invalidArgument(`interface name ${show(iface)} contains '/'`);
  if (/\s/.test(iface) || CONTROL.test(iface))
    invalidArgument(`interface name ${show(iface)} contains whitespace or control characters`);
}

/** A named namespace is a file name under /run/netns; `pid:N` names a process's namespace. */
export function validateNetnsName(netns: string): void {
  if (/^pid:\d+$/.test(netns)) return;
  if (netns === '') invalidArgument('network namespace name is empty');
  if (netns === '.' || netns === '..') invalidArgument(`network namespace name ${show(netns)} is not valid`);
  if (netns.includes('/')) invalidArgument(`network namespace name ${show(netns)} contains '/'`);
  if (CONTROL.test(netns))
    invalidArgument(`network namespace name ${show(netns)} contains control characters`);
  // `ip netns exec -x …` would be read as an option of ip.
  if (netns.startsWith('-')) invalidArgument(`network namespace name ${show(netns)} begins with '-'`);
  if (Buffer.byteLength(netns) > MAX_NETNS_BYTES)
    invalidArgument(
      `network namespace name ${show(netns).slice(0, 40)}… is longer than ${MAX_NETNS_BYTES} bytes`,
    );
}

/**
 * The filter as tcpdump gets it: one argument. Line ends and tabs become spaces
 * (the BPF lexer treats all whitespace alike), which keeps the remote command on
 * one line whatever shell reads it; other control characters are refused.
 */
export function normalizeFilter(filter: string | undefined): string | null {
  if (filter === undefined) return null;
  const text = filter.replace(/[\t\r\n]/g, ' ');
  if (CONTROL.test(text)) invalidArgument(`capture filter ${show(filter)} contains control characters`);
  return text.trim() === '' ? null : text;
}

/** tcpdump's bytes per packet: 0 (its default, all of it) to 262144. */
export function validateSnaplen(snaplen: number): void {
  if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > MAX_SNAPLEN)
    invalidArgument(`snaplen ${snaplen} is not an integer from 0 to ${MAX_SNAPLEN}`);
}

/** The program the script runs as tcpdump: a path or a name on the host's PATH. */
export function validateTcpdumpPath(tcpdumpPath: string): void {
  if (tcpdumpPath === '' || CONTROL.test(tcpdumpPath))
    invalidArgument(`tcpdump path ${show(tcpdumpPath)} is not valid`);
}

export interface RemoteCommandInput {
  netns: string | null;
  iface: string;
  filter: string | null;
  snaplen: number;
  tcpdumpPath: string;
  immediate: boolean;
  /**
   * true: nanosecond time stamps where the host's tcpdump takes the option (the script
   * finds out, see the header comment); false: never asked (it was rejected before).
   */
  nano: boolean;
}

/** The option asking tcpdump for nanosecond time stamps. */
export const NANO_OPTION = '--time-stamp-precision=nano';

/** The capture's words before and after the place of NANO_OPTION. */
function captureWords(input: RemoteCommandInput): { head: string[]; tail: string[] } {
  const enter: string[] = [];
  if (input.netns !== null) {
    const pid = /^pid:(\d+)$/.exec(input.netns);
    // nsenter without --fork execs the program, so the pid the script signals is tcpdump's.
    enter.push(...(pid !== null ? ['nsenter', '-t', pid[1], '-n'] : ['ip', 'netns', 'exec', input.netns]));
  }
  return {
    head: [...enter, input.tcpdumpPath, '-i', input.iface, '-U', '-w', '-', '-s', String(input.snaplen)],
    tail: [
      ...(input.immediate ? ['--immediate-mode'] : []),
      '-n',
      ...(input.filter !== null ? ['--', input.filter] : []),
    ],
  };
}

/**
 * What runs on the host, as an argument vector, when its tcpdump takes every option
 * asked (without NANO_OPTION where it does not).
 */
export function remoteCaptureArgv(input: RemoteCommandInput): string[] {
  const { head, tail } = captureWords(input);
  return [...head, ...(input.nano ? [NANO_OPTION] : []), ...tail];
}

/**
 * The capture command as the script holds it: every word single-quoted, and with
 * `nano` a `"$@"` where NANO_OPTION goes — set, or not, by precisionProbe.
 */
export function remoteCaptureText(input: RemoteCommandInput): string {
  const { head, tail } = captureWords(input);
  return `${shellJoin(head)}${input.nano ? ' "$@"' : ''} ${shellJoin(tail)}`;
}

/** Sets the script's "$@" to NANO_OPTION where the host's tcpdump takes it, else empties it. */
export function precisionProbe(tcpdumpPath: string): string {
  const t = shellQuote(tcpdumpPath);
  const option = shellQuote(NANO_OPTION);
  const quiet = '</dev/null >/dev/null 2>&1';
  return `if ${t} ${option} --version ${quiet} || ! ${t} --version ${quiet}; then set -- ${option}; else set --; fi; `;
}

/**
 * Seconds between stop() and the SIGTERM when not in immediate mode: tcpdump's
 * 1 s ring-block timeout, and a margin (see the header comment).
 */
export const STOP_FLUSH_SECONDS = 1.5;

/** The POSIX sh script around the capture (see the header comment for why each piece is there). */
export function remoteScript(input: RemoteCommandInput): string {
  // In immediate mode nothing waits in the kernel's ring: no flush wait.
  const flushSeconds = input.immediate ? 0 : STOP_FLUSH_SECONDS;
  // A `sleep` without fractions fails at once; the whole-second one then still waits.
  const flush =
    flushSeconds > 0 ? `sleep ${flushSeconds} 2>/dev/null || sleep ${Math.ceil(flushSeconds)}; ` : '';
  return (
    // tcpdump and ip live in sbin, which a non-login PATH may lack; C messages are the ones parsed.
    'PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL; ' +
    `echo ${SESSION_MARKER} >&2; ` +
    (input.nano ? precisionProbe(input.tcpdumpPath) : '') +
    'exec 3<&0; ' +
    `${remoteCaptureText(input)} </dev/null 3<&- & pid=$!; ` +
    `(read _ <&3; ${flush}kill -TERM $pid) </dev/null >/dev/null 2>&1 & w=$!; ` +
    'exec 3<&-; wait $pid; rc=$?; kill $w 2>/dev/null; exit $rc'
  );
}

/** The one string ssh sends: the login shell only has to run `sh` with the quoted script. */
export function remoteCommand(input: RemoteCommandInput): string {
  return `exec sh -c ${shellQuote(remoteScript(input))}`;
}
