import { describe, expect, it } from 'vitest';
import { readDnsName } from '../../src/decode/dns.js';
import type { PacketRecord } from '../../src/decode/record.js';
import { decodeTcp, TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/decode/tcp.js';
import { CORPUS_AVAILABLE } from './support/corpus.js';
import { cutAtEveryLength, wholeFrameSurvivesEveryCut } from './support/cut-at-every-length.js';
import { anomaly, decode, ethernet, ipv4Header, layerNames, LT_EN10MB } from './support/frames.js';
import { concat, hex } from './support/hex.js';
import {
  corpusIpFrames,
  cutEveryLengthDirect,
  decodeWith,
  itAgreesWithTshark,
  transportOf,
  mutateAndDecode,
  recordFor,
  values,
} from './support/l4.js';

const syn = hex(
  'c350', // source port 50000
  '0016', // destination port 22
  'e0a1b2c3', // sequence number 3768693443 (> 2^31: unsigned)
  '00000000', // acknowledgment number
  'a0', // data offset 10 (40 bytes)
  '02', // flags SYN
  'faf0', // window 64240
  '0000', // checksum (not verified)
  '0000', // urgent pointer
  '020405b4', // option MSS 1460
  '0402', // option SACK permitted
  '080a', // option timestamps, length 10
  '0001e240', // TSval
  '00000000', // TSecr
  '01', // NOP
  '030307', // option window scale 7
);

const synAck = hex(
  '0016', // source port 22
  'c350', // destination port 50000
  'ffffff00', // sequence number 4294967040
  'e0a1b2c4', // acknowledgment number = SYN's + 1
  '60', // data offset 6 (24 bytes)
  '12', // flags SYN ACK
  'ffff', // window
  '0000', // checksum
  '0000', // urgent pointer
  '02040550', // option MSS 1360
);

const dnsQuery = hex(
  '4319', // DNS id
  '0120', // flags: RD, AD
  '0001', // 1 question
  '0000', // 0 answers
  '0000', // 0 authority
  '0000', // 0 additional
  '03777777', // "www"
  '0774637064756d70', // "tcpdump"
  '036f7267', // "org"
  '00', // root
  '0001', // QTYPE A
  '0001', // QCLASS IN
);

function dataSegment(srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  return concat(
    hex(
      srcPort.toString(16).padStart(4, '0'), // source port
      dstPort.toString(16).padStart(4, '0'), // destination port
      '23fec80d', // sequence number
      '79d24914', // acknowledgment number
      '50', // data offset 5 (20 bytes)
      '18', // flags PSH ACK
      'faf0', // window
      '0000', // checksum
      '0000', // urgent pointer
    ),
    data,
  );
}

/** DNS over TCP: 2-byte length, then the message. */
function dnsOverTcp(message: Uint8Array, declaredLen = message.length): Uint8Array {
  return concat(hex(declaredLen.toString(16).padStart(4, '0')), message);
}

const tcpView = (r: PacketRecord): unknown => ({
  sport: r.srcPort,
  dport: r.dstPort,
  seq: r.tcpSeq,
  ack: r.tcpAck,
  flags: r.tcpFlags,
  win: r.tcpWindow,
  hlen: r.tcpHeaderLen,
  mss: r.tcpMss,
  ws: r.tcpWindowScale,
  sackp: r.tcpSackPermitted,
  ts: r.tcpTimestamp,
  payloadOff: r.payloadOff,
  dnsId: r.dnsId,
  dnsQname: r.dnsQnameOff,
  dnsQtype: r.dnsQtype,
});

describe('TCP header and options', () => {
  it('a SYN: ports, unsigned sequence, flags, window, every option', () => {
    const rec = decodeWith(decodeTcp, syn);
    expect([rec.srcPort, rec.dstPort]).toEqual([50000, 22]);
    expect(rec.tcpSeq).toBe(3768693443);
    expect(rec.tcpAck).toBe(0);
    expect(rec.tcpFlags).toBe(TCP_SYN);
    expect(rec.tcpWindow).toBe(64240);
    expect(rec.tcpHeaderLen).toBe(40);
    expect(rec.tcpMss).toBe(1460);
    expect(rec.tcpSackPermitted).toBe(true);
    expect(rec.tcpTimestamp).toBe(true);
    expect(rec.tcpWindowScale).toBe(7);
    expect([rec.l4Off, rec.payloadOff, rec.payloadLen]).toEqual([0, 40, 0]);
    expect(anomaly(rec)).toBeNull();
  });

  it('a SYN-ACK: acknowledgment and sequence above 2^31 stay unsigned', () => {
    const rec = decodeWith(decodeTcp, synAck);
    expect(rec.tcpFlags).toBe(TCP_SYN | TCP_ACK);
    expect([rec.tcpSeq, rec.tcpAck]).toEqual([4294967040, 3768693444]);
    expect([rec.tcpMss, rec.tcpWindowScale, rec.tcpSackPermitted]).toEqual([1360, -1, false]);
  });

  it('data after the header is the payload', () => {
    const seg = dataSegment(40000, 80, hex('474554202f')); // "GET /"
    const rec = decodeWith(decodeTcp, seg);
    expect(rec.tcpFlags).toBe(TCP_PSH | TCP_ACK);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([20, 5]);
    expect(rec.dnsOff).toBe(-1);
  });

  it('SACK blocks of valid length, unknown kinds skipped, EOL ends the list', () => {
    const seg = hex(
      'c3500016', // ports 50000 → 22
      '00000001', // sequence
      '00000002', // acknowledgment
      '80', // data offset 8 (32 bytes)
      '10', // ACK
      '0100', // window
      '00000000', // checksum, urgent pointer
      '0101', // NOP NOP
      '050a', // SACK, one block (10 bytes)
      '0000000a0000000f', // left/right edge
      'fe02', // experimental kind 254, length 2
      '00', // EOL
      '09', // after EOL: ignored (would be a bad option)
    );
    const rec = decodeWith(decodeTcp, seg);
    expect(anomaly(rec)).toBeNull();
    expect(rec.payloadOff).toBe(32);
  });

  it('decodes inside a whole frame (eth/ipv4/tcp) and survives every cut', () => {
    const rec = wholeFrameSurvivesEveryCut(syn, 'ipv4', 6, 'tcp');
    expect([rec.srcPort, rec.dstPort, rec.tcpMss]).toEqual([50000, 22, 1460]);
  });
});

describe('TCP anomalies', () => {
  it('fewer than 20 bytes: tcp_too_short, ports and sequence kept', () => {
    const rec = decodeWith(decodeTcp, syn.subarray(0, 10));
    expect(anomaly(rec)).toBe('tcp:tcp_too_short');
    expect([rec.srcPort, rec.dstPort, rec.tcpSeq]).toEqual([50000, 22, 3768693443]);
    const cut = decodeWith(decodeTcp, syn, 0, 10, syn.length);
    expect([cut.truncated, anomaly(cut)]).toEqual([true, 'tcp:tcp_truncated']);
  });

  it('data offset below 5: tcp_data_offset_lt_5', () => {
    const bad = syn.slice();
    bad[12] = 0x40; // data offset 4
    const rec = decodeWith(decodeTcp, bad);
    expect(anomaly(rec)).toBe('tcp:tcp_data_offset_lt_5');
    expect(rec.malformedOff).toBe(12);
    expect(rec.payloadOff).toBe(-1);
    expect(rec.srcPort).toBe(50000);
  });

  it('data offset past the segment: tcp_header_overrun; truncated when snaplen cut it', () => {
    const bad = syn.slice();
    bad[12] = 0xf0; // data offset 15 (60 bytes), 40 present
    expect(anomaly(decodeWith(decodeTcp, bad))).toBe('tcp:tcp_header_overrun');
    const cut = decodeWith(decodeTcp, syn, 0, 30, syn.length);
    expect(anomaly(cut)).toBe('tcp:tcp_truncated');
    expect(cut.tcpMss).toBe(1460); // options present before the cut are still read
    expect(cut.payloadOff).toBe(-1);
  });

  it('an option of length < 2: tcp_option_bad_len', () => {
    const bad = syn.slice();
    bad[21] = 1; // MSS length 1
    const rec = decodeWith(decodeTcp, bad);
    expect(anomaly(rec)).toBe('tcp:tcp_option_bad_len');
    expect(rec.malformedOff).toBe(20);
  });

  it('a known option with the wrong length: tcp_option_bad_len, later options still read', () => {
    const bad = syn.slice();
    bad[21] = 3; // MSS length 3 instead of 4: the walk goes on from byte 23
    bad[23] = 1; // ...which we make a NOP so the rest lines up
    const rec = decodeWith(decodeTcp, bad);
    expect(anomaly(rec)).toBe('tcp:tcp_option_bad_len');
    expect(rec.tcpMss).toBe(-1);
    expect(rec.tcpWindowScale).toBe(7);
  });

  it('an option running past the options area: tcp_option_overrun', () => {
    const bad = syn.slice();
    bad[38] = 4; // window scale length 4: one byte past the 40-byte header
    expect(anomaly(decodeWith(decodeTcp, bad))).toBe('tcp:tcp_option_overrun');
  });

  it('a SACK of impossible length: tcp_option_bad_len', () => {
    const seg = hex(
      'c3500016', // ports
      '00000001', // sequence
      '00000002', // acknowledgment
      '70', // data offset 7 (28 bytes)
      '10', // ACK
      '0100', // window
      '00000000', // checksum, urgent pointer
      '0508', // SACK, length 8 (not 2 + 8n with n ≥ 1)
      '000000010000', // 6 bytes
    );
    expect(anomaly(decodeWith(decodeTcp, seg))).toBe('tcp:tcp_option_bad_len');
  });

  it('every cut of every fixture: no throw, truncated or the same answer', () => {
    cutEveryLengthDirect(decodeTcp, syn, 0, tcpView);
    cutEveryLengthDirect(decodeTcp, synAck, 0, tcpView);
  });

  it('random corruption never throws', () => {
    mutateAndDecode(decodeTcp, syn, 0);
    mutateAndDecode(decodeTcp, dataSegment(33779, 53, dnsOverTcp(dnsQuery)), 0);
  });
});

describe('DNS over TCP (port 53)', () => {
  it('a segment holding a whole message: the message is decoded', () => {
    const seg = dataSegment(33779, 53, dnsOverTcp(dnsQuery));
    const rec = decodeWith(decodeTcp, seg);
    expect(rec.dnsOff).toBe(22);
    expect(rec.dnsEnd).toBe(22 + dnsQuery.length);
    expect(rec.dnsId).toBe(0x4319);
    expect(readDnsName(seg, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff)).toBe('www.tcpdump.org');
    expect(rec.dnsQtype).toBe(1);
    expect(rec.payloadOff).toBe(20); // the TCP payload includes the length prefix
    expect(anomaly(rec)).toBeNull();
  });

  it('from the server side (source port 53) too', () => {
    const rec = decodeWith(decodeTcp, dataSegment(53, 33779, dnsOverTcp(dnsQuery)));
    expect(rec.dnsId).toBe(0x4319);
  });

  it('a segment holding the start of a longer message: what is present, no anomaly', () => {
    const seg = dataSegment(33779, 53, dnsOverTcp(dnsQuery.subarray(0, 20), 300));
    const rec = decodeWith(decodeTcp, seg);
    expect(rec.dnsId).toBe(0x4319);
    expect(rec.dnsQdCount).toBe(1);
    expect(rec.dnsQnameOff).toBe(-1); // the name is not complete in this segment
    expect(anomaly(rec)).toBeNull();
  });

  it('the same, cut by snaplen: truncated', () => {
    const seg = dataSegment(33779, 53, dnsOverTcp(dnsQuery));
    const rec = decodeWith(decodeTcp, seg, 0, seg.length - 6, seg.length);
    expect(anomaly(rec)).toBe('dns:dns_truncated');
  });

  it('a length below a DNS header, or only the length: left alone', () => {
    const tiny = decodeWith(decodeTcp, dataSegment(33779, 53, hex('0004', 'aabbccdd')));
    expect([tiny.dnsOff, anomaly(tiny)]).toEqual([-1, null]);
    const lengthOnly = decodeWith(decodeTcp, dataSegment(33779, 53, hex('0038')));
    expect([lengthOnly.dnsOff, lengthOnly.payloadLen]).toEqual([-1, 2]);
  });

  it('cut anywhere inside the message: DNS truncated, or the same answer', () => {
    const seg = dataSegment(33779, 53, dnsOverTcp(dnsQuery));
    // from the first byte of the message: before it the TCP layer cannot tell a cut
    // segment from a short one (the IP layer marks that truncation)
    cutEveryLengthDirect(decodeTcp, seg, 0, tcpView, 23);
  });

  it('inside a whole frame: eth/ipv4/tcp/dns, every cut', () => {
    const seg = dataSegment(33779, 53, dnsOverTcp(dnsQuery));
    const frame = concat(ethernet('0800'), ipv4Header(6, seg.length), seg);
    expect(layerNames(decode(frame, LT_EN10MB))).toEqual(['eth', 'ipv4', 'tcp', 'dns']);
    cutAtEveryLength(frame, LT_EN10MB);
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('TCP against tshark (corpus)', () => {
  const files = [
    'options.pcap',
    'tcp-fast-open.pcap',
    'dns_tcp.pcap',
    'handshake-reorder.pcap',
    'test_ethernet.pcap',
    'get-to-ssh-server.pcap',
    'tcp-handshake-nano.pcap',
    'mptcp-v1.pcap',
    'openjdk-25.0.2-zeek.org.pcap',
    'unaligned-nfs-1.pcap',
    'vlan-qinqinq.pcap',
    'dns-edns-ecs.pcap',
  ];
  itAgreesWithTshark(files, decodeTcp, transportOf(6), ({ rec, row, what }) => {
    const sport = values(row, 'tcp.srcport');
    if (sport.length === 0) return false;
    expect([rec.srcPort, rec.dstPort], what).toEqual([
      Number(sport[0]),
      Number(values(row, 'tcp.dstport')[0]),
    ]);
    expect(rec.tcpFlags, what).toBe(parseInt(values(row, 'tcp.flags')[0], 16) & 0xff);
    expect(rec.tcpSeq, what).toBe(Number(values(row, 'tcp.seq_raw')[0]));
    const dnsId = values(row, 'dns.id');
    if (dnsId.length > 0) expect(rec.dnsId, what).toBe(parseInt(dnsId[0], 16));
    if (rec.malformedReason !== '') expect(rec.malformedReason, what).toMatch(/^dns_/);
    return true;
  });

  it('options.pcap and tcp-fast-open.pcap: SYN options as tshark reads them', () => {
    const expected: Record<string, [number, number, number][]> = {
      // frame, MSS, window scale
      'options.pcap': [
        [1, 1460, 6],
        [2, 1380, 7],
      ],
      'tcp-fast-open.pcap': [
        [1, 1460, 7],
        [2, 1460, 6],
        [8, 1460, 7],
      ],
    };
    for (const [name, list] of Object.entries(expected)) {
      const frames = corpusIpFrames(name);
      for (const [n, mss, ws] of list) {
        const f = frames.find((x) => x.number === n)!;
        const rec = recordFor(f);
        decodeTcp(f.bytes, f.l4Off, f.l4End, rec);
        expect(
          [rec.tcpMss, rec.tcpWindowScale, rec.tcpSackPermitted, rec.tcpTimestamp],
          `${name} #${n}`,
        ).toEqual([mss, ws, true, true]);
        expect(anomaly(rec)).toBeNull();
      }
    }
    // the TFO SYN carries 86 bytes of data after a 52-byte header
    const tfo = corpusIpFrames('tcp-fast-open.pcap').find((x) => x.number === 8)!;
    const rec = recordFor(tfo);
    decodeTcp(tfo.bytes, tfo.l4Off, tfo.l4End, rec);
    expect([rec.tcpHeaderLen, rec.payloadLen]).toEqual([52, 86]);
  });

  it('dns_tcp.pcap: the query and the answer carried over TCP', () => {
    const frames = corpusIpFrames('dns_tcp.pcap');
    for (const n of [4, 6]) {
      const f = frames.find((x) => x.number === n)!;
      const rec = recordFor(f);
      decodeTcp(f.bytes, f.l4Off, f.l4End, rec);
      expect(readDnsName(f.bytes, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff)).toBe('www.tcpdump.org');
      expect(rec.dnsQr).toBe(n === 6);
      expect(anomaly(rec)).toBeNull();
    }
  });
});
