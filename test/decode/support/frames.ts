// Building blocks for decode tests: annotated headers with computed lengths, and a
// decode-and-describe helper. A test spells out in hex the layer it is about and
// takes the layers around it from here.

import { decodePacket } from '../../../src/decode/decode-packet.js';
import { formatDstAddr, formatSrcAddr } from '../../../src/decode/format.js';
import { LAYER_NAMES, PacketRecord } from '../../../src/decode/record.js';
import { concat, hex } from './hex.js';

export const LT_NULL = 0;
export const LT_EN10MB = 1;
export const LT_RAW = 101;
export const LT_LOOP = 108;
export const LT_LINUX_SLL = 113;
export const LT_IPV4 = 228;
export const LT_IPV6 = 229;
export const LT_LINUX_SLL2 = 276;

/** `n` as `bytes` big-endian hex digits. */
export function be(n: number, bytes: number): string {
  return n.toString(16).padStart(bytes * 2, '0');
}

export function ethernet(etherType: string, dst = '020000000002', src = '020000000001'): Uint8Array {
  return hex(
    dst, // destination MAC
    src, // source MAC
    etherType, // EtherType
  );
}

export interface Ipv4Options {
  id?: number;
  /** flags + fragment offset field (e.g. 0x4000 DF, 0x2000 MF, offset in 8-byte units) */
  fragment?: number;
  ttl?: number;
  src?: string;
  dst?: string;
  /** overrides the computed total length */
  totalLen?: number;
}

/** A 20-byte IPv4 header for `payloadLen` bytes of protocol `proto`. */
export function ipv4Header(proto: number, payloadLen: number, o: Ipv4Options = {}): Uint8Array {
  return hex(
    '45', // version 4, IHL 5
    '00', // TOS
    be(o.totalLen ?? 20 + payloadLen, 2), // total length
    be(o.id ?? 0x1234, 2), // identification
    be(o.fragment ?? 0x4000, 2), // flags (DF) + fragment offset
    be(o.ttl ?? 64, 1), // TTL
    be(proto, 1), // protocol
    '0000', // checksum (not verified)
    o.src ?? '0a000218', // source 10.0.2.24
    o.dst ?? 'cb007107', // destination 203.0.113.7
  );
}

/** A 40-byte IPv6 header for `payloadLen` bytes after it, first next header `next`. */
export function ipv6Header(
  next: number,
  payloadLen: number,
  src = '20010db8000000000000000000000001',
  dst = '20010db8000000000000000000000002',
): Uint8Array {
  return hex(
    '6', // version 6
    '00', // traffic class
    '12345', // flow label
    be(payloadLen, 2), // payload length
    be(next, 1), // next header
    '40', // hop limit 64
    src, // source 2001:db8::1
    dst, // destination 2001:db8::2
  );
}

/** An 8-byte UDP header for `payloadLen` bytes of data. */
export function udpHeader(
  srcPort: number,
  dstPort: number,
  payloadLen: number,
  length = 8 + payloadLen,
): Uint8Array {
  return hex(
    be(srcPort, 2), // source port
    be(dstPort, 2), // destination port
    be(length, 2), // length
    '0000', // checksum (none)
  );
}

/** Ethernet + IPv4 + UDP around `payload`. */
export function ethIpv4Udp(
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  ip: Ipv4Options = {},
): Uint8Array {
  return concat(
    ethernet('0800'),
    ipv4Header(17, 8 + payload.length, ip),
    udpHeader(srcPort, dstPort, payload.length),
    payload,
  );
}

/** Decodes into a fresh record (wire length = captured length unless given). */
export function decode(
  bytes: Uint8Array,
  linktype = LT_EN10MB,
  wireLen = bytes.length,
  start = 0,
  end = bytes.length,
): PacketRecord {
  const rec = new PacketRecord();
  decodePacket(bytes, start, end, linktype, wireLen, rec);
  return rec;
}

export function layerNames(rec: PacketRecord): string[] {
  const out: string[] = [];
  for (let i = 0; i < rec.layerCount; i++) out.push(LAYER_NAMES[rec.layers[i]]);
  return out;
}

/** `null` or `layer:reason` — the record's anomaly in one comparable string. */
export function anomaly(rec: PacketRecord): string | null {
  return rec.malformedReason === '' ? null : `${LAYER_NAMES[rec.malformedLayer]}:${rec.malformedReason}`;
}

export function addresses(rec: PacketRecord): [string | null, string | null] {
  return [formatSrcAddr(rec), formatDstAddr(rec)];
}
