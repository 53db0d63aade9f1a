// The packet an ICMP or ICMPv6 error quotes ("invoking packet"): its IP header and the
// first bytes of its transport header, shared by icmp.ts and icmpv6.ts.
//
// RFC 792 (and RFC 1812 §4.3.2.3) quote the IPv4 header plus at least the first 8
// bytes of the datagram's data; RFC 4443 §2.4 (c) quotes "as much of the invoking
// packet as possible" up to the minimum IPv6 MTU. Those 8 bytes are what correlation
// needs to attach the error to the exchange of the packet it quotes (docs/verdicts.md):
//
//   TCP      | Source Port | Destination Port | Sequence Number (32) |
//   UDP      | Source Port | Destination Port | Length | Checksum |   (also UDP-Lite, SCTP, DCCP: ports)
//   ICMP(v6) | Type | Code | Checksum | Identifier | Sequence Number |  (id/seq for echo and ICMP timestamp only)
//
// Quoted IPv4 header (RFC 791): version/IHL, ..., Identification at 4, flags/fragment
// offset at 6, Protocol at 9, Source at 12, Destination at 16, options to IHL*4.
// Quoted IPv6 header (RFC 8200): Next Header at 6, Source at 8, Destination at 24,
// then extension headers (hop-by-hop 0, routing 43, fragment 44, destination options
// 60, AH 51, mobility 135, HIP 139, shim6 140), at most QUOTED_IPV6_MAX_EXT_HEADERS.
//
// A quote is often shorter than what its header declares (that is the point of a
// quote), so running out is no anomaly here: the fields that are present are recorded
// and the status says whether everything wanted was there. The ICMP decoders decide
// what to mark (truncation only when the capture cut the quote). A quoted non-first
// fragment has no transport header: only its IP fields are recorded.
//
// Fields written: quotedIpVersion, quotedL3Off, quotedSrcAddrOff, quotedDstAddrOff,
// quotedIpId (IPv4 identification, or the IPv6 fragment header's identification),
// quotedIpTotalLen, quotedIpProto, quotedL4Off, quotedEnd, quotedSrcPort,
// quotedDstPort, quotedTcpSeq, quotedIcmpType, quotedIcmpId, quotedIcmpSeq.

import { EXT_HEADER_TABLE, ExtKind } from './dispatch.js';
import { u16be, u32be } from './bytes.js';
import { FieldGroup, type PacketRecord } from './record.js';

export const enum QuoteStatus {
  /** the IP header and every transport field recorded for its protocol were present */
  Complete = 0,
  /** the quote ended first; what was present is recorded */
  Short = 1,
  /** the quoted header's version is not the expected one */
  BadVersion = 2,
  /** quoted IPv4 IHL < 5 */
  BadHeaderLength = 3,
  /** more than QUOTED_IPV6_MAX_EXT_HEADERS extension headers */
  TooManyExtHeaders = 4,
}

export const QUOTED_IPV6_MAX_EXT_HEADERS = 8;

const IPV4_MIN_HEADER_LEN = 20;
const IPV6_HEADER_LEN = 40;
const IPV6_FRAGMENT_HEADER_LEN = 8;

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_DCCP = 33;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_SCTP = 132;
const IPPROTO_UDPLITE = 136;

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMP_TIMESTAMP_REQUEST = 13;
const ICMP_TIMESTAMP_REPLY = 14;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;

/** The quoted IPv4 packet in [off, end) (an ICMP error's data). */
export function decodeQuotedIpv4(b: Uint8Array, off: number, end: number, rec: PacketRecord): QuoteStatus {
  rec.touched |= FieldGroup.Quoted;
  rec.quotedL3Off = off;
  rec.quotedEnd = end;
  const avail = end - off;
  if (avail < 1) return QuoteStatus.Short;
  if (b[off] >> 4 !== 4) return QuoteStatus.BadVersion;
  rec.quotedIpVersion = 4;
  const headerLen = (b[off] & 0x0f) << 2;
  if (headerLen < IPV4_MIN_HEADER_LEN) return QuoteStatus.BadHeaderLength;
  if (avail >= 4) rec.quotedIpTotalLen = u16be(b, off + 2);
  if (avail >= 6) rec.quotedIpId = u16be(b, off + 4);
  if (avail >= 10) rec.quotedIpProto = b[off + 9];
  if (avail >= 16) rec.quotedSrcAddrOff = off + 12;
  if (avail >= 20) rec.quotedDstAddrOff = off + 16;
  if (avail < headerLen) return QuoteStatus.Short;
  if ((u16be(b, off + 6) & 0x1fff) !== 0) return QuoteStatus.Complete; // a later fragment: no L4 header
  return decodeQuotedL4(b, off + headerLen, end, rec, rec.quotedIpProto);
}

/** The quoted IPv6 packet in [off, end) (an ICMPv6 error's data). */
export function decodeQuotedIpv6(b: Uint8Array, off: number, end: number, rec: PacketRecord): QuoteStatus {
  rec.touched |= FieldGroup.Quoted;
  rec.quotedL3Off = off;
  rec.quotedEnd = end;
  const avail = end - off;
  if (avail < 1) return QuoteStatus.Short;
  if (b[off] >> 4 !== 6) return QuoteStatus.BadVersion;
  rec.quotedIpVersion = 6;
  if (avail >= 6) rec.quotedIpTotalLen = IPV6_HEADER_LEN + u16be(b, off + 4);
  if (avail >= 24) rec.quotedSrcAddrOff = off + 8;
  if (avail >= IPV6_HEADER_LEN) rec.quotedDstAddrOff = off + 24;
  if (avail < IPV6_HEADER_LEN) return QuoteStatus.Short;
  let nextHeader = b[off + 6];
  let p = off + IPV6_HEADER_LEN;
  for (let count = 0; ; count++) {
    const kind = EXT_HEADER_TABLE[nextHeader];
    if (kind === ExtKind.None) break;
    if (count === QUOTED_IPV6_MAX_EXT_HEADERS) return QuoteStatus.TooManyExtHeaders;
    if (end - p < 2) return QuoteStatus.Short;
    const len =
      kind === ExtKind.Generic
        ? (b[p + 1] + 1) << 3
        : kind === ExtKind.Auth
          ? (b[p + 1] + 2) << 2
          : IPV6_FRAGMENT_HEADER_LEN;
    if (end - p < len) return QuoteStatus.Short;
    if (kind === ExtKind.Fragment) {
      rec.quotedIpId = u32be(b, p + 4);
      if ((u16be(b, p + 2) & 0xfff8) !== 0) {
        rec.quotedIpProto = b[p];
        return QuoteStatus.Complete; // a later fragment: no L4 header
      }
    }
    nextHeader = b[p];
    p += len;
  }
  rec.quotedIpProto = nextHeader;
  return decodeQuotedL4(b, p, end, rec, nextHeader);
}

/** The first bytes of the quoted transport header at `off`. */
function decodeQuotedL4(
  b: Uint8Array,
  off: number,
  end: number,
  rec: PacketRecord,
  proto: number,
): QuoteStatus {
  const avail = end - off;
  switch (proto) {
    case IPPROTO_TCP:
      rec.quotedL4Off = off;
      if (avail >= 4) {
        rec.quotedSrcPort = u16be(b, off);
        rec.quotedDstPort = u16be(b, off + 2);
      }
      if (avail < 8) return QuoteStatus.Short;
      rec.quotedTcpSeq = u32be(b, off + 4);
      return QuoteStatus.Complete;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP:
    case IPPROTO_DCCP:
      rec.quotedL4Off = off;
      if (avail < 4) return QuoteStatus.Short;
      rec.quotedSrcPort = u16be(b, off);
      rec.quotedDstPort = u16be(b, off + 2);
      return QuoteStatus.Complete;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      rec.quotedL4Off = off;
      if (avail < 1) return QuoteStatus.Short;
      const type = b[off];
      rec.quotedIcmpType = type;
      const withId =
        proto === IPPROTO_ICMP
          ? type === ICMP_ECHO_REQUEST ||
            type === ICMP_ECHO_REPLY ||
            type === ICMP_TIMESTAMP_REQUEST ||
            type === ICMP_TIMESTAMP_REPLY
          : type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY;
      if (!withId) return QuoteStatus.Complete;
      if (avail < 8) return QuoteStatus.Short;
      rec.quotedIcmpId = u16be(b, off + 4);
      rec.quotedIcmpSeq = u16be(b, off + 6);
      return QuoteStatus.Complete;
    }
    default:
      if (avail > 0) rec.quotedL4Off = off;
      return QuoteStatus.Complete;
  }
}
