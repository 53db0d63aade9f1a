// Which namespaces an explanation (gatherer.ts) looks at, with which packet and devices
// there, and what it reads in each: the last-seen hop's namespace and the next expected
// one (for an unanswered exchange the question and the answer that never came; for ARP
// also the namespace that asked), then NAT hops on the path when those do not explain it.
import { answerOf } from './answer-packet.js';
import { bridgeCallsIp, type HopView } from './cause/hop-view.js';
import {
  sameNamespace,
  type ExchangePacket,
  type HopPlace,
  type NamespaceKey,
  type VerdictContext,
} from './context.js';
import { hookPasses } from './firewall/hooks.js';
import { nftNatRules } from './firewall/nft-walk.js';
import { VXLAN_OVERHEAD } from './packet-fields.js';
import { isUnreadable, type HopFacts } from './state/hop-facts.js';
import { mergeRequests } from './state/hop-reader.js';
import type { ReadAsk } from './state/hop-readings.js';
import type { HopScriptRequest, RouteQuery } from './state/hop-script.js';

const GRE_OVERHEAD = 38;

/** What one view of a namespace asks and is about (before its facts are read). */
export interface ViewSpec {
  place: NamespaceKey;
  label: string;
  role: HopView['role'];
  packet: ExchangePacket;
  which: HopView['which'];
  iif: string | null;
  oif: string | null;
  expectedIface: string | null;
  /** HopView.entered */
  entered: string | null;
}

/** Everything a view reads: routes to and from the packet's ends, its devices' sysctls, sockets, conntrack, rules. */
export function fullRequest(spec: ViewSpec): HopScriptRequest {
  const p = spec.packet;
  const routes: RouteQuery[] = [];
  if (p.family === 'arp') routes.push({ dst: p.dst });
  else {
    if (spec.iif !== null && p.src !== '0.0.0.0') routes.push({ dst: p.dst, from: p.src, iif: spec.iif });
    routes.push({ dst: p.dst });
    if (p.src !== '0.0.0.0') routes.push({ dst: p.src });
  }
  return {
    links: true,
    routes: routes.filter((r) => !r.dst.startsWith('255.') && r.dst !== '0.0.0.0'),
    sysctlDevices: [spec.iif, spec.oif, spec.expectedIface].filter((d): d is string => d !== null),
    sockets: true,
    conntrack: true,
    firewall: true,
  };
}

/**
 * Devices of the packet in the namespace of `at` (see HopView, cause/hop-view.ts): from `at` to
 * the next hop when that is in the same namespace; else, when it was seen there
 * before `at`, from its first sighting there out through `at`; else in through `at`.
 */
function devicesOf(
  ctx: VerdictContext,
  at: HopPlace,
  next: HopPlace | null,
): { iif: string | null; oif: string | null; expected: string | null; entered: string | null } {
  const upTo = ctx.path.slice(
    0,
    Math.max(
      0,
      ctx.path.findIndex((p) => p.label === at.label),
    ) + 1,
  );
  const here = upTo.filter((p) => sameNamespace(p, at));
  if (next !== null && sameNamespace(next, at)) {
    const entered = here.length > 1 ? here[0].iface : null;
    return { iif: at.iface, oif: next.iface, expected: next.iface, entered };
  }
  if (here.length > 1) return { iif: here[0].iface, oif: at.iface, expected: null, entered: null };
  return { iif: at.iface, oif: null, expected: null, entered: null };
}

export function viewSpecs(
  ctx: VerdictContext,
  packet: ExchangePacket,
  last: HopPlace,
  next: HopPlace | null,
): ViewSpec[] {
  const ex = ctx.exchange;
  const d = devicesOf(ctx, last, next);
  const specs: ViewSpec[] = [];
  const placeOfLast = { host: last.host, netns: last.netns };
  // ARP: the namespace that asked keeps the neighbour entry, wherever its request was last seen
  const asker = ctx.path[0];
  if (packet.family === 'arp' && asker !== undefined && !sameNamespace(asker, last)) {
    specs.push({
      place: { host: asker.host, netns: asker.netns },
      label: asker.label,
      role: 'path',
      packet,
      which: 'question',
      iif: null,
      oif: asker.iface,
      expectedIface: null,
      entered: null,
    });
  }
  if (ex.status === 'unanswered') {
    specs.push({
      place: placeOfLast,
      label: last.label,
      role: 'last-seen',
      packet,
      which: 'question',
      iif: d.iif,
      oif: null,
      expectedIface: null,
      entered: null,
    });
    const answer = answerOf(packet);
    if (answer !== null)
      specs.push({
        place: placeOfLast,
        label: last.label,
        role: 'last-seen',
        packet: answer,
        which: 'answer',
        iif: null,
        oif: d.iif,
        expectedIface: null,
        entered: null,
      });
    return specs;
  }
  specs.push({
    place: placeOfLast,
    label: last.label,
    role: 'last-seen',
    packet,
    which: 'missing',
    iif: d.iif,
    oif: d.oif,
    expectedIface: d.expected,
    entered: d.entered,
  });
  if (next !== null && !sameNamespace(next, last)) {
    specs.push({
      place: { host: next.host, netns: next.netns },
      label: next.label,
      role: 'next',
      packet,
      which: 'missing',
      iif: next.iface,
      oif: null,
      expectedIface: next.iface,
      entered: null,
    });
  }
  return specs;
}

export function pathSpecs(
  ctx: VerdictContext,
  packet: ExchangePacket,
  done: readonly ViewSpec[],
): ViewSpec[] {
  const specs: ViewSpec[] = [];
  for (const hop of ctx.path) {
    if (done.some((s) => sameNamespace(s.place, hop)) || specs.some((s) => sameNamespace(s.place, hop)))
      continue;
    const inNs = ctx.path.filter((p) => sameNamespace(p, hop));
    specs.push({
      place: { host: hop.host, netns: hop.netns },
      label: inNs[inNs.length - 1].label,
      role: 'path',
      packet,
      which: 'missing',
      iif: inNs.length > 1 ? inNs[0].iface : null,
      oif: inNs[inNs.length - 1].iface,
      expectedIface: null,
      entered: null,
    });
  }
  return specs;
}

/**
 * A DNAT in a view's namespace that fits its packet: the route is looked up for where
 * it sends the packet, so one more reading is asked of that namespace (none without).
 */
export function dnatRouteAsks(specs: readonly ViewSpec[], facts: readonly HopFacts[]): ReadAsk[] {
  const extra: ReadAsk[] = [];
  specs.forEach((s, k) => {
    const f = facts[k];
    if (s.packet.family !== 4 || f.nftables === null || isUnreadable(f.nftables)) return;
    const links = f.links !== null && !isUnreadable(f.links) ? f.links : null;
    const passes = hookPasses(s.packet, s.iif, s.oif, links, s.entered, bridgeCallsIp(f, s.packet) !== null);
    for (const n of nftNatRules(f.nftables, passes, s.packet)) {
      const v = n.rule.verdict;
      if (
        n.fit.fits === 'yes' &&
        v.kind === 'nat' &&
        v.nat === 'dnat' &&
        v.addr !== null &&
        v.addr !== s.packet.dst
      ) {
        const req = fullRequest(s);
        extra.push({
          place: s.place,
          request: mergeRequests(req, {
            ...req,
            routes: [{ dst: v.addr, from: s.packet.src, ...(s.iif !== null ? { iif: s.iif } : {}) }],
          }),
        });
        return;
      }
    }
  });
  return extra;
}

/** Bytes of encapsulation around the packet where it was last seen (a tunnel's underlay). */
export function encapsulationOf(ctx: VerdictContext): number {
  const stage =
    ctx.exchange.stages.find((s) => s.name === ctx.exchange.lost?.stage) ?? ctx.exchange.stages[0];
  const seen = stage?.seen.find((s) => s.iface === ctx.lastSeen?.label);
  const type = seen?.tunnel?.type;
  if (type === 'vxlan' || type === 'geneve') return VXLAN_OVERHEAD;
  if (type === 'gre') return GRE_OVERHEAD;
  return 0;
}
