// ICMP for IPv4, RFC 792, with RFC 1191 (frag-needed next-hop MTU) and RFC 4884
// (multi-part messages: the "length" of the original datagram).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 rest of header, by type:                      |
// |  0/8 echo reply/request:   Identifier     |  Sequence Number  |
// | 13/14 timestamp req./reply: Identifier    |  Sequence Number  |
// |  3 dest unreachable:   unused  |  length  |  Next-Hop MTU     |  (MTU: code 4 only, RFC 1191)
// |  4 source quench:             unused                          |
// |  5 redirect:              Gateway Internet Address            |
// | 11 time exceeded:      unused  |  length  |     unused        |
// | 12 parameter problem: pointer  |  length  |     unused        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  data: echo payload; 13/14 originate, receive, transmit times |
// |  (32 bits each); for 3/4/5/11/12 the quoted original IPv4     |
// |  header + at least 8 bytes of its data (quoted-ip.ts)         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// - Every message has the 8-byte header; fewer bytes: `icmp_too_short` (or truncated).
// - Echo and timestamp: icmpId/icmpSeq. Frag-needed (3/4): icmpMtu = the Next-Hop MTU
//   field as sent (0 from a pre-RFC 1191 router). Redirect: icmpGatewayOff.
// - Errors (3, 4, 5, 11, 12): the quoted packet goes to rec.quoted*. For 3, 11 and 12
//   a non-zero RFC 4884 length (32-bit words) bounds the quote (the extension
//   structure after it is not decoded); a length beyond the message:
//   `icmp_quote_len_gt_data`. A quote shorter than its IP header + 8 bytes is normal
//   (tolerated) unless the capture cut it, which marks truncation. A quote that is not
//   IPv4: `icmp_quoted_not_ipv4`; quoted IHL < 5: `icmp_quoted_ihl_lt_5`.
// - payloadOff/payloadLen: the data after the 8-byte header (echo payload, timestamps
//   or quote).
// The checksum is not verified.

import { u16be } from './bytes.js';
import { cutByCapture, markShort } from './dispatch.js';
import { decodeQuotedIpv4, QuoteStatus } from './quoted-ip.js';
import { Layer, type PacketRecord } from './record.js';

export const ICMP_HEADER_LEN = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;
export const ICMP_TIMESTAMP_REQUEST = 13;
export const ICMP_TIMESTAMP_REPLY = 14;
/** destination unreachable code 4: fragmentation needed and DF set (RFC 1191) */
export const ICMP_CODE_FRAG_NEEDED = 4;

export function decodeIcmp(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Icmp);
  rec.l4Off = off;
  const avail = end - off;
  if (avail >= 2) {
    rec.icmpType = b[off];
    rec.icmpCode = b[off + 1];
  }
  if (avail < ICMP_HEADER_LEN) {
    markShort(rec, Layer.Icmp, off, off + ICMP_HEADER_LEN, 'icmp_too_short');
    return;
  }
  const type = b[off];
  const dataOff = off + ICMP_HEADER_LEN;
  rec.payloadOff = dataOff;
  rec.payloadLen = end - dataOff;
  switch (type) {
    case ICMP_ECHO_REQUEST:
    case ICMP_ECHO_REPLY:
    case ICMP_TIMESTAMP_REQUEST:
    case ICMP_TIMESTAMP_REPLY:
      rec.icmpId = u16be(b, off + 4);
      rec.icmpSeq = u16be(b, off + 6);
      return;
    case ICMP_DEST_UNREACHABLE:
      if (b[off + 1] === ICMP_CODE_FRAG_NEEDED) rec.icmpMtu = u16be(b, off + 6);
      decodeQuote(b, off, end, rec, b[off + 5]);
      return;
    case ICMP_TIME_EXCEEDED:
    case ICMP_PARAMETER_PROBLEM:
      decodeQuote(b, off, end, rec, b[off + 5]);
      return;
    case ICMP_REDIRECT:
      rec.icmpGatewayOff = off + 4;
      decodeQuote(b, off, end, rec, 0);
      return;
    case ICMP_SOURCE_QUENCH:
      decodeQuote(b, off, end, rec, 0);
      return;
    default:
      return;
  }
}

/** The quoted datagram after the header; `lengthWords` is the RFC 4884 length (0: none). */
function decodeQuote(b: Uint8Array, off: number, end: number, rec: PacketRecord, lengthWords: number): void {
  const quoteOff = off + ICMP_HEADER_LEN;
  let quoteEnd = end;
  if (lengthWords !== 0) {
    const declaredEnd = quoteOff + (lengthWords << 2);
    if (declaredEnd <= end) quoteEnd = declaredEnd;
    else markShort(rec, Layer.Icmp, off + 5, declaredEnd, 'icmp_quote_len_gt_data');
  }
  switch (decodeQuotedIpv4(b, quoteOff, quoteEnd, rec)) {
    case QuoteStatus.Short:
      // the quote may legitimately stop early; only a capture cut is worth a mark
      if (quoteEnd === end) markShortQuote(rec, quoteOff, end);
      return;
    case QuoteStatus.BadVersion:
      rec.markMalformed(Layer.Icmp, 'icmp_quoted_not_ipv4', quoteOff);
      return;
    case QuoteStatus.BadHeaderLength:
      rec.markMalformed(Layer.Icmp, 'icmp_quoted_ihl_lt_5', quoteOff);
      return;
    default:
      return;
  }
}

/** A short quote that ends where the capture stopped early was cut by snaplen: truncated. Otherwise tolerated. */
function markShortQuote(rec: PacketRecord, quoteOff: number, end: number): void {
  if (cutByCapture(rec, end + 1)) rec.markTruncated(Layer.Icmp, quoteOff);
}
