// ICMPv6, RFC 4443, with neighbour discovery (RFC 4861), MLD (RFC 2710, RFC 3810) and
// RFC 4884 (the "length" of the original datagram in multi-part messages).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 rest of header, by type:                      |
// | 128/129 echo request/reply:  Identifier   |  Sequence Number  |
// |   1 dest unreachable:  length  |            unused            |
// |   2 packet too big:               MTU (32)                    |
// |   3 time exceeded:     length  |            unused            |
// |   4 parameter problem:          Pointer (32)                  |
// | 133 router solicitation:        reserved        | options (8)  |
// | 134 router advertisement: hop limit|flags|lifetime, reachable |
// |     time (32), retrans timer (32)               | options (16) |
// | 135 neighbor solicitation: reserved, Target (16) | options (24)|
// | 136 neighbor advertisement: R|S|O, Target (16)   | options (24)|
// | 137 redirect: reserved, Target (16), Destination (16) | opt (40)|
// | 130-132, 143 MLD query/report/done, MLDv2 report: typed only  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// - Every message has the 4-byte type/code/checksum; the messages below need 8
//   (`icmpv6_too_short`, or truncated when the capture cut them).
// - Echo: icmpId/icmpSeq. Packet too big: icmpMtu (unsigned 32-bit).
// - Errors (1-4): the quoted IPv6 packet (and its extension headers, bounded) goes to
//   rec.quoted* (quoted-ip.ts). For 1 and 3 a non-zero RFC 4884 length (64-bit words)
//   bounds the quote; beyond the message: `icmpv6_quote_len_gt_data`. A short quote is
//   tolerated unless the capture cut it (truncated). Not IPv6:
//   `icmpv6_quoted_not_ipv6`; more extension headers than allowed:
//   `icmpv6_quoted_too_many_ext`.
// - ND 133-137: a message shorter than its fixed part: `icmpv6_nd_too_short`;
//   ndTargetOff for NS/NA/redirect. Options (type, length in 8-octet units): length
//   0 → `icmpv6_nd_option_len_0` (RFC 4861 §4.6: discard), an option past the end →
//   `icmpv6_nd_option_overrun`. The loop advances ≥ 8 bytes a step inside the message.
// - payloadOff/payloadLen: the data after the first 8 bytes.
// The checksum is not verified.

import { u16be, u32be } from './bytes.js';
import { cutByCapture, markShort } from './dispatch.js';
import { decodeQuotedIpv6, QuoteStatus } from './quoted-ip.js';
import { Layer, type PacketRecord } from './record.js';

export const ICMPV6_MIN_LEN = 4;
export const ICMPV6_HEADER_LEN = 8;

export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAMETER_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_MLD_QUERY = 130;
export const ICMPV6_MLD_REPORT = 131;
export const ICMPV6_MLD_DONE = 132;
export const ICMPV6_ROUTER_SOLICITATION = 133;
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const ICMPV6_REDIRECT = 137;
export const ICMPV6_MLDV2_REPORT = 143;

const RS_FIXED_LEN = 8;
const RA_FIXED_LEN = 16;
const NS_NA_FIXED_LEN = 24;
const REDIRECT_FIXED_LEN = 40;
const ND_TARGET_AT = 8;

export function decodeIcmpv6(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Icmpv6);
  rec.l4Off = off;
  const avail = end - off;
  if (avail >= 2) {
    rec.icmpType = b[off];
    rec.icmpCode = b[off + 1];
  }
  if (avail < ICMPV6_MIN_LEN) {
    markShort(rec, Layer.Icmpv6, off, off + ICMPV6_MIN_LEN, 'icmpv6_too_short');
    return;
  }
  const type = b[off];
  if (avail >= ICMPV6_HEADER_LEN) {
    rec.payloadOff = off + ICMPV6_HEADER_LEN;
    rec.payloadLen = end - rec.payloadOff;
  }
  switch (type) {
    case ICMPV6_ECHO_REQUEST:
    case ICMPV6_ECHO_REPLY:
      if (!hasHeader(off, end, rec)) return;
      rec.icmpId = u16be(b, off + 4);
      rec.icmpSeq = u16be(b, off + 6);
      return;
    case ICMPV6_DEST_UNREACHABLE:
    case ICMPV6_TIME_EXCEEDED:
      if (!hasHeader(off, end, rec)) return;
      decodeQuote(b, off, end, rec, b[off + 4]);
      return;
    case ICMPV6_PACKET_TOO_BIG:
      if (!hasHeader(off, end, rec)) return;
      rec.icmpMtu = u32be(b, off + 4);
      decodeQuote(b, off, end, rec, 0);
      return;
    case ICMPV6_PARAMETER_PROBLEM:
      if (!hasHeader(off, end, rec)) return;
      decodeQuote(b, off, end, rec, 0);
      return;
    case ICMPV6_ROUTER_SOLICITATION:
      decodeNd(b, off, end, rec, RS_FIXED_LEN, false);
      return;
    case ICMPV6_ROUTER_ADVERTISEMENT:
      decodeNd(b, off, end, rec, RA_FIXED_LEN, false);
      return;
    case ICMPV6_NEIGHBOR_SOLICITATION:
    case ICMPV6_NEIGHBOR_ADVERTISEMENT:
      decodeNd(b, off, end, rec, NS_NA_FIXED_LEN, true);
      return;
    case ICMPV6_REDIRECT:
      decodeNd(b, off, end, rec, REDIRECT_FIXED_LEN, true);
      return;
    case ICMPV6_MLD_QUERY:
    case ICMPV6_MLD_REPORT:
    case ICMPV6_MLD_DONE:
    case ICMPV6_MLDV2_REPORT:
      hasHeader(off, end, rec);
      return;
    default:
      return;
  }
}

/** True when the 8-byte header is present; otherwise marks it. */
function hasHeader(off: number, end: number, rec: PacketRecord): boolean {
  if (end - off >= ICMPV6_HEADER_LEN) return true;
  markShort(rec, Layer.Icmpv6, off, off + ICMPV6_HEADER_LEN, 'icmpv6_too_short');
  return false;
}

/** The quoted packet after the header; `lengthWords` is the RFC 4884 length in 64-bit words (0: none). */
function decodeQuote(b: Uint8Array, off: number, end: number, rec: PacketRecord, lengthWords: number): void {
  const quoteOff = off + ICMPV6_HEADER_LEN;
  let quoteEnd = end;
  if (lengthWords !== 0) {
    const declaredEnd = quoteOff + (lengthWords << 3);
    if (declaredEnd <= end) quoteEnd = declaredEnd;
    else markShort(rec, Layer.Icmpv6, off + 4, declaredEnd, 'icmpv6_quote_len_gt_data');
  }
  switch (decodeQuotedIpv6(b, quoteOff, quoteEnd, rec)) {
    case QuoteStatus.Short:
      // the quote may legitimately stop early; only a capture cut is worth a mark
      if (quoteEnd === end && cutByCapture(rec, end + 1)) rec.markTruncated(Layer.Icmpv6, quoteOff);
      return;
    case QuoteStatus.BadVersion:
      rec.markMalformed(Layer.Icmpv6, 'icmpv6_quoted_not_ipv6', quoteOff);
      return;
    case QuoteStatus.TooManyExtHeaders:
      rec.markMalformed(Layer.Icmpv6, 'icmpv6_quoted_too_many_ext', quoteOff);
      return;
    default:
      return;
  }
}

/** Neighbour discovery message with a fixed part of `fixedLen` bytes, then options. */
function decodeNd(
  b: Uint8Array,
  off: number,
  end: number,
  rec: PacketRecord,
  fixedLen: number,
  hasTarget: boolean,
): void {
  if (end - off < fixedLen) {
    markShort(rec, Layer.Icmpv6, off, off + fixedLen, 'icmpv6_nd_too_short');
    return;
  }
  if (hasTarget) rec.ndTargetOff = off + ND_TARGET_AT;
  // RFC 4861 §4.6: | Type | Length (8-octet units, including type and length) | value ... |
  let p = off + fixedLen;
  while (p < end) {
    if (end - p < 2) {
      markShort(rec, Layer.Icmpv6, p, p + 2, 'icmpv6_nd_option_overrun');
      return;
    }
    const len = b[p + 1] << 3;
    if (len === 0) {
      rec.markMalformed(Layer.Icmpv6, 'icmpv6_nd_option_len_0', p);
      return;
    }
    if (end - p < len) {
      markShort(rec, Layer.Icmpv6, p, p + len, 'icmpv6_nd_option_overrun');
      return;
    }
    p += len;
  }
}
