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
// First, what the packets alone show: an answer that reached its asker from another
// address than its question went to went around a NAT (cause/asker-finding.ts).
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
//
// The findings are made in cause/: the kernel's drops (kernel-finding.ts), firewall
// rules (firewall-finding.ts), conntrack (conntrack-finding.ts), the namespace's state
// (state-findings.ts); this file weighs them and says the one that wins.
import type { Cause, EvidenceItem, ExchangeRecord } from '../events/types.js';
import { bypassedNatCause } from './cause/asker-finding.js';
import { staleNatFinding } from './cause/conntrack-finding.js';
import { linkEvidence, linksOf, placeOf, routeEvidence } from './cause/evidence-items.js';
import { firewallFinding, firewallHits } from './cause/firewall-finding.js';
import type { CauseInput, Finding, HopView } from './cause/hop-view.js';
import { kernelFinding, REASON_CODES } from './cause/kernel-finding.js';
import { wrongNeighbourFinding } from './cause/neighbour-finding.js';
import { stateFindings } from './cause/state-findings.js';
import { unreadableSources } from './state/hop-facts.js';

/** Errors the network did not make: a server's answer (a DNS rcode, a DHCP NAK), not an ICMP error or a RST. */
function isServerError(ex: ExchangeRecord): boolean {
  const d = ex.detail ?? '';
  return (ex.kind === 'dns' || ex.kind === 'dhcp') && /^[A-Z]+\d*$/.test(d) && d !== 'RST';
}

export function inferCause(input: CauseInput): Cause | null {
  const ex = input.exchange;
  if (ex.status !== 'lost' && ex.status !== 'unanswered' && ex.status !== 'error') return null;
  if (ex.status === 'error' && isServerError(ex)) return null;
  // the answer came back around a NAT: the packets say so, whatever the state read
  const bypassed = input.asker != null ? bypassedNatCause(ex, input.asker) : null;
  if (bypassed !== null) return bypassed;
  const findings: Finding[] = [];
  const ttlRanOut = ex.status === 'error' && ex.detail === 'time-exceeded';
  const stateOf = new Map(input.views.map((v) => [v, stateFindings(v, ttlRanOut)]));
  for (const v of input.views) {
    const state = stateOf.get(v) ?? [];
    const hits = firewallHits(v);
    // this view's state first, then the others' (an MTU drop is seen where the packet was handed over)
    const allState = [...state, ...[...stateOf].filter(([w]) => w !== v).flatMap(([, s]) => s)];
    const kernel = kernelFinding(v, v.drops, allState, hits);
    if (kernel !== null) findings.push(kernel);
    const neighbour = wrongNeighbourFinding(v, input.views);
    if (neighbour !== null) findings.push(neighbour);
    const stale = staleNatFinding(v);
    if (stale !== null) findings.push(stale);
    for (const h of hits) {
      const moved = h.evidence.counterDelta !== undefined && h.evidence.counterDelta > 0;
      findings.push(firewallFinding(v, h, h.certain ? (moved ? 80 : 70) : moved ? 70 : 50, []));
    }
    findings.push(...state);
  }
  // the destination's own answer: nothing listens there (ICMP port unreachable, a TCP
  // reset) — unless the asker sent it itself
  if (
    ex.status === 'error' &&
    input.views.length > 0 &&
    /^(port-unreachable|RST)$/.test(ex.detail ?? '') &&
    input.asker?.errorFromAsker !== true
  ) {
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
