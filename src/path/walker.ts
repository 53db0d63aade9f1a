// Walks a packet hop by hop over a Topology, as the kernels would forward it (follow.ts
// starts the walks and makes the path of them):
//
//   L3, in a namespace: DNAT (nat prerouting, or output for a packet made here), the
//   martian check (127/8 arriving on a real interface without route_localnet), the
//   route lookup (route-lookup.ts), forwarding on or off, SNAT/masquerade (nat
//   postrouting; nat-conntrack.ts); out of the route's device towards its gateway (or
//   DST itself).
//   L2, out of a device: a veth to its peer; a tap to the process holding it (a VM's
//   hypervisor: the end; a shuttle holding a second tap: on from that one); a bridge
//   to the port its fdb names for the neighbour's MAC (`ip neigh`), or else to the port
//   that leads to whoever answers for the next hop on that segment (holds the address,
//   or proxy-ARPs for it; segment.ts); a VXLAN device encapsulates — the outer packet is
//   followed to the host holding the remote (its fdb entry, else its `remote`), where
//   the VXLAN device of the same VNI and port hands the inner frame on; a device with no
//   known other end (a NIC) to the host listed that holds the next hop.
//   Into a device: a bridge port hands the frame to its bridge (or up to the bridge
//   device itself when it is for the bridge's own MAC or address), anything else to L3.
import { interfaceLabel } from '../events/types.js';
import { isLoopback, prefixContains, prefixText, type Address, type Prefix } from './address.js';
import type { NatConntrack } from './nat-conntrack.js';
import type { PathEnd, PathHop, TunnelContext } from './path-result.js';
import { lookupRoute } from './route-lookup.js';
import { answersFor, bridgeOwnsMac, macsOf, portTowards } from './segment.js';
import type { Link, Namespace, Topology } from './topology.js';
import type { Packet, Target } from './walk-packet.js';

const MAX_STEPS = 96;

function prefixOf(a: { address: Address; prefixLength: number }): Prefix {
  return { family: a.address.family, bytes: a.address.bytes, length: a.prefixLength };
}

/** One walk, the request's or the reply's: the hops it passed, and where the packet ended. */
export class Walker {
  readonly hops: PathHop[] = [];
  readonly #topo: Topology;
  readonly #nat: NatConntrack;
  #steps = 0;
  readonly #seen = new Set<string>();
  /** the tunnel the walker is carrying the packet through, while following an outer packet */
  #tunnel: TunnelContext | null = null;
  /** the packet inside that tunnel */
  #inner: Packet | null = null;
  /** the packet as it was when delivered (or handed to a VM) */
  #last: Packet | null = null;

  constructor(topo: Topology, nat: NatConntrack) {
    this.#topo = topo;
    this.#nat = nat;
  }

  #hop(link: Link, p: Packet, note: string | null, bridge: string | null = null): PathHop {
    const last = this.hops[this.hops.length - 1];
    if (last !== undefined && last.link === link && last.tunnel === this.#tunnel) {
      if (note !== null) last.notes.push(note);
      return last;
    }
    // Underlay hops carry the inner packet: its addresses are the ones the path is about.
    const shown = this.#inner ?? p;
    const hop: PathHop = {
      link,
      src: shown.src.text,
      dst: shown.dst.text,
      tunnel: this.#tunnel,
      bridge,
      notes: note === null ? [] : [note],
      twin: null,
    };
    this.hops.push(hop);
    return hop;
  }

  #neighbourMac(ns: Namespace, ip: Address, dev: string): string | null {
    const n = ns.state.neighbours.find((e) => e.dev === dev && e.address.text === ip.text && e.mac !== null);
    return n?.mac ?? null;
  }

  /** L3 in `ns`: the packet arrived on `iif` (null: made here). */
  l3(ns: Namespace, p0: Packet, iif: Link | null): PathEnd {
    if (++this.#steps > MAX_STEPS) return { kind: 'stopped', note: `more than ${MAX_STEPS} steps: a loop?` };
    const seenKey = `${ns.key}|${iif?.name ?? ''}|${p0.src.text}|${p0.dst.text}`;
    if (this.#seen.has(seenKey))
      return { kind: 'stopped', note: `loop: back in ${this.#topo.namespaceLabel(ns)} with the same packet` };
    this.#seen.add(seenKey);
    const where = this.#topo.namespaceLabel(ns);
    const inNat = this.#nat.wayIn(ns, p0, iif);
    const p = inNat.p;
    // (a packet made here and DNAT-ed on output: said on the interface it leaves by)
    const outputNat = iif === null ? inNat.note : null;
    if (iif !== null && inNat.note !== null) this.#hop(iif, p, inNat.note);
    if (iif !== null && isLoopback(p.dst) && p.family === 4) {
      const on = ns.state.routeLocalnet.get(iif.name) === true || ns.state.routeLocalnet.get('all') === true;
      if (!on)
        return {
          kind: 'stopped',
          note: `${p.dst.text} arriving on ${iif.name} is a martian there and dropped (net.ipv4.conf.${iif.name}.route_localnet=0)`,
        };
    }
    const answer = lookupRoute(ns.state, {
      family: p.family,
      dst: p.dst,
      src: p.src,
      iif: iif?.name ?? null,
      proto: p.proto,
      dport: p.dport,
    });
    const route = answer.route;
    switch (answer.verdict) {
      case 'local':
      case 'broadcast':
        this.#last = p;
        return {
          kind: 'delivered',
          ns,
          note: `${p.dst.text}${p.dport !== null ? `:${p.dport}` : ''} is local in ${where}`,
        };
      case 'none':
        return { kind: 'stopped', note: `no route to ${p.dst.text} in ${where}` };
      case 'unreachable':
      case 'blackhole':
      case 'prohibit':
        return {
          kind: 'stopped',
          note: `${answer.verdict} route to ${p.dst.text} in ${where}${route !== null ? ` (${prefixText(route.dst)})` : ` (rule ${answer.rulePriority})`}`,
        };
      case 'unicast':
        break;
    }
    if (route === null) return { kind: 'stopped', note: `no route to ${p.dst.text} in ${where}` };
    if (iif !== null && !ns.state.forwarding[p.family]) {
      const key = p.family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
      return { kind: 'stopped', note: `forwarding is off in ${where} (${key}=0): dropped after ${iif.name}` };
    }
    const out = route.dev === null ? null : this.#topo.linkByName(ns, route.dev);
    if (out === null)
      return { kind: 'stopped', note: `the route to ${p.dst.text} in ${where} names no device listed` };
    const nextHop = route.gateway ?? p.dst;
    const outNat = this.#nat.wayOut(ns, p, iif, out, route.prefsrc);
    const q = outNat.p;
    const via = route.gateway !== null ? ` via ${route.gateway.text}` : '';
    const hop = this.#hop(out, q, `route ${prefixText(route.dst)}${via}`);
    if (outputNat !== null) hop.notes.unshift(outputNat);
    if (outNat.note !== null) hop.notes.push(outNat.note);
    return this.transmit(out, { ip: nextHop, mac: this.#neighbourMac(ns, nextHop, out.name) }, q);
  }

  /**
   * A packet a guest (a VM no listing shows: its hypervisor holds `port`) sends: onto
   * the port's bridge towards the guest's gateway — the interface on that segment
   * holding an address of the guest's subnet — or DST itself when that is on it.
   */
  fromGuest(port: Link, p: Packet, note: string): PathEnd {
    this.#hop(port, p, note);
    const bridge = this.#topo.masterOf(port);
    if (bridge === null) return this.l3(port.ns, p, port);
    let target: Target | null = null;
    for (const l of this.#topo.namespaces.flatMap((n) => (n.host === port.ns.host ? n.links : []))) {
      const own = l.state.addresses.find(
        (a) =>
          a.address.family === p.family &&
          a.address.text !== p.src.text &&
          prefixContains(prefixOf(a), p.src),
      );
      if (own === undefined) continue;
      const t: Target = { ip: own.address, mac: null };
      if (!(answersFor(bridge, t) || portTowards(this.#topo, bridge, port, t) !== null)) continue;
      target = prefixContains(prefixOf(own), p.dst) ? { ip: p.dst, mac: null } : t;
      break;
    }
    if (target === null)
      return {
        kind: 'stopped',
        note: `nothing on the segment of ${bridge.name} holds an address of ${p.src.text}'s subnet: no gateway for it`,
      };
    return this.#bridge(bridge, port, target, p);
  }

  /** The packet where it was delivered (for the return path). */
  get delivered(): Packet | null {
    return this.#last;
  }

  /** A frame sent out of `e`. */
  transmit(e: Link, t: Target, p: Packet): PathEnd {
    if (++this.#steps > MAX_STEPS) return { kind: 'stopped', note: `more than ${MAX_STEPS} steps: a loop?` };
    if (!e.state.up) return { kind: 'stopped', note: `${e.name} is down` };
    const s = e.state;
    if (s.kind === 'bridge') return this.#bridge(e, null, t, p);
    if (s.kind === 'veth') {
      const peer = this.#topo.peerOf(e);
      if (peer === null)
        return {
          kind: 'left',
          note: `the other end of veth ${e.name} is in ${this.#topo.unresolvedPeer(e) ?? 'a namespace not listed'}`,
        };
      return this.#across(e, peer, t, p, null);
    }
    if (s.kind === 'tun') {
      const holder = this.#topo.tapHolder(e);
      if (holder === null)
        return { kind: 'stopped', note: `no process holds ${e.name}: nothing reads what is sent to it` };
      if (holder.peer === null) {
        this.#last = p;
        return {
          kind: 'left',
          note: `handed to ${holder.comm} (pid ${holder.pid}), which holds ${e.name}: the VM behind it`,
          guest: e,
        };
      }
      return this.#across(e, holder.peer, t, p, `from ${e.name} through ${holder.comm} (pid ${holder.pid})`);
    }
    if (s.kind === 'vxlan') return this.#encapsulate(e, t, p);
    if (s.slaveKind === 'openvswitch' || s.kind === 'openvswitch')
      return { kind: 'left', note: `${e.name} is an Open vSwitch port: its flows are not followed` };
    // A NIC: its wire is not in any listing. Whoever holds the next hop on another host is on the other end.
    const far =
      t.ip === null
        ? []
        : this.#topo.holdersOf(t.ip).filter((l) => l.ns.listing !== e.ns.listing && l.ns.host !== e.ns.host);
    if (far.length === 1) {
      this.#hop(
        far[0],
        p,
        `from ${interfaceLabel({ host: e.ns.host, netns: e.ns.netns, name: e.name })} (holds ${t.ip?.text})`,
      );
      return this.receive(far[0], t, p);
    }
    return {
      kind: 'left',
      note: `leaves through ${e.name}${t.ip !== null ? ` towards ${t.ip.text}` : ''}: ${far.length > 1 ? 'several hosts hold it' : 'no host asked holds it'}`,
    };
  }

  /**
   * A frame sent out of `e` arriving on `r`, its other end: a bridge port hands it on; an
   * interface that does not answer for the next hop (holds it, has its MAC, proxy-ARPs)
   * never gets it — the kernel's neighbour lookup fails first.
   */
  #across(e: Link, r: Link, t: Target, p: Packet, note: string | null): PathEnd {
    if (this.#topo.masterOf(r) === null && r.state.slaveKind === null && !answersFor(r, t)) {
      const what =
        t.mac !== null ? `${t.mac} (${t.ip?.text ?? 'the next hop'})` : (t.ip?.text ?? 'the next hop');
      return {
        kind: 'stopped',
        note: `nothing answers for ${what} out of ${e.name}: ${r.label} at its other end is not it`,
      };
    }
    this.#hop(r, p, note);
    return this.receive(r, t, p);
  }

  /** A frame arriving on `r`. */
  receive(r: Link, t: Target, p: Packet): PathEnd {
    const bridge = this.#topo.masterOf(r);
    if (bridge !== null) return this.#bridge(bridge, r, t, p);
    if (r.state.slaveKind === 'openvswitch')
      return { kind: 'left', note: `${r.name} is an Open vSwitch port: its flows are not followed` };
    return this.l3(r.ns, p, r);
  }

  #bridge(b: Link, ingress: Link | null, t: Target, p: Packet): PathEnd {
    if (ingress !== null && (t.mac !== null ? bridgeOwnsMac(this.#topo, b, t.mac) : answersFor(b, t))) {
      this.#hop(b, p, `for the bridge ${b.name} itself`);
      return this.l3(b.ns, p, b);
    }
    let port: Link | null = null;
    if (t.mac !== null) {
      const f = b.ns.state.fdb.find((x) => x.master === b.name && x.mac === t.mac && !x.permanent);
      port = f === undefined ? null : this.#topo.linkByName(b.ns, f.dev);
    }
    if (port === null || port === ingress) port = portTowards(this.#topo, b, ingress, t);
    if (port === null && t.mac === null && t.ip !== null) {
      // Nothing listed holds it (a VM's address is inside the guest): a MAC some
      // neighbour table gives for it, where this bridge learned that MAC.
      const macs = macsOf(this.#topo, t.ip);
      const f = b.ns.state.fdb.find((x) => x.master === b.name && !x.permanent && macs.has(x.mac));
      const learned = f === undefined ? null : this.#topo.linkByName(b.ns, f.dev);
      if (f !== undefined && learned !== null && learned !== ingress) {
        port = learned;
        t = { ...t, mac: f.mac };
      }
    }
    if (port === null)
      return {
        kind: 'stopped',
        note: `no port of bridge ${b.name} leads to ${t.ip?.text ?? t.mac ?? 'the next hop'}${t.mac !== null ? ` (${t.mac})` : ''}: nothing on its segment answers for it`,
      };
    this.#hop(port, p, `bridge ${b.name}`, b.name);
    return this.transmit(port, t, p);
  }

  #encapsulate(e: Link, t: Target, p: Packet): PathEnd {
    const vx = e.state.vxlan;
    if (vx === null) return { kind: 'stopped', note: `${e.name}: no VXLAN parameters listed` };
    const fdb = e.ns.state.fdb.filter((f) => f.dev === e.name && f.dst !== null);
    const remote =
      (t.mac !== null ? fdb.find((f) => f.mac === t.mac)?.dst : undefined) ??
      fdb.find((f) => f.mac === '00:00:00:00:00:00')?.dst ??
      vx.remote;
    if (remote === null || remote === undefined)
      return {
        kind: 'stopped',
        note: `${e.name}: no remote for ${t.mac ?? 'the frame'} (multicast group or empty fdb)`,
      };
    let local = vx.local;
    if (local === null) {
      const a = lookupRoute(e.ns.state, {
        family: remote.family,
        dst: remote,
        src: null,
        iif: null,
        proto: 'udp',
        dport: vx.port,
      });
      local = a.route?.prefsrc ?? null;
    }
    if (local === null) return { kind: 'stopped', note: `${e.name}: no local address to send VXLAN from` };
    const last = this.hops[this.hops.length - 1];
    if (last?.link === e) last.notes.push(`vxlan ${vx.id} to ${remote.text}`);
    const outer: Packet = {
      family: remote.family,
      src: local,
      dst: remote,
      proto: 'udp',
      sport: null,
      dport: vx.port,
    };
    const saved = [this.#tunnel, this.#inner] as const;
    this.#tunnel = { type: 'vxlan', vni: vx.id, outerSrc: local.text, outerDst: remote.text };
    this.#inner = p;
    const end = this.l3(e.ns, outer, null);
    [this.#tunnel, this.#inner] = saved;
    if (end.kind !== 'delivered') return end;
    const there = end.ns;
    const dev = there.links.find(
      (l) =>
        l.state.vxlan !== null &&
        l.state.vxlan.id === vx.id &&
        l.state.vxlan.port === vx.port &&
        (l.state.vxlan.local === null || l.state.vxlan.local.text === remote.text),
    );
    if (dev === undefined)
      return {
        kind: 'stopped',
        note: `VXLAN ${vx.id} arrives in ${this.#topo.namespaceLabel(there)} for ${remote.text}:${vx.port}, and no VXLAN device of that VNI listens there`,
      };
    this.#hop(dev, p, `vxlan ${vx.id} from ${local.text}`);
    return this.receive(dev, t, p);
  }
}
