// The fuzzer's starting material: every capture file of the shared corpus (whole, for
// the file target) and every packet in them as the framing stage reads it (for the
// packet target), each packet with its anchors: the offsets, relative to the packet's
// start, of every header and field the decoder found in it unmutated.

import { readdirSync } from 'node:fs';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { MAX_DNS_ANSWERS, PacketRecord } from '../../src/decode/record.js';
import { CaptureReader } from '../../src/framing/index.js';
import { CORPUS_DIR, readCorpusFile } from '../decode/support/corpus.js';
import { offsetFieldNames } from '../decode/support/cut-at-every-length.js';
import { captureLayout, type CaptureLayout } from './capture-layout.js';

export interface SeedPacket {
  file: string;
  /** 1-based number in its file */
  number: number;
  bytes: Uint8Array;
  linktype: number;
  wireLen: number;
  /** header offsets relative to the packet's first byte, ascending, 0 included */
  anchors: Int32Array;
}

export interface SeedFile {
  name: string;
  bytes: Uint8Array;
  layout: CaptureLayout;
}

export interface Seeds {
  files: SeedFile[];
  /** packets grouped by file (files without packets left out), so that small files are picked as often as big ones */
  packetsByFile: SeedPacket[][];
  packetCount: number;
}

export function corpusCaptureNames(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((name) => /\.(pcap|pcapng)$/.test(name))
    .sort();
}

export function loadSeeds(): Seeds {
  const files: SeedFile[] = [];
  const packetsByFile: SeedPacket[][] = [];
  let packetCount = 0;
  const rec = new PacketRecord();
  for (const name of corpusCaptureNames()) {
    const bytes = readCorpusFile(name);
    files.push({ name, bytes, layout: captureLayout(bytes) });
    const linktypes = new Map<number, number>();
    const packets: SeedPacket[] = [];
    const reader = new CaptureReader({
      onInterface: (i) => void linktypes.set(i.id, i.linktype),
      onPacket: (p) => {
        const packet = p.data.slice(p.offset, p.offset + p.caplen);
        const linktype = linktypes.get(p.interfaceId) ?? 1;
        packets.push({
          file: name,
          number: p.packetNumber,
          bytes: packet,
          linktype,
          wireLen: p.len,
          anchors: anchorsOf(packet, linktype, p.len, rec),
        });
      },
    });
    try {
      reader.push(bytes);
      reader.end();
    } catch {
      // damaged corpus files (on purpose): the packets before the fault are seeds too
    }
    if (packets.length > 0) packetsByFile.push(packets);
    packetCount += packets.length;
  }
  return { files, packetsByFile, packetCount };
}

const OFFSET_FIELDS = offsetFieldNames();

/** Offsets of everything the decoder located in the packet, relative to its start. */
function anchorsOf(packet: Uint8Array, linktype: number, wireLen: number, rec: PacketRecord): Int32Array {
  const found = new Set<number>([0]);
  try {
    decodePacket(packet, 0, packet.length, linktype, wireLen, rec);
  } catch {
    return Int32Array.from(found);
  }
  const fields = rec as unknown as Record<string, number>;
  for (const key of OFFSET_FIELDS) {
    const v = fields[key];
    if (Number.isInteger(v) && v >= 0 && v < packet.length) found.add(v);
  }
  for (let i = 0; i < Math.min(rec.dnsAnswerCount, MAX_DNS_ANSWERS); i++) {
    for (const v of [rec.dnsAnswerNameOff[i], rec.dnsAnswerDataOff[i]])
      if (v >= 0 && v < packet.length) found.add(v);
  }
  return Int32Array.from([...found].sort((a, b) => a - b));
}
