// The TUI's state and panel texts without a terminal: problems first, the filter,
// rates and sparklines, drops flagged, where each exchange broke.
import { describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { TuiModel } from '../../src/ui/model.js';
import {
  exchangeLine,
  headerLine,
  interfaceLines,
  sparkline,
  tabsLine,
  whereItBroke,
} from '../../src/ui/render.js';

function ex(status: ExchangeRecord['status'], key: string, kind = 'icmp-echo'): ExchangeRecord {
  return {
    type: 'exchange',
    kind,
    key,
    status,
    ts: '1700000000.000000000',
    stages: [{ name: 'request', packets: 1, seen: [{ iface: 'c:tap1', ts: '1700000000.000000000' }] }],
    ...(status === 'lost'
      ? { lost: { stage: 'reply', lastSeen: 'c:br100', missingOn: ['c:tap1', 'c:vm/eth0'] } }
      : {}),
  };
}

describe('TUI model', () => {
  it('orders problems first, newest first within a status, and filters by kind, status, address or interface', () => {
    const m = new TuiModel('replay', 'x.pcapng', 0);
    m.exchange(ex('ok', '10.0.0.1>10.0.0.2 seq=1'));
    m.exchange(ex('lost', '10.0.0.1>10.0.0.2 seq=2'));
    m.exchange(ex('ok', '10.0.0.9>10.0.0.2 seq=1', 'dns'));
    m.exchange(ex('unanswered', '10.0.0.1>10.0.0.2 seq=3'));
    expect(m.visibleExchanges().map((e) => e.status)).toEqual(['lost', 'unanswered', 'ok', 'ok']);
    m.filter = 'dns';
    expect(m.visibleExchanges().map((e) => e.kind)).toEqual(['dns']);
    m.filter = 'lost';
    expect(m.visibleExchanges()).toHaveLength(1);
    m.filter = '10.0.0.9';
    expect(m.visibleExchanges()).toHaveLength(1);
    m.filter = 'tap1';
    expect(m.visibleExchanges()).toHaveLength(4);
    expect(m.summary).toMatchObject({ exchanges: 4, ok: 2, lost: 1, unanswered: 1 });
    // the DNS tab shows DNS exchanges only; the ICMP tab the echoes
    m.filter = '';
    m.view = 'dns';
    expect(m.visibleExchanges().map((e) => e.kind)).toEqual(['dns']);
    m.view = 'icmp';
    expect(m.visibleExchanges()).toHaveLength(3);
    expect(tabsLine(m)).toBe(' 1 all   2 dhcp   3 dns   4 arp  [5 icmp]  6 tcp ');
  });

  it('rates per interface become sparklines; drops are flagged; the header sums it up', () => {
    const m = new TuiModel('live', '3 interfaces', 0, '/tmp/x.pcapng');
    m.addInterface(0, 'compute:tap1');
    for (let i = 0; i < 10; i++) m.packet(0);
    m.tick(1000);
    for (let i = 0; i < 40; i++) m.packet(0);
    m.tick(2000);
    m.setDropped(0, 3);
    expect(m.interfaces.get(0)?.history).toEqual([10, 40]);
    const line = interfaceLines(m, 100)[0];
    expect(line).toContain('compute:tap1');
    expect(line).toMatch(/▂█ +40\/s +50 {2}! 3 dropped/);
    expect(headerLine(m, 200, 5000)).toMatch(
      /^hopscope LIVE 3 interfaces {2}│ {2}00:00:05 {2}│ {2}40 pkt\/s .* recording \/tmp\/x\.pcapng/,
    );
    expect(sparkline([0, 1, 2, 4, 8], 6)).toBe('  ▁▂▄█');
  });

  it('says where an exchange broke, in the table row', () => {
    expect(whereItBroke(ex('lost', 'k'))).toBe('reply lost after br100, missing on tap1, eth0');
    expect(exchangeLine(ex('lost', 'k'), 120)).toMatch(/^LOST {9}icmp-echo {5}k +reply lost after br100/);
  });
});
