import { describe, expect, it } from 'vitest';
import { decodeDhcp, dhcpMessageTypeName } from '../../src/decode/dhcp.js';
import { formatIpv4Number, formatMac } from '../../src/decode/format.js';
import type { PacketRecord } from '../../src/decode/record.js';
import { CORPUS_AVAILABLE } from './support/corpus.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import { anomaly, decode, ethIpv4Udp, layerNames, LT_EN10MB } from './support/frames.js';
import { hex } from './support/hex.js';
import {
  corpusIpFrames,
  cutEveryLengthDirect,
  decodeWith,
  itAgreesWithTshark,
  mutateAndDecode,
  recordFor,
  udpPayload,
  values,
} from './support/l4.js';

/** The fixed 236-byte BOOTP part. */
function bootp(
  op: string,
  xid: string,
  ciaddr: string,
  yiaddr: string,
  siaddr: string,
  giaddr: string,
): string {
  return [
    op, // op (1 BOOTREQUEST, 2 BOOTREPLY)
    '01', // htype Ethernet
    '06', // hlen 6
    '00', // hops
    xid, // xid
    '0000', // secs
    '8000', // flags: broadcast
    ciaddr, // ciaddr
    yiaddr, // yiaddr
    siaddr, // siaddr
    giaddr, // giaddr
    '020000aabbcc' + '00'.repeat(10), // chaddr 02:00:00:aa:bb:cc, padded to 16
    '00'.repeat(64), // sname
    '00'.repeat(128), // file
  ].join('');
}

const discover = hex(
  bootp('01', 'f1e2d3c4', '00000000', '00000000', '00000000', '00000000'), // xid 0xf1e2d3c4 (> 2^31)
  '63825363', // @236 magic cookie
  '350101', // @240 option 53 message type: 1 DISCOVER
  '3204c0000264', // option 50 requested address 192.0.2.100
  '370401031a06', // option 55 parameter request list (skipped)
  '00', // pad
  'ff', // end
);

const ack = hex(
  bootp('02', 'f1e2d3c4', '00000000', 'c0000264', 'c0000201', 'c0000202'), // yiaddr 192.0.2.100, siaddr .1, giaddr .2
  '63825363', // @236 magic cookie
  '350105', // @240 option 53: 5 ACK
  '3604c0000201', // @243 option 54 server identifier 192.0.2.1
  '330400015180', // @249 option 51 lease time 86400
  '0104ffffff00', // @255 option 1 subnet mask 255.255.255.0
  '0308c0000201c00002fe', // @261 option 3 routers 192.0.2.1, 192.0.2.254
  '06080a0a0a0a0a0a0a0b', // @271 option 6 DNS servers 10.10.10.10, 10.10.10.11
  '1a0205aa', // @281 option 26 interface MTU 1450
  '520a' + '0104' + '65746830' + '0202' + '0001', // @285 option 82 relay agent: circuit id "eth0", remote id
  'ff', // @297 end
  '000000', // padding after end (ignored)
);

const dhcpView = (r: PacketRecord): unknown => ({
  op: r.dhcpOp,
  hlen: r.dhcpHlen,
  xid: r.dhcpXid,
  chaddr: r.dhcpChaddrOff,
  addrs: [r.dhcpCiaddr, r.dhcpYiaddr, r.dhcpSiaddr, r.dhcpGiaddr],
  type: r.dhcpMsgType,
  opts: [
    r.dhcpServerId,
    r.dhcpRequestedIp,
    r.dhcpLeaseTime,
    r.dhcpRouter,
    r.dhcpDnsServer,
    r.dhcpMtu,
    r.dhcpSubnetMask,
    r.dhcpRelayAgent,
  ],
});

describe('DHCP messages', () => {
  it('a DISCOVER: header, unsigned xid, client MAC, message type, requested address', () => {
    const rec = decodeWith(decodeDhcp, discover);
    expect(rec.dhcpOff).toBe(0);
    expect([rec.dhcpOp, rec.dhcpHlen]).toEqual([1, 6]);
    expect(rec.dhcpXid).toBe(0xf1e2d3c4);
    expect(rec.dhcpChaddrOff).toBe(28);
    expect(formatMac(discover, rec.dhcpChaddrOff)).toBe('02:00:00:aa:bb:cc');
    expect([rec.dhcpCiaddr, rec.dhcpYiaddr, rec.dhcpSiaddr, rec.dhcpGiaddr]).toEqual([0, 0, 0, 0]);
    expect([rec.dhcpMsgType, dhcpMessageTypeName(rec.dhcpMsgType)]).toEqual([1, 'DISCOVER']);
    expect(formatIpv4Number(rec.dhcpRequestedIp)).toBe('192.0.2.100');
    expect([rec.dhcpServerId, rec.dhcpLeaseTime, rec.dhcpRelayAgent]).toEqual([-1, -1, false]);
    expect(anomaly(rec)).toBeNull();
  });

  it('an ACK: addresses as unsigned numbers and every recorded option', () => {
    const rec = decodeWith(decodeDhcp, ack);
    expect(rec.dhcpOp).toBe(2);
    expect(formatIpv4Number(rec.dhcpYiaddr)).toBe('192.0.2.100');
    expect(formatIpv4Number(rec.dhcpSiaddr)).toBe('192.0.2.1');
    expect(formatIpv4Number(rec.dhcpGiaddr)).toBe('192.0.2.2');
    expect(dhcpMessageTypeName(rec.dhcpMsgType)).toBe('ACK');
    expect(formatIpv4Number(rec.dhcpServerId)).toBe('192.0.2.1');
    expect(rec.dhcpLeaseTime).toBe(86400);
    expect(formatIpv4Number(rec.dhcpSubnetMask)).toBe('255.255.255.0');
    expect(rec.dhcpSubnetMask).toBe(0xffffff00); // unsigned
    expect(formatIpv4Number(rec.dhcpRouter)).toBe('192.0.2.1'); // the first router
    expect(formatIpv4Number(rec.dhcpDnsServer)).toBe('10.10.10.10'); // the first DNS server
    expect(rec.dhcpMtu).toBe(1450);
    expect(rec.dhcpRelayAgent).toBe(true);
    expect(anomaly(rec)).toBeNull();
  });

  it('plain BOOTP (no magic cookie): the header, no options, no anomaly', () => {
    const plain = discover.slice();
    plain[236] = 0; // vendor area without the cookie
    const rec = decodeWith(decodeDhcp, plain);
    expect([rec.dhcpXid, rec.dhcpMsgType, anomaly(rec)]).toEqual([0xf1e2d3c4, -1, null]);
    const noVend = decodeWith(decodeDhcp, discover.subarray(0, 236));
    expect([noVend.dhcpOp, noVend.dhcpMsgType, anomaly(noVend)]).toEqual([1, -1, null]);
  });

  it('inside a whole frame (eth/ipv4/udp/dhcp, ports 68 → 67 and back) and every cut of it', () => {
    const frame = ethIpv4Udp(68, 67, discover, { src: '00000000', dst: 'ffffffff' });
    const rec = decode(frame, LT_EN10MB);
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'udp', 'dhcp']);
    expect([rec.dhcpOff, rec.dhcpMsgType]).toEqual([42, 1]);
    expect(layerNames(decode(ethIpv4Udp(67, 68, ack), LT_EN10MB))).toEqual(['eth', 'ipv4', 'udp', 'dhcp']);
    cutAtEveryLength(frame, LT_EN10MB);
  });

  it('message type names', () => {
    const names = ['DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];
    names.forEach((n, i) => expect(dhcpMessageTypeName(i + 1)).toBe(n));
    expect(dhcpMessageTypeName(0)).toBe('TYPE0');
    expect(dhcpMessageTypeName(200)).toBe('TYPE200');
  });
});

describe('DHCP anomalies', () => {
  it('fewer than 236 bytes: dhcp_too_short, the fields present kept; truncated when snaplen cut it', () => {
    const rec = decodeWith(decodeDhcp, ack.subarray(0, 30));
    expect(anomaly(rec)).toBe('dhcp:dhcp_too_short');
    expect([rec.dhcpOp, rec.dhcpXid, rec.dhcpChaddrOff]).toEqual([2, 0xf1e2d3c4, -1]);
    expect(formatIpv4Number(rec.dhcpGiaddr)).toBe('192.0.2.2');
    const cut = decodeWith(decodeDhcp, ack, 0, 30, ack.length);
    expect(anomaly(cut)).toBe('dhcp:dhcp_truncated');
  });

  it('hlen over 16: dhcp_hlen_gt_16, the options still read', () => {
    const bad = ack.slice();
    bad[2] = 20;
    const rec = decodeWith(decodeDhcp, bad);
    expect(anomaly(rec)).toBe('dhcp:dhcp_hlen_gt_16');
    expect([rec.dhcpHlen, rec.dhcpMsgType]).toEqual([20, 5]);
  });

  it('an option running past the end: dhcp_option_overrun (truncated when snaplen cut it)', () => {
    const bad = ack.subarray(0, 258); // inside option 1 (subnet mask, @255)
    const rec = decodeWith(decodeDhcp, bad);
    expect(anomaly(rec)).toBe('dhcp:dhcp_option_overrun');
    expect(rec.malformedOff).toBe(255);
    expect(rec.dhcpLeaseTime).toBe(86400); // options before it are kept
    expect(anomaly(decodeWith(decodeDhcp, ack.subarray(0, 256)))).toBe('dhcp:dhcp_option_overrun'); // length byte missing
    expect(anomaly(decodeWith(decodeDhcp, ack, 0, 258, ack.length))).toBe('dhcp:dhcp_truncated');
  });

  it('a length that does not fit its option: dhcp_option_bad_len, the walk goes on', () => {
    const bad = hex(
      bootp('02', '00000001', '00000000', '00000000', '00000000', '00000000'),
      '63825363', // magic cookie
      '36020102', // option 54 server id with length 2
      '350102', // option 53: 2 OFFER
      'ff', // end
    );
    const rec = decodeWith(decodeDhcp, bad);
    expect(anomaly(rec)).toBe('dhcp:dhcp_option_bad_len');
    expect(rec.malformedOff).toBe(240);
    expect([rec.dhcpServerId, rec.dhcpMsgType]).toEqual([-1, 2]);
  });

  it('no end option: the options stop with the data, no anomaly', () => {
    const rec = decodeWith(decodeDhcp, ack.subarray(0, 297));
    expect([rec.dhcpMtu, rec.dhcpRelayAgent, anomaly(rec)]).toEqual([1450, true, null]);
  });

  it('every cut of every fixture: no throw, truncated or the same answer', () => {
    cutEveryLengthDirect(decodeDhcp, discover, 0, dhcpView);
    // the ACK's end option is followed by padding that nothing needs
    cutEveryLengthDirect(decodeDhcp, ack.subarray(0, 298), 0, dhcpView);
  });

  it('random corruption never throws', () => {
    mutateAndDecode(decodeDhcp, ack, 0, 1000, 5);
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('DHCP against tshark (corpus)', () => {
  const files = [
    'dhcp.pcap',
    'dhcp_ack_subscriber_id_and_agent_remote_id.pcap',
    'dhcp-rfc3004.pcap',
    'dhcp-rfc4388.pcap',
    'dhcpv4v6-rfc5970-rfc8572.pcap',
    'bootp_asan.pcap',
  ];
  itAgreesWithTshark(
    files,
    decodeDhcp,
    (f) => {
      const udp = udpPayload(f);
      return udp === null || ![67, 68].includes(udp.srcPort) || ![67, 68].includes(udp.dstPort) ? null : udp;
    },
    ({ rec, row, what }) => {
      const id = values(row, 'dhcp.id');
      if (id.length === 0) return false;
      expect(rec.dhcpXid, what).toBe(parseInt(id[0], 16));
      const type = values(row, 'dhcp.option.dhcp');
      if (type.length > 0) expect(rec.dhcpMsgType, what).toBe(Number(type[0]));
      expect(formatIpv4Number(rec.dhcpYiaddr), what).toBe(values(row, 'dhcp.ip.your')[0]);
      expect(anomaly(rec), what).toBeNull();
      return true;
    },
    ['bootp_asan.pcap'],
  );

  it('dhcp.pcap: the OFFER and ACK options as tshark reads them', () => {
    const frames = corpusIpFrames('dhcp.pcap');
    for (const n of [2, 6]) {
      const f = frames.find((x) => x.number === n)!;
      const udp = udpPayload(f)!;
      const rec = recordFor(f);
      decodeDhcp(f.bytes, udp.off, udp.end, rec);
      expect(formatMac(f.bytes, rec.dhcpChaddrOff)).toBe('90:b1:1c:99:49:29');
      expect(formatIpv4Number(rec.dhcpServerId)).toBe('128.2.6.152');
      expect(rec.dhcpLeaseTime).toBe(900);
      expect(formatIpv4Number(rec.dhcpRouter)).toBe('128.2.6.1');
      expect(formatIpv4Number(rec.dhcpDnsServer)).toBe('128.2.1.11');
      expect(formatIpv4Number(rec.dhcpSubnetMask)).toBe('255.255.255.0');
    }
    const request = frames.find((x) => x.number === 3)!;
    const udp = udpPayload(request)!;
    const rec = recordFor(request);
    decodeDhcp(request.bytes, udp.off, udp.end, rec);
    expect(formatIpv4Number(rec.dhcpRequestedIp)).toBe('192.168.211.194');
  });

  it('dhcp_ack_subscriber_id_and_agent_remote_id.pcap: relay agent information present', () => {
    const [f] = corpusIpFrames('dhcp_ack_subscriber_id_and_agent_remote_id.pcap');
    const udp = udpPayload(f)!;
    const rec = recordFor(f);
    decodeDhcp(f.bytes, udp.off, udp.end, rec);
    expect([rec.dhcpMsgType, rec.dhcpRelayAgent]).toEqual([5, true]);
  });

  it('bootp_asan.pcap (fuzzed, a first fragment): survives, what it says is marked', () => {
    const [f] = corpusIpFrames('bootp_asan.pcap');
    const rec = recordFor(f);
    expect(() => decodeDhcp(f.bytes, f.l4Off + 8, f.l4End, rec)).not.toThrow();
    expect(rec.malformedReason).not.toBe('');
  });

  it('corpus DHCP messages survive every cut and random corruption', () => {
    for (const f of corpusIpFrames('dhcp.pcap')) {
      const udp = udpPayload(f)!;
      const bytes = f.bytes.slice(f.start, udp.end);
      const off = udp.off - f.start;
      mutateAndDecode(decodeDhcp, bytes, off, 100);
    }
  });
});
