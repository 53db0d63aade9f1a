// The decoder's view of one packet as a plain object (docs/json-lines.md `packet`),
// made from the flat record on demand — only for packets that are shown or printed
// (`--packets`), never on the hot path, so it may allocate.
import { type PacketView } from '../events/types.js';
import { dhcpMessageTypeName } from './dhcp.js';
import { dnsTypeName, readDnsName } from './dns.js';
import {
  formatDstAddr,
  formatIp,
  formatIpv4,
  formatIpv4Number,
  formatIpv6,
  formatMac,
  formatSrcAddr,
} from './format.js';
import {
  LAYER_NAMES,
  Layer,
  type PacketRecord,
  TRUNCATED_REASONS,
  TUNNEL_NAMES,
  TunnelType,
} from './record.js';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from './tcp.js';

const PROTO_NAMES: Record<number, string> = {
  1: 'icmp',
  2: 'igmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  58: 'icmpv6',
  132: 'sctp',
};

/** tcpdump's flag letters, in tcpdump's order (ACK is '.'). */
export function tcpFlagLetters(flags: number): string {
  let s = '';
  if (flags & TCP_SYN) s += 'S';
  if (flags & TCP_FIN) s += 'F';
  if (flags & TCP_PSH) s += 'P';
  if (flags & TCP_RST) s += 'R';
  if (flags & TCP_URG) s += 'U';
  if (flags & TCP_ECE) s += 'E';
  if (flags & TCP_CWR) s += 'W';
  if (flags & TCP_ACK) s += '.';
  return s === '' ? 'none' : s;
}

export function protoName(rec: PacketRecord): string | null {
  if (rec.arpOp >= 0) return 'arp';
  if (rec.ipProto < 0) return null;
  return PROTO_NAMES[rec.ipProto] ?? `ip-${rec.ipProto}`;
}

function nullable(n: number): number | null {
  return n < 0 ? null : n;
}

/** Text of one kept DNS answer: `A 198.51.100.10`, `CNAME web.lab`, `MX`… */
export function dnsAnswerText(rec: PacketRecord, i: number): string {
  const type = rec.dnsAnswerType[i];
  const name = dnsTypeName(type);
  const off = rec.dnsAnswerDataOff[i];
  const len = rec.dnsAnswerDataLen[i];
  const b = rec.bytes;
  if (off < 0 || off + len > rec.end) return name;
  if (type === 1 && len === 4) return `${name} ${formatIpv4(b, off)}`;
  if (type === 28 && len === 16) return `${name} ${formatIpv6(b, off)}`;
  if (type === 5 || type === 12 || type === 2) {
    const target = readDnsName(b, rec.dnsOff, rec.dnsEnd, off);
    return target === null ? name : `${name} ${target}`;
  }
  return name;
}

export function describePacket(
  rec: PacketRecord,
  n: number,
  iface: string,
  ts: string,
  caplen: number,
  len: number,
): PacketView {
  const layers: string[] = [];
  for (let i = 0; i < rec.layerCount; i++) layers.push(LAYER_NAMES[rec.layers[i]]);
  const vlan: number[] = [];
  for (let i = 0; i < rec.vlanCount; i++) vlan.push(rec.vlanIds[i]);
  const b = rec.bytes;

  const isEcho = rec.icmpId >= 0;
  const icmp =
    rec.icmpType >= 0
      ? {
          type: rec.icmpType,
          code: rec.icmpCode,
          id: isEcho ? rec.icmpId : null,
          seq: isEcho ? rec.icmpSeq : null,
          ...(rec.icmpMtu >= 0 ? { mtu: rec.icmpMtu } : {}),
        }
      : null;

  const tcp =
    rec.ipProto === 6 && rec.l4Off >= 0 && rec.tcpHeaderLen > 0
      ? { flags: tcpFlagLetters(rec.tcpFlags), seq: rec.tcpSeq, ack: rec.tcpAck }
      : null;

  const tunnel =
    rec.tunnelType !== TunnelType.None
      ? {
          type: TUNNEL_NAMES[rec.tunnelType] as 'vxlan' | 'geneve' | 'gre' | 'ipip',
          vni: nullable(rec.tunnelVni),
          outerSrc:
            rec.tunnelOuterSrcOff < 0 ? null : formatIp(b, rec.tunnelOuterSrcOff, rec.tunnelOuterIpVersion),
          outerDst:
            rec.tunnelOuterDstOff < 0 ? null : formatIp(b, rec.tunnelOuterDstOff, rec.tunnelOuterIpVersion),
        }
      : null;

  let dns: PacketView['dns'] = null;
  if (rec.dnsId >= 0) {
    const answers: string[] = [];
    for (let i = 0; i < rec.dnsAnswerCount; i++) answers.push(dnsAnswerText(rec, i));
    dns = {
      id: rec.dnsId,
      qr: rec.dnsQr,
      rcode: rec.dnsRcode,
      qname: rec.dnsQnameOff < 0 ? null : readDnsName(b, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff),
      qtype: rec.dnsQtype < 0 ? null : dnsTypeName(rec.dnsQtype),
      answers,
    };
  }

  const dhcp: PacketView['dhcp'] =
    rec.dhcpOp >= 0
      ? {
          op: rec.dhcpOp,
          xid: rec.dhcpXid,
          chaddr: rec.dhcpChaddrOff >= 0 && rec.dhcpHlen === 6 ? formatMac(b, rec.dhcpChaddrOff) : null,
          msgType: rec.dhcpMsgType < 0 ? null : dhcpMessageTypeName(rec.dhcpMsgType),
          yiaddr: rec.dhcpYiaddr < 0 ? null : formatIpv4Number(rec.dhcpYiaddr),
          serverId: rec.dhcpServerId < 0 ? null : formatIpv4Number(rec.dhcpServerId),
        }
      : null;

  const arp: PacketView['arp'] =
    rec.arpOp >= 0
      ? {
          op: rec.arpOp,
          spa: rec.arpSpaOff < 0 ? null : formatIpv4(b, rec.arpSpaOff),
          tpa: rec.arpTpaOff < 0 ? null : formatIpv4(b, rec.arpTpaOff),
          sha: rec.arpShaOff < 0 ? null : formatMac(b, rec.arpShaOff),
          tha: rec.arpThaOff < 0 ? null : formatMac(b, rec.arpThaOff),
        }
      : null;

  const onlyTruncated =
    rec.truncated &&
    rec.malformedLayer !== Layer.None &&
    rec.malformedReason === TRUNCATED_REASONS[rec.malformedLayer];
  const malformed =
    rec.malformedLayer !== Layer.None && !onlyTruncated
      ? {
          layer: LAYER_NAMES[rec.malformedLayer],
          reason: rec.malformedReason,
          offset: rec.malformedOff - rec.start,
        }
      : null;

  const view: PacketView = {
    type: 'packet',
    n,
    iface,
    ts,
    len,
    caplen,
    layers,
    src: rec.arpOp >= 0 && arp ? arp.spa : formatSrcAddr(rec),
    dst: rec.arpOp >= 0 && arp ? arp.tpa : formatDstAddr(rec),
    proto: protoName(rec),
    ipId: nullable(rec.ipId),
    ttl: nullable(rec.ttl),
    sport: nullable(rec.srcPort),
    dport: nullable(rec.dstPort),
    icmp,
    tcp,
    tunnel,
    dns,
    dhcp,
    arp,
    vlan,
    truncated: rec.truncated || caplen < len,
    malformed,
  };
  if (rec.quotedIpVersion !== 0) {
    view.quoted = {
      src: rec.quotedSrcAddrOff < 0 ? null : formatIp(b, rec.quotedSrcAddrOff, rec.quotedIpVersion),
      dst: rec.quotedDstAddrOff < 0 ? null : formatIp(b, rec.quotedDstAddrOff, rec.quotedIpVersion),
      proto: rec.quotedIpProto,
      sport: nullable(rec.quotedSrcPort),
      dport: nullable(rec.quotedDstPort),
    };
  }
  if (rec.fragOffset > 0 || rec.moreFragments) {
    view.fragment = { offset: rec.fragOffset, more: rec.moreFragments, later: rec.laterFragment };
  }
  return view;
}
