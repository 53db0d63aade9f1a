// Every exchange record says its flow as fields — addresses, ports, ids — so a script
// never parses `key`: the shipped dvr-fip recording (DHCP, ARP, echo, TCP) and the
// corpus's DNS over UDP and over TCP, replayed as a user would.
import { describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { CORPUS_AVAILABLE, corpusPath } from '../decode/support/corpus.js';
import { runCli } from '../support/run-cli.js';

function exchanges(file: string): ExchangeRecord[] {
  const r = runCli(['replay', file, '--json']);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"exchange"'))
    .map((l) => JSON.parse(l) as ExchangeRecord);
}

describe('the flow of exchange records', () => {
  it('dvr-fip: DHCP by transaction and client, ARP by sender and target, echo and TCP by addresses and ids', () => {
    const records = exchanges('captures/dvr-fip-sg-drop.pcapng');
    expect(records.every((e) => typeof e.flow === 'object' && e.flow !== null)).toBe(true);
    const first = (kind: string, status: string): ExchangeRecord | undefined =>
      records.find((e) => e.kind === kind && e.status === status);
    expect(first('dhcp', 'ok')?.flow).toEqual({ xid: 0xd1055427, chaddr: 'fa:16:3e:5a:6b:7c' });
    expect(records.find((e) => e.key === 'who-has 10.0.0.2 tell 10.0.0.5')?.flow).toEqual({
      sender: '10.0.0.5',
      target: '10.0.0.2',
    });
    expect(first('icmp-echo', 'lost')?.flow).toEqual({
      src: '203.0.113.1',
      dst: '203.0.113.20',
      id: 16578,
      seq: 1,
    });
    expect(first('tcp-handshake', 'lost')?.flow).toEqual({
      src: '203.0.113.1',
      dst: '203.0.113.20',
      sport: 60934,
      dport: 22,
      isn: 1100070441,
    });
  });

  it.skipIf(!CORPUS_AVAILABLE)('DNS: the question and the transport of the query (UDP, TCP)', () => {
    const udp = exchanges(corpusPath('dns_udp.pcap')).find((e) => e.kind === 'dns');
    expect(udp?.flow).toEqual({
      src: '192.168.1.11',
      dst: '209.87.249.18',
      id: 22836,
      qname: 'www.tcpdump.org',
      qtype: 'A',
      transport: 'udp',
    });
    const tcp = exchanges(corpusPath('dns_tcp.pcap')).find((e) => e.kind === 'dns');
    expect(tcp?.flow).toMatchObject({ id: 17177, qname: 'www.tcpdump.org', qtype: 'A', transport: 'tcp' });
  });
});
