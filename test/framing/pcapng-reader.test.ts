import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError, MAX_INTERFACE_ADDRESSES, readCaptureBytes } from '../../src/framing/index.js';
import { PCAP_MICRO_LE, PCAPNG_TWO_SECTIONS } from './fixtures.js';
import { concat, hex } from './hex.js';
import { epb, idb, isb, shb, time64, tsoffset, tsresol, u64 } from './pcapng-blocks.js';
import { collector, readAll, readChunked, readError, type Seen } from './support.js';

/** Reads `bytes` whole, packet comments decoded. */
const read = (bytes: Uint8Array): Seen => readAll(bytes, { packetComments: true });
import { tsharkRows } from '../support/tshark-fields.js';

const SHB_LE = hex`
  0a 0d 0d 0a  1c 00 00 00  4d 3c 2b 1a  01 00 00 00   // SHB, 28 bytes, LE, 1.0
  ff ff ff ff ff ff ff ff  1c 00 00 00                 // section length -1, trailer
`;
const IDB_LE = hex`
  01 00 00 00  14 00 00 00  01 00 00 00  00 00 00 00  14 00 00 00   // IDB, EN10MB, no options
`;

describe('pcapng reader: the two-section fixture', () => {
  const seen = read(PCAPNG_TWO_SECTIONS);

  it('reports both sections with their byte order and SHB options', () => {
    expect(seen.sections.map((s) => [s.index, s.byteOrder, s.versionMajor, s.versionMinor])).toEqual([
      [0, 'LE', 1, 0],
      [1, 'BE', 1, 0],
    ]);
    expect(seen.sections[0].comments).toEqual(['hello']);
    expect(seen.sections[0].userAppl).toBe('test');
  });

  it('describes every IDB: name, description, comment, resolution, offset, FCS; ids unique across sections', () => {
    expect(
      seen.interfaces.map((i) => ({
        id: i.id,
        section: i.section,
        local: i.sectionInterfaceId,
        linktype: i.linktype,
        snaplen: i.snaplen,
        name: i.name,
        description: i.description,
        comments: i.comments,
        res: `${i.tsResolution.base}^-${i.tsResolution.exponent}`,
        offset: i.tsOffsetSec,
        fcs: i.fcsLen,
      })),
    ).toEqual([
      {
        id: 0,
        section: 0,
        local: 0,
        linktype: 1,
        snaplen: 262144,
        name: 'eth0',
        description: 'uplnk',
        comments: ['idb0'],
        res: '10^-6',
        offset: 0,
        fcs: null,
      },
      {
        id: 1,
        section: 0,
        local: 1,
        linktype: 113,
        snaplen: 0,
        name: null,
        description: null,
        comments: [],
        res: '10^-9',
        offset: 0,
        fcs: null,
      },
      {
        id: 2,
        section: 0,
        local: 2,
        linktype: 101,
        snaplen: 64,
        name: null,
        description: null,
        comments: [],
        res: '2^-8',
        offset: 10,
        fcs: 4,
      },
      {
        id: 3,
        section: 1,
        local: 0,
        linktype: 1,
        snaplen: 65535,
        name: 'tap0',
        description: null,
        comments: [],
        res: '10^-6',
        offset: 0,
        fcs: null,
      },
    ]);
  });

  it('reads EPB, SPB and PB packets with exact nanosecond timestamps, direction and comment', () => {
    expect(seen.packets).toEqual([
      {
        iface: 0,
        ts: '1700000000.123456000',
        caplen: 5,
        len: 60,
        bytes: '0102030405',
        direction: 1,
        comment: 'pkt',
        hasTimestamp: true,
        n: 1,
      },
      {
        iface: 1,
        ts: '1700000000.123456789',
        caplen: 4,
        len: 4,
        bytes: 'aabbccdd',
        direction: 2,
        comment: null,
        hasTimestamp: true,
        n: 2,
      },
      // 2^-8 s units: 0x53f10080 & 0xff = 128/256 = .5 s; plus if_tsoffset 10 s
      {
        iface: 2,
        ts: '1700000010.500000000',
        caplen: 1,
        len: 1,
        bytes: '45',
        direction: 0,
        comment: null,
        hasTimestamp: true,
        n: 3,
      },
      // SPB: no timestamp of its own, the previous packet's is carried
      {
        iface: 0,
        ts: '1700000010.500000000',
        caplen: 6,
        len: 6,
        bytes: '101112131415',
        direction: 0,
        comment: null,
        hasTimestamp: false,
        n: 4,
      },
      {
        iface: 0,
        ts: '1700000000.123457000',
        caplen: 2,
        len: 2,
        bytes: 'eeff',
        direction: 2,
        comment: null,
        hasTimestamp: true,
        n: 5,
      },
      {
        iface: 3,
        ts: '1700000000.123458000',
        caplen: 3,
        len: 3,
        bytes: '0a0b0c',
        direction: 0,
        comment: null,
        hasTimestamp: true,
        n: 6,
      },
    ]);
  });

  it('surfaces the ISB counters, then again as final at the end', () => {
    expect(seen.stats).toEqual([
      { interfaceId: 0, received: 100, dropped: 3, final: false },
      { interfaceId: 0, received: 100, dropped: 3, final: true },
    ]);
  });

  it('announces every interface before its first packet', () => {
    expect(seen.events).toEqual(['i0', 'i1', 'i2', 'p1', 'p2', 'p3', 'p4', 'p5', 's0', 'i3', 'p6', 's0']);
  });

  it('warns once that the SPB has no timestamp', () => {
    expect(seen.warnings).toEqual([
      expect.stringMatching(/Simple Packet Block at byte \d+ \(packet 4\) has no timestamp/),
    ]);
  });

  it('decodes packet comments only when asked', () => {
    expect(readAll(PCAPNG_TWO_SECTIONS, { packetComments: false }).packets[0].comment).toBeNull();
  });

  it('gives the same result in 1-byte chunks and in odd-sized chunks', () => {
    expect(readChunked(PCAPNG_TWO_SECTIONS, [1], { packetComments: true })).toEqual(seen);
    expect(readChunked(PCAPNG_TWO_SECTIONS, [3, 50, 7, 129, 1, 2], { packetComments: true })).toEqual(seen);
  });

  it('is a valid pcapng file for tshark too (same packets, times and lengths)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopscope-framing-'));
    const path = join(dir, 'fixture.pcapng');
    writeFileSync(path, PCAPNG_TWO_SECTIONS);
    const rows = tsharkRows(path, ['frame.interface_id', 'frame.time_epoch', 'frame.len', 'frame.cap_len'])
      // tshark lists the custom block as a frame without interface
      .filter((r) => r[0] !== '');
    expect(rows).toEqual([
      ['0', '1700000000.123456000', '60', '5'],
      ['1', '1700000000.123456789', '4', '4'],
      ['2', '1700000010.500000000', '1', '1'],
      ['0', '', '6', '6'],
      ['0', '1700000000.123457000', '2', '2'],
      ['0', '1700000000.123458000', '3', '3'],
    ]);
  });
});

describe('pcapng reader: timestamp resolutions', () => {
  // An IDB with the given if_tsresol byte and an EPB whose 64-bit timestamp is `units`.
  const withResolution = (resol: number, units: bigint): Uint8Array =>
    concat(
      SHB_LE,
      hex`01 00 00 00  1c 00 00 00  01 00 00 00  00 00 00 00`, // IDB, 28 bytes
      Uint8Array.of(9, 0, 1, 0, resol, 0, 0, 0), // if_tsresol
      hex`1c 00 00 00`,
      hex`06 00 00 00  20 00 00 00  00 00 00 00`, // EPB, 32 bytes, interface 0
      Uint8Array.from(Buffer.from((units >> 32n).toString(16).padStart(8, '0'), 'hex').reverse()),
      Uint8Array.from(Buffer.from((units & 0xffffffffn).toString(16).padStart(8, '0'), 'hex').reverse()),
      hex`00 00 00 00  00 00 00 00  20 00 00 00`, // caplen 0, len 0, trailer
    );
  const cases: Array<[string, number, bigint, string]> = [
    ['10^-0 (seconds)', 0, 1700000000n, '1700000000.000000000'],
    ['10^-3', 3, 1700000000123n, '1700000000.123000000'],
    ['10^-6', 6, 1700000000123456n, '1700000000.123456000'],
    ['10^-9', 9, 1700000000123456789n, '1700000000.123456789'],
    ['10^-9, top of 64 bits', 9, 0xffffffffffffffffn, '18446744073.709551615'],
    ['10^-12 (picoseconds, floored)', 12, 1700000000123456789999n & 0xffffffffffffffffn, '-'],
    ['2^-8', 0x88, 1700000000n * 256n + 64n, '1700000000.250000000'],
    ['2^-10 (floored)', 0x8a, 1700000000n * 1024n + 1n, '1700000000.000976562'],
    ['2^-20', 0x94, 1700000000n * 1048576n + 524288n, '1700000000.500000000'],
    ['2^-32', 0xa0, (1700000000n << 32n) + 1n, '1700000000.000000000'],
    ['2^-40 (bigint path)', 0xa8, (1n << 40n) + (1n << 39n), '1.500000000'],
  ];
  for (const [what, resol, units, want] of cases) {
    it(`${what}`, () => {
      const seen = read(withResolution(resol, units));
      const per = resol & 0x80 ? 1n << BigInt(resol & 0x7f) : 10n ** BigInt(resol);
      // reference: exact bigint arithmetic
      const ref = `${units / per}.${(((units % per) * 1_000_000_000n) / per).toString().padStart(9, '0')}`;
      expect(seen.packets[0].ts).toBe(ref);
      if (want !== '-') expect(ref).toBe(want);
    });
  }
});

describe('pcapng reader: extreme if_tsoffset and timestamps', () => {
  it('an offset of -2^63 s and 2^63 + 1700000000 one-second units: exactly 1700000000 s', () => {
    const seen = read(
      concat(shb(), idb([tsresol(0), tsoffset(-(2n ** 63n))]), epb(0, 2n ** 63n + 1700000000n)),
    );
    expect(seen.packets[0].ts).toBe('1700000000.000000000');
    expect(seen.interfaces[0].tsOffsetSec).toBe(-(2 ** 63));
  });

  it('a time past 2^53 - 1 s is refused at the packet, never rounded (it was "9223372036854776000.000000000")', () => {
    const file = concat(shb(), idb([tsoffset(2n ** 63n - 1n)]), epb(0, 1n));
    const err = readError(file);
    expect(err.code).toBe('time_out_of_range');
    expect(err.offset).toBe(28 + 36 + 12); // the EPB's timestamp
    expect(err.packetNumber).toBe(1);
    expect(err.message).toBe(
      'pcapng Enhanced Packet Block time stamp out of range (1 × 10^-6 s + if_tsoffset 9223372036854775807 s = 9223372036854775807 s, past the 9007199254740991-second limit) at byte 76 (packet 1)',
    );
  });

  it('a time before 1970 is refused, after the packets before it were handed on', () => {
    const { seen, handlers } = collector();
    const file = concat(shb(), idb([tsoffset(-10n)]), epb(0, 20_000_000n), epb(0, 5_000_000n));
    expect(() => readCaptureBytes(file, handlers)).toThrow(
      /^pcapng Enhanced Packet Block time stamp out of range \(5000000 × 10\^-6 s \+ if_tsoffset -10 s = -5 s, before 1970\) at byte \d+ \(packet 2\)$/,
    );
    expect(seen.packets.map((p) => p.ts)).toEqual(['10.000000000']);
  });

  it('a statistics block time out of range costs only that time (a warning)', () => {
    const seen = read(
      concat(shb(), idb([tsoffset(-10n)]), isb(0, [time64(2, 1n), time64(3, 30_000_000n), u64(4, 5n)])),
    );
    expect(seen.stats[0]).toMatchObject({ interfaceId: 0, received: 5 });
    expect(seen.statTimes[0]).toEqual({ interfaceId: 0, start: undefined, end: { sec: 20, nsec: 0 } });
    expect(seen.warnings[0]).toMatch(/isb_starttime at byte \d+ is out of range \(.*before 1970\); ignored/);
  });
});

/** An IDB (EN10MB) of a little-endian section holding `options` (ending with opt_endofopt). */
function idbWith(options: Uint8Array): Uint8Array {
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, 20 + options.length, true);
  return concat(hex`01 00 00 00`, len, hex`01 00 00 00  00 00 00 00`, options, len);
}

describe('pcapng reader: the interface addresses of an IDB', () => {
  const OPTIONS = hex`
    04 00 08 00  cb 00 71 01  ff ff ff 00        // if_IPv4addr 203.0.113.1, netmask 255.255.255.0
    04 00 08 00  0a 00 00 05  ff ff ff ff        // if_IPv4addr 10.0.0.5, netmask 255.255.255.255
    04 00 08 00  c0 a8 00 01  ff 00 ff 00        // if_IPv4addr 192.168.0.1, netmask 255.0.255.0: no prefix
    05 00 11 00  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01  40  00 00 00
                                                 // if_IPv6addr 2001:db8::1, prefix 64, padding
    05 00 11 00  fe 80 00 00 00 00 00 00 f8 16 3e ff fe 5a 6b 7c  c8  00 00 00
                                                 // if_IPv6addr fe80::f816:3eff:fe5a:6b7c, prefix 200: none
    04 00 04 00  0a 00 00 06                     // if_IPv4addr of 4 bytes: not one
    00 00 00 00                                  // opt_endofopt
  `;
  const ADDRESSES = [
    '203.0.113.1/24',
    '10.0.0.5/32',
    '192.168.0.1',
    '2001:db8::1/64',
    'fe80::f816:3eff:fe5a:6b7c',
  ];

  it('reads every if_IPv4addr and if_IPv6addr as address/prefix, warning about one of the wrong size', () => {
    const seen = read(concat(SHB_LE, idbWith(OPTIONS)));
    expect(seen.interfaces.map((i) => i.addresses)).toEqual([ADDRESSES]);
    expect(seen.warnings).toEqual(['pcapng if_IPv4addr option of 4 bytes (not 8) at byte 128 ignored']);
  });

  it('reads them in network byte order in a big-endian section too', () => {
    const seen = read(hex`
      0a 0d 0d 0a  00 00 00 1c  1a 2b 3c 4d  00 01 00 00   // SHB, big-endian, 1.0
      ff ff ff ff ff ff ff ff  00 00 00 1c
      00 00 00 01  00 00 00 3c  00 01 00 00  00 00 00 00   // IDB, 60 bytes, EN10MB
      00 04 00 08  cb 00 71 01  ff ff ff 00                // if_IPv4addr 203.0.113.1/24
      00 05 00 11  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01  40  00 00 00
                                                           // if_IPv6addr 2001:db8::1/64
      00 00 00 00  00 00 00 3c                             // opt_endofopt, trailer
    `);
    expect(seen.interfaces.map((i) => i.addresses)).toEqual([['203.0.113.1/24', '2001:db8::1/64']]);
  });

  it('a pcap file has none', () => {
    expect(read(PCAP_MICRO_LE).interfaces.map((i) => i.addresses)).toEqual([[]]);
  });
});

describe('pcapng reader: damaged files', () => {
  it('block length not a multiple of 4', () => {
    const err = readError(concat(SHB_LE, hex`01 00 00 00  0d 00 00 00`, new Uint8Array(8)));
    expect(err.code).toBe('bad_block_length');
    expect(err.message).toBe('pcapng block length 13 not a multiple of 4 at byte 32');
  });

  it('block shorter than its type needs', () => {
    const err = readError(concat(SHB_LE, IDB_LE, hex`06 00 00 00  10 00 00 00  00 00 00 00  10 00 00 00`));
    expect(err.message).toBe(
      'pcapng Enhanced Packet Block length 16 below its 32-byte minimum at byte 52 (packet 1)',
    );
  });

  it('trailing length differs from the leading one', () => {
    const err = readError(
      concat(SHB_LE, hex`01 00 00 00  14 00 00 00  01 00 00 00  00 00 00 00  18 00 00 00`),
    );
    expect(err.code).toBe('block_length_mismatch');
    expect(err.offset).toBe(28 + 16);
  });

  it('a block longer than the limit is refused before it is buffered', () => {
    const { handlers } = collector();
    const bytes = concat(SHB_LE, hex`06 00 00 00  00 00 00 40  00 00 00 00`); // EPB of 1 GiB
    let caught: unknown = null;
    try {
      readCaptureBytes(bytes, handlers);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CaptureFormatError);
    expect((caught as CaptureFormatError).code).toBe('record_too_long');
    expect((caught as CaptureFormatError).message).toBe(
      'pcapng Enhanced Packet Block length 1073741824 exceeds the 16777216-byte limit at byte 32 (packet 1)',
    );
  });

  it('captured length running past its block', () => {
    const err = readError(
      concat(
        SHB_LE,
        IDB_LE,
        hex`06 00 00 00  20 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  08 00 00 00  08 00 00 00  20 00 00 00`,
      ),
    );
    expect(err.code).toBe('packet_overruns_block');
    expect(err.packetNumber).toBe(1);
  });

  it('bad byte-order magic', () => {
    const err = readError(
      hex`0a 0d 0d 0a  1c 00 00 00  11 22 33 44  01 00 00 00  ff ff ff ff ff ff ff ff  1c 00 00 00`,
    );
    expect(err.code).toBe('bad_byte_order_magic');
    expect(err.offset).toBe(8);
  });

  it('an unsupported section version', () => {
    const err = readError(
      hex`0a 0d 0d 0a  1c 00 00 00  4d 3c 2b 1a  01 00 01 00  ff ff ff ff ff ff ff ff  1c 00 00 00`,
    );
    expect(err.message).toBe(
      'unsupported pcapng section version 1.1 (section 0; 1.0 and 1.2 are read) at byte 12',
    );
  });

  it('an EPB on an interface the section has not described', () => {
    const err = readError(
      concat(
        SHB_LE,
        IDB_LE,
        hex`06 00 00 00  20 00 00 00  01 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  20 00 00 00`,
      ),
    );
    expect(err.message).toBe(
      'pcapng Enhanced Packet Block on interface 1, but section 0 has described 1 interface(s) at byte 48 (packet 1)',
    );
  });

  it('interface ids restart with a new section: section 1 cannot use section 0 interfaces', () => {
    const err = readError(
      concat(
        SHB_LE,
        IDB_LE,
        SHB_LE,
        hex`06 00 00 00  20 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  20 00 00 00`,
      ),
    );
    expect(err.code).toBe('unknown_interface');
  });

  it(`an interface with more than ${MAX_INTERFACE_ADDRESSES} addresses is refused at the first one too many`, () => {
    const address = (i: number): Uint8Array =>
      i % 2 === 0
        ? concat(hex`04 00 08 00  0a 00`, Uint8Array.of(i >> 8, i & 0xff), hex`ff ff ff 00`) // 10.0.i/24
        : concat(hex`05 00 11 00  fd 00`, new Uint8Array(13), Uint8Array.of(i, 64), hex`00 00 00`); // fd00::i/64
    const addresses = (n: number): Uint8Array =>
      concat(...Array.from({ length: n }, (_, i) => address(i)), hex`00 00 00 00`);
    // as many as allowed: every one read
    const most = read(concat(SHB_LE, idbWith(addresses(MAX_INTERFACE_ADDRESSES))));
    expect(most.interfaces[0].addresses).toHaveLength(MAX_INTERFACE_ADDRESSES);
    expect(most.interfaces[0].addresses.slice(0, 2)).toEqual(['10.0.0.0/24', 'fd00::1/64']);
    // one more: an error naming where the one too many starts
    const one = MAX_INTERFACE_ADDRESSES / 2;
    const firstTooMany = 28 + 16 + one * 12 + one * 24;
    const err = readError(concat(SHB_LE, idbWith(addresses(MAX_INTERFACE_ADDRESSES + 1))));
    expect(err.code).toBe('too_many_addresses');
    expect(err.offset).toBe(firstTooMany);
    expect(err.message).toBe(
      `pcapng Interface Description Block 0 of section 0 has more than 64 address options at byte ${firstTooMany}`,
    );
    // a hostile block of a hundred thousand stops there too
    expect(readError(concat(SHB_LE, idbWith(addresses(100_000)))).offset).toBe(firstTooMany);
  });

  it('odd options in a packet block cost only the options (warning)', () => {
    const seen = read(
      concat(
        SHB_LE,
        IDB_LE,
        hex`06 00 00 00  24 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00`,
        hex`02 00 40 00`, // epb_flags claiming 64 bytes in a 4-byte option area
        hex`24 00 00 00`,
      ),
    );
    expect(seen.packets.length).toBe(1);
    expect(seen.warnings[0]).toMatch(/packet option 2 of 64 bytes runs past its block/);
  });
});
