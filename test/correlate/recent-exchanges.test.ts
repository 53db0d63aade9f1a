// The exchanges that began since a moment (src/correlate/recent-exchanges.ts): what a
// DNS query's cause looks through for its server's query onward before it waits for one.
// Not judged yet, newest first, of one kind, each with where it was first seen; the walk ends where
// the queue holds only what began before the moment, or at its bound (then: "cannot tell").
import { describe, expect, it } from 'vitest';
import { Correlator } from '../../src/correlate/correlator.js';
import { Kind } from '../../src/correlate/kinds/kind.js';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { PacketRecord } from '../../src/decode/record.js';
import type { DnsFlow } from '../../src/events/types.js';
import { ethIpv4Udp } from '../decode/support/frames.js';
import { dnsQuery } from './support/dns-tcp-frames.js';
import { echoFrame } from './support/echo-frame.js';

const SEC = 1_700_000_000;
const rec = new PacketRecord();

/**
 * A client (c/eth0) asks its server (r/ra, r/rb: one namespace) for www.example.lab at
 * 0 ms, arriving at 0.1 ms; the server asks 10.0.0.53 the same at 1 ms (first seen on
 * r/rb, then up/eth0); the client asks other.example.lab at 2 ms; a ping at 3 ms.
 */
function forwarderRun(
  onExchange: ConstructorParameters<typeof Correlator>[0]['onExchange'] = () => {},
): Correlator {
  const corr = new Correlator({ onExchange });
  ['c/eth0', 'r/ra', 'r/rb', 'up/eth0'].forEach((label, id) => corr.addInterface({ id, label, host: null }));
  const at = (b: Uint8Array, iface: number, us: number): void => {
    decodePacket(b, 0, b.length, 1, b.length, rec);
    corr.packet(rec, iface, SEC, us * 1000);
  };
  const client = ethIpv4Udp(40000, 53, dnsQuery(1, 'www.example.lab'), { src: '0a000009', dst: '0a000001' });
  at(client, 0, 0);
  at(client, 1, 100);
  const onward = ethIpv4Udp(41000, 53, dnsQuery(2, 'www.example.lab'), { src: '0a000101', dst: '0a000035' });
  // (read from up/eth0 first: the order read is not the order seen)
  at(onward, 3, 1010);
  at(onward, 2, 1000);
  at(ethIpv4Udp(40001, 53, dnsQuery(3, 'other.example.lab'), { src: '0a000009', dst: '0a000001' }), 0, 2000);
  at(echoFrame(8, [10, 0, 0, 9], [10, 0, 0, 1], 7, 1), 0, 3000);
  return corr;
}

/** What `since` visits from (SEC, nsec): [first label, qname] each, and what it returns. */
function visited(corr: Correlator, nsec: number, lagNs: number, most = 100): [string[][], boolean] {
  const seen: string[][] = [];
  const told = corr.recent.since(Kind.Dns, SEC, nsec, lagNs, most, (first, flow) => {
    seen.push([first, (flow() as DnsFlow).qname ?? '']);
    return false;
  });
  return [seen, told];
}

describe('the exchanges that began since a moment', () => {
  it('not judged yet, of one kind, newest first, each where it was first seen; not one that began before', () => {
    expect(visited(forwarderRun(), 100_000, 600e6)).toEqual([
      [
        ['c/eth0', 'other.example.lab'],
        ['r/rb', 'www.example.lab'],
      ],
      true,
    ]);
    // from the start: the client's own query too
    expect(visited(forwarderRun(), 0, 600e6)[0].map(([first]) => first)).toEqual([
      'c/eth0',
      'r/rb',
      'c/eth0',
    ]);
  });

  it('not one judged: the client’s own query, looked from its verdict', () => {
    let corr: Correlator | null = null;
    const fromVerdicts: string[][][] = [];
    corr = forwarderRun((j) => {
      if (corr !== null && j.record().key.includes('www') && j.record().stages[0].seen[0].iface === 'c/eth0')
        fromVerdicts.push(visited(corr, 0, 600e6)[0]);
    });
    corr.advance(SEC, 1_000_500_000);
    expect(fromVerdicts).toEqual([
      [
        ['c/eth0', 'other.example.lab'],
        ['r/rb', 'www.example.lab'],
      ],
    ]);
  });

  it('stops when its visitor found what it looks for', () => {
    const corr = forwarderRun();
    const seen: string[] = [];
    const told = corr.recent.since(Kind.Dns, SEC, 100_000, 600e6, 100, (first) => {
      seen.push(first);
      return first.startsWith('r/');
    });
    expect([seen, told]).toEqual([['c/eth0', 'r/rb'], true]);
  });

  it('cannot tell past its bound; stops where the queue holds only what began a lag before', () => {
    // the ping, then the other query: two looked at, the bound one
    expect(visited(forwarderRun(), 100_000, 600e6, 1)).toEqual([[], false]);
    // from 10 ms, with a lag of 5 ms: the newest (the ping, 3 ms) began before 5 ms, so
    // nothing is looked at — even with a bound of 0
    expect(visited(forwarderRun(), 10_000_000, 5e6, 0)).toEqual([[], true]);
    expect(new Correlator({ onExchange: () => {} }).recent.since(Kind.Dns, SEC, 0, 0, 0, () => true)).toBe(
      true,
    );
  });
});
