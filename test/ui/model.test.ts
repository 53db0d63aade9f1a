// The TUI's state and panel texts without a terminal: problems first, the filter,
// rates and sparklines, drops flagged, where each exchange broke.
import { describe, expect, it } from 'vitest';
import type { ExchangeFlow, ExchangeRecord } from '../../src/events/types.js';
import { flowOf, TuiModel } from '../../src/ui/model.js';
import { colourInterface, colourStatus } from '../../src/ui/tui.js';
import {
  byteSize,
  groupLine,
  headerLine,
  interfaceLines,
  sparkline,
  tabsLine,
  whereItBroke,
} from '../../src/ui/render.js';

function ex(
  status: ExchangeRecord['status'],
  key: string,
  kind = 'icmp-echo',
  flow: ExchangeFlow = { src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1 },
): ExchangeRecord {
  return {
    type: 'exchange',
    kind,
    key,
    flow,
    status,
    ts: '1700000000.000000000',
    stages: [{ name: 'request', packets: 1, seen: [{ iface: 'c:tap1', ts: '1700000000.000000000' }] }],
    ...(status === 'lost'
      ? { lost: { stage: 'reply', lastSeen: 'c:br100', missingOn: ['c:tap1', 'c:vm/eth0'] } }
      : {}),
  };
}

/** An echo whose key and flow say the same. */
function echo(
  status: ExchangeRecord['status'],
  src: string,
  dst: string,
  id: number,
  seq: number,
): ExchangeRecord {
  return ex(status, `${src}>${dst} id=${id} seq=${seq}`, 'icmp-echo', { src, dst, id, seq });
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
    // every ICMP kind: ICMP timestamps too
    m.exchange(ex('ok', '10.0.0.1>10.0.0.3 id=9 seq=1', 'icmp-timestamp'));
    expect(m.visibleExchanges()).toHaveLength(4);
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
    expect(line).toMatch(/^compute:tap1 +tap +up /);
    expect(line).toMatch(/▂█ +40\/s +50 {2}! 3 dropped/);
    m.recordingBytes = 1536;
    m.exchange(ex('lost', 'a>b id=1 seq=1'));
    m.exchange(ex('ok', 'a>b id=1 seq=2'));
    expect(headerLine(m, 200, 5000)).toBe(
      'hopscope LIVE 3 interfaces  │  00:00:05  │  40 pkt/s  │  2 exchanges: 1 lost, 1 ok  │  recording /tmp/x.pcapng (1.5 KiB)'.padEnd(
        200,
      ),
    );
    // a notice (the recording stopped, …) shows for 5 s, until a tick after that
    m.note('recorded 50 packets to /tmp/x.pcapng', 5000);
    m.recording = null;
    expect(headerLine(m, 200, 6000)).toMatch(
      /^hopscope LIVE 3 interfaces {2}│ {2}recorded 50 packets to \/tmp\/x\.pcapng {2}│ {2}00:00:06/,
    );
    m.tick(10_000);
    expect(headerLine(m, 200, 10_000)).not.toContain('recorded');
    expect(byteSize(0)).toBe('0 B');
    expect(byteSize(5 * 1024 * 1024 * 1024)).toBe('5.0 GiB');
    expect(byteSize(300 * 1024 * 1024)).toBe('300 MiB');
    expect(sparkline([0, 1, 2, 4, 8], 6)).toBe('  ▁▂▄█');
  });

  it('the TUI colours drops red, a gone interface yellow, statuses by severity', () => {
    expect(colourInterface('compute:tap1 tap      up  ▂█  40/s  50  ! 3 dropped')).toBe(
      'compute:tap1 tap      up  ▂█  40/s  50  {red-fg}! 3 dropped{/red-fg}',
    );
    expect(colourInterface('compute:tap1 tap      GONE     ')).toContain('{yellow-fg} GONE {/yellow-fg}');
    expect(colourInterface('eth0 {weird} name')).toBe('eth0 {open}weird{close} name');
    expect(colourStatus('LOST  ×3 icmp-echo')).toBe('{red-fg}LOST{/red-fg}  ×3 icmp-echo');
    expect(colourStatus('INCONCLUSIVE icmp')).toBe('{yellow-fg}INCONCLUSIVE{/yellow-fg} icmp');
  });

  it('a remote interface shows its host clock offset', () => {
    const m = new TuiModel('live', '2 interfaces', 0);
    m.addInterface(0, 'node1:eth0');
    m.addInterface(1, 'node2:vxlan_sys_4789');
    m.clock({
      type: 'clock',
      host: 'node2',
      reference: 'node1',
      offsetMs: 300.012,
      uncertaintyMs: 0.021,
      samples: 3,
    });
    const [one, two] = interfaceLines(m, 120);
    expect(one).toMatch(/^node1:eth0 +physical +up /);
    expect(one).not.toContain('clock');
    expect(two).toMatch(/^node2:vxlan_sys_4789 +vxlan +up .* clock \+300\.012 ms ±0\.021/);
  });

  it('groups a flow’s exchanges with the same verdict into one row with a count', () => {
    const m = new TuiModel('replay', 'x', 0);
    for (let seq = 1; seq <= 3; seq++) m.exchange(echo('lost', '10.0.0.1', '10.0.0.2', 7, seq));
    m.exchange(echo('ok', '10.0.0.1', '10.0.0.2', 7, 4));
    m.exchange(echo('lost', '10.0.0.1', '10.0.0.3', 7, 1));
    const tcp = (sport: number, isn: number): ExchangeFlow => ({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport,
      dport: 22,
      isn,
    });
    m.exchange(ex('lost', '10.0.0.1:40000>10.0.0.2:22 isn=1', 'tcp-handshake', tcp(40000, 1)));
    m.exchange(ex('lost', '10.0.0.1:40002>10.0.0.2:22 isn=9', 'tcp-handshake', tcp(40002, 9)));
    const dns = (id: number): ExchangeFlow => ({
      src: '10.0.0.9',
      dst: '10.0.0.2',
      id,
      qname: 'example.org',
      qtype: 'A',
      transport: 'udp',
    });
    m.exchange(ex('ok', '10.0.0.9>10.0.0.2 id=4660 example.org A', 'dns', dns(4660)));
    m.exchange(ex('ok', '10.0.0.9>10.0.0.2 id=4661 example.org A', 'dns', dns(4661)));
    // IPv6 addresses hold colons: the flow, not the key text, says which are ports
    m.exchange(
      ex('lost', 'fd00::1:40000>fd00::2:443 isn=5', 'tcp-handshake', {
        src: 'fd00::1',
        dst: 'fd00::2',
        sport: 40000,
        dport: 443,
        isn: 5,
      }),
    );
    const rows = m.visibleGroups().map((g) => `${g.latest.status} ${g.count} ${g.latest.kind} ${g.flow}`);
    expect(rows).toEqual([
      'lost 1 tcp-handshake fd00::1>fd00::2:443',
      'lost 2 tcp-handshake 10.0.0.1>10.0.0.2:22',
      'lost 1 icmp-echo 10.0.0.1>10.0.0.3',
      'lost 3 icmp-echo 10.0.0.1>10.0.0.2',
      'ok 2 dns 10.0.0.9>10.0.0.2 example.org A',
      'ok 1 icmp-echo 10.0.0.1>10.0.0.2',
    ]);
    // the newest of a group is the one whose ladder Enter shows
    expect(m.visibleGroups()[3].latest.key).toBe('10.0.0.1>10.0.0.2 id=7 seq=3');
    expect(groupLine(m.visibleGroups()[3], 120)).toMatch(
      /^LOST {9}×3 {4}icmp-echo {5}10\.0\.0\.1>10\.0\.0\.2 +reply lost after br100/,
    );
    // one of a kind: the whole key, no count
    expect(groupLine(m.visibleGroups()[2], 120)).toMatch(
      /^LOST {15}icmp-echo {5}10\.0\.0\.1>10\.0\.0\.3 id=7 seq=1 /,
    );
    const dhcp = { xid: 0xabcd, chaddr: 'fa:16:3e:00:00:01' };
    expect(flowOf(ex('ok', 'xid=0x0000abcd chaddr=fa:16:3e:00:00:01', 'dhcp', dhcp))).toBe(
      'chaddr=fa:16:3e:00:00:01',
    );
    const arp = { sender: '10.0.0.5', target: '10.0.0.1' };
    expect(flowOf(ex('ok', 'who-has 10.0.0.1 tell 10.0.0.5', 'arp', arp))).toBe(
      'who-has 10.0.0.1 tell 10.0.0.5',
    );
  });

  it('groups the echoes of several pings of one flow lost at one hop, whatever their ids; another hop or verdict is another row', () => {
    const m = new TuiModel('replay', 'x', 0);
    const lostAt = (e: ExchangeRecord, lastSeen: string, missingOn: string[]): ExchangeRecord => ({
      ...e,
      lost: { stage: 'request', lastSeen, missingOn },
    });
    // five `ping -c 3` runs, each with its own id, all lost after qvb
    for (let run = 0; run < 5; run++)
      for (let seq = 1; seq <= 3; seq++)
        m.exchange(
          lostAt(echo('lost', '203.0.113.1', '203.0.113.20', 16000 + run, seq), 'c:qvb1', ['c:tap1']),
        );
    // one more run lost one hop earlier, and one answered
    for (let seq = 1; seq <= 3; seq++)
      m.exchange(
        lostAt(echo('lost', '203.0.113.1', '203.0.113.20', 17000, seq), 'c:qvo1', ['c:qvb1', 'c:tap1']),
      );
    for (let seq = 1; seq <= 3; seq++) m.exchange(echo('ok', '203.0.113.1', '203.0.113.20', 17001, seq));
    const rows = m.visibleGroups().map((g) => `${g.latest.status} ${g.count} ${whereItBroke(g.latest)}`);
    expect(rows).toEqual([
      'lost 3 request lost after qvo1, missing on qvb1, tap1',
      'lost 15 request lost after qvb1, missing on tap1',
      'ok 3 ok',
    ]);
    expect(groupLine(m.visibleGroups()[1], 120)).toMatch(
      /^LOST {9}×15 {3}icmp-echo {5}203\.0\.113\.1>203\.0\.113\.20 +request lost after qvb1/,
    );
  });

  it('keeps at most about 5000 exchanges: the oldest ok ones go, problems stay', () => {
    const m = new TuiModel('replay', 'x', 0);
    m.exchange(echo('lost', '10.0.0.1', '10.0.0.2', 1, 1));
    for (let i = 0; i < 6000; i++) m.exchange(echo('ok', `10.0.0.${i % 200}`, '10.0.0.2', 2, i));
    expect(m.exchanges.length).toBeLessThanOrEqual(5500);
    expect(m.exchanges.length).toBeGreaterThanOrEqual(5000);
    expect(m.exchanges[0].status).toBe('lost');
    expect(m.exchanges.at(-1)?.key).toBe('10.0.0.199>10.0.0.2 id=2 seq=5999');
    // the groups still match the exchanges kept: 200 flows of ok echoes, one lost
    const groups = m.visibleGroups();
    expect(groups[0]).toMatchObject({ count: 1, flow: '10.0.0.1>10.0.0.2' });
    expect(groups).toHaveLength(201);
    expect(groups.reduce((a, g) => a + g.count, 0)).toBe(m.exchanges.length);
    expect(m.summary).toMatchObject({ exchanges: 6001, ok: 6000, lost: 1 });
  });

  it('lists at most 500 ok verdicts a second, counting the rest; problems are always listed', () => {
    const m = new TuiModel('live', 'x', 0);
    let listed = 0;
    for (let i = 0; i < 800; i++) if (m.wants('ok', 5_000)) listed++;
    expect(listed).toBe(500);
    expect(m.wants('lost', 5_000)).toBe(true);
    expect(m.wants('ok', 6_000)).toBe(true);
    expect(m.okNotListed).toBe(300);
    expect(m.summary).toMatchObject({ exchanges: 300, ok: 300 });
    expect(tabsLine(m)).toContain('300 ok not listed (over 500/s)');
  });

  it('says where an exchange broke, in the table row', () => {
    expect(whereItBroke(ex('lost', 'k'))).toBe('reply lost after br100, missing on tap1, eth0');
    expect(groupLine({ latest: ex('lost', 'k'), count: 1, flow: 'k' }, 120)).toMatch(
      /^LOST {15}icmp-echo {5}k +reply lost after br100/,
    );
  });
});
