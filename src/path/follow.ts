// Follows a packet from SRC to DST over a Topology, hop by hop, as the kernels would
// forward it — pure, so it is tested on recorded snapshots.
//
//   L3, in a namespace: DNAT (nat prerouting, or output for a packet made here), the
//   martian check (127/8 arriving on a real interface without route_localnet), the
//   route lookup (route-lookup.ts), forwarding on or off, SNAT/masquerade (nat
//   postrouting); out of the route's device towards its gateway (or DST itself).
//   L2, out of a device: a veth to its peer; a tap to the process holding it (a VM's
//   hypervisor: the end; a shuttle holding a second tap: on from that one); a bridge
//   to the port its fdb names for the neighbour's MAC (`ip neigh`), or else to the port
//   that leads to whoever answers for the next hop on that segment (holds the address,
//   or proxy-ARPs for it); a VXLAN device encapsulates — the outer packet is followed
//   to the host holding the remote (its fdb entry, else its `remote`), where the VXLAN
//   device of the same VNI and port hands the inner frame on; a device with no known
//   other end (a NIC) to the host listed that holds the next hop.
//   Into a device: a bridge port hands the frame to its bridge (or up to the bridge
//   device itself when it is for the bridge's own MAC or address), anything else to L3.
//
// The return path starts where the packet was delivered, with addresses swapped; in a
// namespace where the request was NATed, conntrack undoes it for the reply (and no nat
// rule is looked at), elsewhere the rules apply as for any packet.
//
// The chain lists the interfaces where the packet can be seen, in order. A bridge that
// only forwards between its ports is not one of them (frames it forwards never show on
// the bridge device). The bridge-side end of a veth whose other end is a routing
// interface in the middle of the path (a router's qr-, fg-, tun0 — an OVS internal port
// in a real deployment) is folded into that interface as its `twin`: both ends carry
// the same frames, and the namespace's end is the one the platform names.
import { interfaceLabel } from '../events/types.js';
import {
  isLoopback,
  parseAddress,
  prefixContains,
  prefixText,
  type Address,
  type Family,
  type Prefix,
} from './address.js';
import { evaluateNat, type NatAction, type NatHook, type NatOutcome, type NatPacket } from './nat.js';
import { lookupRoute } from './route-lookup.js';
import type { Link, Namespace, Topology } from './topology.js';

export type Proto = 'icmp' | 'tcp' | 'udp';

export interface PathQuery {
  src: Address;
  dst: Address;
  proto: Proto;
  /** destination port (tcp, udp); what a port forward matches on */
  dport: number | null;
}

export interface TunnelContext {
  type: 'vxlan';
  vni: number;
  outerSrc: string;
  outerDst: string;
}

export interface PathHop {
  link: Link;
  /** the packet's addresses as they are on this interface */
  src: string;
  dst: string;
  /** set when the hop carries the packet inside a tunnel (the underlay) */
  tunnel: TunnelContext | null;
  /** the bridge that forwarded the frame onto this port */
  bridge: string | null;
  /** what happens here, short clauses ("route default via 10.0.0.1", "snat 10.0.0.5 → 203.0.113.20") */
  notes: string[];
  /** the bridge-side end of a veth folded into this hop (see the header) */
  twin: Link | null;
}

export type PathEnd =
  | { kind: 'delivered'; ns: Namespace; note: string }
  | {
      kind: 'left';
      note: string;
      /** the tap of a VM the packet was handed to (its hypervisor holds it) */ guest?: Link;
    }
  | { kind: 'stopped'; note: string };

export interface PathLeg {
  src: string;
  dst: string;
  hops: PathHop[];
  end: PathEnd;
}

export interface PathResult {
  query: PathQuery;
  forward: PathLeg;
  /** null when there is nothing to come back from (DST held nowhere and never reached) */
  back: PathLeg | null;
  /** whether `back` is not `forward` reversed, interface for interface */
  backDiffers: boolean;
  /** things the path could not judge (nat rules it could not read, …) */
  notes: string[];
}

/** A question the user caused (SRC held nowhere, or in several places): one line. */
export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathError';
  }
}

interface Packet {
  family: Family;
  src: Address;
  dst: Address;
  proto: Proto;
  sport: number | null;
  dport: number | null;
}

/** What the frame is sent to on a segment. */
interface Target {
  /** the next hop's address */
  ip: Address | null;
  /** its MAC, when the neighbour table knows it */
  mac: string | null;
}

interface NatRecord {
  kind: 'dnat' | 'snat';
  before: Address;
  after: Address;
  beforePort: number | null;
}

const MAX_STEPS = 96;

function isLinkLocal(a: Address): boolean {
  return a.family === 6
    ? a.bytes[0] === 0xfe && (a.bytes[1] & 0xc0) === 0x80
    : a.bytes[0] === 169 && a.bytes[1] === 254;
}

/** Whether the interface holds an address of its own that routes (not a link-local one). */
function routesAddresses(l: Link): boolean {
  return l.state.addresses.some((a) => !isLinkLocal(a.address));
}

class Walker {
  readonly hops: PathHop[] = [];
  readonly notes: string[];
  readonly #topo: Topology;
  readonly #nat: Map<string, NatRecord[]>;
  readonly #reply: boolean;
  #steps = 0;
  readonly #seen = new Set<string>();
  /** the tunnel the walker is carrying the packet through, while following an outer packet */
  #tunnel: TunnelContext | null = null;
  /** the packet inside that tunnel */
  #inner: Packet | null = null;
  /** the packet as it was when delivered (or handed to a VM) */
  #last: Packet | null = null;

  constructor(topo: Topology, nat: Map<string, NatRecord[]>, reply: boolean, notes: string[]) {
    this.#topo = topo;
    this.#nat = nat;
    this.#reply = reply;
    this.notes = notes;
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

  #natPacket(p: Packet, iif: string | null, oif: string | null): NatPacket {
    return {
      family: p.family,
      src: p.src.text,
      dst: p.dst.text,
      proto: p.proto,
      sport: p.sport,
      dport: p.dport,
      iif,
      oif,
    };
  }

  #unsure(ns: Namespace, o: NatOutcome): void {
    for (const u of o.unsure) {
      const text = `nat rule ${u} in ${this.#topo.namespaceLabel(ns)} was not judged (it matches on more than addresses, ports and interfaces)`;
      if (!this.notes.includes(text)) this.notes.push(text);
    }
  }

  #record(ns: Namespace, r: NatRecord): void {
    const list = this.#nat.get(ns.key) ?? [];
    list.push(r);
    this.#nat.set(ns.key, list);
  }

  /** The destination rewrite of the way in (DNAT, redirect; for a reply: SNAT undone). */
  #natIn(ns: Namespace, p: Packet, iif: Link | null): { p: Packet; note: string | null } {
    const done = this.#nat.get(ns.key);
    if (this.#reply && done !== undefined) {
      const s = done.find((r) => r.kind === 'snat' && r.after.text === p.dst.text);
      if (s === undefined) return { p, note: null };
      return {
        p: { ...p, dst: s.before, dport: s.beforePort ?? p.dport },
        note: `conntrack: reply to ${s.after.text} → ${s.before.text}`,
      };
    }
    const hook: NatHook = iif === null ? 'output' : 'prerouting';
    const o = evaluateNat(ns.state.nat, hook, this.#natPacket(p, iif?.name ?? null, null));
    this.#unsure(ns, o);
    const a = o.action;
    if (a === null || (a.kind !== 'dnat' && a.kind !== 'redirect')) return { p, note: null };
    const to = this.#rewriteAddress(a, ns, iif, p.family);
    if (to === null) return { p, note: null };
    const port = a.port ?? p.dport;
    this.#record(ns, { kind: 'dnat', before: p.dst, after: to, beforePort: p.dport });
    const portText = a.port !== null ? `:${a.port}` : '';
    return {
      p: { ...p, dst: to, dport: port },
      note: `${a.kind} ${p.dst.text}${p.dport !== null && a.port !== null ? `:${p.dport}` : ''} → ${to.text}${portText} (${o.rule})`,
    };
  }

  /** The source rewrite of the way out (SNAT, masquerade; for a reply: DNAT undone). */
  #natOut(
    ns: Namespace,
    p: Packet,
    iif: Link | null,
    out: Link,
    prefsrc: Address | null,
  ): { p: Packet; note: string | null } {
    const done = this.#nat.get(ns.key);
    if (this.#reply && done !== undefined) {
      const d = done.find((r) => r.kind === 'dnat' && r.after.text === p.src.text);
      if (d === undefined) return { p, note: null };
      return {
        p: { ...p, src: d.before, sport: d.beforePort ?? p.sport },
        note: `conntrack: reply from ${d.after.text} → ${d.before.text}`,
      };
    }
    const o = evaluateNat(ns.state.nat, 'postrouting', this.#natPacket(p, iif?.name ?? null, out.name));
    this.#unsure(ns, o);
    const a = o.action;
    if (a === null || (a.kind !== 'snat' && a.kind !== 'masquerade')) return { p, note: null };
    const to =
      a.kind === 'masquerade'
        ? (prefsrc ?? out.state.addresses.find((x) => x.address.family === p.family)?.address ?? null)
        : this.#rewriteAddress(a, ns, iif, p.family);
    if (to === null) return { p, note: null };
    const port = a.kind === 'snat' && a.port !== null ? a.port : p.sport;
    this.#record(ns, { kind: 'snat', before: p.src, after: to, beforePort: p.sport });
    return { p: { ...p, src: to, sport: port }, note: `${a.kind} ${p.src.text} → ${to.text} (${o.rule})` };
  }

  #rewriteAddress(a: NatAction, ns: Namespace, iif: Link | null, family: Family): Address | null {
    if (a.kind === 'redirect') {
      // to the address of the interface it came in on; a packet made here, to loopback
      if (iif === null) return parseAddress(family === 4 ? '127.0.0.1' : '::1');
      return iif.state.addresses.find((x) => x.address.family === family)?.address ?? null;
    }
    if (a.kind === 'masquerade' || a.addr === null) return null;
    const to = parseAddress(a.addr);
    return to !== null && to.family === family ? to : null;
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
    const inNat = this.#natIn(ns, p0, iif);
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
    const outNat = this.#natOut(ns, p, iif, out, route.prefsrc);
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
      if (!(this.#answers(bridge, t) || this.#searchPort(bridge, port, t) !== null)) continue;
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
    if (this.#topo.masterOf(r) === null && r.state.slaveKind === null && !this.#answers(r, t)) {
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

  #bridgeOwnMac(b: Link, mac: string): boolean {
    if (b.state.mac === mac) return true;
    return b.ns.state.fdb.some(
      (f) =>
        f.master === b.name &&
        f.mac === mac &&
        f.permanent &&
        this.#topo.linkByName(b.ns, f.dev)?.state.mac === mac,
    );
  }

  #bridge(b: Link, ingress: Link | null, t: Target, p: Packet): PathEnd {
    if (ingress !== null && (t.mac !== null ? this.#bridgeOwnMac(b, t.mac) : this.#answers(b, t))) {
      this.#hop(b, p, `for the bridge ${b.name} itself`);
      return this.l3(b.ns, p, b);
    }
    let port: Link | null = null;
    if (t.mac !== null) {
      const f = b.ns.state.fdb.find((x) => x.master === b.name && x.mac === t.mac && !x.permanent);
      port = f === undefined ? null : this.#topo.linkByName(b.ns, f.dev);
    }
    if (port === null || port === ingress) port = this.#searchPort(b, ingress, t);
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

  /** Whether `r`, receiving a frame for the target, is where it goes up to L3. */
  #answers(r: Link, t: Target): boolean {
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

  /** The port of `b` (not `ingress`) behind which something answers for the target. */
  #searchPort(b: Link, ingress: Link | null, t: Target): Link | null {
    for (const port of this.#topo.portsOf(b)) {
      if (port === ingress) continue;
      if (this.#reaches(port, t, new Set([b]))) return port;
    }
    return null;
  }

  #reaches(e: Link, t: Target, seen: Set<Link>): boolean {
    if (seen.has(e) || seen.size > 256) return false;
    seen.add(e);
    const s = e.state;
    let arriving: Link[] = [];
    if (s.kind === 'veth') {
      const peer = this.#topo.peerOf(e);
      if (peer !== null) arriving = [peer];
    } else if (s.kind === 'tun') {
      const peer = this.#topo.tapHolder(e)?.peer;
      if (peer !== undefined && peer !== null) arriving = [peer];
    } else if (s.kind === 'vxlan' && s.vxlan !== null) {
      const vni = s.vxlan.id;
      arriving = this.#topo.namespaces.flatMap((n) =>
        n.links.filter((l) => l !== e && l.state.vxlan?.id === vni && l.state.vxlan.port === s.vxlan?.port),
      );
    } else if (s.kind === 'bridge') {
      return this.#topo.portsOf(e).some((port) => this.#reaches(port, t, seen));
    } else if (t.ip !== null) {
      const ip = t.ip;
      return this.#topo.holdersOf(ip).some((l) => l.ns.host !== e.ns.host);
    }
    for (const r of arriving) {
      if (seen.has(r)) continue;
      const bridge = this.#topo.masterOf(r);
      if (bridge !== null) {
        seen.add(r);
        if (this.#answers(bridge, t)) return true;
        if (this.#topo.portsOf(bridge).some((port) => port !== r && this.#reaches(port, t, seen)))
          return true;
      } else if (this.#answers(r, t)) return true;
    }
    return false;
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

/** The MACs the neighbour tables of every namespace give for an address. */
function macsOf(topo: Topology, addr: Address): Set<string> {
  return new Set(
    topo.namespaces.flatMap((n) =>
      n.state.neighbours
        .filter((e) => e.address.text === addr.text && e.mac !== null)
        .map((e) => e.mac as string),
    ),
  );
}

function prefixOf(a: { address: Address; prefixLength: number }): Prefix {
  return { family: a.address.family, bytes: a.address.bytes, length: a.prefixLength };
}

/**
 * The port a guest holding `addr` is behind, when no listed interface holds it (a VM:
 * its address is inside the guest): a neighbour table gives its MAC, a bridge's fdb the
 * port that MAC was learned on — the tap its hypervisor holds, where there is one.
 */
function guestPortOf(topo: Topology, addr: Address): { port: Link; mac: string } | null {
  const macs = new Set(
    topo.namespaces.flatMap((n) =>
      n.state.neighbours
        .filter((e) => e.address.text === addr.text && e.mac !== null)
        .map((e) => e.mac as string),
    ),
  );
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
  const nat = new Map<string, NatRecord[]>();
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
  const fw = new Walker(topo, nat, false, notes);
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
    const bw = new Walker(topo, nat, true, notes);
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
