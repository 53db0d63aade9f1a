// The decoder's entry point (docs/architecture.md "Decoding"): one captured packet in, the one
// reused PacketRecord filled (record.ts), nothing allocated, nothing thrown.
//
// Layers are decoded outermost first, each by its own file:
//   link.ts (LINKTYPE) → ethernet.ts (+ VLAN, LLC/SNAP) | SLL | SLL2 | raw IP | NULL/LOOP
//   → arp.ts | ipv4.ts | ipv6.ts → ip-proto.ts → icmp.ts | icmpv6.ts | tcp.ts | udp.ts
//   | gre.ts | IP-in-IP → udp.ts ports → dns.ts | dhcp.ts | dhcpv6.ts | vxlan.ts | geneve.ts
// Tunnels (VXLAN, Geneve, GRE, IP-in-IP) recurse into the inner packet, whose fields
// become the top-level ones; the outermost tunnel is kept in rec.tunnel*.
//
// Every decoder takes (bytes, off, end, rec): `off` is the first byte of its header,
// `end` one past the last byte of its data that is present (the enclosing layer's
// declared end clipped to the captured end). A layer that cannot parse marks the
// record (markTruncated when snaplen cut it, markMalformed with a stable name
// otherwise) and returns; what was decoded before stays.

import { decodeLink } from './link.js';
import { type PacketRecord } from './record.js';

/**
 * Decodes `bytes[start, end)`, a packet captured on a link of type `linktype` (pcap
 * LINKTYPE_*; bits above the low 16 are ignored) that was `wireLen` bytes long on the
 * wire, into `rec` (reset first). Offsets in `rec` index `bytes`, which must stay
 * untouched for as long as the record is read.
 */
export function decodePacket(
  bytes: Uint8Array,
  start: number,
  end: number,
  linktype: number,
  wireLen: number,
  rec: PacketRecord,
): void {
  // out-of-range arguments are clamped, so no decoder ever reads outside `bytes`
  let e = end < bytes.length ? end : bytes.length;
  if (!(e > 0)) e = 0; // also NaN
  let s = start > 0 ? start : 0;
  if (s > e) s = e;
  rec.reset(bytes, s, e, linktype, wireLen);
  decodeLink(bytes, s, e, linktype, rec);
}
