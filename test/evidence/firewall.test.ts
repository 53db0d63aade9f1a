// Reading rulesets the way an expert does, on what the real tools print: a ruleset
// loaded into a namespace, read back with `nft -j` / `nft -a` and `iptables-save -c`
// (both backends), and walked for packets — which drop or reject rule each one meets,
// whether it certainly fits or only may (a match that cannot be decided), and the rule's
// handle and text as nft shows them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangePacket } from '../../src/evidence/context.js';
import { hookPasses, type HookPass } from '../../src/evidence/firewall/hooks.js';
import type { LinkInfo } from '../../src/evidence/state/links.js';
import { iptablesCandidates } from '../../src/evidence/firewall/iptables-save.js';
import { evaluateRule } from '../../src/evidence/firewall/nft-match.js';
import { parseNftRuleset, type NftRuleset } from '../../src/evidence/firewall/nft-ruleset.js';
import { nftCandidates } from '../../src/evidence/firewall/nft-walk.js';
import { HopReader } from '../../src/evidence/state/hop-reader.js';
import { isUnreadable } from '../../src/evidence/state/hop-facts.js';
import { requireRoot, Topology } from '../native/netns-topology.js';
import { handleOf } from './support/cause-run.js';

const RULESET = `table bridge sg {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "qvb*" oifname "tap7aa08012-d0" icmp type echo-request drop
    iifname "qvb7aa08012-d0" tcp dport { 22, 80-90 } counter drop
    ether type arp accept
  }
}
table inet f {
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    ip saddr 10.0.0.0/8 ip daddr { 192.0.2.1, 198.51.100.0/24 } udp dport 53 reject
    tcp flags & (syn | ack) == syn tcp dport != 22 drop
    ip6 nexthdr ipv6-icmp icmpv6 type echo-request drop
    jump more
  }
  chain more {
    meta l4proto udp udp sport 67 drop
    ip length > 1000 drop
    tcp flags syn,ack tcp sport 8080 drop
  }
  chain out {
    type filter hook output priority filter; policy drop;
    oifname "lo" accept
  }
}
table netdev edge {
  chain in_b0 {
    type filter hook ingress device "b0" priority filter; policy accept;
    icmp type echo-reply drop
  }
  chain out_b {
    type filter hook egress devices = { b0, b1 } priority filter; policy accept;
    udp dport 9 drop
  }
}
`;

function packet(p: Partial<ExchangePacket>): ExchangePacket {
  return {
    family: 4,
    src: '10.1.2.3',
    dst: '198.51.100.7',
    proto: 1,
    ipId: 7,
    ipLength: 84,
    sport: null,
    dport: null,
    icmpType: 8,
    icmpId: 1,
    icmpSeq: 1,
    tcpSeq: null,
    tcpFlags: null,
    dontFragment: false,
    ttl: 64,
    aliases: [],
    ...p,
  };
}

const bridgeForward = (iif: string, oif: string): HookPass[] => [
  { layer: 'bridge', hook: 'forward', iifname: iif, oifname: oif },
];
const input = (iif: string | null): HookPass[] => [
  { layer: 'ip', hook: 'input', iifname: iif, oifname: null },
];

describe('nftables ruleset reader', () => {
  const topo = new Topology('fw');
  let ruleset: NftRuleset;
  let text = '';

  beforeAll(async () => {
    requireRoot();
    await topo.up();
    await topo.inB(['nft', RULESET]);
    text = await topo.inB(['nft', '-a', 'list', 'ruleset']);
    ruleset = parseNftRuleset(await topo.inB(['nft', '-j', 'list', 'ruleset']), text);
  });
  afterAll(async () => topo.down());

  const handles = (found: ReturnType<typeof nftCandidates>): Array<[number | null, string]> =>
    found.map((c) => [c.rule?.handle ?? null, c.fit.fits]);

  it('names each rule by its handle and its own text, counter values left out', () => {
    const rule = ruleset.rules.find((r) => r.text.includes('tcp dport'));
    expect(rule).toMatchObject({
      family: 'bridge',
      table: 'sg',
      chain: 'forward',
      verdict: { kind: 'drop' },
      packets: 0,
    });
    expect(rule?.text).toBe('iifname "qvb7aa08012-d0" tcp dport { 22, 80-90 } counter drop');
    expect(rule?.handle).toBe(handleOf(text, 'bridge sg', 'tcp dport { 22, 80-90 }'));
    expect(ruleset.chains.find((c) => c.name === 'out')).toMatchObject({
      hook: 'output',
      policy: 'drop',
      family: 'inet',
    });
  });

  it.each([
    [
      'an echo request from a qvb port to the tap (interface wildcard)',
      'qvb0000',
      'tap7aa08012-d0',
      packet({}),
      'icmp type echo-request drop',
    ],
    [
      'a SYN to port 85 (a range in a set)',
      'qvb7aa08012-d0',
      'tap7aa08012-d0',
      packet({ proto: 6, icmpType: null, sport: 4000, dport: 85, tcpFlags: 2 }),
      'tcp dport { 22, 80-90 }',
    ],
  ])('bridge forward: %s is dropped', (_what, iif, oif, p, rule) => {
    const found = nftCandidates(ruleset, bridgeForward(iif, oif), p, null);
    expect(handles(found)).toEqual([[handleOf(text, 'bridge sg', rule), 'yes']]);
  });

  it.each([
    ['an echo reply', packet({ icmpType: 0 })],
    ['an echo request to another port', packet({})],
    ['a SYN to port 23', packet({ proto: 6, icmpType: null, dport: 23, tcpFlags: 2 })],
  ])('bridge forward: %s meets no drop', (what, p) => {
    const oif = what.includes('another port') ? 'tap0000' : 'tap7aa08012-d0';
    expect(nftCandidates(ruleset, bridgeForward('qvb7aa08012-d0', oif), p, null)).toEqual([]);
  });

  it('input: what ct state may accept first is undecided; the certain drops after it end the walk', () => {
    const dns = packet({ proto: 17, icmpType: null, sport: 5353, dport: 53, ipLength: 60 });
    const reject = handleOf(text, 'inet f', 'udp dport 53 reject');
    expect(handles(nftCandidates(ruleset, input('b0'), dns, null))).toEqual([[reject, 'yes']]);
    // known to be established: accepted by the first rule
    expect(nftCandidates(ruleset, input('b0'), dns, 'established')).toEqual([]);
    // another destination: no reject
    expect(nftCandidates(ruleset, input('b0'), { ...dns, dst: '203.0.113.9' }, 'new')).toEqual([]);
  });

  it('input: TCP flags under a mask, a negated port, a jump, a length comparison', () => {
    const syn = packet({ proto: 6, icmpType: null, sport: 4000, dport: 80, tcpFlags: 0x02 });
    expect(handles(nftCandidates(ruleset, input(null), syn, 'new'))).toEqual([
      [handleOf(text, 'inet f', 'tcp dport != 22 drop'), 'yes'],
    ]);
    expect(nftCandidates(ruleset, input(null), { ...syn, dport: 22 }, 'new')).toEqual([]);
    expect(nftCandidates(ruleset, input(null), { ...syn, tcpFlags: 0x12 }, 'new')).toEqual([]);
    const dhcp = packet({ proto: 17, icmpType: null, sport: 67, dport: 68 });
    expect(handles(nftCandidates(ruleset, input(null), dhcp, 'new'))).toEqual([
      [handleOf(text, 'inet f', 'udp sport 67 drop'), 'yes'],
    ]);
    const big = packet({ ipLength: 1400 });
    expect(handles(nftCandidates(ruleset, input(null), big, 'new'))).toEqual([
      [handleOf(text, 'inet f', 'ip length > 1000 drop'), 'yes'],
    ]);
    // flags against a list: any of them set (a SYN-ACK, a bare ACK), not a FIN alone
    const fromServer = packet({ proto: 6, icmpType: null, sport: 8080, dport: 4000, tcpFlags: 0x12 });
    const flagsRule = handleOf(text, 'inet f', 'tcp flags syn,ack tcp sport 8080 drop');
    expect(handles(nftCandidates(ruleset, input(null), fromServer, 'new'))).toEqual([[flagsRule, 'yes']]);
    expect(handles(nftCandidates(ruleset, input(null), { ...fromServer, tcpFlags: 0x10 }, 'new'))).toEqual([
      [flagsRule, 'yes'],
    ]);
    expect(nftCandidates(ruleset, input(null), { ...fromServer, tcpFlags: 0x01 }, 'new')).toEqual([]);
  });

  it('IPv6: the ip6 and icmpv6 matches, never the IPv4 ones', () => {
    const v6 = packet({
      family: 6,
      src: '2001:db8::1',
      dst: '2001:db8::2',
      proto: 58,
      ipId: null,
      icmpType: 128,
    });
    expect(handles(nftCandidates(ruleset, input(null), v6, 'new'))).toEqual([
      [handleOf(text, 'inet f', 'icmpv6 type echo-request drop'), 'yes'],
    ]);
  });

  it('a chain’s drop policy is where the walk falls off it', () => {
    const out: HookPass[] = [{ layer: 'ip', hook: 'output', iifname: null, oifname: 'b0' }];
    const found = nftCandidates(ruleset, out, packet({}), 'new');
    expect(found).toHaveLength(1);
    expect(found[0].rule).toBeNull();
    expect(found[0].chain).toMatchObject({ name: 'out', policy: 'drop' });
    expect(nftCandidates(ruleset, [{ ...out[0], oifname: 'lo' }], packet({}), 'new')).toEqual([]);
  });

  it('netdev: a chain hooks the devices nft names, one or a set (its JSON may leave them out)', () => {
    expect(ruleset.chains.find((c) => c.name === 'in_b0')?.devices).toEqual(['b0']);
    expect(ruleset.chains.find((c) => c.name === 'out_b')?.devices).toEqual(['b0', 'b1']);
    const ingress = (dev: string): HookPass[] => [
      { layer: 'netdev', hook: 'ingress', iifname: dev, oifname: null },
    ];
    const egress = (dev: string): HookPass[] => [
      { layer: 'netdev', hook: 'egress', iifname: null, oifname: dev },
    ];
    const reply = packet({ icmpType: 0 });
    expect(handles(nftCandidates(ruleset, ingress('b0'), reply, null))).toEqual([
      [handleOf(text, 'netdev edge', 'icmp type echo-reply drop'), 'yes'],
    ]);
    expect(nftCandidates(ruleset, ingress('b1'), reply, null)).toEqual([]);
    const discard = packet({ proto: 17, icmpType: null, sport: 4000, dport: 9 });
    expect(handles(nftCandidates(ruleset, egress('b1'), discard, null))).toEqual([
      [handleOf(text, 'netdev edge', 'udp dport 9 drop'), 'yes'],
    ]);
    expect(nftCandidates(ruleset, egress('b2'), discard, null)).toEqual([]);
  });

  it('an address the packet had only before a NAT on its path is undecided, not a match', () => {
    const rule = ruleset.rules.find((r) => r.text.includes('udp dport 53 reject'));
    const natted = packet({
      proto: 17,
      icmpType: null,
      dport: 53,
      dst: '203.0.113.9',
      aliases: ['192.0.2.1'],
    });
    expect(
      evaluateRule(rule?.matches ?? [], { packet: natted, iifname: null, oifname: null, ctState: null }),
    ).toEqual({
      fits: 'unknown',
      undecided: ['ip daddr (NAT)'],
    });
  });
});

describe('iptables-save reader (both backends)', () => {
  const topo = new Topology('ipt');
  const RULES = `*filter
:nova-compute-inst-1 - [0:0]
-A FORWARD -d 10.0.0.10/32 -j nova-compute-inst-1
-A nova-compute-inst-1 -m state --state RELATED,ESTABLISHED -j ACCEPT
-A nova-compute-inst-1 -p icmp -m icmp --icmp-type 8 -j DROP
-A nova-compute-inst-1 ! -s 10.0.0.0/24 -i eth+ -p tcp -m tcp --dport 22 -j REJECT --reject-with icmp-port-unreachable
-A nova-compute-inst-1 -p udp -m multiport --dports 53,67:68 -j DROP
-A INPUT -m mark --mark 0x1 -j DROP
COMMIT
`;
  beforeAll(async () => {
    requireRoot();
    await topo.up();
  });
  afterAll(async () => topo.down());

  for (const backend of ['legacy', 'nft'] as const) {
    it(`${backend}: rules with their counters, walked through a user chain`, async () => {
      const ns = backend === 'legacy' ? topo.nsA : topo.nsB;
      const { spawnSync } = await import('node:child_process');
      const restore = spawnSync('ip', ['netns', 'exec', ns, `iptables-${backend}-restore`, '--noflush'], {
        input: RULES,
        encoding: 'utf8',
      });
      expect(restore.status, restore.stderr).toBe(0);
      const [facts] = await new HopReader().read(null, [
        {
          netns: ns,
          request: {
            links: true,
            routes: [],
            sysctlDevices: [],
            sockets: false,
            conntrack: false,
            firewall: true,
          },
        },
      ]);
      const read = facts.iptables?.find((i) => i.backend === backend && i.family === 'ip');
      if (read === undefined || isUnreadable(read.ruleset))
        throw new Error(`not read: ${JSON.stringify(read)}`);
      const rs = read.ruleset;
      expect(rs.chains.find((c) => c.name === 'nova-compute-inst-1')).toEqual({
        table: 'filter',
        name: 'nova-compute-inst-1',
        policy: null,
      });
      const forward: HookPass[] = [{ layer: 'ip', hook: 'forward', iifname: 'eth1', oifname: 'br100' }];
      const echo = packet({ src: '203.0.113.10', dst: '10.0.0.10' });
      const found = iptablesCandidates(rs, forward, echo, null);
      expect(found.map((c) => [c.rule?.text, c.fits])).toEqual([
        ['-A nova-compute-inst-1 -p icmp -m icmp --icmp-type 8 -j DROP', 'yes'],
      ]);
      // an established reply is accepted first
      expect(iptablesCandidates(rs, forward, echo, 'established')).toEqual([]);
      const ssh = packet({
        src: '203.0.113.10',
        dst: '10.0.0.10',
        proto: 6,
        icmpType: null,
        dport: 22,
        tcpFlags: 2,
      });
      expect(iptablesCandidates(rs, forward, ssh, null).map((c) => [c.rule?.target, c.fits])).toEqual([
        ['REJECT', 'yes'],
      ]);
      expect(iptablesCandidates(rs, forward, { ...ssh, src: '10.0.0.7' }, null)).toEqual([]);
      const dns = packet({ src: '203.0.113.10', dst: '10.0.0.10', proto: 17, icmpType: null, dport: 68 });
      expect(iptablesCandidates(rs, forward, dns, null)).toHaveLength(1);
      // a match module this reader does not know: undecided, named
      const inputHook: HookPass[] = [{ layer: 'ip', hook: 'input', iifname: 'eth1', oifname: null }];
      expect(iptablesCandidates(rs, inputHook, echo, null).map((c) => [c.fits, c.undecided])).toEqual([
        ['unknown', ['-m mark']],
      ]);
    });
  }

  it('iptables-nft rules also listed by nft are reported as iptables rules, once', async () => {
    const { inferCause } = await import('../../src/evidence/infer.js');
    const [facts] = await new HopReader().read(null, [
      {
        netns: topo.nsB,
        request: {
          links: true,
          routes: [],
          sysctlDevices: [],
          sockets: false,
          conntrack: false,
          firewall: true,
        },
      },
    ]);
    const echo = packet({ src: '203.0.113.10', dst: '10.0.0.10' });
    const cause = inferCause({
      exchange: {
        type: 'exchange',
        kind: 'icmp-echo',
        key: 'k',
        flow: { src: null, dst: null, id: 0, seq: 0 },
        status: 'lost',
        stages: [],
        ts: '1.0',
        lost: { stage: 'request', lastSeen: 'b0', missingOn: ['b1'] },
      },
      views: [
        {
          label: 'b0',
          role: 'last-seen',
          packet: echo,
          which: 'missing',
          iif: 'b0',
          oif: 'b1',
          expectedIface: 'b1',
          entered: null,
          encapsulation: 0,
          facts,
          before: null,
          drops: [],
          kernelUnreadable: null,
        },
      ],
    });
    expect(cause?.code).toBe('netfilter-drop');
    expect(cause?.evidence.filter((e) => e.source === 'nftables' || e.source === 'iptables')).toEqual([
      expect.objectContaining({ source: 'iptables', backend: 'nft', chain: 'nova-compute-inst-1' }),
    ]);
    expect(hookPasses(echo, 'b0', 'b1', null).some((p) => p.hook === 'forward')).toBe(true);
  });
});

describe('the hooks a packet crosses', () => {
  const link = (
    name: string,
    kind: string | null,
    master: string | null,
    addresses: string[] = [],
  ): LinkInfo => ({
    ifindex: 0,
    name,
    up: true,
    carrier: true,
    operstate: 'UP',
    mtu: 1500,
    master,
    kind,
    portState: master !== null ? 'forwarding' : null,
    addresses: addresses.map((local) => ({ family: 'inet' as const, local, prefixlen: 24 })),
    vxlanUnderlay: null,
    noArp: false,
    mac: null,
  });
  const links = [
    link('br0', 'bridge', null, ['10.9.0.1']),
    link('p1', 'veth', 'br0'),
    link('p2', 'veth', 'br0'),
    link('eth1', 'veth', null, ['192.0.2.1']),
  ];
  const echo = packet({ src: '10.9.0.5', dst: '10.9.0.6' });

  it('seen on the bridge device after entering by one of its ports: bridged between the ports', () => {
    expect(hookPasses(echo, 'br0', 'p1', links, 'p2')).toEqual(
      expect.arrayContaining([
        { layer: 'bridge', hook: 'prerouting', iifname: 'p2', oifname: null },
        { layer: 'bridge', hook: 'forward', iifname: 'p2', oifname: 'p1' },
        { layer: 'bridge', hook: 'postrouting', iifname: null, oifname: 'p1' },
      ]),
    );
    expect(hookPasses(echo, 'br0', 'p1', links, 'p2').some((p) => p.layer === 'ip')).toBe(false);
  });

  it('seen on the bridge device after entering by a routed device: forwarded into the bridge, out of its port', () => {
    const routed = packet({ src: '198.51.100.7', dst: '10.9.0.6' });
    expect(hookPasses(routed, 'br0', 'p1', links, 'eth1')).toEqual(
      expect.arrayContaining([
        { layer: 'ip', hook: 'forward', iifname: 'eth1', oifname: 'br0' },
        { layer: 'bridge', hook: 'output', iifname: null, oifname: 'p1' },
      ]),
    );
  });

  it('bridged, with br_netfilter handing bridged IP to the IP hooks: those too, with the bridge as device', () => {
    const bridged = hookPasses(echo, 'p2', 'p1', links, null, true);
    expect(bridged.filter((p) => p.layer === 'ip')).toEqual([
      { layer: 'ip', hook: 'prerouting', iifname: 'br0', oifname: null, bridged: true },
      { layer: 'ip', hook: 'forward', iifname: 'br0', oifname: 'br0', bridged: true },
      { layer: 'ip', hook: 'postrouting', iifname: null, oifname: 'br0', bridged: true },
    ]);
    // without the switch, none
    expect(hookPasses(echo, 'p2', 'p1', links, null, false).some((p) => p.layer === 'ip')).toBe(false);
    // the port it leaves by unknown: bridged when the bridge holds no address to route with
    const bare = links.map((l) => (l.name === 'br0' ? { ...l, addresses: [] } : l));
    expect(hookPasses(echo, 'p2', null, bare, null, true).filter((p) => p.layer === 'ip')).toHaveLength(3);
    expect(hookPasses(echo, 'p2', null, bare, null, true).every((p) => p.layer !== 'ip' || p.bridged)).toBe(
      true,
    );
    // one that holds one may route it: the IP stack's own hooks, on the bridge device
    expect(hookPasses(echo, 'p2', null, links, null, true).some((p) => p.bridged === true)).toBe(false);
  });

  it('entering by the device it was seen on: as before', () => {
    expect(hookPasses(echo, 'p2', 'p1', links, null)).toEqual(hookPasses(echo, 'p2', 'p1', links));
    // a device that is not a bridge keeps its own hooks whatever came before it
    expect(hookPasses(echo, 'eth1', 'p1', links, 'p2')).toEqual(hookPasses(echo, 'eth1', 'p1', links));
  });
});
