// Does an nftables rule fit a packet? A small evaluator over nft's JSON match
// expressions (`nft -j`), three-valued: a rule fits when none of its matches is
// false; matches this reader cannot decide for a recorded packet (ct state without
// conntrack's word on it, marks, an address after a NAT in the same namespace) make
// the fit "undecided", and say which. Pure.
//
// Understood: meta iifname/oifname/iif/oif (wildcards), l4proto, nfproto, protocol,
// length; payload ip/ip6 saddr, daddr, protocol, nexthdr, length; tcp/udp/th sport,
// dport, tcp flags (with a mask); udp length; icmp/icmpv6 type, code, id, sequence;
// ether type; arp operation; ct state. Right-hand sides: numbers, names, prefixes,
// ranges, anonymous sets, flag lists. Operators ==, !=, <, >, <=, >=, in.
import type { ExchangePacket } from '../context.js';
import {
  all,
  ETHER_TYPES,
  ICMP_TYPES,
  ICMPV6_TYPES,
  inPrefix,
  interfaceMatches,
  IP_PROTOCOLS,
  not,
  parseAddress,
  TCP_FLAGS,
  type Truth,
} from './ip-match.js';

/** The packet as one hook of one namespace sees it. */
export interface PacketAtHook {
  packet: ExchangePacket;
  /** input and output device names there; null when not known */
  iifname: string | null;
  oifname: string | null;
  /** conntrack's state of the packet (new, established, related, invalid, untracked); null when not known */
  ctState: string | null;
}

export interface RuleFit {
  fits: Truth;
  /** the matches that could not be decided, as nft would write their left side (`ct state`) */
  undecided: string[];
}

type Value = number | string;

interface Side {
  /** the packet's value(s) for the left side; null: not applicable to this packet (the match fails) */
  values: Value[] | null;
  /** the value cannot be known here */
  unknown: boolean;
  /** how nft writes it, for `undecided` */
  name: string;
  /** how to compare: interface names take wildcards, addresses prefixes */
  kind: 'number' | 'name' | 'address' | 'interface' | 'flags';
  /** names of values → numbers (ICMP types, protocols, ether types, flags) */
  names?: Readonly<Record<string, number>>;
  /** addresses the packet had elsewhere on its path: NAT in this namespace may have put one there */
  aliases?: Value[];
}

const NOT_APPLICABLE = (name: string, kind: Side['kind']): Side => ({
  values: null,
  unknown: false,
  name,
  kind,
});
const UNKNOWN = (name: string, kind: Side['kind'] = 'number'): Side => ({
  values: [],
  unknown: true,
  name,
  kind,
});
const known = (
  name: string,
  kind: Side['kind'],
  values: Value[],
  names?: Readonly<Record<string, number>>,
): Side => ({
  values,
  unknown: false,
  name,
  kind,
  names,
});

function isIcmp(p: ExchangePacket): boolean {
  return (p.family === 4 && p.proto === 1) || (p.family === 6 && p.proto === 58);
}

function metaSide(key: string, h: PacketAtHook): Side {
  const p = h.packet;
  switch (key) {
    case 'iifname':
    case 'iif':
      return h.iifname === null
        ? UNKNOWN(`meta ${key}`, 'interface')
        : known(`meta ${key}`, 'interface', [h.iifname]);
    case 'oifname':
    case 'oif':
      return h.oifname === null
        ? UNKNOWN(`meta ${key}`, 'interface')
        : known(`meta ${key}`, 'interface', [h.oifname]);
    case 'l4proto':
      return p.family === 'arp'
        ? NOT_APPLICABLE('meta l4proto', 'number')
        : known('meta l4proto', 'number', [p.proto], IP_PROTOCOLS);
    case 'nfproto':
      return known('meta nfproto', 'name', [p.family === 4 ? 'ipv4' : p.family === 6 ? 'ipv6' : 'arp']);
    case 'protocol':
      return known(
        'meta protocol',
        'number',
        [p.family === 4 ? 0x0800 : p.family === 6 ? 0x86dd : 0x0806],
        ETHER_TYPES,
      );
    case 'length':
      return known('meta length', 'number', [p.ipLength]);
    default:
      return UNKNOWN(`meta ${key}`);
  }
}

function addressSide(name: string, own: string, h: PacketAtHook): Side {
  const aliases = h.packet.aliases.filter((a) => a !== own && a !== h.packet.src && a !== h.packet.dst);
  return { ...known(name, 'address', [own]), aliases };
}

function payloadSide(protocol: string, field: string, h: PacketAtHook): Side {
  const p = h.packet;
  const name = `${protocol} ${field}`;
  switch (protocol) {
    case 'ip':
    case 'ip6': {
      if (p.family !== (protocol === 'ip' ? 4 : 6)) return NOT_APPLICABLE(name, 'number');
      if (field === 'saddr') return addressSide(name, p.src, h);
      if (field === 'daddr') return addressSide(name, p.dst, h);
      if (field === 'protocol' || field === 'nexthdr') return known(name, 'number', [p.proto], IP_PROTOCOLS);
      if (field === 'length')
        return known(name, 'number', [protocol === 'ip' ? p.ipLength : p.ipLength - 40]);
      if (field === 'id' && p.ipId !== null) return known(name, 'number', [p.ipId]);
      return UNKNOWN(name);
    }
    case 'tcp':
    case 'udp':
    case 'th': {
      const proto = protocol === 'tcp' ? [6] : protocol === 'udp' ? [17] : [6, 17, 132, 136];
      if (p.family === 'arp' || !proto.includes(p.proto)) return NOT_APPLICABLE(name, 'number');
      if (field === 'sport' && p.sport !== null) return known(name, 'number', [p.sport]);
      if (field === 'dport' && p.dport !== null) return known(name, 'number', [p.dport]);
      if (field === 'flags' && p.tcpFlags !== null) return known(name, 'flags', [p.tcpFlags], TCP_FLAGS);
      if (field === 'length' && p.proto === 17)
        return known(name, 'number', [p.ipLength - (p.family === 6 ? 40 : 20)]);
      return UNKNOWN(name);
    }
    case 'icmp':
    case 'icmpv6': {
      if (!isIcmp(p) || (protocol === 'icmp') !== (p.family === 4)) return NOT_APPLICABLE(name, 'number');
      const types = protocol === 'icmp' ? ICMP_TYPES : ICMPV6_TYPES;
      if (field === 'type' && p.icmpType !== null) return known(name, 'number', [p.icmpType], types);
      if (field === 'id' && p.icmpId !== null) return known(name, 'number', [p.icmpId]);
      if (field === 'sequence' && p.icmpSeq !== null) return known(name, 'number', [p.icmpSeq]);
      return UNKNOWN(name);
    }
    case 'ether':
      if (field === 'type')
        return known(
          name,
          'number',
          [p.family === 4 ? 0x0800 : p.family === 6 ? 0x86dd : 0x0806],
          ETHER_TYPES,
        );
      return UNKNOWN(name);
    case 'arp':
      if (p.family !== 'arp') return NOT_APPLICABLE(name, 'number');
      if (field === 'operation' && p.icmpType !== null)
        return known(name, 'number', [p.icmpType], { request: 1, reply: 2 });
      return UNKNOWN(name);
    default:
      return UNKNOWN(name);
  }
}

function leftSide(left: unknown, h: PacketAtHook): { side: Side; mask: number | null } {
  if (typeof left !== 'object' || left === null) return { side: UNKNOWN('?'), mask: null };
  const l = left as Record<string, Record<string, unknown> | unknown[]>;
  if ('meta' in l) return { side: metaSide(String((l.meta as Record<string, unknown>).key), h), mask: null };
  if ('payload' in l) {
    const p = l.payload as Record<string, unknown>;
    return { side: payloadSide(String(p.protocol), String(p.field), h), mask: null };
  }
  if ('ct' in l) {
    const key = String((l.ct as Record<string, unknown>).key);
    if (key !== 'state') return { side: UNKNOWN(`ct ${key}`), mask: null };
    return {
      side: h.ctState === null ? UNKNOWN('ct state', 'name') : known('ct state', 'name', [h.ctState]),
      mask: null,
    };
  }
  if ('&' in l && Array.isArray(l['&'])) {
    const [inner, mask] = l['&'];
    const { side } = leftSide(inner, h);
    return { side, mask: numberOf(mask, side.names) };
  }
  return { side: UNKNOWN(Object.keys(l)[0] ?? '?'), mask: null };
}

/** A right-hand value as a number: numbers, names (via the side's table), flag lists OR-ed. */
function numberOf(v: unknown, names: Readonly<Record<string, number>> | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (names !== undefined && v in names) return names[v];
    if (/^\d+$/.test(v)) return Number(v);
    if (/^0x[0-9a-f]+$/i.test(v)) return parseInt(v, 16);
    return null;
  }
  if (Array.isArray(v)) {
    let bits = 0;
    for (const x of v) {
      const n = numberOf(x, names);
      if (n === null) return null;
      bits |= n;
    }
    return bits;
  }
  return null;
}

/** One value of the packet's against one element of the right side (not a set). */
function equalsElement(side: Side, value: Value, element: unknown, mask: number | null): Truth {
  if (typeof element === 'object' && element !== null && !Array.isArray(element)) {
    const e = element as Record<string, unknown>;
    if ('prefix' in e) {
      const pr = e.prefix as { addr: string; len: number };
      return inPrefix(String(value), pr.addr, pr.len) ? 'yes' : 'no';
    }
    if ('range' in e && Array.isArray(e.range)) {
      const lo = numberOf(e.range[0], side.names);
      const hi = numberOf(e.range[1], side.names);
      if (lo === null || hi === null || typeof value !== 'number') return 'unknown';
      const v = mask !== null ? value & mask : value;
      return v >= lo && v <= hi ? 'yes' : 'no';
    }
    return 'unknown';
  }
  switch (side.kind) {
    case 'interface':
      return typeof element === 'string' && interfaceMatches(String(value), element) ? 'yes' : 'no';
    case 'address': {
      const a = parseAddress(String(value));
      const b = typeof element === 'string' ? parseAddress(element) : null;
      if (a === null || b === null) return 'unknown';
      return a.value === b.value && a.bits === b.bits ? 'yes' : 'no';
    }
    case 'name':
      return typeof element === 'string' ? (String(value) === element ? 'yes' : 'no') : 'unknown';
    case 'number':
    case 'flags': {
      const n = numberOf(element, side.names);
      if (n === null || typeof value !== 'number') return 'unknown';
      return (mask !== null ? value & mask : value) === n ? 'yes' : 'no';
    }
  }
}

function anyOf(results: Truth[]): Truth {
  if (results.includes('yes')) return 'yes';
  return results.includes('unknown') ? 'unknown' : 'no';
}

/** One `match` expression against the packet. */
export function evaluateMatch(match: unknown, h: PacketAtHook): { truth: Truth; undecided: string | null } {
  const m = match as { op?: string; left?: unknown; right?: unknown };
  const op = m.op ?? '==';
  const { side, mask } = leftSide(m.left, h);
  if (side.values === null) return { truth: op === '!=' ? 'yes' : 'no', undecided: null };
  if (side.unknown) return { truth: 'unknown', undecided: side.name };
  const right = m.right;
  const elements: unknown[] =
    typeof right === 'object' && right !== null && !Array.isArray(right) && 'set' in right
      ? ((right as { set: unknown[] }).set ?? [])
      : [right];
  let truth: Truth;
  if (side.kind === 'flags' && op === 'in' && Array.isArray(right)) {
    // a bitmask against a list (`tcp flags syn,ack`): any of its bits set (nft's flag
    // comparison; a set in braces is `right.set`, compared value by value below)
    let bits = 0;
    let named = true;
    for (const e of right) {
      const n = numberOf(e, side.names);
      if (n === null) named = false;
      else bits |= n;
    }
    truth = !named
      ? 'unknown'
      : side.values.some((v) => typeof v === 'number' && ((mask !== null ? v & mask : v) & bits) !== 0)
        ? 'yes'
        : 'no';
  } else if (op === 'in' || (side.kind === 'name' && Array.isArray(right))) {
    // flag-like: `ct state established,related` is any of them
    const list = Array.isArray(right) ? right : elements;
    truth = anyOf(side.values.flatMap((v) => list.map((e) => equalsElement(side, v, e, mask))));
  } else if (op === '==' || op === '!=') {
    let eq = anyOf(side.values.flatMap((v) => elements.map((e) => equalsElement(side, v, e, mask))));
    // not the packet's address here, but one it had elsewhere: a NAT in this namespace may have made it so
    if (
      eq === 'no' &&
      (side.aliases ?? []).some((a) => elements.some((e) => equalsElement(side, a, e, mask) === 'yes'))
    )
      eq = 'unknown';
    truth = op === '==' ? eq : not(eq);
  } else {
    const n = numberOf(right, side.names);
    const v = side.values[0];
    if (n === null || typeof v !== 'number') truth = 'unknown';
    else {
      const x = mask !== null ? v & mask : v;
      truth = (op === '<' ? x < n : op === '>' ? x > n : op === '<=' ? x <= n : op === '>=' ? x >= n : false)
        ? 'yes'
        : 'no';
    }
  }
  return {
    truth,
    undecided: truth === 'unknown' ? (side.kind === 'address' ? `${side.name} (NAT)` : side.name) : null,
  };
}

/** Whether every match of a rule fits the packet. */
export function evaluateRule(matches: readonly unknown[], h: PacketAtHook): RuleFit {
  const truths: Truth[] = [];
  const undecided: string[] = [];
  for (const m of matches) {
    const r = evaluateMatch(m, h);
    truths.push(r.truth);
    if (r.undecided !== null) undecided.push(r.undecided);
    if (r.truth === 'no') return { fits: 'no', undecided: [] };
  }
  return { fits: all(truths), undecided };
}
