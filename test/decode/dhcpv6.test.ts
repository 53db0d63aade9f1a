import { describe, expect, it } from 'vitest';
import { decodeDhcpv6, dhcpv6MessageTypeName } from '../../src/decode/dhcpv6.js';
import type { PacketRecord } from '../../src/decode/record.js';
import { CORPUS_AVAILABLE } from './support/corpus.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import { anomaly, decode, ethernet, ipv6Header, layerNames, LT_EN10MB, udpHeader } from './support/frames.js';
import { concat, hex } from './support/hex.js';
import {
  corpusIpFrames,
  cutEveryLengthDirect,
  decodeWith,
  mutateAndDecode,
  recordFor,
  udpPayload,
} from './support/l4.js';

const solicit = hex(
  '01', // msg-type 1 SOLICIT
  '90b45c', // transaction-id 0x90b45c
  '0001', // option 1 client identifier
  '000a', // length 10
  '00030001020000aabbcc', // DUID-LL, Ethernet, 02:00:00:aa:bb:cc
  '0008', // option 8 elapsed time
  '0002', // length 2
  '0000', // 0
);

const relayForward = hex(
  '0c', // msg-type 12 RELAY-FORW
  '00', // hop-count 0
  '20010db8000000000000000000000001', // link-address 2001:db8::1
  'fe800000000000000000000000000002', // peer-address fe80::2
  '0009', // option 9 relay message
  solicit.length.toString(16).padStart(4, '0'), // length
  Buffer.from(solicit).toString('hex'), // the relayed SOLICIT (not decoded)
);

const view = (r: PacketRecord): unknown => [r.dhcpv6MsgType, r.dhcpv6TransactionId];

describe('DHCPv6 messages', () => {
  it('a client message: type and 24-bit transaction id', () => {
    const rec = decodeWith(decodeDhcpv6, solicit);
    expect([rec.dhcpv6MsgType, rec.dhcpv6TransactionId]).toEqual([1, 0x90b45c]);
    expect(dhcpv6MessageTypeName(rec.dhcpv6MsgType)).toBe('SOLICIT');
    expect(anomaly(rec)).toBeNull();
  });

  it('a relay message: type only', () => {
    const rec = decodeWith(decodeDhcpv6, relayForward);
    expect([rec.dhcpv6MsgType, rec.dhcpv6TransactionId]).toEqual([12, -1]);
    expect(dhcpv6MessageTypeName(13)).toBe('RELAY-REPL');
    expect(anomaly(rec)).toBeNull();
  });

  it('inside a whole frame (eth/ipv6/udp/dhcpv6, 546 → 547) and every cut of it', () => {
    const frame = concat(
      ethernet('86dd'),
      ipv6Header(17, 8 + solicit.length),
      udpHeader(546, 547, solicit.length),
      solicit,
    );
    const rec = decode(frame, LT_EN10MB);
    expect(layerNames(rec)).toEqual(['eth', 'ipv6', 'udp', 'dhcpv6']);
    expect(rec.dhcpv6TransactionId).toBe(0x90b45c);
    cutAtEveryLength(frame, LT_EN10MB);
  });
});

describe('DHCPv6 anomalies', () => {
  it('fewer than 4 bytes (34 for a relay): dhcpv6_too_short; truncated when snaplen cut it', () => {
    expect(anomaly(decodeWith(decodeDhcpv6, solicit.subarray(0, 3)))).toBe('dhcpv6:dhcpv6_too_short');
    expect(anomaly(decodeWith(decodeDhcpv6, relayForward.subarray(0, 20)))).toBe('dhcpv6:dhcpv6_too_short');
    expect(anomaly(decodeWith(decodeDhcpv6, new Uint8Array(0)))).toBe('dhcpv6:dhcpv6_too_short');
    expect(anomaly(decodeWith(decodeDhcpv6, solicit, 0, 3, solicit.length))).toBe('dhcpv6:dhcpv6_truncated');
  });

  it('an option past the end: dhcpv6_option_overrun, type and id kept', () => {
    const rec = decodeWith(decodeDhcpv6, solicit.subarray(0, 12));
    expect(anomaly(rec)).toBe('dhcpv6:dhcpv6_option_overrun');
    expect(rec.malformedOff).toBe(4);
    expect(rec.dhcpv6TransactionId).toBe(0x90b45c);
    expect(anomaly(decodeWith(decodeDhcpv6, solicit.subarray(0, 6)))).toBe('dhcpv6:dhcpv6_option_overrun');
  });

  it('every cut: no throw, truncated or the same answer; random corruption never throws', () => {
    cutEveryLengthDirect(decodeDhcpv6, solicit, 0, view);
    cutEveryLengthDirect(decodeDhcpv6, relayForward, 0, view);
    mutateAndDecode(decodeDhcpv6, relayForward, 0, 500);
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('DHCPv6 against tshark (corpus)', () => {
  // frame → [msg-type, transaction id] as tshark reads them (dhcpv6.msgtype, dhcpv6.xid)
  const expected: Record<string, [number, number, number][]> = {
    'dhcpv6-ia-na.pcap': [
      [1, 1, 0x90b45c],
      [2, 2, 0x90b45c],
      [3, 3, 0x2ffdd1],
      [4, 7, 0x2ffdd1],
    ],
    'dhcpv6-mud.pcap': [
      [1, 12, -1],
      [5, 12, -1],
    ],
  };
  for (const [name, list] of Object.entries(expected)) {
    it(name, () => {
      const frames = corpusIpFrames(name);
      for (const [n, type, xid] of list) {
        const f = frames.find((x) => x.number === n)!;
        const udp = udpPayload(f)!;
        const rec = recordFor(f);
        decodeDhcpv6(f.bytes, udp.off, udp.end, rec);
        expect([rec.dhcpv6MsgType, rec.dhcpv6TransactionId], `${name} #${n}`).toEqual([type, xid]);
        expect(anomaly(rec)).toBeNull();
      }
    });
  }

  it('every DHCPv6 frame of the corpus decodes without throwing, the fuzzed RELAY-REPL too', () => {
    for (const name of [
      'dhcpv6-ia-na.pcap',
      'dhcpv6-ia-pd.pcap',
      'dhcpv6-mud.pcap',
      'dhcpv4v6-rfc5970-rfc8572.pcap',
    ]) {
      for (const f of corpusIpFrames(name)) {
        const udp = udpPayload(f);
        if (udp === null || ![546, 547].includes(udp.dstPort)) continue;
        const rec = recordFor(f);
        decodeDhcpv6(f.bytes, udp.off, udp.end, rec);
        expect(anomaly(rec), `${name} #${f.number}`).toBeNull();
        expect(rec.dhcpv6MsgType).toBeGreaterThan(0);
      }
    }
    const [f] = corpusIpFrames('dhcp6_reconf_asan.pcap');
    const rec = recordFor(f);
    // a first fragment whose UDP length (13312) is past the datagram: read to the IP end
    expect(() => decodeDhcpv6(f.bytes, f.l4Off + 8, f.l4End, rec)).not.toThrow();
    // what is present parses (34-byte relay header, two empty options 19); its anomalies
    // are the IP and UDP lengths, which are those layers' to mark
    expect([rec.dhcpv6MsgType, rec.dhcpv6TransactionId, anomaly(rec)]).toEqual([13, -1, null]);
  });
});
