// The state `hopscope path` follows, as data: what the gather script (gather-script.ts)
// printed for one host, parsed. Pure: the tests parse real outputs recorded on the lab.
//
// What is kept is what forwarding depends on — links (kind, master, peer, addresses,
// VXLAN parameters), routes and rules, neighbours, the bridge fdb, the namespace ids
// that name a veth's peer namespace, NAT rules (nat.ts) and three sysctls — and for
// the host, its kernel (boot id) and the processes holding tun/tap devices.
import { parseAddress, parsePrefix, type Address, type Family, type Prefix } from './address.js';
import { PATH_MARK } from './gather-script.js';
import { parseNftNat, type NatRule } from './nat.js';

export interface LinkAddress {
  address: Address;
  prefixLength: number;
}

export interface VxlanInfo {
  /** VNI */
  id: number;
  remote: Address | null;
  group: Address | null;
  local: Address | null;
  port: number;
  /** underlay device */
  dev: string | null;
}

export interface LinkState {
  ifindex: number;
  name: string;
  /** `ip -d` link kind (veth, bridge, vxlan, tun, …); null for a plain device */
  kind: string | null;
  /** a tun device in tap mode (an Ethernet one: a VM's NIC) */
  tapMode: boolean;
  /** administratively up (the UP flag) */
  up: boolean;
  mac: string | null;
  loopback: boolean;
  /** the bridge (or OVS) it is enslaved to */
  master: string | null;
  /** `bridge` when enslaved to a Linux bridge, `openvswitch` to OVS, … */
  slaveKind: string | null;
  /** the other end of a veth (and similar): its ifindex, and the namespace id it is in (absent: the same) */
  peerIndex: number | null;
  peerNetnsid: number | null;
  /** the other end's name when it is in the same namespace (`ip` names it instead of numbering it) */
  peerName: string | null;
  addresses: LinkAddress[];
  vxlan: VxlanInfo | null;
}

export type RouteType =
  | 'unicast'
  | 'local'
  | 'broadcast'
  | 'multicast'
  | 'unreachable'
  | 'blackhole'
  | 'prohibit'
  | 'throw'
  | 'anycast'
  | 'nat';

export interface RouteEntry {
  family: Family;
  type: RouteType;
  dst: Prefix;
  table: string;
  dev: string | null;
  gateway: Address | null;
  prefsrc: Address | null;
  metric: number;
  onlink: boolean;
}

export interface RuleEntry {
  family: Family;
  priority: number;
  src: Prefix | null;
  dst: Prefix | null;
  iif: string | null;
  oif: string | null;
  /** a rule on a firewall mark matches an unmarked packet only when it asks for mark 0 */
  fwmark: { value: number; mask: number } | null;
  ipproto: string | null;
  dport: number | null;
  not: boolean;
  /** `lookup` a table, or a verdict */
  action: 'lookup' | 'unreachable' | 'blackhole' | 'prohibit' | 'other';
  table: string | null;
}

export interface NeighbourEntry {
  address: Address;
  dev: string;
  mac: string | null;
  state: string[];
}

export interface FdbEntry {
  mac: string;
  /** the port (or the device itself for `self` entries) */
  dev: string;
  /** the bridge whose table holds it; null for the device's own (`self`) table */
  master: string | null;
  /** a VXLAN entry's remote */
  dst: Address | null;
  permanent: boolean;
}

export interface NamespaceState {
  /** the name under /run/netns; null for the host's own namespace */
  name: string | null;
  /** the namespace's inode (nsfs): with the boot id, who it is across listings */
  inode: string;
  links: LinkState[];
  routes: RouteEntry[];
  rules: RuleEntry[];
  neighbours: NeighbourEntry[];
  fdb: FdbEntry[];
  /** namespace id → name of that namespace, as this namespace numbers them */
  nsids: Map<number, string>;
  nat: NatRule[];
  forwarding: { 4: boolean; 6: boolean };
  /** per interface (and `all`): proxy_arp, route_localnet */
  proxyArp: Map<string, boolean>;
  routeLocalnet: Map<string, boolean>;
  /** parts that could not be read (one line each) */
  problems: string[];
}

export interface TunHolder {
  pid: number;
  /** inode of the namespace the process runs in */
  netnsInode: string;
  comm: string;
  /** the name of the tun/tap device it holds (as it is called now) */
  iface: string;
}

export interface HostState {
  /** ssh destination; null for this machine */
  host: string | null;
  bootId: string;
  rootInode: string;
  /** the host's own namespace first */
  namespaces: NamespaceState[];
  tunHolders: TunHolder[];
  /** namespaces that could not be asked (one line each) */
  problems: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function jsonArray(text: string, what: string): unknown[] {
  const t = text.trim();
  if (t === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    throw new Error(`${what}: output is not JSON: ${t.split('\n')[0].slice(0, 80)}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${what}: not a JSON array`);
  return parsed;
}

function addr(value: unknown): Address | null {
  const s = str(value);
  return s === null ? null : parseAddress(s);
}

export function parseLinks(text: string): LinkState[] {
  const out: LinkState[] = [];
  for (const e of jsonArray(text, 'ip -j -d addr')) {
    if (!isRecord(e) || typeof e.ifname !== 'string') continue;
    const flags = Array.isArray(e.flags) ? e.flags.filter((f): f is string => typeof f === 'string') : [];
    const info = isRecord(e.linkinfo) ? e.linkinfo : null;
    const kind = info !== null ? str(info.info_kind) : null;
    const data = info !== null && isRecord(info.info_data) ? info.info_data : null;
    const addresses: LinkAddress[] = [];
    if (Array.isArray(e.addr_info)) {
      for (const a of e.addr_info) {
        if (!isRecord(a)) continue;
        const address = addr(a.local);
        if (address !== null)
          addresses.push({ address, prefixLength: num(a.prefixlen) ?? (address.family === 4 ? 32 : 128) });
      }
    }
    let vxlan: VxlanInfo | null = null;
    if (kind === 'vxlan' && data !== null) {
      vxlan = {
        id: num(data.id) ?? 0,
        remote: addr(data.remote) ?? addr(data.remote6),
        group: addr(data.group) ?? addr(data.group6),
        local: addr(data.local) ?? addr(data.local6),
        port: num(data.port) ?? 8472,
        dev: str(data.link),
      };
    }
    out.push({
      ifindex: num(e.ifindex) ?? 0,
      name: e.ifname,
      kind,
      tapMode: kind === 'tun' && data !== null && data.type === 'tap',
      up: flags.includes('UP'),
      mac: e.link_type === 'ether' ? str(e.address) : null,
      loopback: flags.includes('LOOPBACK'),
      master: str(e.master),
      slaveKind: info !== null ? str(info.info_slave_kind) : null,
      peerIndex: num(e.link_index),
      peerNetnsid: num(e.link_netnsid),
      peerName: str(e.link),
      addresses,
      vxlan,
    });
  }
  return out;
}

const ROUTE_TYPES = new Set<string>([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'unreachable',
  'blackhole',
  'prohibit',
  'throw',
  'anycast',
  'nat',
]);

export function parseRoutes(text: string, family: Family): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const e of jsonArray(text, `ip -${family} -j route`)) {
    if (!isRecord(e)) continue;
    const dst = str(e.dst) === null ? null : parsePrefix(str(e.dst) as string, family);
    if (dst === null) continue;
    const type = str(e.type) ?? 'unicast';
    const flags = Array.isArray(e.flags) ? e.flags : [];
    // A multipath route: its first next hop (the kernel spreads flows over them by hash).
    const first = Array.isArray(e.nexthops) && isRecord(e.nexthops[0]) ? e.nexthops[0] : null;
    out.push({
      family,
      type: (ROUTE_TYPES.has(type) ? type : 'unicast') as RouteType,
      dst,
      table: str(e.table) ?? (typeof e.table === 'number' ? String(e.table) : 'main'),
      dev: str(e.dev) ?? (first !== null ? str(first.dev) : null),
      gateway: addr(e.gateway) ?? (first !== null ? addr(first.gateway) : null),
      prefsrc: addr(e.prefsrc),
      metric: num(e.metric) ?? 0,
      onlink:
        flags.includes('onlink') ||
        (first !== null && Array.isArray(first.flags) && first.flags.includes('onlink')),
    });
  }
  return out;
}

export function parseRules(text: string, family: Family): RuleEntry[] {
  const out: RuleEntry[] = [];
  for (const e of jsonArray(text, `ip -${family} -j rule`)) {
    if (!isRecord(e)) continue;
    const prefix = (key: 'src' | 'dst'): Prefix | null => {
      const s = str(e[key]);
      if (s === null || s === 'all') return null;
      const len = num(e[`${key}len`]);
      return parsePrefix(len === null ? s : `${s}/${len}`, family);
    };
    const action = str(e.action);
    const fwmark = str(e.fwmark);
    const fwmask = str(e.fwmask);
    out.push({
      family,
      priority: num(e.priority) ?? 0,
      src: prefix('src'),
      dst: prefix('dst'),
      iif: str(e.iif) ?? str(e.iifname),
      oif: str(e.oif) ?? str(e.oifname),
      fwmark:
        fwmark === null
          ? null
          : { value: Number(fwmark), mask: fwmask === null ? 0xffffffff : Number(fwmask) },
      ipproto: str(e.ipproto),
      dport: num(e.dport),
      not: Object.hasOwn(e, 'not'),
      action:
        action === null
          ? 'lookup'
          : action === 'unreachable' || action === 'blackhole' || action === 'prohibit'
            ? action
            : 'other',
      table: str(e.table) ?? (typeof e.table === 'number' ? String(e.table) : null),
    });
  }
  return out;
}

export function parseNeighbours(text: string): NeighbourEntry[] {
  const out: NeighbourEntry[] = [];
  for (const e of jsonArray(text, 'ip -j neigh')) {
    if (!isRecord(e)) continue;
    const address = addr(e.dst);
    const dev = str(e.dev);
    if (address === null || dev === null) continue;
    const state = Array.isArray(e.state) ? e.state.filter((s): s is string => typeof s === 'string') : [];
    out.push({ address, dev, mac: str(e.lladdr), state });
  }
  return out;
}

export function parseFdb(text: string): FdbEntry[] {
  const out: FdbEntry[] = [];
  for (const e of jsonArray(text, 'bridge -j fdb')) {
    if (!isRecord(e)) continue;
    const mac = str(e.mac);
    const dev = str(e.ifname);
    if (mac === null || dev === null) continue;
    const flags = Array.isArray(e.flags) ? e.flags : [];
    out.push({
      mac,
      dev,
      master: flags.includes('self') ? null : str(e.master),
      dst: addr(e.dst),
      permanent: e.state === 'permanent',
    });
  }
  return out;
}

export function parseNsids(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of jsonArray(text, 'ip -j netns list-id')) {
    if (!isRecord(e)) continue;
    const id = num(e.nsid);
    const name = str(e.name);
    if (id !== null && name !== null) out.set(id, name);
  }
  return out;
}

/** `grep -H . FILES` of /proc/sys/net: forwarding, and per-interface proxy_arp / route_localnet. */
export function parseSysctls(
  text: string,
): Pick<NamespaceState, 'forwarding' | 'proxyArp' | 'routeLocalnet'> {
  const forwarding = { 4: false, 6: false };
  const proxyArp = new Map<string, boolean>();
  const routeLocalnet = new Map<string, boolean>();
  for (const line of text.split('\n')) {
    const m = /^\/proc\/sys\/net\/(ipv[46])\/(.*):(\d+)$/.exec(line.trim());
    if (m === null) continue;
    const on = m[3] !== '0';
    if (m[1] === 'ipv4' && m[2] === 'ip_forward') forwarding[4] = on;
    else if (m[1] === 'ipv6' && m[2] === 'conf/all/forwarding') forwarding[6] = on;
    else {
      const c = /^conf\/([^/]+)\/(proxy_arp|route_localnet)$/.exec(m[2]);
      if (c !== null) (c[2] === 'proxy_arp' ? proxyArp : routeLocalnet).set(c[1], on);
    }
  }
  return { forwarding, proxyArp, routeLocalnet };
}

function emptyNamespace(name: string | null): NamespaceState {
  return {
    name,
    inode: '',
    links: [],
    routes: [],
    rules: [],
    neighbours: [],
    fdb: [],
    nsids: new Map(),
    nat: [],
    forwarding: { 4: false, 6: false },
    proxyArp: new Map(),
    routeLocalnet: new Map(),
    problems: [],
  };
}

/** Reads one part of a namespace's dump into it; a part that failed is a problem, not an exception. */
function applyPart(ns: NamespaceState, part: string, lines: string[]): void {
  const errorAt = lines.findIndex((l) => l.startsWith(`${PATH_MARK} error`));
  if (errorAt >= 0) {
    const why = lines.slice(0, errorAt).join(' ').trim() || 'failed';
    ns.problems.push(`${part}: ${why.slice(0, 200)}`);
    return;
  }
  const text = lines.join('\n');
  try {
    switch (part) {
      case 'inode':
        ns.inode = text.trim();
        return;
      case 'addr':
        ns.links = parseLinks(text);
        return;
      case 'nsid':
        ns.nsids = parseNsids(text);
        return;
      case 'route4':
      case 'route6':
        ns.routes.push(...parseRoutes(text, part === 'route4' ? 4 : 6));
        return;
      case 'rule4':
      case 'rule6':
        ns.rules.push(...parseRules(text, part === 'rule4' ? 4 : 6));
        return;
      case 'neigh':
        ns.neighbours = parseNeighbours(text);
        return;
      case 'fdb':
        ns.fdb = parseFdb(text);
        return;
      case 'nft': {
        const nat = parseNftNat(text);
        ns.nat = nat.rules;
        ns.problems.push(...nat.problems.map((p) => `nft: ${p}`));
        return;
      }
      case 'sysctl':
        Object.assign(ns, parseSysctls(text));
        return;
      default:
        return;
    }
  } catch (err) {
    ns.problems.push(`${part}: ${(err as Error).message}`);
  }
}

/** Parses the gather script's output of one host; throws when it is not that output (cut short). */
export function parseGatherOutput(host: string | null, output: string): HostState {
  const state: HostState = { host, bootId: '', rootInode: '', namespaces: [], tunHolders: [], problems: [] };
  let ns: NamespaceState | null = null;
  let part: string | null = null;
  let lines: string[] = [];
  let inTun = false;
  let ended = false;
  const closePart = (): void => {
    if (ns !== null && part !== null) applyPart(ns, part, lines);
    part = null;
    lines = [];
  };
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${PATH_MARK} `)) {
      if (inTun) {
        const m = /^(\d+) (\S+) (\S+) (.+)$/.exec(line);
        if (m !== null)
          state.tunHolders.push({ pid: Number(m[1]), netnsInode: m[2], comm: m[3], iface: m[4] });
      } else lines.push(line);
      continue;
    }
    const [, what, ...rest] = line.split(' ');
    const arg = rest.join(' ');
    if (what === 'error') {
      if (part !== null) lines.push(line);
      else if (ns !== null) ns.problems.push(`could not be asked: ${lines.join(' ').trim() || 'failed'}`);
      continue;
    }
    closePart();
    if (what === 'host') {
      [state.bootId, state.rootInode] = [rest[0] ?? '', rest[1] ?? ''];
    } else if (what === 'ns') {
      ns = emptyNamespace(arg === '-' ? null : arg);
      state.namespaces.push(ns);
      inTun = false;
    } else if (what === 'part') {
      part = arg;
    } else if (what === 'tun') {
      ns = null;
      inTun = true;
    } else if (what === 'end') {
      ended = true;
      inTun = false;
    }
  }
  closePart();
  if (!ended) throw new Error(`${host ?? 'this host'}: the listing of its network state ended early`);
  if (state.namespaces.length === 0 || state.namespaces[0].name !== null)
    throw new Error(`${host ?? 'this host'}: the listing of its network state has no root namespace`);
  // A namespace that could not be entered has no inode: it cannot be told apart from others.
  for (const n of state.namespaces.slice(1))
    if (n.inode === '')
      state.problems.push(`namespace ${n.name}: ${n.problems.join('; ') || 'could not be asked'}`);
  state.namespaces = state.namespaces.filter((n, i) => i === 0 || n.inode !== '');
  if (state.namespaces[0].inode === '') state.namespaces[0].inode = state.rootInode;
  return state;
}
