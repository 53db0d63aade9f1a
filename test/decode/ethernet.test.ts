import { describe, expect, it } from 'vitest';
import { formatMac } from '../../src/decode/format.js';
import { MAX_VLANS } from '../../src/decode/record.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_EN10MB,
  addresses,
  anomaly,
  decode,
  ipv4Header,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const udpToDiscard = concat(ipv4Header(17, 12), udpHeader(40000, 9, 4), hex('deadbeef'));

describe('Ethernet II', () => {
  const frame = concat(
    hex(
      'ffffffffffff', // destination MAC: broadcast
      '525400123456', // source MAC
      '0800', // EtherType IPv4
    ),
    udpToDiscard,
  );

  it('records the MACs and EtherType and hands the payload to IPv4', () => {
    const rec = decode(frame);
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'udp']);
    expect(formatMac(rec.bytes, rec.ethDstOff)).toBe('ff:ff:ff:ff:ff:ff');
    expect(formatMac(rec.bytes, rec.ethSrcOff)).toBe('52:54:00:12:34:56');
    expect(rec.etherType).toBe(0x0800);
    expect(rec.vlanCount).toBe(0);
    expect(addresses(rec)).toEqual(['10.0.2.24', '203.0.113.7']);
    expect(anomaly(rec)).toBeNull();
  });

  it('ignores padding after the IP datagram', () => {
    const padded = concat(frame, hex('000000000000')); // 6 bytes of Ethernet padding
    const rec = decode(padded);
    expect(rec.payloadOff + rec.payloadLen).toBe(frame.length);
    expect(anomaly(rec)).toBeNull();
    cutAtEveryLength(padded, LT_EN10MB, { truncatedBelow: frame.length });
  });

  it('marks a frame cut inside the Ethernet header as truncated', () => {
    const rec = decode(frame, LT_EN10MB, frame.length, 0, 10);
    expect(layerNames(rec)).toEqual(['eth']);
    expect(rec.truncated).toBe(true);
    expect(anomaly(rec)).toBe('eth:eth_truncated');
    expect(rec.ethDstOff).toBe(-1);
  });

  it('marks a runt frame (complete capture, too short) as malformed, not truncated', () => {
    const rec = decode(frame.subarray(0, 12));
    expect(rec.truncated).toBe(false);
    expect(anomaly(rec)).toBe('eth:eth_too_short');
  });

  it('records an unknown EtherType as an other layer', () => {
    const rec = decode(
      hex(
        '0180c200000e', // destination: LLDP multicast
        '525400123456', // source MAC
        '88cc', // EtherType LLDP
        '0207046c6c6470', // LLDP chassis id TLV
      ),
    );
    expect(layerNames(rec)).toEqual(['eth', 'other']);
    expect(rec.etherType).toBe(0x88cc);
    expect(anomaly(rec)).toBeNull();
  });

  it('survives being cut at every length', () => {
    cutAtEveryLength(frame, LT_EN10MB);
  });
});

describe('VLAN tags', () => {
  it('reads one 802.1Q tag', () => {
    const rec = decode(
      concat(
        hex(
          '020000000002', // destination MAC
          '020000000001', // source MAC
          '8100', // TPID 802.1Q
          'a064', // PCP 5, DEI 0, VLAN 100
          '0800', // EtherType IPv4
        ),
        udpToDiscard,
      ),
    );
    expect(layerNames(rec)).toEqual(['eth', 'vlan', 'ipv4', 'udp']);
    expect(rec.vlanCount).toBe(1);
    expect(rec.vlanIds[0]).toBe(100);
    expect(rec.etherType).toBe(0x0800);
  });

  it('reads stacked 802.1ad S-tag + 802.1Q C-tag, outermost first', () => {
    const frame = concat(
      hex(
        '020000000002', // destination MAC
        '020000000001', // source MAC
        '88a8', // TPID 802.1ad (S-tag)
        '07d1', // VLAN 2001
        '8100', // TPID 802.1Q (C-tag)
        '1014', // PCP 0, DEI 1, VLAN 20
        '9100', // TPID pre-standard QinQ
        '000a', // VLAN 10
        '0800', // EtherType IPv4
      ),
      udpToDiscard,
    );
    const rec = decode(frame);
    expect(layerNames(rec)).toEqual(['eth', 'vlan', 'vlan', 'vlan', 'ipv4', 'udp']);
    expect(Array.from(rec.vlanIds.subarray(0, rec.vlanCount))).toEqual([2001, 20, 10]);
    expect(addresses(rec)).toEqual(['10.0.2.24', '203.0.113.7']);
    cutAtEveryLength(frame, LT_EN10MB);
  });

  it(`stops after ${MAX_VLANS} tags with vlan_too_many`, () => {
    const tags: string[] = [];
    for (let i = 1; i <= MAX_VLANS + 1; i++) tags.push('8100', `000${i}`); // TPID, VLAN i
    const rec = decode(concat(hex('020000000002', '020000000001'), hex(...tags), hex('0800'), udpToDiscard));
    expect(rec.vlanCount).toBe(MAX_VLANS);
    expect(anomaly(rec)).toBe('vlan:vlan_too_many');
    expect(rec.ipVersion).toBe(0);
  });

  it('marks a cut VLAN tag as truncated', () => {
    const frame = hex('020000000002', '020000000001', '8100', '0064', '0800'); // full frame
    const rec = decode(frame, LT_EN10MB, 60, 0, 16);
    expect(anomaly(rec)).toBe('vlan:vlan_truncated');
  });
});

describe('IEEE 802.3 / LLC', () => {
  it('records a length field with non-SNAP LLC (STP) as other', () => {
    const rec = decode(
      hex(
        '0180c2000000', // destination: STP
        '525400123456', // source MAC
        '0026', // 802.3 length 38
        '424203', // LLC DSAP 0x42, SSAP 0x42, UI
        '0000000000000000000000000000000000000000000000000000000000000000000000', // BPDU
      ),
    );
    expect(layerNames(rec)).toEqual(['eth', 'other']);
    expect(rec.etherType).toBe(0);
    expect(anomaly(rec)).toBeNull();
  });

  it('follows SNAP with OUI 000000 to its EtherType (ARP in 802.2 SNAP)', () => {
    const rec = decode(
      hex(
        'ffffffffffff', // destination: broadcast
        'c23d196c0001', // source MAC
        '0024', // 802.3 length 36
        'aaaa03', // LLC DSAP 0xAA, SSAP 0xAA, UI (SNAP)
        '000000', // OUI: encapsulated EtherType
        '0806', // EtherType ARP
        '0006', // hardware type IEEE 802
        '0800', // protocol type IPv4
        '06', // hardware address length
        '04', // protocol address length
        '0001', // operation: request
        'c23d196c0001', // sender MAC
        '0a000001', // sender IP 10.0.0.1
        '000000000000', // target MAC
        '0a000002', // target IP 10.0.0.2
        '00000000000000000000', // padding after the 802.3 length
      ),
    );
    expect(layerNames(rec)).toEqual(['eth', 'arp']);
    expect(rec.etherType).toBe(0x0806);
    expect(rec.arpOp).toBe(1);
    expect(anomaly(rec)).toBeNull();
  });
});
