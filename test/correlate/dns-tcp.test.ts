// DNS over TCP becomes `dns` exchanges, judged as DNS over UDP is: the corpus's real
// TCP captures against tshark's view (with its reassembly on), and crafted
// conversations — a query cut into two and three segments (in the middle of its name,
// and of its length prefix), two messages in one segment, retransmissions, a capture
// that begins in the middle of a message, a length prefix for bytes that never come,
// the same message cut differently on two interfaces, and the bound on flows followed.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify, Classified } from '../../src/correlate/classify.js';
import { DnsStage } from '../../src/correlate/kinds/dns.js';
import { Kind } from '../../src/correlate/kinds/table.js';
import { Correlator } from '../../src/correlate/correlator.js';
import { DNS_TCP_KEPT_BYTES, DnsTcpStreams } from '../../src/correlate/dns-tcp.js';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { PacketRecord } from '../../src/decode/record.js';
import type { ExchangeRecord } from '../../src/events/types.js';
import { CORPUS_AVAILABLE, corpusPath, readCorpusPcap } from '../decode/support/corpus.js';
import { be } from '../decode/support/frames.js';
import { concat, hex } from '../decode/support/hex.js';
import {
  ACK,
  CLIENT,
  CLIENT6,
  Conversation,
  cut,
  dnsQuery,
  dnsResponse,
  FIN,
  framed,
  PSH,
  RST,
  SERVER,
  SERVER6,
  START_SEC,
  SYN,
  tcpFrame,
  type Timed,
  wireName,
} from './support/dns-tcp-frames.js';

const rec = new PacketRecord();

/** Every packet through Correlator.packet (the main thread's path), on interface `iface` of each. */
function correlate(packets: ReadonlyArray<Timed & { iface?: number }>, labels = ['eth0']): ExchangeRecord[] {
  const records: ExchangeRecord[] = [];
  const corr = new Correlator({ onExchange: (j) => records.push(j.record()) });
  labels.forEach((label, id) => corr.addInterface({ id, label, host: null }));
  for (const p of packets) {
    decodePacket(p.frame, 0, p.frame.length, 1, p.frame.length, rec);
    const ns = Math.round(p.ms * 1e6);
    corr.packet(rec, p.iface ?? 0, START_SEC + Math.floor(ns / 1e9), ns % 1e9);
  }
  corr.finish();
  return records;
}

function dnsOf(records: ExchangeRecord[]): ExchangeRecord[] {
  return records.filter((r) => r.kind === 'dns');
}

/** The time stamp text of `ms` after START_SEC. */
function ts(ms: number): string {
  const ns = Math.round(ms * 1e6);
  return `${START_SEC + Math.floor(ns / 1e9)}.${String(ns % 1e9).padStart(9, '0')}`;
}

const NAME = 'www.example.org';
const KEY = `10.0.0.5>10.0.0.53 id=4660 ${NAME} A`;
const query = framed(dnsQuery(0x1234, NAME));
const answer = framed(dnsResponse(0x1234, NAME, 0, ['5db8d822']));
/** where the query's name is cut: 2 (length) + 12 (header) + 4 ("\x03www") + 3 ("\x07exa|mple") */
const IN_NAME = 2 + 12 + 4 + 3;

describe('DNS over TCP: crafted conversations', () => {
  it('one query and its answer, each in one segment: a dns exchange beside the handshake', () => {
    const c = new Conversation().handshake(0).send('client', query, 1).send('server', answer, 11).close(20);
    const records = correlate(c.packets);
    expect(records.map((r) => r.kind).sort()).toEqual(['dns', 'tcp-handshake']);
    const [dns] = dnsOf(records);
    expect(dns).toMatchObject({ key: KEY, status: 'ok', ts: ts(1), rttMs: 10 });
    expect(dns.stages.map((s) => [s.name, s.packets, s.seen.map((x) => x.ts)])).toEqual([
      ['query', 1, [ts(1)]],
      ['response', 1, [ts(11)]],
    ]);
  });

  it('a query cut in two in the middle of its name: one exchange, at the segment that completes it', () => {
    const [a, b] = cut(query, IN_NAME);
    const c = new Conversation()
      .handshake(0)
      .send('client', a, 1)
      .send('client', b, 2)
      .send('server', answer, 12)
      .close(20);
    const dns = dnsOf(correlate(c.packets));
    expect(dns).toHaveLength(1);
    expect(dns[0]).toMatchObject({ key: KEY, status: 'ok', ts: ts(2), rttMs: 10 });
  });

  it('a query in three segments (its length prefix and its name cut), its answer in three: one exchange', () => {
    const c = new Conversation().handshake(0);
    for (const [i, piece] of cut(query, 1, IN_NAME).entries()) c.send('client', piece, 1 + i);
    for (const [i, piece] of cut(answer, 2, 20).entries()) c.send('server', piece, 10 + i);
    const dns = dnsOf(correlate(c.close(20).packets));
    expect(dns).toHaveLength(1);
    expect(dns[0]).toMatchObject({ key: KEY, status: 'ok', ts: ts(3), rttMs: 12 - 3 });
  });

  it('a continuation segment that would read as a whole query by itself makes nothing', () => {
    // A query with an EDNS option (RFC 6891 §6.1.2) whose data is, byte for byte, a framed
    // query of its own; cut where that data begins, the second segment alone reads as it.
    const inner = framed(dnsQuery(0x6666, 'fake.example.org'));
    const outer = hex(
      '1234', // ID
      '0100', // flags: query, RD
      '0001', // QDCOUNT 1
      '0000', // ANCOUNT 0
      '0000', // NSCOUNT 0
      '0001', // ARCOUNT 1: the OPT record
      wireName(NAME), // QNAME
      '0001', // QTYPE A
      '0001', // QCLASS IN
      '00', // OPT: root owner name
      '0029', // TYPE OPT
      '04d0', // CLASS: UDP payload size 1232
      '00000000', // TTL: extended RCODE, version, flags
      be(4 + inner.length, 2), // RDLENGTH
      'fde9', // option code 65001 (experimental use)
      be(inner.length, 2), // option length
    );
    const q = framed(concat(outer, inner));
    const [a, b] = cut(q, 2 + outer.length);
    expect(b).toEqual(inner);
    const c = new Conversation()
      .handshake(0)
      .send('client', a, 1)
      .send('client', b, 2)
      .send('server', answer, 12)
      .close(20);
    expect(dnsOf(correlate(c.packets)).map((r) => [r.key, r.status])).toEqual([[KEY, 'ok']]);
  });

  it('over IPv6: a query cut in two, its answer; the key has the IPv6 addresses', () => {
    const [a, b] = cut(query, IN_NAME);
    const c = new Conversation(100, 200, 40000, CLIENT6, SERVER6)
      .handshake(0)
      .send('client', a, 1)
      .send('client', b, 2)
      .send('server', answer, 4)
      .close(9);
    expect(dnsOf(correlate(c.packets))).toMatchObject([
      { key: `2001:db8::5>2001:db8::35 id=4660 ${NAME} A`, status: 'ok', rttMs: 2 },
    ]);
  });

  it('random segments to and from port 53 (pieces of messages, any sequence numbers and flags): never a throw, never more flows than the bound', () => {
    let seed = 99;
    const rand = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const streams = new DnsTcpStreams(8);
    const cls = new Classified();
    const stream = concat(query, answer, framed(dnsQuery(7, 'x.example.org'), 300), query);
    for (let k = 0; k < 20_000; k++) {
      const from = rand(stream.length);
      const piece = stream.slice(from, from + rand(80));
      if (rand(4) === 0 && piece.length > 0) piece[rand(piece.length)] = rand(256);
      const port = 40000 + rand(12);
      const flags = [PSH | ACK, ACK, SYN, SYN | ACK, FIN | ACK, RST][rand(6)];
      const seq = rand(4) === 0 ? rand(0x100000000) : 1000 + rand(200);
      const out = rand(2) === 0;
      const frame = out
        ? tcpFrame(CLIENT, SERVER, port, 53, seq, 0, flags, piece, k)
        : tcpFrame(SERVER, CLIENT, 53, port, seq, 0, flags, piece, k);
      decodePacket(frame, 0, frame.length, 1, frame.length, rec);
      classify(rec, cls);
      if (streams.segment(rec, cls, rand(3))) while (streams.next(cls)) expect(cls.kind).toBe(Kind.Dns);
      expect(streams.flows).toBeLessThanOrEqual(8);
    }
    expect(streams.evicted).toBeGreaterThan(0);
  });

  it('two queries in one segment, their answers in another (in the other order): two exchanges', () => {
    const q2 = framed(dnsQuery(0x0101, 'mail.example.org', 28));
    const a2 = framed(dnsResponse(0x0101, 'mail.example.org', 0, [], 28));
    const c = new Conversation()
      .handshake(0)
      .send('client', concat(query, q2), 1)
      .send('server', concat(a2, answer), 5)
      .close(20);
    const dns = dnsOf(correlate(c.packets));
    expect(dns.map((r) => [r.key, r.status, r.rttMs]).sort()).toEqual([
      ['10.0.0.5>10.0.0.53 id=257 mail.example.org AAAA', 'ok', 4],
      [KEY, 'ok', 4],
    ]);
  });

  it('an answer with an rcode: error, with the rcode name as detail (as over UDP)', () => {
    const nx = framed(dnsResponse(0x1234, NAME, 3));
    const c = new Conversation().handshake(0).send('client', query, 1).send('server', nx, 3).close(9);
    expect(dnsOf(correlate(c.packets))).toMatchObject([{ key: KEY, status: 'error', detail: 'NXDOMAIN' }]);
  });

  it('retransmissions (the same segment, a piece again, pieces resent as one): one exchange, one query packet', () => {
    const [a, b] = cut(query, IN_NAME);
    const whole = new Conversation().handshake(0).send('client', query, 1).resend('client', 0, query, 201);
    const split = new Conversation()
      .handshake(0)
      .send('client', a, 1)
      .send('client', b, 2)
      .resend('client', 0, a, 201)
      .resend('client', a.length, b, 202);
    // the kernel resends both pieces as one segment
    const merged = new Conversation()
      .handshake(0)
      .send('client', a, 1)
      .send('client', b, 2)
      .resend('client', 0, query, 201);
    for (const c of [whole, split, merged]) {
      c.send('server', answer, 210).close(300);
      const dns = dnsOf(correlate(c.packets));
      expect(dns).toHaveLength(1);
      expect(dns[0]).toMatchObject({ key: KEY, status: 'ok' });
      expect(dns[0].stages[0].packets).toBe(1);
    }
  });

  it('a capture begun in the middle of a message: its rest makes nothing; the next whole message counts', () => {
    const [, b] = cut(query, IN_NAME);
    const q2 = framed(dnsQuery(0x2222, 'later.example.org'));
    const a2 = framed(dnsResponse(0x2222, 'later.example.org'));
    const c = new Conversation()
      .skip('client', IN_NAME) // sent before the capture began
      .send('client', b, 1)
      .send('server', answer, 2) // an answer whose question was not seen: no exchange
      .send('client', q2, 3)
      .send('server', a2, 4);
    const dns = dnsOf(correlate(c.packets));
    expect(dns.map((r) => [r.key, r.status])).toEqual([
      ['10.0.0.5>10.0.0.53 id=8738 later.example.org A', 'ok'],
    ]);
  });

  it('a persistent connection captured midway: its first answer, in three segments, counts', () => {
    const addrs = Array.from({ length: 150 }, (_, i) => `0a02${i.toString(16).padStart(4, '0')}`);
    const big = framed(dnsResponse(0x1234, NAME, 0, addrs));
    const c = new Conversation().skip('client', 500).skip('server', 9000).send('client', query, 1);
    for (const [i, piece] of cut(big, 1400, 2000).entries()) c.send('server', piece, 3 + i);
    expect(dnsOf(correlate(c.packets))).toMatchObject([{ key: KEY, status: 'ok', rttMs: 4 }]);
  });

  it('a length prefix for bytes that never come: no exchange, and the flow is let go at the FIN', () => {
    const oversized = framed(dnsQuery(0x1234, NAME), 0xffff);
    const c = new Conversation().handshake(0).send('client', oversized, 1).close(5);
    expect(dnsOf(correlate(c.packets))).toEqual([]);
    const streams = new DnsTcpStreams();
    const cls = new Classified();
    let messages = 0;
    for (const [i, p] of c.packets.entries()) {
      decodePacket(p.frame, 0, p.frame.length, 1, p.frame.length, rec);
      classify(rec, cls);
      if (streams.segment(rec, cls, 0)) while (streams.next(cls)) messages++;
      // followed from the SYN and SYN-ACK, both directions let go at their FIN
      if (i === 3) expect(streams.flows).toBe(2);
    }
    expect(messages).toBe(0);
    expect(streams.flows).toBe(0);
  });

  it('a message longer than the bytes kept per flow is judged from its first ones', () => {
    // 200 A records: 12 + 21 + 200 × 16 bytes, over three segments
    const addrs = Array.from({ length: 200 }, (_, i) => `0a01${i.toString(16).padStart(4, '0')}`);
    const big = framed(dnsResponse(0x1234, NAME, 0, addrs));
    expect(big.length).toBeGreaterThan(DNS_TCP_KEPT_BYTES * 4);
    const c = new Conversation().handshake(0).send('client', query, 1);
    for (const [i, piece] of cut(big, 1400, 2800).entries()) c.send('server', piece, 5 + i);
    const dns = dnsOf(correlate(c.close(20).packets));
    expect(dns).toMatchObject([{ key: KEY, status: 'ok', rttMs: 6 }]);
  });

  it('the same query cut in two on one interface and whole on the next (GRO): one packet seen on both', () => {
    const [a, b] = cut(query, IN_NAME);
    const split = new Conversation().handshake(0).send('client', a, 1).send('client', b, 1.1);
    const whole = new Conversation().handshake(0).send('client', query, 1);
    const back = new Conversation().handshake(0).send('client', query, 0).send('server', answer, 5);
    const packets = [
      ...split.packets.map((p) => ({ ...p, iface: 0 })),
      ...whole.packets.map((p) => ({ ...p, ms: p.ms + 0.5, iface: 1 })),
      { ...back.packets[4], iface: 1 },
      { ...back.packets[4], ms: 5.1, iface: 0 },
    ].sort((x, y) => x.ms - y.ms);
    const dns = dnsOf(correlate(packets, ['tap0', 'eth1']));
    expect(dns).toHaveLength(1);
    expect(dns[0].status).toBe('ok');
    expect(dns[0].stages.map((s) => [s.name, s.packets, s.seen.map((x) => x.iface)])).toEqual([
      ['query', 1, ['tap0', 'eth1']],
      ['response', 1, ['eth1', 'tap0']],
    ]);
  });

  it('at most maxFlows flow directions are followed: the least recently active is let go, and counted', () => {
    const streams = new DnsTcpStreams(2);
    const cls = new Classified();
    const found: number[] = [];
    const feed = (p: Timed): void => {
      decodePacket(p.frame, 0, p.frame.length, 1, p.frame.length, rec);
      classify(rec, cls);
      if (streams.segment(rec, cls, 0))
        while (streams.next(cls))
          if (cls.kind === Kind.Dns && cls.stage === DnsStage.Query) found.push(cls.keyPart0);
    };
    const [a, b] = cut(query, IN_NAME);
    const first = new Conversation(1000, 2000, 40001).handshake(0).send('client', a, 1).send('client', b, 3);
    const second = new Conversation(3000, 4000, 40002)
      .handshake(2)
      .send('client', framed(dnsQuery(0x5678, NAME)), 4);
    // the first conversation's handshake and the first piece of its query: two rows;
    // the second's SYN and SYN-ACK take them, the least recently active first
    for (const p of first.packets.slice(0, 4)) feed(p);
    expect([streams.flows, streams.evicted]).toEqual([2, 0]);
    for (const p of second.packets.slice(0, 3)) feed(p);
    expect([streams.flows, streams.evicted]).toEqual([2, 2]);
    // the rest of the first query is no message start any more; the second query counts
    feed(first.packets[4]);
    feed(second.packets[3]);
    expect(found).toEqual([0x5678]);
    expect(streams.flows).toBe(2);
  });
});

// ------------------------------------------------------------------------------------
// The corpus: tshark with TCP reassembly on puts a DNS message at the frame that
// completes it; each query there with its answer is one exchange here, with tshark's
// id, question and rcode, and the RTT between those two frames.

interface TsharkDns {
  src: string;
  dst: string;
  id: number;
  response: boolean;
  rcode: number;
  name: string;
  type: number;
  ns: bigint;
}

function tsharkTcpDns(file: string): TsharkDns[] {
  const lines = readFileSync(corpusPath(`${file}.tshark.tsv`), 'utf8').split('\n');
  const header = lines[0].split('\t');
  const out: TsharkDns[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const cells = line.split('\t');
    const f = (name: string): string => cells[header.indexOf(name)] ?? '';
    if (f('tcp.srcport') === '' || f('dns.id') === '') continue;
    const [sec, frac] = f('frame.time_epoch').split('.');
    out.push({
      src: f('ip.src') || f('ipv6.src'),
      dst: f('ip.dst') || f('ipv6.dst'),
      id: parseInt(f('dns.id'), 16),
      response: f('dns.flags.response') === '1',
      rcode: Number(f('dns.flags.rcode') || 0),
      name: f('dns.qry.name'),
      type: Number(f('dns.qry.type')),
      ns: BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0')),
    });
  }
  return out;
}

function replayInProcess(file: string): ExchangeRecord[] {
  const { file: bytes, pcap } = readCorpusPcap(file);
  const records: ExchangeRecord[] = [];
  const corr = new Correlator({ onExchange: (j) => records.push(j.record()) });
  corr.addInterface({ id: 0, label: 'x', host: null });
  for (const p of pcap.packets) {
    decodePacket(bytes, p.offset, p.offset + p.caplen, pcap.linktype & 0xffff, p.len, rec);
    corr.packet(rec, 0, p.tsSec, pcap.nanosecond ? p.tsFrac : p.tsFrac * 1000);
  }
  corr.finish();
  return records;
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 28: 'AAAA', 48: 'DNSKEY' };

describe.skipIf(!CORPUS_AVAILABLE)('DNS over TCP: the corpus against tshark', () => {
  for (const file of ['dns_tcp.pcap', 'dns-edns-ecs.pcap']) {
    it(`${file}: each query tshark reassembles, with its answer, is one exchange of the same id, question, rcode and RTT`, () => {
      expect(existsSync(corpusPath(file))).toBe(true);
      const seen = tsharkTcpDns(file);
      const expected = seen
        .filter((q) => !q.response)
        .flatMap((q) => {
          const a = seen.find((r) => r.response && r.id === q.id && r.name === q.name && r.type === q.type);
          if (a === undefined) return [];
          return [
            {
              key: `${q.src}>${q.dst} id=${q.id} ${q.name} ${TYPE_NAMES[q.type]}`,
              status: a.rcode === 0 ? 'ok' : 'error',
              rttMs: Number(a.ns - q.ns) / 1e6,
            },
          ];
        });
      expect(expected.length).toBeGreaterThan(0);
      const tcpFlows = new Set(seen.map((q) => `${q.src}>${q.dst}`));
      const dns = dnsOf(replayInProcess(file)).filter((r) => tcpFlows.has(r.key.split(' ')[0]));
      expect(dns.map((r) => ({ key: r.key, status: r.status, rttMs: r.rttMs }))).toEqual(expected);
    });
  }
});
