// The `packet` record (docs/json-lines.md) as a JSON line, written from the flat record
// straight into the output's bytes (shared/json-bytes.ts) for `--packets --json`: the
// same bytes as JSON.stringify(describePacket(...)) (packet-view.ts), without making
// the view object, its strings, or the generic walk over them — on a million packets
// those cost several times the decoding. test/shared/record-json.test.ts compares the
// two on every packet of the shipped captures and the corpus. packet-view.ts says what
// each field means; a field added there is added here (PACKET_FIELDS fails to compile
// until it is listed).
import type { PacketView } from '../events/types.js';
import type { JsonBytes } from '../shared/json-bytes.js';
import { dhcpMessageTypeName } from './dhcp.js';
import { dnsTypeName, readDnsName } from './dns.js';
import { formatIpv6, formatMac } from './format.js';
import { dnsAnswerText, protoName, tcpFlagLetters } from './packet-view.js';
import {
  LAYER_NAMES,
  Layer,
  type PacketRecord,
  TRUNCATED_REASONS,
  TUNNEL_NAMES,
  TunnelType,
} from './record.js';

const PACKET_FIELDS = {
  type: 1,
  n: 1,
  iface: 1,
  ts: 1,
  len: 1,
  caplen: 1,
  layers: 1,
  src: 1,
  dst: 1,
  proto: 1,
  ipId: 1,
  ttl: 1,
  sport: 1,
  dport: 1,
  icmp: 1,
  tcp: 1,
  tunnel: 1,
  dns: 1,
  dhcp: 1,
  arp: 1,
  vlan: 1,
  truncated: 1,
  malformed: 1,
  quoted: 1,
  fragment: 1,
} as const satisfies Record<keyof PacketView, 1>;
void PACKET_FIELDS;

/** `"a.b.c.d"` from 4 bytes. */
function writeIpv4(w: JsonBytes, b: Uint8Array, off: number): void {
  w.byte(0x22);
  w.num(b[off]);
  w.byte(0x2e);
  w.num(b[off + 1]);
  w.byte(0x2e);
  w.num(b[off + 2]);
  w.byte(0x2e);
  w.num(b[off + 3]);
  w.byte(0x22);
}

/** An address as format.ts's formatIp writes it, null when `off` < 0. */
function writeIp(w: JsonBytes, b: Uint8Array, off: number, version: number): void {
  if (off < 0) w.ascii('null');
  else if (version === 4) writeIpv4(w, b, off);
  else if (version === 6) w.str(formatIpv6(b, off));
  else w.ascii('""');
}

/** `"a.b.c.d"` from an address held as an unsigned 32-bit number; null when < 0. */
function writeIpv4Number(w: JsonBytes, n: number): void {
  if (n < 0) {
    w.ascii('null');
    return;
  }
  w.byte(0x22);
  w.num((n >>> 24) & 0xff);
  w.byte(0x2e);
  w.num((n >>> 16) & 0xff);
  w.byte(0x2e);
  w.num((n >>> 8) & 0xff);
  w.byte(0x2e);
  w.num(n & 0xff);
  w.byte(0x22);
}

/** A field of the record that is null when negative. */
function writeNullable(w: JsonBytes, n: number): void {
  if (n < 0) w.ascii('null');
  else w.num(n);
}

/** Writes JSON.stringify(describePacket(rec, n, iface, ts, caplen, len)), ts from (tsSec, tsNsec). */
export function writePacketJson(
  w: JsonBytes,
  rec: PacketRecord,
  n: number,
  iface: string,
  tsSec: number,
  tsNsec: number,
  caplen: number,
  len: number,
): void {
  writePacketHead(w, n);
  writePacketFields(w, rec, iface, tsSec, tsNsec, caplen, len);
}

/** The record's start, up to its number: what writePacketFields continues. */
export function writePacketHead(w: JsonBytes, n: number): void {
  w.ascii('{"type":"packet","n":');
  w.num(n);
}

/**
 * The record after its number, to its end (a live capture writes it when the packet
 * comes, and its number once the packet's turn in time order has come).
 */
export function writePacketFields(
  w: JsonBytes,
  rec: PacketRecord,
  iface: string,
  tsSec: number,
  tsNsec: number,
  caplen: number,
  len: number,
): void {
  const b = rec.bytes;
  w.ascii(',"iface":');
  w.str(iface);
  w.ascii(',"ts":');
  w.timestamp(tsSec, tsNsec);
  w.ascii(',"len":');
  w.num(len);
  w.ascii(',"caplen":');
  w.num(caplen);
  w.ascii(',"layers":[');
  for (let i = 0; i < rec.layerCount; i++) {
    if (i > 0) w.byte(0x2c);
    w.str(LAYER_NAMES[rec.layers[i]]);
  }
  w.ascii('],"src":');
  const arp = rec.arpOp >= 0;
  if (arp) writeIp(w, b, rec.arpSpaOff, 4);
  else writeIp(w, b, rec.srcAddrOff, rec.ipVersion);
  w.ascii(',"dst":');
  if (arp) writeIp(w, b, rec.arpTpaOff, 4);
  else writeIp(w, b, rec.dstAddrOff, rec.ipVersion);
  w.ascii(',"proto":');
  w.strOrNull(protoName(rec));
  w.ascii(',"ipId":');
  writeNullable(w, rec.ipId);
  w.ascii(',"ttl":');
  writeNullable(w, rec.ttl);
  w.ascii(',"sport":');
  writeNullable(w, rec.srcPort);
  w.ascii(',"dport":');
  writeNullable(w, rec.dstPort);

  w.ascii(',"icmp":');
  if (rec.icmpType >= 0) {
    const isEcho = rec.icmpId >= 0;
    w.ascii('{"type":');
    w.num(rec.icmpType);
    w.ascii(',"code":');
    w.num(rec.icmpCode);
    w.ascii(',"id":');
    if (isEcho) w.num(rec.icmpId);
    else w.ascii('null');
    w.ascii(',"seq":');
    if (isEcho) w.num(rec.icmpSeq);
    else w.ascii('null');
    if (rec.icmpMtu >= 0) {
      w.ascii(',"mtu":');
      w.num(rec.icmpMtu);
    }
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"tcp":');
  if (rec.ipProto === 6 && rec.l4Off >= 0 && rec.tcpHeaderLen > 0) {
    w.ascii('{"flags":');
    w.str(tcpFlagLetters(rec.tcpFlags));
    w.ascii(',"seq":');
    w.num(rec.tcpSeq);
    w.ascii(',"ack":');
    w.num(rec.tcpAck);
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"tunnel":');
  if (rec.tunnelType !== TunnelType.None) {
    w.ascii('{"type":');
    w.str(TUNNEL_NAMES[rec.tunnelType]);
    w.ascii(',"vni":');
    writeNullable(w, rec.tunnelVni);
    w.ascii(',"outerSrc":');
    writeIp(w, b, rec.tunnelOuterSrcOff, rec.tunnelOuterIpVersion);
    w.ascii(',"outerDst":');
    writeIp(w, b, rec.tunnelOuterDstOff, rec.tunnelOuterIpVersion);
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"dns":');
  if (rec.dnsId >= 0) {
    w.ascii('{"id":');
    w.num(rec.dnsId);
    w.ascii(',"qr":');
    w.bool(rec.dnsQr);
    w.ascii(',"rcode":');
    w.num(rec.dnsRcode);
    w.ascii(',"qname":');
    w.strOrNull(rec.dnsQnameOff < 0 ? null : readDnsName(b, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff));
    w.ascii(',"qtype":');
    w.strOrNull(rec.dnsQtype < 0 ? null : dnsTypeName(rec.dnsQtype));
    w.ascii(',"answers":[');
    for (let i = 0; i < rec.dnsAnswerCount; i++) {
      if (i > 0) w.byte(0x2c);
      w.str(dnsAnswerText(rec, i));
    }
    w.ascii(']}');
  } else w.ascii('null');

  w.ascii(',"dhcp":');
  if (rec.dhcpOp >= 0) {
    w.ascii('{"op":');
    w.num(rec.dhcpOp);
    w.ascii(',"xid":');
    w.num(rec.dhcpXid);
    w.ascii(',"chaddr":');
    w.strOrNull(rec.dhcpChaddrOff >= 0 && rec.dhcpHlen === 6 ? formatMac(b, rec.dhcpChaddrOff) : null);
    w.ascii(',"msgType":');
    w.strOrNull(rec.dhcpMsgType < 0 ? null : dhcpMessageTypeName(rec.dhcpMsgType));
    w.ascii(',"yiaddr":');
    writeIpv4Number(w, rec.dhcpYiaddr);
    w.ascii(',"serverId":');
    writeIpv4Number(w, rec.dhcpServerId);
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"arp":');
  if (arp) {
    w.ascii('{"op":');
    w.num(rec.arpOp);
    w.ascii(',"spa":');
    writeIp(w, b, rec.arpSpaOff, 4);
    w.ascii(',"tpa":');
    writeIp(w, b, rec.arpTpaOff, 4);
    w.ascii(',"sha":');
    w.strOrNull(rec.arpShaOff < 0 ? null : formatMac(b, rec.arpShaOff));
    w.ascii(',"tha":');
    w.strOrNull(rec.arpThaOff < 0 ? null : formatMac(b, rec.arpThaOff));
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"vlan":[');
  for (let i = 0; i < rec.vlanCount; i++) {
    if (i > 0) w.byte(0x2c);
    w.num(rec.vlanIds[i]);
  }
  w.ascii('],"truncated":');
  w.bool(rec.truncated || caplen < len);

  w.ascii(',"malformed":');
  const onlyTruncated =
    rec.truncated &&
    rec.malformedLayer !== Layer.None &&
    rec.malformedReason === TRUNCATED_REASONS[rec.malformedLayer];
  if (rec.malformedLayer !== Layer.None && !onlyTruncated) {
    w.ascii('{"layer":');
    w.str(LAYER_NAMES[rec.malformedLayer]);
    w.ascii(',"reason":');
    w.str(rec.malformedReason);
    w.ascii(',"offset":');
    w.num(rec.malformedOff - rec.start);
    w.byte(0x7d);
  } else w.ascii('null');

  if (rec.quotedIpVersion !== 0) {
    w.ascii(',"quoted":{"src":');
    writeIp(w, b, rec.quotedSrcAddrOff, rec.quotedIpVersion);
    w.ascii(',"dst":');
    writeIp(w, b, rec.quotedDstAddrOff, rec.quotedIpVersion);
    w.ascii(',"proto":');
    w.num(rec.quotedIpProto);
    w.ascii(',"sport":');
    writeNullable(w, rec.quotedSrcPort);
    w.ascii(',"dport":');
    writeNullable(w, rec.quotedDstPort);
    w.byte(0x7d);
  }
  if (rec.fragOffset > 0 || rec.moreFragments) {
    w.ascii(',"fragment":{"offset":');
    w.num(rec.fragOffset);
    w.ascii(',"more":');
    w.bool(rec.moreFragments);
    w.ascii(',"later":');
    w.bool(rec.laterFragment);
    w.byte(0x7d);
  }
  w.byte(0x7d);
}
