// Cause inference alone (pure): which verdicts get a cause, what the strongest
// evidence makes of it, and what an unknown cause still says.
import { describe, expect, it } from 'vitest';
import type { ExchangeRecord, KernelDropEvidence } from '../../src/events/types.js';
import type { HopView } from '../../src/evidence/cause/hop-view.js';
import type { ExchangePacket } from '../../src/evidence/context.js';
import { parseNftRuleset } from '../../src/evidence/firewall/nft-ruleset.js';
import { inferCause } from '../../src/evidence/infer.js';
import { parseConntrack } from '../../src/evidence/state/conntrack.js';
import type { HopFacts } from '../../src/evidence/state/hop-facts.js';

const packet: ExchangePacket = {
  family: 4,
  src: '10.0.0.5',
  dst: '192.0.2.9',
  proto: 1,
  ipId: 1,
  ipLength: 1428,
  sport: null,
  dport: null,
  icmpType: 8,
  icmpId: 1,
  icmpSeq: 1,
  tcpSeq: null,
  tcpFlags: null,
  dontFragment: true,
  ttl: 64,
  aliases: [],
};

function facts(over: Partial<HopFacts> = {}): HopFacts {
  return {
    host: null,
    netns: 'r',
    readAtMs: 0,
    links: [
      {
        ifindex: 2,
        name: 'eth0',
        up: true,
        carrier: true,
        operstate: 'UP',
        mtu: 1500,
        master: null,
        kind: 'veth',
        portState: null,
        addresses: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24 }],
        vxlanUnderlay: null,
        noArp: false,
        mac: null,
      },
      {
        ifindex: 3,
        name: 'eth1',
        up: true,
        carrier: false,
        operstate: 'LOWERLAYERDOWN',
        mtu: 1400,
        master: null,
        kind: 'veth',
        portState: null,
        addresses: [],
        vxlanUnderlay: null,
        noArp: false,
        mac: null,
      },
    ],
    neighbours: [],
    routes: [],
    sysctls: new Map([['net.ipv4.ip_forward', '1']]),
    sockets: [],
    conntrack: null,
    nftables: { chains: [], rules: [] },
    iptables: [],
    ...over,
  };
}

function view(over: Partial<HopView> = {}): HopView {
  return {
    label: 'r/eth0',
    role: 'last-seen',
    packet,
    which: 'missing',
    iif: 'eth0',
    oif: 'eth1',
    expectedIface: 'eth1',
    entered: null,
    encapsulation: 0,
    facts: facts(),
    before: null,
    drops: [],
    kernelUnreadable: null,
    ...over,
  };
}

/** A route lookup that found `dev` (as received on `iif` when given, from the packet's source). */
function routed(
  dst: string,
  dev: string,
  gateway: string | null = null,
  iif?: string,
  from = packet.src,
): HopFacts['routes'][number] {
  return {
    query: { dst, ...(iif !== undefined ? { from, iif } : {}) },
    answer: { dev, gateway, prefsrc: null, type: 'unicast', error: null, text: `${dst} dev ${dev}` },
  };
}

/** `f` with every link up and with carrier. */
function withCarrier(f: HopFacts): HopFacts {
  f.links = (f.links as NonNullable<Exclude<HopFacts['links'], { unreadable: string }>>).map((l) => ({
    ...l,
    carrier: true,
    operstate: 'UP',
  }));
  return f;
}

/** The kernel's drop of this very packet, in namespace r. */
function kernelDrop(reason: string, location: string): KernelDropEvidence {
  return { source: 'kernel', netns: 'r', reason, location, matchedBy: 'packet', drops: 1, ts: '1.0' };
}

/** The cause is forwarding-off, with the switch `key` at 0 as its evidence. */
function expectForwardingOff(cause: ReturnType<typeof inferCause>, key: string): void {
  expect(cause).toMatchObject({ code: 'forwarding-off' });
  expect(cause?.evidence).toContainEqual({ source: 'sysctl', netns: 'r', key, value: '0' });
}

function exchange(status: ExchangeRecord['status'], over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    type: 'exchange',
    kind: 'icmp-echo',
    key: 'k',
    flow: { src: null, dst: null, id: 0, seq: 0 },
    status,
    stages: [],
    ts: '1.0',
    lost: { stage: 'request', lastSeen: 'r/eth0', missingOn: ['r/eth1'] },
    ...over,
  };
}

describe('cause inference', () => {
  it('ok and inconclusive exchanges, and answers a server gave, get no cause', () => {
    expect(inferCause({ exchange: exchange('ok'), views: [view()] })).toBeNull();
    expect(inferCause({ exchange: exchange('inconclusive'), views: [view()] })).toBeNull();
    expect(
      inferCause({ exchange: exchange('error', { kind: 'dns', detail: 'NXDOMAIN' }), views: [view()] }),
    ).toBeNull();
    expect(
      inferCause({ exchange: exchange('error', { kind: 'dhcp', detail: 'NAK' }), views: [view()] }),
    ).toBeNull();
  });

  it('the next device without carrier: link-down, at the hop, with the device', () => {
    const cause = inferCause({ exchange: exchange('lost'), views: [view()] });
    expect(cause).toMatchObject({ code: 'link-down', at: 'r/eth0' });
    expect(cause?.evidence[0]).toMatchObject({
      source: 'link',
      netns: 'r',
      iface: 'eth1',
      carrier: false,
      state: 'LOWERLAYERDOWN',
    });
  });

  it('the kernel’s drop of this very packet outranks the state: its reason names the cause', () => {
    const drops = [kernelDrop('NEIGH_FAILED', 'neigh_invalidate+0x7e')];
    expect(inferCause({ exchange: exchange('lost'), views: [view({ drops })] })?.code).toBe('no-neighbour');
    // only time-matched (a remote host's tracefs): the state wins
    expect(
      inferCause({
        exchange: exchange('lost'),
        views: [view({ drops: [{ ...drops[0], matchedBy: 'time' }] })],
      })?.code,
    ).toBe('link-down');
  });

  it('an ICMP error that says fragmentation is needed: mtu, with the link that small', () => {
    const cause = inferCause({
      exchange: exchange('error', { detail: 'frag-needed mtu=1400', lost: undefined }),
      views: [view({ oif: null, expectedIface: null })],
    });
    expect(cause).toMatchObject({ code: 'mtu' });
    expect(cause?.evidence).toContainEqual(
      expect.objectContaining({ source: 'link', iface: 'eth1', mtu: 1400 }),
    );
  });

  it('the kernel’s PKT_TOO_BIG where no capture showed the packet leave: the routed device’s MTU says why', () => {
    // a router whose next hop is not captured (no hop order known yet): the device the
    // packet leaves by is the one its route lookup, as received on eth0, gives
    const f = withCarrier(facts({ routes: [routed('192.0.2.9', 'eth1', null, 'eth0')] }));
    const drops = [kernelDrop('PKT_TOO_BIG', 'ip_forward+0x2c0')];
    const cause = inferCause({
      exchange: exchange('error', { detail: 'frag-needed mtu=1400', lost: undefined }),
      views: [view({ facts: f, oif: null, expectedIface: null, drops })],
    });
    expect(cause).toMatchObject({ code: 'mtu', at: 'r/eth0' });
    expect(cause?.summary).toMatch(
      /^1428-byte packets with DF set do not fit eth1's MTU of 1400; the kernel dropped it/,
    );
    expect(cause?.evidence).toContainEqual(
      expect.objectContaining({ source: 'link', iface: 'eth1', mtu: 1400 }),
    );
    // the same packet without DF is fragmented, not dropped: the state says nothing of MTU
    const fragmentable = inferCause({
      exchange: exchange('lost'),
      views: [view({ facts: f, oif: null, expectedIface: null, packet: { ...packet, dontFragment: false } })],
    });
    expect(fragmentable?.code).not.toBe('mtu');
  });

  it('a route to a device without carrier, where no capture showed the packet leave: link-down', () => {
    const f = facts({ routes: [routed('192.0.2.9', 'eth1', null, 'eth0')] });
    const cause = inferCause({
      exchange: exchange('lost'),
      views: [view({ facts: f, oif: null, expectedIface: null, packet: { ...packet, ipLength: 84 } })],
    });
    expect(cause).toMatchObject({
      code: 'link-down',
      summary: 'eth1 is up without carrier (LOWERLAYERDOWN)',
    });
    // without the route lookup nothing names eth1
    expect(
      inferCause({
        exchange: exchange('lost'),
        views: [view({ oif: null, expectedIface: null, packet: { ...packet, ipLength: 84 } })],
      })?.code,
    ).toBe('unknown');
  });

  it('forwarding off in a namespace that should route the packet: the sysctl and its value', () => {
    const f = withCarrier(facts({ sysctls: new Map([['net.ipv4.ip_forward', '0']]) }));
    const cause = inferCause({
      exchange: exchange('lost'),
      views: [view({ facts: f, packet: { ...packet, ipLength: 84 } })],
    });
    expectForwardingOff(cause, 'net.ipv4.ip_forward');
  });

  it('IPv6 is forwarded by net.ipv6.conf.all.forwarding, whatever IPv4’s switch says', () => {
    const v6: ExchangePacket = {
      ...packet,
      family: 6,
      src: 'fd00:1::2',
      dst: 'fd00:2::9',
      ipId: null,
      ipLength: 104,
    };
    const routing = withCarrier(
      facts({
        sysctls: new Map([
          ['net.ipv4.ip_forward', '0'],
          ['net.ipv6.conf.all.forwarding', '1'],
        ]),
        neighbours: [{ address: 'fd00:2::9', iface: 'eth1', state: ['INCOMPLETE'], lladdr: null }],
        routes: [routed('fd00:2::9', 'eth1', null, 'eth0', 'fd00:1::2')],
      }),
    );
    const cause = inferCause({
      exchange: exchange('unanswered'),
      views: [view({ facts: routing, packet: v6 })],
    });
    expect(cause).toMatchObject({
      code: 'no-neighbour',
      summary: 'the neighbour fd00:2::9 on eth1 is INCOMPLETE: nothing answers its neighbour solicitations',
    });
    const off = withCarrier(facts({ sysctls: new Map([['net.ipv6.conf.all.forwarding', '0']]) }));
    const offCause = inferCause({ exchange: exchange('lost'), views: [view({ facts: off, packet: v6 })] });
    expectForwardingOff(offCause, 'net.ipv6.conf.all.forwarding');
  });

  it('a blackhole or prohibit route: no-route, said by the lookup’s error', () => {
    const failed = (error: string, iif?: string) => ({
      query: { dst: '192.0.2.9', ...(iif !== undefined ? { from: '10.0.0.5', iif } : {}) },
      answer: {
        dev: null,
        gateway: null,
        prefsrc: null,
        type: 'none',
        error,
        text: `RTNETLINK answers: ${error}`,
      },
    });
    const ok = routed('192.0.2.9', 'eth1');
    const causeWith = (routes: HopFacts['routes']) =>
      inferCause({
        exchange: exchange('unanswered'),
        views: [
          view({
            facts: facts({ routes }),
            oif: null,
            expectedIface: null,
            packet: { ...packet, ipLength: 84 },
          }),
        ],
      });
    expect(causeWith([failed('Invalid argument', 'eth0'), failed('Invalid argument')])).toMatchObject({
      code: 'no-route',
      summary: 'a blackhole route or rule for 192.0.2.9 in r: Invalid argument',
    });
    expect(causeWith([failed('Permission denied', 'eth0'), failed('Permission denied')])).toMatchObject({
      code: 'no-route',
      summary: 'a prohibit route or rule for 192.0.2.9 in r: Permission denied',
    });
    // EINVAL as received only (a martian source), while the destination is routed: no blackhole
    expect(causeWith([failed('Invalid argument', 'eth0'), ok])?.code).not.toBe('no-route');
  });

  it('routed back out of the device it came in by, to a router there: a routing loop', () => {
    const back = (gateway: string | null) =>
      facts({ routes: [routed('192.0.2.9', 'eth0', gateway, 'eth0')] });
    const causeWith = (f: HopFacts) =>
      inferCause({
        exchange: exchange('error', { detail: 'time-exceeded', lost: undefined }),
        views: [view({ facts: f, oif: null, expectedIface: null, packet: { ...packet, ipLength: 84 } })],
      });
    expect(causeWith(back('10.0.0.7'))).toMatchObject({
      code: 'routing-loop',
      at: 'r/eth0',
      summary:
        'the route for 192.0.2.9 in r sends it back out eth0, the device it came in by, to 10.0.0.7: a routing loop (its TTL ran out)',
    });
    expect(causeWith(back('10.0.0.7'))?.evidence).toContainEqual(
      expect.objectContaining({ source: 'route', netns: 'r' }),
    );
    // on the link itself (no router): delivered there, no loop
    expect(causeWith(back(null))?.code).not.toBe('routing-loop');
    // lost, its TTL not known to have run out: that router may send it on — said so, and
    // anything surer wins (the next device without carrier)
    const lost = (expectedIface: string | null) =>
      inferCause({
        exchange: exchange('lost'),
        views: [
          view({ facts: back('10.0.0.7'), oif: null, expectedIface, packet: { ...packet, ipLength: 84 } }),
        ],
      });
    expect(lost(null)).toMatchObject({
      code: 'routing-loop',
      summary:
        'the route for 192.0.2.9 in r sends it back out eth0, the device it came in by, to 10.0.0.7: a routing loop, unless that router sends it on',
    });
    expect(lost('eth1')?.code).toBe('link-down');
  });

  it('time exceeded where it came in with TTL 1, routed on: ttl-expired, with the route it would have taken', () => {
    const causeWith = (ttl: number, family: 4 | 6 = 4) =>
      inferCause({
        exchange: exchange('error', { detail: 'time-exceeded', lost: undefined }),
        views: [
          view({
            facts: withCarrier(facts({ routes: [routed(packet.dst, 'eth1', null, 'eth0')] })),
            oif: null,
            expectedIface: null,
            packet: { ...packet, ipLength: 84, ttl, family },
          }),
        ],
      });
    expect(causeWith(1)).toMatchObject({
      code: 'ttl-expired',
      at: 'r/eth0',
      summary:
        'it came into r on eth0 with TTL 1: a router does not forward a packet whose TTL would reach 0',
    });
    expect(causeWith(1)?.evidence).toContainEqual(expect.objectContaining({ source: 'route', netns: 'r' }));
    expect(causeWith(1, 6)?.summary).toContain('with hop limit 1');
    // with TTL to spare here, it ran out further on: not this hop's doing
    expect(causeWith(5)?.code).not.toBe('ttl-expired');
  });

  it('an ARP request that reached the namespace holding its address: NOARP or arp_ignore says why none answered', () => {
    const arp: ExchangePacket = {
      ...packet,
      family: 'arp',
      src: '10.0.0.9',
      dst: '10.0.0.1',
      proto: 0,
      ipId: null,
      ipLength: 28,
      icmpType: 1,
    };
    const target = (ignore: string, noArp = false, where = 'lo'): HopFacts => {
      const f = withCarrier(facts({ sysctls: new Map([['net.ipv4.conf.eth0.arp_ignore', ignore]]) }));
      const links = f.links as NonNullable<Exclude<HopFacts['links'], { unreadable: string }>>;
      f.links = [
        ...links.map((l) => ({
          ...l,
          noArp: l.name === 'eth0' && noArp,
          addresses: where === 'eth0' && l.name === 'eth0' ? l.addresses : [],
        })),
        {
          ...links[0],
          ifindex: 1,
          name: 'lo',
          kind: null,
          addresses: where === 'lo' ? links[0].addresses : [],
        },
      ];
      return f;
    };
    const causeAt = (f: HopFacts) =>
      inferCause({
        exchange: exchange('unanswered', { kind: 'arp' }),
        views: [view({ facts: f, packet: arp, which: 'question', oif: null, expectedIface: null })],
      });
    expect(causeAt(target('1'))).toMatchObject({
      code: 'no-neighbour',
      summary:
        'r holds 10.0.0.1 on lo, not on eth0, and answers ARP on a device only for its own addresses (net.ipv4.conf.eth0.arp_ignore = 1)',
    });
    expect(causeAt(target('0', true, 'eth0'))).toMatchObject({
      code: 'no-neighbour',
      summary: 'eth0 has ARP off (NOARP): r answers no ARP for 10.0.0.1 there',
    });
    // answered on any device (arp_ignore 0), or held on the device asked: nothing to say
    expect(causeAt(target('0'))?.summary ?? '').not.toMatch(/holds|NOARP/);
    expect(causeAt(target('1', false, 'eth0'))?.summary ?? '').not.toMatch(/holds|NOARP/);
  });

  it('a reply to a masqueraded flow, dropped in forward: conntrack sends it on, so the forward rule is why', () => {
    // nft -j of `table inet t { chain f { type filter hook forward priority 0; icmp type echo-reply drop } }`
    const nftables = parseNftRuleset(
      JSON.stringify({
        nftables: [
          { table: { family: 'inet', name: 't', handle: 2 } },
          {
            chain: {
              family: 'inet',
              table: 't',
              name: 'f',
              handle: 1,
              type: 'filter',
              hook: 'forward',
              prio: 0,
            },
          },
          {
            rule: {
              family: 'inet',
              table: 't',
              chain: 'f',
              handle: 2,
              expr: [
                {
                  match: {
                    op: '==',
                    left: { payload: { protocol: 'icmp', field: 'type' } },
                    right: 'echo-reply',
                  },
                },
                { drop: null },
              ],
            },
          },
        ],
      }),
      'table inet t { # handle 2\n\tchain f { # handle 1\n\t\ttype filter hook forward priority filter; policy accept;\n\t\ticmp type echo-reply drop # handle 2\n\t}\n}\n',
    );
    // the echo reply comes back for the router's own address on eth1 (masqueraded there)
    const reply = { ...packet, src: '192.0.2.9', dst: '10.0.0.1', icmpType: 0, ipLength: 84 };
    const entry =
      'ipv4 2 icmp 1 29 src=10.9.9.5 dst=192.0.2.9 type=8 code=0 id=1 src=192.0.2.9 dst=10.0.0.1 type=0 code=0 id=1 mark=0 use=1';
    const at = (conntrack: string): ReturnType<typeof inferCause> =>
      inferCause({
        exchange: exchange('lost', { lost: { stage: 'reply', lastSeen: 'r/eth0', missingOn: ['r/eth1'] } }),
        views: [
          view({
            packet: reply,
            iif: 'eth0',
            oif: null,
            expectedIface: 'eth1',
            facts: withCarrier(
              facts({ nftables, conntrack: { entries: parseConntrack(conntrack), invalid: 0 } }),
            ),
          }),
        ],
      });
    expect(at(entry)).toMatchObject({
      code: 'netfilter-drop',
      summary: expect.stringContaining('nftables rule handle 2 in inet t f') as string,
    });
    // without the entry (or for the router itself) the reply is the router's: input, where nothing drops it
    expect(at('')?.summary).not.toContain('rule handle 2');
    expect(at(entry.replace('src=10.9.9.5', 'src=10.0.0.1'))?.summary).not.toContain('rule handle 2');
  });

  it('an answer that reached its asker from another address than asked went around a NAT; the asker’s own reset is no sign that nothing listens', () => {
    const tcp = (src: string, dst: string, sport: number, dport: number): ExchangePacket => ({
      ...packet,
      proto: 6,
      ipLength: 60,
      src,
      dst,
      sport,
      dport,
      icmpType: null,
      icmpId: null,
      icmpSeq: null,
    });
    const syn = tcp('10.0.0.2', '10.0.9.9', 40000, 80);
    const asker = {
      origin: { label: 'c/eth0', host: null, netns: 'c', iface: 'eth0' },
      question: syn,
      questionStage: 'syn',
      answer: tcp('10.0.0.3', '10.0.0.2', 8080, 40000),
      answerStage: 'syn-ack',
      errorFromAsker: true,
      translatedAt: { label: 'r/rs', host: null, netns: 'r', iface: 'rs' },
    };
    const reset = exchange('error', { kind: 'tcp-handshake', detail: 'RST', lost: undefined });
    const v = view({ packet: syn, facts: withCarrier(facts()) });
    expect(inferCause({ exchange: reset, views: [v], asker })).toEqual({
      code: 'nat-bypassed',
      summary:
        'the syn-ack reached 10.0.0.2 from 10.0.0.3 port 8080, not from 10.0.9.9 port 80 where the syn was sent, so 10.0.0.2 resets it: the syn was translated (DNAT) in r, and the syn-ack did not pass back through it to be translated back',
      at: 'r/rs',
      evidence: [],
    });
    // Mirrored, the reset is the asker's own: no listener is inferred at the far end…
    const mirrored = { ...asker, answer: tcp('10.0.9.9', '10.0.0.2', 80, 40000) };
    expect(inferCause({ exchange: reset, views: [v], asker: mirrored })?.code).not.toBe('no-listener');
    // …while a reset from the far end says nothing listens there.
    expect(
      inferCause({ exchange: reset, views: [v], asker: { ...mirrored, errorFromAsker: false } })?.code,
    ).toBe('no-listener');
  });

  it('a question that reached its own address: nobody listening, or a listener whose application takes nothing', () => {
    const toLocal = (proto: 6 | 17, dport: number): ExchangePacket => ({
      ...packet,
      proto,
      ipLength: 60,
      src: '10.0.0.2',
      dst: '10.0.0.1',
      sport: 40000,
      dport,
      tcpFlags: proto === 6 ? 0x02 : null,
      icmpType: null,
      icmpId: null,
      icmpSeq: null,
    });
    const socket = (protocol: 'tcp' | 'udp', port: number, queued: number, backlog: number | null) => ({
      protocol,
      address: '0.0.0.0',
      port,
      queued,
      backlog,
    });
    const causeOf = (p: ExchangePacket, sockets: HopFacts['sockets']) =>
      inferCause({
        exchange: exchange('unanswered', { lost: undefined }),
        views: [view({ packet: p, oif: null, expectedIface: null, facts: withCarrier(facts({ sockets })) })],
      });
    const syn = toLocal(6, 8080);
    expect(causeOf(syn, [])).toMatchObject({
      code: 'no-listener',
      summary: 'nothing listens on TCP 10.0.0.1:8080 in r',
    });
    // the service bound to another address: said
    expect(causeOf(syn, [{ ...socket('tcp', 8080, 0, 5), address: '127.0.0.1' }])?.summary).toBe(
      'nothing listens on TCP 10.0.0.1:8080 in r (a socket listens on 127.0.0.1:8080 only)',
    );
    // a listener with room in its accept queue: no cause of the socket
    expect(causeOf(syn, [socket('tcp', 8080, 2, 2)])?.code).not.toMatch(/listener/);
    const full = causeOf(syn, [socket('tcp', 8080, 3, 2)]);
    expect(full).toMatchObject({
      code: 'listener-stalled',
      summary:
        'the accept queue of TCP 10.0.0.1:8080 in r is full (3 connections wait, backlog 2): the kernel drops new SYNs until the application accepts',
    });
    expect(full?.evidence).toContainEqual({
      source: 'socket',
      netns: 'r',
      protocol: 'tcp',
      address: '10.0.0.1',
      port: 8080,
      listening: true,
      queued: 3,
      backlog: 2,
    });
    const query = toLocal(17, 53);
    expect(causeOf(query, [socket('udp', 53, 0, null)])?.code).not.toMatch(/listener/);
    expect(causeOf(query, [socket('udp', 53, 1536, null)])).toMatchObject({
      code: 'listener-stalled',
      summary:
        '1536 bytes wait unread on UDP 10.0.0.1:53 in r: the application behind it does not read them (stopped or busy)',
    });
    // the kernel's word that the receive buffer overflowed, with the state that says why
    const overflow = inferCause({
      exchange: exchange('unanswered', { lost: undefined }),
      views: [
        view({
          packet: query,
          oif: null,
          expectedIface: null,
          facts: withCarrier(facts({ sockets: [socket('udp', 53, 212_000, null)] })),
          drops: [kernelDrop('SOCKET_RCVBUFF', 'sock_queue_rcv_skb_reason+0x4c/0x60')],
        }),
      ],
    });
    expect(overflow?.code).toBe('listener-stalled');
    expect(overflow?.summary).toMatch(
      /^212000 bytes wait unread .*; the kernel dropped it \(SOCKET_RCVBUFF at /,
    );
  });

  it('a ping to a namespace that answers none: the sysctl that says so (broadcast and multicast ones too)', () => {
    const ping = (family: 4 | 6, dst: string): ExchangePacket => ({
      ...packet,
      family,
      proto: family === 6 ? 58 : 1,
      icmpType: family === 6 ? 128 : 8,
      src: family === 6 ? 'fd00::2' : '10.0.0.2',
      dst,
    });
    const causeOf = (p: ExchangePacket, sysctls: Array<[string, string]>) =>
      inferCause({
        exchange: exchange('unanswered', { lost: undefined }),
        views: [
          view({
            packet: p,
            oif: null,
            expectedIface: null,
            facts: withCarrier(facts({ sysctls: new Map(sysctls) })),
          }),
        ],
      });
    const ignoring = (key: string) => ({ source: 'sysctl', netns: 'r', key, value: '1' });
    expect(causeOf(ping(4, '10.0.0.1'), [['net.ipv4.icmp_echo_ignore_all', '1']])).toMatchObject({
      code: 'echo-ignored',
      summary: 'r answers no pings (net.ipv4.icmp_echo_ignore_all = 1)',
      evidence: [ignoring('net.ipv4.icmp_echo_ignore_all')],
    });
    expect(causeOf(ping(4, '10.0.0.1'), [['net.ipv4.icmp_echo_ignore_all', '0']])?.code).not.toBe(
      'echo-ignored',
    );
    // a ping that only passes through is no business of this namespace's switch
    expect(causeOf(ping(4, '192.0.2.9'), [['net.ipv4.icmp_echo_ignore_all', '1']])?.code).not.toBe(
      'echo-ignored',
    );
    const broadcast: Array<[string, string]> = [
      ['net.ipv4.icmp_echo_ignore_all', '0'],
      ['net.ipv4.icmp_echo_ignore_broadcasts', '1'],
    ];
    expect(causeOf(ping(4, '10.0.0.255'), broadcast)?.summary).toBe(
      'r answers no broadcast pings (net.ipv4.icmp_echo_ignore_broadcasts = 1)',
    );
    expect(causeOf(ping(4, '10.0.0.1'), broadcast)?.code).not.toBe('echo-ignored');
    expect(causeOf(ping(6, 'ff02::1'), [['net.ipv6.icmp.echo_ignore_multicast', '1']])?.summary).toBe(
      'r answers no multicast pings (net.ipv6.icmp.echo_ignore_multicast = 1)',
    );
  });

  it('a drop in ip_error: the route error the lookups show, or one they do not (a policy rule by mark)', () => {
    const drop = kernelDrop('NOT_SPECIFIED', 'ip_error+0x94');
    const hidden = inferCause({
      exchange: exchange('unanswered', { lost: undefined }),
      views: [
        view({
          oif: null,
          expectedIface: null,
          facts: withCarrier(facts({ routes: [routed(packet.dst, 'eth1', null, 'eth0')] })),
          drops: [drop],
        }),
      ],
    });
    expect(hidden?.code).toBe('no-route');
    expect(hidden?.summary).toBe(
      `the kernel dropped it on input: its route lookup found a blackhole, unreachable or prohibit route or rule (NOT_SPECIFIED at ip_error+0x94); \`ip route get ${packet.dst} from ${packet.src} iif eth0\` in r finds ${packet.dst} dev eth1, so a policy rule chose another table for this packet (\`ip rule\`: by its firewall mark?)`,
    );
    expect(hidden?.evidence).toEqual([
      drop,
      {
        source: 'route',
        netns: 'r',
        query: `${packet.dst} from ${packet.src} iif eth0`,
        route: `${packet.dst} dev eth1`,
        iface: 'eth1',
      },
    ]);
    // where the plain lookup fails too, the state says which route it is
    const unreachable = {
      query: { dst: packet.dst, from: packet.src, iif: 'eth0' },
      answer: {
        dev: null,
        gateway: null,
        prefsrc: null,
        type: 'unicast',
        error: 'No route to host',
        text: '',
      },
    };
    const shown = inferCause({
      exchange: exchange('unanswered', { lost: undefined }),
      views: [
        view({
          oif: null,
          expectedIface: null,
          facts: withCarrier(facts({ routes: [unreachable] })),
          drops: [drop],
        }),
      ],
    });
    expect(shown?.code).toBe('no-route');
    expect(shown?.summary).toMatch(
      /^no route to 192\.0\.2\.9 in r: No route to host; the kernel dropped it \(NOT_SPECIFIED at ip_error\+0x94\)$/,
    );
  });

  it('nothing found: unknown, with what was looked at and what could not be read', () => {
    const f = facts({
      nftables: { unreadable: 'nft is not installed' },
      links: { unreadable: 'ip addr: not permitted (needs root)' },
    });
    const cause = inferCause({
      exchange: exchange('lost'),
      views: [view({ facts: f, kernelUnreadable: 'needs root' })],
    });
    expect(cause?.code).toBe('unknown');
    expect(cause?.evidence).toEqual(
      expect.arrayContaining([
        { source: 'nftables', netns: 'r', unreadable: 'nft is not installed' },
        { source: 'link', netns: 'r', unreadable: 'ip addr: not permitted (needs root)' },
        { source: 'kernel', netns: 'r', unreadable: 'needs root' },
      ]),
    );
  });
});
