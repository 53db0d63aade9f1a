import { describe, expect, it } from 'vitest';
import { IPV6_MAX_EXT_HEADERS } from '../../src/decode/ipv6.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  LT_RAW,
  addresses,
  anomaly,
  decode,
  ethernet,
  ipv6Header,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const udp = concat(udpHeader(40000, 9, 4), hex('deadbeef')); // 12 bytes to the discard port

describe('IPv6 header', () => {
  const packet = concat(
    hex(
      '6', // version 6
      'b8', // traffic class
      '54321', // flow label
      '000c', // payload length 12
      '11', // next header UDP
      '3f', // hop limit 63
      'fe800000000000000000000000000001', // source fe80::1
      '20010db8000000010000000000000000', // destination 2001:db8:0:1::
    ),
    udp,
  );

  it('records every field', () => {
    const rec = decode(packet, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv6', 'udp']);
    expect(rec.ipVersion).toBe(6);
    expect(rec.tos).toBe(0xb8);
    expect(rec.ipv6FlowLabel).toBe(0x54321);
    expect(rec.ipTotalLen).toBe(52);
    expect(rec.ipHeaderLen).toBe(40);
    expect(rec.ttl).toBe(63);
    expect(rec.ipProto).toBe(17);
    expect(rec.ipId).toBe(-1);
    expect(addresses(rec)).toEqual(['fe80::1', '2001:db8:0:1::']);
    expect(anomaly(rec)).toBeNull();
  });

  it('survives being cut at every length', () => {
    cutAtEveryLength(packet, LT_RAW);
    cutAtEveryLength(concat(ethernet('86dd'), packet), LT_EN10MB);
  });

  it('marks version ≠ 6 as ipv6_version_not_6', () => {
    const rec = decode(concat(ethernet('86dd'), hex('45'), packet.subarray(1)));
    expect(anomaly(rec)).toBe('ipv6:ipv6_version_not_6');
  });

  it('marks a payload length beyond a complete capture as ipv6_payload_len_gt_available', () => {
    const rec = decode(concat(ipv6Header(17, 100), udp), LT_RAW);
    expect(anomaly(rec)).toBe('ipv6:ipv6_payload_len_gt_available');
    expect(rec.dstPort).toBe(9);
  });
});

describe('IPv6 extension headers', () => {
  const chain = concat(
    ipv6Header(0, 8 + 24 + 8 + 12), // next header: hop-by-hop
    hex(
      '2b', // next header: routing
      '00', // length 0 (8 bytes)
      '010400000000', // PadN option, 4 bytes
    ),
    hex(
      '3c', // next header: destination options
      '02', // length 2 (24 bytes)
      '00', // routing type 0
      '01', // segments left 1
      '00000000', // reserved
      '20010db8000000000000000000000099', // address 2001:db8::99
    ),
    hex(
      '11', // next header: UDP
      '00', // length 0 (8 bytes)
      '010400000000', // PadN
    ),
    udp,
  );

  it('walks hop-by-hop, routing and destination options to UDP', () => {
    const rec = decode(chain, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv6', 'ipv6ext', 'ipv6ext', 'ipv6ext', 'udp']);
    expect(rec.ipv6ExtCount).toBe(3);
    expect(rec.ipHeaderLen).toBe(40 + 40);
    expect(rec.ipProto).toBe(17);
    expect(rec.l4Off).toBe(80);
    expect(rec.dstPort).toBe(9);
    cutAtEveryLength(chain, LT_RAW);
  });

  it('walks an authentication header (length in 4-byte words minus 2)', () => {
    const rec = decode(
      concat(
        ipv6Header(51, 16 + 12),
        hex(
          '11', // next header UDP
          '02', // payload len 2 → (2 + 2) * 4 = 16 bytes
          '0000', // reserved
          '00001000', // SPI
          '00000001', // sequence number
          '00000000', // ICV (4 bytes)
        ),
        udp,
      ),
      LT_RAW,
    );
    expect(layerNames(rec)).toEqual(['ipv6', 'ipv6ext', 'udp']);
    expect(rec.dstPort).toBe(9);
  });

  it('stops at ESP and keeps its bytes as the payload', () => {
    const rec = decode(concat(ipv6Header(50, 12), hex('00001000', '00000001', 'aabbccdd')), LT_RAW); // SPI, sequence, data
    expect(layerNames(rec)).toEqual(['ipv6', 'other']);
    expect(rec.ipProto).toBe(50);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([40, 12]);
  });

  it('stops at no-next-header (59)', () => {
    const rec = decode(concat(ipv6Header(60, 8), hex('3b', '00', '010400000000')), LT_RAW); // dest opts → 59
    expect(layerNames(rec)).toEqual(['ipv6', 'ipv6ext']);
    expect(rec.ipProto).toBe(59);
    expect(anomaly(rec)).toBeNull();
  });

  it(`marks more than ${IPV6_MAX_EXT_HEADERS} extension headers as ipv6_too_many_ext`, () => {
    const headers: Uint8Array[] = [];
    for (let i = 0; i < IPV6_MAX_EXT_HEADERS + 1; i++) headers.push(hex('3c', '00', '010400000000')); // dest opts → dest opts
    const rec = decode(concat(ipv6Header(60, 8 * headers.length + 12), ...headers, udp), LT_RAW);
    expect(rec.ipv6ExtCount).toBe(IPV6_MAX_EXT_HEADERS);
    expect(anomaly(rec)).toBe('ipv6ext:ipv6_too_many_ext');
    expect(rec.l4Off).toBe(-1);
  });

  it('marks an extension header the capture cut as truncated', () => {
    const full = concat(ipv6Header(0, 8 + 12), hex('11', '00', '010400000000'), udp);
    const rec = decode(full, LT_RAW, full.length, 0, 40);
    expect(rec.truncated).toBe(true);
    expect(anomaly(rec)).toBe('ipv6ext:ipv6ext_truncated');
  });
});

describe('IPv6 fragments', () => {
  const firstFragment = concat(
    ipv6Header(44, 8 + 12),
    hex(
      '11', // next header UDP
      '00', // reserved
      '0001', // fragment offset 0, M = 1
      'cafebabe', // identification
    ),
    udp,
  );
  const laterFragment = concat(
    ipv6Header(44, 8 + 8),
    hex(
      '11', // next header UDP
      '00', // reserved
      '00b8', // fragment offset 23 (184 bytes), M = 0
      'cafebabe', // identification
    ),
    hex('0102030405060708'), // fragment data
  );

  it('decodes the first fragment to UDP and records the identification', () => {
    const rec = decode(firstFragment, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv6', 'ipv6ext', 'udp']);
    expect(rec.ipId).toBe(0xcafebabe);
    expect(rec.moreFragments).toBe(true);
    expect(rec.fragOffset).toBe(0);
    expect(rec.laterFragment).toBe(false);
  });

  it('marks a later fragment and stops', () => {
    const rec = decode(laterFragment, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv6', 'ipv6ext']);
    expect(rec.laterFragment).toBe(true);
    expect(rec.fragOffset).toBe(184);
    expect(rec.ipProto).toBe(17);
    expect(rec.ipId).toBe(0xcafebabe);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([48, 8]);
    expect(rec.srcPort).toBe(-1);
    cutAtEveryLength(laterFragment, LT_RAW);
  });

  it('decodes an atomic fragment (offset 0, M 0) like a whole datagram', () => {
    const atomic = firstFragment.slice();
    atomic[43] = 0x00; // M = 0
    const rec = decode(atomic, LT_RAW);
    expect(rec.moreFragments).toBe(false);
    expect(rec.dstPort).toBe(9);
  });
});

describe('IPv6 jumbograms (RFC 2675)', () => {
  const jumbo = concat(
    ipv6Header(0, 0), // payload length 0, next header hop-by-hop
    hex(
      '11', // next header UDP
      '00', // length 0 (8 bytes)
      'c2', // option: Jumbo Payload
      '04', // option length 4
      '00000014', // jumbo payload length 20 (hop-by-hop + UDP)
    ),
    udpHeader(40000, 9, 4, 0), // UDP length 0: the jumbo length counts
    hex('deadbeef'),
  );

  it('takes the length from the Jumbo Payload option', () => {
    const rec = decode(jumbo, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv6', 'ipv6ext', 'udp']);
    expect(rec.ipTotalLen).toBe(60);
    expect(rec.udpLen).toBe(0);
    expect(rec.payloadLen).toBe(4);
    expect(anomaly(rec)).toBeNull();
  });

  it('ignores bytes after the jumbo length', () => {
    const rec = decode(concat(jumbo, hex('00000000')), LT_RAW);
    expect(rec.payloadLen).toBe(4);
  });
});
