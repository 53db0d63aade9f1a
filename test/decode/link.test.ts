import { describe, expect, it } from 'vitest';
import { formatMac } from '../../src/decode/format.js';
import { type PacketRecord } from '../../src/decode/record.js';
import { CORPUS_AVAILABLE, readCorpusPcap } from './support/corpus.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import {
  LT_IPV4,
  LT_IPV6,
  LT_LINUX_SLL,
  LT_LINUX_SLL2,
  LT_LOOP,
  LT_NULL,
  LT_RAW,
  addresses,
  anomaly,
  decode,
  ipv4Header,
  ipv6Header,
  layerNames,
  udpHeader,
} from './support/frames.js';
import { concat, hex } from './support/hex.js';

const ipv4Udp = concat(ipv4Header(17, 12), udpHeader(40000, 9, 4), hex('deadbeef'));
const ipv6Udp = concat(ipv6Header(17, 12), udpHeader(40000, 9, 4), hex('deadbeef'));

describe('LINUX_SLL (113)', () => {
  const frame = concat(
    hex(
      '0004', // packet type: outgoing
      '0001', // ARPHRD_ETHER
      '0006', // address length 6
      '525400123456', // source MAC
      '0000', // address padding to 8 bytes
      '0800', // protocol: IPv4
    ),
    ipv4Udp,
  );

  it('decodes the cooked header and the IPv4 packet after it', () => {
    const rec = decode(frame, LT_LINUX_SLL);
    expect(layerNames(rec)).toEqual(['sll', 'ipv4', 'udp']);
    expect(rec.sllPacketType).toBe(4);
    expect(rec.sllIfIndex).toBe(-1);
    expect(formatMac(rec.bytes, rec.ethSrcOff)).toBe('52:54:00:12:34:56');
    expect(rec.ethDstOff).toBe(-1);
    expect(rec.etherType).toBe(0x0800);
    expect(addresses(rec)).toEqual(['10.0.2.24', '203.0.113.7']);
    cutAtEveryLength(frame, LT_LINUX_SLL);
  });

  it('follows an 802.1Q tag the kernel left in the payload', () => {
    const rec = decode(
      concat(
        hex('0000', '0001', '0006', '525400123456', '0000', '8100'), // host, ARPHRD_ETHER, MAC, protocol 802.1Q
        hex('002a', '0800'), // VLAN 42, EtherType IPv4
        ipv4Udp,
      ),
      LT_LINUX_SLL,
    );
    expect(layerNames(rec)).toEqual(['sll', 'vlan', 'ipv4', 'udp']);
    expect(rec.vlanIds[0]).toBe(42);
  });

  it('records netlink and other non-EtherType protocols as other', () => {
    const rec = decode(
      hex('0004', '0338', '0000', '0000000000000000', '0000', '1400000010000000'),
      LT_LINUX_SLL,
    ); // ARPHRD_NETLINK
    expect(layerNames(rec)).toEqual(['sll', 'other']);
    expect(anomaly(rec)).toBeNull();
  });
});

describe('LINUX_SLL2 (276)', () => {
  const frame = concat(
    hex(
      '86dd', // protocol: IPv6
      '0000', // reserved
      '00000007', // interface index 7
      '0001', // ARPHRD_ETHER
      '00', // packet type: to us
      '06', // address length 6
      '525400abcdef', // source MAC
      '0000', // padding to 8 bytes
    ),
    ipv6Udp,
  );

  it('records the interface index and decodes the IPv6 packet', () => {
    const rec = decode(frame, LT_LINUX_SLL2);
    expect(layerNames(rec)).toEqual(['sll2', 'ipv6', 'udp']);
    expect(rec.sllIfIndex).toBe(7);
    expect(rec.sllPacketType).toBe(0);
    expect(formatMac(rec.bytes, rec.ethSrcOff)).toBe('52:54:00:ab:cd:ef');
    expect(addresses(rec)).toEqual(['2001:db8::1', '2001:db8::2']);
    cutAtEveryLength(frame, LT_LINUX_SLL2);
  });
});

describe('raw IP link types', () => {
  it('RAW (101) decides by the version nibble (tun devices)', () => {
    expect(layerNames(decode(ipv4Udp, LT_RAW))).toEqual(['ipv4', 'udp']);
    expect(layerNames(decode(ipv6Udp, LT_RAW))).toEqual(['ipv6', 'udp']);
    const bad = decode(hex('50000000'), LT_RAW); // version 5
    expect(anomaly(bad)).toBe('other:raw_ip_version_unknown');
    cutAtEveryLength(ipv4Udp, LT_RAW);
    cutAtEveryLength(ipv6Udp, LT_RAW);
  });

  it('IPV4 (228) and IPV6 (229)', () => {
    expect(addresses(decode(ipv4Udp, LT_IPV4))).toEqual(['10.0.2.24', '203.0.113.7']);
    expect(addresses(decode(ipv6Udp, LT_IPV6))).toEqual(['2001:db8::1', '2001:db8::2']);
    expect(anomaly(decode(ipv4Udp, LT_IPV4))).toBeNull();
  });

  it('decodes an IPv6 packet on LINKTYPE_IPV4 as IPv6 and says the link type was wrong', () => {
    const rec = decode(ipv6Udp, LT_IPV4);
    expect(layerNames(rec)).toEqual(['ipv6', 'udp']);
    expect(anomaly(rec)).toBe('ipv4:link_ip_version_mismatch');
  });

  it('marks an empty raw packet truncated when bytes were on the wire', () => {
    const rec = decode(new Uint8Array(0), LT_RAW, 60);
    expect(rec.truncated).toBe(true);
  });
});

describe('NULL (0) and LOOP (108)', () => {
  it('reads the NULL address family in either byte order (like tcpdump)', () => {
    const littleEndian = decode(concat(hex('02000000'), ipv4Udp), LT_NULL); // AF_INET written by a little-endian host
    expect(layerNames(littleEndian)).toEqual(['null', 'ipv4', 'udp']);
    const bigEndian = decode(concat(hex('00000002'), ipv4Udp), LT_NULL); // AF_INET written by a big-endian host
    expect(layerNames(bigEndian)).toEqual(['null', 'ipv4', 'udp']);
    for (const af of ['18000000', '1c000000', '1e000000', '0000001e']) {
      // AF_INET6 of NetBSD/OpenBSD (24), FreeBSD (28), Darwin (30), big-endian Darwin
      expect(layerNames(decode(concat(hex(af), ipv6Udp), LT_NULL))).toEqual(['null', 'ipv6', 'udp']);
    }
  });

  it('reads LOOP in network byte order only', () => {
    expect(layerNames(decode(concat(hex('00000002'), ipv4Udp), LT_LOOP))).toEqual(['null', 'ipv4', 'udp']);
    expect(layerNames(decode(concat(hex('0000001c'), ipv6Udp), LT_LOOP))).toEqual(['null', 'ipv6', 'udp']);
    expect(layerNames(decode(concat(hex('02000000'), ipv4Udp), LT_LOOP))).toEqual(['null', 'other']);
  });

  it('survives being cut at every length', () => {
    cutAtEveryLength(concat(hex('02000000'), ipv4Udp), LT_NULL);
    cutAtEveryLength(concat(hex('0000001e'), ipv6Udp), LT_LOOP);
  });
});

describe('other link types', () => {
  it('records an unsupported link type without decoding it', () => {
    const rec = decode(concat(hex('ff030021'), ipv4Udp), 9); // PPP
    expect(layerNames(rec)).toEqual(['other']);
    expect(anomaly(rec)).toBe('other:linktype_unsupported');
  });

  it('ignores the FCS bits above the low 16 bits of a pcap link-type field', () => {
    const frame = concat(hex('020000000002', '020000000001', '0800'), ipv4Udp);
    expect(layerNames(decode(frame, 0x30000001))).toEqual(['eth', 'ipv4', 'udp']);
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('link types in the corpus', () => {
  function first(name: string): PacketRecord {
    const { file, pcap } = readCorpusPcap(name);
    const p = pcap.packets[0];
    return decode(file, pcap.linktype, p.len, p.offset, p.offset + p.caplen);
  }

  it('dns-badcookie.pcap: DLT_NULL from a little-endian host', () => {
    const rec = first('dns-badcookie.pcap');
    expect(layerNames(rec).slice(0, 3)).toEqual(['null', 'ipv4', 'udp']);
    expect(addresses(rec)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect([rec.srcPort, rec.dstPort]).toEqual([54954, 53]);
  });

  it('timestamp_invalid_micro.pcap: LINUX_SLL carrying TCP', () => {
    const rec = first('timestamp_invalid_micro.pcap');
    expect(layerNames(rec).slice(0, 2)).toEqual(['sll', 'ipv4']);
    expect(addresses(rec)).toEqual(['131.155.215.69', '137.116.81.94']);
    expect(rec.ipProto).toBe(6);
  });

  it('linux_dlt_sll2.pcap: LINUX_SLL2 on lo, interface index 1', () => {
    const rec = first('linux_dlt_sll2.pcap');
    expect(layerNames(rec).slice(0, 2)).toEqual(['sll2', 'ipv4']);
    expect(rec.sllIfIndex).toBe(1);
    expect(addresses(rec)).toEqual(['192.0.2.1', '192.0.2.1']);
  });

  it.each([
    ['LINKTYPE_RAW_ipv4.pcap', '192.168.1.100', '9.9.9.9'],
    ['LINKTYPE_IPV4.pcap', '192.168.1.100', '9.9.9.9'],
    ['LINKTYPE_RAW_ipv6.pcap', '2001:db8::1', '2620:fe::9'],
    ['LINKTYPE_IPV6.pcap', '2001:db8::1', '2620:fe::9'],
  ])('%s: raw IP to DNS', (name, src, dst) => {
    const rec = first(name);
    expect(addresses(rec)).toEqual([src, dst]);
    expect([rec.srcPort, rec.dstPort]).toEqual([12345, 53]);
    expect(anomaly(rec)).toBeNull();
  });

  it('every packet of these files survives being cut at every length', () => {
    for (const name of [
      'dns-badcookie.pcap',
      'timestamp_invalid_micro.pcap',
      'linux_dlt_sll2.pcap',
      'LINKTYPE_RAW_ipv6.pcap',
      'LINKTYPE_IPV4.pcap',
    ]) {
      const { file, pcap } = readCorpusPcap(name);
      for (const p of pcap.packets)
        cutAtEveryLength(file.slice(p.offset, p.offset + p.caplen), pcap.linktype);
    }
  });
});
