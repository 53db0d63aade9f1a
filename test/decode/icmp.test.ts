import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../src/decode/format.js';
import { decodeIcmp } from '../../src/decode/icmp.js';
import type { PacketRecord } from '../../src/decode/record.js';
import { CORPUS_AVAILABLE } from './support/corpus.js';
import { wholeFrameSurvivesEveryCut } from './support/cut-at-every-length.js';
import { anomaly } from './support/frames.js';
import { hex } from './support/hex.js';
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

const echoRequest = hex(
  '08', // type 8 echo request
  '00', // code 0
  'f7fe', // checksum (not verified)
  '613f', // identifier 24895
  '0001', // sequence 1
  '6162636465666768', // payload "abcdefgh"
);

const timestampRequest = hex(
  '0d', // type 13 timestamp request
  '00', // code 0
  '0000', // checksum (not verified)
  '1f2e', // identifier 7982
  '0003', // sequence 3
  '02a5c1e0', // originate timestamp (ms since midnight UT)
  '00000000', // receive timestamp (the replier's)
  '00000000', // transmit timestamp (the replier's)
);

/** The IPv4 header of the packet an error quotes: 10.0.2.24 → 203.0.113.7, id 0x1c46. */
function quotedIpv4(proto: string, totalLen = '05dc', fragment = '4000'): string {
  return [
    '45', // version 4, IHL 5
    '00', // TOS
    totalLen, // total length (of the original packet, not of the quote)
    '1c46', // identification
    fragment, // flags + fragment offset
    '40', // TTL 64
    proto, // protocol
    '0000', // checksum
    '0a000218', // source 10.0.2.24
    'cb007107', // destination 203.0.113.7
  ].join('');
}

const fragNeeded = hex(
  '03', // type 3 destination unreachable
  '04', // code 4 fragmentation needed and DF set
  '0000', // checksum
  '00', // unused
  '00', // RFC 4884 length 0 (no extensions)
  '05aa', // next-hop MTU 1450
  quotedIpv4('06'), // quoted IPv4 header, protocol TCP, total length 1500
  'c350', // quoted TCP source port 50000
  '0016', // quoted TCP destination port 22
  'deadbeef', // quoted TCP sequence number 0xdeadbeef (3735928559, unsigned)
);

const icmpView = (r: PacketRecord): unknown => ({
  type: r.icmpType,
  code: r.icmpCode,
  id: r.icmpId,
  seq: r.icmpSeq,
  mtu: r.icmpMtu,
  gw: r.icmpGatewayOff,
  qv: r.quotedIpVersion,
  qsrc: r.quotedSrcAddrOff,
  qdst: r.quotedDstAddrOff,
  qid: r.quotedIpId,
  qproto: r.quotedIpProto,
  qsport: r.quotedSrcPort,
  qdport: r.quotedDstPort,
  qtype: r.quotedIcmpType,
  qiid: r.quotedIcmpId,
  qseq: r.quotedIcmpSeq,
  qtcp: r.quotedTcpSeq,
});

describe('ICMP echo', () => {
  it('records type, code, identifier and sequence, and the payload after the 8-byte header', () => {
    const rec = decodeWith(decodeIcmp, echoRequest);
    expect(rec.icmpType).toBe(8);
    expect(rec.icmpCode).toBe(0);
    expect(rec.icmpId).toBe(24895);
    expect(rec.icmpSeq).toBe(1);
    expect(rec.l4Off).toBe(0);
    expect(rec.payloadOff).toBe(8);
    expect(rec.payloadLen).toBe(8);
    expect(rec.quotedIpVersion).toBe(0);
    expect(rec.icmpMtu).toBe(-1);
    expect(anomaly(rec)).toBeNull();
  });

  it('an echo reply too', () => {
    const reply = echoRequest.slice();
    reply[0] = 0; // type 0 echo reply
    const rec = decodeWith(decodeIcmp, reply);
    expect([rec.icmpType, rec.icmpId, rec.icmpSeq]).toEqual([0, 24895, 1]);
  });

  it('decodes inside a whole frame (eth/ipv4/icmp) and survives every cut', () => {
    const rec = wholeFrameSurvivesEveryCut(echoRequest, 'ipv4', 1, 'icmp');
    expect([rec.icmpId, rec.icmpSeq]).toEqual([24895, 1]);
  });
});

describe('ICMP timestamp (RFC 792 types 13/14)', () => {
  it('records identifier and sequence; the three timestamps are the payload', () => {
    const rec = decodeWith(decodeIcmp, timestampRequest);
    expect([rec.icmpType, rec.icmpCode, rec.icmpId, rec.icmpSeq]).toEqual([13, 0, 7982, 3]);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([8, 12]);
    expect(anomaly(rec)).toBeNull();
  });

  it('a timestamp reply too', () => {
    const reply = timestampRequest.slice();
    reply[0] = 14; // type 14 timestamp reply
    const rec = decodeWith(decodeIcmp, reply);
    expect([rec.icmpType, rec.icmpId, rec.icmpSeq]).toEqual([14, 7982, 3]);
  });

  it('an error quoting a timestamp request: the quoted identifier and sequence', () => {
    const bytes = hex(
      '03', // type 3 destination unreachable
      '0a', // code 10 host administratively prohibited
      '0000', // checksum
      '00000000', // unused
      quotedIpv4('01', '0028', '0000'), // quoted IPv4 header, protocol ICMP
      '0d', // quoted ICMP type 13 timestamp request
      '00', // quoted code
      '0000', // quoted checksum
      '1f2e', // quoted identifier 7982
      '0003', // quoted sequence 3
      '02a5c1e0', // quoted originate timestamp
    );
    const rec = decodeWith(decodeIcmp, bytes);
    expect([rec.quotedIcmpType, rec.quotedIcmpId, rec.quotedIcmpSeq]).toEqual([13, 7982, 3]);
  });

  it('every cut: no throw, truncated or the same answer', () => {
    cutEveryLengthDirect(decodeIcmp, timestampRequest, 0, icmpView);
  });
});

describe('ICMP errors quote the original packet', () => {
  it('frag-needed: next-hop MTU and the quoted TCP packet (ports, unsigned sequence)', () => {
    const rec = decodeWith(decodeIcmp, fragNeeded);
    expect([rec.icmpType, rec.icmpCode, rec.icmpMtu]).toEqual([3, 4, 1450]);
    expect(rec.quotedIpVersion).toBe(4);
    expect(rec.quotedL3Off).toBe(8);
    expect(formatIpv4(fragNeeded, rec.quotedSrcAddrOff)).toBe('10.0.2.24');
    expect(formatIpv4(fragNeeded, rec.quotedDstAddrOff)).toBe('203.0.113.7');
    expect(rec.quotedIpId).toBe(0x1c46);
    expect(rec.quotedIpTotalLen).toBe(1500);
    expect(rec.quotedIpProto).toBe(6);
    expect(rec.quotedL4Off).toBe(28);
    expect(rec.quotedEnd).toBe(fragNeeded.length);
    expect([rec.quotedSrcPort, rec.quotedDstPort]).toEqual([50000, 22]);
    expect(rec.quotedTcpSeq).toBe(3735928559);
    expect(rec.icmpId).toBe(-1); // not an echo
    expect(anomaly(rec)).toBeNull();
  });

  it('a frag-needed from a pre-RFC 1191 router says MTU 0', () => {
    const old = fragNeeded.slice();
    old[6] = 0;
    old[7] = 0;
    expect(decodeWith(decodeIcmp, old).icmpMtu).toBe(0);
  });

  it('destination unreachable other than frag-needed has no MTU', () => {
    const portUnreachable = fragNeeded.slice();
    portUnreachable[1] = 3; // code 3 port unreachable
    expect(decodeWith(decodeIcmp, portUnreachable).icmpMtu).toBe(-1);
  });

  it('time exceeded quoting a UDP traceroute probe', () => {
    const bytes = hex(
      '0b', // type 11 time exceeded
      '00', // code 0 TTL exceeded in transit
      '0000', // checksum
      '00000000', // unused, length 0
      quotedIpv4('11', '003c'), // quoted IPv4 header, protocol UDP, total length 60
      'a54b', // quoted UDP source port 42315
      '829b', // quoted UDP destination port 33435
      '0028', // quoted UDP length 40
      '0000', // quoted UDP checksum
    );
    const rec = decodeWith(decodeIcmp, bytes);
    expect([rec.icmpType, rec.icmpCode]).toEqual([11, 0]);
    expect([rec.quotedIpProto, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([17, 42315, 33435]);
    expect(anomaly(rec)).toBeNull();
  });

  it('host unreachable quoting an echo request: the quoted identifier and sequence', () => {
    const bytes = hex(
      '03', // type 3 destination unreachable
      '01', // code 1 host unreachable
      '0000', // checksum
      '00000000', // unused
      quotedIpv4('01', '0054', '0000'), // quoted IPv4 header, protocol ICMP
      '08', // quoted ICMP type 8 echo request
      '00', // quoted code
      '0000', // quoted checksum
      '4024', // quoted identifier 16420
      '0007', // quoted sequence 7
    );
    const rec = decodeWith(decodeIcmp, bytes);
    expect([rec.quotedIcmpType, rec.quotedIcmpId, rec.quotedIcmpSeq]).toEqual([8, 16420, 7]);
    expect([rec.icmpId, rec.icmpSeq]).toEqual([-1, -1]);
  });

  it('redirect: the gateway address offset, and the quote', () => {
    const bytes = hex(
      '05', // type 5 redirect
      '01', // code 1 redirect for host
      '0000', // checksum
      'c0000201', // gateway 192.0.2.1
      quotedIpv4('11', '001c'), // quoted IPv4 header, UDP
      '3039', // quoted UDP source port 12345
      '0035', // quoted UDP destination port 53
      '00080000', // quoted UDP length, checksum
    );
    const rec = decodeWith(decodeIcmp, bytes);
    expect(rec.icmpGatewayOff).toBe(4);
    expect(formatIpv4(bytes, rec.icmpGatewayOff)).toBe('192.0.2.1');
    expect([rec.quotedSrcPort, rec.quotedDstPort]).toEqual([12345, 53]);
  });

  it('source quench and parameter problem quote too', () => {
    for (const type of ['04', '0c']) {
      const bytes = hex(
        type, // type 4 source quench / 12 parameter problem
        '00', // code
        '0000', // checksum
        '00000000', // unused (parameter problem: pointer 0)
        quotedIpv4('11', '001c'), // quoted IPv4 header, UDP
        '30390035', // quoted UDP ports 12345 → 53
        '00080000', // quoted UDP length, checksum
      );
      const rec = decodeWith(decodeIcmp, bytes);
      expect([rec.icmpType, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([parseInt(type, 16), 12345, 53]);
    }
  });

  it('a quoted non-first fragment has IP fields only', () => {
    const bytes = hex(
      '03', // type 3
      '03', // code 3 port unreachable
      '0000', // checksum
      '00000000', // unused
      quotedIpv4('11', '05dc', '00b9'), // quoted IPv4 header, UDP, fragment offset 185*8
      '30390035', // bytes that are not a UDP header
      '00080000', // more data
    );
    const rec = decodeWith(decodeIcmp, bytes);
    expect(rec.quotedIpId).toBe(0x1c46);
    expect(rec.quotedIpProto).toBe(17);
    expect([rec.quotedSrcPort, rec.quotedDstPort, rec.quotedL4Off]).toEqual([-1, -1, -1]);
    expect(anomaly(rec)).toBeNull();
  });

  it('the quoted header with IP options is skipped by its IHL', () => {
    const bytes = hex(
      '0b000000', // type 11 code 0, checksum
      '00000000', // unused
      '46', // quoted version 4, IHL 6 (24 bytes)
      '00', // TOS
      '003c', // total length 60
      '1c46', // identification
      '0000', // no flags
      '01', // TTL 1
      '11', // UDP
      '0000', // checksum
      '0a000218', // source
      'cb007107', // destination
      '94040000', // option: router alert
      'a54b829b', // quoted UDP ports 42315 → 33435
      '00280000', // quoted UDP length, checksum
    );
    const rec = decodeWith(decodeIcmp, bytes);
    expect([rec.quotedL4Off, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([32, 42315, 33435]);
  });
});

describe('RFC 4884 length and extensions', () => {
  // length 7 words = 28 bytes of original datagram (20 IPv4 + 8 UDP), then an extension structure
  const withExtension = hex(
    '0b', // type 11 time exceeded
    '00', // code 0
    '0000', // checksum
    '00', // unused
    '07', // length: 7 32-bit words of original datagram
    '0000', // unused
    quotedIpv4('11', '003c'), // quoted IPv4 header, UDP
    'a54b829b', // quoted UDP ports 42315 → 33435
    '00280000', // quoted UDP length, checksum
    '2000c55f', // extension header: version 2, checksum
    '00080101', // object: length 8, class 1 (MPLS), c-type 1
    '18960101', // MPLS label stack entry
  );

  it('bounds the quote by the length; the extension structure is not decoded', () => {
    const rec = decodeWith(decodeIcmp, withExtension);
    expect(rec.quotedEnd).toBe(8 + 28);
    expect([rec.quotedSrcPort, rec.quotedDstPort]).toEqual([42315, 33435]);
    expect(rec.payloadLen).toBe(withExtension.length - 8);
    expect(anomaly(rec)).toBeNull();
  });

  it('a length beyond the message: icmp_quote_len_gt_data, the quote still read', () => {
    const bad = withExtension.slice();
    bad[5] = 0x40; // 64 words = 256 bytes, more than the 40 present
    const rec = decodeWith(decodeIcmp, bad);
    expect(anomaly(rec)).toBe('icmp:icmp_quote_len_gt_data');
    expect(rec.malformedOff).toBe(5);
    expect([rec.quotedSrcPort, rec.quotedDstPort]).toEqual([42315, 33435]);
  });

  it('a quote bounded short of its 8 L4 bytes by the length is tolerated', () => {
    const short = withExtension.slice();
    short[5] = 6; // 24 bytes: IPv4 header + 4 bytes of UDP
    const rec = decodeWith(decodeIcmp, short);
    expect([rec.quotedSrcPort, rec.quotedDstPort]).toEqual([42315, 33435]);
    expect(anomaly(rec)).toBeNull();
  });
});

describe('ICMP anomalies', () => {
  it('fewer than 8 bytes: icmp_too_short, type and code kept', () => {
    const rec = decodeWith(decodeIcmp, echoRequest.subarray(0, 5));
    expect(anomaly(rec)).toBe('icmp:icmp_too_short');
    expect(rec.truncated).toBe(false);
    expect([rec.icmpType, rec.icmpCode, rec.icmpId]).toEqual([8, 0, -1]);
  });

  it('the same, cut by snaplen: truncated', () => {
    const rec = decodeWith(decodeIcmp, echoRequest, 0, 5, echoRequest.length);
    expect(rec.truncated).toBe(true);
    expect(anomaly(rec)).toBe('icmp:icmp_truncated');
  });

  it('a quote that is not IPv4: icmp_quoted_not_ipv4', () => {
    const bad = fragNeeded.slice();
    bad[8] = 0x65; // version 6
    expect(anomaly(decodeWith(decodeIcmp, bad))).toBe('icmp:icmp_quoted_not_ipv4');
  });

  it('a quoted IHL below 5: icmp_quoted_ihl_lt_5', () => {
    const bad = fragNeeded.slice();
    bad[8] = 0x44; // IHL 4
    const rec = decodeWith(decodeIcmp, bad);
    expect(anomaly(rec)).toBe('icmp:icmp_quoted_ihl_lt_5');
    expect(rec.malformedOff).toBe(8);
    expect(rec.icmpMtu).toBe(1450);
  });

  it('a quote the sender cut short (IP header + 4 bytes) is tolerated: ports kept, no anomaly', () => {
    const rec = decodeWith(decodeIcmp, fragNeeded.subarray(0, fragNeeded.length - 4));
    expect([rec.quotedSrcPort, rec.quotedDstPort, rec.quotedTcpSeq]).toEqual([50000, 22, 0]);
    expect(anomaly(rec)).toBeNull();
  });

  it('the same quote cut by snaplen: truncated', () => {
    const rec = decodeWith(decodeIcmp, fragNeeded, 0, fragNeeded.length - 4, fragNeeded.length + 100);
    expect(rec.truncated).toBe(true);
    expect(anomaly(rec)).toBe('icmp:icmp_truncated');
    expect([rec.quotedSrcPort, rec.quotedDstPort]).toEqual([50000, 22]);
  });

  it('every cut of every fixture: no throw, truncated or the same answer', () => {
    for (const bytes of [echoRequest, fragNeeded]) cutEveryLengthDirect(decodeIcmp, bytes, 0, icmpView);
  });

  it('random corruption never throws', () => {
    mutateAndDecode(decodeIcmp, fragNeeded, 0);
    mutateAndDecode(decodeIcmp, echoRequest, 0);
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('ICMP against tshark (corpus)', () => {
  const files = [
    'icmp-ping.pcap',
    '5-pings.pcap',
    'icmp-destunreach-udp.pcap',
    'icmp-timeexceeded.pcap',
    'smtp.pcap',
    'mpls-traceroute.pcap',
    'dhcp-rfc4388.pcap',
    'afs.pcap',
    'timeout-with-pings.pcap',
    'icmp-icmp_print-oobr-1.pcap',
  ];
  itAgreesWithTshark(
    files,
    decodeIcmp,
    transportOf(1, 4),
    ({ rec, row, what, frame: f }) => {
      const types = values(row, 'icmp.type').map(Number);
      const codes = values(row, 'icmp.code').map(Number);
      if (types.length === 0) return false; // tshark did not get that far
      expect(rec.icmpType, what).toBe(types[0]);
      expect(rec.icmpCode, what).toBe(codes[0]);
      const ident = values(row, 'icmp.ident').map(Number);
      const seq = values(row, 'icmp.seq').map(Number);
      const outerEcho = types[0] === 0 || types[0] === 8;
      if (outerEcho) expect([rec.icmpId, rec.icmpSeq], what).toEqual([ident[0], seq[0]]);
      if (types.length > 1) {
        expect(rec.quotedIcmpType, what).toBe(types[1]);
        if (ident.length > 0) expect([rec.quotedIcmpId, rec.quotedIcmpSeq], what).toEqual([ident[0], seq[0]]);
      }
      const src = values(row, 'ip.src');
      if (src.length > 1 && !outerEcho) {
        expect(formatIpv4(f.bytes, rec.quotedSrcAddrOff), what).toBe(src[1]);
        expect(formatIpv4(f.bytes, rec.quotedDstAddrOff), what).toBe(values(row, 'ip.dst')[1]);
        expect(rec.quotedIpProto, what).toBe(Number(values(row, 'ip.proto')[1]));
        expect(rec.quotedIpId, what).toBe(parseInt(values(row, 'ip.id')[1], 16));
      }
      for (const l4 of ['udp', 'tcp']) {
        const sport = values(row, `${l4}.srcport`);
        if (sport.length > 0 && !outerEcho) {
          expect([rec.quotedSrcPort, rec.quotedDstPort], what).toEqual([
            Number(sport[0]),
            Number(values(row, `${l4}.dstport`)[0]),
          ]);
        }
      }
      const seqRaw = values(row, 'tcp.seq_raw');
      if (seqRaw.length > 0) expect(rec.quotedTcpSeq, what).toBe(Number(seqRaw[0]));
      if (types[0] === 3 && codes[0] === 4) expect(rec.icmpMtu, what).toBeGreaterThan(0);
      return true;
    },
    ['icmp-icmp_print-oobr-1.pcap'],
  );

  it('smtp.pcap: the four frag-needed say MTU 1492 and quote the SMTP session', () => {
    const frames = corpusIpFrames('smtp.pcap').filter((f) => [26, 28, 29, 30].includes(f.number));
    expect(frames).toHaveLength(4);
    for (const f of frames) {
      const rec = recordFor(f);
      decodeIcmp(f.bytes, f.l4Off, f.l4End, rec);
      expect([rec.icmpType, rec.icmpCode, rec.icmpMtu]).toEqual([3, 4, 1492]);
      expect([rec.quotedIpTotalLen, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([1500, 1470, 25]);
      expect(anomaly(rec)).toBeNull();
    }
  });

  it('corpus ICMP frames survive every cut and random corruption', () => {
    for (const name of ['icmp-destunreach-udp.pcap', 'mpls-traceroute.pcap', 'dhcp-rfc4388.pcap']) {
      for (const f of corpusIpFrames(name)) {
        if (f.proto !== 1 || f.laterFragment) continue;
        const bytes = f.bytes.slice(f.start, f.l4End);
        const off = f.l4Off - f.start;
        cutEveryLengthDirect(decodeIcmp, bytes, off, icmpView);
        mutateAndDecode(decodeIcmp, bytes, off, 50);
      }
    }
  });
});
