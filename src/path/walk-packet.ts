// The packet a path walk carries (walker.ts), as it is at the point the walk has
// reached (addresses and ports after any NAT so far), and what a frame is sent to on
// a segment.
import type { Address, Family } from './address.js';
import type { Proto } from './query.js';

export interface Packet {
  family: Family;
  src: Address;
  dst: Address;
  proto: Proto;
  sport: number | null;
  dport: number | null;
}

/** What the frame is sent to on a segment. */
export interface Target {
  /** the next hop's address */
  ip: Address | null;
  /** its MAC, when the neighbour table knows it */
  mac: string | null;
}
