import { describe, expect, it } from 'vitest';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  LT_RAW,
  anomaly,
  decode,
  ethIpv4Udp,
  ipv4Header,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

describe('UDP header', () => {
  const datagram = concat(
    ipv4Header(17, 12),
    hex(
      '9c40', // source port 40000
      '0009', // destination port 9 (discard)
      '000c', // length 12
      '0000', // checksum (none)
      'deadbeef', // data
    ),
  );

  it('records ports, length and payload', () => {
    const rec = decode(datagram, LT_RAW);
    expect(layerNames(rec)).toEqual(['ipv4', 'udp']);
    expect([rec.srcPort, rec.dstPort, rec.udpLen]).toEqual([40000, 9, 12]);
    expect([rec.l4Off, rec.payloadOff, rec.payloadLen]).toEqual([20, 28, 4]);
    expect(anomaly(rec)).toBeNull();
    cutAtEveryLength(datagram, LT_RAW);
  });

  it('ends the data at the UDP length', () => {
    const rec = decode(concat(ipv4Header(17, 14), udpHeader(40000, 9, 4), hex('deadbeef', '0000')), LT_RAW); // 2 bytes after the datagram
    expect(rec.payloadLen).toBe(4);
  });

  it('marks length < 8 as udp_len_lt_8', () => {
    const rec = decode(concat(ipv4Header(17, 12), udpHeader(40000, 53, 4, 7), hex('deadbeef')), LT_RAW);
    expect(anomaly(rec)).toBe('udp:udp_len_lt_8');
    expect(rec.dstPort).toBe(53);
    expect(rec.payloadOff).toBe(-1);
  });

  it('marks a length beyond the IP payload as udp_len_gt_ip_payload and decodes what is there', () => {
    const rec = decode(concat(ipv4Header(17, 12), udpHeader(40000, 9, 4, 200), hex('deadbeef')), LT_RAW);
    expect(anomaly(rec)).toBe('udp:udp_len_gt_ip_payload');
    expect(rec.payloadLen).toBe(4);
  });

  it('marks a UDP header cut by snaplen as truncated, keeping the ports when they are there', () => {
    const cutBeforePorts = decode(datagram, LT_RAW, datagram.length, 0, 23);
    expect(anomaly(cutBeforePorts)).toBe('udp:udp_truncated');
    expect(cutBeforePorts.srcPort).toBe(-1);
    const cutAfterPorts = decode(datagram, LT_RAW, datagram.length, 0, 24);
    expect(anomaly(cutAfterPorts)).toBe('udp:udp_truncated');
    expect([cutAfterPorts.srcPort, cutAfterPorts.dstPort, cutAfterPorts.udpLen]).toEqual([40000, 9, -1]);
  });
});

describe('dispatch by UDP port', () => {
  const payload = new Uint8Array(64);
  it.each([
    [40000, 53, 'dns'],
    [53, 40000, 'dns'],
    [5353, 5353, 'dns'],
    [51328, 5355, 'dns'], // LLMNR
    [68, 67, 'dhcp'],
    [67, 68, 'dhcp'],
    [546, 547, 'dhcpv6'],
    [547, 546, 'dhcpv6'],
    [50000, 4789, 'vxlan'],
    [50000, 8472, 'vxlan'],
    [50000, 6081, 'geneve'],
  ])('%i → %i: %s', (src, dst, layer) => {
    const rec = decode(ethIpv4Udp(src, dst, payload));
    expect(layerNames(rec)[3]).toBe(layer);
  });

  it('never takes a tunnel from the source port (a flow hash)', () => {
    const rec = decode(ethIpv4Udp(4789, 40000, payload));
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'udp']);
    expect(rec.tunnelDepth).toBe(0);
  });

  it('prefers the destination port', () => {
    expect(layerNames(decode(ethIpv4Udp(53, 4789, payload)))[3]).toBe('vxlan');
    expect(layerNames(decode(ethIpv4Udp(4789, 53, payload)))[3]).toBe('dns');
  });

  it('survives being cut at every length', () => {
    cutAtEveryLength(ethIpv4Udp(40000, 9, hex('0102030405')), LT_EN10MB);
  });
});
