// The verdict comments of a recording's packets (src/sinks/annotations.ts): the words,
// the cause's summary when there is one, the packets found by interface and time stamp
// (a remote host's sightings moved back by the clock offset applied), and the bound.
import { describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { annotationText, AnnotationTable } from '../../src/sinks/annotations.js';

function lostEcho(seq: number, seen: Array<[string, string]>): ExchangeRecord {
  return {
    type: 'exchange',
    kind: 'icmp-echo',
    key: `10.0.0.5>203.0.113.1 id=7 seq=${seq}`,
    flow: { src: '10.0.0.5', dst: '203.0.113.1', id: 7, seq },
    status: 'lost',
    ts: seen[0][1],
    stages: [{ name: 'request', packets: 1, seen: seen.map(([iface, ts]) => ({ iface, ts })) }],
    lost: { stage: 'request', lastSeen: 'qg-1', missingOn: ['qr-1', 'outside/eth0'] },
  };
}

describe('verdict comments', () => {
  it('say the exchange, its verdict and where it broke; why, when a cause was found', () => {
    const ex = lostEcho(3, [['qg-1', '1700000000.000000100']]);
    expect(annotationText(ex)).toBe(
      'hopscope: icmp-echo 10.0.0.5>203.0.113.1 id=7 seq=3 LOST request, last seen on qg-1, missing on qr-1, outside/eth0',
    );
    ex.cause = {
      code: 'netfilter-drop',
      summary: 'dropped by nftables rule handle 7',
      at: 'qr-1',
      evidence: [],
    };
    expect(annotationText(ex)).toMatch(
      /missing on qr-1, outside\/eth0; why: dropped by nftables rule handle 7$/,
    );
  });

  it('finds a packet by its interface and exact stamp; a remote host’s by its own clock', () => {
    const table = new AnnotationTable();
    // the host of `remote:eth0` is 0.25 ms ahead of the reference: its packets carry stamps 250 µs later
    table.setClock((label) => (label.startsWith('remote:') ? 250_000.4 : 0));
    table.exchange(
      lostEcho(1, [
        ['qg-1', '1700000000.999999999'],
        ['remote:eth0', '1700000001.000000100'],
      ]),
    );
    expect(table.wants('ok')).toBe(false);
    const qg = table.interfaceIndex('qg-1');
    expect(table.match(qg, 1700000000, 999_999_999)).toBe(1);
    expect(table.comment(qg, table.matchFrom)).toContain('seq=1 LOST');
    expect(table.match(qg, 1700000001, 0)).toBe(0);
    const remote = table.interfaceIndex('remote:eth0');
    expect(table.match(remote, 1700000001, 100)).toBe(0);
    expect(table.match(remote, 1700000001, 250_100)).toBe(1);
    expect(table.interfaceIndex('qr-1')).toBe(-1);
  });

  it('keeps at most maxPackets sightings; the rest are counted, not annotated', () => {
    const table = new AnnotationTable({ maxPackets: 3 });
    for (let seq = 1; seq <= 2; seq++)
      table.exchange(
        lostEcho(seq, [
          ['qg-1', `1700000000.00000000${seq}`],
          ['rfp-1', `1700000000.00000010${seq}`],
        ]),
      );
    expect(table.packets).toBe(3);
    expect(table.skipped).toBe(1);
    expect(table.match(table.interfaceIndex('rfp-1'), 1700000000, 102)).toBe(0);
    expect(table.match(table.interfaceIndex('qg-1'), 1700000000, 2)).toBe(1);
  });
});
