// The kernel's word: a drop it reported for the packet (or in the exchange's window),
// its reason mapped to a cause, with the state or the rule that says the same as its
// evidence.
import type { CauseCode, KernelDropEvidence } from '../../events/types.js';
import { routeEvidence } from './evidence-items.js';
import { firewallFinding, type FirewallHit } from './firewall-finding.js';
import type { Finding, HopView } from './hop-view.js';

/**
 * Where a drop without a reason is a packet whose input route lookup failed: ip_error,
 * the input path of a blackhole, unreachable or prohibit route or rule.
 */
const ROUTE_ERROR_LOCATIONS = /^ip_error\b/;

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
  if (d.reason === 'NOT_SPECIFIED' && ROUTE_ERROR_LOCATIONS.test(d.location)) {
    // (the state's own route error, where the lookups show it, says the same and more)
    if (state.some((s) => s.code === 'no-route')) code = 'no-route';
    else return hiddenRouteErrorFinding(v, d, strength, drops);
  }
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

/**
 * A route error met on input that the namespace's route lookups do not show: the lookup
 * as received finds a route, so the packet's own lookup went elsewhere — a policy rule
 * that selects it by what `ip route get` was not told (its firewall mark, most often).
 */
function hiddenRouteErrorFinding(
  v: HopView,
  d: KernelDropEvidence,
  strength: number,
  drops: KernelDropEvidence[],
): Finding {
  const received = v.facts.routes.find(
    (r) => r.query.iif !== undefined && r.answer.error === null && r.answer.dev !== null,
  );
  const ns = v.facts.netns ?? 'the root namespace';
  const kernelSays = `the kernel dropped it on input: its route lookup found a blackhole, unreachable or prohibit route or rule (${d.reason} at ${d.location})`;
  const summary =
    received !== undefined
      ? `${kernelSays}; \`ip route get ${received.query.dst} from ${received.query.from ?? '?'} iif ${received.query.iif ?? '?'}\` in ${ns} finds ${received.answer.text}, so a policy rule chose another table for this packet (\`ip rule\`: by its firewall mark?)`
      : `${kernelSays} in ${ns}`;
  return {
    code: 'no-route',
    strength,
    summary,
    evidence: [...drops, ...(received !== undefined ? [routeEvidence(v.facts, received)] : [])],
    view: v,
  };
}
