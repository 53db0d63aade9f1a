// What the capture generators (gen-mixed-pcap.mjs, gen-unanswered-pcap.mjs) share: a
// classic pcap file writer (µs, little-endian, EN10MB) that builds packets in one large
// buffer and writes it in big chunks, and the header builders both mixes are made of.
// Each builder writes at offset `o` of `b` and returns the offset after what it wrote.
import { openSync, writeSync, closeSync } from 'node:fs';

const CHUNK = 8 * 1024 * 1024;
const RECORD_HEADER = 16;

/**
 * A pcap file being written. Build a packet from `packetStart()` on, then hand its end
 * offset and time stamp to `commit()`; `close()` writes what is left.
 */
export class PcapFileWriter {
  constructor(path) {
    // Room for a packet of the largest size past a chunk's end: flushing happens between packets.
    this.buf = Buffer.alloc(CHUNK + 65536);
    this.fd = openSync(path, 'w', 0o644);
    // global header: µs magic, v2.4, snaplen 262144, EN10MB
    this.buf.writeUInt32LE(0xa1b2c3d4, 0);
    this.buf.writeUInt16LE(2, 4);
    this.buf.writeUInt16LE(4, 6);
    this.buf.writeUInt32LE(262144, 16);
    this.buf.writeUInt32LE(1, 20);
    this.used = 24;
  }

  /** Where the next packet's bytes start (after room for its record header). */
  packetStart() {
    return this.used + RECORD_HEADER;
  }

  /** Ends the packet built from packetStart() to `end`, captured whole at sec.usec. */
  commit(end, sec, usec) {
    const rec = this.used;
    const caplen = end - rec - RECORD_HEADER;
    this.buf.writeUInt32LE(sec, rec);
    this.buf.writeUInt32LE(usec, rec + 4);
    this.buf.writeUInt32LE(caplen, rec + 8);
    this.buf.writeUInt32LE(caplen, rec + 12);
    this.used = end;
    if (this.used > CHUNK) this.flush();
  }

  flush() {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }

  close() {
    this.flush();
    closeSync(this.fd);
  }
}

/** The Internet checksum (RFC 1071) of b[s, e). */
export function checksum(b, s, e) {
  let x = 0;
  for (let i = s; i < e; i += 2) x += (b[i] << 8) | (i + 1 < e ? b[i + 1] : 0);
  while (x >> 16) x = (x & 0xffff) + (x >> 16);
  return ~x & 0xffff;
}

/** Ethernet II, fa:16:3e:01:02:03 → fa:16:3e:56:0b:6f. */
export function ethernet(b, o, type) {
  b[o] = 0xfa;
  b[o + 1] = 0x16;
  b[o + 2] = 0x3e;
  b[o + 3] = 0x56;
  b[o + 4] = 0x0b;
  b[o + 5] = 0x6f;
  b[o + 6] = 0xfa;
  b[o + 7] = 0x16;
  b[o + 8] = 0x3e;
  b[o + 9] = 0x01;
  b[o + 10] = 0x02;
  b[o + 11] = 0x03;
  b.writeUInt16BE(type, o + 12);
  return o + 14;
}

/** IPv4 without options, DF, TTL 64, with its header checksum. */
export function ipv4(b, o, proto, src, dst, totalLen, id) {
  b[o] = 0x45;
  b[o + 1] = 0;
  b.writeUInt16BE(totalLen, o + 2);
  b.writeUInt16BE(id, o + 4);
  b.writeUInt16BE(0x4000, o + 6);
  b[o + 8] = 64;
  b[o + 9] = proto;
  b.writeUInt16BE(0, o + 10);
  b.writeUInt32BE(src >>> 0, o + 12);
  b.writeUInt32BE(dst >>> 0, o + 16);
  b.writeUInt16BE(checksum(b, o, o + 20), o + 10);
  return o + 20;
}

/**
 * ICMP echo (type 8) or echo reply (type 0) of 64 bytes, its data `fill` bytes; the
 * checksum is left 0 unless `withChecksum`.
 */
export function icmpEcho(b, o, type, id, seq, fill, withChecksum) {
  b[o] = type;
  b[o + 1] = 0;
  b.writeUInt16BE(0, o + 2);
  b.writeUInt16BE(id, o + 4);
  b.writeUInt16BE(seq, o + 6);
  b.fill(fill, o + 8, o + 64);
  if (withChecksum) b.writeUInt16BE(checksum(b, o, o + 64), o + 2);
  return o + 64;
}

/** UDP header, checksum 0; `length` counts the header. */
export function udp(b, o, srcPort, dstPort, length) {
  b.writeUInt16BE(srcPort, o);
  b.writeUInt16BE(dstPort, o + 2);
  b.writeUInt16BE(length, o + 4);
  b.writeUInt16BE(0, o + 6);
  return o + 8;
}

/** TCP header without options, window 29200, checksum 0. */
export function tcp(b, o, srcPort, dstPort, seq, ack, flags) {
  b.writeUInt16BE(srcPort, o);
  b.writeUInt16BE(dstPort, o + 2);
  b.writeUInt32BE(seq, o + 4);
  b.writeUInt32BE(ack, o + 8);
  b[o + 12] = 0x50;
  b[o + 13] = flags;
  b.writeUInt16BE(29200, o + 14);
  b.writeUInt32BE(0, o + 16);
  return o + 20;
}

/** VXLAN header (RFC 7348) with the I flag and `vni`. */
export function vxlan(b, o, vni) {
  b[o] = 0x08;
  b.fill(0, o + 1, o + 8);
  b.writeUIntBE(vni, o + 4, 3);
  return o + 8;
}

/** DNS header of one question and `answers` answers. */
export function dnsHeader(b, o, id, flags, answers) {
  b.writeUInt16BE(id, o);
  b.writeUInt16BE(flags, o + 2);
  b.writeUInt16BE(1, o + 4);
  b.writeUInt16BE(answers, o + 6);
  b.writeUInt32BE(0, o + 8);
  return o + 12;
}

/** A DNS question for type A, class IN of `qname` (already in wire form). */
export function dnsQuestionA(b, o, qname) {
  qname.copy(b, o);
  o += qname.length;
  b.writeUInt32BE(0x00010001, o);
  return o + 4;
}

/**
 * A whole Ethernet/IPv4 ICMP echo frame (98 bytes) from `src` to `dst`, IP id `ipId`:
 * icmpEcho's `type`, `id`, `seq`, `fill` and `withChecksum`.
 */
export function ipv4EchoFrame(b, o, src, dst, ipId, type, id, seq, fill, withChecksum) {
  o = ethernet(b, o, 0x0800);
  o = ipv4(b, o, 1, src, dst, 20 + 64, ipId);
  return icmpEcho(b, o, type, id, seq, fill, withChecksum);
}

/** The length of ipv4EchoFrame's frames. */
export const ECHO_FRAME_BYTES = 14 + 20 + 64;

/**
 * The outer headers of a VXLAN packet (VNI 4360) carrying `innerLen` bytes: Ethernet,
 * IPv4 from `src` to `dst` (IP id `ipId`), UDP from `srcPort` to 4789, VXLAN. Returns
 * where the inner frame goes.
 */
export function vxlanOuter(b, o, src, dst, ipId, srcPort, innerLen) {
  o = ethernet(b, o, 0x0800);
  o = ipv4(b, o, 17, src, dst, 20 + 8 + 8 + innerLen, ipId);
  o = udp(b, o, srcPort, 4789, 8 + 8 + innerLen);
  return vxlan(b, o, 4360);
}
