// The route lookup `path` makes over listed rules and tables: what `ip route get` would
// answer — longest prefix, metric, policy rules by source and incoming interface, throw
// and unreachable.
import { describe, expect, it } from 'vitest';
import { parseAddress, type Address } from '../../src/path/address.js';
import { lookupRoute } from '../../src/path/route-lookup.js';
import { parseRoutes, parseRules, parseSysctls, type NamespaceState } from '../../src/path/snapshot.js';

// `ip -4 -j route show table all` and `ip -4 -j rule show` of a namespace with a
// policy route for one tenant subnet (as written by iproute2 6.1).
const ROUTES = JSON.stringify([
  { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', flags: [] },
  { dst: '10.0.0.0/8', gateway: '192.0.2.9', dev: 'eth0', metric: 100, flags: [] },
  { dst: '10.0.0.0/8', gateway: '192.0.2.8', dev: 'eth0', metric: 50, flags: [] },
  { dst: '10.1.0.0/16', dev: 'tun0', scope: 'link', flags: [] },
  { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.0.2.2', flags: [] },
  { type: 'unreachable', dst: '10.66.0.0/16', flags: [] },
  { dst: 'default', gateway: '198.51.100.1', dev: 'eth1', table: '100', flags: [] },
  { type: 'throw', dst: '10.1.0.0/16', table: '100', flags: [] },
  { type: 'local', dst: '192.0.2.2', dev: 'eth0', table: 'local', prefsrc: '192.0.2.2', flags: [] },
  {
    dst: '10.2.0.0/16',
    nexthops: [
      { gateway: '192.0.2.3', dev: 'eth0', weight: 1, flags: [] },
      { gateway: '192.0.2.4', dev: 'eth0', weight: 1, flags: [] },
    ],
    flags: [],
  },
]);
const RULES = JSON.stringify([
  { priority: 0, src: 'all', table: 'local' },
  { priority: 100, src: '10.9.0.0', srclen: 24, table: '100' },
  { priority: 101, src: 'all', iif: 'eth9', action: 'blackhole' },
  { priority: 32766, src: 'all', table: 'main' },
  { priority: 32767, src: 'all', table: 'default' },
]);

function ns(rules = RULES): NamespaceState {
  return {
    name: 'r',
    inode: '1',
    links: [],
    routes: parseRoutes(ROUTES, 4),
    rules: parseRules(rules, 4),
    neighbours: [],
    fdb: [],
    nsids: new Map(),
    nat: [],
    ...parseSysctls('/proc/sys/net/ipv4/ip_forward:1\n'),
    problems: [],
  };
}

const a = (text: string): Address => parseAddress(text) as Address;
const get = (state: NamespaceState, dst: string, src: string | null = null, iif: string | null = null) => {
  const r = lookupRoute(state, {
    family: 4,
    dst: a(dst),
    src: src === null ? null : a(src),
    iif,
    proto: 'icmp',
    dport: null,
  });
  return { verdict: r.verdict, dev: r.route?.dev ?? null, via: r.route?.gateway?.text ?? null };
};

describe('route lookup over listed tables', () => {
  it('longest prefix first, then the lower metric; local addresses from the local table; multipath: the first next hop', () => {
    const s = ns();
    expect(get(s, '10.1.2.3')).toEqual({ verdict: 'unicast', dev: 'tun0', via: null });
    expect(get(s, '10.5.0.1')).toEqual({ verdict: 'unicast', dev: 'eth0', via: '192.0.2.8' });
    expect(get(s, '203.0.113.9')).toEqual({ verdict: 'unicast', dev: 'eth0', via: '192.0.2.1' });
    expect(get(s, '192.0.2.2').verdict).toBe('local');
    expect(get(s, '10.66.1.1').verdict).toBe('unreachable');
    expect(get(s, '10.2.0.9')).toEqual({ verdict: 'unicast', dev: 'eth0', via: '192.0.2.3' });
  });

  it('policy rules: by source to table 100, whose throw goes on to main; by incoming interface; a mark rule with not', () => {
    // `not fwmark 0x1/0xff`: an unmarked packet matches it, so everything goes to table 100 first
    const withMark = JSON.parse(RULES) as unknown[];
    withMark.splice(3, 0, {
      priority: 102,
      not: null,
      src: 'all',
      fwmark: '0x1',
      fwmask: '0xff',
      table: '100',
    });
    expect(get(ns(JSON.stringify(withMark)), '203.0.113.9')).toEqual({
      verdict: 'unicast',
      dev: 'eth1',
      via: '198.51.100.1',
    });
    // `fwmark 0x1/0xff` alone: an unmarked packet does not match
    withMark[3] = { priority: 102, src: 'all', fwmark: '0x1', fwmask: '0xff', table: '100' };
    expect(get(ns(JSON.stringify(withMark)), '203.0.113.9').dev).toBe('eth0');
    const s = ns();
    expect(get(s, '203.0.113.9', '10.9.0.7')).toEqual({
      verdict: 'unicast',
      dev: 'eth1',
      via: '198.51.100.1',
    });
    expect(get(s, '10.1.0.7', '10.9.0.7')).toEqual({ verdict: 'unicast', dev: 'tun0', via: null });
    expect(get(s, '203.0.113.9', '10.8.0.7')).toEqual({ verdict: 'unicast', dev: 'eth0', via: '192.0.2.1' });
    expect(get(s, '203.0.113.9', null, 'eth9').verdict).toBe('blackhole');
  });

  it('no rules listed: local, main, default', () => {
    const s = ns('[]');
    expect(get(s, '10.1.2.3').dev).toBe('tun0');
  });
});
