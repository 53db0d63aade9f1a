// Dense dispatch tables shared by several layers (docs/architecture.md "Decoding"); the one place a tunnel
// decoder (VXLAN, Geneve, GRE, IP-in-IP) enters its inner packet (enterTunnel); and
// the truncated-or-malformed rule every decoder applies when bytes run out
// (cutByCapture, markShort).
//
// ETHER_TYPE_TABLE maps an EtherType (Ethernet II, 802.1Q inner type, LINUX_SLL/SLL2
// protocol, GRE protocol type, Geneve protocol type, LLC/SNAP type) to a small code;
// the decoders switch on that code. Adding a network protocol = one decoder file, one
// entry here, one case in ethernet.ts `decodeEtherTypePayload`.

import { type Layer, type PacketRecord, type TunnelType } from './record.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_RARP = 0x8035; // RFC 903: ARP's format, operations 3 and 4
export const ETHERTYPE_TRANSPARENT_ETHERNET = 0x6558; // RFC 1701 "transparent Ethernet bridging"
export const ETHERTYPE_VLAN = 0x8100; // IEEE 802.1Q C-tag
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_QINQ = 0x88a8; // IEEE 802.1ad S-tag
export const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard QinQ
/** Values up to this are an IEEE 802.3 length, not a type. */
export const ETHERNET_MAX_LENGTH = 1500;

export const enum EtherTypeCode {
  Unknown = 0,
  Ipv4 = 1,
  Ipv6 = 2,
  Arp = 3,
  Vlan = 4,
}

export const ETHER_TYPE_TABLE: Uint8Array = new Uint8Array(65536);
ETHER_TYPE_TABLE[ETHERTYPE_IPV4] = EtherTypeCode.Ipv4;
ETHER_TYPE_TABLE[ETHERTYPE_IPV6] = EtherTypeCode.Ipv6;
ETHER_TYPE_TABLE[ETHERTYPE_ARP] = EtherTypeCode.Arp;
ETHER_TYPE_TABLE[ETHERTYPE_RARP] = EtherTypeCode.Arp;
ETHER_TYPE_TABLE[ETHERTYPE_VLAN] = EtherTypeCode.Vlan;
ETHER_TYPE_TABLE[ETHERTYPE_QINQ] = EtherTypeCode.Vlan;
ETHER_TYPE_TABLE[ETHERTYPE_QINQ_OLD] = EtherTypeCode.Vlan;
// ETHERTYPE_TRANSPARENT_ETHERNET is deliberately absent: only a tunnel (GRE, Geneve)
// can say "an Ethernet frame follows", and those check for it themselves.

/** Deepest tunnel nesting followed (VXLAN in Geneve in GRE ...); deeper → `tunnel_too_deep`. */
export const MAX_TUNNEL_DEPTH = 8;

/**
 * Called by a tunnel decoder once its own header parsed, before it decodes the inner
 * packet. The first (outermost) tunnel fills rec.tunnel* from the outer IP/UDP fields
 * still in the record; every tunnel counts in tunnelDepth; then the outer L3/L4/app
 * fields are cleared so the inner packet's fields become the top-level ones (docs/json-lines.md `packet`).
 * Returns false, with `tunnel_too_deep` marked on `layer` at `off`, when nesting goes
 * beyond MAX_TUNNEL_DEPTH; the caller then stops.
 */
export function enterTunnel(
  rec: PacketRecord,
  type: TunnelType,
  vni: number,
  layer: Layer,
  off: number,
): boolean {
  if (rec.tunnelDepth >= MAX_TUNNEL_DEPTH) {
    rec.markMalformed(layer, 'tunnel_too_deep', off);
    return false;
  }
  if (rec.tunnelDepth === 0) {
    rec.tunnelType = type;
    rec.tunnelVni = vni;
    rec.tunnelOuterIpVersion = rec.ipVersion;
    rec.tunnelOuterSrcOff = rec.srcAddrOff;
    rec.tunnelOuterDstOff = rec.dstAddrOff;
    // -1 for GRE and IP-in-IP, whose outer packet has no UDP header
    rec.tunnelOuterSrcPort = rec.srcPort;
    rec.tunnelOuterDstPort = rec.dstPort;
  }
  rec.tunnelDepth++;
  rec.clearInner();
  return true;
}

/** For a tunnel whose payload is an Ethernet frame: forget the outer L2 too (the inner frame's own MACs and VLAN tags are the innermost view). */
export function clearLink(rec: PacketRecord): void {
  rec.ethDstOff = -1;
  rec.ethSrcOff = -1;
  rec.etherType = 0;
  rec.vlanCount = 0;
}

/**
 * True when bytes up to `needEnd` are missing because the capture stopped early
 * (snaplen: fewer bytes captured than were on the wire), not because the packet
 * itself is short. A decoder then marks truncation instead of malformation.
 */
export function cutByCapture(rec: PacketRecord, needEnd: number): boolean {
  return needEnd > rec.end && rec.end - rec.start < rec.wireLen;
}

/**
 * A header needs bytes up to `needEnd` but the layer's data stops before: when the
 * capture stopped first (snaplen) that is truncation, otherwise the packet itself is
 * too short for what it declares (`reason`, a stable `<layer>_...` name).
 */
export function markShort(
  rec: PacketRecord,
  layer: Layer,
  off: number,
  needEnd: number,
  reason: string,
): void {
  if (cutByCapture(rec, needEnd)) rec.markTruncated(layer, off);
  else rec.markMalformed(layer, reason, off);
}

/** How each IPv6 extension header states its length (shared by ipv6.ts and quoted-ip.ts). */
export const enum ExtKind {
  None = 0,
  /** RFC 8200 §4.2 form: length in 8-octet units after the first 8 */
  Generic = 1,
  Fragment = 2,
  /** RFC 4302: length in 4-octet units minus 2 */
  Auth = 3,
}

export const EXT_HEADER_TABLE = new Uint8Array(256);
EXT_HEADER_TABLE[0] = ExtKind.Generic; // hop-by-hop options
EXT_HEADER_TABLE[43] = ExtKind.Generic; // routing
EXT_HEADER_TABLE[44] = ExtKind.Fragment;
EXT_HEADER_TABLE[51] = ExtKind.Auth;
EXT_HEADER_TABLE[60] = ExtKind.Generic; // destination options
EXT_HEADER_TABLE[135] = ExtKind.Generic; // mobility
EXT_HEADER_TABLE[139] = ExtKind.Generic; // HIP
EXT_HEADER_TABLE[140] = ExtKind.Generic; // shim6
