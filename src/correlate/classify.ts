// What a decoded packet is to the correlator (docs/verdicts.md: the same packet, exchanges), computed into one
// reused object (classified.ts) without allocating: its fingerprint (the same packet
// on every interface, through NAT and tunnels), and — when it belongs to an exchange —
// the exchange kind, stage and key. The fingerprint is the same for every kind; the
// rest is the kind's (kinds/): this file only dispatches a packet by protocol (ARP,
// ICMP, ICMPv6, TCP, UDP) through the dense tables kinds/table.ts builds from the
// kinds' claims, so a new kind needs no edit here. Packets of no exchange (TCP data,
// other UDP) get kind None and cost nothing more. DNS messages carried over TCP are
// found by dns-tcp.ts (a segment may hold several, or a piece of one) and classified
// here.
import { TunnelType, type PacketRecord } from '../decode/record.js';
import type { Classified } from './classified.js';

// (Classified lives in its own module, which kinds/ import; here for the readers of classify)
export { Classified, keyAddrBytes } from './classified.js';
import { mix, finish, finish30, hashBytes, HASH_SEED } from './hash.js';
import { classifyDns, DNS_OVER_TCP, keepDnsKey } from './kinds/dns.js';
import { beginKey } from './kinds/kind-spec.js';
import {
  ARP_KIND,
  CLASSIFY,
  ICMP_KIND,
  ICMP_STAGE,
  ICMPV6_KIND,
  ICMPV6_STAGE,
  KEEP_KEY,
  Kind,
  opens,
  QUOTE_ICMP_KIND,
  QUOTE_ICMPV6_KIND,
  QUOTE_KEY,
  QUOTE_STAGE,
  QUOTE_TCP_KIND,
  QUOTE_UDP_KIND,
  TCP_KIND,
  UDP_KIND,
} from './kinds/table.js';

/** Payload bytes hashed into fingerprints (ping's timestamp lives in the first 8-16). */
const PAYLOAD_HASH_BYTES = 32;

/**
 * An address as a 30-bit hash (0: none; an address that hashes to 0 becomes 1). The
 * flow and route keys made of it are 30 bits anyway, and a small integer crosses calls
 * without being boxed.
 */
/** The 26-bit hash of the MAC address at `off` (0: none), as Classified.l2Src and l2Dst hold it. */
export function hashMac(b: Uint8Array, off: number): number {
  if (off < 0) return 0;
  // (twice per packet: hashBytes' value for six bytes, without its loop)
  const word = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
  const tail = (b[off + 4] | (b[off + 5] << 8)) ^ 6;
  return finish30(mix(mix(HASH_SEED ^ 0x4d4143, word), tail)) & 0x3ffffff || 1;
}

/** hashMac of a MAC address in text (`fa:16:3e:00:00:01`); 0 when it is not one. */
export function hashMacText(text: string): number {
  const parts = text.split(':');
  // (a loopback's all-zero address is nobody's)
  if (parts.length !== 6 || /^(0{1,2}:){5}0{1,2}$/.test(text)) return 0;
  const bytes = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i])) return 0;
    bytes[i] = parseInt(parts[i], 16);
  }
  return hashMac(bytes, 0);
}

/** The 30-bit hash of the address bytes at `off` (4 or 16 long), as srcHash and dstHash hold it. */
export function hashAddr(b: Uint8Array, off: number, len: number): number {
  if (off < 0) return 0;
  if (len !== 4) return finish30(hashBytes(HASH_SEED, b, off, off + len)) || 1;
  // IPv4, twice per packet: hashBytes' value for one word, without its loop.
  const word = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
  return finish30(mix(mix(HASH_SEED, word), 4)) || 1;
}

function payloadHash(rec: PacketRecord, h: number): number {
  if (rec.payloadOff < 0 || rec.payloadLen <= 0) return h;
  const end = Math.min(rec.payloadOff + Math.min(rec.payloadLen, PAYLOAD_HASH_BYTES), rec.end);
  return hashBytes(h, rec.bytes, rec.payloadOff, end);
}

// (A redirect, 5, and a source quench, 4 — deprecated, RFC 6633 — quote the packet too,
// but it went on: they end no exchange.)
const ICMP_ERROR_TYPES_V4 = new Set([3, 11, 12]);
const ICMP_ERROR_TYPES_V6 = new Set([1, 2, 3, 4]);

const UNREACH_V4: Record<number, string> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'protocol-unreachable',
  3: 'port-unreachable',
  5: 'source-route-failed',
  6: 'net-unknown',
  7: 'host-unknown',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};
const UNREACH_V6: Record<number, string> = {
  0: 'no-route',
  1: 'admin-prohibited',
  3: 'address-unreachable',
  4: 'port-unreachable',
  5: 'source-policy-failed',
  6: 'reject-route',
};

/** The detail of an ICMP error (docs/json-lines.md `detail`): `frag-needed mtu=1450`, `port-unreachable`, … */
export function icmpErrorDetail(v6: boolean, type: number, code: number, mtu: number): string {
  if (!v6) {
    if (type === 3 && code === 4) return `frag-needed mtu=${mtu}`;
    if (type === 3) return UNREACH_V4[code] ?? `unreachable code=${code}`;
    if (type === 11) return code === 1 ? 'fragment-reassembly-time-exceeded' : 'time-exceeded';
    if (type === 12) return 'parameter-problem';
    return `icmp type=${type} code=${code}`;
  }
  if (type === 2) return `packet-too-big mtu=${mtu}`;
  if (type === 1) return UNREACH_V6[code] ?? `unreachable code=${code}`;
  if (type === 3) return 'time-exceeded';
  if (type === 4) return 'parameter-problem';
  return `icmpv6 type=${type} code=${code}`;
}

/**
 * Fills `out` from a decoded packet. The fingerprint (§5.1) covers IP identification,
 * protocol, L4 invariants and the first payload bytes — never MACs, TTL, checksums,
 * addresses or ports — of the innermost packet, so translation and encapsulation keep it.
 * A packet of an exchange also gets what the correlator keeps of it (the kind's own
 * number, `tunnel`, and for an opening stage the key), so that `out` alone carries it
 * on (the replay's decoder thread sends only this).
 */
export function classify(rec: PacketRecord, out: Classified): void {
  classifyPacket(rec, out);
  out.hasKey = false;
  if (out.kind === Kind.None) return;
  out.keySlot = out.key & 0x3fffffff;
  out.keyCheck = out.key >>> 30;
  out.tunnel = tunnelOf(rec);
  out.l2Src = hashMac(rec.bytes, rec.ethSrcOff);
  out.l2Dst = hashMac(rec.bytes, rec.ethDstOff);
  if (opens(out.kind, out.stage)) {
    beginKey(rec, out);
    KEEP_KEY[out.kind](rec, out);
  }
}

/** The tunnel a packet was seen in: (TunnelType << 24) | VNI, or -1 outside any. */
export function tunnelOf(rec: PacketRecord): number {
  return rec.tunnelType === TunnelType.None ? -1 : (rec.tunnelType << 24) | (rec.tunnelVni & 0xffffff);
}

/**
 * One DNS message carried over TCP (dns-tcp.ts finds them), classified as a DNS message
 * over UDP is: `msg` holds its decoded DNS fields, `seg` the segment that completed it.
 * The message's fingerprint is the sequence number of its length prefix (`prefixSeq`),
 * its length and its key (id, question): a message is one packet wherever it is seen,
 * however TCP cut it into segments there (segmentation offload, GRO), and a
 * retransmission of it is the same packet (a DNS client retrying over UDP sends a new
 * datagram instead).
 * The key's addresses are read at srcAt and dstAt of msg.bytes (the segment's own, or
 * a copy next to a reassembled message). `out` keeps what classify() found for the
 * segment's addresses (srcHash, dstHash, broadcast). False when the message is no
 * exchange (malformed, not a standard query or response).
 */
export function classifyDnsMessage(
  seg: PacketRecord,
  msg: PacketRecord,
  prefixSeq: number,
  msgLen: number,
  srcAt: number,
  dstAt: number,
  out: Classified,
): boolean {
  out.kind = Kind.None;
  out.hasKey = false;
  out.errorDetail = '';
  const stage = classifyDns(msg, out);
  if (stage < 0) return false;
  out.kind = Kind.Dns;
  out.stage = stage;
  out.fingerprint = finish(mix(mix(mix(HASH_SEED ^ 0x544344, out.key), prefixSeq), msgLen)) || 1;
  out.keep = -1;
  out.mustMatch = -1;
  out.errorAboutAnswer = false;
  out.keySlot = out.key & 0x3fffffff;
  out.keyCheck = out.key >>> 30;
  out.tunnel = tunnelOf(seg);
  out.ttl = seg.ttl;
  out.l2Src = hashMac(seg.bytes, seg.ethSrcOff);
  out.l2Dst = hashMac(seg.bytes, seg.ethDstOff);
  if (!opens(Kind.Dns, stage)) return true;
  beginKey(msg, out);
  out.addrVersion = seg.ipVersion;
  out.keySrcAt = srcAt;
  out.keyDstAt = dstAt;
  out.addrKnown = 3;
  keepDnsKey(msg, out, DNS_OVER_TCP);
  return true;
}

function classifyPacket(rec: PacketRecord, out: Classified): void {
  out.kind = Kind.None;
  out.stage = 0;
  out.key = 0;
  out.keep = -1;
  out.mustMatch = -1;
  out.errorDetail = '';
  out.errorAboutAnswer = false;
  out.fingerprint = 0;
  const b = rec.bytes;
  out.broadcast =
    (rec.ethDstOff >= 0 && (b[rec.ethDstOff] & 1) === 1) ||
    (rec.ipVersion === 4 &&
      rec.dstAddrOff >= 0 &&
      b[rec.dstAddrOff] === 255 &&
      b[rec.dstAddrOff + 1] === 255 &&
      b[rec.dstAddrOff + 2] === 255 &&
      b[rec.dstAddrOff + 3] === 255);

  if (rec.arpOp === 1 || rec.arpOp === 2) {
    // requests and replies with their addresses
    if (rec.arpSpaOff < 0 || rec.arpTpaOff < 0 || rec.arpShaOff < 0) return;
    let h = mix(HASH_SEED ^ 0x61, rec.arpOp);
    h = hashBytes(h, b, rec.arpShaOff, rec.arpShaOff + 6);
    h = hashBytes(h, b, rec.arpSpaOff, rec.arpSpaOff + 4);
    h = hashBytes(h, b, rec.arpTpaOff, rec.arpTpaOff + 4);
    out.fingerprint = finish(h) || 1;
    out.srcHash = hashAddr(b, rec.arpSpaOff, 4);
    out.dstHash = hashAddr(b, rec.arpTpaOff, 4);
    // no IP header: no TTL
    out.ttl = -1;
    const k = ARP_KIND;
    if (k === Kind.None) return;
    const stage = CLASSIFY[k](rec, out, -1);
    if (stage < 0) return;
    out.kind = k;
    out.stage = stage;
    return;
  }

  if (rec.ipVersion === 0 || rec.ipProto < 0) return;
  const v6 = rec.ipVersion === 6;
  const addrLen = v6 ? 16 : 4;
  out.srcHash = hashAddr(b, rec.srcAddrOff, addrLen);
  out.dstHash = hashAddr(b, rec.dstAddrOff, addrLen);
  out.ttl = rec.ttl;
  let h = mix(HASH_SEED, rec.ipProto);
  h = mix(h, rec.ipId < 0 ? 0 : rec.ipId);
  h = mix(h, rec.fragOffset);
  if (rec.laterFragment) {
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    return;
  }
  const proto = rec.ipProto;
  if ((proto === 1 && !v6) || (proto === 58 && v6)) {
    h = mix(h, (rec.icmpType << 8) | (rec.icmpCode & 0xff));
    h = mix(h, rec.icmpId);
    h = mix(h, rec.icmpSeq);
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    const type = rec.icmpType;
    if (type < 0) return;
    const k = v6 ? ICMPV6_KIND[type] : ICMP_KIND[type];
    if (k !== Kind.None) {
      const stage = CLASSIFY[k](rec, out, v6 ? ICMPV6_STAGE[type] : ICMP_STAGE[type]);
      if (stage < 0) return;
      out.kind = k;
      out.stage = stage;
      return;
    }
    if ((v6 ? ICMP_ERROR_TYPES_V6 : ICMP_ERROR_TYPES_V4).has(type)) classifyIcmpError(rec, out, v6);
    return;
  }
  if (proto === 6) {
    h = mix(h, rec.tcpSeq);
    h = mix(h, rec.tcpAck);
    h = mix(h, rec.tcpFlags);
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    const k = TCP_KIND;
    if (k === Kind.None) return;
    const stage = CLASSIFY[k](rec, out, -1);
    if (stage < 0) return;
    out.kind = k;
    out.stage = stage;
    return;
  }
  if (proto === 17) {
    h = mix(h, rec.udpLen);
    out.fingerprint = finish(payloadHash(rec, h)) || 1;
    // the destination port's kind, else the source port's: as the decoder chose the application
    let k: Kind = rec.dstPort >= 0 ? UDP_KIND[rec.dstPort] : Kind.None;
    if (k === Kind.None && rec.srcPort >= 0) k = UDP_KIND[rec.srcPort];
    if (k === Kind.None) return;
    const stage = CLASSIFY[k](rec, out, -1);
    if (stage < 0) return;
    out.kind = k;
    out.stage = stage;
    return;
  }
  out.fingerprint = finish(payloadHash(rec, h)) || 1;
}

/** An ICMP error joins the exchange of the packet it quotes (kinds/ say which: their `quote`). */
function classifyIcmpError(rec: PacketRecord, out: Classified, v6: boolean): void {
  const l4 = rec.quotedL4Off;
  if (l4 < 0) return;
  const end = Math.min(rec.quotedEnd > 0 ? rec.quotedEnd : rec.end, rec.end);
  const detail = icmpErrorDetail(v6, rec.icmpType, rec.icmpCode, rec.icmpMtu);
  const qp = rec.quotedIpProto;
  let k: Kind = Kind.None;
  let aboutAnswer = false;
  if ((qp === 1 && !v6) || (qp === 58 && v6)) {
    const type = rec.quotedIcmpType;
    if (type < 0) return;
    k = v6 ? QUOTE_ICMPV6_KIND[type] : QUOTE_ICMP_KIND[type];
    // About an answer (no route back, …): the question was answered, the answer died.
    aboutAnswer = k !== Kind.None && !opens(k, v6 ? ICMPV6_STAGE[type] : ICMP_STAGE[type]);
  } else if (qp === 6) k = QUOTE_TCP_KIND;
  else if (qp === 17 && rec.quotedDstPort >= 0) k = QUOTE_UDP_KIND[rec.quotedDstPort];
  if (k === Kind.None || !QUOTE_KEY[k](rec, out, l4, end, v6)) return;
  out.kind = k;
  out.stage = QUOTE_STAGE[k];
  out.errorAboutAnswer = aboutAnswer;
  out.errorDetail = detail;
}
