#!/usr/bin/env node
// A scan nobody answers: one host sending TCP SYNs to a new port and ICMP echo requests
// to a new address, one after the other, 10 µs apart (classic µs pcap) — every packet a
// question of its own, so exchanges pile up to the correlator's in-flight limit and stay
// there. `npm run bench` measures peak memory on it (the other mixes open far fewer).
//   node scripts/gen-scan-pcap.mjs OUT.pcap [PACKETS]   (default 1,000,000)
import * as pcapgen from './synthetic-pcap.mjs';

const [out, nStr] = process.argv.slice(2);
const N = Number(nStr ?? 1_000_000);
const pcap = new pcapgen.PcapFileWriter(out);
const buf = pcap.buf;
const SCANNER = 0xc0a80105; // 192.168.1.5
let us = 0;
for (let i = 0; i < N; i++) {
  let o = pcap.packetStart();
  const dst = 0x0a000000 + ((i >>> 8) & 0xffffff); // 10.0.0.0 onwards, 256 packets each
  if (i & 1) {
    o = pcapgen.ethernet(buf, o, 0x0800);
    o = pcapgen.ipv4(buf, o, 6, SCANNER, dst, 40, i & 0xffff);
    o = pcapgen.tcp(
      buf,
      o,
      40000 + (i & 0x3fff),
      1 + (((i >>> 1) & 0xffff) % 65535),
      (i * 2654435761) >>> 0,
      0,
      0x02,
    );
  } else {
    o = pcapgen.ipv4EchoFrame(buf, o, SCANNER, dst, i & 0xffff, 8, 4242, (i >>> 1) & 0xffff, 0x61, true);
  }
  us += 10;
  pcap.commit(o, 1_700_000_000 + Math.floor(us / 1e6), us % 1e6);
}
pcap.close();
