// What the replay's decoder thread sends is what the correlator would have computed
// itself: every classified packet of real captures (echo, ICMP errors with their text,
// TCP, DNS with names and rcodes, DNS over TCP — a query reassembled from two segments
// too —, DHCP, ARP, VXLAN) written to the ring and read back field for field, key bytes
// included; long events arrive whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify, Classified, keyAddrBytes } from '../../src/correlate/classify.js';
import { Kind } from '../../src/correlate/kinds/table.js';
import { DnsTcpStreams } from '../../src/correlate/dns-tcp.js';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { PacketRecord } from '../../src/decode/record.js';
import { mergeCaptureFiles } from '../../src/framing/merge.js';
import {
  DecodedRecordReader,
  writeEvent,
  writeLines,
  writePacket,
} from '../../src/sources/decoded-records.js';
import { createSlotRing, SlotReader, SlotWriter } from '../../src/sources/slot-ring.js';
import {
  Conversation,
  cut,
  dnsQuery,
  dnsResponse,
  framed,
  pcapFile,
} from '../correlate/support/dns-tcp-frames.js';
import { corpusPath } from '../decode/support/corpus.js';

const FILES = [
  splitQueryFile(),
  'icmp-ping.pcap',
  'icmp6-ping.pcap',
  'icmp-destunreach-udp.pcap',
  'icmp6-toobig.pcap',
  'icmp-timeexceeded.pcap',
  'dns_udp.pcap',
  'dns_tcp.pcap',
  'dns-badcookie.pcap',
  'dhcp.pcap',
  'arp-who-has.pcap',
  'fragmented-syn.pcap',
  'handshake-reorder.pcap',
  'geneve.pcap',
];

type Fields = Record<string, unknown>;

/** A pcap of a DNS query cut in two over TCP (in the middle of its name), and its answer. */
function splitQueryFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-decoded-records-'));
  const query = framed(dnsQuery(0x1234, 'www.example.org'));
  const [a, b] = cut(query, 2 + 12 + 7);
  const c = new Conversation()
    .handshake(0)
    .send('client', a, 1)
    .send('client', b, 2)
    .send('server', framed(dnsResponse(0x1234, 'www.example.org', 3)), 3);
  const file = join(dir, 'split-query.pcap');
  writeFileSync(file, pcapFile(c.packets));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return file;
}

function fieldsOf(c: Classified, iface: number, sec: number, nsec: number): Fields {
  const f: Fields = { iface, sec, nsec };
  // the key travels as the slot and check the correlator indexes by; its bytes are
  // compared where they are (in the packet, or in place in the ring), not by offset
  const skip = ['keySource', 'keySrcAt', 'keyDstAt', 'keyNameAt', 'key'];
  for (const [k, v] of Object.entries(c)) if (!skip.includes(k)) f[k] = v;
  if (c.hasKey) {
    const n = keyAddrBytes(c.addrVersion);
    const from = c.keySource;
    if ((c.addrKnown & 1) !== 0) f.src = Array.from(from.subarray(c.keySrcAt, c.keySrcAt + n));
    if ((c.addrKnown & 2) !== 0) f.dst = Array.from(from.subarray(c.keyDstAt, c.keyDstAt + n));
    if (c.nameLen > 0) f.name = Array.from(from.subarray(c.keyNameAt, c.keyNameAt + c.nameLen));
  }
  if (!c.hasKey)
    for (const k of ['keyPart0', 'keyPart1', 'keyPart2', 'addrVersion', 'addrKnown', 'nameLen']) delete f[k];
  return f;
}

describe('decoded records', () => {
  it('carry every field of every classified packet of real captures unchanged', async () => {
    const sent: Fields[] = [];
    const received: Fields[] = [];
    const ring = createSlotRing(4, 64 * 1024);
    const w = new SlotWriter(ring);
    const reader = new SlotReader(ring);
    const records = new DecodedRecordReader(reader);
    const drain = async (): Promise<void> => {
      w.publish();
      for (;;) {
        const used = new Int32Array(ring.control).some((v) => v !== 0);
        if (!used) return;
        const slot = await reader.next();
        if (slot === null) return;
        records.read(slot.start, slot.end, {
          packet: (c, iface, sec, nsec) => received.push(fieldsOf(c, iface, sec, nsec)),
          event: () => undefined,
          progress: () => undefined,
          lines: () => undefined,
        });
        reader.release();
      }
    };
    const rec = new PacketRecord();
    const c = new Classified();
    const kinds = new Set<number>();
    let errors = 0;
    let dnsOverTcp = 0;
    const send = (iface: number, sec: number, nsec: number): void => {
      kinds.add(c.kind);
      if (c.errorDetail !== '') errors++;
      sent.push(fieldsOf(c, iface, sec, nsec));
      writePacket(w, c, iface, sec, nsec);
    };
    for (const file of FILES) {
      const linktypes: number[] = [];
      // DNS over TCP as the decoder thread finds it (a reassembled message's key bytes are the streams' own)
      const dnsTcp = new DnsTcpStreams();
      await mergeCaptureFiles(
        [file.startsWith('/') ? file : corpusPath(file)],
        (i) => (linktypes[i.id] = i.linktype),
        (p) => {
          decodePacket(p.data, p.offset, p.offset + p.caplen, linktypes[p.interfaceId], p.len, rec);
          classify(rec, c);
          if (c.kind !== Kind.None) send(p.interfaceId, p.tsSec, p.tsNsec);
          if (dnsTcp.segment(rec, c, p.interfaceId))
            while (dnsTcp.next(c)) {
              dnsOverTcp++;
              send(p.interfaceId, p.tsSec, p.tsNsec);
            }
        },
      );
      await drain();
    }
    // dns_tcp.pcap's query and answer, the split query and its answer
    expect(dnsOverTcp).toBe(4);
    expect([...kinds].sort()).toEqual(
      [Kind.IcmpEcho, Kind.Icmpv6Echo, Kind.TcpHandshake, Kind.Dns, Kind.Dhcp, Kind.Arp].sort(),
    );
    expect(errors).toBeGreaterThan(0);
    expect(sent.length).toBeGreaterThan(50);
    expect(received).toEqual(sent);
  });

  it('a long event (over 64 KiB) arrives whole, after the packets written before it', async () => {
    const ring = createSlotRing(8, 128 * 1024);
    const w = new SlotWriter(ring);
    const reader = new SlotReader(ring);
    const records = new DecodedRecordReader(reader);
    const long = { type: 'section', comments: ['x'.repeat(100_000), 'ünïcödé'] };
    writeEvent(w, { type: 'warning', message: 'first' });
    writeEvent(w, long);
    w.publish();
    const events: unknown[] = [];
    for (let k = 0; k < 2; k++) {
      const used = new Int32Array(ring.control)[k];
      if (used === 0) break;
      const slot = await reader.next();
      if (slot === null) break;
      records.read(slot.start, slot.end, {
        packet: () => undefined,
        event: (e) => events.push(e),
        progress: () => undefined,
        lines: () => undefined,
      });
      reader.release();
    }
    expect(events).toEqual([{ type: 'warning', message: 'first' }, long]);
  });

  it('carry output lines, longer ones in several records, in order with the packets', async () => {
    const ring = createSlotRing(4, 256 * 1024);
    const w = new SlotWriter(ring);
    const reader = new SlotReader(ring);
    const records = new DecodedRecordReader(reader);
    const short = Buffer.from('{"type":"packet","n":1}\n');
    // 200 kB: more than one record's worth (64 KiB), a run of lines cut anywhere
    const long = Buffer.from(`${'{"type":"packet","x":"ünï"}\n'.repeat(7000)}`);
    const c = new Classified();
    c.kind = Kind.IcmpEcho;
    writeLines(w, short, 0, short.length);
    writePacket(w, c, 3, 1700000000, 5);
    writeLines(w, long, 0, long.length);
    w.publish();
    const seen: string[] = [];
    let printed = Buffer.alloc(0);
    const slot = await reader.next();
    expect(slot).not.toBeNull();
    if (slot === null) return;
    records.read(slot.start, slot.end, {
      packet: (_c, iface) => seen.push(`packet on ${iface}`),
      event: () => undefined,
      progress: () => undefined,
      lines: (u8, start, end) => {
        seen.push('lines');
        printed = Buffer.concat([printed, Buffer.from(u8.subarray(start, end))]);
      },
    });
    reader.release();
    expect(seen.slice(0, 3)).toEqual(['lines', 'packet on 3', 'lines']);
    expect(seen.filter((s) => s === 'lines').length).toBeGreaterThan(3);
    expect(printed.equals(Buffer.concat([short, long]))).toBe(true);
  });
});
