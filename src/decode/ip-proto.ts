// Dispatch of an IP datagram's payload by IP protocol number (IANA "Assigned
// Internet Protocol Numbers"; IPv4 Protocol field, RFC 791, and the IPv6 Next Header
// after extension headers, RFC 8200) through a dense table (docs/architecture.md "Decoding").
//
//   1 ICMP (icmp.ts)        58 ICMPv6 (icmpv6.ts)    6 TCP (tcp.ts)    17 UDP (udp.ts)
//  47 GRE (gre.ts)           4 IPv4-in-IP, 41 IPv6-in-IP (RFC 2003 / RFC 4213): a tunnel,
//                              the inner datagram is decoded as the innermost packet
// 132 SCTP (RFC 9260: ports recorded)     2 IGMP (recorded)     59 no next header
// anything else (ESP, OSPF, VRRP, PIM, ...): an `other` layer, its bytes the payload.
//
// SCTP common header (RFC 9260 §3.1):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Source Port Number        |     Destination Port Number   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      Verification Tag                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           Checksum                            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { u16be } from './bytes.js';
import { enterTunnel, markShort } from './dispatch.js';
import { decodeGre } from './gre.js';
import { decodeIcmp } from './icmp.js';
import { decodeIcmpv6 } from './icmpv6.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { Layer, type PacketRecord, TunnelType } from './record.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_SCTP = 132;

const SCTP_COMMON_HEADER_LEN = 12;

const enum IpProtoCode {
  Other = 0,
  Icmp = 1,
  Icmpv6 = 2,
  Tcp = 3,
  Udp = 4,
  Gre = 5,
  Ipv4InIp = 6,
  Ipv6InIp = 7,
  Sctp = 8,
  Igmp = 9,
  NoNextHeader = 10,
}

const IP_PROTO_TABLE = new Uint8Array(256);
IP_PROTO_TABLE[IPPROTO_ICMP] = IpProtoCode.Icmp;
IP_PROTO_TABLE[IPPROTO_ICMPV6] = IpProtoCode.Icmpv6;
IP_PROTO_TABLE[IPPROTO_TCP] = IpProtoCode.Tcp;
IP_PROTO_TABLE[IPPROTO_UDP] = IpProtoCode.Udp;
IP_PROTO_TABLE[IPPROTO_GRE] = IpProtoCode.Gre;
IP_PROTO_TABLE[IPPROTO_IPIP] = IpProtoCode.Ipv4InIp;
IP_PROTO_TABLE[IPPROTO_IPV6] = IpProtoCode.Ipv6InIp;
IP_PROTO_TABLE[IPPROTO_SCTP] = IpProtoCode.Sctp;
IP_PROTO_TABLE[IPPROTO_IGMP] = IpProtoCode.Igmp;
IP_PROTO_TABLE[IPPROTO_NONE] = IpProtoCode.NoNextHeader;

/** The payload of an IP datagram at `off` (up to `end`), carrying protocol `proto`. */
export function decodeIpProto(
  proto: number,
  b: Uint8Array,
  off: number,
  end: number,
  rec: PacketRecord,
): void {
  rec.ipProto = proto;
  switch (IP_PROTO_TABLE[proto]) {
    case IpProtoCode.Icmp:
      rec.l4Off = off;
      decodeIcmp(b, off, end, rec);
      return;
    case IpProtoCode.Icmpv6:
      rec.l4Off = off;
      decodeIcmpv6(b, off, end, rec);
      return;
    case IpProtoCode.Tcp:
      rec.l4Off = off;
      decodeTcp(b, off, end, rec);
      return;
    case IpProtoCode.Udp:
      decodeUdp(b, off, end, rec);
      return;
    case IpProtoCode.Gre:
      decodeGre(b, off, end, rec);
      return;
    case IpProtoCode.Ipv4InIp:
      if (enterTunnel(rec, TunnelType.IpIp, -1, Layer.Ipv4, off)) decodeIpv4(b, off, end, rec);
      return;
    case IpProtoCode.Ipv6InIp:
      if (enterTunnel(rec, TunnelType.IpIp, -1, Layer.Ipv6, off)) decodeIpv6(b, off, end, rec);
      return;
    case IpProtoCode.Sctp:
      decodeSctp(b, off, end, rec);
      return;
    case IpProtoCode.Igmp:
      rec.pushLayer(Layer.Igmp);
      rec.l4Off = off;
      rec.payloadOff = off;
      rec.payloadLen = end - off;
      return;
    case IpProtoCode.NoNextHeader:
      return;
    default:
      rec.pushLayer(Layer.Other);
      rec.payloadOff = off;
      rec.payloadLen = end - off;
  }
}

function decodeSctp(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Sctp);
  rec.l4Off = off;
  if (end - off < SCTP_COMMON_HEADER_LEN) {
    markShort(rec, Layer.Sctp, off, off + SCTP_COMMON_HEADER_LEN, 'sctp_too_short');
    return;
  }
  rec.srcPort = u16be(b, off);
  rec.dstPort = u16be(b, off + 2);
  rec.payloadOff = off + SCTP_COMMON_HEADER_LEN;
  rec.payloadLen = end - rec.payloadOff;
}
