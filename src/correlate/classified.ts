// What a decoded packet is to the correlator: one reused object that classify.ts (and
// a kind's own classify, kinds/) fills without allocating, and that alone carries a
// packet on (the replay's decoder thread sends only this: sources/decoded-records.ts).
import { UNSIGNED_32 } from '../decode/record.js';
import type { Kind } from './kinds/kind.js';

export class Classified {
  /** hash of the fields forwarding does not change (32 bits); 0 when the packet has no usable identity */
  fingerprint = 0;
  kind: Kind = 0;
  stage = 0;
  /** exchange key (kind-specific hash, 32 bits); 0 when none */
  key = 0;
  /** the key as a 30-bit slot (its low bits) and the two bits above it (the correlator's index) */
  keySlot = 0;
  keyCheck = 0;
  /**
   * The kind's own number, kept by its exchange from this packet (TCP: a SYN-ACK's
   * sequence number, the server's ISN); -1: none.
   */
  keep = UNSIGNED_32;
  /**
   * This packet belongs to its exchange only when the number the exchange kept equals
   * this (TCP: a bare ACK's acknowledgement number - 1, the server's ISN: the
   * handshake's ACK); -1: no condition.
   */
  mustMatch = UNSIGNED_32;
  /** an error answer: its text (DNS rcode, ICMP error) — '' when none */
  errorDetail = '';
  /** the ICMP error quotes the answer (an echo reply that could not be delivered), not the question */
  errorAboutAnswer = false;
  /**
   * the (innermost) Ethernet frame's source and destination MAC as 26-bit hashes (0: no
   * Ethernet header): a frame starts on the interface that owns its source MAC and ends
   * on the one that owns its destination's (correlate/hop-order.ts)
   */
  l2Src = 0;
  l2Dst = 0;
  /** flow direction (addresses at this sighting, before NAT; 30-bit hashes, 0: none), for learned paths */
  srcHash = 0;
  dstHash = 0;
  /** sent to a broadcast or multicast address: it floods, its "path" is a tree */
  broadcast = false;
  /** the tunnel it was seen in: (TunnelType << 24) | VNI, or -1 outside any */
  tunnel = -1;
  /** TTL / hop limit of the innermost IP header (a routed hop lowers it), -1 when none */
  ttl = -1;
  /**
   * Opening-stage packets only (`hasKey`): what the exchange's key text and flow are
   * written from (ExchangeRows keeps the same): three numbers (the kind's: echo id/seq,
   * TCP ports and ISN, DNS id, qtype and transport, DHCP xid), the addresses' IP
   * version, which are known (bit 0 source, bit 1 destination), the DNS name's length
   * on the wire (-1: none), and where the bytes are: the source and destination
   * address (DHCP: the client MAC; keyAddrBytes long each) and the name, in
   * `keySource` — the packet itself, or the replay's decoder ring. Nothing is copied
   * until an exchange keeps its key.
   */
  hasKey = false;
  keyPart0 = UNSIGNED_32;
  keyPart1 = UNSIGNED_32;
  keyPart2 = UNSIGNED_32;
  addrVersion = 0;
  addrKnown = 0;
  nameLen = -1;
  keySource: Uint8Array = new Uint8Array(0);
  keySrcAt = 0;
  keyDstAt = 0;
  keyNameAt = 0;

  constructor() {
    // the unsigned 32-bit fields hold doubles from the start (see UNSIGNED_32), then their neutral value
    this.keep = -1;
    this.mustMatch = -1;
    this.keyPart0 = 0;
    this.keyPart1 = 0;
    this.keyPart2 = 0;
  }
}

/** Bytes of each key address: IPv4 4, IPv6 16, a DHCP client's MAC (version 0) 6. */
export function keyAddrBytes(addrVersion: number): number {
  return addrVersion === 4 ? 4 : addrVersion === 6 ? 16 : 6;
}
