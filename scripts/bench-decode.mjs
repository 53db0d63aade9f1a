#!/usr/bin/env node
// One benchmark run in its own process, so its peak RSS is its own:
//   node scripts/bench-decode.mjs FILE [--framing-only]
// Streams FILE through hopscope's framing (and, unless --framing-only, the decoder)
// and prints one JSON line: {packets, seconds, packetsPerSecond, maxRssMB, checksum}.
// The checksum folds decoded fields so the work cannot be optimised away.
import { readCaptureFile } from '../dist/framing/file-source.js';
import { decodePacket } from '../dist/decode/decode-packet.js';
import { PacketRecord } from '../dist/decode/record.js';

const [file, mode] = process.argv.slice(2);
const framingOnly = mode === '--framing-only';
const rec = new PacketRecord();
const linktypes = [];
let packets = 0;
let checksum = 0;
const t0 = process.hrtime.bigint();
await readCaptureFile(file, {
  onInterface(i) {
    linktypes[i.id] = i.linktype;
  },
  onPacket(p) {
    packets++;
    if (framingOnly) {
      checksum = (checksum + p.caplen + p.tsNsec) | 0;
      return;
    }
    decodePacket(p.data, p.offset, p.offset + p.caplen, linktypes[p.interfaceId], p.len, rec);
    checksum = (checksum + rec.ipProto + rec.srcPort + rec.icmpSeq + rec.dnsId + rec.layerCount) | 0;
  },
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  JSON.stringify({ packets, seconds, packetsPerSecond: packets / seconds, maxRssMB, checksum }) + '\n',
);
