// Small captures written out byte by byte, each field named. Shared by the reader,
// chunking, merge and writer tests. The timestamps all encode 1700000000.123456789 s
// (or a neighbour) in the file's own unit:
//   seconds 1700000000       = 0x6553f100
//   µs 1700000000123456      = 0x00060a24_18202240
//   ns 1700000000123456789   = 0x17979cfe_3d85cd15
//   2^-8 s: 1700000000.5 s   = 0x00000065_53f10080

import { hex } from './hex.js';

/** pcap, µs, little-endian; snaplen 8 cuts record 1; link-type field with FCS bits but no F bit. */
export const PCAP_MICRO_LE = hex`
  d4 c3 b2 a1   // magic a1b2c3d4 read little-endian: µs timestamps
  02 00 04 00   // version 2.4
  00 00 00 00   // thiszone
  00 00 00 00   // sigfigs
  08 00 00 00   // snaplen 8
  01 00 00 30   // link-type field 0x30000001: EN10MB; FCS length 3 without the F bit = unknown
  // record 1
  00 f1 53 65   // seconds 1700000000
  40 e2 01 00   // microseconds 123456
  08 00 00 00   // caplen 8 (the snaplen)
  3c 00 00 00   // len 60
  01 02 03 04 05 06 07 08
  // record 2
  01 f1 53 65   // seconds 1700000001
  00 00 00 00   // microseconds 0
  02 00 00 00   // caplen 2
  02 00 00 00   // len 2
  aa bb
`;

/** The same packets, big-endian, link-type field 0x24000001 (F bit, FCS 2 words = 4 bytes). */
export const PCAP_MICRO_BE = hex`
  a1 b2 c3 d4   // magic, big-endian, µs
  00 02 00 04   // version 2.4
  00 00 00 00   // thiszone
  00 00 00 00   // sigfigs
  00 00 00 08   // snaplen 8
  24 00 00 01   // link-type field: FCS length 2 words, F bit, EN10MB
  // record 1
  65 53 f1 00   // seconds 1700000000
  00 01 e2 40   // microseconds 123456
  00 00 00 08   // caplen 8
  00 00 00 3c   // len 60
  01 02 03 04 05 06 07 08
  // record 2
  65 53 f1 01   // seconds 1700000001
  00 00 00 00   // microseconds 0
  00 00 00 02   // caplen 2
  00 00 00 02   // len 2
  aa bb
`;

/** pcap, ns, little-endian, LINUX_SLL. */
export const PCAP_NANO_LE = hex`
  4d 3c b2 a1   // magic a1b23c4d read little-endian: ns timestamps
  02 00 04 00   // version 2.4
  00 00 00 00 00 00 00 00
  00 00 04 00   // snaplen 262144
  71 00 00 00   // LINKTYPE_LINUX_SLL (113)
  00 f1 53 65   // seconds 1700000000
  15 cd 5b 07   // nanoseconds 123456789
  03 00 00 00   // caplen 3
  03 00 00 00   // len 3
  0a 0b 0c
`;

export const PCAP_NANO_BE = hex`
  a1 b2 3c 4d   // magic, big-endian, ns
  00 02 00 04   // version 2.4
  00 00 00 00 00 00 00 00
  00 04 00 00   // snaplen 262144
  00 00 00 71   // LINKTYPE_LINUX_SLL (113)
  65 53 f1 00   // seconds 1700000000
  07 5b cd 15   // nanoseconds 123456789
  00 00 00 03   // caplen 3
  00 00 00 03   // len 3
  0a 0b 0c
`;

/** Kuznetzov's "modified" pcap (magic a1b2cd34): 24-byte records with pkt_type. */
export const PCAP_KUZNETZOV_LE = hex`
  34 cd b2 a1   // magic a1b2cd34 little-endian
  02 00 04 00   // version 2.4
  00 00 00 00 00 00 00 00
  ff ff 00 00   // snaplen 65535
  01 00 00 00   // EN10MB
  00 f1 53 65   // seconds 1700000000
  40 e2 01 00   // microseconds 123456
  02 00 00 00   // caplen 2
  02 00 00 00   // len 2
  02 00 00 00   // ifindex 2
  00 08         // protocol 0x0800
  04            // pkt_type 4: PACKET_OUTGOING
  00            // pad
  ca fe
`;

/** pcap 2.2, where libpcap wrote len before caplen. */
export const PCAP_V22_SWAPPED = hex`
  d4 c3 b2 a1   // magic, µs, LE
  02 00 02 00   // version 2.2
  00 00 00 00 00 00 00 00
  ff ff 00 00   // snaplen 65535
  01 00 00 00   // EN10MB
  00 f1 53 65   // seconds
  00 00 00 00   // microseconds
  3c 00 00 00   // (2.2) len 60
  04 00 00 00   // (2.2) caplen 4
  01 02 03 04
`;

/**
 * pcapng, two sections. Section 0 (little-endian): three interfaces with µs, ns and
 * 2^-8 s units; EPBs with flags and a comment, an SPB, an obsolete PB, an NRB, an
 * unknown and a custom block, an ISB. Section 1 (big-endian): interface ids restart.
 */
export const PCAPNG_TWO_SECTIONS = hex`
  // --- Section Header Block, little-endian ---
  0a 0d 0d 0a               // block type SHB
  34 00 00 00               // block total length 52
  4d 3c 2b 1a               // byte-order magic 1a2b3c4d read little-endian
  01 00 00 00               // version 1.0
  ff ff ff ff ff ff ff ff   // section length: unknown
  01 00 05 00 68 65 6c 6c 6f 00 00 00   // opt_comment "hello"
  04 00 04 00 74 65 73 74   // shb_userappl "test"
  00 00 00 00               // opt_endofopt
  34 00 00 00               // block total length 52

  // --- IDB 0: EN10MB, named, µs (default if_tsresol) ---
  01 00 00 00               // block type IDB
  34 00 00 00               // 52
  01 00 00 00               // linktype 1, reserved 0
  00 00 04 00               // snaplen 262144
  02 00 04 00 65 74 68 30   // if_name "eth0"
  03 00 05 00 75 70 6c 6e 6b 00 00 00   // if_description "uplnk"
  01 00 04 00 69 64 62 30   // opt_comment "idb0"
  00 00 00 00               // opt_endofopt
  34 00 00 00

  // --- IDB 1: LINUX_SLL, unnamed, ns ---
  01 00 00 00
  20 00 00 00               // 32
  71 00 00 00               // linktype 113
  00 00 00 00               // snaplen 0: no limit
  09 00 01 00 09 00 00 00   // if_tsresol 9: 10^-9 s
  00 00 00 00
  20 00 00 00

  // --- IDB 2: RAW, 2^-8 s, offset +10 s, 4-byte FCS ---
  01 00 00 00
  34 00 00 00               // 52
  65 00 00 00               // linktype 101
  40 00 00 00               // snaplen 64
  09 00 01 00 88 00 00 00   // if_tsresol 0x88: 2^-8 s
  0e 00 08 00 0a 00 00 00 00 00 00 00   // if_tsoffset +10 s
  0d 00 01 00 04 00 00 00   // if_fcslen 4
  00 00 00 00
  34 00 00 00

  // --- EPB on interface 0: inbound, commented ---
  06 00 00 00               // block type EPB
  3c 00 00 00               // 60
  00 00 00 00               // interface 0
  24 0a 06 00               // timestamp high  } 1700000000123456 µs
  40 22 20 18               // timestamp low   }
  05 00 00 00               // captured length 5
  3c 00 00 00               // original length 60
  01 02 03 04 05 00 00 00   // data + 3 bytes padding
  02 00 04 00 01 00 00 00   // epb_flags: direction inbound
  01 00 03 00 70 6b 74 00   // opt_comment "pkt"
  00 00 00 00               // opt_endofopt
  3c 00 00 00

  // --- EPB on interface 1: outbound ---
  06 00 00 00
  30 00 00 00               // 48
  01 00 00 00               // interface 1
  fe 9c 97 17               // timestamp high  } 1700000000123456789 ns
  15 cd 85 3d               // timestamp low   }
  04 00 00 00               // captured length 4
  04 00 00 00               // original length 4
  aa bb cc dd
  02 00 04 00 02 00 00 00   // epb_flags: direction outbound
  00 00 00 00
  30 00 00 00

  // --- EPB on interface 2, no options ---
  06 00 00 00
  24 00 00 00               // 36
  02 00 00 00               // interface 2
  65 00 00 00               // timestamp high  } 1700000000.5 s in 2^-8 s units
  80 00 f1 53               // timestamp low   }   (+10 s if_tsoffset)
  01 00 00 00               // captured length 1
  01 00 00 00               // original length 1
  45 00 00 00               // data + padding
  24 00 00 00

  // --- Simple Packet Block: interface 0, no timestamp ---
  03 00 00 00               // block type SPB
  18 00 00 00               // 24
  06 00 00 00               // original length 6 (snaplen 262144: all captured)
  10 11 12 13 14 15 00 00   // data + padding
  18 00 00 00

  // --- Packet Block (obsolete): interface 0, outbound ---
  02 00 00 00               // block type PB
  30 00 00 00               // 48
  00 00                     // interface 0
  00 00                     // drops count
  24 0a 06 00               // timestamp high  } 1700000000123457 µs
  41 22 20 18               // timestamp low   }
  02 00 00 00               // captured length 2
  02 00 00 00               // original length 2
  ee ff 00 00
  02 00 04 00 02 00 00 00   // pack_flags: outbound
  00 00 00 00
  30 00 00 00

  // --- Name Resolution Block: skipped ---
  04 00 00 00
  1c 00 00 00               // 28
  01 00 06 00 c0 00 02 01 61 00 00 00   // nrb_record_ipv4 192.0.2.1 "a"
  00 00 00 00               // nrb_record_end
  1c 00 00 00

  // --- a block type nobody knows: skipped ---
  78 56 34 12
  10 00 00 00               // 16
  de ad be ef
  10 00 00 00

  // --- Custom Block (0x00000BAD): skipped ---
  ad 0b 00 00
  14 00 00 00               // 20
  7b 00 00 00               // private enterprise number 123
  01 02 03 04
  14 00 00 00

  // --- Interface Statistics Block for interface 0 ---
  05 00 00 00               // block type ISB
  34 00 00 00               // 52
  00 00 00 00               // interface 0
  24 0a 06 00               // timestamp high
  40 22 20 18               // timestamp low
  04 00 08 00 64 00 00 00 00 00 00 00   // isb_ifrecv 100
  05 00 08 00 03 00 00 00 00 00 00 00   // isb_ifdrop 3
  00 00 00 00
  34 00 00 00

  // --- Section Header Block, big-endian ---
  0a 0d 0d 0a
  00 00 00 1c               // 28
  1a 2b 3c 4d               // byte-order magic read big-endian
  00 01 00 00               // version 1.0
  ff ff ff ff ff ff ff ff
  00 00 00 1c

  // --- IDB 0 of section 1 ---
  00 00 00 01
  00 00 00 20               // 32
  00 01 00 00               // linktype 1
  00 00 ff ff               // snaplen 65535
  00 02 00 04 74 61 70 30   // if_name "tap0"
  00 00 00 00
  00 00 00 20

  // --- EPB on interface 0 of section 1 ---
  00 00 00 06
  00 00 00 24               // 36
  00 00 00 00               // interface 0 (of this section)
  00 06 0a 24               // timestamp high  } 1700000000123458 µs
  18 20 22 42               // timestamp low   }
  00 00 00 03               // captured length 3
  00 00 00 03               // original length 3
  0a 0b 0c 00
  00 00 00 24
`;

/**
 * A pcapng file with one Ethernet interface and one packet per timestamp given: counts
 * of the interface's unit, ns unless another if_tsresol byte is given (0x94: 2^-20 s).
 */
export function pcapngOneInterface(name: string | null, timesNs: bigint[], tsresol = 9): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number): void =>
    void parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const u16 = (v: number): void => void parts.push(v & 0xff, (v >>> 8) & 0xff);
  u32(0x0a0d0d0a);
  u32(28);
  u32(0x1a2b3c4d);
  u16(1);
  u16(0);
  u32(0xffffffff);
  u32(0xffffffff);
  u32(28);
  const nameBytes = name === null ? [] : [...new TextEncoder().encode(name)];
  const namePadded = (nameBytes.length + 3) & ~3;
  const idbLen = 20 + 8 + (name === null ? 0 : 4 + namePadded) + 4;
  u32(1);
  u32(idbLen);
  u16(1);
  u16(0);
  u32(65535);
  if (name !== null) {
    u16(2);
    u16(nameBytes.length);
    parts.push(...nameBytes, ...new Array<number>(namePadded - nameBytes.length).fill(0));
  }
  u16(9);
  u16(1);
  parts.push(tsresol, 0, 0, 0);
  u32(0);
  u32(idbLen);
  for (const t of timesNs) {
    u32(6);
    u32(36);
    u32(0);
    u32(Number(t >> 32n));
    u32(Number(t & 0xffffffffn));
    u32(4);
    u32(4);
    u32(Number(t % 1000n));
    u32(36);
  }
  return Uint8Array.from(parts);
}

/** A µs little-endian pcap with one 4-byte packet per timestamp (ns, truncated to µs); byte 3 = index. */
export function pcapMicro(timesNs: bigint[]): Uint8Array {
  const b = Buffer.alloc(24 + timesNs.length * 20);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(65535, 16);
  b.writeUInt32LE(1, 20);
  timesNs.forEach((t, i) => {
    const o = 24 + i * 20;
    b.writeUInt32LE(Number(t / 1_000_000_000n), o);
    b.writeUInt32LE(Number((t % 1_000_000_000n) / 1000n), o + 4);
    b.writeUInt32LE(4, o + 8);
    b.writeUInt32LE(4, o + 12);
    b.writeUInt32LE(i, o + 16);
  });
  return new Uint8Array(b);
}
