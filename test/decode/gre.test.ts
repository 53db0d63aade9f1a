import { describe, expect, it } from 'vitest';
import { formatTunnelOuterDst, formatTunnelOuterSrc } from '../../src/decode/format.js';
import { TUNNEL_NAMES } from '../../src/decode/record.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  addresses,
  anomaly,
  decode,
  ethernet,
  ipv4Header,
  ipv6Header,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const innerIp = concat(
  ipv4Header(17, 12, { src: '0a000001', dst: '0a000002', id: 0x2222 }),
  udpHeader(33333, 9, 4),
  hex('deadbeef'),
);

function overGre(gre: Uint8Array, inner: Uint8Array): Uint8Array {
  return concat(
    ethernet('0800'),
    ipv4Header(47, gre.length + inner.length, { src: 'c6336401', dst: 'c6336402', id: 0x1111 }),
    gre,
    inner,
  );
}

describe('GRE (RFC 2784)', () => {
  const frame = overGre(
    hex(
      '0000', // no checksum, key or sequence; version 0
      '0800', // protocol type IPv4
    ),
    innerIp,
  );

  it('decodes the inner IPv4 packet as the innermost one', () => {
    const rec = decode(frame);
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'gre', 'ipv4', 'udp']);
    expect(TUNNEL_NAMES[rec.tunnelType]).toBe('gre');
    expect(rec.greProto).toBe(0x0800);
    expect(rec.tunnelVni).toBe(-1);
    expect([formatTunnelOuterSrc(rec), formatTunnelOuterDst(rec)]).toEqual(['198.51.100.1', '198.51.100.2']);
    expect([rec.tunnelOuterSrcPort, rec.tunnelOuterDstPort]).toEqual([-1, -1]);
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(rec.ipId).toBe(0x2222);
    expect(rec.dstPort).toBe(9);
    cutAtEveryLength(frame, LT_EN10MB);
  });

  it('skips checksum, key and sequence number (RFC 2890); the key is the VNI', () => {
    const rec = decode(
      overGre(
        hex(
          'b000', // C, K, S set; version 0
          '86dd', // protocol type IPv6
          'abcd0000', // checksum + reserved
          '00000064', // key 100
          '00000007', // sequence number
        ),
        concat(ipv6Header(17, 12), udpHeader(33333, 9, 4), hex('deadbeef')),
      ),
    );
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'gre', 'ipv6', 'udp']);
    expect(rec.tunnelVni).toBe(100);
    expect(addresses(rec)).toEqual(['2001:db8::1', '2001:db8::2']);
  });

  it('decodes transparent Ethernet bridging (0x6558, NVGRE/gretap) with the inner MACs', () => {
    const frameInFrame = overGre(
      hex('2000', '6558', '00abcdef'),
      concat(ethernet('0800', '0a0000000002', '0a0000000001'), innerIp),
    ); // K, TEB, key
    const rec = decode(frameInFrame);
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'gre', 'eth', 'ipv4', 'udp']);
    expect(rec.tunnelVni).toBe(0xabcdef);
    expect(rec.ethSrcOff).toBe(14 + 20 + 8 + 6);
    cutAtEveryLength(frameInFrame, LT_EN10MB);
  });

  it('counts GRE in GRE and keeps the outermost protocol type', () => {
    const inner = concat(
      ipv4Header(47, 4 + innerIp.length, { src: '0a0a0d02', dst: '0a0a0b02' }),
      hex('0000', '0800'),
      innerIp,
    );
    const rec = decode(overGre(hex('0000', '0800'), inner));
    expect(rec.tunnelDepth).toBe(2);
    expect(rec.greProto).toBe(0x0800);
    expect(formatTunnelOuterSrc(rec)).toBe('198.51.100.1');
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('walks RFC 1701 source routing entries', () => {
    const rec = decode(
      overGre(
        hex(
          '4000', // R set
          '0800', // IPv4
          '00000000', // checksum (absent) + offset
          '0800', // SRE address family IPv4
          '00', // SRE offset
          '04', // SRE length 4
          'c0000201', // route entry
          '00000000', // terminating SRE
        ),
        innerIp,
      ),
    );
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(anomaly(rec)).toBeNull();
  });
});

describe('GRE that is not followed', () => {
  it('records PPTP enhanced GRE (version 1, PPP) and stops', () => {
    const rec = decode(
      overGre(
        hex(
          '3081', // K, S, A; version 1
          '880b', // protocol type PPP
          '0004', // payload length
          '0001', // call id
          '00000001', // sequence number
          '00000000', // acknowledgment number
        ),
        hex('ff030021'), // PPP
      ),
    );
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'gre']);
    expect(rec.greProto).toBe(0x880b);
    expect(rec.tunnelDepth).toBe(0);
    expect(addresses(rec)).toEqual(['198.51.100.1', '198.51.100.2']);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([14 + 20 + 16, 4]);
  });

  it('records ERSPAN (0x88be) and stops', () => {
    const rec = decode(overGre(hex('1000', '88be', '00000001'), hex('1000000100000000'))); // S, ERSPAN II, sequence; ERSPAN header
    expect(rec.greProto).toBe(0x88be);
    expect(rec.tunnelDepth).toBe(0);
  });

  it('marks an unknown version as gre_version_unknown', () => {
    expect(anomaly(decode(overGre(hex('0002', '0800'), innerIp)))).toBe('gre:gre_version_unknown');
  });

  it('marks optional fields beyond the data', () => {
    const rec = decode(overGre(hex('b000', '0800', '00000000'), new Uint8Array(0))); // C, K, S announced, 4 bytes given
    expect(anomaly(rec)).toBe('gre:gre_too_short');
  });
});
