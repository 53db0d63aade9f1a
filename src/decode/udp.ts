// UDP, RFC 768, and dispatch of its payload by port through a dense table (docs/architecture.md "Decoding").
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Length             |           Checksum            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// - Length counts the header; the datagram's data ends there (bytes after it up to the
//   IP end are ignored). Length 0 is an IPv6 jumbogram's (RFC 2675): the IP end counts.
//   Length < 8: `udp_len_lt_8`, nothing decoded after UDP. Length beyond the IP
//   payload: `truncated` when snaplen cut it, `udp_len_gt_ip_payload` otherwise; the
//   payload is decoded as far as it goes either way.
// - Payload dispatch: the destination port decides; when it names nothing, the source
//   port does, but only for applications (a reply from a DNS or DHCP server), never
//   for a tunnel (VXLAN/Geneve sources are flow hashes that may hit any number).
//   4789 (IANA) and 8472 (Linux default) VXLAN, 6081 Geneve, 53, 5353 (mDNS) and
//   5355 (LLMNR, RFC 4795: DNS messages) DNS, 67/68 DHCP, 546/547 DHCPv6.
// - A header cut after the ports keeps them (marked truncated / `udp_too_short`).
// The checksum is not verified.

import { u16be } from './bytes.js';
import { cutByCapture, markShort } from './dispatch.js';
import { decodeDhcp } from './dhcp.js';
import { decodeDhcpv6 } from './dhcpv6.js';
import { decodeDns } from './dns.js';
import { decodeGeneve } from './geneve.js';
import { Layer, type PacketRecord } from './record.js';
import { decodeVxlan } from './vxlan.js';

export const UDP_HEADER_LEN = 8;
export const VXLAN_UDP_PORT = 4789;
export const VXLAN_LINUX_UDP_PORT = 8472;
export const GENEVE_UDP_PORT = 6081;
export const DNS_UDP_PORT = 53;
export const MDNS_UDP_PORT = 5353;
/** RFC 4795 Link-Local Multicast Name Resolution: DNS message format */
export const LLMNR_UDP_PORT = 5355;
export const DHCP_SERVER_UDP_PORT = 67;
export const DHCP_CLIENT_UDP_PORT = 68;
export const DHCPV6_CLIENT_UDP_PORT = 546;
export const DHCPV6_SERVER_UDP_PORT = 547;

const enum UdpPortCode {
  None = 0,
  // tunnels: chosen by destination port only (keep them lowest)
  Vxlan = 1,
  Geneve = 2,
  // applications: by destination, else source port
  Dns = 3,
  Dhcp = 4,
  Dhcpv6 = 5,
}
const LAST_TUNNEL_CODE = UdpPortCode.Geneve;

const UDP_PORT_TABLE = new Uint8Array(65536);
UDP_PORT_TABLE[VXLAN_UDP_PORT] = UdpPortCode.Vxlan;
UDP_PORT_TABLE[VXLAN_LINUX_UDP_PORT] = UdpPortCode.Vxlan;
UDP_PORT_TABLE[GENEVE_UDP_PORT] = UdpPortCode.Geneve;
UDP_PORT_TABLE[DNS_UDP_PORT] = UdpPortCode.Dns;
UDP_PORT_TABLE[MDNS_UDP_PORT] = UdpPortCode.Dns;
UDP_PORT_TABLE[LLMNR_UDP_PORT] = UdpPortCode.Dns;
UDP_PORT_TABLE[DHCP_SERVER_UDP_PORT] = UdpPortCode.Dhcp;
UDP_PORT_TABLE[DHCP_CLIENT_UDP_PORT] = UdpPortCode.Dhcp;
UDP_PORT_TABLE[DHCPV6_CLIENT_UDP_PORT] = UdpPortCode.Dhcpv6;
UDP_PORT_TABLE[DHCPV6_SERVER_UDP_PORT] = UdpPortCode.Dhcpv6;

export function decodeUdp(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Udp);
  rec.l4Off = off;
  if (end - off < UDP_HEADER_LEN) {
    if (end - off >= 4) {
      // the ports are there: keep them (a snaplen of 38 cuts Ethernet+IPv4+UDP there)
      rec.srcPort = u16be(b, off);
      rec.dstPort = u16be(b, off + 2);
    }
    markShort(rec, Layer.Udp, off, off + UDP_HEADER_LEN, 'udp_too_short');
    return;
  }
  const srcPort = u16be(b, off);
  const dstPort = u16be(b, off + 2);
  const length = u16be(b, off + 4);
  rec.srcPort = srcPort;
  rec.dstPort = dstPort;
  rec.udpLen = length;
  let dataEnd = end;
  if (length !== 0) {
    if (length < UDP_HEADER_LEN) {
      rec.markMalformed(Layer.Udp, 'udp_len_lt_8', off);
      return;
    }
    const declaredEnd = off + length;
    if (declaredEnd < end) dataEnd = declaredEnd;
    else if (declaredEnd > end) {
      if (cutByCapture(rec, declaredEnd)) rec.truncated = true;
      else rec.markMalformed(Layer.Udp, 'udp_len_gt_ip_payload', off);
    }
  }
  const payloadOff = off + UDP_HEADER_LEN;
  rec.payloadOff = payloadOff;
  rec.payloadLen = dataEnd - payloadOff;

  let code = UDP_PORT_TABLE[dstPort];
  if (code === UdpPortCode.None) {
    code = UDP_PORT_TABLE[srcPort];
    if (code <= LAST_TUNNEL_CODE) return;
  }
  switch (code) {
    case UdpPortCode.Vxlan:
      decodeVxlan(b, payloadOff, dataEnd, rec);
      return;
    case UdpPortCode.Geneve:
      decodeGeneve(b, payloadOff, dataEnd, rec);
      return;
    case UdpPortCode.Dns:
      decodeDns(b, payloadOff, dataEnd, rec);
      return;
    case UdpPortCode.Dhcp:
      decodeDhcp(b, payloadOff, dataEnd, rec);
      return;
    case UdpPortCode.Dhcpv6:
      decodeDhcpv6(b, payloadOff, dataEnd, rec);
      return;
    default:
      return;
  }
}
