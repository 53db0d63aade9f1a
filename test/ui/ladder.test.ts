// The ladder view of an exchange (issue: TUI), computed as text lines by a pure
// function: columns in path order, the question left to right, the answer back, the
// delay of each hop, and ✗ where the packet should have been and was not.
import { describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { columnNames, ladderColumns, ladderLines, tsDiffMs } from '../../src/ui/ladder.js';
import { replyLostOnBr100, sightingsAt } from '../support/exchange-records.js';

const seen = sightingsAt('1700000000.000000000');

/** nova-flat, reply dropped on br100 (as the shipped recording has it). */
const replyLost = replyLostOnBr100('1700000000.000000000', '1700000000.000534000');

describe('ladder', () => {
  it('differences of time stamps keep every nanosecond', () => {
    expect(tsDiffMs('1795352627.101997314', '1795352626.757980161')).toBeCloseTo(344.017153, 6);
    expect(tsDiffMs('1700000001.000000001', '1700000000.999999999')).toBeCloseTo(0.000002, 9);
  });

  it('draws the request out, the reply back, and the break under the interfaces it never reached', () => {
    expect(ladderLines(replyLost, 100)).toEqual([
      'LOST icmp-echo 10.0.0.10>203.0.113.10 id=1 seq=1',
      '     vm/eth0            tap1              br100         external/eth0',
      '         │                 │                 │                 │',
      '         ●─────request─────▶                 │                 │          +0.134 ms',
      '         │                 ●─────────────────▶                 │          +0.000 ms',
      '         │                 │                 ●─────────────────▶          +0.200 ms',
      '         │                 │                 │                 │          reply 0.534 ms later',
      '         │                 │                 ◀──────reply──────●          +0.007 ms',
      '         ✗                 ✗                 ●                 │          reply stops after br100',
      '✗ missing on: tap1, eth0',
    ]);
  });

  it('columns follow the path; names that repeat get their host or namespace', () => {
    expect(ladderColumns(replyLost)).toEqual([
      'compute:vm/eth0',
      'compute:tap1',
      'compute:br100',
      'external:eth0',
    ]);
    expect(columnNames(['a:ns/eth0', 'b:eth0', 'b:br0'])).toEqual(['ns/eth0', 'b/eth0', 'br0']);
  });

  it('an unanswered question ends with the place nothing came back to', () => {
    const ex: ExchangeRecord = {
      type: 'exchange',
      kind: 'tcp-handshake',
      key: '198.51.100.10:1>198.51.100.1:80 isn=1',
      flow: { src: '198.51.100.10', dst: '198.51.100.1', sport: 1, dport: 80, isn: 1 },
      status: 'unanswered',
      ts: '1700000000.000000000',
      stages: [{ name: 'syn', packets: 2, seen: [seen('client:eth0'), seen('edge:eth0', 0.011)] }],
      lost: { stage: 'syn-ack', lastSeen: 'edge:eth0', missingOn: [] },
    };
    const lines = ladderLines(ex, 80);
    expect(lines.at(-1)).toMatch(/^ +│ +\? +no syn-ack seen anywhere$/);
    expect(lines.some((l) => l.includes('syn') && l.includes('▶') && l.includes('+0.011 ms'))).toBe(true);
  });

  it('never draws wider than asked, even with many interfaces', () => {
    const many: ExchangeRecord = {
      ...replyLost,
      stages: [
        {
          name: 'request',
          packets: 1,
          seen: Array.from({ length: 14 }, (_, i) => seen(`h:if${i}`, i ? 0.01 : undefined)),
        },
      ],
      lost: undefined,
      status: 'ok',
    };
    for (const w of [60, 80, 200])
      for (const line of ladderLines(many, w)) expect(line.length).toBeLessThanOrEqual(w);
  });
});
