// What a remote capture session says on stderr, read line by line: ssh's own
// messages, the remote shell's, and tcpdump's ("listening on …", errors, the
// final packet counts). Pure functions, so the wording of every tool is tested
// without a network; and BoundedLines, which keeps what a message may quote.
//
// ssh and the remote command share one stderr. The remote script prints
// SESSION_MARKER first thing, so lines before it are ssh's (or its ProxyCommand's,
// or a login script's) and lines after it the remote command's — which is how a
// `Cannot open network namespace` from a lab ProxyCommand is told from the same
// message printed by `ip netns exec` on the host (the first is "ssh failed", the
// second "netns not found").

/** First line the remote script writes to stderr (see remote-script.ts). */
export const SESSION_MARKER = 'hopscope-remote-session';

export type CountField = 'captured' | 'receivedByFilter' | 'droppedByKernel' | 'droppedByInterface';

export type StderrLine =
  | { kind: 'marker' }
  /** `tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes` */
  | { kind: 'listening'; iface: string; linktypeName: string | null; snaplen: number | null }
  /** one line of the final report: `12 packets captured`, `0 packets dropped by kernel` */
  | { kind: 'count'; field: CountField; value: number }
  /** `tcpdump: WARNING: …` */
  | { kind: 'warning'; message: string }
  | { kind: 'other'; text: string };

// tcpdump's messages begin with its program's name: `tcpdump: `, or another name a
// --remote-tcpdump path gives it (`tcpdump-4.99: listening on …`).
const LISTENING =
  /^(?:[^\s:]+: )?listening on (.+?)(?:, link-type (\S+)(?: \([^)]*\))?)?(?:, snapshot length (\d+) bytes)?$/;
const COUNT = /^(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)$/;
const COUNT_FIELDS: Record<string, CountField> = {
  captured: 'captured',
  'received by filter': 'receivedByFilter',
  'dropped by kernel': 'droppedByKernel',
  'dropped by interface': 'droppedByInterface',
};

export function parseStderrLine(raw: string): StderrLine {
  const line = raw.trim();
  if (line === SESSION_MARKER) return { kind: 'marker' };
  const listening = LISTENING.exec(line);
  if (listening !== null) {
    return {
      kind: 'listening',
      iface: listening[1],
      linktypeName: listening[2] ?? null,
      snaplen: listening[3] !== undefined ? Number(listening[3]) : null,
    };
  }
  const count = COUNT.exec(line);
  if (count !== null) return { kind: 'count', field: COUNT_FIELDS[count[2]], value: Number(count[1]) };
  if (/^[^\s:]+: WARNING: /.test(line)) return { kind: 'warning', message: line };
  return { kind: 'other', text: line };
}

/** tcpdump's final report (printed when it stops cleanly); a field is null when not printed. */
export interface TcpdumpReport {
  captured: number | null;
  receivedByFilter: number | null;
  droppedByKernel: number | null;
  droppedByInterface: number | null;
}

export function emptyReport(): TcpdumpReport {
  return { captured: null, receivedByFilter: null, droppedByKernel: null, droppedByInterface: null };
}

/** Splits a byte stream into lines across chunks (ssh hands stderr over in arbitrary pieces). */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';

  /** Lines completed by this chunk, without their line ends. */
  push(chunk: Uint8Array): string[] {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r$/, ''));
  }

  /** The last line if it had no line end. */
  end(): string[] {
    this.pending += this.decoder.decode();
    const rest = this.pending.replace(/\r$/, '');
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}

export type RemoteFailureKind =
  /** ssh could not connect, authenticate or keep the session (before the remote command ran) */
  | 'ssh_failed'
  /** the session ran and then died: connection dropped, ssh or sshd killed */
  | 'session_lost'
  | 'tcpdump_missing'
  | 'interface_not_found'
  /** the interface exists and is down */
  | 'interface_down'
  /** the interface went away while captured (a tap deleted with its VM) */
  | 'interface_gone'
  | 'netns_not_found'
  | 'permission_denied'
  | 'bad_filter'
  /** this tcpdump/libpcap cannot time stamp in nanoseconds: run again in microseconds */
  | 'no_nano_precision'
  | 'tcpdump_failed'
  /** the stream on stdout is not a pcap capture (a login script printing to stdout) */
  | 'bad_stream'
  | 'start_timeout';

export interface SessionOutcome {
  /** ssh's exit status; null when killed by a signal */
  exitCode: number | null;
  signal: string | null;
  /** stderr lines before SESSION_MARKER: ssh, its ProxyCommand, login scripts */
  sshLines: readonly string[];
  /** stderr lines after SESSION_MARKER: the remote command's, and ssh's own late messages */
  remoteLines: readonly string[];
  markerSeen: boolean;
  listeningSeen: boolean;
}

export interface FailureContext {
  /** ssh destination as given */
  host: string;
  /** `[NETNS/]IFACE` as the user would name it on that host */
  where: string;
  /** the namespace, for "network namespace not found" */
  netns: string | null;
  tcpdumpPath: string;
}

export interface RemoteFailure {
  kind: RemoteFailureKind;
  /** one line, for the user */
  message: string;
}

/** ssh's own complaints, which may arrive after the marker when a running session dies. */
const SSH_MESSAGE =
  /^(?:ssh: |Connection (?:to .* closed|closed by|reset by|refused|timed out)|Timeout, server .* not responding|client_loop: |kex_exchange_identification: |Permission denied \(|Host key verification failed|Received disconnect|Disconnected from|packet_write_wait: |Broken pipe)/;
/** Lines ssh prints on success that say nothing about a failure. */
const SSH_NOISE = /^(?:Warning: Permanently added |Pseudo-terminal will not be allocated)/;

const NANO_UNSUPPORTED =
  /unrecognized option '--time-stamp-precision|unsupported time stamp precision|Can't set nanosecond time stamp precision|time stamp precision .*not supported/i;
const FILTER_ERROR =
  /can't parse filter expression|syntax error|illegal (?:token|qualifier|port|host|char)|unknown (?:host|port|protocol|network|ether)|out of range|expression rejects all packets|not a valid/i;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A shell, `ip netns exec` or nsenter saying the tcpdump program does not exist. */
function isCommandMissing(line: string, program: string): boolean {
  const p = escapeRegExp(program);
  return (
    new RegExp(`${p}: (?:command )?not found`).test(line) || // dash `sh: 1: tcpdump: not found`, bash `…: command not found`
    new RegExp(`command not found: ${p}`).test(line) || // zsh
    new RegExp(`exec of "${p}" failed: No such file or directory`).test(line) || // ip netns exec
    new RegExp(`failed to execute ${p}: No such file or directory`).test(line) || // nsenter
    new RegExp(`(?:^|: )${p}: No such file or directory$`).test(line) // bash, absolute path
  );
}

/** tcpdump's first own error: a line that begins with its program's name (the path's last part). */
function firstTcpdumpError(lines: readonly string[], tcpdumpPath: string): string | null {
  const name = `${tcpdumpPath.slice(tcpdumpPath.lastIndexOf('/') + 1)}: `;
  return (
    lines.find((l) => l.startsWith(name) && !l.startsWith(`${name}WARNING:`) && !LISTENING.test(l)) ?? null
  );
}

function joinFew(lines: readonly string[]): string {
  const useful = lines
    .map((l) => l.trim())
    .filter((l) => l !== '' && !SSH_NOISE.test(l) && l !== SESSION_MARKER);
  const distinct = [...new Set(useful)];
  return distinct.slice(0, 3).join('; ');
}

function exitText(o: SessionOutcome): string {
  return o.signal !== null ? `killed by ${o.signal}` : `exit status ${o.exitCode ?? '?'}`;
}

/** Why a session ended, from its exit status and stderr. Called for every session end but a requested stop. */
export function classifyFailure(o: SessionOutcome, ctx: FailureContext): RemoteFailure {
  const { host, where } = ctx;
  if (!o.markerSeen) {
    // The remote command never ran: ssh (or its proxy, or the login shell) failed.
    const said = joinFew(o.sshLines);
    return {
      kind: 'ssh_failed',
      message: `ssh to ${host} failed: ${said !== '' ? said : `ssh ${exitText(o)}`}`,
    };
  }
  const lines = o.remoteLines.map((l) => l.trim()).filter((l) => l !== '');
  const missing = lines.find((l) => isCommandMissing(l, ctx.tcpdumpPath));
  if (missing !== undefined) {
    return { kind: 'tcpdump_missing', message: `tcpdump missing on the remote host ${host} (${missing})` };
  }
  const netns = lines.find(
    (l) =>
      /^Cannot open network namespace "/.test(l) ||
      /^nsenter: (?:cannot open \/proc\/.*\/ns\/net|reassociate to namespace)/.test(l),
  );
  if (netns !== undefined) {
    return {
      kind: 'netns_not_found',
      message: `network namespace not found on ${host}: ${ctx.netns ?? '?'} (${netns})`,
    };
  }
  const nano = lines.find((l) => NANO_UNSUPPORTED.test(l));
  if (nano !== undefined) return { kind: 'no_nano_precision', message: `${nano} on ${host}` };
  const tcpdumpError = firstTcpdumpError(lines, ctx.tcpdumpPath);
  if (tcpdumpError !== null) {
    if (/No such device|SIOCGIFINDEX|SIOCGIFHWADDR: No such device/.test(tcpdumpError)) {
      return {
        kind: 'interface_not_found',
        message: `interface not found on ${host}: ${where} (${tcpdumpError})`,
      };
    }
    if (/interface disappeared|went down/i.test(tcpdumpError)) {
      return {
        kind: 'interface_gone',
        message: `interface went away on ${host}: ${where} (${tcpdumpError})`,
      };
    }
    if (/not up\b/i.test(tcpdumpError)) {
      return { kind: 'interface_down', message: `interface down on ${host}: ${where} (${tcpdumpError})` };
    }
    if (/permission|Operation not permitted/i.test(tcpdumpError)) {
      return {
        kind: 'permission_denied',
        message: `no permission to capture on ${host}: ${where} (${tcpdumpError})`,
      };
    }
    if (!o.listeningSeen && FILTER_ERROR.test(tcpdumpError)) {
      return { kind: 'bad_filter', message: `bad capture filter for ${host}:${where} (${tcpdumpError})` };
    }
    return { kind: 'tcpdump_failed', message: `tcpdump on ${host}:${where} failed (${tcpdumpError})` };
  }
  if (o.exitCode === 127) {
    // The shell's "not found" may be worded in a way we do not know; 127 still says it.
    return {
      kind: 'tcpdump_missing',
      message: `tcpdump missing on the remote host ${host} (exit status 127${lines.length > 0 ? `: ${lines[0]}` : ''})`,
    };
  }
  const ssh = lines.filter((l) => SSH_MESSAGE.test(l));
  if (ssh.length > 0 || o.exitCode === 255 || o.signal !== null) {
    const said = joinFew(ssh);
    return {
      kind: 'session_lost',
      message: `ssh to ${host} failed: ${said !== '' ? said : `ssh ${exitText(o)}`}`,
    };
  }
  if (!o.listeningSeen) {
    const said = joinFew(lines);
    return {
      kind: 'tcpdump_failed',
      message: `tcpdump on ${host}:${where} failed (${said !== '' ? said : exitText(o)})`,
    };
  }
  return { kind: 'session_lost', message: `capture on ${host}:${where} ended (${exitText(o)})` };
}

/** After a session was up, these mean the interface (or its namespace) is not there: state `gone`. */
export function meansGone(kind: RemoteFailureKind): boolean {
  return (
    kind === 'interface_not_found' ||
    kind === 'interface_gone' ||
    kind === 'interface_down' ||
    kind === 'netns_not_found'
  );
}

/** Keeps the first and the last lines of a long stderr, so memory stays bounded. */
export class BoundedLines {
  readonly head: string[] = [];
  private tail: string[] = [];
  private dropped = 0;
  constructor(private readonly max: number) {}

  push(line: string): void {
    if (this.head.length < this.max / 2) {
      this.head.push(line);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > this.max / 2) {
      this.tail.shift();
      this.dropped++;
    }
  }

  all(): string[] {
    return this.dropped > 0
      ? [...this.head, `(${this.dropped} lines left out)`, ...this.tail]
      : [...this.head, ...this.tail];
  }
}
