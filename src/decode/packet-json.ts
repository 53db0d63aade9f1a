// The `packet` record (docs/json-lines.md) as a JSON line, written from the flat record
// straight into the output's bytes (shared/json-bytes.ts) for `--packets --json`: the
// same bytes as JSON.stringify(describePacket(...)) (packet-view.ts), without making
// the view object, its strings, or the generic walk over them — on a million packets
// those cost several times the decoding. test/shared/record-json.test.ts compares the
// two on every packet of the shipped captures and the corpus. packet-view.ts says what
// each field means; a field added there is added here (PACKET_FIELDS fails to compile
// until it is listed).
import type { PacketView } from '../events/types.js';
import { type JsonBytes, literal } from '../shared/json-bytes.js';
import { dhcpMessageTypeName } from './dhcp.js';
import { copyPlainDnsName, DNS_MAX_NAME_LEN, dnsTypeName, readDnsName } from './dns.js';
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

// The line's constant pieces as bytes (json-bytes.ts literal): a field absent from most
// packets is one copy with its null (`,"tcp":null`).
const L = {
  head: literal('{"type":"packet","n":'),
  len: literal(',"len":'),
  caplen: literal(',"caplen":'),
  layers: literal(',"layers":['),
  src: literal('],"src":'),
  dst: literal(',"dst":'),
  proto: literal(',"proto":'),
  ipId: literal(',"ipId":'),
  ttl: literal(',"ttl":'),
  sport: literal(',"sport":'),
  dport: literal(',"dport":'),
  icmpType: literal(',"icmp":{"type":'),
  code: literal(',"code":'),
  id: literal(',"id":'),
  seq: literal(',"seq":'),
  mtu: literal(',"mtu":'),
  tcpFlags: literal(',"tcp":{"flags":'),
  ack: literal(',"ack":'),
  tunnelType: literal(',"tunnel":{"type":'),
  vni: literal(',"vni":'),
  outerSrc: literal(',"outerSrc":'),
  outerDst: literal(',"outerDst":'),
  dnsId: literal(',"dns":{"id":'),
  qr: literal(',"qr":'),
  rcode: literal(',"rcode":'),
  qname: literal(',"qname":'),
  qtype: literal(',"qtype":'),
  answers: literal(',"answers":['),
  dhcpOp: literal(',"dhcp":{"op":'),
  xid: literal(',"xid":'),
  chaddr: literal(',"chaddr":'),
  msgType: literal(',"msgType":'),
  yiaddr: literal(',"yiaddr":'),
  serverId: literal(',"serverId":'),
  arpOp: literal(',"arp":{"op":'),
  spa: literal(',"spa":'),
  tpa: literal(',"tpa":'),
  sha: literal(',"sha":'),
  tha: literal(',"tha":'),
  vlan: literal(',"vlan":['),
  truncatedTrue: literal('],"truncated":true'),
  truncatedFalse: literal('],"truncated":false'),
  malformedLayer: literal(',"malformed":{"layer":'),
  malformedNull: literal(',"malformed":null'),
  plainTail: literal(',"vlan":[],"truncated":false,"malformed":null'),
  reason: literal(',"reason":'),
  offset: literal(',"offset":'),
  quotedSrc: literal(',"quoted":{"src":'),
  fragment: literal(',"fragment":{"offset":'),
  more: literal(',"more":'),
  later: literal(',"later":'),
  null: literal('null'),
  true: literal('true'),
  false: literal('false'),
};
/** Each layer's name as a JSON string, and a comma before it. */
const LAYER_JSON = LAYER_NAMES.map((name) => literal(JSON.stringify(name)));
const LAYER_JSON_NEXT = LAYER_NAMES.map((name) => literal(`,${JSON.stringify(name)}`));

// Pieces that depend on a few values each, made the first time they are needed: a
// capture has a handful of interfaces, layer stacks and protocols, and copying their
// bytes costs less than writing their text again (json-bytes.ts str) a million times.
/** Pieces kept per cache before it starts again (a file of a million interfaces only refills it). */
const PIECES_KEPT = 1024;

/** `,"iface":"<label>","ts":` by label; the last label's checked first. */
const ifaceHeads = new Map<string, Uint8Array>();
let lastIface: string | null = null;
let lastIfaceHead = literal(',"iface":"","ts":');

function ifaceHead(iface: string): Uint8Array {
  if (iface === lastIface) return lastIfaceHead;
  let head = ifaceHeads.get(iface);
  if (head === undefined) {
    if (ifaceHeads.size >= PIECES_KEPT) ifaceHeads.clear();
    // a label may be any UTF-8 text: JSON.stringify escapes it, Buffer.from encodes it
    head = Buffer.from(`,"iface":${JSON.stringify(iface)},"ts":`, 'utf8');
    ifaceHeads.set(iface, head);
  }
  lastIface = iface;
  lastIfaceHead = head;
  return head;
}

/**
 * `,"layers":[…],"src":` by layer stack, in a tree by layer id: a stack's piece is found
 * in one step a layer, no text made or hashed. Stacks deeper than LAYERS_KEPT are written
 * layer by layer; past PIECES_KEPT stacks the tree starts again.
 */
interface LayerNode {
  piece: Uint8Array | undefined;
  readonly next: Array<LayerNode | undefined>;
}
const LAYERS_KEPT = 8;
const newLayerNode = (): LayerNode => ({
  piece: undefined,
  next: new Array<LayerNode | undefined>(LAYER_NAMES.length).fill(undefined),
});
let layerTree = newLayerNode();
let layerNodes = 0;

function writeLayers(w: JsonBytes, rec: PacketRecord): void {
  const n = rec.layerCount;
  if (n > LAYERS_KEPT) {
    w.lit(L.layers);
    for (let i = 0; i < n; i++) w.lit(i > 0 ? LAYER_JSON_NEXT[rec.layers[i]] : LAYER_JSON[rec.layers[i]]);
    w.lit(L.src);
    return;
  }
  let node = layerTree;
  for (let i = 0; i < n; i++) {
    const layer = rec.layers[i];
    let next = node.next[layer];
    if (next === undefined) {
      if (++layerNodes > PIECES_KEPT) {
        layerTree = newLayerNode();
        layerNodes = 0;
        writeLayers(w, rec);
        return;
      }
      next = newLayerNode();
      node.next[layer] = next;
    }
    node = next;
  }
  let piece = node.piece;
  if (piece === undefined) {
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(LAYER_NAMES[rec.layers[i]]);
    piece = literal(`,"layers":${JSON.stringify(names)},"src":`);
    node.piece = piece;
  }
  w.lit(piece);
}

/** `,"proto":"icmp"` and so on, by IP protocol number (a byte; arp and none apart). */
const protoPieces: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(256).fill(undefined);
const PROTO_ARP = literal(',"proto":"arp"');
const PROTO_NULL = literal(',"proto":null');

function writeProto(w: JsonBytes, rec: PacketRecord): void {
  if (rec.arpOp >= 0) w.lit(PROTO_ARP);
  else if (rec.ipProto < 0) w.lit(PROTO_NULL);
  else {
    let piece = protoPieces[rec.ipProto];
    if (piece === undefined) {
      piece = literal(`,"proto":${JSON.stringify(protoName(rec))}`);
      protoPieces[rec.ipProto] = piece;
    }
    w.lit(piece);
  }
}

/** An address as format.ts's formatIp writes it, null when `off` < 0. */
function writeIp(w: JsonBytes, b: Uint8Array, off: number, version: number): void {
  if (off < 0) w.lit(L.null);
  else if (version === 4) w.ipv4(b, off);
  else if (version === 6) w.str(formatIpv6(b, off));
  else w.ascii('""');
}

/** An address held as a number (DHCP's), as its 4 bytes for JsonBytes.ipv4. */
const ipv4Scratch = new Uint8Array(4);

/** `"a.b.c.d"` from an address held as an unsigned 32-bit number; null when < 0. */
function writeIpv4Number(w: JsonBytes, n: number): void {
  if (n < 0) {
    w.lit(L.null);
    return;
  }
  ipv4Scratch[0] = n >>> 24;
  ipv4Scratch[1] = n >>> 16;
  ipv4Scratch[2] = n >>> 8;
  ipv4Scratch[3] = n;
  w.ipv4(ipv4Scratch, 0);
}

/** A field of the record that is null when negative. */
function writeNullable(w: JsonBytes, n: number): void {
  if (n < 0) w.lit(L.null);
  else w.num(n);
}

function writeBool(w: JsonBytes, v: boolean): void {
  w.lit(v ? L.true : L.false);
}

/** A DNS name's text, when it is its bytes (copyPlainDnsName). */
const nameText = new Uint8Array(DNS_MAX_NAME_LEN);

/** The record's sections that are an object or null, in their order. */
const enum Section {
  Icmp = 0,
  Tcp = 1,
  Tunnel = 2,
  Dns = 3,
  Dhcp = 4,
  Arp = 5,
  End = 6,
}
const SECTION_NAMES = ['icmp', 'tcp', 'tunnel', 'dns', 'dhcp', 'arp'];
/** NULL_RUNS[from * 7 + to]: `,"<section>":null` for each section from `from` up to `to` */
const NULL_RUNS: Uint8Array[] = [];
for (let from = 0; from <= Section.End; from++)
  for (let to = 0; to <= Section.End; to++)
    NULL_RUNS[from * 7 + to] = literal(
      SECTION_NAMES.slice(from, Math.max(from, to))
        .map((name) => `,"${name}":null`)
        .join(''),
    );

/** The sections from `next` up to `at` are null; returns the one after `at`. */
function writeNulls(w: JsonBytes, next: number, at: number): number {
  if (next < at) w.lit(NULL_RUNS[next * 7 + at]);
  return at + 1;
}

function writeIcmp(w: JsonBytes, rec: PacketRecord): void {
  const isEcho = rec.icmpId >= 0;
  w.field(L.icmpType).num(rec.icmpType);
  w.field(L.code).num(rec.icmpCode);
  w.lit(L.id);
  if (isEcho) w.num(rec.icmpId);
  else w.lit(L.null);
  w.lit(L.seq);
  if (isEcho) w.num(rec.icmpSeq);
  else w.lit(L.null);
  if (rec.icmpMtu >= 0) w.field(L.mtu).num(rec.icmpMtu);
  w.byte(0x7d);
}

function writeTunnel(w: JsonBytes, rec: PacketRecord): void {
  const b = rec.bytes;
  w.field(L.tunnelType).str(TUNNEL_NAMES[rec.tunnelType]);
  writeNullable(w.field(L.vni), rec.tunnelVni);
  writeIp(w.field(L.outerSrc), b, rec.tunnelOuterSrcOff, rec.tunnelOuterIpVersion);
  writeIp(w.field(L.outerDst), b, rec.tunnelOuterDstOff, rec.tunnelOuterIpVersion);
  w.byte(0x7d);
}

function writeDns(w: JsonBytes, rec: PacketRecord): void {
  const b = rec.bytes;
  w.field(L.dnsId).num(rec.dnsId);
  writeBool(w.field(L.qr), rec.dnsQr);
  w.field(L.rcode).num(rec.dnsRcode);
  w.lit(L.qname);
  const plain =
    rec.dnsQnameOff < 0 ? -1 : copyPlainDnsName(b, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff, nameText);
  if (plain >= 0) {
    w.byte(0x22);
    w.copy(nameText, 0, plain);
    w.byte(0x22);
  } else w.strOrNull(rec.dnsQnameOff < 0 ? null : readDnsName(b, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff));
  w.field(L.qtype).strOrNull(rec.dnsQtype < 0 ? null : dnsTypeName(rec.dnsQtype));
  w.lit(L.answers);
  for (let i = 0; i < rec.dnsAnswerCount; i++) {
    if (i > 0) w.byte(0x2c);
    w.str(dnsAnswerText(rec, i));
  }
  w.byte(0x5d);
  w.byte(0x7d);
}

function writeDhcp(w: JsonBytes, rec: PacketRecord): void {
  const b = rec.bytes;
  w.field(L.dhcpOp).num(rec.dhcpOp);
  w.field(L.xid).num(rec.dhcpXid);
  w.field(L.chaddr).strOrNull(
    rec.dhcpChaddrOff >= 0 && rec.dhcpHlen === 6 ? formatMac(b, rec.dhcpChaddrOff) : null,
  );
  w.field(L.msgType).strOrNull(rec.dhcpMsgType < 0 ? null : dhcpMessageTypeName(rec.dhcpMsgType));
  writeIpv4Number(w.field(L.yiaddr), rec.dhcpYiaddr);
  writeIpv4Number(w.field(L.serverId), rec.dhcpServerId);
  w.byte(0x7d);
}

function writeArp(w: JsonBytes, rec: PacketRecord): void {
  const b = rec.bytes;
  w.field(L.arpOp).num(rec.arpOp);
  writeIp(w.field(L.spa), b, rec.arpSpaOff, 4);
  writeIp(w.field(L.tpa), b, rec.arpTpaOff, 4);
  w.field(L.sha).strOrNull(rec.arpShaOff < 0 ? null : formatMac(b, rec.arpShaOff));
  w.field(L.tha).strOrNull(rec.arpThaOff < 0 ? null : formatMac(b, rec.arpThaOff));
  w.byte(0x7d);
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
  w.field(L.head).num(n);
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
  w.field(ifaceHead(iface)).timestamp(tsSec, tsNsec);
  w.field(L.len).num(len);
  w.field(L.caplen).num(caplen);
  writeLayers(w, rec);
  const arp = rec.arpOp >= 0;
  if (arp) writeIp(w, b, rec.arpSpaOff, 4);
  else writeIp(w, b, rec.srcAddrOff, rec.ipVersion);
  w.lit(L.dst);
  if (arp) writeIp(w, b, rec.arpTpaOff, 4);
  else writeIp(w, b, rec.dstAddrOff, rec.ipVersion);
  writeProto(w, rec);
  writeNullable(w.field(L.ipId), rec.ipId);
  writeNullable(w.field(L.ttl), rec.ttl);
  writeNullable(w.field(L.sport), rec.srcPort);
  writeNullable(w.field(L.dport), rec.dstPort);

  // The six sections in their order, a run of absent ones as one piece (`,"tcp":null,"tunnel":null`)
  let next = Section.Icmp;
  if (rec.icmpType >= 0) {
    next = writeNulls(w, next, Section.Icmp);
    writeIcmp(w, rec);
  }
  if (rec.ipProto === 6 && rec.l4Off >= 0 && rec.tcpHeaderLen > 0) {
    next = writeNulls(w, next, Section.Tcp);
    w.field(L.tcpFlags).str(tcpFlagLetters(rec.tcpFlags));
    w.field(L.seq).num(rec.tcpSeq);
    w.field(L.ack).num(rec.tcpAck);
    w.byte(0x7d);
  }
  if (rec.tunnelType !== TunnelType.None) {
    next = writeNulls(w, next, Section.Tunnel);
    writeTunnel(w, rec);
  }
  if (rec.dnsId >= 0) {
    next = writeNulls(w, next, Section.Dns);
    writeDns(w, rec);
  }
  if (rec.dhcpOp >= 0) {
    next = writeNulls(w, next, Section.Dhcp);
    writeDhcp(w, rec);
  }
  if (arp) {
    next = writeNulls(w, next, Section.Arp);
    writeArp(w, rec);
  }
  writeNulls(w, next, Section.End);

  const truncated = rec.truncated || caplen < len;
  const onlyTruncated =
    rec.truncated &&
    rec.malformedLayer !== Layer.None &&
    rec.malformedReason === TRUNCATED_REASONS[rec.malformedLayer];
  const malformed = rec.malformedLayer !== Layer.None && !onlyTruncated;
  if (rec.vlanCount === 0 && !truncated && !malformed) w.lit(L.plainTail);
  else {
    w.lit(L.vlan);
    for (let i = 0; i < rec.vlanCount; i++) {
      if (i > 0) w.byte(0x2c);
      w.num(rec.vlanIds[i]);
    }
    w.lit(truncated ? L.truncatedTrue : L.truncatedFalse);
    if (malformed) {
      w.field(L.malformedLayer).str(LAYER_NAMES[rec.malformedLayer]);
      w.field(L.reason).str(rec.malformedReason);
      w.field(L.offset).num(rec.malformedOff - rec.start);
      w.byte(0x7d);
    } else w.lit(L.malformedNull);
  }

  if (rec.quotedIpVersion !== 0) {
    writeIp(w.field(L.quotedSrc), b, rec.quotedSrcAddrOff, rec.quotedIpVersion);
    writeIp(w.field(L.dst), b, rec.quotedDstAddrOff, rec.quotedIpVersion);
    w.field(L.proto).num(rec.quotedIpProto);
    writeNullable(w.field(L.sport), rec.quotedSrcPort);
    writeNullable(w.field(L.dport), rec.quotedDstPort);
    w.byte(0x7d);
  }
  if (rec.fragOffset > 0 || rec.moreFragments) {
    w.field(L.fragment).num(rec.fragOffset);
    writeBool(w.field(L.more), rec.moreFragments);
    writeBool(w.field(L.later), rec.laterFragment);
    w.byte(0x7d);
  }
  w.byte(0x7d);
}
