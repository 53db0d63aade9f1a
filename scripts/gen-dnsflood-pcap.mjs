#!/usr/bin/env node
// A flood of DNS queries nobody answers, each for a name of its own: half for names that
// fit an exchange row (54 bytes on the wire), half for longer ones (77 bytes), one
// after the other, 10 µs apart (classic µs pcap) — a resolver under a random-subdomain
// attack, or a client whose server is gone. `npm run bench` measures peak memory on it:
// every query stays open until its timeout, and each keeps its question's name.
//   node scripts/gen-dnsflood-pcap.mjs OUT.pcap [PACKETS]   (default 1,000,000)
import * as pcapgen from './synthetic-pcap.mjs';

const [out, nStr] = process.argv.slice(2);
const N = Number(nStr ?? 1_000_000);
const pcap = new pcapgen.PcapFileWriter(out);
const buf = pcap.buf;
const CLIENT = 0xc0a86404; // 192.168.100.4
const RESOLVER = 0xc0a86401; // 192.168.100.1
/** `<8 hex digits of i><pad>.example.com` in wire form: a label of 8 + pad bytes. */
function qname(i, pad) {
  const label = i.toString(16).padStart(8, '0') + 'x'.repeat(pad);
  return Buffer.from(`${String.fromCharCode(label.length)}${label}\x07example\x03com\x00`, 'latin1');
}
let us = 0;
for (let i = 0; i < N; i++) {
  const name = qname(i, i & 1 ? 63 - 8 : 32);
  const udpLen = 8 + 12 + name.length + 4;
  let o = pcap.packetStart();
  o = pcapgen.ethernet(buf, o, 0x0800);
  o = pcapgen.ipv4(buf, o, 17, CLIENT, RESOLVER, 20 + udpLen, i & 0xffff);
  o = pcapgen.udp(buf, o, 1024 + (i % 60000), 53, udpLen);
  o = pcapgen.dnsHeader(buf, o, i & 0xffff, 0x0100, 0);
  o = pcapgen.dnsQuestionA(buf, o, name);
  us += 10;
  pcap.commit(o, 1_700_000_000 + Math.floor(us / 1e6), us % 1e6);
}
pcap.close();
