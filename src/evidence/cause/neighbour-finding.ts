// A sender that resolved its next hop to a wrong or stale MAC — an address that moved
// to another VM, two hosts sharing one, a static entry left behind:
//   - a frame its receiver dropped as another host's (the kernel's OTHERHOST, in
//     ip_rcv_core or ip6_rcv_core): addressed to a MAC the receiving device does not
//     own. Where a namespace before it on the path holds a neighbour entry for the
//     packet's next hop there with another MAC than the receiver's, that entry is the
//     cause, and where it is;
//   - a frame delivered to the MAC of a namespace that does not hold the next hop's
//     address (the VM the address moved away from): that namespace then fails to route
//     a packet that was never for it (forwarding off, no route), which is no cause of
//     its own. The entry before it on the path that names its MAC is.
import type { KernelDropEvidence, NeighbourEvidence } from '../../events/types.js';
import { sameNamespace } from '../context.js';
import { isUnreadable } from '../state/hop-facts.js';
import { isLocalAddress, type LinkInfo } from '../state/links.js';
import type { NeighbourEntry } from '../state/neighbours.js';
import { linkEvidence, linksOf, placeOf } from './evidence-items.js';
import type { Finding, HopView } from './hop-view.js';

/** The kernel's reason for a frame to another MAC than the receiver's. */
export const OTHERHOST = 'OTHERHOST';

/** The finding for view `v`'s OTHERHOST drop (100 matched by the packet's fields, 40 by time), or null. */
export function wrongNeighbourFinding(v: HopView, views: readonly HopView[]): Finding | null {
  if (v.packet.family === 'arp') return null;
  const drop = v.drops.find((d) => d.reason === OTHERHOST);
  if (drop === undefined) return misdeliveredFinding(v, views);
  const strength = drop.matchedBy === 'packet' ? 100 : 40;
  const receiving = linksOf(v.facts)?.find((l) => l.name === (drop.iface ?? v.iif)) ?? null;
  const ns = v.facts.netns ?? 'the root namespace';
  const kernelSays = `${ns} dropped it as addressed to another host (${drop.reason} at ${drop.location})`;
  const own =
    receiving?.mac != null ? `${receiving.name}'s ${receiving.mac}` : `${receiving?.name ?? 'its'} own`;
  // the nearest namespace before it on the path whose entry for its next hop has another MAC
  const sender = senderEntry(v, views, (entry) => entry.lladdr !== (receiving?.mac ?? null));
  if (sender !== null) {
    const { w, entry } = sender;
    const wns = w.facts.netns ?? 'the root namespace';
    return {
      code: 'wrong-neighbour',
      strength,
      summary: `${wns}'s neighbour entry for ${entry.address} on ${entry.iface} is ${entry.lladdr ?? '?'} (${entry.state.join(' ')}), not ${own}: ${kernelSays}`,
      evidence: evidenceOf(drop, v, receiving, w, entry),
      view: w,
    };
  }
  return {
    code: 'wrong-neighbour',
    strength,
    summary: `the frame was addressed to another MAC than ${own}: ${kernelSays}; the sender's neighbour entry for its next hop is wrong or stale`,
    evidence: evidenceOf(drop, v, receiving, null, null),
    view: v,
  };
}

/**
 * A frame that reached `v`'s namespace, last seen there, not for it: its destination is
 * not one of its addresses, and the neighbour entry a namespace before it on the path
 * sent it by names the MAC of the device it came in by, for an address `v` does not
 * hold. Stronger than what `v`'s own state and kernel say of a packet it should never
 * have had (110).
 */
function misdeliveredFinding(v: HopView, views: readonly HopView[]): Finding | null {
  const links = linksOf(v.facts);
  if (v.role !== 'last-seen' || v.iif === null || links === null) return null;
  const receiving = links.find((l) => l.name === v.iif);
  if (receiving?.mac == null || isLocalAddress(links, v.packet.dst)) return null;
  const sender = senderEntry(
    v,
    views,
    (entry) => entry.lladdr === receiving.mac && !isLocalAddress(links, entry.address),
  );
  if (sender !== null) {
    const { w, entry } = sender;
    const ns = v.facts.netns ?? 'the root namespace';
    const wns = w.facts.netns ?? 'the root namespace';
    return {
      code: 'wrong-neighbour',
      strength: 110,
      summary: `${wns}'s neighbour entry for ${entry.address} on ${entry.iface} is ${entry.lladdr} (${entry.state.join(' ')}), which is ${ns}'s ${receiving.name}: the frame went to ${ns}, which does not hold ${entry.address}`,
      evidence: [
        ...v.drops.filter((d) => d.matchedBy === 'packet'),
        neighbourEvidence(w, entry),
        linkEvidence(v.facts, receiving, undefined, true),
      ],
      view: w,
    };
  }
  return null;
}

/** The nearest namespace before `v` on the path whose entry for the packet's next hop `fits`, with that entry. */
function senderEntry(
  v: HopView,
  views: readonly HopView[],
  fits: (entry: NeighbourEntry) => boolean,
): { w: HopView; entry: NeighbourEntry } | null {
  for (let i = views.length - 1; i >= 0; i--) {
    const w = views[i];
    if (w.role !== 'path' || sameNamespace(w.facts, v.facts)) continue;
    const entry = entryUsed(w);
    if (entry !== null && fits(entry)) return { w, entry };
  }
  return null;
}

/**
 * The neighbour entry `w` sends the packet by: for its route's gateway, else its
 * destination, on the route's device (the device it was seen leaving by, if any).
 */
function entryUsed(w: HopView): NeighbourEntry | null {
  const neighbours = w.facts.neighbours;
  if (neighbours === null || isUnreadable(neighbours)) return null;
  const p = w.packet;
  for (const r of w.facts.routes) {
    if (r.query.dst !== p.dst || r.query.iif !== undefined || r.answer.dev === null) continue;
    if (w.oif !== null && r.answer.dev !== w.oif) continue;
    const address = r.answer.gateway ?? p.dst;
    const n = neighbours.find((x) => x.address === address && x.iface === r.answer.dev);
    if (n !== undefined && n.lladdr !== null) return n;
  }
  return null;
}

function evidenceOf(
  drop: KernelDropEvidence,
  v: HopView,
  receiving: LinkInfo | null,
  w: HopView | null,
  entry: NeighbourEntry | null,
): Finding['evidence'] {
  const out: Finding['evidence'] = [drop];
  if (w !== null && entry !== null) out.push(neighbourEvidence(w, entry));
  if (receiving !== null) out.push(linkEvidence(v.facts, receiving, undefined, true));
  return out;
}

function neighbourEvidence(w: HopView, entry: NeighbourEntry): NeighbourEvidence {
  return {
    source: 'neighbour',
    ...placeOf(w.facts),
    iface: entry.iface,
    address: entry.address,
    state: [...entry.state],
    ...(entry.lladdr !== null ? { lladdr: entry.lladdr } : {}),
  };
}
