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

/** `"a.b.c.d"` from its four numbers. */
function writeDottedQuad(w: JsonBytes, a: number, b: number, c: number, d: number): void {
  w.byte(0x22);
  w.num(a);
  w.byte(0x2e);
  w.num(b);
  w.byte(0x2e);
  w.num(c);
  w.byte(0x2e);
  w.num(d);
  w.byte(0x22);
}

/** An address as format.ts's formatIp writes it, null when `off` < 0. */
function writeIp(w: JsonBytes, b: Uint8Array, off: number, version: number): void {
  if (off < 0) w.ascii('null');
  else if (version === 4) writeDottedQuad(w, b[off], b[off + 1], b[off + 2], b[off + 3]);
  else if (version === 6) w.str(formatIpv6(b, off));
  else w.ascii('""');
}

/** `"a.b.c.d"` from an address held as an unsigned 32-bit number; null when < 0. */
function writeIpv4Number(w: JsonBytes, n: number): void {
  if (n < 0) w.ascii('null');
  else writeDottedQuad(w, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
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
  w.key('{"type":"packet","n":').num(n);
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
  w.key(',"iface":').str(iface);
  w.key(',"ts":').timestamp(tsSec, tsNsec);
  w.key(',"len":').num(len);
  w.key(',"caplen":').num(caplen);
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
  w.key(',"proto":').strOrNull(protoName(rec));
  writeNullable(w.key(',"ipId":'), rec.ipId);
  writeNullable(w.key(',"ttl":'), rec.ttl);
  writeNullable(w.key(',"sport":'), rec.srcPort);
  writeNullable(w.key(',"dport":'), rec.dstPort);

  w.ascii(',"icmp":');
  if (rec.icmpType >= 0) {
    const isEcho = rec.icmpId >= 0;
    w.key('{"type":').num(rec.icmpType);
    w.key(',"code":').num(rec.icmpCode);
    w.ascii(',"id":');
    if (isEcho) w.num(rec.icmpId);
    else w.ascii('null');
    w.ascii(',"seq":');
    if (isEcho) w.num(rec.icmpSeq);
    else w.ascii('null');
    if (rec.icmpMtu >= 0) w.key(',"mtu":').num(rec.icmpMtu);
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"tcp":');
  if (rec.ipProto === 6 && rec.l4Off >= 0 && rec.tcpHeaderLen > 0) {
    w.key('{"flags":').str(tcpFlagLetters(rec.tcpFlags));
    w.key(',"seq":').num(rec.tcpSeq);
    w.key(',"ack":').num(rec.tcpAck);
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"tunnel":');
  if (rec.tunnelType !== TunnelType.None) {
    w.key('{"type":').str(TUNNEL_NAMES[rec.tunnelType]);
    writeNullable(w.key(',"vni":'), rec.tunnelVni);
    writeIp(w.key(',"outerSrc":'), b, rec.tunnelOuterSrcOff, rec.tunnelOuterIpVersion);
    writeIp(w.key(',"outerDst":'), b, rec.tunnelOuterDstOff, rec.tunnelOuterIpVersion);
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"dns":');
  if (rec.dnsId >= 0) {
    w.key('{"id":').num(rec.dnsId);
    w.key(',"qr":').bool(rec.dnsQr);
    w.key(',"rcode":').num(rec.dnsRcode);
    w.key(',"qname":').strOrNull(
      rec.dnsQnameOff < 0 ? null : readDnsName(b, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff),
    );
    w.key(',"qtype":').strOrNull(rec.dnsQtype < 0 ? null : dnsTypeName(rec.dnsQtype));
    w.ascii(',"answers":[');
    for (let i = 0; i < rec.dnsAnswerCount; i++) {
      if (i > 0) w.byte(0x2c);
      w.str(dnsAnswerText(rec, i));
    }
    w.ascii(']}');
  } else w.ascii('null');

  w.ascii(',"dhcp":');
  if (rec.dhcpOp >= 0) {
    w.key('{"op":').num(rec.dhcpOp);
    w.key(',"xid":').num(rec.dhcpXid);
    w.key(',"chaddr":').strOrNull(
      rec.dhcpChaddrOff >= 0 && rec.dhcpHlen === 6 ? formatMac(b, rec.dhcpChaddrOff) : null,
    );
    w.key(',"msgType":').strOrNull(rec.dhcpMsgType < 0 ? null : dhcpMessageTypeName(rec.dhcpMsgType));
    writeIpv4Number(w.key(',"yiaddr":'), rec.dhcpYiaddr);
    writeIpv4Number(w.key(',"serverId":'), rec.dhcpServerId);
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"arp":');
  if (arp) {
    w.key('{"op":').num(rec.arpOp);
    writeIp(w.key(',"spa":'), b, rec.arpSpaOff, 4);
    writeIp(w.key(',"tpa":'), b, rec.arpTpaOff, 4);
    w.key(',"sha":').strOrNull(rec.arpShaOff < 0 ? null : formatMac(b, rec.arpShaOff));
    w.key(',"tha":').strOrNull(rec.arpThaOff < 0 ? null : formatMac(b, rec.arpThaOff));
    w.byte(0x7d);
  } else w.ascii('null');

  w.ascii(',"vlan":[');
  for (let i = 0; i < rec.vlanCount; i++) {
    if (i > 0) w.byte(0x2c);
    w.num(rec.vlanIds[i]);
  }
  w.key('],"truncated":').bool(rec.truncated || caplen < len);

  w.ascii(',"malformed":');
  const onlyTruncated =
    rec.truncated &&
    rec.malformedLayer !== Layer.None &&
    rec.malformedReason === TRUNCATED_REASONS[rec.malformedLayer];
  if (rec.malformedLayer !== Layer.None && !onlyTruncated) {
    w.key('{"layer":').str(LAYER_NAMES[rec.malformedLayer]);
    w.key(',"reason":').str(rec.malformedReason);
    w.key(',"offset":').num(rec.malformedOff - rec.start);
    w.byte(0x7d);
  } else w.ascii('null');

  if (rec.quotedIpVersion !== 0) {
    writeIp(w.key(',"quoted":{"src":'), b, rec.quotedSrcAddrOff, rec.quotedIpVersion);
    writeIp(w.key(',"dst":'), b, rec.quotedDstAddrOff, rec.quotedIpVersion);
    w.key(',"proto":').num(rec.quotedIpProto);
    writeNullable(w.key(',"sport":'), rec.quotedSrcPort);
    writeNullable(w.key(',"dport":'), rec.quotedDstPort);
    w.byte(0x7d);
  }
  if (rec.fragOffset > 0 || rec.moreFragments) {
    w.key(',"fragment":{"offset":').num(rec.fragOffset);
    w.key(',"more":').bool(rec.moreFragments);
    w.key(',"later":').bool(rec.laterFragment);
    w.byte(0x7d);
  }
  w.byte(0x7d);
}
