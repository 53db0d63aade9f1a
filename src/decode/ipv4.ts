// IPv4, RFC 791 (identification per RFC 6864).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |Type of Service|          Total Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |0|D|M|     Fragment Offset     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options (IHL > 5) ...                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// - Options are skipped by IHL (not interpreted); the checksum is not verified.
// - The datagram ends at Total Length; bytes after it (Ethernet padding) are ignored.
//   Total Length beyond the captured bytes because of snaplen: `truncated`, the
//   payload is decoded as far as it goes. Beyond the enclosing layer's data otherwise:
//   `ipv4_total_len_gt_available` (still decoded, clipped). Total Length 0 is what
//   segmentation offload (TSO/GSO) hands a local capture: the captured end is used.
// - Fragments: the first (offset 0, MF set) is decoded on to L4 like any datagram;
//   a later one (offset > 0) is marked `laterFragment`, its data is the payload and
//   nothing after IPv4 is decoded (no reassembly).
// Anomalies: `ipv4_too_short`, `ipv4_version_not_4`, `ipv4_ihl_lt_5`,
// `ipv4_total_len_lt_ihl`, `ipv4_header_too_short`, `ipv4_total_len_gt_available`.

import { u16be } from './bytes.js';
import { cutByCapture, markShort } from './dispatch.js';
import { decodeIpProto } from './ip-proto.js';
import { Layer, type PacketRecord } from './record.js';

const IPV4_MIN_HEADER_LEN = 20;
const FLAG_DONT_FRAGMENT = 0x4000;
const FLAG_MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

export function decodeIpv4(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Ipv4);
  if (end - off < IPV4_MIN_HEADER_LEN) {
    markShort(rec, Layer.Ipv4, off, off + IPV4_MIN_HEADER_LEN, 'ipv4_too_short');
    return;
  }
  if (b[off] >> 4 !== 4) {
    rec.markMalformed(Layer.Ipv4, 'ipv4_version_not_4', off);
    return;
  }
  const headerLen = (b[off] & 0x0f) << 2;
  const totalLen = u16be(b, off + 2);
  const fragmentField = u16be(b, off + 6);
  rec.ipVersion = 4;
  rec.l3Off = off;
  rec.tos = b[off + 1];
  rec.ipTotalLen = totalLen;
  rec.ipHeaderLen = headerLen;
  rec.ipId = u16be(b, off + 4);
  rec.dontFragment = (fragmentField & FLAG_DONT_FRAGMENT) !== 0;
  rec.moreFragments = (fragmentField & FLAG_MORE_FRAGMENTS) !== 0;
  rec.fragOffset = (fragmentField & FRAGMENT_OFFSET_MASK) << 3;
  rec.ttl = b[off + 8];
  rec.ipProto = b[off + 9];
  rec.srcAddrOff = off + 12;
  rec.dstAddrOff = off + 16;

  if (headerLen < IPV4_MIN_HEADER_LEN) {
    rec.markMalformed(Layer.Ipv4, 'ipv4_ihl_lt_5', off);
    return;
  }
  let dataEnd = end;
  if (totalLen !== 0) {
    if (totalLen < headerLen) {
      rec.markMalformed(Layer.Ipv4, 'ipv4_total_len_lt_ihl', off);
      return;
    }
    const declaredEnd = off + totalLen;
    if (declaredEnd < end) dataEnd = declaredEnd;
    else if (declaredEnd > end) {
      if (cutByCapture(rec, declaredEnd)) rec.truncated = true;
      else rec.markMalformed(Layer.Ipv4, 'ipv4_total_len_gt_available', off);
    }
  }
  if (dataEnd - off < headerLen) {
    markShort(rec, Layer.Ipv4, off, off + headerLen, 'ipv4_header_too_short');
    return;
  }
  const payloadOff = off + headerLen;
  if (rec.fragOffset !== 0) {
    rec.laterFragment = true;
    rec.payloadOff = payloadOff;
    rec.payloadLen = dataEnd - payloadOff;
    return;
  }
  decodeIpProto(rec.ipProto, b, payloadOff, dataEnd, rec);
}
