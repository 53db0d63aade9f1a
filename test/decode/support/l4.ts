// Driving one L4/application decoder directly (icmp, icmpv6, tcp, dns, dhcp, dhcpv6),
// without the link/IP layers: at an offset the test computes itself. Also a tiny
// locator of the first IP header's payload in corpus frames, and tshark's reference
// fields for them (corpus README "Using the TSVs in a test").

import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { PacketRecord, TRUNCATED_REASONS } from '../../../src/decode/record.js';
import { seededRandom } from '../../support/seeded-random.js';
import { corpusPath, readCorpusPcap } from './corpus.js';

export type Decoder = (b: Uint8Array, off: number, end: number, rec: PacketRecord) => void;

/** Decodes bytes[off, end) with `decoder` into a fresh record whose packet is bytes[0, end) of a `wireLen`-byte packet. */
export function decodeWith(
  decoder: Decoder,
  bytes: Uint8Array,
  off = 0,
  end = bytes.length,
  wireLen = bytes.length,
): PacketRecord {
  const rec = new PacketRecord();
  rec.reset(bytes, 0, end, 1, wireLen);
  decoder(bytes, off, end, rec);
  return rec;
}

/**
 * The direct robustness check for one decoder: the packet is cut, as snaplen would,
 * at every length from `off` to its full length, and each time
 * - the decoder returns (never throws);
 * - the only anomaly it may report is truncation of its own layer, or the anomaly the
 *   full packet has;
 * - when it does not say truncated, `project(rec)` equals the full decode's: a cut
 *   never yields a silently different answer.
 * `firstCut` (default `off`): the shortest cut tried, for fixtures whose first bytes
 * after `off` are data the decoder does not own (TCP payload before a DNS message).
 */
export function cutEveryLengthDirect(
  decoder: Decoder,
  bytes: Uint8Array,
  off: number,
  project: (rec: PacketRecord) => unknown,
  firstCut = off,
): void {
  const full = decodeWith(decoder, bytes, off);
  const fullView = project(full);
  for (let end = firstCut; end < bytes.length; end++) {
    const rec = new PacketRecord();
    rec.reset(bytes, 0, end, 1, bytes.length);
    expect(() => decoder(bytes, off, end, rec), `cut at ${end}`).not.toThrow();
    if (rec.malformedReason !== '' && rec.malformedReason !== full.malformedReason) {
      expect(TRUNCATED_REASONS.includes(rec.malformedReason), `cut at ${end}: ${rec.malformedReason}`).toBe(
        true,
      );
    }
    if (!rec.truncated) expect(project(rec), `cut at ${end} not marked truncated`).toEqual(fullView);
  }
}

/** Flips random bytes of `bytes` (after `off`) `rounds` times and decodes each: never throws. */
export function mutateAndDecode(
  decoder: Decoder,
  bytes: Uint8Array,
  off: number,
  rounds = 300,
  seed = 7,
): void {
  const rnd = seededRandom(seed);
  for (let r = 0; r < rounds; r++) {
    const copy = bytes.slice();
    const flips = 1 + Math.floor(rnd() * 4);
    for (let f = 0; f < flips; f++) {
      const at = off + Math.floor(rnd() * (copy.length - off));
      copy[at] = Math.floor(rnd() * 256);
    }
    const end = off + Math.floor(rnd() * (copy.length - off + 1));
    const rec = new PacketRecord();
    rec.reset(copy, 0, end, 1, copy.length);
    expect(() => decoder(copy, off, end, rec), `mutation ${r}`).not.toThrow();
  }
}

// ------------------------------------------------------------------------------------
// Corpus frames, located by this file's own small link/IP walk.

export interface IpFrame {
  number: number;
  /** the whole file; the packet is bytes[start, end) */
  bytes: Uint8Array;
  start: number;
  end: number;
  wireLen: number;
  ipVersion: 4 | 6;
  l3Off: number;
  /** transport protocol after IPv6 extension headers */
  proto: number;
  l4Off: number;
  /** min(IP declared end, captured end) */
  l4End: number;
  laterFragment: boolean;
}

const IPV6_EXT_GENERIC = new Set([0, 43, 60, 135, 139, 140]);

/** Every frame of a classic-pcap corpus file whose first network header is IPv4/IPv6. */
export function corpusIpFrames(name: string): IpFrame[] {
  const { file, pcap } = readCorpusPcap(name);
  const linktype = pcap.linktype & 0xffff;
  const out: IpFrame[] = [];
  for (const p of pcap.packets) {
    const start = p.offset;
    const end = p.offset + p.caplen;
    const l3 = linkToL3(file, start, end, linktype);
    if (l3 < 0 || end - l3 < 1) continue;
    const frame = ipToL4(file, l3, end);
    if (frame === null) continue;
    out.push({ number: p.number, bytes: file, start, end, wireLen: p.len, l3Off: l3, ...frame });
  }
  return out;
}

/** A fresh record for `f`, reset to its packet (as decodePacket would). */
export function recordFor(f: IpFrame): PacketRecord {
  const rec = new PacketRecord();
  rec.reset(f.bytes, f.start, f.end, 1, f.wireLen);
  return rec;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function linkToL3(b: Uint8Array, s: number, e: number, linktype: number): number {
  switch (linktype) {
    case 1: {
      // Ethernet, 802.1Q/802.1ad tags
      let o = s + 12;
      while (o + 2 <= e && (u16(b, o) === 0x8100 || u16(b, o) === 0x88a8)) o += 4;
      if (o + 2 > e) return -1;
      const t = u16(b, o);
      return t === 0x0800 || t === 0x86dd ? o + 2 : -1;
    }
    case 0: // DLT_NULL, address family in host order
      return s + 4;
    case 9: // PPP in HDLC-like framing
      if (b[s] === 0xff && b[s + 1] === 0x03)
        return u16(b, s + 2) === 0x21 || u16(b, s + 2) === 0x57 ? s + 4 : -1;
      return -1;
    case 12:
    case 101:
    case 228:
    case 229:
      return s;
    case 113: // LINUX_SLL
      return u16(b, s + 14) === 0x0800 || u16(b, s + 14) === 0x86dd ? s + 16 : -1;
    case 276: // LINUX_SLL2
      return u16(b, s) === 0x0800 || u16(b, s) === 0x86dd ? s + 20 : -1;
    default:
      return -1;
  }
}

function ipToL4(
  b: Uint8Array,
  o: number,
  e: number,
): Omit<IpFrame, 'number' | 'bytes' | 'start' | 'end' | 'wireLen' | 'l3Off'> | null {
  const version = b[o] >> 4;
  if (version === 4) {
    if (e - o < 20) return null;
    const ihl = (b[o] & 15) * 4;
    const total = u16(b, o + 2);
    if (ihl < 20 || total < ihl) return null;
    const l4Off = o + ihl;
    return {
      ipVersion: 4,
      proto: b[o + 9],
      l4Off,
      l4End: Math.min(o + total, e),
      laterFragment: (u16(b, o + 6) & 0x1fff) !== 0,
    };
  }
  if (version === 6) {
    if (e - o < 40) return null;
    const l4EndDeclared = o + 40 + u16(b, o + 4);
    let next = b[o + 6];
    let p = o + 40;
    let laterFragment = false;
    for (let i = 0; i < 8; i++) {
      if (IPV6_EXT_GENERIC.has(next)) {
        if (p + 2 > e) return null;
        const len = (b[p + 1] + 1) * 8;
        next = b[p];
        p += len;
      } else if (next === 44) {
        if (p + 8 > e) return null;
        laterFragment = (u16(b, p + 2) & 0xfff8) !== 0;
        next = b[p];
        p += 8;
      } else if (next === 51) {
        if (p + 2 > e) return null;
        const len = (b[p + 1] + 2) * 4;
        next = b[p];
        p += len;
      } else break;
    }
    return { ipVersion: 6, proto: next, l4Off: p, l4End: Math.min(l4EndDeclared, e), laterFragment };
  }
  return null;
}

/** UDP payload offset and end (by the UDP length, bounded by the IP end) of a UDP frame. */
export function udpPayload(
  f: IpFrame,
): { off: number; end: number; srcPort: number; dstPort: number } | null {
  if (f.proto !== 17 || f.laterFragment || f.l4End - f.l4Off < 8) return null;
  const len = u16(f.bytes, f.l4Off + 4);
  const end = len >= 8 ? Math.min(f.l4Off + len, f.l4End) : f.l4End;
  return { off: f.l4Off + 8, end, srcPort: u16(f.bytes, f.l4Off), dstPort: u16(f.bytes, f.l4Off + 2) };
}

// ------------------------------------------------------------------------------------
// tshark reference fields (X.tshark.noreasm.tsv: one dissection per packet)

export type TsharkRow = Record<string, string>;

/** Rows of `<name>.tshark.noreasm.tsv` by frame number; empty when the file is absent. */
export function tsharkRows(name: string): Map<number, TsharkRow> {
  const path = corpusPath(`${name}.tshark.noreasm.tsv`);
  const rows = new Map<number, TsharkRow>();
  if (!existsSync(path)) return rows;
  const lines = readFileSync(path, 'utf8').split('\n');
  const header = lines[0].split('\t');
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const cells = line.split('\t');
    const row: TsharkRow = {};
    header.forEach((h, i) => (row[h] = cells[i] ?? ''));
    rows.set(Number(row['frame.number']), row);
  }
  return rows;
}

/** The comma-separated occurrences of a field (outermost first); [] when empty. */
export function values(row: TsharkRow | undefined, field: string): string[] {
  const v = row?.[field] ?? '';
  return v === '' ? [] : v.split(',');
}

/** What a decoder is checked against tshark with: its record of one frame, and tshark's row of it. */
export interface TsharkCheck {
  rec: PacketRecord;
  row: TsharkRow | undefined;
  /** the file and frame number, for messages */
  what: string;
  frame: IpFrame;
  file: string;
}

/**
 * The region of itAgreesWithTshark for a transport decoder: the transport layer
 * [l4Off, l4End) of first fragments carrying IP protocol `proto` (over IP version
 * `ipVersion`, or either).
 */
export function transportOf(
  proto: number,
  ipVersion?: 4 | 6,
): (f: IpFrame) => { off: number; end: number } | null {
  return (f) =>
    f.proto !== proto || f.laterFragment || (ipVersion !== undefined && f.ipVersion !== ipVersion)
      ? null
      : { off: f.l4Off, end: f.l4End };
}

/**
 * One test per corpus file: every IP frame whose bytes `region` gives the decoder
 * (null: not this decoder's) is decoded into a fresh record, never throwing, and
 * `check`ed against tshark's row of the frame. `check` returns false when tshark did
 * not decode that far: the frame does not count. Each file must have a frame counted,
 * unless it is one of `mayCheckNone`.
 */
export function itAgreesWithTshark(
  files: readonly string[],
  decoder: Decoder,
  region: (f: IpFrame) => { off: number; end: number } | null,
  check: (c: TsharkCheck) => boolean,
  mayCheckNone: readonly string[] = [],
): void {
  for (const file of files) {
    it(file, () => {
      const rows = tsharkRows(file);
      let checked = 0;
      for (const frame of corpusIpFrames(file)) {
        const at = region(frame);
        if (at === null) continue;
        const rec = recordFor(frame);
        expect(() => decoder(frame.bytes, at.off, at.end, rec)).not.toThrow();
        const what = `${file} #${frame.number}`;
        if (check({ rec, row: rows.get(frame.number), what, frame, file })) checked++;
      }
      if (!mayCheckNone.includes(file)) expect(checked, file).toBeGreaterThan(0);
    });
  }
}
