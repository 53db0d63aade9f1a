// GRE, RFC 2784 with the key and sequence number of RFC 2890 (version 0), and the
// enhanced GRE of PPTP, RFC 2637 §4.1 (version 1). RFC 1701 source routing is walked.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      Checksum (if C or R)     |   Offset / Reserved1 (C or R) |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Key (if K)                            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  Sequence Number (if S)                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Acknowledgment Number (version 1, if A)             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Routing (RFC 1701, if R): SREs | AF (16) | off (8) | len (8) | ... |, ended by AF 0 len 0
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Protocol Type is an EtherType: 0x0800/0x86DD an inner IP packet, 0x6558 an inner
// Ethernet frame (transparent Ethernet bridging, NVGRE, gretap); the inner packet
// becomes the innermost one (dispatch.ts enterTunnel) and a version-0 key is its VNI.
// Any other type (PPTP's PPP 0x880B, ERSPAN 0x88BE/0x22EB, Cisco metadata, keepalive
// 0): greProto is recorded, the GRE payload is the payload, and decoding stops.
// Anomalies: `gre_too_short`, `gre_version_unknown`, `gre_routing_too_long`,
// `tunnel_too_deep`.

import { u16be, u32be } from './bytes.js';
import {
  ETHER_TYPE_TABLE,
  ETHERTYPE_TRANSPARENT_ETHERNET,
  EtherTypeCode,
  clearLink,
  enterTunnel,
  markShort,
} from './dispatch.js';
import { decodeEtherTypePayload, decodeEthernet } from './ethernet.js';
import { Layer, type PacketRecord, TunnelType } from './record.js';

const GRE_BASE_LEN = 4;
const FLAG_CHECKSUM = 0x8000;
const FLAG_ROUTING = 0x4000;
const FLAG_KEY = 0x2000;
const FLAG_SEQUENCE = 0x1000;
/** version 1 (PPTP) only */
const FLAG_ACK = 0x0080;
const VERSION_MASK = 0x0007;
/** RFC 1701 source route entries followed at most */
const MAX_SOURCE_ROUTE_ENTRIES = 16;

export function decodeGre(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Gre);
  rec.l4Off = off;
  if (end - off < GRE_BASE_LEN) {
    markShort(rec, Layer.Gre, off, off + GRE_BASE_LEN, 'gre_too_short');
    return;
  }
  const flags = u16be(b, off);
  const protocol = u16be(b, off + 2);
  const version = flags & VERSION_MASK;
  if (rec.greProto === -1) rec.greProto = protocol;
  if (version > 1) {
    rec.markMalformed(Layer.Gre, 'gre_version_unknown', off);
    return;
  }
  let headerLen = GRE_BASE_LEN;
  if ((flags & (FLAG_CHECKSUM | FLAG_ROUTING)) !== 0) headerLen += 4;
  let keyOff = -1;
  if ((flags & FLAG_KEY) !== 0) {
    keyOff = off + headerLen;
    headerLen += 4;
  }
  if ((flags & FLAG_SEQUENCE) !== 0) headerLen += 4;
  if (version === 1 && (flags & FLAG_ACK) !== 0) headerLen += 4;
  if (end - off < headerLen) {
    markShort(rec, Layer.Gre, off, off + headerLen, 'gre_too_short');
    return;
  }
  let innerOff = off + headerLen;
  if ((flags & FLAG_ROUTING) !== 0) {
    innerOff = skipSourceRoute(b, innerOff, end, rec);
    if (innerOff < 0) return;
  }
  const key = keyOff >= 0 && version === 0 ? u32be(b, keyOff) : -1;
  if (protocol === ETHERTYPE_TRANSPARENT_ETHERNET) {
    if (!enterTunnel(rec, TunnelType.Gre, key, Layer.Gre, off)) return;
    clearLink(rec);
    decodeEthernet(b, innerOff, end, rec);
  } else if (ETHER_TYPE_TABLE[protocol] !== EtherTypeCode.Unknown) {
    if (!enterTunnel(rec, TunnelType.Gre, key, Layer.Gre, off)) return;
    decodeEtherTypePayload(protocol, b, innerOff, end, rec);
  } else {
    rec.payloadOff = innerOff;
    rec.payloadLen = end - innerOff;
  }
}

/** Walks RFC 1701 source route entries from `o`; returns the offset after them, -1 (marked) when they do not end in bounds. */
function skipSourceRoute(b: Uint8Array, o: number, end: number, rec: PacketRecord): number {
  let p = o;
  for (let i = 0; i < MAX_SOURCE_ROUTE_ENTRIES; i++) {
    if (end - p < 4) {
      markShort(rec, Layer.Gre, p, p + 4, 'gre_too_short');
      return -1;
    }
    const addressFamily = u16be(b, p);
    const length = b[p + 3];
    p += 4;
    if (addressFamily === 0 && length === 0) return p;
    if (end - p < length) {
      markShort(rec, Layer.Gre, p, p + length, 'gre_too_short');
      return -1;
    }
    p += length;
  }
  rec.markMalformed(Layer.Gre, 'gre_routing_too_long', p);
  return -1;
}
