import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { PacketRecord } from '../../src/decode/record.js';
import { CaptureFormatError, readCaptureBytes } from '../../src/framing/index.js';
import { CORPUS_AVAILABLE, CORPUS_DIR, readCorpusFile } from './support/corpus.js';
import { cutProblems, offsetProblems } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  LT_IPV4,
  LT_IPV6,
  LT_LINUX_SLL,
  LT_LINUX_SLL2,
  LT_LOOP,
  LT_NULL,
  LT_RAW,
  anomaly,
  be,
  decode,
  ethIpv4Udp,
  layerNames,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const LINKTYPES = [LT_NULL, LT_EN10MB, LT_RAW, LT_LOOP, LT_LINUX_SLL, LT_IPV4, LT_IPV6, LT_LINUX_SLL2];

/** Small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodePacket', () => {
  it('starts every packet from a clean record', () => {
    const rec = new PacketRecord();
    const vxlan = ethIpv4Udp(
      50000,
      4789,
      concat(hex('08000000', be(42, 3), '00'), ethIpv4Udp(1234, 53, new Uint8Array(12))),
    );
    decodePacket(vxlan, 0, vxlan.length, LT_EN10MB, vxlan.length, rec);
    expect(rec.tunnelDepth).toBe(1);
    const arp = concat(
      hex('ffffffffffff', '020000000001', '0806'),
      hex('0001', '0800', '06', '04', '0002', '020000000001', '0a000001', '020000000002', '0a000002'),
    );
    decodePacket(arp, 0, arp.length, LT_EN10MB, arp.length, rec);
    expect(layerNames(rec)).toEqual(['eth', 'arp']);
    expect([rec.tunnelDepth, rec.tunnelVni, rec.srcPort, rec.ipVersion, rec.dnsId, rec.arpOp]).toEqual([
      0, -1, -1, 0, -1, 2,
    ]);
  });

  it('decodes a packet in the middle of a larger buffer (a batch)', () => {
    const frame = ethIpv4Udp(40000, 9, hex('deadbeef'));
    const batch = concat(hex('ffffffff'), frame, hex('eeeeeeee'));
    const rec = decode(batch, LT_EN10MB, frame.length, 4, 4 + frame.length);
    expect(rec.ethDstOff).toBe(4);
    expect(rec.payloadOff + rec.payloadLen).toBe(4 + frame.length);
    expect(anomaly(rec)).toBeNull();
  });

  it('clamps out-of-range arguments instead of reading outside the buffer', () => {
    const frame = ethIpv4Udp(40000, 9, hex('deadbeef'));
    const problems: string[] = [];
    const rec = new PacketRecord();
    for (const [start, end] of [
      [0, frame.length + 100],
      [-5, frame.length],
      [30, 10],
      [frame.length + 10, frame.length + 20],
      [Number.NaN, Number.NaN],
    ]) {
      expect(() => decodePacket(frame, start, end, LT_EN10MB, frame.length, rec)).not.toThrow();
      offsetProblems(rec, `start ${start} end ${end}`, problems);
      expect(rec.end <= frame.length && rec.start >= 0 && rec.start <= rec.end).toBe(true);
    }
    expect(problems).toEqual([]);
  });

  it('never throws on random bytes, on any link type, and keeps every offset in bounds', () => {
    const random = prng(0x5eed);
    const rec = new PacketRecord();
    const problems: string[] = [];
    const buf = new Uint8Array(256);
    for (let i = 0; i < 40_000; i++) {
      const len = Math.floor(random() * buf.length);
      for (let j = 0; j < len; j++) buf[j] = Math.floor(random() * 256);
      const linktype = LINKTYPES[i % LINKTYPES.length];
      try {
        decodePacket(buf, 0, len, linktype, len + (i & 1) * 100, rec);
      } catch (err) {
        problems.push(`random #${i} (linktype ${linktype}, ${len} bytes): threw ${String(err)}`);
      }
      offsetProblems(rec, `random #${i}`, problems);
      if (problems.length > 10) break;
    }
    expect(problems).toEqual([]);
  });
});

interface CorpusPacket {
  name: string;
  number: number;
  linktype: number;
  bytes: Uint8Array;
}

/** Every packet of every corpus capture (pcap and pcapng, through src/framing's reader), copied. */
function corpusPackets(): CorpusPacket[] {
  const out: CorpusPacket[] = [];
  for (const name of readdirSync(CORPUS_DIR).filter((n) => /\.pcap(ng)?$/.test(n))) {
    const linktypes = new Map<number, number>();
    try {
      readCaptureBytes(readCorpusFile(name), {
        onInterface: (iface) => linktypes.set(iface.id, iface.linktype),
        onPacket: (p) => {
          const bytes = p.data.slice(p.offset, p.offset + p.caplen); // valid only during the callback
          out.push({ name, number: p.packetNumber, linktype: linktypes.get(p.interfaceId) ?? -1, bytes });
        },
      });
    } catch (err) {
      if (!(err instanceof CaptureFormatError)) throw err; // broken capture files: framing's business
    }
  }
  return out;
}

describe.skipIf(!CORPUS_AVAILABLE)('every packet of the corpus', () => {
  const packets = CORPUS_AVAILABLE ? corpusPackets() : [];

  it('survives being cut at every length (every prefix; beyond 1,500 bytes every 7th)', () => {
    // Only no-throw and in-bounds offsets are asserted here: whether a cut must read as
    // truncated depends on what the packet declares after it (padding, opaque
    // payloads), which the hand-made fixtures of each layer's test pin down instead.
    const problems: string[] = [];
    const rec = new PacketRecord();
    for (const p of packets) {
      for (const problem of cutProblems(p.bytes, p.linktype, rec, {
        everyLengthUpTo: 1500,
        step: 7,
        truncatedBelow: 0,
      })) {
        problems.push(`${p.name} #${p.number}: ${problem}`);
      }
    }
    expect(packets.length).toBeGreaterThan(2500);
    expect(problems).toEqual([]);
  });

  it('a reused record holds exactly what a fresh one would, whatever packet came before', () => {
    // reset() clears only the field groups a decoder wrote (DNS, DHCP, ARP, a quoted
    // packet): every packet after every kind of packet must still read as from scratch
    const fieldsOf = (rec: PacketRecord): Record<string, unknown> => {
      const f: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(rec)) if (!ArrayBuffer.isView(v)) f[k] = v;
      // arrays: only the part their counts say is this packet's
      f.layers = Array.from(rec.layers.subarray(0, rec.layerCount));
      f.vlanIds = Array.from(rec.vlanIds.subarray(0, rec.vlanCount));
      for (const k of [
        'dnsAnswerType',
        'dnsAnswerNameOff',
        'dnsAnswerDataOff',
        'dnsAnswerDataLen',
        'dnsAnswerTtl',
      ] as const)
        f[k] = Array.from(rec[k].subarray(0, rec.dnsAnswerCount));
      return f;
    };
    const random = prng(0x2e5e7);
    const reused = new PacketRecord();
    const problems: string[] = [];
    for (let i = 0; i < packets.length && problems.length < 5; i++) {
      // the packets in a random order: each follows a packet of another kind and file
      const before = packets[Math.floor(random() * packets.length)];
      const p = packets[i];
      decodePacket(before.bytes, 0, before.bytes.length, before.linktype, before.bytes.length, reused);
      decodePacket(p.bytes, 0, p.bytes.length, p.linktype, p.bytes.length, reused);
      const fresh = new PacketRecord();
      decodePacket(p.bytes, 0, p.bytes.length, p.linktype, p.bytes.length, fresh);
      const a = fieldsOf(reused);
      const b = fieldsOf(fresh);
      for (const k of Object.keys(b))
        if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
          problems.push(
            `${p.name} #${p.number} after ${before.name} #${before.number}: ${k} ${JSON.stringify(a[k])}, fresh ${JSON.stringify(b[k])}`,
          );
    }
    expect(packets.length).toBeGreaterThan(2500);
    expect(problems).toEqual([]);
  });

  it('never throws on corpus packets with random bytes flipped', () => {
    const random = prng(0xf11b);
    const rec = new PacketRecord();
    const problems: string[] = [];
    for (const p of packets) {
      for (let round = 0; round < 12; round++) {
        const mutated = p.bytes.slice();
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips && mutated.length > 0; f++) {
          mutated[Math.floor(random() * Math.min(mutated.length, 128))] = Math.floor(random() * 256);
        }
        try {
          decodePacket(mutated, 0, mutated.length, p.linktype, mutated.length, rec);
        } catch (err) {
          problems.push(`${p.name} #${p.number} mutation ${round}: threw ${String(err)}`);
        }
        offsetProblems(rec, `${p.name} #${p.number} mutation ${round}`, problems);
      }
    }
    expect(problems).toEqual([]);
  });
});
