// Where the fields of a capture file are, so the file fuzzer can hit them on purpose:
// the units (pcap file header and records, pcapng blocks) and, inside them, the
// fixed-width fields (lengths, types, magic numbers, versions, link types, option
// codes and lengths), each with its width and byte order. A lenient walk: it stops
// quietly at the first thing that does not add up (the corpus holds damaged files
// on purpose), and what it found until then is still used.

import { walkPcap } from '../decode/support/pcap-walker.js';

export type FieldKind =
  | 'magic'
  | 'version'
  | 'length'
  | 'blockType'
  | 'linktype'
  | 'snaplen'
  | 'interfaceId'
  | 'time'
  | 'optionCode'
  | 'optionLength'
  | 'tsresol'
  | 'other';

export interface FieldAnchor {
  off: number;
  width: 1 | 2 | 4 | 8;
  le: boolean;
  kind: FieldKind;
}

export interface CaptureLayout {
  format: 'pcap' | 'pcapng' | 'unknown';
  /** [start, end) of the file header / each record / each block, in file order */
  units: Array<{ start: number; end: number }>;
  fields: FieldAnchor[];
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const PB = 2;
const SPB = 3;
const ISB = 5;
const EPB = 6;

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function pad4(n: number): number {
  return n + ((4 - (n & 3)) & 3);
}

export function captureLayout(file: Uint8Array): CaptureLayout {
  if (file.length >= 4 && u32(file, 0, true) === SHB) return pcapngLayout(file);
  const pcap = walkPcap(file);
  if (pcap !== null) {
    const le = !pcap.bigEndian;
    const fields: FieldAnchor[] = [
      { off: 0, width: 4, le, kind: 'magic' },
      { off: 4, width: 2, le, kind: 'version' },
      { off: 6, width: 2, le, kind: 'version' },
      { off: 8, width: 4, le, kind: 'other' },
      { off: 12, width: 4, le, kind: 'other' },
      { off: 16, width: 4, le, kind: 'snaplen' },
      { off: 20, width: 4, le, kind: 'linktype' },
      { off: 20, width: 2, le, kind: 'linktype' },
    ];
    const units = [{ start: 0, end: 24 }];
    for (const p of pcap.packets) {
      const r = p.offset - 16;
      units.push({ start: r, end: p.offset + p.caplen });
      fields.push(
        { off: r, width: 4, le, kind: 'time' },
        { off: r + 4, width: 4, le, kind: 'time' },
        { off: r + 8, width: 4, le, kind: 'length' },
        { off: r + 12, width: 4, le, kind: 'length' },
      );
    }
    return { format: 'pcap', units, fields };
  }
  return { format: 'unknown', units: [], fields: [] };
}

function pcapngLayout(file: Uint8Array): CaptureLayout {
  const units: CaptureLayout['units'] = [];
  const fields: FieldAnchor[] = [];
  let le = true;
  let o = 0;
  while (file.length - o >= 12) {
    let type = u32(file, o, le);
    if (type === SHB || u32(file, o, !le) === SHB) {
      const magic = u32(file, o + 8, true);
      if (magic === 0x1a2b3c4d) le = true;
      else if (magic === 0x4d3c2b1a) le = false;
      else break;
      type = SHB;
    }
    const length = u32(file, o + 4, le);
    if (length < 12 || length % 4 !== 0 || length > file.length - o) break;
    units.push({ start: o, end: o + length });
    fields.push(
      { off: o, width: 4, le, kind: 'blockType' },
      { off: o + 4, width: 4, le, kind: 'length' },
      { off: o + length - 4, width: 4, le, kind: 'length' },
    );
    let optionsAt = -1;
    switch (type) {
      case SHB:
        fields.push(
          { off: o + 8, width: 4, le, kind: 'magic' },
          { off: o + 12, width: 2, le, kind: 'version' },
          { off: o + 14, width: 2, le, kind: 'version' },
          { off: o + 16, width: 8, le, kind: 'length' },
        );
        optionsAt = o + 24;
        break;
      case IDB:
        fields.push(
          { off: o + 8, width: 2, le, kind: 'linktype' },
          { off: o + 10, width: 2, le, kind: 'other' },
          { off: o + 12, width: 4, le, kind: 'snaplen' },
        );
        optionsAt = o + 16;
        break;
      case EPB:
      case PB:
        fields.push(
          type === EPB
            ? { off: o + 8, width: 4, le, kind: 'interfaceId' }
            : { off: o + 8, width: 2, le, kind: 'interfaceId' },
          { off: o + 12, width: 4, le, kind: 'time' },
          { off: o + 16, width: 4, le, kind: 'time' },
          { off: o + 20, width: 4, le, kind: 'length' },
          { off: o + 24, width: 4, le, kind: 'length' },
        );
        if (length >= 32) optionsAt = o + 28 + pad4(u32(file, o + 20, le));
        break;
      case SPB:
        fields.push({ off: o + 8, width: 4, le, kind: 'length' });
        break;
      case ISB:
        fields.push(
          { off: o + 8, width: 4, le, kind: 'interfaceId' },
          { off: o + 12, width: 4, le, kind: 'time' },
          { off: o + 16, width: 4, le, kind: 'time' },
        );
        optionsAt = o + 20;
        break;
    }
    if (optionsAt >= 0) optionFields(file, optionsAt, o + length - 4, le, type === IDB, fields);
    o += length;
  }
  return { format: 'pcapng', units, fields };
}

function optionFields(
  file: Uint8Array,
  start: number,
  end: number,
  le: boolean,
  idb: boolean,
  fields: FieldAnchor[],
): void {
  let o = start;
  while (end - o >= 4) {
    const code = u16(file, o, le);
    const len = u16(file, o + 2, le);
    fields.push(
      { off: o, width: 2, le, kind: 'optionCode' },
      { off: o + 2, width: 2, le, kind: 'optionLength' },
    );
    if (code === 0 || o + 4 + len > end) return;
    if (idb && code === 9 && len === 1) fields.push({ off: o + 4, width: 1, le, kind: 'tsresol' });
    else if (len === 8) fields.push({ off: o + 4, width: 8, le, kind: 'other' });
    else if (len === 4) fields.push({ off: o + 4, width: 4, le, kind: 'other' });
    else if (len === 1) fields.push({ off: o + 4, width: 1, le, kind: 'other' });
    o += 4 + pad4(len);
  }
}
