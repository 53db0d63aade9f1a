import { describe, expect, it } from 'vitest';
import { formatIpv6 } from '../../src/decode/format.js';
import { decodeIcmpv6 } from '../../src/decode/icmpv6.js';
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
  '80', // type 128 echo request
  '00', // code 0
  '0000', // checksum (not verified)
  '3456', // identifier 0x3456
  '7890', // sequence 30864
  '0001020304050607', // payload
);

/** The IPv6 header of a quoted packet: 2001:db8::1 → 2001:db8::2, first next header `next`. */
function quotedIpv6(next: string, payloadLen = '0010'): string {
  return [
    '60000000', // version 6, traffic class, flow label
    payloadLen, // payload length
    next, // next header
    '40', // hop limit
    '20010db8000000000000000000000001', // source 2001:db8::1
    '20010db8000000000000000000000002', // destination 2001:db8::2
  ].join('');
}

const quotedUdp = [
  '7530', // quoted UDP source port 30000
  '32c8', // quoted UDP destination port 13000
  '0010', // quoted UDP length
  '0000', // quoted UDP checksum
].join('');

const packetTooBig = hex(
  '02', // type 2 packet too big
  '00', // code 0
  '0000', // checksum
  '000005aa', // MTU 1450
  quotedIpv6('11'), // quoted IPv6 header, next header UDP
  quotedUdp,
);

const neighborSolicitation = hex(
  '87', // type 135 neighbor solicitation
  '00', // code 0
  '0000', // checksum
  '00000000', // reserved
  '20010db8000000000000000000000002', // target address 2001:db8::2
  '01', // option 1 source link-layer address
  '01', // length 1 (8 bytes)
  '020000000001', // MAC 02:00:00:00:00:01
);

const icmpv6View = (r: PacketRecord): unknown => ({
  type: r.icmpType,
  code: r.icmpCode,
  id: r.icmpId,
  seq: r.icmpSeq,
  mtu: r.icmpMtu,
  target: r.ndTargetOff,
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
});

describe('ICMPv6 echo', () => {
  it('records identifier and sequence, payload after 8 bytes', () => {
    const rec = decodeWith(decodeIcmpv6, echoRequest);
    expect([rec.icmpType, rec.icmpCode, rec.icmpId, rec.icmpSeq]).toEqual([128, 0, 0x3456, 30864]);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([8, 8]);
    expect(anomaly(rec)).toBeNull();
  });

  it('decodes inside a whole frame (eth/ipv6/icmpv6) and survives every cut', () => {
    const rec = wholeFrameSurvivesEveryCut(echoRequest, 'ipv6', 58, 'icmpv6');
    expect([rec.icmpType, rec.icmpId, rec.icmpSeq]).toEqual([128, 0x3456, 30864]);
  });
});

describe('ICMPv6 errors quote the original packet', () => {
  it('packet too big: the MTU and the quoted IPv6/UDP packet', () => {
    const rec = decodeWith(decodeIcmpv6, packetTooBig);
    expect([rec.icmpType, rec.icmpCode, rec.icmpMtu]).toEqual([2, 0, 1450]);
    expect(rec.quotedIpVersion).toBe(6);
    expect(formatIpv6(packetTooBig, rec.quotedSrcAddrOff)).toBe('2001:db8::1');
    expect(formatIpv6(packetTooBig, rec.quotedDstAddrOff)).toBe('2001:db8::2');
    expect(rec.quotedIpTotalLen).toBe(40 + 16);
    expect(rec.quotedIpId).toBe(-1); // no fragment header
    expect([rec.quotedIpProto, rec.quotedL4Off, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([
      17, 48, 30000, 13000,
    ]);
    expect(anomaly(rec)).toBeNull();
  });

  it('an MTU above 2^31 stays unsigned', () => {
    const big = packetTooBig.slice();
    big.set([0xff, 0xff, 0xff, 0xf0], 4);
    expect(decodeWith(decodeIcmpv6, big).icmpMtu).toBe(0xfffffff0);
  });

  it('destination unreachable quoting a packet with a hop-by-hop header: ports after it', () => {
    const bytes = hex(
      '01', // type 1 destination unreachable
      '04', // code 4 port unreachable
      '0000', // checksum
      '00', // RFC 4884 length 0
      '000000', // unused
      quotedIpv6('00', '0014'), // quoted IPv6 header, next header hop-by-hop
      '11', // hop-by-hop: next header UDP
      '00', // length 0 (8 bytes)
      '010400000000', // PadN option
      quotedUdp,
    );
    const rec = decodeWith(decodeIcmpv6, bytes);
    expect([rec.icmpType, rec.icmpCode]).toEqual([1, 4]);
    expect([rec.quotedIpProto, rec.quotedL4Off, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([
      17, 56, 30000, 13000,
    ]);
    expect(anomaly(rec)).toBeNull();
  });

  it('time exceeded quoting an echo request: the quoted identifier and sequence', () => {
    const bytes = hex(
      '03', // type 3 time exceeded
      '00', // code 0 hop limit exceeded
      '0000', // checksum
      '00000000', // length 0, unused
      quotedIpv6('3a'), // quoted IPv6 header, next header ICMPv6
      '80', // quoted type 128 echo request
      '00', // quoted code
      '0000', // quoted checksum
      '0009', // quoted identifier 9
      '0001', // quoted sequence 1
    );
    const rec = decodeWith(decodeIcmpv6, bytes);
    expect([rec.quotedIpProto, rec.quotedIcmpType, rec.quotedIcmpId, rec.quotedIcmpSeq]).toEqual([
      58, 128, 9, 1,
    ]);
    expect(rec.icmpId).toBe(-1);
  });

  it('parameter problem quotes too', () => {
    const bytes = hex(
      '04', // type 4 parameter problem
      '01', // code 1 unrecognized next header
      '0000', // checksum
      '00000006', // pointer 6
      quotedIpv6('11'), // quoted IPv6 header, UDP
      quotedUdp,
    );
    const rec = decodeWith(decodeIcmpv6, bytes);
    expect([rec.icmpType, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([4, 30000, 13000]);
  });

  it('a quoted later fragment: the fragment identification, no ports', () => {
    const bytes = hex(
      '01', // type 1
      '00', // code 0
      '0000', // checksum
      '00000000', // unused
      quotedIpv6('2c'), // quoted IPv6 header, next header fragment
      '11', // fragment header: next header UDP
      '00', // reserved
      '05a8', // fragment offset 181 (x8), M 0
      '80000001', // identification 0x80000001 (unsigned)
      quotedUdp, // data that is not a UDP header
    );
    const rec = decodeWith(decodeIcmpv6, bytes);
    expect(rec.quotedIpId).toBe(0x80000001);
    expect(rec.quotedIpProto).toBe(17);
    expect([rec.quotedSrcPort, rec.quotedL4Off]).toEqual([-1, -1]);
    expect(anomaly(rec)).toBeNull();
  });

  it('an RFC 4884 length (64-bit words) bounds the quote', () => {
    const bytes = hex(
      '01', // type 1
      '00', // code 0
      '0000', // checksum
      '06', // length 6 words = 48 bytes: IPv6 header + 8 bytes of UDP
      '000000', // unused
      quotedIpv6('11'), // quoted IPv6 header, UDP
      quotedUdp,
      '20000000', // extension structure header (not decoded)
    );
    const rec = decodeWith(decodeIcmpv6, bytes);
    expect(rec.quotedEnd).toBe(8 + 48);
    expect([rec.quotedSrcPort, rec.quotedDstPort]).toEqual([30000, 13000]);
    bytes[4] = 0x20; // 256 bytes: more than present
    expect(anomaly(decodeWith(decodeIcmpv6, bytes))).toBe('icmpv6:icmpv6_quote_len_gt_data');
  });
});

describe('neighbour discovery', () => {
  it('neighbor solicitation: target offset, options walked', () => {
    const rec = decodeWith(decodeIcmpv6, neighborSolicitation);
    expect(rec.icmpType).toBe(135);
    expect(rec.ndTargetOff).toBe(8);
    expect(formatIpv6(neighborSolicitation, rec.ndTargetOff)).toBe('2001:db8::2');
    expect(anomaly(rec)).toBeNull();
  });

  it('neighbor advertisement and redirect have a target; router solicitation/advertisement none', () => {
    const na = neighborSolicitation.slice();
    na[0] = 136;
    expect(decodeWith(decodeIcmpv6, na).ndTargetOff).toBe(8);
    const redirect = hex(
      '89', // type 137 redirect
      '00', // code
      '0000', // checksum
      '00000000', // reserved
      'fe800000000000000000000000000001', // target fe80::1 (better first hop)
      '20010db8000000000000000000000063', // destination 2001:db8::63
    );
    const rr = decodeWith(decodeIcmpv6, redirect);
    expect([rr.icmpType, rr.ndTargetOff]).toEqual([137, 8]);
    expect(formatIpv6(redirect, rr.ndTargetOff)).toBe('fe80::1');
    const rs = hex(
      '85', // type 133 router solicitation
      '00', // code
      '0000', // checksum
      '00000000', // reserved
      '0101020000000001', // option source link-layer address
    );
    const rsRec = decodeWith(decodeIcmpv6, rs);
    expect([rsRec.icmpType, rsRec.ndTargetOff, anomaly(rsRec)]).toEqual([133, -1, null]);
    const ra = hex(
      '86', // type 134 router advertisement
      '00', // code
      '0000', // checksum
      '40', // cur hop limit 64
      '00', // flags
      '0708', // router lifetime 1800
      '00000000', // reachable time
      '00000000', // retrans timer
      '0501000000000500', // option MTU 1280
    );
    expect(anomaly(decodeWith(decodeIcmpv6, ra))).toBeNull();
  });

  it('option length 0: icmpv6_nd_option_len_0 (RFC 4861 §4.6), target kept', () => {
    const bad = neighborSolicitation.slice();
    bad[25] = 0; // option length 0
    const rec = decodeWith(decodeIcmpv6, bad);
    expect(anomaly(rec)).toBe('icmpv6:icmpv6_nd_option_len_0');
    expect(rec.malformedOff).toBe(24);
    expect(rec.ndTargetOff).toBe(8);
  });

  it('an option past the end: icmpv6_nd_option_overrun (truncated when snaplen cut it)', () => {
    const bad = neighborSolicitation.slice();
    bad[25] = 2; // 16 bytes, only 8 present
    expect(anomaly(decodeWith(decodeIcmpv6, bad))).toBe('icmpv6:icmpv6_nd_option_overrun');
    const cut = decodeWith(decodeIcmpv6, neighborSolicitation, 0, 28, neighborSolicitation.length);
    expect(anomaly(cut)).toBe('icmpv6:icmpv6_truncated');
  });

  it('a solicitation shorter than its 24 bytes: icmpv6_nd_too_short', () => {
    const rec = decodeWith(decodeIcmpv6, neighborSolicitation.subarray(0, 20));
    expect(anomaly(rec)).toBe('icmpv6:icmpv6_nd_too_short');
    expect(rec.ndTargetOff).toBe(-1);
  });

  it('MLD messages are typed only', () => {
    for (const type of [130, 131, 132, 143]) {
      const mld = hex('00000000', '00000000', '00000000000000000000000000000000');
      mld[0] = type;
      const rec = decodeWith(decodeIcmpv6, mld);
      expect([rec.icmpType, anomaly(rec)]).toEqual([type, null]);
    }
  });
});

describe('ICMPv6 anomalies', () => {
  it('fewer than 4 bytes: icmpv6_too_short; an echo of 4-7 bytes too', () => {
    expect(anomaly(decodeWith(decodeIcmpv6, echoRequest.subarray(0, 3)))).toBe('icmpv6:icmpv6_too_short');
    const rec = decodeWith(decodeIcmpv6, echoRequest.subarray(0, 6));
    expect(anomaly(rec)).toBe('icmpv6:icmpv6_too_short');
    expect([rec.icmpType, rec.icmpId]).toEqual([128, -1]);
  });

  it('a quote that is not IPv6: icmpv6_quoted_not_ipv6', () => {
    const bad = packetTooBig.slice();
    bad[8] = 0x45;
    expect(anomaly(decodeWith(decodeIcmpv6, bad))).toBe('icmpv6:icmpv6_quoted_not_ipv6');
  });

  it('a quote with more than 8 extension headers: icmpv6_quoted_too_many_ext', () => {
    const destOpts = '3c00010400000000'; // destination options: next header 60, 8 bytes, PadN
    const bytes = hex(
      '01000000', // type 1 code 0, checksum
      '00000000', // unused
      quotedIpv6('3c', '0050'), // quoted IPv6 header, next header destination options
      destOpts.repeat(10), // ten destination-options headers, each pointing to another
    );
    const rec = decodeWith(decodeIcmpv6, bytes);
    expect(anomaly(rec)).toBe('icmpv6:icmpv6_quoted_too_many_ext');
    expect(rec.quotedSrcAddrOff).toBe(16);
  });

  it('a quote the sender cut short is tolerated; cut by snaplen it is truncated', () => {
    const short = packetTooBig.subarray(0, 8 + 40 + 2);
    const rec = decodeWith(decodeIcmpv6, short);
    expect(anomaly(rec)).toBeNull();
    expect([rec.quotedIpProto, rec.quotedSrcPort]).toEqual([17, -1]);
    const cut = decodeWith(decodeIcmpv6, packetTooBig, 0, 8 + 40 + 2, packetTooBig.length);
    expect(anomaly(cut)).toBe('icmpv6:icmpv6_truncated');
  });

  it('every cut of every fixture: no throw, truncated or the same answer', () => {
    for (const bytes of [echoRequest, packetTooBig, neighborSolicitation]) {
      cutEveryLengthDirect(decodeIcmpv6, bytes, 0, icmpv6View);
    }
  });

  it('random corruption never throws', () => {
    for (const bytes of [echoRequest, packetTooBig, neighborSolicitation])
      mutateAndDecode(decodeIcmpv6, bytes, 0);
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('ICMPv6 against tshark (corpus)', () => {
  const files = [
    'icmp6-ping.pcap',
    'icmp6.pcap',
    'icmp6-nd-options.pcap',
    'icmp6-toobig.pcap',
    'icmp6-timeexceeded.pcap',
    'icmp6-destunreach-ip6ext-udp.pcap',
    'babel.pcap',
    'linux_dlt_sll2.pcap',
    'ipv6_zero_len_ah.pcap',
  ];
  itAgreesWithTshark(files, decodeIcmpv6, transportOf(58, 6), ({ rec, row, what, frame: f }) => {
    const types = values(row, 'icmpv6.type').map(Number);
    if (types.length === 0) return false;
    expect(rec.icmpType, what).toBe(types[0]);
    expect(anomaly(rec), what).toBeNull();
    const ident = values(row, 'icmpv6.echo.identifier');
    if (types[0] === 128 || types[0] === 129) {
      expect([rec.icmpId, rec.icmpSeq], what).toEqual([
        parseInt(ident[0], 16),
        Number(values(row, 'icmpv6.echo.sequence_number')[0]),
      ]);
    }
    if (types[0] === 135 || types[0] === 136) expect(rec.ndTargetOff, what).toBe(f.l4Off + 8);
    const src = values(row, 'ipv6.src');
    if (types[0] >= 1 && types[0] <= 4 && src.length > 1) {
      expect(formatIpv6(f.bytes, rec.quotedSrcAddrOff), what).toBe(src[1]);
      expect(formatIpv6(f.bytes, rec.quotedDstAddrOff), what).toBe(values(row, 'ipv6.dst')[1]);
      const sport = values(row, 'udp.srcport');
      if (sport.length > 0) {
        expect([rec.quotedSrcPort, rec.quotedDstPort], what).toEqual([
          Number(sport[0]),
          Number(values(row, 'udp.dstport')[0]),
        ]);
      }
    }
    return true;
  });

  it('icmp6-toobig.pcap: MTU 1280 and the quoted UDP ports', () => {
    const [f] = corpusIpFrames('icmp6-toobig.pcap');
    const rec = recordFor(f);
    decodeIcmpv6(f.bytes, f.l4Off, f.l4End, rec);
    expect([rec.icmpType, rec.icmpMtu, rec.quotedSrcPort, rec.quotedDstPort]).toEqual([
      2, 1280, 30000, 13000,
    ]);
  });

  it('corpus ICMPv6 frames survive every cut and random corruption', () => {
    for (const name of ['icmp6.pcap', 'icmp6-nd-options.pcap', 'icmp6-destunreach-ip6ext-udp.pcap']) {
      for (const f of corpusIpFrames(name)) {
        if (f.proto !== 58 || f.laterFragment) continue;
        const bytes = f.bytes.slice(f.start, f.l4End);
        const off = f.l4Off - f.start;
        cutEveryLengthDirect(decodeIcmpv6, bytes, off, icmpv6View);
        mutateAndDecode(decodeIcmpv6, bytes, off, 30);
      }
    }
  });
});
