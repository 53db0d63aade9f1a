import { describe, expect, it } from 'vitest';
import { formatTunnelOuterDst, formatTunnelOuterSrc } from '../../src/decode/format.js';
import { MAX_TUNNEL_DEPTH } from '../../src/decode/dispatch.js';
import { TUNNEL_NAMES } from '../../src/decode/record.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  LT_RAW,
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

const udp = concat(udpHeader(40000, 9, 4), hex('deadbeef')); // 12 bytes to the discard port

describe('dispatch by IP protocol', () => {
  it.each([
    [1, 'icmp'],
    [6, 'tcp'],
    [17, 'udp'],
    [47, 'gre'],
    [132, 'sctp'],
    [2, 'igmp'],
    [89, 'other'], // OSPF
    [50, 'other'], // ESP
  ])('protocol %i → %s', (proto, layer) => {
    const rec = decode(concat(ipv4Header(proto, 20), new Uint8Array(20)), LT_RAW);
    expect(layerNames(rec)[1]).toBe(layer);
    expect(rec.ipProto).toBe(proto);
  });

  it('ICMPv6 (58) after IPv6', () => {
    const rec = decode(concat(ipv6Header(58, 8), hex('8000', '0000', '00010001')), LT_RAW); // echo request
    expect(layerNames(rec)[1]).toBe('icmpv6');
    expect(rec.l4Off).toBe(40);
  });

  it('records SCTP ports and payload', () => {
    const packet = concat(
      ipv4Header(132, 16),
      hex(
        '0b59', // source port 2905 (M3UA)
        '0b5a', // destination port 2906
        '00000001', // verification tag
        '00000000', // checksum
        '01020304', // first chunk bytes
      ),
    );
    const rec = decode(packet, LT_RAW);
    expect([rec.srcPort, rec.dstPort]).toEqual([2905, 2906]);
    expect([rec.payloadOff, rec.payloadLen]).toEqual([32, 4]);
    cutAtEveryLength(packet, LT_RAW);
  });

  it('keeps the bytes of an unknown protocol as the payload', () => {
    const rec = decode(concat(ipv4Header(89, 4), hex('02010030')), LT_RAW); // OSPF hello start
    expect([rec.payloadOff, rec.payloadLen]).toEqual([20, 4]);
    expect(anomaly(rec)).toBeNull();
  });
});

describe('IP-in-IP tunnels (4, 41)', () => {
  const ipip = concat(
    ethernet('0800'),
    ipv4Header(4, 20 + 12, { src: 'c6336401', dst: 'c6336402', id: 0x1111, ttl: 9 }), // outer 198.51.100.1 → .2, protocol 4
    ipv4Header(17, 12, { src: '0a000001', dst: '0a000002', id: 0x2222 }), // inner 10.0.0.1 → 10.0.0.2
    udp,
  );

  it('decodes the inner IPv4 as the innermost packet, the outer as the tunnel', () => {
    const rec = decode(ipip);
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'ipv4', 'udp']);
    expect(TUNNEL_NAMES[rec.tunnelType]).toBe('ipip');
    expect(rec.tunnelDepth).toBe(1);
    expect(rec.tunnelVni).toBe(-1);
    expect([formatTunnelOuterSrc(rec), formatTunnelOuterDst(rec)]).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(rec.ipId).toBe(0x2222);
    expect(rec.ttl).toBe(64);
    expect(rec.dstPort).toBe(9);
    expect(rec.ethSrcOff).toBe(6); // no inner L2: the outer frame's MACs stay
    cutAtEveryLength(ipip, LT_EN10MB);
  });

  it('decodes IPv6 in IPv4 (6in4, protocol 41)', () => {
    const sixInFour = concat(
      ipv4Header(41, 40 + 12, { src: 'c6336401', dst: 'c6336402' }),
      ipv6Header(17, 12),
      udp,
    );
    const rec = decode(sixInFour, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv4', 'ipv6', 'udp']);
    expect(rec.tunnelOuterIpVersion).toBe(4);
    expect(addresses(rec)).toEqual(['2001:db8::1', '2001:db8::2']);
    expect(rec.ipVersion).toBe(6);
    cutAtEveryLength(sixInFour, LT_RAW);
  });

  it(`stops nesting after ${MAX_TUNNEL_DEPTH} tunnels with tunnel_too_deep`, () => {
    const depth = MAX_TUNNEL_DEPTH + 2;
    const headers: Uint8Array[] = [];
    for (let i = 0; i < depth; i++) headers.push(ipv4Header(4, 20 * (depth - i)));
    const rec = decode(concat(...headers, ipv4Header(17, 12), udp), LT_RAW);
    expect(rec.tunnelDepth).toBe(MAX_TUNNEL_DEPTH);
    expect(anomaly(rec)).toBe('ipv4:tunnel_too_deep');
  });
});
