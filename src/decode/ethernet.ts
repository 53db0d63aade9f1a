// Ethernet II / IEEE 802.3 frames and IEEE 802.1Q / 802.1ad VLAN tags.
//
// Ethernet II (DIX; IEEE 802.3-2018 §3.2.6: a type/length field ≥ 0x0600 is a type):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    destination MAC (6 bytes)                  |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// |                      source MAC (6 bytes)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |    EtherType or length        |   payload ...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// VLAN tag (IEEE 802.1Q-2018 §9.6), repeated for stacked tags (802.1ad QinQ), sits
// where the EtherType was; its TPID is that EtherType (0x8100 C-tag, 0x88a8 S-tag,
// 0x9100 pre-standard):
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | PCP |D|        VLAN id        |   next EtherType or length    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A field ≤ 1500 is an IEEE 802.3 length; the payload is IEEE 802.2 LLC, and with
// DSAP=SSAP=0xAA, control 0x03 (SNAP, RFC 1042) an OUI and an EtherType follow:
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  DSAP 0xAA    |  SSAP 0xAA    | control 0x03  |  OUI ...      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   ... OUI (000000 or 0000f8)  |          EtherType            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Other LLC payloads (STP, CDP, ...) are recorded as an `other` layer.

import { decodeArp } from './arp.js';
import { u16be } from './bytes.js';
import { ETHER_TYPE_TABLE, ETHERNET_MAX_LENGTH, EtherTypeCode, markShort } from './dispatch.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { Layer, MAX_VLANS, type PacketRecord } from './record.js';

export const ETHERNET_HEADER_LEN = 14;
const VLAN_TAG_LEN = 4;
const LLC_SNAP_LEN = 8;

/** Ethernet II or 802.3 frame at `off`; `end` is one past its last present byte. */
export function decodeEthernet(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  rec.pushLayer(Layer.Eth);
  if (end - off < ETHERNET_HEADER_LEN) {
    markShort(rec, Layer.Eth, off, off + ETHERNET_HEADER_LEN, 'eth_too_short');
    return;
  }
  rec.ethDstOff = off;
  rec.ethSrcOff = off + 6;
  const typeOrLength = u16be(b, off + 12);
  const payloadOff = off + ETHERNET_HEADER_LEN;
  if (typeOrLength <= ETHERNET_MAX_LENGTH) {
    // 802.3: the length bounds the LLC data; what follows it is padding
    const llcEnd = payloadOff + typeOrLength < end ? payloadOff + typeOrLength : end;
    decodeLlc(b, payloadOff, llcEnd, rec);
    return;
  }
  decodeEtherTypePayload(typeOrLength, b, payloadOff, end, rec);
}

/**
 * What follows an EtherType `type` at `off`: VLAN tags (at most MAX_VLANS in all,
 * `vlan_too_many` beyond), then IPv4, IPv6, ARP or LLC; anything else is an `other`
 * layer. Shared by Ethernet, LINUX_SLL/SLL2 and LLC/SNAP.
 */
export function decodeEtherTypePayload(
  type: number,
  b: Uint8Array,
  off: number,
  end: number,
  rec: PacketRecord,
): void {
  let etherType = type;
  let o = off;
  let code = ETHER_TYPE_TABLE[etherType];
  while (code === EtherTypeCode.Vlan) {
    rec.pushLayer(Layer.Vlan);
    if (rec.vlanCount >= MAX_VLANS) {
      rec.markMalformed(Layer.Vlan, 'vlan_too_many', o);
      return;
    }
    if (end - o < VLAN_TAG_LEN) {
      markShort(rec, Layer.Vlan, o, o + VLAN_TAG_LEN, 'vlan_too_short');
      return;
    }
    rec.vlanIds[rec.vlanCount++] = u16be(b, o) & 0x0fff;
    etherType = u16be(b, o + 2);
    o += VLAN_TAG_LEN;
    code = ETHER_TYPE_TABLE[etherType];
  }
  switch (code) {
    case EtherTypeCode.Ipv4:
      rec.etherType = etherType;
      decodeIpv4(b, o, end, rec);
      return;
    case EtherTypeCode.Ipv6:
      rec.etherType = etherType;
      decodeIpv6(b, o, end, rec);
      return;
    case EtherTypeCode.Arp:
      rec.etherType = etherType;
      decodeArp(b, o, end, rec);
      return;
    default:
      if (etherType <= ETHERNET_MAX_LENGTH && o > off) {
        // 802.3 length after VLAN tags
        decodeLlc(b, o, o + etherType < end ? o + etherType : end, rec);
        return;
      }
      rec.etherType = etherType;
      rec.pushLayer(Layer.Other);
  }
}

/** IEEE 802.2 LLC at `off`: SNAP with an EtherType is followed, anything else is `other`. */
export function decodeLlc(b: Uint8Array, off: number, end: number, rec: PacketRecord): void {
  if (
    end - off >= LLC_SNAP_LEN &&
    b[off] === 0xaa &&
    b[off + 1] === 0xaa &&
    b[off + 2] === 0x03 &&
    b[off + 3] === 0 &&
    b[off + 4] === 0 &&
    (b[off + 5] === 0 || b[off + 5] === 0xf8)
  ) {
    const snapType = u16be(b, off + 6);
    // a SNAP "type" that is a length would recurse into LLC again: stop there
    if (snapType > ETHERNET_MAX_LENGTH) {
      decodeEtherTypePayload(snapType, b, off + LLC_SNAP_LEN, end, rec);
      return;
    }
  }
  rec.pushLayer(Layer.Other);
}
