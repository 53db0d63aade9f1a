// The hosts' listings joined into one map of namespaces and links, with what joins
// them: a veth's other end (its peer's ifindex and, in another namespace, the id this
// namespace gives that one), a bridge's ports, the process holding a tap (a hypervisor,
// or a userspace shuttle holding a second tap: the lab's VMs), the addresses each
// interface holds. Pure.
//
// Hosts that share a kernel (the same boot id: the lab's hosts are namespaces of one
// machine) list the same namespaces: each is kept once, by its inode, and belongs to
// the host whose own namespace it is, else to the first host whose namespace reaches it
// through veths and taps without crossing another host's, else to the first that listed
// it. Its label is then `HOST:NETNS/IFACE` as a capture SPEC on that host names it.
import { interfaceLabel } from '../events/types.js';
import { roleOf, type InterfaceRole } from '../shared/roles.js';
import type { Address } from './address.js';
import type { HostState, LinkState, NamespaceState, TunHolder } from './snapshot.js';

export interface Namespace {
  /** who it is: boot id and inode */
  key: string;
  /** the host it belongs to (ssh destination; null: this machine) */
  host: string | null;
  /** its name on that host; null for the host's own namespace */
  netns: string | null;
  state: NamespaceState;
  /** the listing it was read from (names in it are that host's) */
  listing: HostState;
  links: Link[];
}

export interface Link {
  ns: Namespace;
  state: LinkState;
  name: string;
  label: string;
  role: InterfaceRole;
}

/** The process a tap is handed to, and the other tap it holds when it joins two. */
export interface TapHolder {
  pid: number;
  comm: string;
  peer: Link | null;
}

function kernelOf(h: HostState): string {
  return h.bootId !== '' && h.bootId !== '-' ? h.bootId : `host:${h.host ?? ''}`;
}

export class Topology {
  readonly namespaces: Namespace[] = [];
  readonly hosts: readonly HostState[];
  readonly #byKey = new Map<string, Namespace>();
  /** per listing: namespace name → key */
  readonly #names = new Map<HostState, Map<string | null, string>>();

  constructor(hosts: readonly HostState[]) {
    this.hosts = hosts;
    const rootOf = new Map<string, HostState>();
    for (const h of hosts) rootOf.set(`${kernelOf(h)}/${h.rootInode}`, h);
    const firstListing = new Map<string, { listing: HostState; ns: NamespaceState }>();
    for (const h of hosts) {
      const names = new Map<string | null, string>();
      for (const ns of h.namespaces) {
        const key = `${kernelOf(h)}/${ns.inode}`;
        names.set(ns.name, key);
        if (!firstListing.has(key)) firstListing.set(key, { listing: h, ns });
      }
      this.#names.set(h, names);
    }
    // The state of a namespace is taken from its own host's listing where there is one.
    const owner = new Map<string, { host: HostState; name: string | null }>();
    for (const [key, h] of rootOf) owner.set(key, { host: h, name: null });
    const make = (key: string): Namespace => {
      const own = owner.get(key);
      const first = firstListing.get(key) as { listing: HostState; ns: NamespaceState };
      const listing = own?.host ?? first.listing;
      const state = listing.namespaces.find((n) => `${kernelOf(listing)}/${n.inode}` === key) ?? first.ns;
      const ns: Namespace = {
        key,
        host: listing.host,
        netns: own?.name ?? state.name,
        state,
        listing,
        links: [],
      };
      ns.links = state.links.map((l) => ({
        ns,
        state: l,
        name: l.name,
        label: '',
        role: roleOf(l.name, l.tapMode ? 'tap' : l.kind, l.loopback),
      }));
      return ns;
    };
    for (const key of firstListing.keys()) {
      const ns = make(key);
      this.namespaces.push(ns);
      this.#byKey.set(key, ns);
    }
    // Ownership by reachability, for namespaces that are no host's own.
    const claimed = new Set<string>(rootOf.keys());
    for (const h of hosts) {
      const start = this.#byKey.get(`${kernelOf(h)}/${h.rootInode}`);
      if (start === undefined) continue;
      const queue: Namespace[] = [start];
      while (queue.length > 0) {
        const ns = queue.shift() as Namespace;
        for (const l of ns.links) {
          const next = [this.peerOf(l)?.ns, this.tapHolder(l)?.peer?.ns];
          for (const n of next) {
            if (n === undefined || claimed.has(n.key)) continue;
            claimed.add(n.key);
            n.host = h.host;
            const named = h.namespaces.find((x) => `${kernelOf(h)}/${x.inode}` === n.key);
            n.netns = named?.name ?? n.netns;
            queue.push(n);
          }
        }
      }
    }
    for (const ns of this.namespaces) {
      for (const l of ns.links) l.label = interfaceLabel({ host: ns.host, netns: ns.netns, name: l.name });
    }
  }

  #resolveName(listing: HostState, name: string): Namespace | null {
    const key = this.#names.get(listing)?.get(name);
    return key === undefined ? null : (this.#byKey.get(key) ?? null);
  }

  linkByName(ns: Namespace, name: string): Link | null {
    return ns.links.find((l) => l.name === name) ?? null;
  }

  linkByIndex(ns: Namespace, ifindex: number): Link | null {
    return ns.links.find((l) => l.state.ifindex === ifindex) ?? null;
  }

  /** The other end of a veth: in its namespace (named by this one's namespace id), or in the same one. */
  peerOf(link: Link): Link | null {
    const s = link.state;
    if (s.kind !== 'veth') return null;
    if (s.peerNetnsid === null) {
      if (s.peerIndex !== null) return this.linkByIndex(link.ns, s.peerIndex);
      return s.peerName === null ? null : this.linkByName(link.ns, s.peerName);
    }
    if (s.peerIndex === null) return null;
    const name = link.ns.state.nsids.get(s.peerNetnsid);
    if (name === undefined) return null;
    const other = this.#resolveName(link.ns.listing, name);
    return other === null ? null : this.linkByIndex(other, s.peerIndex);
  }

  /** The namespace id of a veth's peer that is in no listed namespace (filtered out, or unnamed). */
  unresolvedPeer(link: Link): string | null {
    const s = link.state;
    if (s.kind !== 'veth' || this.peerOf(link) !== null) return null;
    const name = s.peerNetnsid === null ? null : link.ns.state.nsids.get(s.peerNetnsid);
    return name ?? (s.peerNetnsid === null ? 'this namespace' : `namespace id ${s.peerNetnsid}`);
  }

  /** Tun holders of the kernel this namespace lives on. */
  #holders(ns: Namespace): TunHolder[] {
    const k = kernelOf(ns.listing);
    const seen = new Set<string>();
    const out: TunHolder[] = [];
    for (const h of this.hosts) {
      if (kernelOf(h) !== k) continue;
      for (const t of h.tunHolders) {
        const id = `${t.pid}/${t.iface}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(t);
      }
    }
    return out;
  }

  #namespaceByInode(like: Namespace, inode: string): Namespace | null {
    return this.#byKey.get(`${kernelOf(like.listing)}/${inode}`) ?? null;
  }

  /** Tun devices named `name` in the namespaces of the same kernel. */
  #tunsNamed(like: Namespace, name: string): Link[] {
    const k = kernelOf(like.listing);
    return this.namespaces
      .filter((n) => kernelOf(n.listing) === k)
      .flatMap((n) => n.links.filter((l) => l.name === name && l.state.kind === 'tun'));
  }

  /** Whether `a` numbers `b` (a device moved between them, a veth across): namespaces a tap was moved between. */
  #knows(a: Namespace, b: Namespace): boolean {
    for (const name of a.state.nsids.values()) if (this.#resolveName(a.listing, name) === b) return true;
    return false;
  }

  /**
   * The process a tun/tap device is handed to. A process holding two taps joins them (a
   * userspace shuttle, the lab's stand-in for a hypervisor): `peer` is the other one —
   * in the process's own namespace, or in one moved there from it.
   */
  tapHolder(link: Link): TapHolder | null {
    if (link.state.kind !== 'tun') return null;
    const holders = this.#holders(link.ns);
    const byPid = new Map<number, TunHolder[]>();
    for (const t of holders) byPid.set(t.pid, [...(byPid.get(t.pid) ?? []), t]);
    const found: TapHolder[] = [];
    let lone: TapHolder | null = null;
    for (const [pid, fds] of byPid) {
      const mine = fds.find((f) => f.iface === link.name);
      if (mine === undefined) continue;
      const home = this.#namespaceByInode(link.ns, mine.netnsInode);
      const others = fds.filter((f) => f !== mine);
      if (others.length !== 1) {
        // a hypervisor (one tap), or something holding many: the path ends there
        if (home === link.ns) lone = { pid, comm: mine.comm, peer: null };
        continue;
      }
      if (home === null) continue;
      let candidates = this.#tunsNamed(link.ns, others[0].iface).filter((l) => l !== link);
      if (home === link.ns) {
        // this is the process's own side: the other tap is there, or was moved from there
        const here = candidates.filter((l) => l.ns === home);
        candidates = here.length > 0 ? here : candidates.filter((l) => this.#knows(home, l.ns));
      } else {
        // this tap was moved here from the process's namespace: the other is in that one
        if (!this.#knows(home, link.ns)) continue;
        candidates = candidates.filter((l) => l.ns === home);
      }
      if (candidates.length === 1) found.push({ pid, comm: mine.comm, peer: candidates[0] });
    }
    if (found.length === 1) return found[0];
    return lone;
  }

  /** The bridge a port is enslaved to (a Linux bridge only). */
  masterOf(link: Link): Link | null {
    if (link.state.master === null || link.state.slaveKind !== 'bridge') return null;
    return this.linkByName(link.ns, link.state.master);
  }

  portsOf(bridge: Link): Link[] {
    return bridge.ns.links.filter((l) => l.state.master === bridge.name && l.state.slaveKind === 'bridge');
  }

  /** Interfaces holding the address (loopback's own excluded), in listing order. */
  holdersOf(addr: Address): Link[] {
    return this.namespaces.flatMap((ns) =>
      ns.links.filter(
        (l) => !l.state.loopback && l.state.addresses.some((a) => a.address.text === addr.text),
      ),
    );
  }

  namespaceLabel(ns: Namespace): string {
    const where = ns.netns === null ? 'its own namespace' : `namespace ${ns.netns}`;
    return ns.host === null ? where : `${ns.host}: ${where}`;
  }
}
