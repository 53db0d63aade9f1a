import { describe, expect, it } from 'vitest';
import {
  PCAP_KUZNETZOV_LE,
  PCAP_MICRO_BE,
  PCAP_MICRO_LE,
  PCAP_NANO_BE,
  PCAP_NANO_LE,
  PCAP_V22_SWAPPED,
} from './fixtures.js';
import { concat, hex } from './hex.js';
import { readAll, readChunked, readError } from './support.js';

const HEADER_LE = hex`
  d4 c3 b2 a1  02 00 04 00  00 00 00 00  00 00 00 00   // µs, LE, 2.4
  00 00 04 00  01 00 00 00                             // snaplen 262144, EN10MB
`;

describe('pcap reader', () => {
  it('µs little-endian: one interface without name, records cut by the snaplen', () => {
    const seen = readAll(PCAP_MICRO_LE);
    expect(seen.sections).toEqual([
      {
        index: 0,
        format: 'pcap',
        byteOrder: 'LE',
        versionMajor: 2,
        versionMinor: 4,
        comments: [],
        hardware: null,
        os: null,
        userAppl: null,
      },
    ]);
    expect(seen.interfaces).toEqual([
      {
        id: 0,
        format: 'pcap',
        section: 0,
        sectionInterfaceId: 0,
        linktype: 1,
        snaplen: 8,
        name: null,
        description: null,
        comments: [],
        tsResolution: { base: 10, exponent: 6 },
        tsOffsetSec: 0,
        // 0x30000001: FCS length bits set but not the F bit, so the length is unknown
        fcsLen: null,
        blockOffset: 0,
        addresses: [],
        // (a pcap file has no room for it)
        mac: null,
      },
    ]);
    expect(seen.packets).toEqual([
      {
        iface: 0,
        ts: '1700000000.123456000',
        caplen: 8,
        len: 60,
        bytes: '0102030405060708',
        direction: 0,
        comment: null,
        hasTimestamp: true,
        n: 1,
      },
      {
        iface: 0,
        ts: '1700000001.000000000',
        caplen: 2,
        len: 2,
        bytes: 'aabb',
        direction: 0,
        comment: null,
        hasTimestamp: true,
        n: 2,
      },
    ]);
    expect(seen.warnings).toEqual([]);
  });

  it('µs big-endian reads the same packets; F bit gives the FCS length (2 words = 4 bytes)', () => {
    const le = readAll(PCAP_MICRO_LE);
    const be = readAll(PCAP_MICRO_BE);
    expect(be.packets).toEqual(le.packets);
    expect(be.sections[0].byteOrder).toBe('BE');
    expect(be.interfaces[0].linktype).toBe(1);
    expect(be.interfaces[0].fcsLen).toBe(4);
  });

  it('ns, both byte orders', () => {
    for (const bytes of [PCAP_NANO_LE, PCAP_NANO_BE]) {
      const seen = readAll(bytes);
      expect(seen.interfaces[0].tsResolution).toEqual({ base: 10, exponent: 9 });
      expect(seen.interfaces[0].linktype).toBe(113);
      expect(seen.packets.map((p) => [p.ts, p.bytes])).toEqual([['1700000000.123456789', '0a0b0c']]);
    }
  });

  it('Kuznetzov pcap: 24-byte records; pkt_type OUTGOING is outbound', () => {
    const seen = readAll(PCAP_KUZNETZOV_LE);
    expect(seen.packets.map((p) => [p.ts, p.bytes, p.direction])).toEqual([
      ['1700000000.123456000', 'cafe', 2],
    ]);
  });

  it('version 2.2: caplen and len stored swapped, as libpcap untangles them', () => {
    expect(readAll(PCAP_V22_SWAPPED).packets.map((p) => [p.caplen, p.len, p.bytes])).toEqual([
      [4, 60, '01020304'],
    ]);
  });

  it('header only: zero packets, no error, no warning', () => {
    const seen = readAll(HEADER_LE);
    expect(seen.interfaces.length).toBe(1);
    expect(seen.packets).toEqual([]);
    expect(seen.warnings).toEqual([]);
  });

  it('caplen above the snaplen but within the link type maximum: kept as stored, one warning', () => {
    const small = hex`
      d4 c3 b2 a1  02 00 04 00  00 00 00 00  00 00 00 00
      02 00 00 00  01 00 00 00                         // snaplen 2
      00 f1 53 65  00 00 00 00  04 00 00 00  04 00 00 00  01 02 03 04   // caplen 4
      00 f1 53 65  00 00 00 00  04 00 00 00  04 00 00 00  05 06 07 08   // caplen 4
    `;
    const seen = readAll(small);
    expect(seen.packets.map((p) => p.bytes)).toEqual(['01020304', '05060708']);
    expect(seen.warnings).toEqual([
      "pcap record caplen 4 exceeds the file's snaplen 2 at byte 24 (packet 1); kept as stored",
      "pcap record caplen 4 exceeds the file's snaplen 2 at byte 24 (packet 1); kept as stored [2 times in all]",
    ]);
  });

  it('caplen beyond any sane size is an error naming the record', () => {
    const bytes = concat(
      HEADER_LE,
      ...Array.from({ length: 6 }, () => hex`00 f1 53 65  00 00 00 00  01 00 00 00  01 00 00 00  ff`),
      hex`00 f1 53 65  00 00 00 00  ff ff ff ff  ff ff ff ff`, // record 7: caplen 4294967295
    );
    const err = readError(bytes);
    expect(err.code).toBe('record_too_long');
    expect(err.message).toBe(
      'pcap record caplen 4294967295 exceeds the 262144-byte maximum for link type 1 (snaplen 262144) at byte 126 (packet 7)',
    );
    expect(err.offset).toBe(24 + 6 * 17);
    expect(err.packetNumber).toBe(7);
  });

  it('a snaplen above 256 KiB raises the maximum to the snaplen (BIG TCP captures)', () => {
    const header = hex`d4 c3 b2 a1  02 00 04 00  00 00 00 00  00 00 00 00  00 00 10 00  01 00 00 00`; // snaplen 1 MiB
    const big = new Uint8Array(16 + 300000);
    big.set(hex`00 f1 53 65  00 00 00 00  e0 93 04 00  e0 93 04 00`); // caplen 300000
    expect(readAll(concat(header, big)).packets[0].caplen).toBe(300000);
  });

  it('reserved link-type bits are an error; unsupported versions too', () => {
    expect(readError(hex`d4 c3 b2 a1 02 00 04 00 00000000 00000000 ffff0000 01 00 01 00`).message).toBe(
      'pcap link-type field 0x00010001 has reserved bits 16-25 set at byte 20',
    );
    expect(readError(hex`d4 c3 b2 a1 03 00 00 00 00000000 00000000 ffff0000 01 00 00 00`).message).toBe(
      'unsupported pcap version 3.0 (2.0 to 2.4 are read) at byte 4',
    );
  });

  it('the latest times a pcap can hold are exact: 32-bit seconds, the largest fraction carried', () => {
    for (const [magic, perSec] of [
      [0xa1b2c3d4, 1_000_000n],
      [0xa1b23c4d, 1_000_000_000n],
    ] as const) {
      const b = Buffer.alloc(24 + 16);
      b.writeUInt32LE(magic, 0);
      b.writeUInt16LE(2, 4);
      b.writeUInt16LE(4, 6);
      b.writeUInt32LE(65535, 16);
      b.writeUInt32LE(1, 20);
      b.writeUInt32LE(0xffffffff, 24); // seconds
      b.writeUInt32LE(0xffffffff, 28); // a fraction far past one second
      const seen = readAll(new Uint8Array(b));
      const total = 0xffffffffn * perSec + 0xffffffffn;
      const frac = ((total % perSec) * 1_000_000_000n) / perSec;
      expect(seen.packets[0].ts).toBe(`${total / perSec}.${String(frac).padStart(9, '0')}`);
    }
  });

  it('every chunking gives the same packets', () => {
    for (const bytes of [
      PCAP_MICRO_LE,
      PCAP_MICRO_BE,
      PCAP_NANO_LE,
      PCAP_NANO_BE,
      PCAP_KUZNETZOV_LE,
      PCAP_V22_SWAPPED,
    ]) {
      const whole = readAll(bytes);
      expect(readChunked(bytes, [1])).toEqual(whole);
      expect(readChunked(bytes, [5, 1, 23, 2])).toEqual(whole);
    }
  });
});
