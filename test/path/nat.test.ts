// NAT as `path` reads it from `nft -j list ruleset`: which rewrite a packet meets, through
// the jumps iptables-nft makes (neutron's chains), and the rules it cannot judge.
import { describe, expect, it } from 'vitest';
import { evaluateNat, parseNftNat, type NatPacket } from '../../src/path/nat.js';

const chain = (name: string, hook?: string, prio = 0): unknown => ({
  chain: { family: 'ip', table: 'nat', name, ...(hook !== undefined ? { type: 'nat', hook, prio } : {}) },
});
const rule = (chainName: string, handle: number, ...expr: unknown[]): unknown => ({
  rule: { family: 'ip', table: 'nat', chain: chainName, handle, expr },
});
const match = (left: unknown, right: unknown, op = '=='): unknown => ({ match: { op, left, right } });
const daddr = { payload: { protocol: 'ip', field: 'daddr' } };
const saddr = { payload: { protocol: 'ip', field: 'saddr' } };

// What iptables-nft makes of a neutron L3 agent's floating IP rules.
const NEUTRON = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'ip', name: 'nat' } },
    chain('PREROUTING', 'prerouting', -100),
    chain('POSTROUTING', 'postrouting', 100),
    chain('neutron-l3-agent-PREROUTING'),
    chain('neutron-l3-agent-float-snat'),
    rule(
      'PREROUTING',
      1,
      { counter: { packets: 0, bytes: 0 } },
      { jump: { target: 'neutron-l3-agent-PREROUTING' } },
    ),
    rule('neutron-l3-agent-PREROUTING', 2, match({ meta: { key: 'mark' } }, 1), { accept: null }),
    rule('neutron-l3-agent-PREROUTING', 3, match(daddr, '203.0.113.20'), { dnat: { addr: '10.0.0.5' } }),
    rule('POSTROUTING', 4, { jump: { target: 'neutron-l3-agent-float-snat' } }),
    rule('POSTROUTING', 5, match({ meta: { key: 'oifname' } }, 'qg-*'), { masquerade: null }),
    rule('neutron-l3-agent-float-snat', 6, match(saddr, { prefix: { addr: '10.0.0.5', len: 32 } }), {
      snat: { addr: '203.0.113.20' },
    }),
    rule('neutron-l3-agent-float-snat', 7, { return: null }),
  ],
});

const packet = (over: Partial<NatPacket>): NatPacket => ({
  family: 4,
  src: '203.0.113.1',
  dst: '203.0.113.20',
  proto: 'icmp',
  sport: null,
  dport: null,
  iif: 'qg-1',
  oif: null,
  ...over,
});

describe('nat from nft -j', () => {
  const { rules, problems } = parseNftNat(NEUTRON);

  it('follows the jump to neutron’s chain: DNAT of the floating IP, saying which rule', () => {
    expect(problems).toEqual([]);
    const o = evaluateNat(rules, 'prerouting', packet({}));
    expect(o.action).toEqual({ kind: 'dnat', addr: '10.0.0.5', port: null });
    expect(o.rule).toBe('nat/neutron-l3-agent-PREROUTING #3');
    // the mark rule before it cannot be judged for one packet: said, and passed over
    expect(o.unsure).toEqual(['nat/neutron-l3-agent-PREROUTING #2']);
  });

  it('SNAT of the fixed IP before the masquerade after the chain returns; others are masqueraded', () => {
    expect(
      evaluateNat(rules, 'postrouting', packet({ src: '10.0.0.5', dst: '203.0.113.1', oif: 'qg-1' })).action,
    ).toEqual({
      kind: 'snat',
      addr: '203.0.113.20',
      port: null,
    });
    expect(
      evaluateNat(rules, 'postrouting', packet({ src: '10.0.0.6', dst: '203.0.113.1', oif: 'qg-1' })).action,
    ).toEqual({
      kind: 'masquerade',
    });
    expect(
      evaluateNat(rules, 'postrouting', packet({ src: '10.0.0.6', dst: '10.1.0.1', oif: 'qr-1' })).action,
    ).toBeNull();
  });

  it('ports: tcp dport needs a tcp packet; a port range and a set', () => {
    const r = parseNftNat(
      JSON.stringify({
        nftables: [
          chain('pre', 'prerouting'),
          rule(
            'pre',
            1,
            match({ payload: { protocol: 'tcp', field: 'dport' } }, { set: [22, { range: [8000, 8100] }] }),
            {
              dnat: { addr: '127.0.0.1', port: 8080 },
            },
          ),
        ],
      }),
    ).rules;
    const at = (proto: string, dport: number) =>
      evaluateNat(r, 'prerouting', packet({ proto, dport, sport: 40000 })).action;
    expect(at('tcp', 8050)).toEqual({ kind: 'dnat', addr: '127.0.0.1', port: 8080 });
    expect(at('tcp', 22)).not.toBeNull();
    expect(at('tcp', 80)).toBeNull();
    expect(at('udp', 22)).toBeNull();
  });

  it('no ruleset, or output that is not JSON: no rules, the latter said', () => {
    expect(parseNftNat('')).toEqual({ rules: [], problems: [] });
    expect(parseNftNat('Error: Could not process rule').problems[0]).toMatch(/not JSON/);
  });
});
