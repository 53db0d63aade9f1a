// The one flat, reused record every decoder writes into (docs/architecture.md "Decoding").
//
// Rules:
// - decoders write numbers and byte offsets here, never strings or objects per packet;
//   strings (addresses, DNS names) are made only by sinks, from the offsets, on demand;
// - `reset()` is called once per packet before decoding; every field has a neutral value;
// - offsets point into `bytes`, which is the caller's buffer and is valid only for as
//   long as the caller says (see events/types.ts FramedPacket);
// - for a tunnelled packet the L2/L3/L4/app fields describe the innermost packet and
//   the `tunnel*` fields the outermost tunnel (docs/json-lines.md `packet`).

/** Layer identifiers, in the order they can appear; `layers` holds them in packet order. */
export const enum Layer {
  None = 0,
  Null = 1, // BSD loopback / DLT_NULL
  Sll = 2,
  Sll2 = 3,
  Eth = 4,
  Vlan = 5,
  Arp = 6,
  Ipv4 = 7,
  Ipv6 = 8,
  Icmp = 9,
  Icmpv6 = 10,
  Tcp = 11,
  Udp = 12,
  Vxlan = 13,
  Geneve = 14,
  Gre = 15,
  Dns = 16,
  Dhcp = 17,
  Dhcpv6 = 18,
  Ipv6Ext = 19, // any IPv6 extension header (hop-by-hop, routing, fragment, dest opts, AH)
  Payload = 20, // opaque payload
  Sctp = 21,
  Igmp = 22,
  Other = 23,
}

/** Names used in JSON `layers` and `malformed` (docs/json-lines.md `packet`), indexed by Layer. */
export const LAYER_NAMES: readonly string[] = [
  'none',
  'null',
  'sll',
  'sll2',
  'eth',
  'vlan',
  'arp',
  'ipv4',
  'ipv6',
  'icmp',
  'icmpv6',
  'tcp',
  'udp',
  'vxlan',
  'geneve',
  'gre',
  'dns',
  'dhcp',
  'dhcpv6',
  'ipv6ext',
  'payload',
  'sctp',
  'igmp',
  'other',
];

/** `<layer>_truncated` reasons, precomputed so marking a cut packet allocates nothing. */
export const TRUNCATED_REASONS: readonly string[] = LAYER_NAMES.map((name) => `${name}_truncated`);

export const enum TunnelType {
  None = 0,
  Vxlan = 1,
  Geneve = 2,
  Gre = 3,
  /** IP-in-IP: IPv4 or IPv6 carried directly in IPv4/IPv6 (protocol 4 or 41) */
  IpIp = 4,
}
export const TUNNEL_NAMES: readonly string[] = ['none', 'vxlan', 'geneve', 'gre', 'ipip'];

/**
 * Field groups that only some packets have, marked in `touched` by the decoder that
 * writes them (before it writes any): reset() clears a group only when it was written,
 * instead of some sixty fields for every packet.
 */
export const enum FieldGroup {
  Quoted = 1,
  Arp = 2,
  Dns = 4,
  Dhcp = 8,
}

/**
 * The first value of a field that holds unsigned 32-bit numbers (sequence numbers, DHCP
 * xids and addresses, wire lengths). Above 2^31 such a number is a double to V8; a field
 * that first held small integers would then change representation, and every function
 * optimised for the record's old shape would be thrown away at once (a few tens of ms,
 * whenever the first large sequence number turns up). A fraction makes the field a
 * double from the start; the constructor sets the neutral value right after.
 */
export const UNSIGNED_32 = 0.5;

/** Every FieldGroup bit. */
const ALL_GROUPS = 0xf;

export const MAX_LAYERS = 32;
export const MAX_VLANS = 4;
export const MAX_DNS_ANSWERS = 16;

export class PacketRecord {
  /** the packet's bytes; offsets below index into it */
  bytes: Uint8Array = new Uint8Array(0);
  /** first byte of the packet in `bytes` and one past the last captured byte */
  start = 0;
  end = 0;
  linktype = 0;
  /** original (wire) length, for reports */
  wireLen = UNSIGNED_32; // (neutral: 0, set by the constructor)

  layers: Uint8Array = new Uint8Array(MAX_LAYERS);
  layerCount = 0;

  // --- link / L2 (innermost Ethernet when tunnelled) ---
  /** offset of destination / source MAC (6 bytes each), -1 when none */
  ethDstOff = -1;
  ethSrcOff = -1;
  /** EtherType of the innermost L3 payload (after VLAN tags), 0 when none */
  etherType = 0;
  vlanCount = 0;
  vlanIds: Uint16Array = new Uint16Array(MAX_VLANS);
  /** LINUX_SLL/SLL2 packet type (0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing), -1 when none */
  sllPacketType = -1;
  /** LINUX_SLL2 interface index, -1 when none */
  sllIfIndex = -1;

  // --- L3 (innermost IP header) ---
  /** 0 none, 4, 6 */
  ipVersion = 0;
  l3Off = -1;
  /** offsets of the source / destination address (4 or 16 bytes by ipVersion) */
  srcAddrOff = -1;
  dstAddrOff = -1;
  /** IPv4 identification, or IPv6 fragment identification when a fragment header is present; -1 when none */
  ipId = -1;
  /** TTL / hop limit */
  ttl = -1;
  /** transport protocol number after extension headers (IPPROTO_*), -1 when none */
  ipProto = -1;
  /** IPv4 header length or IPv6 40 + extension headers */
  ipHeaderLen = 0;
  /** IPv4 total length or IPv6 40 + payload length */
  ipTotalLen = 0;
  /** fragment offset in bytes; moreFragments flag; isFragment true for any fragment */
  fragOffset = 0;
  moreFragments = false;
  dontFragment = false;
  /** true when this is a non-first fragment: L4 not decoded */
  laterFragment = false;
  tos = 0;
  ipv6FlowLabel = 0;
  ipv6ExtCount = 0;

  // --- L4 ---
  l4Off = -1;
  srcPort = -1;
  dstPort = -1;
  /** TCP flags byte (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128) */
  tcpFlags = 0;
  /** unsigned 32-bit values */
  tcpSeq = UNSIGNED_32; // (neutral: 0, set by the constructor)
  tcpAck = UNSIGNED_32; // (neutral: 0, set by the constructor)
  tcpWindow = 0;
  tcpHeaderLen = 0;
  /** TCP MSS option, -1 when absent */
  tcpMss = -1;
  tcpWindowScale = -1;
  tcpSackPermitted = false;
  tcpTimestamp = false;
  udpLen = -1;
  icmpType = -1;
  icmpCode = -1;
  /** echo identifier / sequence, -1 when not an echo */
  icmpId = -1;
  icmpSeq = -1;
  /** next-hop MTU of frag-needed / packet-too-big, -1 when none */
  icmpMtu = -1;
  /** redirect gateway address offset (IPv4 4 bytes), -1 when none */
  icmpGatewayOff = -1;
  /** the IP packet an ICMP error quotes: offsets of its header and addresses, its protocol and ports */
  quotedIpVersion = 0;
  quotedL3Off = -1;
  quotedSrcAddrOff = -1;
  quotedDstAddrOff = -1;
  quotedIpId = -1;
  quotedIpProto = -1;
  quotedSrcPort = -1;
  quotedDstPort = -1;
  quotedIcmpType = -1;
  quotedIcmpId = -1;
  quotedIcmpSeq = -1;
  quotedTcpSeq = UNSIGNED_32; // (neutral: 0, set by the constructor)
  /** quoted IP total length as declared (IPv6: 40 + payload length), -1 when none */
  quotedIpTotalLen = -1;
  /** quoted transport header offset, -1 when none; the quote ends at quotedEnd (RFC 4884 length applied) */
  quotedL4Off = -1;
  quotedEnd = -1;
  /** ICMPv6 neighbour discovery target address offset, -1 when none */
  ndTargetOff = -1;

  /** L4 payload (after the TCP/UDP/ICMP header) */
  payloadOff = -1;
  payloadLen = 0;

  // --- tunnel (outermost) ---
  tunnelType: TunnelType = TunnelType.None;
  tunnelDepth = 0;
  /** VXLAN/Geneve VNI, GRE key; -1 when none */
  tunnelVni = -1;
  tunnelOuterIpVersion = 0;
  tunnelOuterSrcOff = -1;
  tunnelOuterDstOff = -1;
  tunnelOuterSrcPort = -1;
  tunnelOuterDstPort = -1;
  /** GRE protocol type of the outermost GRE, -1 when none */
  greProto = -1;

  // --- ARP ---
  arpOp = -1;
  arpShaOff = -1;
  arpSpaOff = -1;
  arpThaOff = -1;
  arpTpaOff = -1;

  // --- DNS ---
  /** start of the DNS message (for compression pointers); -1 when no DNS */
  dnsOff = -1;
  dnsEnd = -1;
  dnsId = -1;
  dnsQr = false;
  dnsOpcode = 0;
  dnsRcode = 0;
  dnsFlags = 0;
  dnsQdCount = 0;
  dnsAnCount = 0;
  /** offset of the first question's name, its type and class; -1 when none */
  dnsQnameOff = -1;
  dnsQtype = -1;
  dnsQclass = -1;
  /** answers kept: type, and offset/length of rdata; names decoded by sinks */
  dnsAnswerCount = 0;
  dnsAnswerType: Uint16Array = new Uint16Array(MAX_DNS_ANSWERS);
  dnsAnswerNameOff: Int32Array = new Int32Array(MAX_DNS_ANSWERS);
  dnsAnswerDataOff: Int32Array = new Int32Array(MAX_DNS_ANSWERS);
  dnsAnswerDataLen: Uint16Array = new Uint16Array(MAX_DNS_ANSWERS);
  dnsAnswerTtl: Uint32Array = new Uint32Array(MAX_DNS_ANSWERS);
  /** authority and additional counts from the header */
  dnsNsCount = 0;
  dnsArCount = 0;
  /** EDNS (RFC 6891), from the first OPT RR of the additional section: requestor's UDP payload size, -1 when no OPT */
  dnsEdnsUdpSize = -1;
  /** 12-bit extended RCODE (OPT upper 8 bits << 4 | header RCODE) when OPT present, else -1 */
  dnsExtRcode = -1;

  // --- DHCPv4 (RFC 2131/2132) ---
  dhcpOff = -1;
  dhcpOp = -1;
  /** unsigned 32-bit */
  dhcpXid = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpChaddrOff = -1;
  dhcpHlen = 0;
  /** addresses as unsigned 32-bit numbers; -1 when absent */
  dhcpCiaddr = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpYiaddr = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpSiaddr = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpGiaddr = UNSIGNED_32; // (neutral: -1, set by the constructor)
  /** option 53 (1 DISCOVER, 2 OFFER, 3 REQUEST, 4 DECLINE, 5 ACK, 6 NAK, 7 RELEASE, 8 INFORM), -1 when absent */
  dhcpMsgType = -1;
  dhcpServerId = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpRequestedIp = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpLeaseTime = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpRouter = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpDnsServer = UNSIGNED_32; // (neutral: -1, set by the constructor)
  dhcpMtu = -1;
  dhcpSubnetMask = UNSIGNED_32; // (neutral: -1, set by the constructor)
  /** option 82 present */
  dhcpRelayAgent = false;

  // --- DHCPv6 (RFC 8415) ---
  dhcpv6MsgType = -1;
  dhcpv6TransactionId = -1;

  // --- health ---
  /** captured bytes ended before a layer's declared length */
  truncated = false;
  /** first layer that failed to parse, Layer.None when all parsed */
  malformedLayer: Layer = Layer.None;
  /** stable anomaly name (`ipv4_ihl_lt_5`, `dns_pointer_loop`, ...), '' when none */
  malformedReason = '';
  /** byte offset (in `bytes`) where the anomaly was found, -1 when none */
  malformedOff = -1;

  /** FieldGroup bits of the groups written since the last reset */
  touched = 0;

  constructor() {
    // every field to its neutral value (see UNSIGNED_32)
    this.touched = ALL_GROUPS;
    this.reset(this.bytes, 0, 0, 0, 0);
  }

  reset(bytes: Uint8Array, start: number, end: number, linktype: number, wireLen: number): void {
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.linktype = linktype;
    this.wireLen = wireLen;
    this.layerCount = 0;
    this.ethDstOff = -1;
    this.ethSrcOff = -1;
    this.etherType = 0;
    this.vlanCount = 0;
    this.sllPacketType = -1;
    this.sllIfIndex = -1;
    this.ipVersion = 0;
    this.l3Off = -1;
    this.srcAddrOff = -1;
    this.dstAddrOff = -1;
    this.ipId = -1;
    this.ttl = -1;
    this.ipProto = -1;
    this.ipHeaderLen = 0;
    this.ipTotalLen = 0;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.dontFragment = false;
    this.laterFragment = false;
    this.tos = 0;
    this.ipv6FlowLabel = 0;
    this.ipv6ExtCount = 0;
    this.l4Off = -1;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpWindow = 0;
    this.tcpHeaderLen = 0;
    this.tcpMss = -1;
    this.tcpWindowScale = -1;
    this.tcpSackPermitted = false;
    this.tcpTimestamp = false;
    this.udpLen = -1;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.icmpId = -1;
    this.icmpSeq = -1;
    this.icmpMtu = -1;
    this.icmpGatewayOff = -1;
    this.ndTargetOff = -1;
    this.payloadOff = -1;
    this.payloadLen = 0;
    this.tunnelType = TunnelType.None;
    this.tunnelDepth = 0;
    this.tunnelVni = -1;
    this.tunnelOuterIpVersion = 0;
    this.tunnelOuterSrcOff = -1;
    this.tunnelOuterDstOff = -1;
    this.tunnelOuterSrcPort = -1;
    this.tunnelOuterDstPort = -1;
    this.greProto = -1;
    this.dhcpv6MsgType = -1;
    this.dhcpv6TransactionId = -1;
    this.truncated = false;
    this.malformedLayer = Layer.None;
    this.malformedReason = '';
    this.malformedOff = -1;
    // Groups only a few packets have: cleared when a decoder wrote them (it marks `touched`).
    const touched = this.touched;
    this.touched = 0;
    if ((touched & FieldGroup.Quoted) !== 0) {
      this.quotedIpVersion = 0;
      this.quotedL3Off = -1;
      this.quotedSrcAddrOff = -1;
      this.quotedDstAddrOff = -1;
      this.quotedIpId = -1;
      this.quotedIpProto = -1;
      this.quotedSrcPort = -1;
      this.quotedDstPort = -1;
      this.quotedIcmpType = -1;
      this.quotedIcmpId = -1;
      this.quotedIcmpSeq = -1;
      this.quotedTcpSeq = 0;
      this.quotedIpTotalLen = -1;
      this.quotedL4Off = -1;
      this.quotedEnd = -1;
    }
    if ((touched & FieldGroup.Arp) !== 0) {
      this.arpOp = -1;
      this.arpShaOff = -1;
      this.arpSpaOff = -1;
      this.arpThaOff = -1;
      this.arpTpaOff = -1;
    }
    if ((touched & FieldGroup.Dns) !== 0) {
      this.dnsOff = -1;
      this.dnsEnd = -1;
      this.dnsId = -1;
      this.dnsQr = false;
      this.dnsOpcode = 0;
      this.dnsRcode = 0;
      this.dnsFlags = 0;
      this.dnsQdCount = 0;
      this.dnsAnCount = 0;
      this.dnsQnameOff = -1;
      this.dnsQtype = -1;
      this.dnsQclass = -1;
      this.dnsAnswerCount = 0;
      this.dnsNsCount = 0;
      this.dnsArCount = 0;
      this.dnsEdnsUdpSize = -1;
      this.dnsExtRcode = -1;
    }
    if ((touched & FieldGroup.Dhcp) !== 0) {
      this.dhcpOff = -1;
      this.dhcpOp = -1;
      this.dhcpXid = -1;
      this.dhcpChaddrOff = -1;
      this.dhcpHlen = 0;
      this.dhcpCiaddr = -1;
      this.dhcpYiaddr = -1;
      this.dhcpSiaddr = -1;
      this.dhcpGiaddr = -1;
      this.dhcpMsgType = -1;
      this.dhcpServerId = -1;
      this.dhcpRequestedIp = -1;
      this.dhcpLeaseTime = -1;
      this.dhcpRouter = -1;
      this.dhcpDnsServer = -1;
      this.dhcpMtu = -1;
      this.dhcpSubnetMask = -1;
      this.dhcpRelayAgent = false;
    }
  }

  pushLayer(layer: Layer): void {
    if (this.layerCount < MAX_LAYERS) this.layers[this.layerCount++] = layer;
  }

  /** Records the first anomaly only; later ones are consequences of it. */
  markMalformed(layer: Layer, reason: string, off: number): void {
    if (this.malformedLayer !== Layer.None) return;
    this.malformedLayer = layer;
    this.malformedReason = reason;
    this.malformedOff = off;
  }

  /** Marks that captured bytes ran out inside `layer` (snaplen), which is not malformation of the packet. */
  markTruncated(layer: Layer, off: number): void {
    this.truncated = true;
    this.markMalformed(layer, TRUNCATED_REASONS[layer], off);
  }

  /**
   * Forgets the L3/L4/application fields before a tunnel's inner packet is decoded
   * (decode/dispatch.ts enterTunnel), so nothing of the outer packet leaks into the innermost view.
   * Kept: the packet itself, the layers list, L2 (MACs, VLANs, SLL: overwritten by an
   * inner Ethernet header when there is one), the tunnel context and the health flags.
   * Implemented as save + reset() + restore so that a field appended to reset() later
   * is cleared here too without anyone having to remember this method.
   */
  clearInner(): void {
    const layerCount = this.layerCount;
    const ethDstOff = this.ethDstOff;
    const ethSrcOff = this.ethSrcOff;
    const etherType = this.etherType;
    const vlanCount = this.vlanCount;
    const sllPacketType = this.sllPacketType;
    const sllIfIndex = this.sllIfIndex;
    const tunnelType = this.tunnelType;
    const tunnelDepth = this.tunnelDepth;
    const tunnelVni = this.tunnelVni;
    const tunnelOuterIpVersion = this.tunnelOuterIpVersion;
    const tunnelOuterSrcOff = this.tunnelOuterSrcOff;
    const tunnelOuterDstOff = this.tunnelOuterDstOff;
    const tunnelOuterSrcPort = this.tunnelOuterSrcPort;
    const tunnelOuterDstPort = this.tunnelOuterDstPort;
    const greProto = this.greProto;
    const truncated = this.truncated;
    const malformedLayer = this.malformedLayer;
    const malformedReason = this.malformedReason;
    const malformedOff = this.malformedOff;
    this.reset(this.bytes, this.start, this.end, this.linktype, this.wireLen);
    this.layerCount = layerCount;
    this.ethDstOff = ethDstOff;
    this.ethSrcOff = ethSrcOff;
    this.etherType = etherType;
    this.vlanCount = vlanCount;
    this.sllPacketType = sllPacketType;
    this.sllIfIndex = sllIfIndex;
    this.tunnelType = tunnelType;
    this.tunnelDepth = tunnelDepth;
    this.tunnelVni = tunnelVni;
    this.tunnelOuterIpVersion = tunnelOuterIpVersion;
    this.tunnelOuterSrcOff = tunnelOuterSrcOff;
    this.tunnelOuterDstOff = tunnelOuterDstOff;
    this.tunnelOuterSrcPort = tunnelOuterSrcPort;
    this.tunnelOuterDstPort = tunnelOuterDstPort;
    this.greProto = greProto;
    this.truncated = truncated;
    this.malformedLayer = malformedLayer;
    this.malformedReason = malformedReason;
    this.malformedOff = malformedOff;
  }
}
