// NAT rules of a namespace, read from `nft -j list ruleset`, and the rewrite they
// make of one packet — what the path needs to keep following an address that a
// floating IP, a port forward or a masquerade changes. iptables rules made by
// iptables-nft are in that ruleset too, as nftables rules (jumps included).
//
// Understood: base chains of type nat (prerouting, output, postrouting, input), rules
// matching ip/ip6 saddr/daddr (an address, a prefix, a set of them), tcp/udp/th
// sport/dport (a port, a range, a set), meta iifname/oifname (with a trailing `*`),
// meta l4proto, ip protocol; statements dnat/snat (address, port), masquerade,
// redirect, jump/goto/return, accept. A rule with anything else (a mark, conntrack
// state, an `xt` match) cannot be judged for one packet: it is skipped and said so.

export type NatHook = 'prerouting' | 'output' | 'postrouting' | 'input';

export type NatAction =
  | { kind: 'dnat' | 'snat'; addr: string | null; port: number | null }
  | { kind: 'masquerade' }
  | { kind: 'redirect'; port: number | null };

/** One rule as nftables gives it: its expressions, kept as they are for the evaluation. */
export interface NatRule {
  family: string;
  table: string;
  chain: string;
  expr: unknown[];
}

interface ChainInfo {
  family: string;
  table: string;
  name: string;
  hook: NatHook | null;
  prio: number;
  rules: NatRule[];
}

/** The packet as NAT sees it. */
export interface NatPacket {
  family: 4 | 6;
  src: string;
  dst: string;
  proto: string;
  sport: number | null;
  dport: number | null;
  iif: string | null;
  oif: string | null;
}

export interface NatOutcome {
  action: NatAction | null;
  /** the rule that rewrote it: `table/chain #handle` */
  rule: string | null;
  /** rules met on the way that could not be judged */
  unsure: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const HOOKS = new Set<string>(['prerouting', 'output', 'postrouting', 'input']);

/** The rules of the nat chains (base chains and the chains they jump to); problems are parse notes. */
export function parseNftNat(text: string): { rules: NatRule[]; problems: string[] } {
  const t = text.trim();
  if (t === '') return { rules: [], problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return { rules: [], problems: [`output is not JSON: ${t.split('\n')[0].slice(0, 80)}`] };
  }
  const list = isRecord(parsed) && Array.isArray(parsed.nftables) ? parsed.nftables : [];
  const rules: NatRule[] = [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    if (isRecord(item.chain)) {
      const c = item.chain;
      // The chain itself, as a rule-less marker: evaluate() finds base chains through these.
      rules.push({
        family: String(c.family),
        table: String(c.table),
        chain: String(c.name),
        expr: [{ '@chain': { type: c.type ?? null, hook: c.hook ?? null, prio: c.prio ?? 0 } }],
      });
    } else if (isRecord(item.rule)) {
      const r = item.rule;
      rules.push({
        family: String(r.family),
        table: String(r.table),
        chain: String(r.chain),
        expr: Array.isArray(r.expr) ? [...r.expr, { '@handle': r.handle ?? null }] : [],
      });
    }
  }
  return { rules, problems: [] };
}

function chainsOf(rules: readonly NatRule[]): Map<string, ChainInfo> {
  const chains = new Map<string, ChainInfo>();
  for (const r of rules) {
    const key = `${r.family}/${r.table}/${r.chain}`;
    const head = r.expr[0];
    if (isRecord(head) && isRecord(head['@chain'])) {
      const c = head['@chain'];
      const hook =
        typeof c.hook === 'string' && HOOKS.has(c.hook) && c.type === 'nat' ? (c.hook as NatHook) : null;
      chains.set(key, {
        family: r.family,
        table: r.table,
        name: r.chain,
        hook,
        prio: Number(c.prio) || 0,
        rules: [],
      });
      continue;
    }
    chains.get(key)?.rules.push(r);
  }
  return chains;
}

function familyApplies(tableFamily: string, family: 4 | 6): boolean {
  return tableFamily === 'inet' || tableFamily === (family === 4 ? 'ip' : 'ip6');
}

type Judged = boolean | 'unknown';

function ipv4ToNumber(text: string): number | null {
  const p = text.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x))) return null;
  return p.reduce((n, x) => n * 256 + Number(x), 0);
}

/** Whether an address (v4) lies in `{prefix: {addr, len}}`, a `{range: [a, b]}` or equals a string. */
function addressIn(value: string, right: unknown): Judged {
  if (typeof right === 'string') return right === value;
  if (isRecord(right) && isRecord(right.prefix)) {
    const base = ipv4ToNumber(String(right.prefix.addr));
    const v = ipv4ToNumber(value);
    const len = Number(right.prefix.len);
    if (base === null || v === null) return 'unknown'; // IPv6 prefixes: not judged here
    if (len === 0) return true;
    const shift = 32 - len;
    return Math.floor(base / 2 ** shift) === Math.floor(v / 2 ** shift);
  }
  if (isRecord(right) && Array.isArray(right.range)) {
    const [a, b] = right.range.map((x) => ipv4ToNumber(String(x)));
    const v = ipv4ToNumber(value);
    if (a === null || b === null || v === null) return 'unknown';
    return v >= a && v <= b;
  }
  if (isRecord(right) && Array.isArray(right.set)) return anyOf(right.set, (x) => addressIn(value, x));
  return 'unknown';
}

function portIn(value: number | null, right: unknown): Judged {
  if (value === null) return false;
  if (typeof right === 'number') return right === value;
  if (isRecord(right) && Array.isArray(right.range)) {
    const [a, b] = right.range.map(Number);
    return value >= a && value <= b;
  }
  if (isRecord(right) && Array.isArray(right.set)) return anyOf(right.set, (x) => portIn(value, x));
  return 'unknown';
}

function nameIn(value: string | null, right: unknown): Judged {
  if (value === null) return false;
  if (typeof right === 'string')
    return right.endsWith('*') ? value.startsWith(right.slice(0, -1)) : right === value;
  if (isRecord(right) && Array.isArray(right.set)) return anyOf(right.set, (x) => nameIn(value, x));
  return 'unknown';
}

function protoIn(value: string, right: unknown): Judged {
  if (typeof right === 'string') return right === value || (right === 'ipv6-icmp' && value === 'icmpv6');
  if (isRecord(right) && Array.isArray(right.set)) return anyOf(right.set, (x) => protoIn(value, x));
  return 'unknown';
}

function anyOf(items: readonly unknown[], f: (x: unknown) => Judged): Judged {
  let unknown = false;
  for (const x of items) {
    const j = f(x);
    if (j === true) return true;
    if (j === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : false;
}

/** One `match` expression against the packet. */
function judgeMatch(m: Record<string, unknown>, p: NatPacket): Judged {
  const op = m.op ?? '==';
  const left = m.left;
  let j: Judged = 'unknown';
  if (isRecord(left) && isRecord(left.payload)) {
    const { protocol, field } = left.payload;
    if ((protocol === 'ip' || protocol === 'ip6') && (field === 'saddr' || field === 'daddr')) {
      if ((protocol === 'ip') !== (p.family === 4)) return false;
      j = addressIn(field === 'saddr' ? p.src : p.dst, m.right);
    } else if ((protocol === 'ip' && field === 'protocol') || (protocol === 'ip6' && field === 'nexthdr')) {
      j = protoIn(p.proto, m.right);
    } else if (
      (protocol === 'tcp' || protocol === 'udp' || protocol === 'th') &&
      (field === 'sport' || field === 'dport')
    ) {
      // `tcp dport 80` carries an implicit `meta l4proto tcp`
      if (protocol !== 'th' && protocol !== p.proto) return false;
      j = portIn(field === 'sport' ? p.sport : p.dport, m.right);
    }
  } else if (isRecord(left) && isRecord(left.meta)) {
    const key = left.meta.key;
    if (key === 'iifname' || key === 'iif') j = nameIn(p.iif, m.right);
    else if (key === 'oifname' || key === 'oif') j = nameIn(p.oif, m.right);
    else if (key === 'l4proto') j = protoIn(p.proto, m.right);
    else if (key === 'nfproto') j = protoIn(p.family === 4 ? 'ipv4' : 'ipv6', m.right);
  }
  if (j === 'unknown') return j;
  return op === '!=' ? !j : j;
}

function portOf(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (isRecord(value) && Array.isArray(value.range)) return Number(value.range[0]);
  return null;
}

function addrOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  // a range of addresses: the first (the kernel picks by hash among them)
  if (isRecord(value) && Array.isArray(value.range)) return String(value.range[0]);
  return null;
}

type ChainResult =
  { kind: 'action'; action: NatAction; rule: string } | { kind: 'accept' } | { kind: 'continue' };

const MAX_JUMPS = 32;

function runChain(
  chains: Map<string, ChainInfo>,
  chain: ChainInfo,
  p: NatPacket,
  unsure: string[],
  depth: number,
): ChainResult {
  if (depth > MAX_JUMPS) return { kind: 'continue' };
  rules: for (const rule of chain.rules) {
    const where = `${chain.table}/${chain.name}`;
    for (const e of rule.expr) {
      if (!isRecord(e)) continue;
      if ('@handle' in e) continue;
      if (isRecord(e.match)) {
        const j = judgeMatch(e.match, p);
        if (j === false) continue rules;
        if (j === 'unknown') {
          unsure.push(`${where} #${handleOf(rule)}`);
          continue rules;
        }
        continue;
      }
      if ('counter' in e || 'log' in e || 'comment' in e || 'limit' in e) continue;
      if ('accept' in e) return { kind: 'accept' };
      if ('return' in e) return { kind: 'continue' };
      const jump = isRecord(e.jump) ? e.jump : isRecord(e.goto) ? e.goto : null;
      if (jump !== null) {
        const target = chains.get(`${chain.family}/${chain.table}/${String(jump.target)}`);
        if (target === undefined) continue rules;
        const r = runChain(chains, target, p, unsure, depth + 1);
        if (r.kind !== 'continue' || isRecord(e.goto)) return r;
        continue rules;
      }
      const ruleName = `${where} #${handleOf(rule)}`;
      if ('dnat' in e || 'snat' in e) {
        const a = (isRecord(e.dnat) ? e.dnat : e.snat) as unknown;
        const kind = 'dnat' in e ? 'dnat' : 'snat';
        const rec = isRecord(a) ? a : {};
        return {
          kind: 'action',
          action: { kind, addr: addrOf(rec.addr), port: portOf(rec.port) },
          rule: ruleName,
        };
      }
      if ('masquerade' in e) return { kind: 'action', action: { kind: 'masquerade' }, rule: ruleName };
      if ('redirect' in e) {
        const rec = isRecord(e.redirect) ? e.redirect : {};
        return { kind: 'action', action: { kind: 'redirect', port: portOf(rec.port) }, rule: ruleName };
      }
      // Anything else (mark, ct, xt, a map lookup): this rule cannot be judged for one packet.
      unsure.push(ruleName);
      continue rules;
    }
  }
  return { kind: 'continue' };
}

function handleOf(rule: NatRule): string {
  const last = rule.expr[rule.expr.length - 1];
  return isRecord(last) && last['@handle'] !== null && last['@handle'] !== undefined
    ? String(last['@handle'])
    : '?';
}

/**
 * What the nat chains of `hook` do to the packet: the first rewrite met, base chains in
 * priority order (the kernel sets a connection's mapping once per direction).
 */
export function evaluateNat(rules: readonly NatRule[], hook: NatHook, p: NatPacket): NatOutcome {
  const chains = chainsOf(rules);
  const base = [...chains.values()]
    .filter((c) => c.hook === hook && familyApplies(c.family, p.family))
    .sort((a, b) => a.prio - b.prio);
  const unsure: string[] = [];
  for (const c of base) {
    const r = runChain(chains, c, p, unsure, 0);
    if (r.kind === 'action') return { action: r.action, rule: r.rule, unsure };
  }
  return { action: null, rule: null, unsure };
}
