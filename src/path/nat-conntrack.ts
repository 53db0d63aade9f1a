// The NAT of one path (follow.ts), namespace by namespace, as conntrack keeps it: the
// request's rewrites are judged from the nat rules (nat.ts) and remembered; the reply,
// in a namespace where the request was NATed, gets them undone and no rule is looked
// at — elsewhere the rules apply to it as to any packet.
import { parseAddress, type Address, type Family } from './address.js';
import { evaluateNat, type NatAction, type NatHook, type NatOutcome, type NatPacket } from './nat.js';
import type { Link, Namespace, Topology } from './topology.js';
import type { Packet } from './walk-packet.js';

/** A rewrite done to the request in a namespace. */
export interface NatRecord {
  kind: 'dnat' | 'snat';
  before: Address;
  after: Address;
  beforePort: number | null;
}

/** The rewrites done in each namespace (by its key), shared by a path's request and reply walks. */
export type NatRecords = Map<string, NatRecord[]>;

export class NatConntrack {
  readonly #topo: Topology;
  readonly #done: NatRecords;
  readonly #reply: boolean;
  /** the path's notes: nat rules that could not be judged */
  readonly #notes: string[];

  /** `reply`: the walk of the answer, which the records of the request's walk undo. */
  constructor(topo: Topology, done: NatRecords, reply: boolean, notes: string[]) {
    this.#topo = topo;
    this.#done = done;
    this.#reply = reply;
    this.#notes = notes;
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
      if (!this.#notes.includes(text)) this.#notes.push(text);
    }
  }

  #record(ns: Namespace, r: NatRecord): void {
    const list = this.#done.get(ns.key) ?? [];
    list.push(r);
    this.#done.set(ns.key, list);
  }

  /** The destination rewrite of the way in (DNAT, redirect; for a reply: SNAT undone). */
  wayIn(ns: Namespace, p: Packet, iif: Link | null): { p: Packet; note: string | null } {
    const done = this.#done.get(ns.key);
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
  wayOut(
    ns: Namespace,
    p: Packet,
    iif: Link | null,
    out: Link,
    prefsrc: Address | null,
  ): { p: Packet; note: string | null } {
    const done = this.#done.get(ns.key);
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
}
