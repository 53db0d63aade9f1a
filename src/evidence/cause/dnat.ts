// The packet after the address translation of its namespace's prerouting, as the hooks
// after it, routing and the sockets see it: a firewall rule, a route or a listener is
// judged against the address the packet was sent on to, not the one it arrived for.
// Two translations happen there: a DNAT rule's, and conntrack's own for the replies of
// a flow it translated on the way out (SNAT, masquerade) — a reply that arrives for the
// router's address goes on to the flow's original source, through forward, not input.
import type { ExchangePacket } from '../context.js';
import { nftNatRules, type PacketAtPass } from '../firewall/nft-walk.js';
import type { ConntrackEntry } from '../state/conntrack.js';
import { isUnreadable } from '../state/hop-facts.js';
import { isLocalAddress } from '../state/links.js';
import { linksOf } from './evidence-items.js';
import { hookPassesOf, type HopView } from './hop-view.js';

/** The DNAT target when a dnat rule of this namespace fits the packet. */
export function dnatTarget(v: HopView): { addr: string; port: number | null } | null {
  const f = v.facts;
  if (f.nftables === null || isUnreadable(f.nftables)) return null;
  for (const n of nftNatRules(f.nftables, hookPassesOf(v), v.packet)) {
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

/**
 * Where conntrack sends a reply that arrived for an address of this namespace when the
 * flow it answers was translated on its way out (SNAT, masquerade): the flow's original
 * source, as the entry whose reply direction the packet is says. Null otherwise.
 */
export function reverseNatTarget(v: HopView): { addr: string; port: number | null } | null {
  const p = v.packet;
  const c = v.facts.conntrack;
  const links = linksOf(v.facts);
  if (p.family === 'arp' || c === null || isUnreadable(c) || links === null) return null;
  if (!isLocalAddress(links, p.dst)) return null;
  const entry = c.entries.find((e) => e.reply.src === p.src && e.reply.dst === p.dst && repliesTo(e, p));
  // (an untranslated flow's reply is for this namespace itself)
  if (entry === undefined || entry.original.src === p.dst) return null;
  return { addr: entry.original.src, port: entry.original.sport };
}

/** Whether `p` has the ports (ICMP: echo id) of the entry's reply direction. */
function repliesTo(e: ConntrackEntry, p: ExchangePacket): boolean {
  if (p.family !== 'arp' && (p.proto === 1 || p.proto === 58))
    return e.reply.id !== null && e.reply.id === p.icmpId;
  return e.reply.sport === p.sport && e.reply.dport === p.dport;
}

/** Where this namespace's prerouting sends the packet on to (a DNAT, or a reply's reverse NAT); null: where it is addressed. */
export function preroutingTarget(v: HopView): { addr: string; port: number | null } | null {
  return (v.packet.family === 4 ? dnatTarget(v) : null) ?? reverseNatTarget(v);
}

/** The packet after the translations of this namespace's prerouting (what routing, forward and input see); itself without one. */
export function translated(v: HopView): ExchangePacket {
  const dnat = preroutingTarget(v);
  if (dnat === null) return v.packet;
  return {
    ...v.packet,
    dst: dnat.addr,
    dport: dnat.port ?? v.packet.dport,
    aliases: [...v.packet.aliases, v.packet.dst],
  };
}

/** The packet as each hook sees it: a translation rewrites it in prerouting, for every hook after. */
export function packetByHook(v: HopView, after = translated(v)): PacketAtPass {
  if (after === v.packet) return v.packet;
  return (pass) =>
    pass.hook === 'prerouting' || pass.hook === 'ingress' || pass.layer === 'bridge' ? v.packet : after;
}
