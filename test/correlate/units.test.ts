// The correlation stage's parts on their own: the verdict function against hand-made
// paths, the NTP offset, capture health, the learned tables, classification of real
// packets (through NAT the echo keeps its identity), and exchange bookkeeping.
import { describe, expect, it } from 'vitest';
import { classify, Classified } from '../../src/correlate/classify.js';
import { ArpStage } from '../../src/correlate/kinds/arp.js';
import { DhcpStage } from '../../src/correlate/kinds/dhcp.js';
import { DnsStage } from '../../src/correlate/kinds/dns.js';
import { EchoStage } from '../../src/correlate/kinds/icmp-echo.js';
import { Kind } from '../../src/correlate/kinds/table.js';
import { TcpStage } from '../../src/correlate/kinds/tcp-handshake.js';
import {
  ClockEstimator,
  clockReferenceComment,
  offsetInterval,
  parseClockReference,
} from '../../src/correlate/clock.js';
import { HASH_SEED, hashBytes, hashFoldedBytes, mix } from '../../src/correlate/hash.js';
import { Correlator } from '../../src/correlate/correlator.js';
import { CaptureHealth, MAX_INTERVALS } from '../../src/correlate/health.js';
import { LearnedTable, PathStore } from '../../src/correlate/learned.js';
import { judge, NOT_TAKEN, type OrderedStage, type PathOracle } from '../../src/correlate/verdict.js';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { PacketRecord } from '../../src/decode/record.js';
import type { ExchangeRecord } from '../../src/events/types.js';
import { echoFrame } from './support/echo-frame.js';
import { dnsQuery, dnsResponse } from './support/dns-tcp-frames.js';
import { ethIpv4Udp } from '../decode/support/frames.js';

function stage(ifaces: number[], opts: Partial<OrderedStage> = {}): OrderedStage {
  return {
    ifaces,
    times: ifaces.map((_, i) => 1000 * (i + 1)),
    srcs: ifaces.map(() => 11),
    dsts: ifaces.map(() => 22),
    tunnels: ifaces.map(() => -1),
    packets: 1,
    broadcast: false,
    ...opts,
  };
}

const noKnowledge: PathOracle = {
  flowPath: () => null,
  towards: () => null,
  problem: () => null,
  anyCaptureOf: () => -1,
  destinationOf: () => -1,
};
const timing = { deadline: 1e9, now: 2e9, forcedReason: null };

describe('verdict', () => {
  it('ok: the reply came back the way the request went', () => {
    const v = judge(Kind.IcmpEcho, [stage([0, 1, 2, 3]), stage([3, 2, 1, 0])], -1, '', noKnowledge, timing);
    expect(v.status).toBe('ok');
    expect(v.rttNs).toBe(4000 - 1000);
  });

  it('lost reply: last seen on 2, missing on 1 and 0, nearest first', () => {
    const v = judge(Kind.IcmpEcho, [stage([0, 1, 2, 3]), stage([3, 2])], -1, '', noKnowledge, timing);
    expect(v).toMatchObject({ status: 'lost', lost: { stage: 1, lastSeen: 2, missingOn: [1, 0] } });
  });

  it('a hop the capture missed is not a loss once the far end was reached', () => {
    const v = judge(Kind.IcmpEcho, [stage([0, 1, 2, 3]), stage([3, 1, 0])], -1, '', noKnowledge, timing);
    expect(v.status).toBe('ok');
  });

  it('lost request: the learned path of the flow goes on after where it was last seen', () => {
    const oracle: PathOracle = { ...noKnowledge, flowPath: () => [0, 1, 2, 3, 4] };
    const v = judge(Kind.IcmpEcho, [stage([0, 1, 2]), undefined], -1, '', oracle, timing);
    expect(v).toMatchObject({ status: 'lost', lost: { stage: 0, lastSeen: 2, missingOn: [3, 4] } });
  });

  it('lost request: a route learned towards its destination from the last interface', () => {
    const oracle: PathOracle = {
      ...noKnowledge,
      towards: (iface, addr) => (iface === 2 && addr === 22 ? [5, 6] : null),
    };
    const v = judge(Kind.TcpHandshake, [stage([0, 1, 2]), undefined], -1, '', oracle, timing);
    expect(v).toMatchObject({
      status: 'lost',
      lost: { stage: TcpStage.Syn, lastSeen: 2, missingOn: [5, 6] },
    });
  });

  it('an answer that went back another way, with nothing known of where it goes: it must reach the asker', () => {
    // SYN out by 0 → 1 → 2 → 3; the SYN-ACK came back by 13 → 12 and no further
    const stages = [stage([0, 1, 2, 3]), stage([13, 12])];
    const lost = judge(Kind.TcpHandshake, stages, -1, '', noKnowledge, timing);
    expect(lost).toMatchObject({ status: 'lost', lost: { stage: 1, lastSeen: 12, missingOn: [0] } });
    // …on to the asker's other device (10), both devices of one capture of every device (50)
    const anyAt = (devices: Record<number, number>): PathOracle => ({
      ...noKnowledge,
      anyCaptureOf: (i) => devices[i] ?? -1,
    });
    const back = [stage([0, 1, 2, 3]), stage([13, 12, 11, 10])];
    expect(judge(Kind.TcpHandshake, back, -1, '', anyAt({ 0: 50, 10: 50 }), timing).status).toBe('ok');
    // (another capture's device is not the asker)
    expect(judge(Kind.TcpHandshake, back, -1, '', anyAt({ 0: 50, 10: 60 }), timing)).toMatchObject({
      status: 'lost',
      lost: { lastSeen: 10, missingOn: [0] },
    });
    // A route learned from where it was last seen still comes first.
    const routed: PathOracle = { ...noKnowledge, towards: (i) => (i === 12 ? [11, 10] : null) };
    expect(judge(Kind.TcpHandshake, stages, -1, '', routed, timing)).toMatchObject({
      lost: { lastSeen: 12, missingOn: [11, 10] },
    });
  });

  it('an answer from another address than asked, where the question started: misaddressed, for TCP and DNS', () => {
    // SYN from 11 to 22 out by 0 → 1 → 2; the SYN-ACK back from 33 (a DNAT gone around)
    const syn = stage([0, 1, 2]);
    const synAck = stage([2, 1, 0], { srcs: [33, 33, 33], dsts: [11, 11, 11] });
    expect(judge(Kind.TcpHandshake, [syn, synAck], -1, '', noKnowledge, timing)).toMatchObject({
      status: 'error',
      detail: 'misaddressed',
      lost: null,
    });
    expect(judge(Kind.Dns, [syn, synAck], -1, '', noKnowledge, timing).status).toBe('error');
    // translated back before it reached the asker: ok, whatever it was on the way
    const back = stage([2, 1, 0], { srcs: [33, 33, 22], dsts: [11, 11, 11] });
    expect(judge(Kind.TcpHandshake, [syn, back], -1, '', noKnowledge, timing).status).toBe('ok');
    // a ping takes a reply from anywhere; a flooded question is to no one address
    expect(judge(Kind.IcmpEcho, [syn, synAck], -1, '', noKnowledge, timing).status).toBe('ok');
    const flooded = stage([0, 1, 2], { broadcast: true });
    expect(judge(Kind.Dns, [flooded, synAck], -1, '', noKnowledge, timing).status).toBe('ok');
  });

  it('nothing learned: a request ends where its destination address lives, in a namespace it never reached', () => {
    // a first ping 0 → 1 → 2, the interface 7 holding its destination (22) not reached
    const holder: PathOracle = { ...noKnowledge, destinationOf: (_, addr) => (addr === 22 ? 7 : -1) };
    expect(judge(Kind.IcmpEcho, [stage([0, 1, 2])], -1, '', holder, timing)).toMatchObject({
      status: 'lost',
      lost: { stage: 0, lastSeen: 2, missingOn: [7] },
    });
    // a route learned from there comes first; a flooded question has no path to expect
    const routed: PathOracle = { ...holder, towards: (i) => (i === 2 ? [3] : null) };
    expect(judge(Kind.IcmpEcho, [stage([0, 1, 2])], -1, '', routed, timing).lost?.missingOn).toEqual([3]);
    const flooded = stage([0, 1, 2], { broadcast: true });
    expect(judge(Kind.Dns, [flooded], -1, '', holder, timing).status).toBe('unanswered');
  });

  it('a SYN-ACK that reached the client, which sent its SYN again: lost there, not taken', () => {
    const syn = stage([0, 1, 2]);
    const back = (ifaces: number[]): OrderedStage =>
      stage(ifaces, { srcs: ifaces.map(() => 22), dsts: ifaces.map(() => 11) });
    const reached = judge(
      Kind.TcpHandshake,
      [syn, back([2, 1, 0])],
      -1,
      '',
      noKnowledge,
      timing,
      undefined,
      true,
    );
    expect(reached).toMatchObject({
      status: 'lost',
      lost: { stage: 1, lastSeen: 0, missingOn: [] },
      detail: NOT_TAKEN,
    });
    // not asked again: ok; asked again, the SYN-ACK short of the client: lost on the way
    expect(judge(Kind.TcpHandshake, [syn, back([2, 1, 0])], -1, '', noKnowledge, timing).status).toBe('ok');
    expect(
      judge(Kind.TcpHandshake, [syn, back([2, 1])], -1, '', noKnowledge, timing, undefined, true),
    ).toMatchObject({ status: 'lost', lost: { stage: 1, lastSeen: 1, missingOn: [0] }, detail: null });
    // taken after all (the rule gone before a later try): its ACK came, ok
    const ack = stage([0, 1, 2]);
    expect(
      judge(Kind.TcpHandshake, [syn, back([2, 1, 0]), ack], -1, '', noKnowledge, timing, undefined, true)
        .status,
    ).toBe('ok');
  });

  it('unanswered: the request went as far as anything is known, no answer anywhere', () => {
    const v = judge(Kind.Dns, [stage([0, 1])], -1, '', noKnowledge, timing);
    expect(v).toMatchObject({
      status: 'unanswered',
      lost: { stage: DnsStage.Response, lastSeen: 1, missingOn: [] },
    });
  });

  it('error: an ICMP error quoting the request, with its detail', () => {
    const v = judge(
      Kind.IcmpEcho,
      [stage([0, 1]), undefined, stage([1, 0])],
      2,
      'frag-needed mtu=1450',
      noKnowledge,
      timing,
    );
    expect(v).toMatchObject({ status: 'error', detail: 'frag-needed mtu=1450' });
  });

  it('inconclusive: the capture where the reply was missing was gone at the time', () => {
    const oracle: PathOracle = { ...noKnowledge, problem: (iface) => (iface === 0 ? 'gone' : null) };
    const v = judge(Kind.IcmpEcho, [stage([0, 1, 2]), stage([2, 1])], -1, '', oracle, timing);
    expect(v.status).toBe('inconclusive');
    expect(v.lost).toMatchObject({ lastSeen: 1, missingOn: [0] });
    expect(v.problems).toEqual([{ iface: 0, text: 'gone' }]);
  });

  it('inconclusive: an unanswered request where a capture on its path was dropping', () => {
    const oracle: PathOracle = {
      ...noKnowledge,
      problem: (iface) => (iface === 1 ? 'dropped 12 packets' : null),
    };
    const v = judge(Kind.IcmpEcho, [stage([0, 1])], -1, '', oracle, timing);
    expect(v.status).toBe('inconclusive');
  });

  it('a flooded ARP request: answered when the reply reaches the asker, unanswered otherwise', () => {
    const flood = stage([0, 1, 2, 3], { broadcast: true });
    expect(judge(Kind.Arp, [flood, stage([2, 1, 0])], -1, '', noKnowledge, timing).status).toBe('ok');
    expect(judge(Kind.Arp, [flood, stage([2, 1])], -1, '', noKnowledge, timing)).toMatchObject({
      status: 'lost',
      lost: { stage: ArpStage.Reply, lastSeen: 1, missingOn: [0] },
    });
    expect(judge(Kind.Arp, [flood], -1, '', noKnowledge, timing)).toMatchObject({ status: 'unanswered' });
  });

  it('DHCP: discover, offer, request, ack in one exchange; no offer is unanswered at the offer', () => {
    const b = { broadcast: true };
    const full = [stage([0, 1], b), stage([1, 0], b), stage([0, 1], b), stage([1, 0], b)];
    expect(judge(Kind.Dhcp, full, -1, '', noKnowledge, timing).status).toBe('ok');
    expect(judge(Kind.Dhcp, [stage([0, 1], b)], -1, '', noKnowledge, timing)).toMatchObject({
      status: 'unanswered',
      lost: { stage: DhcpStage.Offer },
    });
  });
});

describe('clock offsets', () => {
  it('NTP formula: the offset lies within half the difference of the two round trips', () => {
    // B is 300 ms ahead; the link takes 20 µs one way and 30 µs back; B answers in 100 µs
    const theta = 300e6;
    const askA = 0;
    const askB = 20e3 + theta;
    const answerB = askB + 100e3;
    const answerA = 20e3 + 100e3 + 30e3;
    const iv = offsetInterval(askA, askB, answerA, answerB, 1, 1);
    expect(iv.lo).toBeLessThanOrEqual(theta);
    expect(iv.hi).toBeGreaterThanOrEqual(theta);
    // half the round trips' difference (25 µs), plus both stamps' resolution
    expect(iv.hi - iv.lo).toBe(2 * (25e3 + 2));
    // which host asked does not matter: the same pair seen from the other side
    const back = offsetInterval(askB - theta, askA + theta, answerB - theta, answerA + theta, 1, 1);
    expect(back.lo).toBeLessThanOrEqual(theta);
    expect(back.hi).toBeGreaterThanOrEqual(theta);
  });

  it('the newest samples that agree are intersected: the offset in the middle, the half-width its uncertainty', () => {
    const c = new ClockEstimator();
    expect(c.uncertaintyNs(1)).toBe(Number.POSITIVE_INFINITY);
    expect(c.uncertaintyNs(0)).toBe(0);
    c.addSample(1, 900, 1100);
    expect([c.offsetNs(1), c.uncertaintyNs(1)]).toEqual([1000, 100]);
    c.addSample(1, 950, 1300); // narrows it to [950, 1100]
    expect([c.offsetNs(1), c.uncertaintyNs(1)]).toEqual([1025, 75]);
    // the clock drifted: a sample that no longer meets the old ones starts over from it
    c.addSample(1, 5000, 5100);
    expect([c.offsetNs(1), c.uncertaintyNs(1)]).toEqual([5050, 50]);
    expect(c.samples(1)).toBe(3);
    expect(c.offsetNs(7)).toBe(0);
  });

  it('a recording names its clock reference host in a comment that reads back', () => {
    expect(clockReferenceComment('node1')).toBe('hopscope clock reference: node1');
    expect(parseClockReference(['other', clockReferenceComment('node1')])).toBe('node1');
    expect(parseClockReference([clockReferenceComment(null)])).toBeNull();
    expect(parseClockReference(['written by someone else'])).toBeUndefined();
    expect(parseClockReference([])).toBeUndefined();
  });
});

describe('capture health', () => {
  it('not running yet, gone, dropping, stopped', () => {
    const h = new CaptureHealth();
    h.started(0, 100);
    expect(h.problem(0, 50, 150)).toBe('not running yet');
    h.gone(0, 200);
    h.back(0, 300);
    expect(h.problem(0, 250, 260)).toBe('gone');
    expect(h.problem(0, 310, 320)).toBeNull();
    h.dropCounter(0, 0, 400);
    h.dropCounter(0, 7, 500);
    expect(h.problem(0, 450, 460)).toBe('dropped 7 packets');
    expect(h.problem(0, 510, 520)).toBeNull();
    h.stopped(0, 600);
    expect(h.problem(0, 550, 700)).toBe('stopped');
    expect(h.problem(9, 0, 1)).toBeNull();
  });

  it('live drops are blamed on at least the window a replay blames them on, however often the counters were read', () => {
    // counters read at each judge tick (100 apart) and at the poll: a replay knows these
    // drops only from the statistics block at 500, and blames the 250 before it
    const h = new CaptureHealth();
    h.started(0, 0);
    h.dropCounter(0, 0, 300, 250);
    h.dropCounter(0, 0, 400, 250);
    h.dropCounter(0, 5, 500, 250);
    expect(h.problem(0, 260, 270)).toBe('dropped 5 packets');
    expect(h.problem(0, 240, 245)).toBeNull();
    // counters not read for longer than the window: the whole time since is suspect
    h.dropCounter(0, 9, 1500, 250);
    expect(h.problem(0, 600, 610)).toBe('dropped 4 packets');
  });

  it('drops from statistics blocks are bounded like those from live counters: the oldest forgotten', () => {
    // a recording may hold any number of statistics blocks, each with a larger total
    const h = new CaptureHealth();
    const blocks = MAX_INTERVALS * 4;
    for (let i = 0; i < blocks; i++) h.dropsOverall(0, i + 1, i * 100, i * 100 + 10);
    expect(h.problem(0, 0, 5)).toBeNull();
    expect(
      h.problem(0, (blocks - MAX_INTERVALS - 1) * 100, (blocks - MAX_INTERVALS - 1) * 100 + 5),
    ).toBeNull();
    expect(h.problem(0, (blocks - MAX_INTERVALS) * 100, (blocks - MAX_INTERVALS) * 100 + 5)).toBe(
      `dropped ${blocks - MAX_INTERVALS + 1} packets`,
    );
    expect(h.problem(0, (blocks - 1) * 100, (blocks - 1) * 100 + 5)).toBe(`dropped ${blocks} packets`);
  });
});

describe('learned tables', () => {
  it('forget the oldest keys beyond the limit, and writing a key again does not rejuvenate it', () => {
    const t = new LearnedTable(3);
    for (let i = 0; i < 10; i++) t.value[t.row(i)] = i * 10;
    expect(t.size).toBe(3);
    const valueOf = (k: number): number | undefined => (t.find(k) < 0 ? undefined : t.value[t.find(k)]);
    expect([6, 7, 8, 9].map(valueOf)).toEqual([undefined, 70, 80, 90]);
    t.value[t.row(7)] = 1;
    t.row(10);
    expect(valueOf(7)).toBeUndefined();
    expect(t.find(10)).toBeGreaterThanOrEqual(0);
    expect(t.path[t.find(10)]).toBe(-1);
  });

  it('store each distinct path once, forwards or reversed parts alike', () => {
    const paths = new PathStore();
    const a = paths.intern([1, 2, 3, 4], 1, 4, false);
    expect(paths.path(a)).toEqual([2, 3, 4]);
    expect(paths.intern([9, 2, 3, 4, 9], 1, 4, false)).toBe(a);
    const r = paths.intern([4, 3, 2, 1], 0, 3, true);
    expect(paths.path(r)).toEqual([2, 3, 4]);
    expect(r).toBe(a);
    expect(paths.path(paths.intern([1, 2], 0, 2, true))).toEqual([2, 1]);
    expect(paths.size).toBe(2);
  });
});

describe('classification and the correlator', () => {
  const rec = new PacketRecord();
  const c = new Classified();
  const fill = (b: Uint8Array): void => {
    decodePacket(b, 0, b.length, 1, b.length, rec);
    classify(rec, c);
  };

  it('the same echo before and after SNAT, TTL and MAC rewrite: one fingerprint, one key', () => {
    fill(echoFrame(8, [10, 0, 0, 5], [203, 0, 113, 1], 4242, 1, 64));
    const before = { fp: c.fingerprint, key: c.key, kind: c.kind, stage: c.stage };
    fill(echoFrame(8, [203, 0, 113, 20], [203, 0, 113, 1], 4242, 1, 63));
    expect({ fp: c.fingerprint, key: c.key, kind: c.kind, stage: c.stage }).toEqual(before);
    expect(before.kind).toBe(Kind.IcmpEcho);
    // the reply belongs to the same exchange, as a different packet
    fill(echoFrame(0, [203, 0, 113, 1], [203, 0, 113, 20], 4242, 1, 64, 9));
    expect(c.key).toBe(before.key);
    expect(c.stage).toBe(EchoStage.Reply);
    expect(c.fingerprint).not.toBe(before.fp);
  });

  it('judges by packet time in replay; a request seen again after its answer is a new exchange, judged on the learned path', () => {
    const records: ExchangeRecord[] = [];
    const corr = new Correlator({ onExchange: (j) => records.push(j.record()) });
    corr.addInterface({ id: 0, label: 'tap0', host: null });
    corr.addInterface({ id: 1, label: 'eth1', host: null });
    const at = (b: Uint8Array, iface: number, ms: number): void => {
      decodePacket(b, 0, b.length, 1, b.length, rec);
      corr.packet(rec, iface, 1_700_000_000, ms * 1e6);
    };
    const req = echoFrame(8, [10, 0, 0, 5], [203, 0, 113, 1], 1, 1);
    const rep = echoFrame(0, [203, 0, 113, 1], [10, 0, 0, 5], 1, 1, 64, 9);
    at(req, 0, 0);
    at(req, 1, 0.01);
    at(rep, 1, 0.5);
    at(rep, 0, 0.51);
    // the same request again (ARP-like repetition of a key) after the answer reached the asker
    at(req, 0, 100);
    const summary = corr.finish(1_700_000_005, 0);
    // The second request never reached eth1, where the first one's path (learned) went on.
    expect(records.map((r) => r.status)).toEqual(['ok', 'lost']);
    expect(records[1].lost).toEqual({ stage: 'request', lastSeen: 'tap0', missingOn: ['eth1'] });
    expect(records[0].stages.map((s) => s.seen.map((x) => x.iface))).toEqual([
      ['tap0', 'eth1'],
      ['eth1', 'tap0'],
    ]);
    expect(records[0].rttMs).toBe(0.51);
    expect(records[0].ts).toBe('1700000000.000000000');
    expect(records[0].stages[0].seen[1].hopMs).toBe(0.01);
    expect(summary).toMatchObject({ exchanges: 2, ok: 1, lost: 1 });
  });

  it('an answer read before its question (another interface delivered first) joins the exchange the question opens', () => {
    const records: ExchangeRecord[] = [];
    const corr = new Correlator({ onExchange: (j) => records.push(j.record()), advanceWithPackets: false });
    corr.addInterface({ id: 0, label: 'tap0', host: null });
    corr.addInterface({ id: 1, label: 'eth1', host: null });
    const at = (b: Uint8Array, iface: number, ms: number): void => {
      decodePacket(b, 0, b.length, 1, b.length, rec);
      corr.packet(rec, iface, 1_700_000_000, ms * 1e6);
    };
    const req = (seq: number): Uint8Array => echoFrame(8, [10, 0, 0, 5], [203, 0, 113, 1], 1, seq);
    const rep = (seq: number): Uint8Array => echoFrame(0, [203, 0, 113, 1], [10, 0, 0, 5], 1, seq, 64, 9);
    // eth1's batch first: the reply it carried, before tap0's and its own request
    at(rep(1), 1, 0.5);
    at(req(1), 0, 0);
    at(rep(1), 0, 0.51);
    at(req(1), 1, 0.01);
    // a reply stamped before its "question": it answered an earlier one, never captured
    at(rep(2), 0, 10);
    at(req(2), 0, 20);
    corr.advance(1_700_000_005, 0);
    expect(records.map((r) => r.status)).toEqual(['ok', 'lost']);
    expect(records[0].stages.map((s) => s.seen.map((x) => x.iface))).toEqual([
      ['tap0', 'eth1'],
      ['eth1', 'tap0'],
    ]);
    expect(records[0].rttMs).toBe(0.51);
    // (lost where the learned path goes on: the early reply did not join it)
    expect(records[1].stages.map((s) => s.name)).toEqual(['request']);
  });

  it('a DNS query asked again with its id after its response reached the asker: not taken — unless the response was an error, or the query flooded', () => {
    const run = (response: (id: number) => Uint8Array, dst = 'cb007107'): ExchangeRecord[] => {
      const records: ExchangeRecord[] = [];
      const corr = new Correlator({ onExchange: (j) => records.push(j.record()) });
      corr.addInterface({ id: 0, label: 'eth0', host: null });
      const at = (b: Uint8Array, ms: number): void => {
        decodePacket(b, 0, b.length, 1, b.length, rec);
        corr.packet(rec, 0, 1_700_000_000, ms * 1e6);
      };
      const query = (ipId: number): Uint8Array => {
        const b = ethIpv4Udp(40000, 53, dnsQuery(77, 'www.example.lab'), { id: ipId, dst });
        // to a multicast group: its MAC's group bit too
        if (dst.startsWith('e0')) b.set([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb], 0);
        return b;
      };
      const answer = (ipId: number): Uint8Array =>
        ethIpv4Udp(53, 40000, response(77), { id: ipId, src: dst, dst: '0a000218' });
      // (a stub resolver's timeout: 1 s, then the same query again)
      at(query(1), 0);
      at(answer(2), 1);
      at(query(3), 1000);
      at(answer(4), 1001);
      corr.finish(1_700_000_020, 0);
      return records;
    };
    const dropped = run((id) => dnsResponse(id, 'www.example.lab', 0, ['0a000009']));
    expect(dropped.map((r) => [r.status, r.detail])).toEqual([['lost', NOT_TAKEN]]);
    expect(dropped[0].lost).toEqual({ stage: 'response', lastSeen: 'eth0', missingOn: [] });
    expect(dropped[0].stages.map((s) => s.packets)).toEqual([2, 2]);
    // SERVFAIL: a resolver asks again (its next server): two exchanges, each an error
    const servfail = run((id) => dnsResponse(id, 'www.example.lab', 2));
    expect(servfail.map((r) => [r.status, r.detail])).toEqual([
      ['error', 'SERVFAIL'],
      ['error', 'SERVFAIL'],
    ]);
    // mDNS asks again by routine, to its multicast group: each query its own exchange
    const mdns = run((id) => dnsResponse(id, 'www.example.lab', 0, ['0a000009']), 'e00000fb');
    expect(mdns.map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('state stays bounded: beyond maxExchanges the oldest is judged early, as inconclusive', () => {
    const records: ExchangeRecord[] = [];
    const corr = new Correlator({ onExchange: (j) => records.push(j.record()), maxExchanges: 100 });
    corr.addInterface({ id: 0, label: 'tap0', host: null });
    for (let i = 0; i < 1000; i++) {
      const b = echoFrame(8, [10, 0, 0, 5], [203, 0, 113, 1], 7, i);
      decodePacket(b, 0, b.length, 1, b.length, rec);
      corr.packet(rec, 0, 1_700_000_000, i * 1000);
      expect(corr.pending).toBeLessThanOrEqual(100);
    }
    expect(records.length).toBe(900);
    expect(records.every((r) => r.status === 'inconclusive' && /state limit/.test(r.detail ?? ''))).toBe(
      true,
    );
  });

  it('the limit weighs what an exchange holds: a DNS name 1.2 exchanges, one over 64 bytes 2', () => {
    for (const [label, open] of [
      ['a'.repeat(40), 83], // 45 bytes on the wire: 100 / 1.2
      ['b'.repeat(63) + '.' + 'c'.repeat(20), 50], // 87 bytes: 100 / 2
    ] as const) {
      const records: ExchangeRecord[] = [];
      const corr = new Correlator({ onExchange: (j) => records.push(j.record()), maxExchanges: 100 });
      corr.addInterface({ id: 0, label: 'tap0', host: null });
      let most = 0;
      for (let i = 0; i < 1000; i++) {
        const b = ethIpv4Udp(40000 + i, 53, dnsQuery(i, `q${i}.${label}.example`));
        decodePacket(b, 0, b.length, 1, b.length, rec);
        corr.packet(rec, 0, 1_700_000_000, i * 1000);
        most = Math.max(most, corr.pending);
      }
      expect(most, label).toBe(open);
      expect(records.length).toBe(1000 - open);
      expect(records.every((r) => r.kind === 'dns' && r.status === 'inconclusive')).toBe(true);
      // the names kept are the queries' own, whichever row they were kept in
      corr.finish();
      expect(records.at(-1)?.key).toContain(`q999.${label}.example`);
    }
  });
});

describe('byte hashing', () => {
  /** What hashBytes computes, byte by byte (the words little-endian). */
  function reference(h: number, b: Uint8Array, start: number, end: number): number {
    let i = start;
    for (; i + 4 <= end; i += 4) h = mix(h, b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    let tail = 0;
    let shift = 0;
    for (; i < end; i++, shift += 8) tail |= b[i] << shift;
    return mix(h, tail ^ (end - start));
  }

  it('reads words in place: the same hash as byte by byte, whatever the buffer, offset and length', () => {
    let seed = 12345;
    const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const backing = new Uint8Array(4096).map(() => rand() & 0xff);
    // views at odd offsets into one buffer, and two buffers taking turns (the cached view changes)
    const buffers = [
      backing,
      backing.subarray(3),
      backing.subarray(1001, 2000),
      new Uint8Array(64).fill(0xa5),
    ];
    for (let k = 0; k < 5000; k++) {
      const b = buffers[k % buffers.length];
      const start = rand() % (b.length - 41);
      const end = start + (rand() % 41);
      expect(hashBytes(HASH_SEED, b, start, end)).toBe(reference(HASH_SEED, b, start, end));
    }
  });

  it('folds case four bytes at a time: the hash of the bytes lower-cased one by one, for every byte value', () => {
    // every byte value 0..255 in every position of a word, and random runs
    const all = Uint8Array.from({ length: 1024 }, (_, i) => (i >> 2) & 0xff);
    const lower = (b: Uint8Array): Uint8Array => b.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
    for (let shift = 0; shift < 4; shift++) {
      const b = all.subarray(shift);
      expect(hashFoldedBytes(HASH_SEED, b, 0, b.length)).toBe(reference(HASH_SEED, lower(b), 0, b.length));
    }
    let seed = 777;
    const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let k = 0; k < 2000; k++) {
      const b = Uint8Array.from({ length: 1 + (rand() % 40) }, () => rand() & 0xff);
      const start = rand() % b.length;
      expect(hashFoldedBytes(HASH_SEED, b, start, b.length)).toBe(
        reference(HASH_SEED, lower(b), start, b.length),
      );
    }
    // and names differing only in case hash alike
    const folded = (s: string): number => {
      const b = new TextEncoder().encode(s);
      return hashFoldedBytes(HASH_SEED, b, 0, b.length);
    };
    expect(folded('\x03WEB\x09OpenStack\x03Org')).toBe(folded('\x03web\x09openstack\x03org'));
    expect(folded('\x03web\x09openstack\x03org')).not.toBe(folded('\x03web\x09openstack\x03net'));
  });
});
