#!/usr/bin/env node
// The design card's `pcap-parser`, measured on the same µs pcap as hopscope's
// framing (it reads neither ns pcap nor pcapng):  node scripts/bench-pcap-parser.mjs FILE
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser');

const [file] = process.argv.slice(2);
let packets = 0;
let checksum = 0;
const t0 = process.hrtime.bigint();
await new Promise((resolve, reject) => {
  const parser = pcapParser.parse(file);
  parser.on('packet', (p) => {
    packets++;
    checksum = (checksum + p.header.capturedLength + p.header.timestampMicroseconds) | 0;
  });
  parser.on('end', resolve);
  parser.on('error', reject);
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(
  JSON.stringify({
    packets,
    seconds,
    packetsPerSecond: packets / seconds,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    checksum,
  }) + '\n',
);
