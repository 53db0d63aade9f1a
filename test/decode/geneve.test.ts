import { describe, expect, it } from 'vitest';
import { TUNNEL_NAMES } from '../../src/decode/record.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  addresses,
  anomaly,
  decode,
  ethernet,
  ipv4Header,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const innerIp = concat(
  ipv4Header(17, 12, { src: '0a000001', dst: '0a000002' }),
  udpHeader(33333, 9, 4),
  hex('deadbeef'),
);
const innerFrame = concat(ethernet('0800', '0a0000000002', '0a0000000001'), innerIp);

function overGeneve(geneve: Uint8Array, inner: Uint8Array): Uint8Array {
  return concat(
    ethernet('0800'),
    ipv4Header(17, 8 + geneve.length + inner.length, { src: 'c0a80001', dst: 'c0a80002' }),
    udpHeader(51000, 6081, geneve.length + inner.length),
    geneve,
    inner,
  );
}

describe('Geneve', () => {
  const withOptions = hex(
    '02', // version 0, options length 2 (8 bytes)
    '00', // O = 0, C = 0
    '6558', // protocol: transparent Ethernet bridging
    '000abc', // VNI 0xabc
    '00', // reserved
    '0102', // option class
    '03', // option type
    '01', // option length 1 (4 bytes)
    'aabbccdd', // option data
  );

  it('skips the options and decodes the inner Ethernet frame', () => {
    const frame = overGeneve(withOptions, innerFrame);
    const rec = decode(frame);
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'udp', 'geneve', 'eth', 'ipv4', 'udp']);
    expect(TUNNEL_NAMES[rec.tunnelType]).toBe('geneve');
    expect(rec.tunnelVni).toBe(0xabc);
    expect([rec.tunnelOuterSrcPort, rec.tunnelOuterDstPort]).toEqual([51000, 6081]);
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(rec.dstPort).toBe(9);
    cutAtEveryLength(frame, LT_EN10MB);
  });

  it('decodes an inner IPv4 packet without Ethernet (protocol 0x0800)', () => {
    const rec = decode(overGeneve(hex('00', '00', '0800', '001092', '00'), innerIp)); // no options, IPv4, VNI 0x1092
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'udp', 'geneve', 'ipv4', 'udp']);
    expect(rec.tunnelVni).toBe(0x1092);
    expect(addresses(rec)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('marks version ≠ 0 as geneve_version_not_0', () => {
    const rec = decode(overGeneve(hex('40', '00', '6558', '000001', '00'), innerFrame)); // version 1
    expect(anomaly(rec)).toBe('geneve:geneve_version_not_0');
    expect(rec.tunnelDepth).toBe(0);
  });

  it('marks options longer than the data as geneve_options_too_short', () => {
    const rec = decode(overGeneve(hex('3f', '00', '6558', '000001', '00'), hex('00000000'))); // 252 bytes of options announced
    expect(anomaly(rec)).toBe('geneve:geneve_options_too_short');
  });

  it('records an unknown protocol type as other, not as a tunnel', () => {
    const rec = decode(overGeneve(hex('00', '00', '894f', '000001', '00'), hex('00000000'))); // NSH
    expect(layerNames(rec).slice(3)).toEqual(['geneve', 'other']);
    expect(rec.tunnelDepth).toBe(0);
    expect(rec.dstPort).toBe(6081);
  });
});
