#!/usr/bin/env node
// A capture where most exchanges stay open until their timeout: an Ethernet/IPv4 mix of
// ICMP echo (each request and reply sent twice), DNS queries nobody answers, TCP data
// segments and VXLAN-encapsulated ICMP echo requests, 10 µs apart (classic µs pcap).
// `npm run bench` measures memory and speed on it next to gen-mixed-pcap.mjs's mix.
//   node scripts/gen-unanswered-pcap.mjs OUT.pcap [PACKETS]   (default 1,000,000)
import { openSync, writeSync, closeSync } from 'node:fs';
const [out, nStr] = process.argv.slice(2);
const N = Number(nStr ?? 1_000_000);
const fd = openSync(out, 'w');
const gh = Buffer.alloc(24);
gh.writeUInt32LE(0xa1b2c3d4, 0);
gh.writeUInt16LE(2, 4);
gh.writeUInt16LE(4, 6);
gh.writeUInt32LE(262144, 16);
gh.writeUInt32LE(1, 20);
writeSync(fd, gh);
function csum(b, s, e) {
  let x = 0;
  for (let i = s; i < e; i += 2) x += (b[i] << 8) | (b[i + 1] ?? 0);
  while (x >> 16) x = (x & 0xffff) + (x >> 16);
  return ~x & 0xffff;
}
function eth(b, o, type) {
  b.set([0xfa, 0x16, 0x3e, 0x56, 0x0b, 0x6f, 0xfa, 0x16, 0x3e, 0x01, 0x02, 0x03], o);
  b.writeUInt16BE(type, o + 12);
  return o + 14;
}
function ip4(b, o, proto, src, dst, len, id) {
  b[o] = 0x45;
  b[o + 1] = 0;
  b.writeUInt16BE(len, o + 2);
  b.writeUInt16BE(id, o + 4);
  b.writeUInt16BE(0x4000, o + 6);
  b[o + 8] = 64;
  b[o + 9] = proto;
  b.writeUInt32BE(src, o + 12);
  b.writeUInt32BE(dst, o + 16);
  b.writeUInt16BE(0, o + 10);
  b.writeUInt16BE(csum(b, o, o + 20), o + 10);
  return o + 20;
}
const buf = Buffer.alloc(2048);
const rec = Buffer.alloc(16);
let t = 1_700_000_000;
const A = 0x0a000218,
  B = 0x01020304; // 10.0.2.24, 1.2.3.4
for (let i = 0; i < N; i++) {
  let o;
  const kind = i % 4;
  const id = i & 0xffff;
  if (kind === 0) {
    // ICMP echo request/reply alternating
    o = eth(buf, 0, 0x0800);
    o = ip4(buf, o, 1, i & 8 ? B : A, i & 8 ? A : B, 84, id);
    buf[o] = i & 8 ? 0 : 8;
    buf[o + 1] = 0;
    buf.writeUInt16BE(0, o + 2);
    buf.writeUInt16BE(24895, o + 4);
    buf.writeUInt16BE((i >> 4) & 0xffff, o + 6);
    buf.fill(0x61, o + 8, o + 64);
    buf.writeUInt16BE(csum(buf, o, o + 64), o + 2);
    o += 64;
  } else if (kind === 1) {
    // DNS query A? openstack.org
    o = eth(buf, 0, 0x0800);
    o = ip4(buf, o, 17, 0xc0a86404, 0xc0a86401, 59, id);
    buf.writeUInt16BE(54244, o);
    buf.writeUInt16BE(53, o + 2);
    buf.writeUInt16BE(39, o + 4);
    buf.writeUInt16BE(0, o + 6);
    o += 8;
    buf.writeUInt16BE(id, o);
    buf.writeUInt16BE(0x0100, o + 2);
    buf.writeUInt16BE(1, o + 4);
    buf.fill(0, o + 6, o + 12);
    o += 12;
    const q = Buffer.from('\x09openstack\x03org\x00', 'latin1');
    q.copy(buf, o);
    o += q.length;
    buf.writeUInt16BE(1, o);
    buf.writeUInt16BE(1, o + 2);
    o += 4;
  } else if (kind === 2) {
    // TCP segment with payload
    o = eth(buf, 0, 0x0800);
    o = ip4(buf, o, 6, 0xc0a87a01, 0xc0a87a14, 40 + 100, id);
    buf.writeUInt16BE(57716, o);
    buf.writeUInt16BE(31167, o + 2);
    buf.writeUInt32BE(i, o + 4);
    buf.writeUInt32BE(0, o + 8);
    buf[o + 12] = 0x50;
    buf[o + 13] = 0x18;
    buf.writeUInt16BE(29200, o + 14);
    buf.writeUInt32BE(0, o + 16);
    o += 20;
    buf.fill(0x62, o, o + 100);
    o += 100;
  } else {
    // VXLAN(UDP 4789) carrying Ethernet/IPv4/ICMP echo
    o = eth(buf, 0, 0x0800);
    const inner = 14 + 20 + 64;
    o = ip4(buf, o, 17, 0x0a0b0010, 0x0a0b000f, 20 + 8 + 8 + inner, id);
    buf.writeUInt16BE(40000 + (i & 0xff), o);
    buf.writeUInt16BE(4789, o + 2);
    buf.writeUInt16BE(8 + 8 + inner, o + 4);
    buf.writeUInt16BE(0, o + 6);
    o += 8;
    buf[o] = 0x08;
    buf.fill(0, o + 1, o + 8);
    buf.writeUIntBE(4360, o + 4, 3);
    o += 8;
    o = eth(buf, o, 0x0800);
    o = ip4(buf, o, 1, 0x0a80020a, 0x0a800304, 84, id);
    buf[o] = 8;
    buf[o + 1] = 0;
    buf.writeUInt16BE(0, o + 2);
    buf.writeUInt16BE(777, o + 4);
    buf.writeUInt16BE(i & 0xffff, o + 6);
    buf.fill(0x63, o + 8, o + 64);
    o += 64;
  }
  t += 0.00001;
  const sec = Math.floor(t),
    us = Math.floor((t - sec) * 1e6);
  rec.writeUInt32LE(sec, 0);
  rec.writeUInt32LE(us, 4);
  rec.writeUInt32LE(o, 8);
  rec.writeUInt32LE(o, 12);
  writeSync(fd, rec);
  writeSync(fd, buf, 0, o);
}
closeSync(fd);
