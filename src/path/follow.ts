// Follows a packet from SRC to DST over a Topology, hop by hop, as the kernels would
// forward it (walker.ts) — pure, so it is tested on recorded snapshots.
//
// The return path starts where the packet was delivered, with addresses swapped; in a
// namespace where the request was NATed, conntrack undoes it for the reply (and no nat
// rule is looked at), elsewhere the rules apply as for any packet (nat-conntrack.ts).
//
// The chain lists the interfaces where the packet can be seen, in order. A bridge that
// only forwards between its ports is not one of them (frames it forwards never show on
// the bridge device). The bridge-side end of a veth whose other end is a routing
// interface in the middle of the path (a router's qr-, fg-, tun0 — an OVS internal port
// in a real deployment) is folded into that interface as its `twin`: both ends carry
// the same frames, and the namespace's end is the one the platform names.
import type { Address } from './address.js';
import { NatConntrack, type NatRecords } from './nat-conntrack.js';
import type { PathEnd, PathHop, PathLeg, PathResult } from './path-result.js';
import { PathError, type PathQuery } from './query.js';
import { guestPortOf } from './segment.js';
import type { Link, Namespace, Topology } from './topology.js';
import type { Packet } from './walk-packet.js';
import { Walker } from './walker.js';

function isLinkLocal(a: Address): boolean {
  return a.family === 6
    ? a.bytes[0] === 0xfe && (a.bytes[1] & 0xc0) === 0x80
    : a.bytes[0] === 169 && a.bytes[1] === 254;
}

/** Whether the interface holds an address of its own that routes (not a link-local one). */
function routesAddresses(l: Link): boolean {
  return l.state.addresses.some((a) => !isLinkLocal(a.address));
}

/** Folds the bridge-side end of a veth into its routing peer (see the header). */
function foldTwins(topo: Topology, hops: PathHop[], end: PathEnd): PathHop[] {
  const out = hops.slice();
  for (let i = 0; i < out.length; i++) {
    const h = out[i];
    if (h.link.state.kind !== 'veth' || h.link.state.slaveKind !== 'bridge') continue;
    const peer = topo.peerOf(h.link);
    if (peer === null || !routesAddresses(peer)) continue;
    const j = out[i - 1]?.link === peer ? i - 1 : out[i + 1]?.link === peer ? i + 1 : -1;
    // (not where the packet starts, nor where it is delivered: those are its endpoints' own ports)
    if (j < 0 || j === 0 || (j === out.length - 1 && end.kind === 'delivered')) continue;
    out[j] = {
      ...out[j],
      twin: h.link,
      notes: [...out[j].notes, ...h.notes],
      bridge: out[j].bridge ?? h.bridge,
    };
    out.splice(i, 1);
    i--;
  }
  return out;
}

type Start = { kind: 'ns'; ns: Namespace } | { kind: 'guest'; port: Link; mac: string };

function startOf(topo: Topology, src: Address): Start {
  const holders = topo.holdersOf(src);
  const spaces = [...new Set(holders.map((l) => l.ns))];
  if (spaces.length === 0) {
    const guest = guestPortOf(topo, src);
    if (guest !== null) return { kind: 'guest', ...guest };
    throw new PathError(
      `no interface holds ${src.text} on the hosts asked, and no neighbour table knows its MAC behind a bridge port`,
    );
  }
  if (spaces.length > 1)
    throw new PathError(
      `${src.text} is held in ${spaces.length} namespaces (${holders.map((l) => l.label).join(', ')}); narrow with --netns`,
    );
  return { kind: 'ns', ns: spaces[0] };
}

function sameChain(a: readonly PathHop[], b: readonly PathHop[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].link !== b[b.length - 1 - i].link) return false;
  return true;
}

/** The path of a packet from `query.src` to `query.dst`, and of its answer back. */
export function followPath(topo: Topology, query: PathQuery): PathResult {
  if (query.src.family !== query.dst.family)
    throw new PathError(`${query.src.text} and ${query.dst.text} are not of the same address family`);
  const start = startOf(topo, query.src);
  const nat: NatRecords = new Map();
  const notes: string[] = [];
  const packet: Packet = {
    family: query.src.family,
    src: query.src,
    dst: query.dst,
    proto: query.proto,
    // a port the request could come from: only port forwards matching on it would care
    sport: query.proto === 'icmp' ? null : 40000,
    dport: query.dport,
  };
  const fw = new Walker(topo, new NatConntrack(topo, nat, false, notes));
  const fwEnd =
    start.kind === 'ns'
      ? fw.l3(start.ns, packet, null)
      : fw.fromGuest(start.port, packet, `from the guest behind it (${start.mac})`);
  const forward: PathLeg = {
    src: query.src.text,
    dst: query.dst.text,
    hops: foldTwins(topo, fw.hops, fwEnd),
    end: fwEnd,
  };

  // The answer starts where the request was delivered (in a namespace, or to a VM's
  // tap), or else where DST lives.
  let from: Namespace | null = null;
  let guest: Link | null = null;
  let answer: Packet | null = null;
  const got = fw.delivered;
  if (fwEnd.kind === 'delivered' && got !== null) {
    from = fwEnd.ns;
    answer = { ...got, src: got.dst, dst: got.src, sport: got.dport, dport: got.sport };
  } else if (fwEnd.kind === 'left' && fwEnd.guest !== undefined && got !== null) {
    guest = fwEnd.guest;
    answer = { ...got, src: got.dst, dst: got.src, sport: got.dport, dport: got.sport };
  } else {
    const spaces = [...new Set(topo.holdersOf(query.dst).map((l) => l.ns))];
    if (spaces.length === 1) {
      from = spaces[0];
      answer = { ...packet, src: query.dst, dst: query.src, sport: query.dport, dport: packet.sport };
    }
  }
  let back: PathLeg | null = null;
  if ((from !== null || guest !== null) && answer !== null) {
    const bw = new Walker(topo, new NatConntrack(topo, nat, true, notes));
    const end =
      guest !== null
        ? bw.fromGuest(guest, answer, 'from the guest behind it')
        : bw.l3(from as Namespace, answer, null);
    back = { src: answer.src.text, dst: answer.dst.text, hops: foldTwins(topo, bw.hops, end), end };
  }
  return {
    query,
    forward,
    back,
    backDiffers:
      back !== null &&
      (!sameChain(forward.hops, back.hops) ||
        (back.end.kind === 'stopped') !== (forward.end.kind === 'stopped')),
    notes,
  };
}
