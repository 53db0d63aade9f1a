import { describe, expect, it } from 'vitest';
import {
  formatIp,
  formatIpv4,
  formatIpv4Number,
  formatIpv6,
  formatMac,
  parseIp,
} from '../../src/decode/format.js';
import { hex } from './support/hex.js';

describe('formatIpv6 (RFC 5952 §4)', () => {
  it.each([
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // §4.2.3: the first of two equal runs
    ['20010000000000010000000000000001', '2001:0:0:1::1'], // §4.2.3: the longest run
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // §4.2.2: a single 0 group stays
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['20010DB8AAAA000000000000000000BB', '2001:db8:aaaa::bb'], // §4.3: lowercase
    ['02000000000000000000000000000000', '200::'], // §4.1: no leading zeros
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'], // §5: IPv4-mapped
    ['fe8000000000000000008c3606fffe44', 'fe80::8c36:6ff:fe44'],
  ])('%s → %s', (bytes, text) => {
    expect(formatIpv6(hex(bytes), 0)).toBe(text);
  });

  it('reads at an offset', () => {
    expect(formatIpv6(hex('ffff', '20010db8000000000000000000000001'), 2)).toBe('2001:db8::1');
  });
});

describe('formatIpv4, formatMac', () => {
  it('formats dotted decimal from bytes and from a 32-bit number', () => {
    expect(formatIpv4(hex('00', 'cb007107'), 1)).toBe('203.0.113.7');
    expect(formatIpv4Number(0xcb007107)).toBe('203.0.113.7');
    expect(formatIpv4Number(0xffffffff)).toBe('255.255.255.255');
  });

  it('picks the family by version', () => {
    expect(formatIp(hex('0a000001'), 0, 4)).toBe('10.0.0.1');
    expect(formatIp(hex('00000000000000000000000000000001'), 0, 6)).toBe('::1');
    expect(formatIp(hex('0a000001'), 0, 0)).toBe('');
  });

  it('formats MACs as lowercase colon-separated pairs', () => {
    expect(formatMac(hex('525400AB0C0D'), 0)).toBe('52:54:00:ab:0c:0d');
  });
});

describe('parseIp', () => {
  it('reads IPv4 and IPv6 text, with or without a prefix length, back to the bytes formatIp writes', () => {
    for (const text of [
      '10.0.0.5',
      '203.0.113.255',
      '2001:db8::7',
      '::',
      '::1',
      'fe80::a00:27ff:fe4e:66a1',
      '::ffff:10.0.0.5',
    ]) {
      const bytes = parseIp(text);
      expect(bytes, text).not.toBeNull();
      expect(formatIp(bytes as Uint8Array, 0, (bytes as Uint8Array).length === 4 ? 4 : 6)).toBe(text);
    }
    expect(Array.from(parseIp('10.0.0.5/24') ?? [])).toEqual([10, 0, 0, 5]);
    expect(parseIp('2001:db8:0:0:1:0:0:1/64')?.[15]).toBe(1);
  });

  it('refuses what is not an address', () => {
    for (const text of [
      '',
      'eth0',
      '10.0.0',
      '10.0.0.256',
      '1.2.3.4.5',
      '2001:db8::7::1',
      '1:2:3:4:5:6:7:8:9',
      'g::1',
      '::ffff:10.0.0',
    ])
      expect(parseIp(text), text).toBeNull();
  });
});
