// The one shell script that reads a hop's state (docs/json-lines.md `cause`): what a namespace's
// stack would do with the packet — addresses and links, neighbours, route lookups,
// sysctls, listening sockets, conntrack, nftables and iptables rules — each command's
// output in a section of its own, with its exit status, so one failing command (not
// root, nft not installed) leaves the others readable.
//
// Run locally as `ip netns exec NS sh -c SCRIPT` (or `sh -c SCRIPT` in the root
// namespace), and over ssh as one batched command per host that enters each
// namespace in turn (hostScript). The script is built only from validated values
// (addresses, interface and namespace names, a fixed vocabulary of sysctl names),
// each single-quoted (sources/shell-quote.ts), as the remote capture's is.
//
// Output, per section:
//   @@hopscope NAME [ARG]       a section starts; ARG says which query (route n, sysctl path)
//   …the command's stdout and stderr…
//   @@hopscope-rc NAME STATUS   it ended with this exit status (127: command not found)
// and in a host's batched output, before each namespace's sections:
//   @@hopscope-ns NETNS         (`-` for the host's root namespace)
//   @@hopscope-ns-rc STATUS     entering it failed when STATUS ≠ 0 (its text precedes)
import { shellJoin, shellQuote } from '../../sources/shell-quote.js';
import { validateInterfaceName, validateNetnsName } from '../../sources/remote-script.js';

export const SECTION = '@@hopscope';
export const SECTION_RC = '@@hopscope-rc';
export const NAMESPACE = '@@hopscope-ns';
export const NAMESPACE_RC = '@@hopscope-ns-rc';

export type SectionName =
  | 'addr'
  | 'neigh'
  | 'route'
  | 'sysctl'
  | 'sockets'
  | 'conntrack'
  | 'conntrack-stats'
  | 'nft-json'
  | 'nft-text'
  | 'iptables-legacy'
  | 'ip6tables-legacy'
  | 'iptables-nft'
  | 'ip6tables-nft';

export interface RouteQuery {
  dst: string;
  from?: string;
  /** look the route up as if the packet came in on this device (`ip route get … iif DEV`) */
  iif?: string;
}

/** What to read in one namespace. */
export interface HopScriptRequest {
  /** links, addresses, neighbours */
  links: boolean;
  routes: readonly RouteQuery[];
  /** interfaces whose per-device sysctls are read (besides `all` and `default`) */
  sysctlDevices: readonly string[];
  sockets: boolean;
  conntrack: boolean;
  firewall: boolean;
}

/** Per-device IPv4 sysctls read (net.ipv4.conf.DEV.KEY) and the global ones. */
export const DEVICE_SYSCTLS = [
  'forwarding',
  'rp_filter',
  'route_localnet',
  'proxy_arp',
  'arp_ignore',
] as const;
export const GLOBAL_SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv6/conf/all/forwarding',
  // whether the namespace answers pings (its own, broadcast, multicast ones)
  'net/ipv4/icmp_echo_ignore_all',
  'net/ipv4/icmp_echo_ignore_broadcasts',
  'net/ipv6/icmp/echo_ignore_all',
  'net/ipv6/icmp/echo_ignore_multicast',
  // whether bridged packets pass the IP hooks too (br_netfilter; absent without it)
  'net/bridge/bridge-nf-call-iptables',
  'net/bridge/bridge-nf-call-ip6tables',
] as const;
/** Lines of `conntrack -L` kept (a NAT gateway may hold hundreds of thousands). */
export const CONNTRACK_MAX_LINES = 4000;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

export function isIpAddress(text: string): boolean {
  return IPV4.test(text) || (text.includes(':') && IPV6.test(text) && text.length <= 45);
}

function checkAddress(text: string): void {
  if (!isIpAddress(text)) throw new Error(`not an IP address: ${JSON.stringify(text)}`);
}

function section(name: SectionName, arg: string | null, command: string): string {
  const head =
    arg === null
      ? `echo ${shellQuote(`${SECTION} ${name}`)}`
      : `echo ${shellQuote(`${SECTION} ${name} ${arg}`)}`;
  return `${head}; ${command} 2>&1; echo "${SECTION_RC} ${name} $?"`;
}

/** The script for one namespace (what runs inside it). */
export function namespaceScript(request: HopScriptRequest): string {
  const parts: string[] = ['PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL'];
  if (request.links) {
    parts.push(section('addr', null, 'ip -j -d addr show'));
    parts.push(section('neigh', null, 'ip -j neigh show'));
  }
  request.routes.forEach((r, n) => {
    checkAddress(r.dst);
    const argv = ['ip', '-j', 'route', 'get', r.dst];
    if (r.from !== undefined) {
      checkAddress(r.from);
      argv.push('from', r.from);
    }
    if (r.iif !== undefined) {
      validateInterfaceName(r.iif);
      argv.push('iif', r.iif);
    }
    parts.push(section('route', String(n), shellJoin(argv)));
  });
  const paths: string[] = [...GLOBAL_SYSCTLS];
  for (const dev of ['all', 'default', ...request.sysctlDevices]) {
    if (dev !== 'all' && dev !== 'default') validateInterfaceName(dev);
    for (const key of DEVICE_SYSCTLS) paths.push(`net/ipv4/conf/${dev}/${key}`);
  }
  // `path=value` per line; a missing device's files print nothing after `=`
  parts.push(
    section(
      'sysctl',
      null,
      `for k in ${paths.map(shellQuote).join(' ')}; do printf '%s=' "$k"; cat "/proc/sys/$k" 2>/dev/null || echo; done`,
    ),
  );
  if (request.sockets) parts.push(section('sockets', null, 'ss -Hltun'));
  if (request.conntrack) {
    parts.push(section('conntrack', null, `conntrack -L -o extended 2>&1 | head -n ${CONNTRACK_MAX_LINES}`));
    parts.push(section('conntrack-stats', null, 'conntrack -S'));
  }
  if (request.firewall) {
    parts.push(section('nft-json', null, 'nft -j list ruleset'));
    parts.push(section('nft-text', null, 'nft -a list ruleset'));
    parts.push(section('iptables-legacy', null, 'iptables-legacy-save -c'));
    parts.push(section('ip6tables-legacy', null, 'ip6tables-legacy-save -c'));
    parts.push(section('iptables-nft', null, 'iptables-nft-save -c'));
    parts.push(section('ip6tables-nft', null, 'ip6tables-nft-save -c'));
  }
  return parts.join('; ');
}

/** How to enter a namespace: `ip netns exec NAME`, or `nsenter -t PID -n` for `pid:PID`. */
function enterArgv(netns: string): string[] {
  validateNetnsName(netns);
  const pid = /^pid:(\d+)$/.exec(netns);
  return pid !== null ? ['nsenter', '-t', pid[1], '-n'] : ['ip', 'netns', 'exec', netns];
}

/** The local command for one namespace (null: this process's own). */
export function localArgv(netns: string | null, request: HopScriptRequest): string[] {
  const script = namespaceScript(request);
  if (netns === null) return ['sh', '-c', script];
  return [...enterArgv(netns), 'sh', '-c', script];
}

/** One host's batched script: each namespace's sections after its `@@hopscope-ns` line. */
export function hostScript(
  requests: ReadonlyArray<{ netns: string | null; request: HopScriptRequest }>,
): string {
  const parts: string[] = ['PATH="$PATH:/usr/sbin:/sbin"; LC_ALL=C; export LC_ALL'];
  for (const { netns, request } of requests) {
    const inner = shellQuote(namespaceScript(request));
    if (netns === null) {
      parts.push(`echo ${shellQuote(`${NAMESPACE} -`)}; sh -c ${inner}; echo "${NAMESPACE_RC} 0"`);
    } else {
      parts.push(
        `echo ${shellQuote(`${NAMESPACE} ${netns}`)}; ${shellJoin(enterArgv(netns))} sh -c ${inner} 2>&1; echo "${NAMESPACE_RC} $?"`,
      );
    }
  }
  return parts.join('; ');
}

/** The string ssh sends (`exec sh -c '…'`, as remote-capture.ts does). */
export function hostCommand(
  requests: ReadonlyArray<{ netns: string | null; request: HopScriptRequest }>,
): string {
  return `exec sh -c ${shellQuote(hostScript(requests))}`;
}
