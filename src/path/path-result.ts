// What followPath answers (follow.ts): the chain of interfaces of the way there and of
// the way back, each hop with the packet's addresses on it and what happens there.
import type { Link, Namespace } from './topology.js';
import type { PathQuery } from './query.js';

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
