// The drop tracer's record (native/drop_tracer.h "Record layout"), read in place.
//
//   offset size field                 offset size field
//   0      4    tsSec                 38     2    ipLen
//   4      4    tsNsec                40     16   src (IPv4: first 4; ARP: sender)
//   8      8    location              56     16   dst (ARP: target)
//   16     4    reason                72     2    sport / ICMP id
//   20     4    netns (inode)         74     2    dport / ICMP seq
//   24     4    ifindex               76     4    tcpSeq
//   28     4    skbLen                80     1    icmpType (ARP: opcode)
//   32     2    l3proto (EtherType)   81     1    icmpCode
//   34     1    ipProto               82     1    tcpFlags
//   35     1    flags                 84     4    outerLen
//   36     2    ipId
//
// Host byte order (little-endian on every platform hopscope runs on).
import type { DroppedPacketFields } from '../packet-fields.js';

export const DROP_RECORD_BYTES = 88;

export const DropField = {
  TsSec: 0,
  TsNsec: 4,
  Location: 8,
  Reason: 16,
  Netns: 20,
  Ifindex: 24,
  SkbLen: 28,
  L3proto: 32,
  IpProto: 34,
  Flags: 35,
  IpId: 36,
  IpLen: 38,
  Src: 40,
  Dst: 56,
  Sport: 72,
  Dport: 74,
  TcpSeq: 76,
  IcmpType: 80,
  IcmpCode: 81,
  TcpFlags: 82,
  OuterLen: 84,
} as const;

export const DropFlag = { Ipv6: 1, Inner: 2, L4: 4, Arp: 8 } as const;

/** One drop, decoded (only for drops that matched an exchange: not per record). */
export interface KernelDrop extends DroppedPacketFields {
  tsSec: number;
  tsNsec: number;
  /** kernel address, hex */
  location: string;
  reason: number;
  netns: number;
  ifindex: number;
  skbLen: number;
  /** the fields are those of the packet inside a VXLAN packet of outerLen bytes */
  inner: boolean;
  outerLen: number;
}

function ipv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Uint8Array, at: number): string {
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(((b[at + k] << 8) | b[at + k + 1]).toString(16));
  // the longest run of zero groups becomes `::` (RFC 5952)
  let best = -1;
  let bestLen = 1;
  for (let k = 0; k < 8;) {
    if (groups[k] !== '0') {
      k++;
      continue;
    }
    let end = k;
    while (end < 8 && groups[end] === '0') end++;
    if (end - k > bestLen) {
      best = k;
      bestLen = end - k;
    }
    k = end;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Reads the record at `at` of `bytes` (a DataView over the same bytes reads the wide fields). */
export function decodeDrop(bytes: Uint8Array, view: DataView, at: number): KernelDrop {
  const flags = bytes[at + DropField.Flags];
  const l3 = view.getUint16(at + DropField.L3proto, true);
  const arp = (flags & DropFlag.Arp) !== 0;
  const v6 = (flags & DropFlag.Ipv6) !== 0;
  const family = arp ? 'arp' : l3 === 0x0800 || (flags & DropFlag.Inner) !== 0 ? 4 : v6 ? 6 : null;
  const known =
    family !== null &&
    (arp || bytes[at + DropField.IpProto] !== 0 || view.getUint16(at + DropField.IpLen, true) !== 0);
  const lo = view.getUint32(at + DropField.Location, true);
  const hi = view.getUint32(at + DropField.Location + 4, true);
  return {
    tsSec: view.getUint32(at + DropField.TsSec, true),
    tsNsec: view.getUint32(at + DropField.TsNsec, true),
    location: hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0'),
    reason: view.getUint32(at + DropField.Reason, true),
    netns: view.getUint32(at + DropField.Netns, true),
    ifindex: view.getUint32(at + DropField.Ifindex, true),
    skbLen: view.getUint32(at + DropField.SkbLen, true),
    family,
    src: !known ? null : family === 6 ? ipv6(bytes, at + DropField.Src) : ipv4(bytes, at + DropField.Src),
    dst: !known ? null : family === 6 ? ipv6(bytes, at + DropField.Dst) : ipv4(bytes, at + DropField.Dst),
    proto: bytes[at + DropField.IpProto],
    ipId: view.getUint16(at + DropField.IpId, true),
    ipLength: view.getUint16(at + DropField.IpLen, true),
    l4: (flags & DropFlag.L4) !== 0,
    sport: view.getUint16(at + DropField.Sport, true),
    dport: view.getUint16(at + DropField.Dport, true),
    icmpType: bytes[at + DropField.IcmpType],
    tcpSeq: view.getUint32(at + DropField.TcpSeq, true),
    inner: (flags & DropFlag.Inner) !== 0,
    outerLen: view.getUint32(at + DropField.OuterLen, true),
  };
}
