import { describe, expect, it } from 'vitest';
import { formatIpv4, formatMac } from '../../src/decode/format.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import { LT_EN10MB, anomaly, decode, ethernet, layerNames } from './support/frames.js';
import { concat, hex } from './support/hex.js';

const request = concat(
  ethernet('0806', 'ffffffffffff', '525400123456'), // EtherType ARP, to broadcast
  hex(
    '0001', // hardware type Ethernet
    '0800', // protocol type IPv4
    '06', // hardware address length
    '04', // protocol address length
    '0001', // operation: request
    '525400123456', // sender MAC
    '0a000001', // sender IP 10.0.0.1
    '000000000000', // target MAC (unknown)
    '0a000002', // target IP 10.0.0.2
  ),
);

describe('ARP', () => {
  it('records operation and the four address offsets', () => {
    const rec = decode(request);
    expect(layerNames(rec)).toEqual(['eth', 'arp']);
    expect(rec.arpOp).toBe(1);
    expect(formatMac(rec.bytes, rec.arpShaOff)).toBe('52:54:00:12:34:56');
    expect(formatIpv4(rec.bytes, rec.arpSpaOff)).toBe('10.0.0.1');
    expect(formatMac(rec.bytes, rec.arpThaOff)).toBe('00:00:00:00:00:00');
    expect(formatIpv4(rec.bytes, rec.arpTpaOff)).toBe('10.0.0.2');
    expect(rec.ipVersion).toBe(0);
    expect(anomaly(rec)).toBeNull();
  });

  it('ignores Ethernet padding after the 28 bytes', () => {
    const padded = concat(request, new Uint8Array(18));
    expect(anomaly(decode(padded))).toBeNull();
    cutAtEveryLength(padded, LT_EN10MB, { truncatedBelow: request.length });
  });

  it('walks unusual address lengths without misreading them (hardware length 14)', () => {
    const rec = decode(
      concat(
        ethernet('0806'),
        hex(
          '3030', // hardware type 12336
          '0800', // protocol type IPv4
          '0e', // hardware address length 14
          '04', // protocol address length 4
          '0001', // request
          '3030303030303030303030303030', // sender hardware address (14)
          '30303030', // sender IP 48.48.48.48
          '3030303030303030303030303030', // target hardware address (14)
          '30303030', // target IP 48.48.48.48
        ),
      ),
    );
    expect(rec.arpOp).toBe(1);
    expect(rec.arpShaOff).toBe(-1);
    expect(formatIpv4(rec.bytes, rec.arpSpaOff)).toBe('48.48.48.48');
    expect(formatIpv4(rec.bytes, rec.arpTpaOff)).toBe('48.48.48.48');
  });

  it('marks a complete but too short ARP message malformed', () => {
    const rec = decode(request.subarray(0, 14 + 20));
    expect(rec.arpOp).toBe(1);
    expect(anomaly(rec)).toBe('arp:arp_too_short');
  });

  it('decodes RARP (0x8035) the same way', () => {
    const rarp = concat(ethernet('8035'), request.subarray(14));
    rarp[14 + 7] = 3; // operation: reverse request
    const rec = decode(rarp);
    expect(layerNames(rec)).toEqual(['eth', 'arp']);
    expect(rec.arpOp).toBe(3);
  });

  it('survives being cut at every length', () => {
    cutAtEveryLength(request, LT_EN10MB);
  });
});
