// The kernel's route lookup (what `ip route get DST from SRC iif IFACE` answers) over
// a namespace's rules and routing tables as `ip -j rule` and `ip -j route show table
// all` list them — pure, so the path can be followed over a snapshot taken in one go.
//
// Rules in priority order (the default local/main/default when none are listed), each
// matching on from/to/iif (a packet made here comes from `lo`), an unmarked packet (a
// fwmark rule matches only mark 0), ipproto and dport; `not` inverts. A `lookup`
// takes the longest prefix of that table (lowest metric among equals; `throw` goes on
// to the next rule); unreachable, blackhole and prohibit are answers. Multipath: the
// first next hop. Not modelled: VRFs (l3mdev rules), uid/sport rules, TOS.
import { prefixContains, type Address, type Family } from './address.js';
import type { NamespaceState, RouteEntry, RuleEntry } from './snapshot.js';

export type RouteVerdict =
  'unicast' | 'local' | 'broadcast' | 'unreachable' | 'blackhole' | 'prohibit' | 'none';

export interface RouteAnswer {
  verdict: RouteVerdict;
  route: RouteEntry | null;
  /** the rule that chose the table or gave the verdict */
  rulePriority: number | null;
}

export interface RouteQuery {
  family: Family;
  dst: Address;
  src: Address | null;
  /** the interface it arrived on; null for a packet made in this namespace */
  iif: string | null;
  proto: string;
  dport: number | null;
}

const DEFAULT_RULES: readonly RuleEntry[] = [0, 32766, 32767].map((priority, i) => ({
  family: 4 as Family,
  priority,
  src: null,
  dst: null,
  iif: null,
  oif: null,
  fwmark: null,
  ipproto: null,
  dport: null,
  not: false,
  action: 'lookup' as const,
  table: ['local', 'main', 'default'][i],
}));

function ruleMatches(rule: RuleEntry, q: RouteQuery): boolean {
  let m = true;
  if (rule.src !== null) m &&= q.src !== null && prefixContains(rule.src, q.src);
  if (rule.dst !== null) m &&= prefixContains(rule.dst, q.dst);
  if (rule.iif !== null) m &&= rule.iif === (q.iif ?? 'lo');
  // A rule on the outgoing interface applies to sockets bound to it: not to this packet.
  if (rule.oif !== null) m = false;
  if (rule.fwmark !== null) m &&= (0 & rule.fwmark.mask) === rule.fwmark.value;
  if (rule.ipproto !== null) m &&= rule.ipproto === q.proto;
  if (rule.dport !== null) m &&= rule.dport === q.dport;
  return rule.not ? !m : m;
}

/** The best route of a table for the destination: longest prefix, then lowest metric. */
function bestRoute(routes: readonly RouteEntry[], table: string, q: RouteQuery): RouteEntry | null {
  let best: RouteEntry | null = null;
  for (const r of routes) {
    if (r.family !== q.family || r.table !== table || !prefixContains(r.dst, q.dst)) continue;
    // multicast and anycast entries answer other questions than a unicast packet's
    if (r.type === 'multicast' || r.type === 'anycast' || r.type === 'nat') continue;
    if (
      best === null ||
      r.dst.length > best.dst.length ||
      (r.dst.length === best.dst.length && r.metric < best.metric)
    )
      best = r;
  }
  return best;
}

export function lookupRoute(ns: NamespaceState, q: RouteQuery): RouteAnswer {
  const listed = ns.rules.filter((r) => r.family === q.family);
  const rules = (listed.length > 0 ? listed : DEFAULT_RULES).slice().sort((a, b) => a.priority - b.priority);
  for (const rule of rules) {
    if (!ruleMatches(rule, q)) continue;
    if (rule.action === 'unreachable' || rule.action === 'blackhole' || rule.action === 'prohibit')
      return { verdict: rule.action, route: null, rulePriority: rule.priority };
    if (rule.action !== 'lookup' || rule.table === null) continue;
    const route = bestRoute(ns.routes, rule.table, q);
    if (route === null || route.type === 'throw') continue;
    const verdict: RouteVerdict =
      route.type === 'local' ||
      route.type === 'broadcast' ||
      route.type === 'unreachable' ||
      route.type === 'blackhole' ||
      route.type === 'prohibit'
        ? route.type
        : 'unicast';
    return { verdict, route, rulePriority: rule.priority };
  }
  return { verdict: 'none', route: null, rulePriority: null };
}
