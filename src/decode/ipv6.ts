// IPv6, RFC 8200, with its extension headers.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version| Traffic Class |           Flow Label                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Payload Length        |  Next Header  |   Hop Limit   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Source Address (16 bytes)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |              Destination Address (16 bytes)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Extension headers followed (at most IPV6_MAX_EXT_HEADERS, `ipv6_too_many_ext`):
// - hop-by-hop options (0), routing (43), destination options (60), and the
//   mobility (135), HIP (139), shim6 (140) headers, all in the RFC 8200 §4.2 form:
//   | Next Header | Hdr Ext Len (8-octet units, not counting the first 8) | ...
// - fragment (44), RFC 8200 §4.5, 8 bytes:
//   | Next Header |  Reserved  | Fragment Offset (13 bits) |Res|M| Identification (32) |
//   Identification goes to ipId; a non-first fragment is `laterFragment` and its
//   data is the payload (no reassembly). An atomic fragment (offset 0, M 0) is decoded on.
// - authentication header (51), RFC 4302 §2: length in 4-octet units minus 2.
// ESP (50) and no-next-header (59) end the chain, like any upper-layer protocol.
//
// Payload Length 0 with a hop-by-hop header is a jumbogram (RFC 2675): the length is
// the Jumbo Payload option's, or the captured end when that option is missing.
// Payload Length beyond the captured bytes because of snaplen: `truncated`; beyond
// the enclosing layer's data otherwise: `ipv6_payload_len_gt_available`.
// Anomalies: `ipv6_too_short`, `ipv6_version_not_6`, `ipv6_ext_too_short`,
// `ipv6_too_many_ext`, `ipv6_payload_len_gt_available`.

import { EXT_HEADER_TABLE, ExtKind } from './dispatch.js';
import { u16be, u32be } from './bytes.js';
import { cutByCapture, markShort } from './dispatch.js';
import { decodeIpProto } from './ip-proto.js';
import { Layer, type PacketRecord } from './record.js';

export const IPV6_HEADER_LEN = 40;
export const IPV6_MAX_EXT_HEADERS = 8;

const NEXT_HEADER_HOP_BY_HOP = 0;
const OPTION_PAD1 = 0;
const OPTION_JUMBO_PAYLOAD = 0xc2;
const FRAGMENT_HEADER_LEN = 8;

export function decodeIpv6(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Ipv6);
  if (end - off < IPV6_HEADER_LEN) {
    markShort(rec, Layer.Ipv6, off, off + IPV6_HEADER_LEN, 'ipv6_too_short');
    return;
  }
  if (b[off] >> 4 !== 6) {
    rec.markMalformed(Layer.Ipv6, 'ipv6_version_not_6', off);
    return;
  }
  const payloadLen = u16be(b, off + 4);
  let nextHeader = b[off + 6];
  rec.ipVersion = 6;
  rec.l3Off = off;
  rec.tos = ((b[off] & 0x0f) << 4) | (b[off + 1] >> 4);
  rec.ipv6FlowLabel = ((b[off + 1] & 0x0f) << 16) | u16be(b, off + 2);
  rec.ipTotalLen = IPV6_HEADER_LEN + payloadLen;
  rec.ttl = b[off + 7];
  rec.ipProto = nextHeader;
  rec.srcAddrOff = off + 8;
  rec.dstAddrOff = off + 24;

  let jumbo = payloadLen === 0 && nextHeader === NEXT_HEADER_HOP_BY_HOP;
  let dataEnd = jumbo ? end : clipToDeclared(rec, off, off + IPV6_HEADER_LEN + payloadLen, end);

  let p = off + IPV6_HEADER_LEN;
  for (let count = 0; ; count++) {
    const kind = EXT_HEADER_TABLE[nextHeader];
    if (kind === ExtKind.None) break;
    if (count === IPV6_MAX_EXT_HEADERS) {
      rec.markMalformed(Layer.Ipv6Ext, 'ipv6_too_many_ext', p);
      return;
    }
    rec.pushLayer(Layer.Ipv6Ext);
    rec.ipv6ExtCount++;
    if (dataEnd - p < 2) {
      markShort(rec, Layer.Ipv6Ext, p, p + 2, 'ipv6_ext_too_short');
      return;
    }
    const len =
      kind === ExtKind.Generic
        ? (b[p + 1] + 1) << 3
        : kind === ExtKind.Auth
          ? (b[p + 1] + 2) << 2
          : FRAGMENT_HEADER_LEN;
    if (dataEnd - p < len) {
      markShort(rec, Layer.Ipv6Ext, p, p + len, 'ipv6_ext_too_short');
      return;
    }
    if (jumbo && nextHeader === NEXT_HEADER_HOP_BY_HOP) {
      const jumboLen = jumboPayloadLength(b, p + 2, p + len);
      if (jumboLen >= 0) {
        rec.ipTotalLen = IPV6_HEADER_LEN + jumboLen;
        dataEnd = clipToDeclared(rec, off, off + IPV6_HEADER_LEN + jumboLen, end);
        if (dataEnd - p < len) {
          rec.markMalformed(Layer.Ipv6Ext, 'ipv6_ext_too_short', p);
          return;
        }
      }
      jumbo = false;
    }
    if (kind === ExtKind.Fragment) {
      const fragmentField = u16be(b, p + 2);
      rec.fragOffset = fragmentField & 0xfff8;
      rec.moreFragments = (fragmentField & 1) !== 0;
      rec.ipId = u32be(b, p + 4);
      if (rec.fragOffset !== 0) {
        rec.laterFragment = true;
        rec.ipProto = b[p];
        rec.ipHeaderLen = p + FRAGMENT_HEADER_LEN - off;
        rec.payloadOff = p + FRAGMENT_HEADER_LEN;
        rec.payloadLen = dataEnd - rec.payloadOff;
        return;
      }
    }
    nextHeader = b[p];
    p += len;
  }
  rec.ipHeaderLen = p - off;
  decodeIpProto(nextHeader, b, p, dataEnd, rec);
}

/** One past the datagram's last present byte; marks what a too-long declared end means. */
function clipToDeclared(rec: PacketRecord, off: number, declaredEnd: number, end: number): number {
  if (declaredEnd <= end) return declaredEnd;
  if (cutByCapture(rec, declaredEnd)) rec.truncated = true;
  else rec.markMalformed(Layer.Ipv6, 'ipv6_payload_len_gt_available', off);
  return end;
}

/** The Jumbo Payload option's length among the hop-by-hop options in [o, end), -1 when absent. */
function jumboPayloadLength(b: Uint8Array, o: number, end: number): number {
  let i = o;
  while (i < end) {
    const type = b[i];
    if (type === OPTION_PAD1) {
      i++;
      continue;
    }
    if (end - i < 2) return -1;
    const len = b[i + 1];
    if (type === OPTION_JUMBO_PAYLOAD && len === 4 && end - i >= 6) return u32be(b, i + 2);
    i += 2 + len;
  }
  return -1;
}
