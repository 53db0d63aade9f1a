// Who answers for a next hop on an L2 segment, as the path walk (walker.ts) asks it: an
// interface holding the address, having the MAC, or proxy-ARPing for it; a bridge's own
// MAC; the port of a bridge behind which such an interface is (across veths, taps held
// by a shuttle, VXLAN devices of the same VNI, other bridges); the port a VM's address
// is behind. Pure questions over a Topology.
import type { Address } from './address.js';
import { lookupRoute } from './route-lookup.js';
import type { Link, Topology } from './topology.js';
import type { Target } from './walk-packet.js';

/** Whether `r`, receiving a frame for the target, is where it goes up to L3. */
export function answersFor(r: Link, t: Target): boolean {
  if (t.mac !== null) return r.state.mac === t.mac;
  if (t.ip === null) return false;
  const ip = t.ip;
  if (r.state.addresses.some((a) => a.address.text === ip.text)) return true;
  // proxy ARP: the namespace routes the address out of another interface
  const ns = r.ns.state;
  if (ns.proxyArp.get(r.name) === true || ns.proxyArp.get('all') === true) {
    const a = lookupRoute(ns, {
      family: ip.family,
      dst: ip,
      src: null,
      iif: r.name,
      proto: 'icmp',
      dport: null,
    });
    return a.verdict === 'unicast' && a.route?.dev !== r.name;
  }
  return false;
}

/** Whether a frame for `mac` is for bridge `b` itself: its own MAC, or one its ports carry as permanent entries. */
export function bridgeOwnsMac(topo: Topology, b: Link, mac: string): boolean {
  if (b.state.mac === mac) return true;
  return b.ns.state.fdb.some(
    (f) =>
      f.master === b.name && f.mac === mac && f.permanent && topo.linkByName(b.ns, f.dev)?.state.mac === mac,
  );
}

/** The port of `b` (not `ingress`) behind which something answers for the target. */
export function portTowards(topo: Topology, b: Link, ingress: Link | null, t: Target): Link | null {
  for (const port of topo.portsOf(b)) {
    if (port === ingress) continue;
    if (reaches(topo, port, t, new Set([b]))) return port;
  }
  return null;
}

/** Whether something behind `e`, or on a bridge it leads to, answers for the target (`seen`: the links passed). */
function reaches(topo: Topology, e: Link, t: Target, seen: Set<Link>): boolean {
  if (seen.has(e) || seen.size > 256) return false;
  seen.add(e);
  const s = e.state;
  let arriving: Link[] = [];
  if (s.kind === 'veth') {
    const peer = topo.peerOf(e);
    if (peer !== null) arriving = [peer];
  } else if (s.kind === 'tun') {
    const peer = topo.tapHolder(e)?.peer;
    if (peer !== undefined && peer !== null) arriving = [peer];
  } else if (s.kind === 'vxlan' && s.vxlan !== null) {
    const vni = s.vxlan.id;
    arriving = topo.namespaces.flatMap((n) =>
      n.links.filter((l) => l !== e && l.state.vxlan?.id === vni && l.state.vxlan.port === s.vxlan?.port),
    );
  } else if (s.kind === 'bridge') {
    return topo.portsOf(e).some((port) => reaches(topo, port, t, seen));
  } else if (t.ip !== null) {
    const ip = t.ip;
    return topo.holdersOf(ip).some((l) => l.ns.host !== e.ns.host);
  }
  for (const r of arriving) {
    if (seen.has(r)) continue;
    const bridge = topo.masterOf(r);
    if (bridge !== null) {
      seen.add(r);
      if (answersFor(bridge, t)) return true;
      if (topo.portsOf(bridge).some((port) => port !== r && reaches(topo, port, t, seen))) return true;
    } else if (answersFor(r, t)) return true;
  }
  return false;
}

/** The MACs the neighbour tables of every namespace give for an address. */
export function macsOf(topo: Topology, addr: Address): Set<string> {
  return new Set(
    topo.namespaces.flatMap((n) =>
      n.state.neighbours
        .filter((e) => e.address.text === addr.text && e.mac !== null)
        .map((e) => e.mac as string),
    ),
  );
}

/**
 * The port a guest holding `addr` is behind, when no listed interface holds it (a VM:
 * its address is inside the guest): a neighbour table gives its MAC, a bridge's fdb the
 * port that MAC was learned on — the tap its hypervisor holds, where there is one.
 */
export function guestPortOf(topo: Topology, addr: Address): { port: Link; mac: string } | null {
  const macs = macsOf(topo, addr);
  const ports: Array<{ port: Link; mac: string }> = [];
  for (const n of topo.namespaces)
    for (const f of n.state.fdb) {
      if (f.master === null || f.permanent || !macs.has(f.mac)) continue;
      const port = topo.linkByName(n, f.dev);
      if (port !== null) ports.push({ port, mac: f.mac });
    }
  return (
    ports.find((x) => x.port.state.kind === 'tun' && topo.tapHolder(x.port)?.peer === null) ??
    ports.find((x) => x.port.state.kind !== 'veth' || topo.peerOf(x.port) === null) ??
    null
  );
}
