#!/usr/bin/env node
// A capture where most exchanges stay open until their timeout: an Ethernet/IPv4 mix of
// ICMP echo (each request and reply sent twice), DNS queries nobody answers, TCP data
// segments and VXLAN-encapsulated ICMP echo requests, 10 µs apart (classic µs pcap).
// `npm run bench` measures memory and speed on it next to gen-mixed-pcap.mjs's mix.
//   node scripts/gen-unanswered-pcap.mjs OUT.pcap [PACKETS]   (default 1,000,000)
import * as pcapgen from './synthetic-pcap.mjs';

const [out, nStr] = process.argv.slice(2);
const N = Number(nStr ?? 1_000_000);
const QNAME = Buffer.from('\x09openstack\x03org\x00', 'latin1');
const pcap = new pcapgen.PcapFileWriter(out);
const buf = pcap.buf;
let t = 1_700_000_000;
const A = 0x0a000218,
  B = 0x01020304; // 10.0.2.24, 1.2.3.4
for (let i = 0; i < N; i++) {
  let o = pcap.packetStart();
  const kind = i % 4;
  const id = i & 0xffff;
  if (kind === 0) {
    // ICMP echo request/reply alternating
    const src = i & 8 ? B : A;
    const dst = i & 8 ? A : B;
    o = pcapgen.ipv4EchoFrame(buf, o, src, dst, id, i & 8 ? 0 : 8, 24895, (i >> 4) & 0xffff, 0x61, true);
  } else if (kind === 1) {
    // DNS query A? openstack.org
    o = pcapgen.ethernet(buf, o, 0x0800);
    o = pcapgen.ipv4(buf, o, 17, 0xc0a86404, 0xc0a86401, 59, id);
    o = pcapgen.udp(buf, o, 54244, 53, 39);
    o = pcapgen.dnsHeader(buf, o, id, 0x0100, 0);
    o = pcapgen.dnsQuestionA(buf, o, QNAME);
  } else if (kind === 2) {
    // TCP segment with payload
    o = pcapgen.ethernet(buf, o, 0x0800);
    o = pcapgen.ipv4(buf, o, 6, 0xc0a87a01, 0xc0a87a14, 40 + 100, id);
    o = pcapgen.tcp(buf, o, 57716, 31167, i, 0, 0x18);
    buf.fill(0x62, o, o + 100);
    o += 100;
  } else {
    // VXLAN(UDP 4789) carrying Ethernet/IPv4/ICMP echo, its checksum left 0
    o = pcapgen.vxlanOuter(buf, o, 0x0a0b0010, 0x0a0b000f, id, 40000 + (i & 0xff), pcapgen.ECHO_FRAME_BYTES);
    o = pcapgen.ipv4EchoFrame(buf, o, 0x0a80020a, 0x0a800304, id, 8, 777, i & 0xffff, 0x63, false);
  }
  // The time stamp steps in floating point (as the captures benchmarked so far were made).
  t += 0.00001;
  const sec = Math.floor(t),
    us = Math.floor((t - sec) * 1e6);
  pcap.commit(o, sec, us);
}
pcap.close();
