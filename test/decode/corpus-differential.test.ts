// Differential test: every packet of the shared corpus (../shared/corpus, see its
// README) decoded by us and compared, field by field, with what tshark 4.0 reported
// with reassembly off (X.tshark.noreasm.tsv).
//
// tshark lists a field once per layer instance, outermost first: a VXLAN frame has
// `ip.src` = `outer,inner`, an ICMP error `ip.src` = `packet,quoted`. The record keeps
// the innermost packet, the outermost tunnel (rec.tunnel*) and the packet an ICMP
// error quotes (rec.quoted*), so for each field we line up
//   [outermost tunnel's instance] [instances in between: unknown] [innermost] [quoted]
// with tshark's list, using the number of our layers of that kind to know how many
// instances there are. Instances we cannot know (tunnels in between) are skipped.
//
// Every disagreement left must be listed in KNOWN_DISAGREEMENTS with its reason; an
// entry that no longer disagrees must be removed. No file may crash the decoder or
// take more than a few seconds.
//
// Capture files are read with src/framing's reader (pcap and pcapng). Files it
// rejects are framing's business (test/framing); their packets read before the fault
// are still decoded.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { u16be } from '../../src/decode/bytes.js';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { readDnsName } from '../../src/decode/dns.js';
import { formatIpv4, formatIpv4Number, formatIpv6 } from '../../src/decode/format.js';
import { Layer, PacketRecord, TunnelType } from '../../src/decode/record.js';
import { CaptureFormatError, readCaptureBytes, type CaptureInterface } from '../../src/framing/index.js';
import { CORPUS_AVAILABLE, corpusPath, readCorpusFile } from './support/corpus.js';

// ---------------------------------------------------------------------------------
// Disagreements we know of, and why. `frames`: tshark frame numbers, or '*' for every
// frame of the file where the field disagrees.

interface KnownDisagreement {
  file: string;
  frames: number[] | '*';
  field: string;
  reason: string;
}

/** One reason covering several fields: expands to one {file, frames, field, reason} row per field. */
function known(file: string, frames: number[] | '*', fields: string[], reason: string): KnownDisagreement[] {
  return fields.map((field) => ({ file, frames, field, reason }));
}

const IPV4_FIELDS = ['ip.src', 'ip.dst', 'ip.proto', 'ip.id', 'ip.ttl', 'ip.flags.mf', 'ip.frag_offset'];
const ICMP_FIELDS = ['icmp.type', 'icmp.code', 'icmp.ident', 'icmp.seq'];
const DNS_FIELDS = [
  'dns.id',
  'dns.flags.response',
  'dns.flags.rcode',
  'dns.qry.name',
  'dns.qry.type',
  'dns.a',
];
const CISCO_METADATA_FRAMES = [
  11, 16, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 41, 46, 64, 67, 70, 73, 87, 92,
];

const KNOWN_DISAGREEMENTS: KnownDisagreement[] = [
  // --- by design: what the record does not follow or keep ---
  ...known(
    'mpls-traceroute.pcap',
    '*',
    [...IPV4_FIELDS, 'udp.srcport', 'udp.dstport', 'icmp.type', 'icmp.code'],
    'LINKTYPE_PPP (9) is not decoded (linktype_unsupported): Linux captures PPP interfaces as LINUX_SLL, so hopscope never sees this link type',
  ),
  ...known(
    'erspan-type-ii-1.pcap',
    [1],
    ['eth.type', ...IPV4_FIELDS],
    'GRE protocol 0x88BE (ERSPAN II, port mirroring) is recorded in greProto and not followed; tshark decodes the mirrored frame',
  ),
  ...known(
    'erspan-type-iii-ft-0.pcap',
    '*',
    ['eth.type', ...IPV4_FIELDS, ...ICMP_FIELDS, 'vlan.id'],
    'GRE protocol 0x22EB (ERSPAN III, port mirroring) is recorded in greProto and not followed; tshark decodes the mirrored frame',
  ),
  ...known(
    'various_gre.pcap',
    CISCO_METADATA_FRAMES,
    IPV4_FIELDS,
    'GRE protocol 0x8909 (Cisco MetaData) is recorded in greProto and not followed; tshark decodes the IPv4 packet after its 8-byte header',
  ),
  ...known(
    'various_gre.pcap',
    [11, 16, 41, 46, 64, 70, 87, 92],
    ['gre.proto'],
    'GRE keepalive (protocol 0) inside Cisco MetaData 0x8909, which is not followed',
  ),
  ...known(
    'various_gre.pcap',
    [25, 26, 27, 28, 29, 30, 31, 32, 33, 34],
    ICMP_FIELDS,
    'ICMP echo inside Cisco MetaData (GRE 0x8909), which is not followed',
  ),
  ...known(
    'icmp-destunreach-udp.pcap',
    [1],
    DNS_FIELDS,
    'tshark decodes the DNS message inside the packet an ICMP error quotes; the record keeps the quoted IP/UDP header only',
  ),
  ...known(
    'icmp6.pcap',
    [35],
    DNS_FIELDS,
    'tshark decodes the DNS message inside the packet an ICMPv6 error quotes; the record keeps the quoted IP/UDP header only',
  ),
  ...known(
    'gre-sample.pcap',
    [34, 36],
    ['dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.qry.type'],
    'GRE-carried ICMP error quoting a DNS query: tshark decodes the quoted DNS message; the record keeps the quoted IP/UDP header only',
  ),
  ...known(
    'smtp.pcap',
    [26, 28, 29, 30],
    ['tcp.seq_raw'],
    'tshark prints no tcp.seq_raw for the TCP header an ICMP frag-needed quotes; the record keeps it (quotedTcpSeq)',
  ),
  // --- malformed packets: each side keeps a different part ---
  ...known(
    'ipv4_invalid_hdr_length.pcap',
    [1],
    IPV4_FIELDS,
    'IHL 4 (16 bytes): ipv4.ts keeps the fixed fields it read and marks ipv4_ihl_lt_5; tshark adds no IPv4 field',
  ),
  ...known(
    'ip4-trunc.pcap',
    [1],
    ['ip.id'],
    'IPv4 header cut after 6 bytes by the capture: ipv4.ts marks ipv4_truncated and keeps nothing of a partial header; tshark prints the identification it has',
  ),
  ...known(
    'ipv6_invalid_length.pcap',
    [1],
    ['ipv6.src', 'ipv6.nxt'],
    'the frame ends 39 bytes into the IPv6 header: ipv6.ts marks ipv6_too_short and keeps nothing of a partial header; tshark prints the fields that fit',
  ),
  ...known(
    'icmp-header-trunc.pcap',
    [1, 2],
    ['icmp.ident'],
    'ICMP echo header cut to 6 bytes by the capture: icmp.ts keeps type/code and marks icmp_truncated; tshark prints the identifier it has',
  ),
  ...known(
    'icmp-icmp_print-oobr-1.pcap',
    [1],
    ['icmp.type', 'icmp.code'],
    'IPv4 total length 23 leaves 3 bytes of ICMP: icmp.ts keeps type/code and marks icmp_too_short; tshark adds no ICMP field',
  ),
  ...known(
    'icmp_ext_oob_poc.pcap',
    [1],
    ['icmp.ident'],
    'ICMP extended echo (RFC 8335, type 42): icmp.ts records identifier/sequence for echo request/reply (8/0) only',
  ),
  ...known(
    'ipv6-hbh-routing0.pcap',
    [1],
    ['dns.id', 'dns.flags.response'],
    'UDP length 11 leaves 3 bytes of DNS: dns.ts keeps the id and flags it read and marks dns_too_short; tshark adds no DNS field',
  ),
  ...known(
    'dns_fwdptr.pcap',
    [1],
    ['dns.qry.name', 'dns.qry.type'],
    'first question name uses a forward compression pointer: dns.ts marks dns_pointer_forward and keeps no question; tshark prints <Name too long> for each question',
  ),
  ...known(
    'dns-invalid-names.pcap',
    [2],
    ['dns.qry.name', 'dns.qry.type'],
    'question name with a compression-pointer loop: dns.ts marks dns_pointer_loop and keeps no question; tshark prints a placeholder name',
  ),
  ...known(
    'bootp_asan.pcap',
    [1],
    ['dhcp.id', 'dhcp.ip.your'],
    'BOOTP message cut by the capture: dhcp.ts keeps the fixed fields present and marks dhcp_truncated; tshark adds no DHCP field',
  ),
];

// ---------------------------------------------------------------------------------
// Our side: the values of one field in each layer instance we know.

const UNKNOWN = Symbol('unknown'); // an instance we know exists but whose value we do not keep
const ABSENT = undefined; // the instance does not have the field (tshark prints nothing)
type Value = string | number;
type Slot = Value | typeof UNKNOWN | typeof ABSENT;

interface Ctx {
  rec: PacketRecord;
  b: Uint8Array;
  linktype: number;
  caplen: number;
  len: number;
}

function countLayers(rec: PacketRecord, layer: Layer): number {
  let n = 0;
  for (let i = 0; i < rec.layerCount; i++) if (rec.layers[i] === layer) n++;
  return n;
}

/** A field tshark reports once per instance of `layer`. */
interface FieldSpec {
  field: string;
  layer: Layer;
  /** tshark's text is a number (decimal or 0x-hex) */
  numeric: boolean;
  /** is the outermost tunnel's carrier an instance of this layer? */
  outerIs?: (c: Ctx) => boolean;
  outer?: (c: Ctx) => Slot;
  inner: (c: Ctx) => Slot;
  quoted?: (c: Ctx) => Slot;
}

const isTunnelled = (c: Ctx): boolean => c.rec.tunnelDepth > 0;
const outerIpv4 = (c: Ctx): boolean => isTunnelled(c) && c.rec.tunnelOuterIpVersion === 4;
const outerIpv6 = (c: Ctx): boolean => isTunnelled(c) && c.rec.tunnelOuterIpVersion === 6;
const outerUdp = (c: Ctx): boolean =>
  c.rec.tunnelType === TunnelType.Vxlan || c.rec.tunnelType === TunnelType.Geneve;
/** offset of the outermost tunnel's IPv4/IPv6 header */
const outer4 = (c: Ctx): number => c.rec.tunnelOuterSrcOff - 12;
const outer6 = (c: Ctx): number => c.rec.tunnelOuterSrcOff - 8;
const inner4 = (c: Ctx): boolean => c.rec.ipVersion === 4;
const inner6 = (c: Ctx): boolean => c.rec.ipVersion === 6;
const quoted4 = (c: Ctx): boolean => c.rec.quotedIpVersion === 4 && c.rec.quotedL3Off >= 0;
const quoted6 = (c: Ctx): boolean => c.rec.quotedIpVersion === 6 && c.rec.quotedL3Off >= 0;
/** a byte of the quoted packet, ABSENT when the quote does not have it */
function quotedByte(c: Ctx, off: number): Slot {
  const end = c.rec.quotedEnd >= 0 ? c.rec.quotedEnd : c.rec.end;
  return off >= 0 && off < end ? c.b[off] : ABSENT;
}
function present(n: number): Slot {
  return n >= 0 ? n : ABSENT;
}
const innerL4 = (c: Ctx, proto: number): boolean =>
  c.rec.ipProto === proto && c.rec.l4Off >= 0 && !c.rec.laterFragment;
const quotedL4 = (c: Ctx, proto: number): boolean => c.rec.quotedIpProto === proto && c.rec.quotedL4Off >= 0;
/** the Ethernet type/length field of the innermost Ethernet header, ABSENT for 802.3 */
function ethType(c: Ctx, typeOff: number): Slot {
  if (typeOff < 0 || typeOff + 2 > c.rec.end) return ABSENT;
  const t = u16be(c.b, typeOff);
  return t > 1500 ? t : ABSENT;
}

const FIELDS: FieldSpec[] = [
  {
    field: 'eth.type',
    layer: Layer.Eth,
    numeric: true,
    outerIs: (c) => (c.linktype & 0xffff) === 1,
    outer: (c) => ethType(c, c.rec.start + 12),
    inner: (c) =>
      c.rec.ethSrcOff >= 0 && countLayers(c.rec, Layer.Eth) > 0 ? ethType(c, c.rec.ethSrcOff + 6) : ABSENT,
  },
  ...ipv4Fields(),
  ...ipv6Fields(),
  {
    field: 'tcp.srcport',
    layer: Layer.Tcp,
    numeric: true,
    inner: (c) => (innerL4(c, 6) ? present(c.rec.srcPort) : ABSENT),
    quoted: (c) => (quotedL4(c, 6) ? present(c.rec.quotedSrcPort) : ABSENT),
  },
  {
    field: 'tcp.dstport',
    layer: Layer.Tcp,
    numeric: true,
    inner: (c) => (innerL4(c, 6) ? present(c.rec.dstPort) : ABSENT),
    quoted: (c) => (quotedL4(c, 6) ? present(c.rec.quotedDstPort) : ABSENT),
  },
  {
    field: 'tcp.flags',
    layer: Layer.Tcp,
    numeric: true,
    inner: (c) =>
      innerL4(c, 6) && c.rec.tcpHeaderLen > 0
        ? ((c.b[c.rec.l4Off + 12] & 0x0f) << 8) | c.rec.tcpFlags
        : ABSENT,
    quoted: (c) => {
      if (!quotedL4(c, 6)) return ABSENT;
      const hi = quotedByte(c, c.rec.quotedL4Off + 12);
      const lo = quotedByte(c, c.rec.quotedL4Off + 13);
      return typeof hi === 'number' && typeof lo === 'number' ? ((hi & 0x0f) << 8) | lo : ABSENT;
    },
  },
  {
    field: 'tcp.seq_raw',
    layer: Layer.Tcp,
    numeric: true,
    inner: (c) => (innerL4(c, 6) && c.rec.tcpHeaderLen > 0 ? c.rec.tcpSeq : ABSENT),
    quoted: (c) =>
      quotedL4(c, 6) && quotedByte(c, c.rec.quotedL4Off + 7) !== ABSENT ? c.rec.quotedTcpSeq : ABSENT,
  },
  {
    field: 'udp.srcport',
    layer: Layer.Udp,
    numeric: true,
    outerIs: outerUdp,
    outer: (c) => c.rec.tunnelOuterSrcPort,
    inner: (c) => (innerL4(c, 17) ? present(c.rec.srcPort) : ABSENT),
    quoted: (c) => (quotedL4(c, 17) ? present(c.rec.quotedSrcPort) : ABSENT),
  },
  {
    field: 'udp.dstport',
    layer: Layer.Udp,
    numeric: true,
    outerIs: outerUdp,
    outer: (c) => c.rec.tunnelOuterDstPort,
    inner: (c) => (innerL4(c, 17) ? present(c.rec.dstPort) : ABSENT),
    quoted: (c) => (quotedL4(c, 17) ? present(c.rec.quotedDstPort) : ABSENT),
  },
  {
    field: 'icmp.type',
    layer: Layer.Icmp,
    numeric: true,
    inner: (c) => (innerL4(c, 1) ? present(c.rec.icmpType) : ABSENT),
    quoted: (c) => (quotedL4(c, 1) ? present(c.rec.quotedIcmpType) : ABSENT),
  },
  {
    field: 'icmp.code',
    layer: Layer.Icmp,
    numeric: true,
    inner: (c) => (innerL4(c, 1) ? present(c.rec.icmpCode) : ABSENT),
    quoted: (c) => (quotedL4(c, 1) ? quotedByte(c, c.rec.quotedL4Off + 1) : ABSENT),
  },
  {
    field: 'icmp.ident',
    layer: Layer.Icmp,
    numeric: true,
    inner: (c) => (innerL4(c, 1) ? present(c.rec.icmpId) : ABSENT),
    quoted: (c) => (quotedL4(c, 1) ? present(c.rec.quotedIcmpId) : ABSENT),
  },
  {
    field: 'icmp.seq',
    layer: Layer.Icmp,
    numeric: true,
    inner: (c) => (innerL4(c, 1) ? present(c.rec.icmpSeq) : ABSENT),
    quoted: (c) => (quotedL4(c, 1) ? present(c.rec.quotedIcmpSeq) : ABSENT),
  },
  {
    field: 'icmpv6.type',
    layer: Layer.Icmpv6,
    numeric: true,
    inner: (c) => (innerL4(c, 58) ? present(c.rec.icmpType) : ABSENT),
    quoted: (c) => (quotedL4(c, 58) ? present(c.rec.quotedIcmpType) : ABSENT),
  },
  {
    field: 'icmpv6.echo.identifier',
    layer: Layer.Icmpv6,
    numeric: true,
    inner: (c) => (innerL4(c, 58) ? present(c.rec.icmpId) : ABSENT),
    quoted: (c) => (quotedL4(c, 58) ? present(c.rec.quotedIcmpId) : ABSENT),
  },
  {
    field: 'icmpv6.echo.sequence_number',
    layer: Layer.Icmpv6,
    numeric: true,
    inner: (c) => (innerL4(c, 58) ? present(c.rec.icmpSeq) : ABSENT),
    quoted: (c) => (quotedL4(c, 58) ? present(c.rec.quotedIcmpSeq) : ABSENT),
  },
  {
    field: 'vxlan.vni',
    layer: Layer.Vxlan,
    numeric: true,
    outerIs: (c) => c.rec.tunnelType === TunnelType.Vxlan,
    outer: (c) => c.rec.tunnelVni,
    inner: () => UNKNOWN,
  },
  {
    field: 'geneve.vni',
    layer: Layer.Geneve,
    numeric: true,
    outerIs: (c) => c.rec.tunnelType === TunnelType.Geneve,
    outer: (c) => c.rec.tunnelVni,
    inner: () => UNKNOWN,
  },
  {
    field: 'gre.proto',
    layer: Layer.Gre,
    numeric: true,
    // greProto is the first (outermost) GRE header's, tunnel or not
    outerIs: (c) => c.rec.greProto >= 0,
    outer: (c) => c.rec.greProto,
    inner: () => UNKNOWN,
  },
  { field: 'dns.id', layer: Layer.Dns, numeric: true, inner: (c) => present(c.rec.dnsId) },
  {
    field: 'dns.flags.response',
    layer: Layer.Dns,
    numeric: true,
    inner: (c) => (c.rec.dnsId >= 0 ? (c.rec.dnsQr ? 1 : 0) : ABSENT),
  },
  {
    field: 'dns.flags.rcode',
    layer: Layer.Dns,
    numeric: true,
    inner: (c) => (c.rec.dnsId >= 0 && c.rec.dnsQr ? c.rec.dnsRcode : ABSENT),
  },
  {
    field: 'dns.qry.name',
    layer: Layer.Dns,
    numeric: false,
    inner: (c) => {
      if (c.rec.dnsQnameOff < 0) return ABSENT;
      const name = readDnsName(c.b, c.rec.dnsOff, c.rec.dnsEnd, c.rec.dnsQnameOff);
      return name === null ? UNKNOWN : name === '' || name === '.' ? '<Root>' : name;
    },
  },
  { field: 'dns.qry.type', layer: Layer.Dns, numeric: true, inner: (c) => present(c.rec.dnsQtype) },
  { field: 'dhcp.id', layer: Layer.Dhcp, numeric: true, inner: (c) => present(c.rec.dhcpXid) },
  { field: 'dhcp.option.dhcp', layer: Layer.Dhcp, numeric: true, inner: (c) => present(c.rec.dhcpMsgType) },
  {
    field: 'dhcp.ip.your',
    layer: Layer.Dhcp,
    numeric: false,
    inner: (c) => (c.rec.dhcpYiaddr >= 0 ? formatIpv4Number(c.rec.dhcpYiaddr) : ABSENT),
  },
  { field: 'arp.opcode', layer: Layer.Arp, numeric: true, inner: (c) => present(c.rec.arpOp) },
  {
    field: 'arp.src.proto_ipv4',
    layer: Layer.Arp,
    numeric: false,
    inner: (c) => (c.rec.arpSpaOff >= 0 ? formatIpv4(c.b, c.rec.arpSpaOff) : ABSENT),
  },
  {
    field: 'arp.dst.proto_ipv4',
    layer: Layer.Arp,
    numeric: false,
    inner: (c) => (c.rec.arpTpaOff >= 0 ? formatIpv4(c.b, c.rec.arpTpaOff) : ABSENT),
  },
];

function ipv4Fields(): FieldSpec[] {
  /** one IPv4 header field, read from the record for the innermost header and from the bytes for the others */
  const field = (
    name: string,
    numeric: boolean,
    fromHeader: (b: Uint8Array, h: number) => Value,
    fromRecord: (rec: PacketRecord) => Value,
    fromQuoted?: (rec: PacketRecord) => Slot,
  ): FieldSpec => ({
    field: name,
    layer: Layer.Ipv4,
    numeric,
    outerIs: outerIpv4,
    outer: (c) => fromHeader(c.b, outer4(c)),
    inner: (c) => (inner4(c) ? fromRecord(c.rec) : ABSENT),
    quoted: (c) => {
      if (!quoted4(c)) return ABSENT;
      if (fromQuoted !== undefined) return fromQuoted(c.rec);
      return c.rec.quotedL3Off + 20 <= c.rec.end ? fromHeader(c.b, c.rec.quotedL3Off) : UNKNOWN;
    },
  });
  return [
    field(
      'ip.src',
      false,
      (b, h) => formatIpv4(b, h + 12),
      (rec) => formatIpv4(rec.bytes, rec.srcAddrOff),
      (rec) => formatIpv4(rec.bytes, rec.quotedSrcAddrOff),
    ),
    field(
      'ip.dst',
      false,
      (b, h) => formatIpv4(b, h + 16),
      (rec) => formatIpv4(rec.bytes, rec.dstAddrOff),
      (rec) => formatIpv4(rec.bytes, rec.quotedDstAddrOff),
    ),
    field(
      'ip.proto',
      true,
      (b, h) => b[h + 9],
      (rec) => rec.ipProto,
      (rec) => present(rec.quotedIpProto),
    ),
    field(
      'ip.id',
      true,
      (b, h) => u16be(b, h + 4),
      (rec) => rec.ipId,
      (rec) => present(rec.quotedIpId),
    ),
    field(
      'ip.ttl',
      true,
      (b, h) => b[h + 8],
      (rec) => rec.ttl,
    ),
    field(
      'ip.flags.mf',
      true,
      (b, h) => (b[h + 6] >> 5) & 1,
      (rec) => (rec.moreFragments ? 1 : 0),
    ),
    field(
      'ip.frag_offset',
      true,
      (b, h) => u16be(b, h + 6) & 0x1fff,
      (rec) => rec.fragOffset / 8,
    ),
  ];
}

function ipv6Fields(): FieldSpec[] {
  const field = (
    name: string,
    numeric: boolean,
    fromHeader: (b: Uint8Array, h: number) => Value,
    quotedAddr?: (rec: PacketRecord) => number,
  ): FieldSpec => ({
    field: name,
    layer: Layer.Ipv6,
    numeric,
    outerIs: outerIpv6,
    outer: (c) => fromHeader(c.b, outer6(c)),
    inner: (c) => (inner6(c) ? fromHeader(c.b, c.rec.l3Off) : ABSENT),
    quoted: (c) => {
      if (!quoted6(c)) return ABSENT;
      if (quotedAddr !== undefined)
        return quotedAddr(c.rec) >= 0 ? formatIpv6(c.b, quotedAddr(c.rec)) : ABSENT;
      return c.rec.quotedL3Off + 40 <= c.rec.end ? fromHeader(c.b, c.rec.quotedL3Off) : UNKNOWN;
    },
  });
  return [
    field(
      'ipv6.src',
      false,
      (b, h) => formatIpv6(b, h + 8),
      (rec) => rec.quotedSrcAddrOff,
    ),
    field(
      'ipv6.dst',
      false,
      (b, h) => formatIpv6(b, h + 24),
      (rec) => rec.quotedDstAddrOff,
    ),
    field('ipv6.nxt', true, (b, h) => b[h + 6]),
  ];
}

/** Our instances of `spec`'s layer, outermost first, with the quoted packet's last. */
function ourSlots(spec: FieldSpec, c: Ctx): Slot[] {
  const n = countLayers(c.rec, spec.layer);
  const outerIs = spec.outerIs !== undefined && spec.outer !== undefined && spec.outerIs(c);
  const slots: Slot[] = [];
  if (n === 1) {
    // the one instance is the innermost packet's, or (6in4, GRE over IPv4 ...) the outer carrier's
    const inner = spec.inner(c);
    slots.push(
      (inner === ABSENT || inner === UNKNOWN) && outerIs && spec.outer !== undefined ? spec.outer(c) : inner,
    );
  } else if (n >= 2) {
    slots.push(outerIs && spec.outer !== undefined ? spec.outer(c) : UNKNOWN);
    for (let i = 1; i < n - 1; i++) slots.push(UNKNOWN);
    slots.push(spec.inner(c));
  }
  if (spec.quoted !== undefined) slots.push(spec.quoted(c));
  return slots.filter((s) => s !== ABSENT);
}

function normalize(text: string, numeric: boolean): Value {
  if (!numeric) return text;
  return text.startsWith('0x') ? parseInt(text, 16) : Number(text);
}

function show(slots: Slot[]): string {
  return slots.map((s) => (s === UNKNOWN ? '?' : String(s))).join(',');
}

/** null when tshark's list matches our slots, else a short description. */
function compareSlots(theirs: string[], slots: Slot[], numeric: boolean): string | null {
  const values = theirs.map((t) => normalize(t, numeric));
  const firstUnknown = slots.indexOf(UNKNOWN);
  const ok = (a: Value, s: Slot): boolean => s === UNKNOWN || a === s;
  if (firstUnknown < 0) {
    if (values.length === slots.length && values.every((v, i) => ok(v, slots[i]))) return null;
  } else {
    // unknown instances may or may not carry the field: compare what is around them
    const lastUnknown = slots.lastIndexOf(UNKNOWN);
    const head = slots.slice(0, firstUnknown);
    const tail = slots.slice(lastUnknown + 1);
    const fits =
      values.length >= head.length + tail.length &&
      values.length <= slots.length &&
      head.every((s, i) => ok(values[i], s)) &&
      tail.every((s, i) => ok(values[values.length - tail.length + i], s));
    if (fits) return null;
  }
  return `tshark ${theirs.join(',') || '(none)'} ours ${show(slots) || '(none)'}`;
}

/** 802.1Q tags (tshark's vlan.id leaves 802.1ad S-tags out), of the innermost frame. */
function compareVlans(theirs: string[], c: Ctx): string | null {
  const rec = c.rec;
  let typeOff = -1;
  if (rec.vlanCount > 0) {
    if (rec.ethSrcOff >= 0 && countLayers(rec, Layer.Eth) > 0) typeOff = rec.ethSrcOff + 6;
    else if ((c.linktype & 0xffff) === 113) typeOff = rec.start + 14;
    else if ((c.linktype & 0xffff) === 276) typeOff = rec.start;
  }
  const ours: number[] = [];
  for (let i = 0; i < rec.vlanCount && typeOff >= 0; i++) {
    if (u16be(c.b, typeOff + 4 * i) === 0x8100) ours.push(rec.vlanIds[i]);
  }
  const values = theirs.map(Number);
  // tags of outer frames (underlay) are not kept once a tunnel is entered: compare the innermost frame's
  const tail = rec.tunnelDepth > 0 ? values.slice(values.length - ours.length) : values;
  if (tail.length === ours.length && tail.every((v, i) => v === ours[i])) return null;
  return `tshark ${theirs.join(',') || '(none)'} ours ${ours.join(',') || '(none)'}`;
}

/**
 * tshark lists the A records of every section in message order; the record keeps the
 * answer section (docs/json-lines.md `answers`), which comes first: ours must be the start of
 * tshark's list, and the whole of it when the message has no authority/additional records.
 */
function compareDnsA(theirs: string[], c: Ctx): string | null {
  const rec = c.rec;
  const ours: string[] = [];
  for (let i = 0; i < rec.dnsAnswerCount; i++) {
    if (rec.dnsAnswerType[i] === 1 && rec.dnsAnswerDataLen[i] === 4)
      ours.push(formatIpv4(c.b, rec.dnsAnswerDataOff[i]));
  }
  const onlyAnswers = rec.dnsNsCount === 0 && rec.dnsArCount === 0 && rec.dnsAnswerCount === rec.dnsAnCount;
  const prefix = theirs.length >= ours.length && ours.every((o, i) => o === theirs[i]);
  if (prefix && (!onlyAnswers || theirs.length === ours.length)) return null;
  return `tshark ${theirs.join(',') || '(none)'} ours ${ours.join(',') || '(none)'}`;
}

/**
 * tshark lists every question (of every DNS message in the frame); the record keeps
 * the first question: it must be tshark's first, and absent only when tshark has none.
 */
function compareFirstQuestion(theirs: string[], ours: Slot, numeric: boolean): string | null {
  if (ours === UNKNOWN) return null;
  if (ours === ABSENT ? theirs.length === 0 : theirs.length > 0 && normalize(theirs[0], numeric) === ours)
    return null;
  return `tshark ${theirs.join(',') || '(none)'} ours ${ours === ABSENT ? '(none)' : String(ours)}`;
}

// ---------------------------------------------------------------------------------
// tshark's side

interface TsharkTable {
  columns: Map<string, number>;
  rows: string[][];
}

function readTshark(file: string): TsharkTable | null {
  const path = corpusPath(`${file}.tshark.noreasm.tsv`);
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const header = lines[0].split('\t');
  return { columns: new Map(header.map((h, i) => [h, i])), rows: lines.slice(1).map((l) => l.split('\t')) };
}

function cell(table: TsharkTable, row: string[], field: string): string[] {
  const i = table.columns.get(field);
  if (i === undefined) throw new Error(`tshark table has no ${field}`);
  const text = row[i] ?? '';
  return text === '' ? [] : text.split(',');
}

// ---------------------------------------------------------------------------------

interface Disagreement {
  file: string;
  frame: number;
  field: string;
  detail: string;
}

interface FileResult {
  file: string;
  packets: number;
  /** (frame, field) checks made */
  compared: number;
  framingError: string | null;
  crash: string | null;
  ms: number;
  disagreements: Disagreement[];
}

function runFile(file: string): FileResult {
  const bytes = readCorpusFile(file);
  const table = readTshark(file);
  const pcapng = file.endsWith('.pcapng');
  // tshark rows that are not packets (pcapng custom blocks, its MIME fallback): no interface
  const rows =
    table === null
      ? []
      : table.rows.filter((r) => !pcapng || r[table.columns.get('frame.interface_id') ?? 0] !== '');
  const linktypes = new Map<number, number>();
  const rec = new PacketRecord();
  const result: FileResult = {
    file,
    packets: 0,
    compared: 0,
    framingError: null,
    crash: null,
    ms: 0,
    disagreements: [],
  };
  const started = performance.now();
  try {
    readCaptureBytes(
      bytes,
      {
        onInterface: (iface: CaptureInterface) => linktypes.set(iface.id, iface.linktype),
        onPacket: (p) => {
          const linktype = linktypes.get(p.interfaceId) ?? -1;
          try {
            decodePacket(p.data, p.offset, p.offset + p.caplen, linktype, p.len, rec);
          } catch (err) {
            result.crash ??= `packet ${p.packetNumber}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
            return;
          }
          const row = rows[result.packets];
          result.packets++;
          if (table === null || row === undefined) return;
          const frame = Number(row[0]);
          const c: Ctx = { rec, b: p.data, linktype, caplen: p.caplen, len: p.len };
          const add = (field: string, detail: string | null): void => {
            result.compared++;
            if (detail !== null)
              result.disagreements.push({
                file,
                frame,
                field,
                detail: detail.length > 240 ? `${detail.slice(0, 240)}…` : detail,
              });
          };
          add(
            'frame.len',
            Number(cell(table, row, 'frame.len')[0]) === p.len
              ? null
              : `tshark ${cell(table, row, 'frame.len')[0]} ours ${p.len}`,
          );
          add(
            'frame.cap_len',
            Number(cell(table, row, 'frame.cap_len')[0]) === p.caplen
              ? null
              : `tshark ${cell(table, row, 'frame.cap_len')[0]} ours ${p.caplen}`,
          );
          for (const spec of FIELDS) {
            const theirs = cell(table, row, spec.field);
            if (spec.field === 'dns.qry.name' || spec.field === 'dns.qry.type') {
              add(
                spec.field,
                compareFirstQuestion(
                  theirs,
                  countLayers(rec, Layer.Dns) > 0 ? spec.inner(c) : ABSENT,
                  spec.numeric,
                ),
              );
            } else add(spec.field, compareSlots(theirs, ourSlots(spec, c), spec.numeric));
          }
          add('vlan.id', compareVlans(cell(table, row, 'vlan.id'), c));
          add('dns.a', compareDnsA(cell(table, row, 'dns.a'), c));
        },
      },
      { unknownSectionVersion: 'error' },
    );
  } catch (err) {
    if (err instanceof CaptureFormatError) result.framingError = err.message;
    else result.crash ??= err instanceof Error ? (err.stack ?? err.message) : String(err);
  }
  result.ms = performance.now() - started;
  if (table !== null && result.framingError === null && result.packets !== rows.length) {
    result.disagreements.push({
      file,
      frame: 0,
      field: 'frames',
      detail: `tshark ${rows.length} packets, ours ${result.packets}`,
    });
  }
  return result;
}

function corpusFiles(): string[] {
  const manifest = readFileSync(corpusPath('MANIFEST.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  return manifest.slice(1).map((l) => l.split('\t')[0]);
}

function explains(known: KnownDisagreement, d: Disagreement): boolean {
  return (
    known.file === d.file &&
    known.field === d.field &&
    (known.frames === '*' || known.frames.includes(d.frame))
  );
}

describe.skipIf(!CORPUS_AVAILABLE)('corpus differential against tshark', () => {
  const results = CORPUS_AVAILABLE ? corpusFiles().map(runFile) : [];

  it('reads the whole corpus', () => {
    expect(results.length).toBeGreaterThanOrEqual(120);
    const packets = results.reduce((sum, r) => sum + r.packets, 0);
    const disagreements = results.reduce((sum, r) => sum + r.disagreements.length, 0);
    const compared = results.reduce((sum, r) => sum + r.compared, 0);
    const framingErrors = results.filter((r) => r.framingError !== null).length;
    console.info(
      `corpus differential: ${results.length} files, ${packets} packets, ${compared} field checks, ` +
        `${disagreements} disagreements (${KNOWN_DISAGREEMENTS.length} reasons), ${framingErrors} files rejected by framing`,
    );
    expect(packets).toBeGreaterThan(2500);
  });

  it('no file crashes or hangs the decoder', () => {
    expect(results.filter((r) => r.crash !== null).map((r) => `${r.file}: ${r.crash}`)).toEqual([]);
    expect(results.filter((r) => r.ms > 5000).map((r) => `${r.file}: ${Math.round(r.ms)} ms`)).toEqual([]);
  });

  it('agrees with tshark on every field, except the disagreements listed with their reason', () => {
    const all = results.flatMap((r) => r.disagreements);
    // HOPSCOPE_DIFF_DUMP=file.tsv writes every disagreement, to maintain the table above
    const dump = process.env.HOPSCOPE_DIFF_DUMP;
    if (dump !== undefined && dump !== '') {
      writeFileSync(dump, all.map((d) => `${d.file}\t${d.frame}\t${d.field}\t${d.detail}\n`).join(''));
    }
    const unexplained = all.filter((d) => !KNOWN_DISAGREEMENTS.some((k) => explains(k, d)));
    expect(unexplained.map((d) => `${d.file} #${d.frame} ${d.field}: ${d.detail}`)).toEqual([]);
  });

  it('lists no disagreement that has gone away', () => {
    const all = results.flatMap((r) => r.disagreements);
    const stale: string[] = [];
    for (const k of KNOWN_DISAGREEMENTS) {
      const frames = k.frames === '*' ? ['*'] : k.frames;
      for (const frame of frames) {
        const seen = all.some(
          (d) => d.file === k.file && d.field === k.field && (frame === '*' || d.frame === frame),
        );
        if (!seen) stale.push(`${k.file} #${frame} ${k.field} (${k.reason})`);
      }
    }
    expect(stale).toEqual([]);
  });
});
