// The missing packet's identifying fields: built from the decoder's view of a
// sighting, and compared with what the kernel reported of a dropped packet.
//
// A drop is the exchange's packet when the fields forwarding and NAT leave alone
// agree (docs/verdicts.md "The same packet on several interfaces"): the IP id and protocol, ICMP type and sequence, and the echo
// id or else both addresses (NAT may rewrite the id), TCP sequence number, the IP length for UDP (NAT rewrites
// ports); and at least one address is one the packet had somewhere on its path.
import type { PacketView } from '../events/types.js';
import type { ExchangePacket } from './context.js';

const PROTO_NUMBER: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };
const ETHERNET_HEADER = 14;
const VLAN_TAG = 4;
/** outer IPv4 (20) + UDP (8) + VXLAN/Geneve (8) + inner Ethernet (14): what VXLAN adds to an IP packet */
export const VXLAN_OVERHEAD = 50;
const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  F: 0x01,
  S: 0x02,
  R: 0x04,
  P: 0x08,
  '.': 0x10,
  U: 0x20,
  E: 0x40,
  W: 0x80,
};

/**
 * The identifying fields of one decoded packet (`--packets` record; `dontFragment`, IPv4's
 * DF bit, is not in it); null when it has no IP or ARP layer. `ipOffset`: the bytes
 * before its innermost IP header, where the decoder told (SightedPacket.ipOffset);
 * without it, an Ethernet frame's.
 */
export function packetFromView(view: PacketView, dontFragment = false, ipOffset = -1): ExchangePacket | null {
  const frameToIp =
    ipOffset >= 0
      ? ipOffset
      : ETHERNET_HEADER + VLAN_TAG * view.vlan.length + (view.tunnel !== null ? VXLAN_OVERHEAD : 0);
  if (view.arp !== null) {
    if (view.arp.spa === null || view.arp.tpa === null) return null;
    return {
      ...emptyExchangePacket(),
      family: 'arp',
      src: view.arp.spa,
      dst: view.arp.tpa,
      proto: 0,
      ipLength: 28,
      icmpType: view.arp.op,
    };
  }
  if (view.src === null || view.dst === null || view.proto === null) return null;
  const v6 = view.src.includes(':');
  const proto =
    PROTO_NUMBER[view.proto] ??
    (/^ip-(\d+)$/.exec(view.proto)?.[1] !== undefined ? Number(view.proto.slice(3)) : -1);
  if (proto < 0) return null;
  let flags = 0;
  for (const ch of view.tcp?.flags ?? '') flags |= TCP_FLAG_BITS[ch] ?? 0;
  return {
    ...emptyExchangePacket(),
    family: v6 ? 6 : 4,
    src: view.src,
    dst: view.dst,
    proto,
    ipId: v6 ? null : view.ipId,
    ipLength: Math.max(0, view.len - frameToIp),
    sport: view.sport,
    dport: view.dport,
    icmpType: view.icmp?.type ?? null,
    icmpId: view.icmp?.id ?? null,
    icmpSeq: view.icmp?.seq ?? null,
    tcpSeq: view.tcp?.seq ?? null,
    tcpFlags: view.tcp !== null ? flags : null,
    dontFragment: !v6 && dontFragment,
    ttl: view.ttl,
  };
}

/** A packet with no field known (what packetFromView fills in). */
export function emptyExchangePacket(): ExchangePacket {
  return {
    family: 4,
    src: '',
    dst: '',
    proto: 0,
    ipId: null,
    ipLength: 0,
    sport: null,
    dport: null,
    icmpType: null,
    icmpId: null,
    icmpSeq: null,
    tcpSeq: null,
    tcpFlags: null,
    dontFragment: false,
    ttl: null,
    aliases: [],
  };
}

/** What the kernel reported of a dropped packet (KernelDrop carries these). */
export interface DroppedPacketFields {
  family: 4 | 6 | 'arp' | null;
  src: string | null;
  dst: string | null;
  proto: number;
  ipId: number;
  ipLength: number;
  /** L4 fields were read */
  l4: boolean;
  sport: number;
  dport: number;
  icmpType: number;
  tcpSeq: number;
}

/** Whether a dropped packet is the exchange's packet (see the top of this file). */
export function isSamePacket(drop: DroppedPacketFields, packet: ExchangePacket): boolean {
  if (drop.family !== packet.family) return false;
  const addresses = new Set([packet.src, packet.dst, ...packet.aliases]);
  if (drop.family === 'arp') {
    return drop.src === packet.src && drop.dst === packet.dst && drop.icmpType === packet.icmpType;
  }
  if (!(drop.src !== null && addresses.has(drop.src)) && !(drop.dst !== null && addresses.has(drop.dst)))
    return false;
  if (drop.proto !== packet.proto) return false;
  if (packet.family === 4 && packet.ipId !== null && drop.ipId !== packet.ipId) return false;
  if (!drop.l4) return packet.family === 4 && packet.ipId !== null;
  switch (packet.proto) {
    case 1:
    case 58:
      // a sequence number is small and every ping has one: another ping's packet to one of
      // the addresses can share it, so the echo id must agree too, or else both addresses
      return (
        drop.icmpType === packet.icmpType &&
        (packet.icmpSeq === null || drop.dport === packet.icmpSeq) &&
        (drop.sport === packet.icmpId ||
          (drop.src !== null && drop.dst !== null && addresses.has(drop.src) && addresses.has(drop.dst)))
      );
    case 6:
      // an answer that never came has no known sequence number: its ports then
      return packet.tcpSeq !== null
        ? drop.tcpSeq === packet.tcpSeq
        : drop.sport === packet.sport && drop.dport === packet.dport;
    case 17:
      return packet.ipLength > 0
        ? drop.ipLength === packet.ipLength
        : drop.sport === packet.sport && drop.dport === packet.dport;
    default:
      return packet.ipId !== null;
  }
}
