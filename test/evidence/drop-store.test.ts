// The drop store's query (src/evidence/kernel/drop-store.ts) decodes only the records whose
// raw fields may be the missing packet: that check must never turn away a record that
// isSamePacket accepts. Random records — many of them close to the packet, differing in
// one field — against the packets of every kind; and a query over a flood of other drops
// still finds the packet's. The query's order of tests (cheapest first) changes nothing:
// it gives what a plain walk of every record gives, on random records, namespaces,
// times and windows, in a ring that has wrapped.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../support/seeded-random.js';
import type { ExchangePacket } from '../../src/evidence/context.js';
import { decodeDrop, DROP_RECORD_BYTES, DropField, DropFlag } from '../../src/evidence/kernel/drop-record.js';
import { DropStore, mayBeSamePacket } from '../../src/evidence/kernel/drop-store.js';
import { emptyExchangePacket, isSamePacket } from '../../src/evidence/packet-fields.js';

const PACKETS: ExchangePacket[] = [
  base({
    family: 4,
    src: '10.0.0.10',
    dst: '203.0.113.10',
    proto: 1,
    ipId: 4660,
    icmpType: 8,
    icmpId: 7,
    icmpSeq: 3,
  }),
  base({
    family: 4,
    src: '10.0.0.10',
    dst: '203.0.113.10',
    proto: 17,
    ipId: 99,
    ipLength: 61,
    sport: 40000,
    dport: 53,
  }),
  base({
    family: 4,
    src: '10.0.0.10',
    dst: '203.0.113.10',
    proto: 6,
    ipId: null,
    sport: 40000,
    dport: 22,
    tcpSeq: 5,
  }),
  // a missing answer: no IP id or length known, its ports
  base({ family: 4, src: '203.0.113.10', dst: '10.0.0.10', proto: 17, sport: 53, dport: 40000 }),
  base({ family: 4, src: '203.0.113.10', dst: '10.0.0.10', proto: 6, sport: 22, dport: 40000 }),
  base({ family: 6, src: 'fd00::10', dst: 'fd00::1', proto: 58, icmpType: 128, icmpId: 7, icmpSeq: 3 }),
  base({ family: 'arp', src: '10.0.0.10', dst: '10.0.0.1', proto: 0, ipLength: 28, icmpType: 1 }),
];

function base(p: Partial<ExchangePacket>): ExchangePacket {
  return { ...emptyExchangePacket(), ...p };
}

function put(bytes: Uint8Array, at: number, text: string): void {
  if (text.includes(':')) {
    // fd00::N
    bytes[at] = 0xfd;
    bytes[at + 15] = Number.parseInt(text.split('::')[1], 16);
  } else text.split('.').forEach((o, i) => (bytes[at + i] = Number(o)));
}

/** A record that is the packet with some of its fields changed at random. */
function record(bytes: Uint8Array, v: DataView, at: number, p: ExchangePacket, rnd: () => number): void {
  bytes.fill(0, at, at + DROP_RECORD_BYTES);
  const change = (): boolean => rnd() < 0.3;
  const family = change() ? (['arp', 4, 6] as const)[Math.floor(rnd() * 3)] : p.family;
  let flags = rnd() < 0.5 ? DropFlag.L4 : 0;
  if (family === 'arp') flags |= DropFlag.Arp;
  if (family === 6) flags |= DropFlag.Ipv6;
  if (family === 4 && rnd() < 0.2) flags |= DropFlag.Inner;
  bytes[at + DropField.Flags] = flags;
  v.setUint16(
    at + DropField.L3proto,
    family === 4 && (flags & DropFlag.Inner) === 0 ? 0x0800 : family === 6 ? 0x86dd : 0x0806,
    true,
  );
  bytes[at + DropField.IpProto] = change() ? Math.floor(rnd() * 20) : p.proto;
  v.setUint16(at + DropField.IpId, change() || p.ipId === null ? Math.floor(rnd() * 65536) : p.ipId, true);
  v.setUint16(at + DropField.IpLen, change() ? Math.floor(rnd() * 100) : p.ipLength, true);
  put(bytes, at + DropField.Src, change() ? '192.0.2.1' : p.src);
  put(bytes, at + DropField.Dst, change() ? '192.0.2.2' : p.dst);
  v.setUint16(at + DropField.Sport, change() ? 1 : (p.sport ?? p.icmpId ?? 0), true);
  v.setUint16(at + DropField.Dport, change() ? 2 : (p.dport ?? p.icmpSeq ?? 0), true);
  v.setUint32(at + DropField.TcpSeq, change() ? 77 : (p.tcpSeq ?? 0), true);
  bytes[at + DropField.IcmpType] = change() ? Math.floor(rnd() * 256) : (p.icmpType ?? 0);
}

describe('drop store', () => {
  it('the raw check never turns away a record isSamePacket accepts', () => {
    const bytes = new Uint8Array(DROP_RECORD_BYTES);
    const v = new DataView(bytes.buffer);
    const rnd = seededRandom(7);
    let same = 0;
    let turnedAway = 0;
    for (let k = 0; k < 20_000; k++) {
      const p = PACKETS[k % PACKETS.length];
      record(bytes, v, 0, p, rnd);
      const accepted = isSamePacket(decodeDrop(bytes, v, 0), p);
      const may = mayBeSamePacket(bytes, v, 0, p);
      if (accepted) {
        same++;
        expect(may, `record ${k} for ${p.family}/${p.proto}`).toBe(true);
      } else if (!may) turnedAway++;
    }
    // both sides of the check were exercised
    expect(same).toBeGreaterThan(1000);
    expect(turnedAway).toBeGreaterThan(5000);
  });

  it('gives what a plain walk of every kept record gives (window, namespaces, packet, byTime bound)', () => {
    const rnd = seededRandom(11);
    // namespace inodes as the kernel numbers them: above 2^31
    const NS0 = 4_026_532_000;
    const capacity = 3000;
    const store = new DropStore(capacity);
    const kept: Uint8Array[] = [];
    // batches that wrap the ring anywhere, one larger than the ring (only its newest are kept)
    const sizes = [1100, 1700, 3500, 450];
    let made = 0;
    for (let round = 0; round < sizes.length; round++) {
      const n = sizes[round];
      const batch = new Uint8Array(n * DROP_RECORD_BYTES);
      const v = new DataView(batch.buffer);
      for (let k = 0; k < n; k++) {
        const at = k * DROP_RECORD_BYTES;
        record(batch, v, at, PACKETS[Math.floor(rnd() * PACKETS.length)], rnd);
        const t = (made + k) * 1_000_000 + Math.floor(rnd() * 3_000_000);
        v.setUint32(at + DropField.TsSec, 500 + Math.floor(t / 1e9), true);
        v.setUint32(at + DropField.TsNsec, t % 1e9, true);
        v.setUint32(at + DropField.Netns, NS0 + Math.floor(rnd() * 3), true);
        kept.push(batch.slice(at, at + DROP_RECORD_BYTES));
      }
      store.push(batch.buffer, n);
      made += n;
      expect(store.size).toBe(Math.min(made, capacity));
      expect(store.overwritten).toBe(Math.max(0, made - capacity));
    }
    const held = kept.slice(-capacity);
    for (let q = 0; q < 300; q++) {
      const packet = rnd() < 0.1 ? null : PACKETS[q % PACKETS.length];
      // one or two of the records' namespaces; now and then a dozen, most of them not
      // the records' (more than the query's scratch holds at first)
      const netns = new Set([
        ...(rnd() < 0.1 ? Array.from({ length: 11 }, (_, i) => NS0 + 3 + i) : []),
        NS0 + Math.floor(rnd() * 3),
        ...(rnd() < 0.5 ? [NS0 + Math.floor(rnd() * 3)] : []),
      ]);
      const from = 500e9 + Math.floor(rnd() * 6.7e9);
      const to = from + Math.floor(rnd() * 2e9);
      // 0: only the packet's own drops, as the evidence asks
      const limit = Math.floor(rnd() * 21);
      const got = store.query({ netns, startNs: BigInt(from), endNs: BigInt(to), packet }, limit);
      // the plain walk
      const byPacket: number[] = [];
      const byTime: number[] = [];
      for (const r of held) {
        const v = new DataView(r.buffer);
        const t = v.getUint32(DropField.TsSec, true) * 1e9 + v.getUint32(DropField.TsNsec, true);
        if (t < from || t > to || !netns.has(v.getUint32(DropField.Netns, true))) continue;
        const drop = decodeDrop(r, v, 0);
        if (packet !== null && isSamePacket(drop, packet)) byPacket.push(t);
        else if (byTime.length < limit) byTime.push(t);
      }
      const times = (ds: ReturnType<typeof decodeDrop>[]): number[] =>
        ds.map((d) => d.tsSec * 1e9 + d.tsNsec);
      expect(times(got.byPacket), `query ${q}`).toEqual(byPacket);
      expect(times(got.byTime), `query ${q}`).toEqual(byTime);
    }
  });

  it("finds the packet's drops at both ends of a ring that has wrapped, by each way the compact keys are compared", () => {
    const capacity = 1000;
    for (const packet of PACKETS) {
      const store = new DropStore(capacity);
      const rnd = seededRandom(5);
      // 1700 records in a ring of 1000, the oldest kept in slot 700: the packet's drops
      // are the oldest kept, the last at the ring's end, the first at its start, and the newest
      const n = 1700;
      const batch = new Uint8Array(n * DROP_RECORD_BYTES);
      const v = new DataView(batch.buffer);
      const own = [700, 999, 1000, n - 1];
      for (let k = 0; k < n; k++) {
        const at = k * DROP_RECORD_BYTES;
        // the others: the same kind of packet with fields changed at random
        record(batch, v, at, packet, own.includes(k) ? () => 0.99 : rnd);
        if (own.includes(k) && packet.family !== 'arp') batch[at + DropField.Flags] |= DropFlag.L4;
        v.setUint32(at + DropField.TsSec, 700, true);
        v.setUint32(at + DropField.TsNsec, k * 1000, true);
        v.setUint32(at + DropField.Netns, 4_026_532_001, true);
      }
      // two batches, so that the second wraps the ring (one larger than the ring would not)
      store.push(batch.buffer.slice(0, 700 * DROP_RECORD_BYTES), 700);
      store.push(batch.buffer.slice(700 * DROP_RECORD_BYTES), n - 700);
      const r = store.query(
        {
          netns: new Set([4_026_532_001]),
          startNs: 700n * 1_000_000_000n,
          endNs: 701n * 1_000_000_000n,
          packet,
        },
        0,
      );
      // the plain walk of the records kept
      const expected: number[] = [];
      for (let k = n - capacity; k < n; k++)
        if (isSamePacket(decodeDrop(batch, v, k * DROP_RECORD_BYTES), packet)) expected.push(k);
      expect(expected, `${packet.family} ${packet.proto}`).toEqual(expect.arrayContaining(own));
      expect(r.byPacket.map((d) => d.tsNsec / 1000)).toEqual(expected);
      expect(r.byTime).toEqual([]);
    }
  });

  it("finds the packet's drop among a flood of other packets' drops in the window", () => {
    const store = new DropStore(4096);
    const batch = new Uint8Array(4096 * DROP_RECORD_BYTES);
    const v = new DataView(batch.buffer);
    const packet = PACKETS[1];
    for (let k = 0; k < 4096; k++) {
      const at = k * DROP_RECORD_BYTES;
      v.setUint32(at + DropField.TsSec, 1000, true);
      v.setUint32(at + DropField.TsNsec, k * 1000, true);
      v.setUint32(at + DropField.Netns, 42, true);
      v.setUint16(at + DropField.L3proto, 0x0800, true);
      batch[at + DropField.Flags] = DropFlag.L4;
      batch[at + DropField.IpProto] = 17;
      v.setUint16(at + DropField.IpId, k === 3000 ? (packet.ipId as number) : 20_000 + k, true);
      v.setUint16(at + DropField.IpLen, packet.ipLength, true);
      put(batch, at + DropField.Src, packet.src);
      put(batch, at + DropField.Dst, packet.dst);
    }
    store.push(batch.buffer, 4096);
    const r = store.query({
      netns: new Set([42]),
      startNs: 1000n * 1_000_000_000n,
      endNs: 1001n * 1_000_000_000n,
      packet,
    });
    expect(r.byPacket.map((d) => d.tsNsec)).toEqual([3_000_000]);
    expect(r.byTime).toHaveLength(16);
  });
});
