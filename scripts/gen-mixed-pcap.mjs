#!/usr/bin/env node
// Writes a synthetic classic pcap (µs, little-endian, EN10MB) of N packets for the
// benchmarks: a steady mix of ICMP echo request/reply, DNS query/response over UDP,
// TCP handshakes with data, and VXLAN-encapsulated ICMP, across --flows distinct
// flows (addresses vary per flow, so correlation state grows with --flows).
//   node scripts/gen-mixed-pcap.mjs OUT.pcap [--packets N] [--flows F]
// Packets are built into one large buffer and written in big chunks: generating
// 10M packets takes seconds, not minutes.
import { openSync, writeSync, closeSync } from 'node:fs';

const args = process.argv.slice(2);
const out = args[0];
if (!out || out.startsWith('-')) {
  process.stderr.write('usage: gen-mixed-pcap.mjs OUT.pcap [--packets N] [--flows F]\n');
  process.exit(2);
}
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = opt('--packets', 1_000_000);
const FLOWS = Math.max(1, opt('--flows', 1000));

const CHUNK = 8 * 1024 * 1024;
const buf = Buffer.alloc(CHUNK + 4096);
let used = 0;
const fd = openSync(out, 'w', 0o644);
function flushIfFull(force = false) {
  if (used > CHUNK || (force && used > 0)) {
    writeSync(fd, buf, 0, used);
    used = 0;
  }
}

// pcap global header: µs magic, v2.4, snaplen 262144, EN10MB
buf.writeUInt32LE(0xa1b2c3d4, 0);
buf.writeUInt16LE(2, 4);
buf.writeUInt16LE(4, 6);
buf.writeUInt32LE(262144, 16);
buf.writeUInt32LE(1, 20);
used = 24;

function checksum(b, s, e) {
  let x = 0;
  for (let i = s; i < e; i += 2) x += (b[i] << 8) | (i + 1 < e ? b[i + 1] : 0);
  while (x >> 16) x = (x & 0xffff) + (x >> 16);
  return ~x & 0xffff;
}
function ethernet(o, type) {
  buf[o] = 0xfa;
  buf[o + 1] = 0x16;
  buf[o + 2] = 0x3e;
  buf[o + 3] = 0x56;
  buf[o + 4] = 0x0b;
  buf[o + 5] = 0x6f;
  buf[o + 6] = 0xfa;
  buf[o + 7] = 0x16;
  buf[o + 8] = 0x3e;
  buf[o + 9] = 0x01;
  buf[o + 10] = 0x02;
  buf[o + 11] = 0x03;
  buf.writeUInt16BE(type, o + 12);
  return o + 14;
}
function ipv4(o, proto, src, dst, totalLen, id) {
  buf[o] = 0x45;
  buf[o + 1] = 0;
  buf.writeUInt16BE(totalLen, o + 2);
  buf.writeUInt16BE(id, o + 4);
  buf.writeUInt16BE(0x4000, o + 6);
  buf[o + 8] = 64;
  buf[o + 9] = proto;
  buf.writeUInt16BE(0, o + 10);
  buf.writeUInt32BE(src >>> 0, o + 12);
  buf.writeUInt32BE(dst >>> 0, o + 16);
  buf.writeUInt16BE(checksum(buf, o, o + 20), o + 10);
  return o + 20;
}
function icmpEcho(o, type, id, seq) {
  buf[o] = type;
  buf[o + 1] = 0;
  buf.writeUInt16BE(0, o + 2);
  buf.writeUInt16BE(id, o + 4);
  buf.writeUInt16BE(seq, o + 6);
  buf.fill(0x61, o + 8, o + 64);
  buf.writeUInt16BE(checksum(buf, o, o + 64), o + 2);
  return o + 64;
}
const QNAME = Buffer.from('\x03web\x09openstack\x03org\x00', 'latin1');

let sec = 1_700_000_000;
let usec = 0;
for (let i = 0; i < N; i++) {
  const rec = used;
  let o = rec + 16;
  const flow = (i >> 3) % FLOWS;
  const client = (0x0a000000 | ((flow + 2) & 0xffffff)) >>> 0; // 10.x.y.z per flow
  const server = 0xc633640a; // 198.51.100.10
  const reply = (i & 1) === 1;
  const id = i & 0xffff;
  const seq = (i >> 3) & 0xffff;
  switch ((i >> 1) & 3) {
    case 0: {
      o = ethernet(o, 0x0800);
      o = ipv4(o, 1, reply ? server : client, reply ? client : server, 84, id);
      o = icmpEcho(o, reply ? 0 : 8, flow & 0xffff, seq);
      break;
    }
    case 1: {
      o = ethernet(o, 0x0800);
      const dnsLen = 12 + QNAME.length + 4 + (reply ? 16 : 0);
      o = ipv4(o, 17, reply ? server : client, reply ? client : server, 20 + 8 + dnsLen, id);
      buf.writeUInt16BE(reply ? 53 : 30000 + (flow & 0x7fff), o);
      buf.writeUInt16BE(reply ? 30000 + (flow & 0x7fff) : 53, o + 2);
      buf.writeUInt16BE(8 + dnsLen, o + 4);
      buf.writeUInt16BE(0, o + 6);
      o += 8;
      buf.writeUInt16BE(seq, o);
      buf.writeUInt16BE(reply ? 0x8180 : 0x0100, o + 2);
      buf.writeUInt16BE(1, o + 4);
      buf.writeUInt16BE(reply ? 1 : 0, o + 6);
      buf.writeUInt32BE(0, o + 8);
      o += 12;
      QNAME.copy(buf, o);
      o += QNAME.length;
      buf.writeUInt32BE(0x00010001, o);
      o += 4;
      if (reply) {
        buf.writeUInt16BE(0xc00c, o); // pointer to the question name
        buf.writeUInt32BE(0x00010001, o + 2);
        buf.writeUInt32BE(300, o + 6);
        buf.writeUInt16BE(4, o + 10);
        buf.writeUInt32BE(server, o + 12);
        o += 16;
      }
      break;
    }
    case 2: {
      o = ethernet(o, 0x0800);
      const payload = reply ? 0 : 100;
      o = ipv4(o, 6, reply ? server : client, reply ? client : server, 40 + payload, id);
      buf.writeUInt16BE(reply ? 22 : 40000 + (flow & 0x3fff), o);
      buf.writeUInt16BE(reply ? 40000 + (flow & 0x3fff) : 22, o + 2);
      buf.writeUInt32BE((i * 7919) >>> 0, o + 4);
      buf.writeUInt32BE(reply ? (i * 7919 + 1) >>> 0 : 0, o + 8);
      buf[o + 12] = 0x50;
      buf[o + 13] = reply ? 0x12 : 0x18;
      buf.writeUInt16BE(29200, o + 14);
      buf.writeUInt32BE(0, o + 16);
      o += 20;
      buf.fill(0x62, o, o + payload);
      o += payload;
      break;
    }
    default: {
      o = ethernet(o, 0x0800);
      const inner = 14 + 20 + 64;
      o = ipv4(o, 17, 0xc0a80a01, 0xc0a80a02, 20 + 8 + 8 + inner, id);
      buf.writeUInt16BE(49152 + (flow & 0x3fff), o);
      buf.writeUInt16BE(4789, o + 2);
      buf.writeUInt16BE(8 + 8 + inner, o + 4);
      buf.writeUInt16BE(0, o + 6);
      o += 8;
      buf[o] = 0x08;
      buf.fill(0, o + 1, o + 8);
      buf.writeUIntBE(4360, o + 4, 3);
      o += 8;
      o = ethernet(o, 0x0800);
      o = ipv4(o, 1, reply ? server : client, reply ? client : server, 84, id);
      o = icmpEcho(o, reply ? 0 : 8, 777, seq);
    }
  }
  usec += 10;
  if (usec >= 1_000_000) {
    usec -= 1_000_000;
    sec++;
  }
  const caplen = o - rec - 16;
  buf.writeUInt32LE(sec, rec);
  buf.writeUInt32LE(usec, rec + 4);
  buf.writeUInt32LE(caplen, rec + 8);
  buf.writeUInt32LE(caplen, rec + 12);
  used = o;
  flushIfFull();
}
flushIfFull(true);
closeSync(fd);
