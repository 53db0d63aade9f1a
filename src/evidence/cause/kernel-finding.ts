// The kernel's word: a drop it reported for the packet (or in the exchange's window),
// its reason mapped to a cause, with the state or the rule that says the same as its
// evidence.
import type { CauseCode, KernelDropEvidence } from '../../events/types.js';
import { firewallFinding, type FirewallHit } from './firewall-finding.js';
import type { Finding, HopView } from './hop-view.js';

/** Where a drop without a reason is a frame too large for the device it is handed to. */
const MTU_LOCATIONS =
  /^(__dev_forward_skb|dev_forward_skb|is_skb_forwardable|veth_xmit|__dev_forward_skb2)\b/;

/** The cause each drop reason names (the kernel's `enum skb_drop_reason`, without SKB_DROP_REASON_). */
export const REASON_CODES: Readonly<Record<string, CauseCode>> = {
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
  SOCKET_RCVBUFF: 'listener-stalled',
};

/** The finding of the view's first kernel drop: 100 when matched by the packet's fields, 40 by time only. */
export function kernelFinding(
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
