// Link-layer dispatch by LINKTYPE (https://www.tcpdump.org/linktypes.html).
//
// EN10MB (1): Ethernet, see ethernet.ts.
//
// LINUX_SLL (113), Linux "cooked" capture v1 (LINKTYPE_LINUX_SLL.html), 16 bytes:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         packet type           |      ARPHRD_ type             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  link-layer address length    |  link-layer address (8 bytes, |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// |   zero-padded) ...                                            |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |     protocol (EtherType)      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// LINUX_SLL2 (276), v2 (LINKTYPE_LINUX_SLL2.html), 20 bytes:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     protocol (EtherType)      |          reserved             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       interface index                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        ARPHRD_ type           |  packet type  | address length|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |             link-layer address (8 bytes, zero-padded)         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The protocol field is an EtherType, except 0x0001 (Novell 802.3), 0x0004 (802.2
// LLC) and ARPHRD_NETLINK captures; those are recorded as `other`.
//
// RAW (101): an IP packet, IPv4 or IPv6 by its version nibble (tun devices).
// IPV4 (228) / IPV6 (229): an IPv4 / IPv6 packet. A packet whose version nibble says
// the other version is decoded as what it is, and marked `link_ip_version_mismatch`.
//
// NULL (0) / LOOP (108), BSD loopback (LINKTYPE_NULL.html, LINKTYPE_LOOP.html):
// a 4-byte address family, in the capturing host's byte order for NULL (unknown to
// us: like tcpdump, a value with a non-zero upper half is read the other way round)
// and in network byte order for LOOP; AF_INET = 2, AF_INET6 = 24, 28 or 30 (NetBSD/
// OpenBSD, FreeBSD, Darwin).
//
// Any other link type: one `other` layer, marked `linktype_unsupported`.

import { u16be, u32be, u32le } from './bytes.js';
import { ETHERNET_MAX_LENGTH, markShort } from './dispatch.js';
import { decodeEtherTypePayload, decodeEthernet, decodeLlc } from './ethernet.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { Layer, type PacketRecord } from './record.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_EN10MB = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const SLL_HEADER_LEN = 16;
const SLL2_HEADER_LEN = 20;
const NULL_HEADER_LEN = 4;
/** pcap link-type field: the type is the low 16 bits; FCS bits and reserved bits above are not the decoder's business */
const LINKTYPE_MASK = 0xffff;

const ARPHRD_NETLINK = 824;
const SLL_PROTOCOL_LLC = 0x0004;

const AF_INET = 2;
const AF_INET6_BSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;

/** The link layer of a packet at `off` (rec.start), dispatched by `linktype`. */
export function decodeLink(
  b: Uint8Array,
  off: number,
  end: number,
  linktype: number,
  rec: PacketRecord,
): void {
  switch (linktype & LINKTYPE_MASK) {
    case LINKTYPE_EN10MB:
      decodeEthernet(b, off, end, rec);
      return;
    case LINKTYPE_LINUX_SLL:
      decodeSll(b, off, end, rec);
      return;
    case LINKTYPE_LINUX_SLL2:
      decodeSll2(b, off, end, rec);
      return;
    case LINKTYPE_RAW:
      decodeRawIp(b, off, end, 0, rec);
      return;
    case LINKTYPE_IPV4:
      decodeRawIp(b, off, end, 4, rec);
      return;
    case LINKTYPE_IPV6:
      decodeRawIp(b, off, end, 6, rec);
      return;
    case LINKTYPE_NULL:
      decodeNull(b, off, end, false, rec);
      return;
    case LINKTYPE_LOOP:
      decodeNull(b, off, end, true, rec);
      return;
    default:
      rec.pushLayer(Layer.Other);
      rec.markMalformed(Layer.Other, 'linktype_unsupported', off);
  }
}

function decodeSll(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Sll);
  if (end - off < SLL_HEADER_LEN) {
    markShort(rec, Layer.Sll, off, off + SLL_HEADER_LEN, 'sll_too_short');
    return;
  }
  rec.sllPacketType = u16be(b, off);
  const hatype = u16be(b, off + 2);
  if (u16be(b, off + 4) === 6) rec.ethSrcOff = off + 6;
  cookedPayload(u16be(b, off + 14), hatype, b, off + SLL_HEADER_LEN, end, rec);
}

function decodeSll2(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Sll2);
  if (end - off < SLL2_HEADER_LEN) {
    markShort(rec, Layer.Sll2, off, off + SLL2_HEADER_LEN, 'sll2_too_short');
    return;
  }
  rec.sllIfIndex = u32be(b, off + 4);
  rec.sllPacketType = b[off + 10];
  if (b[off + 11] === 6) rec.ethSrcOff = off + 12;
  cookedPayload(u16be(b, off), u16be(b, off + 8), b, off + SLL2_HEADER_LEN, end, rec);
}

function cookedPayload(
  protocol: number,
  hatype: number,
  b: Uint8Array,
  off: number,
  end: number,
  rec: PacketRecord,
): void {
  if (hatype === ARPHRD_NETLINK || protocol <= ETHERNET_MAX_LENGTH) {
    if (protocol === SLL_PROTOCOL_LLC && hatype !== ARPHRD_NETLINK) decodeLlc(b, off, end, rec);
    else rec.pushLayer(Layer.Other); // netlink messages, Novell raw 802.3, CAN, ...
    return;
  }
  decodeEtherTypePayload(protocol, b, off, end, rec);
}

/** `expect` is 4 or 6 for LINKTYPE_IPV4/IPV6, 0 for RAW (the version nibble decides). */
function decodeRawIp(b: Uint8Array, off: number, end: number, expect: number, rec: PacketRecord): void {
  if (off >= end) {
    rec.pushLayer(expect === 6 ? Layer.Ipv6 : Layer.Ipv4);
    markShort(rec, expect === 6 ? Layer.Ipv6 : Layer.Ipv4, off, off + 1, 'ip_too_short');
    return;
  }
  const version = b[off] >> 4;
  if (expect !== 0 && version !== expect && (version === 4 || version === 6)) {
    rec.markMalformed(expect === 6 ? Layer.Ipv6 : Layer.Ipv4, 'link_ip_version_mismatch', off);
  }
  if (version === 4) decodeIpv4(b, off, end, rec);
  else if (version === 6) decodeIpv6(b, off, end, rec);
  else if (expect === 6)
    decodeIpv6(b, off, end, rec); // marks ipv6_version_not_6
  else if (expect === 4)
    decodeIpv4(b, off, end, rec); // marks ipv4_version_not_4
  else {
    rec.pushLayer(Layer.Other);
    rec.markMalformed(Layer.Other, 'raw_ip_version_unknown', off);
  }
}

function decodeNull(b: Uint8Array, off: number, end: number, networkOrder: boolean, rec: PacketRecord): void {
  rec.pushLayer(Layer.Null);
  if (end - off < NULL_HEADER_LEN) {
    markShort(rec, Layer.Null, off, off + NULL_HEADER_LEN, 'null_too_short');
    return;
  }
  let family: number;
  if (networkOrder) family = u32be(b, off);
  else {
    // host byte order of the machine that captured: families are small numbers,
    // so a value with bits in its upper half was written the other way round
    family = u32le(b, off);
    if (family > 0xffff) family = u32be(b, off);
  }
  const ipOff = off + NULL_HEADER_LEN;
  switch (family) {
    case AF_INET:
      decodeIpv4(b, ipOff, end, rec);
      return;
    case AF_INET6_BSD:
    case AF_INET6_FREEBSD:
    case AF_INET6_DARWIN:
      decodeIpv6(b, ipOff, end, rec);
      return;
    default:
      rec.pushLayer(Layer.Other);
  }
}
