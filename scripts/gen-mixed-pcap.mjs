#!/usr/bin/env node
// Writes a synthetic classic pcap (µs, little-endian, EN10MB) of N packets for the
// benchmarks: a steady mix of ICMP echo request/reply, DNS query/response over UDP,
// TCP handshakes with data, and VXLAN-encapsulated ICMP, across --flows distinct
// flows (addresses vary per flow, so correlation state grows with --flows).
//   node scripts/gen-mixed-pcap.mjs OUT.pcap [--packets N] [--flows F]
// Packets are built into one large buffer and written in big chunks: generating
// 10M packets takes seconds, not minutes.
import * as pcapgen from './synthetic-pcap.mjs';

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

const QNAME = Buffer.from('\x03web\x09openstack\x03org\x00', 'latin1');
const pcap = new pcapgen.PcapFileWriter(out);
const buf = pcap.buf;

let sec = 1_700_000_000;
let usec = 0;
for (let i = 0; i < N; i++) {
  let o = pcap.packetStart();
  const flow = (i >> 3) % FLOWS;
  const client = (0x0a000000 | ((flow + 2) & 0xffffff)) >>> 0; // 10.x.y.z per flow
  const server = 0xc633640a; // 198.51.100.10
  const reply = (i & 1) === 1;
  const src = reply ? server : client;
  const dst = reply ? client : server;
  const id = i & 0xffff;
  const seq = (i >> 3) & 0xffff;
  switch ((i >> 1) & 3) {
    case 0: {
      o = pcapgen.ipv4EchoFrame(buf, o, src, dst, id, reply ? 0 : 8, flow & 0xffff, seq, 0x61, true);
      break;
    }
    case 1: {
      o = pcapgen.ethernet(buf, o, 0x0800);
      const dnsLen = 12 + QNAME.length + 4 + (reply ? 16 : 0);
      o = pcapgen.ipv4(buf, o, 17, src, dst, 20 + 8 + dnsLen, id);
      const clientPort = 30000 + (flow & 0x7fff);
      o = pcapgen.udp(buf, o, reply ? 53 : clientPort, reply ? clientPort : 53, 8 + dnsLen);
      o = pcapgen.dnsHeader(buf, o, seq, reply ? 0x8180 : 0x0100, reply ? 1 : 0);
      o = pcapgen.dnsQuestionA(buf, o, QNAME);
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
      o = pcapgen.ethernet(buf, o, 0x0800);
      const payload = reply ? 0 : 100;
      o = pcapgen.ipv4(buf, o, 6, src, dst, 40 + payload, id);
      const clientPort = 40000 + (flow & 0x3fff);
      const isn = (i * 7919) >>> 0;
      o = pcapgen.tcp(
        buf,
        o,
        reply ? 22 : clientPort,
        reply ? clientPort : 22,
        isn,
        reply ? (i * 7919 + 1) >>> 0 : 0,
        reply ? 0x12 : 0x18,
      );
      buf.fill(0x62, o, o + payload);
      o += payload;
      break;
    }
    default: {
      const tunnelPort = 49152 + (flow & 0x3fff);
      o = pcapgen.vxlanOuter(buf, o, 0xc0a80a01, 0xc0a80a02, id, tunnelPort, pcapgen.ECHO_FRAME_BYTES);
      o = pcapgen.ipv4EchoFrame(buf, o, src, dst, id, reply ? 0 : 8, 777, seq, 0x61, true);
    }
  }
  usec += 10;
  if (usec >= 1_000_000) {
    usec -= 1_000_000;
    sec++;
  }
  pcap.commit(o, sec, usec);
}
pcap.close();
