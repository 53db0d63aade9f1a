// The packet after a DNAT of its namespace, as the hooks after prerouting, routing and
// the sockets see it: a firewall rule, a route or a listener is judged against the
// address the packet was sent on to, not the one it arrived for.
import type { ExchangePacket } from '../context.js';
import { nftNatRules, type PacketAtPass } from '../firewall/nft-walk.js';
import { isUnreadable } from '../state/hop-facts.js';
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

/** The packet after a DNAT of this namespace (what routing, forward and input see); itself without one. */
export function translated(v: HopView): ExchangePacket {
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
export function packetByHook(v: HopView): PacketAtPass {
  const after = translated(v);
  if (after === v.packet) return v.packet;
  return (pass) =>
    pass.hook === 'prerouting' || pass.hook === 'ingress' || pass.layer === 'bridge' ? v.packet : after;
}
