// Why an exchange broke (docs/json-lines.md `cause`): from the evidence read at the hop
// where it broke, the one cause that explains it, with the evidence that supports it.
// Pure: the gatherer reads, this decides.
//
// What is looked at: a view per namespace and packet — the last-seen hop's namespace,
// the next expected one's, NAT hops on the path — each with the packet as it was
// there (the missing packet; for an unanswered exchange also the answer that never
// came), its devices there, the namespace's state (hop-facts.ts), an earlier reading
// of it (counters), and the kernel's drops matched to the packet.
//
// Findings, strongest first (the strongest wins; among equals, the earlier view):
//   100  the kernel dropped this very packet, for a reason that names the cause
//        (NETFILTER_DROP with the rule that fits, NEIGH_FAILED, IP_RPFILTER, …)
//    80  a drop/reject rule that certainly fits and whose counter moved; a conntrack
//        entry from before a NAT rule that fits (the flow goes untranslated)
//    70  a drop/reject rule that certainly fits; the state says so: the next device
//        down, the packet larger than a link's MTU, no route, forwarding off, reverse
//        path, 127/8 without route_localnet, nobody listening, the neighbour unresolved
//    50  a drop/reject rule that may fit (a match that cannot be decided: ct state, …)
//    40  a drop in the exchange's time window, not identified by its fields (tracefs)
//     0  `unknown`: what was read, and what could not be
// ok and inconclusive exchanges get no cause; nor does an error the network did not
// make (a DNS rcode, a DHCP NAK).
import type {
  Cause,
  CauseCode,
  EvidenceItem,
  EvidencePlace,
  ExchangeRecord,
  IptablesEvidence,
  KernelDropEvidence,
  LinkEvidence,
  NftablesEvidence,
  RouteEvidence,
  SysctlEvidence,
} from '../events/types.js';
import type { ExchangePacket } from './context.js';
import { hookPasses } from './firewall/hooks.js';
import { iptablesCandidates, type IptablesCandidate, type IptablesRule } from './firewall/iptables-save.js';
import { nftCandidates, nftNatRules, type NftCandidate, type PacketAtPass } from './firewall/nft-walk.js';
import { tableName, type NftRule } from './firewall/nft-ruleset.js';
import { isUntranslated, type ConntrackEntry } from './state/conntrack.js';
import { isUnreadable, unreadableSources, type HopFacts } from './state/hop-facts.js';
import { isLocalAddress, type LinkInfo } from './state/links.js';
import { isUnresolved } from './state/neighbours.js';
import { isListening } from './state/sockets.js';
import { effectiveSysctl } from './state/sysctls.js';

/** One namespace, as one packet crossed it (or should have). */
export interface HopView {
  /** the label `at` names when the cause is found here */
  label: string;
  role: 'last-seen' | 'next' | 'path';
  packet: ExchangePacket;
  /** the missing packet itself, the question of an unanswered exchange, or the answer it never got */
  which: 'missing' | 'question' | 'answer';
  /** devices of the packet in this namespace (null: not known) */
  iif: string | null;
  oif: string | null;
  /** the device it should have appeared on next, when in this namespace */
  expectedIface: string | null;
  /** bytes of encapsulation around the packet on the links here (VXLAN: 50) */
  encapsulation: number;
  facts: HopFacts;
  /** an earlier reading of this namespace (rule counters) */
  before: HopFacts | null;
  drops: KernelDropEvidence[];
  /** why the kernel's drops could not be read here; null when they were */
  kernelUnreadable: string | null;
}

export interface CauseInput {
  exchange: ExchangeRecord;
  views: readonly HopView[];
}

interface Finding {
  code: CauseCode;
  strength: number;
  summary: string;
  evidence: EvidenceItem[];
  view: HopView;
}

const MTU_LOCATIONS =
  /^(__dev_forward_skb|dev_forward_skb|is_skb_forwardable|veth_xmit|__dev_forward_skb2)\b/;

function placeOf(f: HopFacts): EvidencePlace {
  const p: EvidencePlace = {};
  if (f.host !== null) p.host = f.host;
  if (f.netns !== null) p.netns = f.netns;
  return p;
}

function quote(rule: string): string {
  return `\`${rule}\``;
}

function linksOf(f: HopFacts): LinkInfo[] | null {
  return f.links === null || isUnreadable(f.links) ? null : f.links;
}

function sysctl(f: HopFacts, key: string, dev: string | null): SysctlEvidence | null {
  if (isUnreadable(f.sysctls)) return null;
  const value = dev === null ? (f.sysctls.get(key) ?? null) : effectiveSysctl(f.sysctls, key, dev);
  if (value === null) return null;
  return { source: 'sysctl', ...placeOf(f), key: dev === null ? key : `net.ipv4.conf.${dev}.${key}`, value };
}

function linkEvidence(f: HopFacts, l: LinkInfo, packetBytes?: number): LinkEvidence {
  const e: LinkEvidence = {
    source: 'link',
    ...placeOf(f),
    iface: l.name,
    state: l.operstate,
    up: l.up,
    carrier: l.carrier,
    mtu: l.mtu,
  };
  if (l.master !== null) e.master = l.master;
  if (packetBytes !== undefined) e.packetBytes = packetBytes;
  return e;
}

// ── firewall ────────────────────────────────────────────────────────────────

function counterDelta(before: HopFacts | null, r: NftRule): number | undefined {
  if (r.packets === null || before === null || before.nftables === null || isUnreadable(before.nftables))
    return undefined;
  const old = before.nftables.rules.find(
    (o) => o.family === r.family && o.table === r.table && o.chain === r.chain && o.handle === r.handle,
  );
  return old?.packets !== undefined && old.packets !== null ? r.packets - old.packets : undefined;
}

function nftEvidence(f: HopFacts, before: HopFacts | null, c: NftCandidate): NftablesEvidence {
  const delta = c.rule !== null ? counterDelta(before, c.rule) : undefined;
  const e: NftablesEvidence = {
    source: 'nftables',
    ...placeOf(f),
    family: c.chain.family,
    table: c.chain.table,
    chain: c.chain.name,
    handle: c.rule?.handle ?? c.chain.handle,
    rule: c.rule?.text ?? `policy drop`,
    verdict: c.rule?.verdict.kind === 'reject' ? 'reject' : 'drop',
    matchedBy: delta !== undefined && delta > 0 ? 'counter' : 'match',
  };
  if (delta !== undefined) e.counterDelta = delta;
  if (c.fit.undecided.length > 0) e.undecided = [...c.fit.undecided];
  return e;
}

function iptablesDelta(
  before: HopFacts | null,
  backend: string,
  family: string,
  r: IptablesRule,
): number | undefined {
  const old = before?.iptables?.find((i) => i.backend === backend && i.family === family);
  if (old === undefined || isUnreadable(old.ruleset)) return undefined;
  const o = old.ruleset.rules.find((x) => x.table === r.table && x.chain === r.chain && x.text === r.text);
  return o === undefined ? undefined : r.packets - o.packets;
}

function iptablesEvidence(
  f: HopFacts,
  before: HopFacts | null,
  backend: 'legacy' | 'nft',
  family: 'ip' | 'ip6',
  c: IptablesCandidate,
): IptablesEvidence {
  const delta = c.rule !== null ? iptablesDelta(before, backend, family, c.rule) : undefined;
  const e: IptablesEvidence = {
    source: 'iptables',
    ...placeOf(f),
    backend,
    family,
    table: c.chain.table,
    chain: c.rule?.chain ?? c.chain.name,
    rule: c.rule?.text ?? `-P ${c.chain.name} DROP`,
    verdict: c.rule?.target === 'REJECT' ? 'reject' : 'drop',
    matchedBy: delta !== undefined && delta > 0 ? 'counter' : 'match',
  };
  if (delta !== undefined) e.counterDelta = delta;
  if (c.undecided.length > 0) e.undecided = [...c.undecided];
  return e;
}

/** iptables-nft's own tables, as nft lists them: left to the iptables reading, which names them as iptables does. */
function isIptablesNftTable(f: HopFacts, family: string, table: string): boolean {
  return (f.iptables ?? []).some(
    (i) =>
      i.backend === 'nft' &&
      !isUnreadable(i.ruleset) &&
      (i.family === family || family === 'inet') &&
      i.ruleset.chains.some((c) => c.table === table),
  );
}

interface FirewallHit {
  evidence: NftablesEvidence | IptablesEvidence;
  certain: boolean;
  /** ct state is the match that decides it (`ct state invalid drop`) */
  conntrackInvalid: boolean;
}

function ctState(v: HopView): string | null {
  const p = v.packet;
  if (p.family !== 'arp' && p.proto === 6 && p.tcpFlags === 0x02) return 'new';
  return null;
}

/** The packet after a DNAT of this namespace (what routing, forward and input see); itself without one. */
function translated(v: HopView): ExchangePacket {
  const dnat = v.packet.family === 4 ? dnatTarget(v) : null;
  if (dnat === null) return v.packet;
  return {
    ...v.packet,
    dst: dnat.addr,
    dport: dnat.port ?? v.packet.dport,
    aliases: [...v.packet.aliases, v.packet.dst],
  };
}

/** The packet as each hook sees it: a DNAT rewrites it in prerouting, for every hook after. */
function packetByHook(v: HopView): PacketAtPass {
  const after = translated(v);
  if (after === v.packet) return v.packet;
  return (pass) =>
    pass.hook === 'prerouting' || pass.hook === 'ingress' || pass.layer === 'bridge' ? v.packet : after;
}

function firewallHits(v: HopView): FirewallHit[] {
  const f = v.facts;
  // where it goes (input or forward) is decided after the DNAT
  const passes = hookPasses(translated(v), v.iif, v.oif, linksOf(f));
  const packet = packetByHook(v);
  const hits: FirewallHit[] = [];
  const invalid = (text: string): boolean =>
    /ct state[^a-z]*(\S+,)*invalid|--(ct)?state (\S+,)*INVALID/.test(text);
  if (f.nftables !== null && !isUnreadable(f.nftables)) {
    for (const c of nftCandidates(f.nftables, passes, packet, ctState(v))) {
      if (isIptablesNftTable(f, c.chain.family, c.chain.table)) continue;
      const evidence = nftEvidence(f, v.before, c);
      hits.push({
        evidence,
        certain: c.fit.fits === 'yes',
        conntrackInvalid: invalid(evidence.rule) && c.fit.undecided.includes('ct state'),
      });
    }
  }
  for (const i of f.iptables ?? []) {
    if (isUnreadable(i.ruleset)) continue;
    if ((i.family === 'ip') !== (v.packet.family === 4)) continue;
    for (const c of iptablesCandidates(i.ruleset, passes, packet, ctState(v))) {
      const evidence = iptablesEvidence(f, v.before, i.backend, i.family, c);
      hits.push({
        evidence,
        certain: c.fits === 'yes',
        conntrackInvalid: invalid(evidence.rule) && c.undecided.some((u) => /state/.test(u)),
      });
    }
  }
  return hits;
}

function describeRule(e: NftablesEvidence | IptablesEvidence): string {
  if (e.source === 'nftables') {
    if (e.rule === 'policy drop')
      return `the drop policy of nftables chain ${e.family} ${e.table} ${e.chain}`;
    return `nftables rule handle ${e.handle} in ${e.family} ${e.table} ${e.chain}: ${quote(e.rule)}`;
  }
  return `iptables${e.backend === 'legacy' ? ' (legacy)' : ''} rule in ${e.table} ${e.chain}: ${quote(e.rule)}`;
}

function firewallFinding(
  v: HopView,
  hit: FirewallHit,
  strength: number,
  kernel: KernelDropEvidence[],
): Finding {
  const e = hit.evidence;
  const conntrack = conntrackOfFlow(v);
  if (hit.conntrackInvalid) {
    return {
      code: 'conntrack',
      strength,
      summary: `conntrack took the packet for invalid (no connection it belongs to), and ${describeRule(e)} drops invalid packets`,
      evidence: [...kernel, e, ...(conntrack !== null ? [conntrack] : [])],
      view: v,
    };
  }
  const verb = e.verdict === 'reject' ? 'rejected' : 'dropped';
  return {
    code: 'netfilter-drop',
    strength,
    summary: `${hit.certain || kernel.length > 0 ? verb : `probably ${verb}`} by ${describeRule(e)}`,
    evidence: [...kernel, e],
    view: v,
  };
}

// ── conntrack ───────────────────────────────────────────────────────────────

function entryOfFlow(entries: readonly ConntrackEntry[], p: ExchangePacket): ConntrackEntry | undefined {
  const addresses = new Set([p.src, p.dst, ...p.aliases]);
  return entries.find((e) => {
    const o = e.original;
    const ends = addresses.has(o.src) && addresses.has(o.dst);
    if (!ends) return false;
    if (p.family !== 'arp' && (p.proto === 1 || p.proto === 58))
      return o.id === p.icmpId || e.reply.id === p.icmpId;
    return (
      (o.sport === p.sport && o.dport === p.dport) ||
      (o.sport === p.dport && o.dport === p.sport) ||
      (e.reply.sport === p.sport && e.reply.dport === p.dport)
    );
  });
}

function conntrackOfFlow(v: HopView): EvidenceItem | null {
  const c = v.facts.conntrack;
  if (c === null) return null;
  if (isUnreadable(c)) return { source: 'conntrack', ...placeOf(v.facts), unreadable: c.unreadable };
  const e = entryOfFlow(c.entries, v.packet);
  const invalidDelta =
    v.before?.conntrack != null &&
    !isUnreadable(v.before.conntrack) &&
    v.before.conntrack.invalid !== null &&
    c.invalid !== null
      ? c.invalid - v.before.conntrack.invalid
      : null;
  const note =
    invalidDelta !== null && invalidDelta > 0 ? `invalid packets counted: +${invalidDelta}` : undefined;
  return e !== undefined
    ? {
        source: 'conntrack',
        ...placeOf(v.facts),
        found: true,
        entry: e.text,
        ...(note !== undefined ? { note } : {}),
      }
    : { source: 'conntrack', ...placeOf(v.facts), found: false, note: note ?? 'no entry for this flow' };
}

function staleNatFinding(v: HopView): Finding | null {
  const f = v.facts;
  if (f.nftables === null || isUnreadable(f.nftables) || f.conntrack === null || isUnreadable(f.conntrack))
    return null;
  // the packet went on with the addresses it had here: no translation seen on its path
  if (v.packet.aliases.length > 0) return null;
  const nat = nftNatRules(f.nftables, hookPasses(v.packet, v.iif, v.oif, linksOf(f)), v.packet).filter(
    (n) => n.fit.fits === 'yes',
  );
  if (nat.length === 0) return null;
  const entry = entryOfFlow(f.conntrack.entries, v.packet);
  if (entry === undefined || !isUntranslated(entry)) return null;
  const rule = nat[0];
  const kind = rule.rule.verdict.kind === 'nat' ? rule.rule.verdict.nat : 'nat';
  return {
    code: 'conntrack',
    strength: 80,
    summary: `a conntrack entry from before the ${kind} rule keeps this flow untranslated: ${quote(entry.text)}; nftables rule handle ${rule.rule.handle} in ${tableName(rule.chain)} ${rule.chain.name} applies only to new flows: ${quote(rule.rule.text)}`,
    evidence: [
      {
        source: 'conntrack',
        ...placeOf(f),
        found: true,
        entry: entry.text,
        note: `no ${kind} applied although a ${kind} rule fits`,
      },
      {
        source: 'nftables',
        ...placeOf(f),
        family: rule.chain.family,
        table: rule.chain.table,
        chain: rule.chain.name,
        handle: rule.rule.handle,
        rule: rule.rule.text,
        verdict: kind === 'nat' ? 'snat' : kind,
        matchedBy: 'match',
      },
    ],
    view: v,
  };
}

// ── state ───────────────────────────────────────────────────────────────────

function isBroadcast(address: string): boolean {
  return address === '255.255.255.255' || /\.255$/.test(address);
}

/** The DNAT target when a dnat rule of this namespace fits the packet. */
function dnatTarget(v: HopView): { addr: string; port: number | null } | null {
  const f = v.facts;
  if (f.nftables === null || isUnreadable(f.nftables)) return null;
  for (const n of nftNatRules(f.nftables, hookPasses(v.packet, v.iif, v.oif, linksOf(f)), v.packet)) {
    const verdict = n.rule.verdict;
    if (
      n.fit.fits === 'yes' &&
      verdict.kind === 'nat' &&
      (verdict.nat === 'dnat' || verdict.nat === 'redirect') &&
      verdict.addr !== null
    )
      return { addr: verdict.addr, port: verdict.port };
  }
  return null;
}

function routeEvidence(f: HopFacts, r: HopFacts['routes'][number]): RouteEvidence {
  const q = r.query;
  const query = [
    q.dst,
    q.from !== undefined ? `from ${q.from}` : '',
    q.iif !== undefined ? `iif ${q.iif}` : '',
  ]
    .filter((w) => w !== '')
    .join(' ');
  const e: RouteEvidence = { source: 'route', ...placeOf(f), query };
  if (r.answer.error !== null) e.error = r.answer.error;
  else e.route = r.answer.text;
  if (r.answer.dev !== null) e.iface = r.answer.dev;
  return e;
}

function stateFindings(v: HopView): Finding[] {
  const f = v.facts;
  const p = v.packet;
  const out: Finding[] = [];
  const links = linksOf(f);
  const link = (name: string | null): LinkInfo | undefined =>
    name === null ? undefined : links?.find((l) => l.name === name);
  const add = (code: CauseCode, summary: string, evidence: EvidenceItem[], strength = 70): void => {
    out.push({ code, strength, summary, evidence, view: v });
  };

  // the device it was expected on next
  for (const name of [v.expectedIface, v.oif]) {
    const l = link(name);
    if (l === undefined) continue;
    const portBlocked = l.portState !== null && l.portState !== 'forwarding';
    if (!l.up || !l.carrier || portBlocked) {
      const why = !l.up
        ? 'down'
        : !l.carrier
          ? 'up without carrier'
          : `a bridge port in state ${l.portState}`;
      add('link-down', `${l.name} is ${why} (${l.operstate})`, [linkEvidence(f, l)]);
      break;
    }
  }

  // MTU: the packet with its encapsulation against the link that receives it (it drops
  // what does not fit), or sends it with DF set; a VXLAN device's underlay too
  if (p.family !== 'arp') {
    const bytes = p.ipLength + v.encapsulation;
    const receiving = link(v.expectedIface);
    const sending = link(v.oif);
    if (receiving !== undefined && bytes > receiving.mtu && receiving.kind !== 'vxlan') {
      add('mtu', `${bytes}-byte packets do not fit ${receiving.name}'s MTU of ${receiving.mtu}`, [
        linkEvidence(f, receiving, bytes),
      ]);
    } else if (sending !== undefined && sending !== receiving && p.dontFragment && bytes > sending.mtu) {
      add('mtu', `${bytes}-byte packets with DF set do not fit ${sending.name}'s MTU of ${sending.mtu}`, [
        linkEvidence(f, sending, bytes),
      ]);
    }
    for (const dev of [receiving, sending]) {
      if (dev?.kind !== 'vxlan' || dev.vxlanUnderlay === null) continue;
      const under = link(dev.vxlanUnderlay);
      if (under !== undefined && p.ipLength + 14 + 50 > under.mtu + 14) {
        add('mtu', `${p.ipLength + 50}-byte VXLAN packets do not fit ${under.name}'s MTU of ${under.mtu}`, [
          linkEvidence(f, dev),
          linkEvidence(f, under, p.ipLength + 50),
        ]);
      }
    }
  }

  // routing
  const dnat = p.family === 4 ? dnatTarget(v) : null;
  const dst = dnat?.addr ?? p.dst;
  const toLocal =
    links !== null && (isLocalAddress(links, dst) || dst.startsWith('127.') || isBroadcast(dst));
  const fromLocal = links !== null && isLocalAddress(links, p.src);
  const forwarded = p.family !== 'arp' && links !== null && !toLocal && !fromLocal && v.iif !== null;
  if (forwarded) {
    const fwd = sysctl(f, 'net.ipv4.ip_forward', null);
    const perDev = v.iif !== null ? sysctl(f, 'forwarding', v.iif) : null;
    if ((fwd !== null && fwd.value === '0') || (perDev !== null && perDev.value === '0')) {
      add(
        'forwarding-off',
        `forwarding is off in ${f.netns ?? 'the root namespace'} (${(fwd?.value === '0' ? fwd : perDev)?.key} = 0): it does not route ${p.src} → ${p.dst}`,
        [fwd, perDev].filter((e): e is SysctlEvidence => e !== null),
      );
    }
  }
  for (const r of f.routes) {
    const err = r.answer.error;
    // ARP is answered on its link: routes say nothing about it
    if (err === null || r.query.dst !== dst || p.family === 'arp') continue;
    // a packet received here is judged by the lookup made as if received (iif), one sent from here by the plain one
    const received = r.query.iif !== undefined;
    if (received !== (!fromLocal && v.iif !== null)) continue;
    const ev = routeEvidence(f, r);
    if (/cross-device/i.test(err)) {
      const rp = v.iif !== null ? sysctl(f, 'rp_filter', v.iif) : null;
      add('rp-filter', `the reverse-path filter drops ${p.src} arriving on ${v.iif ?? '?'}`, [
        ev,
        ...(rp !== null ? [rp] : []),
      ]);
    } else if (dst.startsWith('127.') && /invalid argument/i.test(err)) {
      const rl = v.iif !== null ? sysctl(f, 'route_localnet', v.iif) : null;
      add(
        'localnet',
        `${p.dst}${dnat !== null ? ` DNAT-ed to ${dst}` : ''} arriving on ${v.iif ?? '?'}: 127/8 is not routed from outside without route_localnet${rl !== null ? ` (${rl.key} = ${rl.value})` : ''}`,
        [ev, ...(rl !== null ? [rl] : [])],
      );
    } else if (/no route to host|network is unreachable/i.test(err)) {
      const fwd = sysctl(f, 'net.ipv4.ip_forward', null);
      if (
        /no route to host/i.test(err) &&
        fwd?.value === '0' &&
        !out.some((o) => o.code === 'forwarding-off')
      ) {
        add('forwarding-off', `forwarding is off in ${f.netns ?? 'the root namespace'} (${fwd.key} = 0)`, [
          fwd,
          ev,
        ]);
      } else if (!out.some((o) => o.code === 'forwarding-off')) {
        add('no-route', `no route to ${dst} in ${f.netns ?? 'the root namespace'}: ${err}`, [ev]);
      }
    }
  }
  // reverse path: the route back to the source leaves by another device, and rp_filter is strict
  if (v.iif !== null && p.family === 4 && !fromLocal) {
    const back = f.routes.find(
      (r) => r.query.dst === p.src && r.query.iif === undefined && r.query.from === undefined,
    );
    const rp = sysctl(f, 'rp_filter', v.iif);
    const ingress = link(v.iif);
    const expectedIn = ingress?.master ?? v.iif;
    if (
      back !== undefined &&
      rp?.value === '1' &&
      back.answer.dev !== null &&
      back.answer.dev !== expectedIn &&
      back.answer.dev !== v.iif
    ) {
      add(
        'rp-filter',
        `the reverse-path filter (strict) drops ${p.src} arriving on ${v.iif}: the route back leaves by ${back.answer.dev}`,
        [rp, routeEvidence(f, back)],
      );
    }
  }

  // the next hop's neighbour entry
  if (f.neighbours !== null && !isUnreadable(f.neighbours)) {
    const neighbours = f.neighbours;
    const wanted: Array<{ address: string; iface: string | null }> = [];
    if (p.family === 'arp') wanted.push({ address: p.dst, iface: v.iif ?? v.oif });
    for (const r of f.routes) {
      if (r.answer.dev === null || (r.query.dst !== dst && r.query.dst !== p.dst)) continue;
      wanted.push({ address: r.answer.gateway ?? r.query.dst, iface: r.answer.dev });
    }
    for (const w of wanted) {
      const n = neighbours.find((x) => x.address === w.address && (w.iface === null || x.iface === w.iface));
      if (n !== undefined && isUnresolved(n)) {
        add(
          'no-neighbour',
          `the neighbour ${n.address} on ${n.iface} is ${n.state.join(' ')}: nothing answers ARP for it`,
          [
            {
              source: 'neighbour',
              ...placeOf(f),
              iface: n.iface,
              address: n.address,
              state: [...n.state],
              ...(n.lladdr !== null ? { lladdr: n.lladdr } : {}),
            },
          ],
        );
        break;
      }
      // the namespace that asked: it keeps no entry of a resolution that never began or was forgotten
      if (
        n === undefined &&
        p.family === 'arp' &&
        v.which !== 'answer' &&
        links !== null &&
        isLocalAddress(links, p.src)
      ) {
        add('no-neighbour', `nothing answers ARP for ${w.address} on ${w.iface ?? '?'}`, [], 60);
      }
    }
  }

  // nobody listening (a SYN, a UDP query) where it arrived
  if (
    p.family !== 'arp' &&
    (p.proto === 6 || p.proto === 17) &&
    v.which !== 'answer' &&
    toLocal &&
    f.sockets !== null &&
    !isUnreadable(f.sockets)
  ) {
    const port = dnat?.port ?? p.dport;
    const isSyn = p.proto === 6 && p.tcpFlags === 0x02;
    if (
      port !== null &&
      (isSyn || p.proto === 17) &&
      !isListening(f.sockets, p.proto === 6 ? 'tcp' : 'udp', dst, port)
    ) {
      add(
        'no-listener',
        `nothing listens on ${p.proto === 6 ? 'TCP' : 'UDP'} ${dst}:${port} in ${f.netns ?? 'the root namespace'}`,
        [
          {
            source: 'socket',
            ...placeOf(f),
            protocol: p.proto === 6 ? 'tcp' : 'udp',
            address: dst,
            port,
            listening: false,
          },
        ],
      );
    }
  }
  return out;
}

// ── the kernel's word ───────────────────────────────────────────────────────

const REASON_CODES: Readonly<Record<string, CauseCode>> = {
  NETFILTER_DROP: 'netfilter-drop',
  NEIGH_FAILED: 'no-neighbour',
  NEIGH_QUEUEFULL: 'no-neighbour',
  NEIGH_CREATEFAIL: 'no-neighbour',
  NEIGH_DEAD: 'no-neighbour',
  IP_INNOROUTES: 'no-route',
  IP_OUTNOROUTES: 'no-route',
  IP_RPFILTER: 'rp-filter',
  IP_INADDRERRORS: 'forwarding-off',
  IP_INVALID_DEST: 'localnet',
  IP_LOCALNET: 'localnet',
  PKT_TOO_BIG: 'mtu',
  NO_SOCKET: 'no-listener',
};

function kernelFinding(
  v: HopView,
  drops: KernelDropEvidence[],
  state: Finding[],
  hits: FirewallHit[],
): Finding | null {
  if (drops.length === 0) return null;
  const d = drops[0];
  let code: CauseCode | undefined = REASON_CODES[d.reason];
  if (d.reason === 'NOT_SPECIFIED' && MTU_LOCATIONS.test(d.location)) code = 'mtu';
  const strength = d.matchedBy === 'packet' ? 100 : 40;
  if (code === 'netfilter-drop' || (code === undefined && hits.length > 0 && d.reason === 'NETFILTER_DROP')) {
    const hit = hits.find((h) => h.certain) ?? hits[0];
    if (hit !== undefined) return firewallFinding(v, hit, strength, drops);
    return {
      code: 'netfilter-drop',
      strength,
      summary: `dropped by netfilter in ${v.facts.netns ?? 'the root namespace'} (no rule read fits it)`,
      evidence: [...drops],
      view: v,
    };
  }
  if (code === undefined) return null;
  // the state that says the same, as its evidence
  const same = state.find((s) => s.code === code || (code === 'forwarding-off' && s.code === 'no-route'));
  if (code === 'forwarding-off' && same === undefined) code = 'no-route';
  const kernelSays = `the kernel dropped it (${d.reason} at ${d.location})`;
  return {
    code: same?.code ?? code,
    strength,
    summary: same !== undefined ? `${same.summary}; ${kernelSays}` : kernelSays,
    evidence: [...drops, ...(same?.evidence ?? [])],
    // where the state that explains it is (an MTU drop on hand-over: the receiving side)
    view: same?.view ?? v,
  };
}

// ── the verdict ─────────────────────────────────────────────────────────────

/** Errors the network did not make: a server's answer (a DNS rcode, a DHCP NAK), not an ICMP error or a RST. */
function isServerError(ex: ExchangeRecord): boolean {
  const d = ex.detail ?? '';
  return (ex.kind === 'dns' || ex.kind === 'dhcp') && /^[A-Z]+\d*$/.test(d) && d !== 'RST';
}

export function inferCause(input: CauseInput): Cause | null {
  const ex = input.exchange;
  if (ex.status !== 'lost' && ex.status !== 'unanswered' && ex.status !== 'error') return null;
  if (ex.status === 'error' && isServerError(ex)) return null;
  const findings: Finding[] = [];
  const stateOf = new Map(input.views.map((v) => [v, stateFindings(v)]));
  for (const v of input.views) {
    const state = stateOf.get(v) ?? [];
    const hits = firewallHits(v);
    // this view's state first, then the others' (an MTU drop is seen where the packet was handed over)
    const allState = [...state, ...[...stateOf].filter(([w]) => w !== v).flatMap(([, s]) => s)];
    const kernel = kernelFinding(v, v.drops, allState, hits);
    if (kernel !== null) findings.push(kernel);
    const stale = staleNatFinding(v);
    if (stale !== null) findings.push(stale);
    for (const h of hits) {
      const moved = h.evidence.counterDelta !== undefined && h.evidence.counterDelta > 0;
      findings.push(firewallFinding(v, h, h.certain ? (moved ? 80 : 70) : moved ? 70 : 50, []));
    }
    findings.push(...state);
  }
  // the destination's own answer: nothing listens there (ICMP port unreachable, a TCP reset)
  if (ex.status === 'error' && input.views.length > 0 && /^(port-unreachable|RST)$/.test(ex.detail ?? '')) {
    const v = input.views[0];
    const p = v.packet;
    if (p.family !== 'arp' && (p.proto === 6 || p.proto === 17) && p.dport !== null) {
      const protocol = p.proto === 6 ? 'tcp' : 'udp';
      findings.push({
        code: 'no-listener',
        strength: 60,
        summary: `${p.dst} answered ${ex.detail === 'RST' ? 'with a reset' : 'port unreachable'}: nothing listens on ${protocol.toUpperCase()} port ${p.dport} there`,
        evidence: [{ source: 'socket', protocol, address: p.dst, port: p.dport, listening: false }],
        view: v,
      });
    }
  }
  // an ICMP error that says it: fragmentation needed / packet too big, and the link that is that small
  const mtu = /(?:frag-needed|packet-too-big) mtu=(\d+)/.exec(ex.detail ?? '');
  if (mtu !== null && input.views.length > 0) {
    const v = input.views[0];
    const links = linksOf(v.facts) ?? [];
    const small = links.find((l) => l.mtu === Number(mtu[1]));
    findings.push({
      code: 'mtu',
      strength: 90,
      summary: `a router answered that ${v.packet.ipLength}-byte packets need fragmenting, MTU ${mtu[1]}${small !== undefined ? ` (${small.name})` : ''}`,
      evidence:
        small !== undefined ? [linkEvidence(v.facts, small, v.packet.ipLength + v.encapsulation)] : [],
      view: v,
    });
  }
  const best = findings.reduce<Finding | null>(
    (b, f) => (b === null || f.strength > b.strength ? f : b),
    null,
  );
  const unreadable = unreadableEvidence(input.views);
  if (best === null) {
    return {
      code: 'unknown',
      summary:
        unreadable.length > 0
          ? `no cause found in what could be read (${unreadable.length} sources could not be read)`
          : 'no cause found at the hop where it broke',
      at: input.views[0]?.label ?? ex.lost?.lastSeen ?? '',
      evidence: [...notableEvidence(input.views), ...unreadable],
    };
  }
  const evidence = [...best.evidence];
  // the host's drops in the window that say the same (tracefs: matched by time only)
  for (const d of best.view.drops) {
    const code = REASON_CODES[d.reason];
    if (
      d.matchedBy === 'time' &&
      (code === best.code || (code === 'netfilter-drop' && best.code === 'conntrack')) &&
      !evidence.includes(d)
    )
      evidence.unshift(d);
  }
  // what the best view could not read stays visible next to what it found
  for (const u of unreadable)
    if (!evidence.some((e) => JSON.stringify(e) === JSON.stringify(u))) evidence.push(u);
  return { code: best.code, summary: best.summary, at: best.view.label, evidence };
}

function unreadableEvidence(views: readonly HopView[]): EvidenceItem[] {
  const out: EvidenceItem[] = [];
  const seen = new Set<string>();
  for (const v of views) {
    const items: EvidenceItem[] = [
      ...unreadableSources(v.facts).map((u) => ({ ...u, ...placeOf(v.facts) })),
      ...(v.kernelUnreadable !== null
        ? [{ source: 'kernel' as const, ...placeOf(v.facts), unreadable: v.kernelUnreadable }]
        : []),
    ];
    for (const i of items) {
      const key = JSON.stringify(i);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(i);
      }
    }
  }
  return out;
}

/** For an unknown cause: the kernel's drops, the devices and the routes looked at, so the reader sees what was checked. */
function notableEvidence(views: readonly HopView[]): EvidenceItem[] {
  const out: EvidenceItem[] = [];
  for (const v of views) {
    out.push(...v.drops);
    const links = linksOf(v.facts) ?? [];
    for (const name of [v.iif, v.oif, v.expectedIface]) {
      const l = links.find((x) => x.name === name);
      if (l !== undefined) out.push(linkEvidence(v.facts, l));
    }
    if (v.packet.family !== 'arp') for (const r of v.facts.routes) out.push(routeEvidence(v.facts, r));
  }
  const seen = new Set<string>();
  return out.filter((e) => {
    const k = JSON.stringify(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
