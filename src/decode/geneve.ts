// Geneve, RFC 8926 §3.4: a frame or packet in UDP (port 6081), with TLV options.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Virtual Network Identifier (VNI)       |    Reserved   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Variable-Length Options (Opt Len × 4 bytes)|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Options are skipped as a whole by Opt Len. Protocol Type is an EtherType: 0x6558
// (transparent Ethernet bridging) is an inner Ethernet frame, 0x0800/0x86DD an inner
// IP packet (anything the EtherType table knows is followed); the inner packet becomes
// the innermost one (dispatch.ts enterTunnel). Another protocol type: an `other`
// layer after Geneve, and the packet is not treated as tunnelled.
// Anomalies: `geneve_too_short`, `geneve_version_not_0`, `geneve_options_too_short`,
// `tunnel_too_deep`.

import { u16be, u24be } from './bytes.js';
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

export const GENEVE_HEADER_LEN = 8;

export function decodeGeneve(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Geneve);
  if (end - off < GENEVE_HEADER_LEN) {
    markShort(rec, Layer.Geneve, off, off + GENEVE_HEADER_LEN, 'geneve_too_short');
    return;
  }
  if (b[off] >> 6 !== 0) {
    rec.markMalformed(Layer.Geneve, 'geneve_version_not_0', off);
    return;
  }
  const headerLen = GENEVE_HEADER_LEN + ((b[off] & 0x3f) << 2);
  const protocol = u16be(b, off + 2);
  if (end - off < headerLen) {
    markShort(rec, Layer.Geneve, off, off + headerLen, 'geneve_options_too_short');
    return;
  }
  const innerOff = off + headerLen;
  if (protocol === ETHERTYPE_TRANSPARENT_ETHERNET) {
    if (!enterTunnel(rec, TunnelType.Geneve, u24be(b, off + 4), Layer.Geneve, off)) return;
    clearLink(rec);
    decodeEthernet(b, innerOff, end, rec);
  } else if (ETHER_TYPE_TABLE[protocol] !== EtherTypeCode.Unknown) {
    if (!enterTunnel(rec, TunnelType.Geneve, u24be(b, off + 4), Layer.Geneve, off)) return;
    decodeEtherTypePayload(protocol, b, innerOff, end, rec);
  } else {
    rec.pushLayer(Layer.Other);
  }
}
