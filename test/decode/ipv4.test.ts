import { describe, expect, it } from 'vitest';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  LT_RAW,
  addresses,
  anomaly,
  decode,
  ethernet,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const udp = concat(udpHeader(40000, 9, 4), hex('deadbeef')); // 12 bytes to the discard port

describe('IPv4 header', () => {
  const packet = concat(
    hex(
      '45', // version 4, IHL 5 (20 bytes)
      'b8', // TOS: DSCP EF
      '0020', // total length 32
      'abcd', // identification
      '4000', // flags: DF, fragment offset 0
      '3f', // TTL 63
      '11', // protocol UDP
      '0000', // checksum (not verified)
      'c0000201', // source 192.0.2.1
      'c6336401', // destination 198.51.100.1
    ),
    udp,
  );

  it('records every field', () => {
    const rec = decode(packet, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv4', 'udp']);
    expect(rec.ipVersion).toBe(4);
    expect(rec.l3Off).toBe(0);
    expect(rec.tos).toBe(0xb8);
    expect(rec.ipTotalLen).toBe(32);
    expect(rec.ipHeaderLen).toBe(20);
    expect(rec.ipId).toBe(0xabcd);
    expect(rec.dontFragment).toBe(true);
    expect(rec.moreFragments).toBe(false);
    expect(rec.fragOffset).toBe(0);
    expect(rec.laterFragment).toBe(false);
    expect(rec.ttl).toBe(63);
    expect(rec.ipProto).toBe(17);
    expect(rec.l4Off).toBe(20);
    expect(addresses(rec)).toEqual(['192.0.2.1', '198.51.100.1']);
    expect(anomaly(rec)).toBeNull();
  });

  it('skips options by IHL', () => {
    const withOptions = concat(
      hex(
        '46', // version 4, IHL 6 (24 bytes)
        '00', // TOS
        '0024', // total length 36
        '0001', // identification
        '0000', // no flags
        '01', // TTL 1
        '11', // UDP
        '0000', // checksum
        'c0000201', // source 192.0.2.1
        'e0000016', // destination 224.0.0.22
        '94040000', // option: router alert
      ),
      udp,
    );
    const rec = decode(withOptions, LT_RAW);
    expect(rec.ipHeaderLen).toBe(24);
    expect(rec.l4Off).toBe(24);
    expect([rec.srcPort, rec.dstPort]).toEqual([40000, 9]);
    cutAtEveryLength(withOptions, LT_RAW);
  });

  it('survives being cut at every length', () => {
    cutAtEveryLength(packet, LT_RAW);
    cutAtEveryLength(concat(ethernet('0800'), packet), LT_EN10MB);
  });
});

describe('IPv4 fragments', () => {
  const first = concat(
    hex('45', '00', '0020', '0777', '2000', '40', '11', '0000', 'c0000201', 'c6336401'), // MF, offset 0, UDP, total 32
    udp,
  );
  const later = concat(
    hex(
      '45', // version 4, IHL 5
      '00', // TOS
      '001c', // total length 28
      '0777', // identification (same datagram)
      '0002', // MF clear, fragment offset 2 (16 bytes)
      '40', // TTL
      '11', // protocol UDP
      '0000', // checksum
      'c0000201', // source
      'c6336401', // destination
    ),
    hex('0102030405060708'), // 8 bytes of the datagram's data, not a UDP header
  );

  it('decodes the first fragment on to L4', () => {
    const rec = decode(first, LT_RAW);
    expect(rec.moreFragments).toBe(true);
    expect(rec.fragOffset).toBe(0);
    expect(rec.laterFragment).toBe(false);
    expect(layerNames(rec)).toEqual(['ipv4', 'udp']);
    expect(rec.dstPort).toBe(9);
  });

  it('marks a later fragment and decodes nothing after IPv4', () => {
    const rec = decode(later, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv4']);
    expect(rec.laterFragment).toBe(true);
    expect(rec.fragOffset).toBe(16);
    expect(rec.moreFragments).toBe(false);
    expect(rec.ipId).toBe(0x0777);
    expect(rec.ipProto).toBe(17);
    expect(rec.srcPort).toBe(-1);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([20, 8]);
    cutAtEveryLength(later, LT_RAW);
  });
});

describe('IPv4 lengths', () => {
  it('marks IHL < 5 as ipv4_ihl_lt_5 and keeps the fixed fields', () => {
    const rec = decode(
      concat(hex('44', '00', '0020', '0001', '0000', '40', '11', '0000', 'c0000201', 'c6336401'), udp),
      LT_RAW,
    ); // IHL 4
    expect(anomaly(rec)).toBe('ipv4:ipv4_ihl_lt_5');
    expect(addresses(rec)).toEqual(['192.0.2.1', '198.51.100.1']);
    expect(rec.l4Off).toBe(-1);
  });

  it('marks total length < IHL as ipv4_total_len_lt_ihl', () => {
    const rec = decode(
      concat(hex('45', '00', '0010', '0001', '0000', '40', '11', '0000', 'c0000201', 'c6336401'), udp),
      LT_RAW,
    ); // total 16
    expect(anomaly(rec)).toBe('ipv4:ipv4_total_len_lt_ihl');
    expect(rec.l4Off).toBe(-1);
  });

  it('marks snaplen cutting the datagram as truncated, decoding what is there', () => {
    const full = concat(
      hex('45', '00', '0030', '0001', '0000', '40', '11', '0000', 'c0000201', 'c6336401'),
      udpHeader(40000, 9, 20),
      new Uint8Array(20),
    );
    const rec = decode(full, LT_RAW, full.length, 0, 32); // snaplen 32 of 48
    expect(rec.truncated).toBe(true);
    expect(anomaly(rec)).toBeNull(); // the headers that are there parsed
    expect([rec.srcPort, rec.dstPort, rec.udpLen]).toEqual([40000, 9, 28]);
    expect(rec.payloadOff + rec.payloadLen).toBe(32);
  });

  it('marks a total length beyond a complete capture as ipv4_total_len_gt_available, decoding on', () => {
    const rec = decode(
      concat(hex('45', '00', '0100', '0001', '0000', '40', '11', '0000', 'c0000201', 'c6336401'), udp),
      LT_RAW,
    ); // total 256, 32 on the wire
    expect(rec.truncated).toBe(false);
    expect(anomaly(rec)).toBe('ipv4:ipv4_total_len_gt_available');
    expect(rec.dstPort).toBe(9);
  });

  it('takes total length 0 (segmentation offload seen by a local capture) as "up to the captured end"', () => {
    const rec = decode(
      concat(hex('45', '00', '0000', '0001', '4000', '40', '11', '0000', 'c0000201', 'c6336401'), udp),
      LT_RAW,
    );
    expect(anomaly(rec)).toBeNull();
    expect(rec.payloadLen).toBe(4);
  });

  it('marks version ≠ 4 as ipv4_version_not_4', () => {
    const rec = decode(
      concat(
        ethernet('0800'),
        hex('65', '00', '0020', '0001', '0000', '40', '11', '0000', 'c0000201', 'c6336401'),
        udp,
      ),
    );
    expect(anomaly(rec)).toBe('ipv4:ipv4_version_not_4');
    expect(rec.ipVersion).toBe(0);
  });

  it('marks options cut by snaplen as truncated, and a complete packet too short for them as malformed', () => {
    const options = hex(
      '4f',
      '00',
      '003c',
      '0001',
      '0000',
      '40',
      '11',
      '0000',
      'c0000201',
      'c6336401',
      '00000000',
    ); // IHL 15, total 60: 24 of 60 bytes
    const cut = decode(options, LT_RAW, 60);
    expect(anomaly(cut)).toBe('ipv4:ipv4_truncated');
    const whole = decode(options, LT_RAW, options.length);
    expect(anomaly(whole)).toBe('ipv4:ipv4_total_len_gt_available');
    expect(whole.l4Off).toBe(-1);
  });
});
