// Which interfaces exist where: the map behind `hopscope ifaces` and behind SPEC
// resolution (docs/spec-grammar.md). Local namespaces are the files `ip netns` keeps in
// /run/netns; each namespace is asked with `ip -j -d addr show` (kind, master,
// state, MTU, addresses in one call). A remote host is asked the same questions in
// one ssh session running a fixed script — nothing the user typed is in it except
// process ids, which are checked to be digits, and the ssh destination, which goes
// to ssh as an argument after `--`.
import { readdirSync } from 'node:fs';
import { launch, type LaunchedCommandResult } from '../shared/command-launcher.js';
import { roleOf, type InterfaceRole } from '../shared/roles.js';
import { shellJoin, shellQuote } from './shell-quote.js';
import { sshArgv, validateHost } from './ssh.js';

export interface DiscoveredInterface {
  /** ssh destination as given; null for this machine */
  host: string | null;
  /** named namespace or `pid:N`; null for the root namespace */
  netns: string | null;
  name: string;
  ifindex: number;
  /** `ip -d` link kind: veth, bridge, vxlan, tun, openvswitch, …; null for a plain device */
  kind: string | null;
  role: InterfaceRole;
  /** operstate as ip prints it: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, … */
  state: string;
  /** the UP flag (administratively up) */
  adminUp: boolean;
  mtu: number;
  mac: string | null;
  /** the bridge or OVS port this interface is enslaved to */
  master: string | null;
  /** "10.0.0.1/24", "fe80::1/64" */
  addresses: string[];
}

/** One namespace's answer; `error` when it could not be asked (vanished, no such pid). */
export interface NamespaceInventory {
  host: string | null;
  netns: string | null;
  interfaces: DiscoveredInterface[];
  error: string | null;
}

/** Everything known about one host: its named namespaces and the interfaces of those asked. */
export interface HostInventory {
  host: string | null;
  /** every named namespace on the host (asked or not) */
  namespaces: string[];
  /** root namespace first, then the named ones asked, then pid namespaces */
  inventories: NamespaceInventory[];
}

export type NamespaceScope = 'root' | 'all';

export interface DiscoverOptions {
  /** 'root': the root namespace only; 'all': root and every named namespace */
  scope: NamespaceScope;
  /** `pid:N` namespaces to ask as well */
  pids?: readonly number[];
  /** remote host (ssh destination); absent: this machine */
  host?: string | null;
  sshConfig?: string;
  /** default 15 s: a host that does not answer is an error, not a hang */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const NETNS_DIR = '/run/netns';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses `ip -j -d addr show` output into interfaces; throws on what is not that output. */
export function parseIpAddrJson(
  text: string,
  host: string | null,
  netns: string | null,
): DiscoveredInterface[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch {
    const first = text.trim().split('\n')[0].slice(0, 80);
    throw new Error(`ip -j addr: output is not JSON (iproute2 too old for -j?): ${first}`);
  }
  if (!Array.isArray(parsed)) throw new Error('ip -j addr: not a JSON array');
  const out: DiscoveredInterface[] = [];
  for (const entry of parsed) {
    if (!isRecord(entry) || typeof entry.ifname !== 'string') continue;
    const flags = Array.isArray(entry.flags) ? entry.flags.filter((f) => typeof f === 'string') : [];
    const linkinfo = isRecord(entry.linkinfo) ? entry.linkinfo : null;
    const kind = linkinfo !== null && typeof linkinfo.info_kind === 'string' ? linkinfo.info_kind : null;
    const tapMode = kind === 'tun' && isRecord(linkinfo?.info_data) && linkinfo.info_data.type === 'tap';
    const addresses: string[] = [];
    if (Array.isArray(entry.addr_info)) {
      for (const a of entry.addr_info) {
        if (isRecord(a) && typeof a.local === 'string')
          addresses.push(typeof a.prefixlen === 'number' ? `${a.local}/${a.prefixlen}` : a.local);
      }
    }
    out.push({
      host,
      netns,
      name: entry.ifname,
      ifindex: typeof entry.ifindex === 'number' ? entry.ifindex : 0,
      kind,
      role: roleOf(entry.ifname, tapMode ? 'tap' : kind, flags.includes('LOOPBACK')),
      state: typeof entry.operstate === 'string' ? entry.operstate : 'UNKNOWN',
      adminUp: flags.includes('UP'),
      mtu: typeof entry.mtu === 'number' ? entry.mtu : 0,
      mac: typeof entry.address === 'string' && entry.link_type === 'ether' ? entry.address : null,
      master: typeof entry.master === 'string' ? entry.master : null,
      addresses,
    });
  }
  return out;
}

/** Named namespaces of this machine, sorted (what `ip netns list` shows). */
export function listLocalNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Output of one listing kept at most (a host with thousands of interfaces fits). */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

function ipArgv(netns: string | null): string[] {
  if (netns === null) return ['ip', '-j', '-d', 'addr', 'show'];
  const pid = /^pid:(\d+)$/.exec(netns);
  if (pid !== null) return ['nsenter', '-t', pid[1], '-n', 'ip', '-j', '-d', 'addr', 'show'];
  return ['ip', '-n', netns, '-j', '-d', 'addr', 'show'];
}

/** Why a command run with `reject: false` failed, in a few words. */
function failureText(r: LaunchedCommandResult, command: string, timeoutMs: number): string {
  if (r.timedOut) return `${command} did not answer within ${timeoutMs / 1000} s`;
  if (r.errorCode === 'ENOENT')
    return `${command} not found (is ${command === 'ip' ? 'iproute2' : 'util-linux'} installed?)`;
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length > 0) return lines[0];
  if (r.error !== null) return r.error;
  if (r.signal !== null) return `${command} killed by ${r.signal}`;
  return `${command} exited with status ${r.exitCode ?? 'unknown'}`;
}

async function askLocalNamespace(netns: string | null, timeoutMs: number): Promise<NamespaceInventory> {
  const [cmd, ...args] = ipArgv(netns);
  const r = await launch([cmd, ...args], { timeoutMs, maxBuffer: MAX_LISTING_BYTES });
  if (r.exitCode !== 0) {
    return { host: null, netns, interfaces: [], error: failureText(r, cmd, timeoutMs) };
  }
  try {
    return { host: null, netns, interfaces: parseIpAddrJson(r.stdout, null, netns), error: null };
  } catch (err) {
    return { host: null, netns, interfaces: [], error: (err as Error).message };
  }
}

/** At most this many `ip` processes at once: a network node may have a thousand namespaces. */
const LOCAL_CONCURRENCY = 16;

async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Markers of the remote script's output: one line before each namespace's JSON. */
const MARK = '@@hopscope';

/**
 * The script a remote host runs. Fixed text; the pids (digits, checked) are its
 * positional parameters. Every namespace's answer is one `ip -j` line after a marker;
 * a namespace that cannot be asked prints its error after an `error` marker.
 */
export function remoteDiscoveryScript(scope: NamespaceScope): string {
  const namedNamespaces =
    scope === 'all'
      ? `ip netns list 2>/dev/null | while read -r ns _; do ` +
        `echo "${MARK} ns $ns"; ip -n "$ns" -j -d addr show 2>&1 || echo "${MARK} error"; done; `
      : `ip netns list 2>/dev/null | while read -r ns _; do echo "${MARK} name $ns"; done; `;
  return (
    'PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL; ' +
    `command -v ip >/dev/null 2>&1 || { echo "ip (iproute2) not found on the host" >&2; exit 127; }; ` +
    `echo "${MARK} root"; ip -j -d addr show || exit 1; ` +
    namedNamespaces +
    `for pid in "$@"; do echo "${MARK} pid $pid"; nsenter -t "$pid" -n ip -j -d addr show 2>&1 || echo "${MARK} error"; done; ` +
    `echo "${MARK} end"`
  );
}

/** Parses the remote script's output into a HostInventory. */
export function parseRemoteDiscovery(host: string, output: string): HostInventory {
  const namespaces: string[] = [];
  const inventories: NamespaceInventory[] = [];
  let current: { netns: string | null; lines: string[] } | null = null;
  let ended = false;
  const close = (): void => {
    if (current === null) return;
    const text = current.lines.join('\n');
    const errorAt = current.lines.findIndex((l) => l.startsWith(`${MARK} error`));
    if (errorAt >= 0) {
      const why = current.lines.slice(0, errorAt).join(' ').trim() || 'could not be asked';
      inventories.push({ host, netns: current.netns, interfaces: [], error: why });
    } else {
      try {
        inventories.push({
          host,
          netns: current.netns,
          interfaces: parseIpAddrJson(text, host, current.netns),
          error: null,
        });
      } catch (err) {
        inventories.push({ host, netns: current.netns, interfaces: [], error: (err as Error).message });
      }
    }
    current = null;
  };
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${MARK} `)) {
      current?.lines.push(line);
      continue;
    }
    const [, what, ...rest] = line.split(' ');
    const arg = rest.join(' ');
    if (what === 'error') {
      current?.lines.push(line);
      continue;
    }
    close();
    if (what === 'root') current = { netns: null, lines: [] };
    else if (what === 'ns') {
      namespaces.push(arg);
      current = { netns: arg, lines: [] };
    } else if (what === 'name') namespaces.push(arg);
    else if (what === 'pid') current = { netns: `pid:${arg}`, lines: [] };
    else if (what === 'end') ended = true;
  }
  close();
  if (!ended) throw new Error(`${host}: the interface listing ended early`);
  return { host, namespaces: namespaces.sort(), inventories };
}

function checkPids(pids: readonly number[]): void {
  for (const pid of pids) {
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`not a process id: ${pid}`);
  }
}

/** The interfaces of this machine (or of a remote host over ssh) in the namespaces asked. */
export async function discoverInterfaces(options: DiscoverOptions): Promise<HostInventory> {
  const pids = options.pids ?? [];
  checkPids(pids);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const host = options.host ?? null;
  if (host !== null) return discoverRemote(host, options.scope, pids, options.sshConfig, timeoutMs);
  const namespaces = listLocalNamespaces();
  const asked: Array<string | null> = [
    null,
    ...(options.scope === 'all' ? namespaces : []),
    ...pids.map((p) => `pid:${p}`),
  ];
  const inventories = await mapBounded(asked, LOCAL_CONCURRENCY, (ns) => askLocalNamespace(ns, timeoutMs));
  return { host: null, namespaces, inventories };
}

/** Why a remote discovery failed, in one line. */
export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

async function discoverRemote(
  host: string,
  scope: NamespaceScope,
  pids: readonly number[],
  sshConfig: string | undefined,
  timeoutMs: number,
): Promise<HostInventory> {
  validateHost(host);
  const command = `exec sh -c ${shellQuote(remoteDiscoveryScript(scope))} sh ${shellJoin(pids.map(String))}`;
  const argv = sshArgv({ host, sshConfig }, command.trimEnd());
  const r = await launch(argv, { timeoutMs, maxBuffer: MAX_LISTING_BYTES });
  if (r.timedOut) throw new DiscoveryError(`${host}: no answer from ssh within ${timeoutMs / 1000} s`);
  if (r.errorCode === 'ENOENT')
    throw new DiscoveryError(`${host}: cannot list interfaces: ${argv[0]} not found`);
  if (r.exitCode !== 0) {
    const lines = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('Warning: Permanently added'));
    const last =
      lines[lines.length - 1] ??
      r.error ??
      (r.signal !== null ? `ssh killed by ${r.signal}` : `ssh exited with status ${r.exitCode}`);
    throw new DiscoveryError(`${host}: cannot list interfaces: ${last}`);
  }
  try {
    return parseRemoteDiscovery(host, r.stdout);
  } catch (err) {
    throw new DiscoveryError((err as Error).message);
  }
}
