// The pure parts of evidence gathering: the hop script's output split back into
// sections, each tool's output read (conntrack, ss, sysctls, route lookups, tracefs
// lines), a dropped packet matched to the exchange's packet by its own fields, the
// answer an unanswered question expected, and the script built only from safe words.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ExchangeRecord, PacketView } from '../../src/events/types.js';
import { answerOf } from '../../src/evidence/answer-packet.js';
import type { ExchangePacket } from '../../src/evidence/context.js';
import { parseTracefsLine } from '../../src/evidence/kernel/tracefs-drops.js';
import { tracefsScript } from '../../src/evidence/kernel/tracefs-script.js';
import { isSamePacket, packetFromView, type DroppedPacketFields } from '../../src/evidence/packet-fields.js';
import { isUntranslated, parseConntrack, parseInvalidCount } from '../../src/evidence/state/conntrack.js';
import { splitHostOutput, splitSections } from '../../src/evidence/state/hop-output.js';
import {
  hostScript,
  localArgv,
  namespaceScript,
  type HopScriptRequest,
} from '../../src/evidence/state/hop-script.js';
import { parseRouteAnswer } from '../../src/evidence/state/routes.js';
import { isListening, isStalled, listenerFor, parseSockets } from '../../src/evidence/state/sockets.js';
import { effectiveSysctl, parseSysctls } from '../../src/evidence/state/sysctls.js';
import { verdictContext } from '../../src/evidence/verdict-context.js';

const REQUEST: HopScriptRequest = {
  links: true,
  routes: [{ dst: '10.0.0.1', from: '10.0.0.2', iif: 'eth0' }],
  sysctlDevices: ['eth0'],
  sockets: true,
  conntrack: false,
  firewall: false,
};

describe('hop script', () => {
  it('runs in a shell and comes back as sections with their exit status', () => {
    // here, in this namespace: every command runs, `ip route get` answers or fails by itself
    const out = execFileSync(localArgv(null, REQUEST)[0], localArgv(null, REQUEST).slice(1), {
      encoding: 'utf8',
    });
    const sections = splitSections(out);
    expect([...sections.keys()]).toEqual(['addr', 'neigh', 'route 0', 'sysctl', 'sockets']);
    expect(sections.get('addr')?.status).toBe(0);
    expect(sections.get('addr')?.text.trim().startsWith('[')).toBe(true);
    expect(sections.get('sysctl')?.text).toMatch(/^net\/ipv4\/ip_forward=\d$/m);
  });

  it('a host’s batched output: each namespace, and the one that could not be entered', () => {
    const out = [
      '@@hopscope-ns a',
      '@@hopscope addr',
      '[]',
      '@@hopscope-rc addr 0',
      '@@hopscope-ns-rc 0',
      '@@hopscope-ns b',
      'Cannot open network namespace "b": No such file or directory',
      '@@hopscope-ns-rc 1',
    ].join('\n');
    const parts = splitHostOutput(out);
    expect(parts.map((p) => [p.netns, p.enterError])).toEqual([
      ['a', null],
      ['b', 'Cannot open network namespace "b": No such file or directory'],
    ]);
    expect(parts[0].sections.get('addr')).toEqual({ text: '[]', status: 0 });
  });

  it('a section cut off has no status', () => {
    expect(splitSections('@@hopscope addr\n[{"ifname":"lo"').get('addr')).toEqual({
      text: '[{"ifname":"lo"',
      status: null,
    });
  });

  it.each([
    ['an interface name with $(…)', { ...REQUEST, sysctlDevices: ['$(touch x)'] }],
    ['an interface name with a slash', { ...REQUEST, routes: [{ dst: '10.0.0.1', iif: 'a/b' }] }],
    ['an address that is not one', { ...REQUEST, routes: [{ dst: '10.0.0.1; reboot' }] }],
  ])('refuses %s before anything reaches a shell', (_what, request) => {
    expect(() => namespaceScript(request)).toThrow();
  });

  it('quotes what it takes: a namespace name is one word however it is spelt', () => {
    const script = hostScript([{ netns: "it's-a-lab", request: REQUEST }]);
    expect(script).toContain(`'ip' 'netns' 'exec' 'it'\\''s-a-lab' sh -c`);
    expect(() => hostScript([{ netns: '-x', request: REQUEST }])).toThrow(/begins with '-'/);
  });
});

describe('tool output', () => {
  it('conntrack: original and reply tuples, flags, whether NAT applies, the invalid counter', () => {
    const [plain, natted] = parseConntrack(
      [
        'ipv4     2 icmp     1 29 src=10.0.0.10 dst=203.0.113.10 type=8 code=0 id=7 [UNREPLIED] src=203.0.113.10 dst=10.0.0.10 type=0 code=0 id=7 mark=0 use=1',
        'ipv4     2 tcp      6 117 SYN_SENT src=10.0.0.10 dst=203.0.113.10 sport=4000 dport=80 [UNREPLIED] src=203.0.113.10 dst=203.0.113.101 sport=80 dport=4000 mark=0 use=1',
        'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.',
      ].join('\n'),
    );
    expect(plain).toMatchObject({
      protocol: 'icmp',
      flags: ['UNREPLIED'],
      original: { src: '10.0.0.10', id: 7 },
    });
    expect(isUntranslated(plain)).toBe(true);
    expect(natted).toMatchObject({ state: 'SYN_SENT', reply: { dst: '203.0.113.101', dport: 4000 } });
    expect(isUntranslated(natted)).toBe(false);
    expect(parseInvalidCount('cpu=0 found=0 invalid=3 insert=0\ncpu=1 found=0 invalid=4 insert=0')).toBe(7);
  });

  it('ss: listening TCP and bound UDP sockets, any-address ones too', () => {
    const sockets = parseSockets(
      [
        'tcp   LISTEN 0      5      127.0.0.1:8080      0.0.0.0:*',
        'udp   UNCONN 0      0      0.0.0.0%br100:67  0.0.0.0:*',
        'tcp   LISTEN 0 128 [::]:22 [::]:*',
      ].join('\n'),
    );
    expect(sockets).toEqual([
      { protocol: 'tcp', address: '127.0.0.1', port: 8080, queued: 0, backlog: 5 },
      { protocol: 'udp', address: '0.0.0.0', port: 67, queued: 0, backlog: null },
      { protocol: 'tcp', address: '::', port: 22, queued: 0, backlog: 128 },
    ]);
    expect(isListening(sockets, 'tcp', '127.0.0.1', 8080)).toBe(true);
    expect(isListening(sockets, 'tcp', '198.51.100.1', 8080)).toBe(false);
    expect(isListening(sockets, 'udp', '255.255.255.255', 67)).toBe(true);
  });

  it('ss: the socket that takes a packet (its own address before any), and whether its queue is stuck', () => {
    const sockets = parseSockets(
      [
        'tcp   LISTEN 0      5      0.0.0.0:80      0.0.0.0:*',
        'tcp   LISTEN 6      5      10.0.0.3:80     0.0.0.0:*',
        'tcp   LISTEN 5      5      10.0.0.4:80     0.0.0.0:*',
        'udp   UNCONN 768    0      10.0.0.3:53     0.0.0.0:*',
        'udp   UNCONN 0      0      0.0.0.0:53      0.0.0.0:*',
      ].join('\n'),
    );
    const full = listenerFor(sockets, 'tcp', '10.0.0.3', 80);
    expect(full).toEqual({ protocol: 'tcp', address: '10.0.0.3', port: 80, queued: 6, backlog: 5 });
    // more waiting than the backlog is full (sk_acceptq_is_full); as many is not yet
    expect(isStalled(full!)).toBe(true);
    expect(isStalled(listenerFor(sockets, 'tcp', '10.0.0.4', 80)!)).toBe(false);
    expect(listenerFor(sockets, 'tcp', '10.0.0.9', 80)?.address).toBe('0.0.0.0');
    expect(listenerFor(sockets, 'tcp', '10.0.0.9', 81)).toBeNull();
    // UDP: bytes unread
    expect(isStalled(listenerFor(sockets, 'udp', '10.0.0.3', 53)!)).toBe(true);
    expect(isStalled(listenerFor(sockets, 'udp', '10.0.0.9', 53)!)).toBe(false);
  });

  it('sysctls: the value that applies to a device (rp_filter: the larger of all and the device’s)', () => {
    const v = parseSysctls(
      [
        'net/ipv4/ip_forward=1',
        'net/ipv4/conf/all/rp_filter=2',
        'net/ipv4/conf/eth0/rp_filter=1',
        'net/ipv4/conf/eth0.100/route_localnet=0',
        'net/ipv4/conf/gone/rp_filter=',
      ].join('\n'),
    );
    expect(v.get('net.ipv4.ip_forward')).toBe('1');
    expect(v.get('net.ipv4.conf.eth0/100.route_localnet')).toBe('0');
    expect(v.has('net.ipv4.conf.gone.rp_filter')).toBe(false);
    expect(effectiveSysctl(v, 'rp_filter', 'eth0')).toBe('2');
  });

  it('route lookups: the route, or the kernel’s refusal', () => {
    expect(
      parseRouteAnswer(
        '[{"dst":"10.0.0.1","gateway":"10.0.0.254","dev":"eth0","prefsrc":"10.0.0.2","flags":[],"uid":0,"cache":[]}]',
        0,
      ),
    ).toMatchObject({
      dev: 'eth0',
      gateway: '10.0.0.254',
      error: null,
      text: '10.0.0.1 via 10.0.0.254 dev eth0 src 10.0.0.2',
    });
    expect(parseRouteAnswer('RTNETLINK answers: Network is unreachable', 2)).toMatchObject({
      dev: null,
      error: 'Network is unreachable',
    });
  });

  it('tracefs lines: drops, the clock markers, the session’s own lines', () => {
    expect(
      parseTracefsLine(
        '          <idle>-0       [001] ..s2.  5021.123456: kfree_skb: skbaddr=00000000c0ffee00 rx_sk=0000000000000000 protocol=2048 location=nf_hook_slow+0x9e/0xd0 reason: NETFILTER_DROP',
      ),
    ).toEqual({
      kind: 'drop',
      traceSec: 5021,
      traceUsec: 123456,
      reason: 'NETFILTER_DROP',
      location: 'nf_hook_slow+0x9e',
      protocol: 2048,
    });
    expect(
      parseTracefsLine('  sh-11046   [001] ...1.  7346.581793: tracing_mark_write: hopscope-sync'),
    ).toEqual({ kind: 'sync-mark', traceSec: 7346, traceUsec: 581793 });
    expect(parseTracefsLine('@@hopscope removed-stale hopscope-12-abc123')).toEqual({
      kind: 'removed-stale',
      name: 'hopscope-12-abc123',
    });
    expect(parseTracefsLine('@@hopscope unavailable no tracefs on this host')).toEqual({
      kind: 'unavailable',
      reason: 'no tracefs on this host',
    });
    expect(() => tracefsScript('bad nonce')).toThrow();
  });
});

describe('packets', () => {
  const echo: ExchangePacket = {
    family: 4,
    src: '203.0.113.1',
    dst: '203.0.113.20',
    proto: 1,
    ipId: 4242,
    ipLength: 84,
    sport: null,
    dport: null,
    icmpType: 8,
    icmpId: 77,
    icmpSeq: 3,
    tcpSeq: null,
    tcpFlags: null,
    dontFragment: true,
    ttl: 64,
    aliases: ['10.0.0.5'],
  };
  const drop: DroppedPacketFields = {
    family: 4,
    src: '203.0.113.1',
    dst: '10.0.0.5',
    proto: 1,
    ipId: 4242,
    ipLength: 84,
    l4: true,
    sport: 99, // the echo id after NAT
    dport: 3,
    icmpType: 8,
    tcpSeq: 0,
  };

  it('a drop is the packet when its own fields say so, through NAT, and not another of its flow', () => {
    expect(isSamePacket(drop, echo)).toBe(true);
    expect(isSamePacket({ ...drop, ipId: 4243 }, echo)).toBe(false);
    expect(isSamePacket({ ...drop, dport: 4 }, echo)).toBe(false);
    expect(isSamePacket({ ...drop, src: '192.0.2.9', dst: '192.0.2.10' }, echo)).toBe(false);
    // another ping of the same sequence number to one of its addresses: not it
    const answer = { ...echo, ipId: null, icmpType: 0 };
    const other = { ...drop, ipId: 0, src: '203.0.113.101', dst: '203.0.113.1', icmpType: 0 };
    expect(isSamePacket(other, answer)).toBe(false);
    // its own echo id from an address it was not seen with (translated after): it
    expect(isSamePacket({ ...other, sport: 77 }, answer)).toBe(true);
  });

  it('the answer an unanswered question expected', () => {
    expect(answerOf(echo)).toMatchObject({
      src: '203.0.113.20',
      dst: '203.0.113.1',
      icmpType: 0,
      icmpSeq: 3,
      ipId: null,
    });
    const syn = { ...echo, proto: 6, icmpType: null, sport: 4000, dport: 22, tcpSeq: 1, tcpFlags: 0x02 };
    expect(answerOf(syn)).toMatchObject({ sport: 22, dport: 4000, tcpFlags: 0x12, tcpSeq: null });
    expect(answerOf({ ...echo, icmpType: 0 })).toBeNull();
  });

  it('a verdict’s context from its records: the packet at the last sighting, its path, its aliases, its window', () => {
    const ex: ExchangeRecord = {
      type: 'exchange',
      kind: 'icmp-echo',
      key: '203.0.113.1>203.0.113.20 id=77 seq=3',
      flow: { src: '203.0.113.1', dst: '203.0.113.20', id: 77, seq: 3 },
      status: 'lost',
      stages: [
        {
          name: 'request',
          packets: 1,
          seen: [
            { iface: 'h:outside/eth0', ts: '100.000000001' },
            { iface: 'h:compute/qvb', ts: '100.000100000' },
          ],
        },
      ],
      lost: { stage: 'request', lastSeen: 'h:compute/qvb', missingOn: ['h:compute/tap'] },
      ts: '100.000000001',
    };
    const view = (iface: string, dst: string): PacketView =>
      ({
        type: 'packet',
        n: 1,
        iface,
        ts: '',
        len: 98,
        caplen: 98,
        layers: [],
        src: '203.0.113.1',
        dst,
        proto: 'icmp',
        ipId: 4242,
        ttl: 64,
        sport: null,
        dport: null,
        icmp: { type: 8, code: 0, id: 77, seq: 3 },
        tcp: null,
        tunnel: null,
        dns: null,
        dhcp: null,
        arp: null,
        vlan: [],
        truncated: false,
        malformed: null,
      }) satisfies PacketView;
    const ctx = verdictContext(ex, (iface) => ({
      view: view(iface, iface.endsWith('qvb') ? '10.0.0.5' : '203.0.113.20'),
      dontFragment: true,
      ipOffset: 14,
    }));
    expect(ctx.packet).toMatchObject({
      dst: '10.0.0.5',
      ipLength: 84,
      icmpSeq: 3,
      aliases: ['203.0.113.20'],
      dontFragment: true,
    });
    expect(ctx.lastSeen).toEqual({ label: 'h:compute/qvb', host: 'h', netns: 'compute', iface: 'qvb' });
    expect(ctx.next?.iface).toBe('tap');
    expect(ctx.path.map((p) => p.iface)).toEqual(['eth0', 'qvb']);
    expect(ctx.window).toEqual({ startNs: 100_000_000_001n, endNs: 101_000_100_000n });
    expect(
      packetFromView({
        ...view('x', '10.0.0.5'),
        arp: { op: 1, spa: '10.0.0.1', tpa: '10.0.0.2', sha: null, tha: null },
      }),
    ).toMatchObject({ family: 'arp', icmpType: 1 });
    // the IP length is what follows the innermost IP header's offset: on a device of an
    // `any` capture (LINUX_SLL2, 20 bytes), on a tun device (raw IP)
    expect(packetFromView(view('x', '10.0.0.5'), false, 20)?.ipLength).toBe(78);
    expect(packetFromView(view('x', '10.0.0.5'), false, 0)?.ipLength).toBe(98);
  });
});
