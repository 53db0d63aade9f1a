import { describe, expect, it } from 'vitest';
import { formatMac, formatTunnelOuterDst, formatTunnelOuterSrc } from '../../src/decode/format.js';
import { MAX_TUNNEL_DEPTH } from '../../src/decode/dispatch.js';
import { TUNNEL_NAMES } from '../../src/decode/record.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  addresses,
  anomaly,
  be,
  decode,
  ethernet,
  ipv4Header,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const innerFrame = concat(
  ethernet('0800', '0a0000000002', '0a0000000001'), // inner MACs 0a:00:00:00:00:01 → :02
  ipv4Header(17, 12, { src: '0a000001', dst: '0a000002', id: 0x2222, ttl: 64 }), // 10.0.0.1 → 10.0.0.2
  udpHeader(33333, 9, 4),
  hex('deadbeef'),
);

function vxlanHeader(vni: number): Uint8Array {
  return hex(
    '08', // flags: I (VNI valid)
    '000000', // reserved
    be(vni, 3), // VNI
    '00', // reserved
  );
}

/** Outer Ethernet (VLAN 7) + IPv4 192.168.0.1 → 192.168.0.2 + UDP 51000 → 4789 around `inner`. */
function overVxlan(vni: number, inner: Uint8Array): Uint8Array {
  return concat(
    hex('020000000002', '020000000001', '8100', '0007', '0800'), // outer MACs, VLAN 7, IPv4
    ipv4Header(17, 8 + 8 + inner.length, { src: 'c0a80001', dst: 'c0a80002', id: 0x1111, ttl: 5 }),
    udpHeader(51000, 4789, 8 + inner.length),
    vxlanHeader(vni),
    inner,
  );
}

describe('VXLAN', () => {
  const frame = overVxlan(100, innerFrame);

  it('decodes the inner frame as the innermost packet and keeps the outer as tunnel context', () => {
    const rec = decode(frame);
    expect(layerNames(rec)).toEqual(['eth', 'vlan', 'ipv4', 'udp', 'vxlan', 'eth', 'ipv4', 'udp']);
    expect(TUNNEL_NAMES[rec.tunnelType]).toBe('vxlan');
    expect(rec.tunnelVni).toBe(100);
    expect(rec.tunnelDepth).toBe(1);
    expect(rec.tunnelOuterIpVersion).toBe(4);
    expect([formatTunnelOuterSrc(rec), formatTunnelOuterDst(rec)]).toEqual(['192.168.0.1', '192.168.0.2']);
    expect([rec.tunnelOuterSrcPort, rec.tunnelOuterDstPort]).toEqual([51000, 4789]);
    // innermost view: nothing of the outer packet leaks
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(formatMac(rec.bytes, rec.ethSrcOff)).toBe('0a:00:00:00:00:01');
    expect(rec.vlanCount).toBe(0);
    expect([rec.ipId, rec.ttl]).toEqual([0x2222, 64]);
    expect([rec.srcPort, rec.dstPort, rec.udpLen, rec.payloadLen]).toEqual([33333, 9, 12, 4]);
    expect(anomaly(rec)).toBeNull();
  });

  it('reads the full 24-bit VNI', () => {
    expect(decode(overVxlan(0xfedcba, innerFrame)).tunnelVni).toBe(0xfedcba);
  });

  it('keeps the outermost tunnel and counts nesting (VXLAN in VXLAN in VXLAN)', () => {
    const rec = decode(overVxlan(1, overVxlan(2, overVxlan(3, innerFrame))));
    expect(rec.tunnelDepth).toBe(3);
    expect(rec.tunnelVni).toBe(1);
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(rec.dstPort).toBe(9);
  });

  it(`stops after ${MAX_TUNNEL_DEPTH} nested tunnels with tunnel_too_deep`, () => {
    let packet = innerFrame;
    for (let i = 0; i <= MAX_TUNNEL_DEPTH; i++) packet = overVxlan(i, packet);
    const rec = decode(packet);
    expect(rec.tunnelDepth).toBe(MAX_TUNNEL_DEPTH);
    expect(anomaly(rec)).toBe('vxlan:tunnel_too_deep');
  });

  it('marks a VXLAN header cut short', () => {
    const rec = decode(frame, LT_EN10MB, frame.length, 0, 18 + 20 + 8 + 4);
    expect(anomaly(rec)).toBe('vxlan:vxlan_truncated');
    expect(rec.tunnelDepth).toBe(0);
    expect(rec.dstPort).toBe(4789);
  });

  it('survives being cut at every length', () => {
    cutAtEveryLength(frame, LT_EN10MB);
  });
});
