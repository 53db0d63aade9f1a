// A router whose main table routes the packet, and whose policy rules send it elsewhere:
// the router's firewall marks echo requests, and `ip rule fwmark 1 lookup 100` meets a
// table with nothing but a blackhole. `ip route get` (told no mark) finds the route; the
// kernel drops the packet in ip_error with no reason of its own. The cause says both,
// and where to look (docs/json-lines.md `cause`, `no-route`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelDropEvidence } from '../../src/events/types.js';
import {
  inNetns,
  namespacesStartingWith,
  requireRoot,
  run,
  runAll,
  runPrefix,
} from '../lab/support/lab-env.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';

describe('a policy rule that sends a forwarded packet to a blackhole', () => {
  const P = runPrefix('prule');
  const [a, r, b] = ['a', 'r', 'b'].map((n) => `${P}${n}`);

  beforeAll(async () => {
    requireRoot();
    for (const ns of [a, r, b])
      await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runAll(
      ['ip', '-n', a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'ra', 'netns', r],
      ['ip', '-n', b, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'rb', 'netns', r],
      ['ip', '-n', a, 'addr', 'add', '10.99.1.2/24', 'dev', 'eth0'],
      ['ip', '-n', r, 'addr', 'add', '10.99.1.1/24', 'dev', 'ra'],
      ['ip', '-n', r, 'addr', 'add', '10.99.2.1/24', 'dev', 'rb'],
      ['ip', '-n', b, 'addr', 'add', '10.99.2.2/24', 'dev', 'eth0'],
      ...[
        [a, 'eth0'],
        [r, 'ra'],
        [r, 'rb'],
        [b, 'eth0'],
      ].map(([ns, dev]) => ['ip', '-n', ns, 'link', 'set', dev, 'up']),
      ['ip', '-n', a, 'route', 'add', 'default', 'via', '10.99.1.1'],
      ['ip', '-n', b, 'route', 'add', 'default', 'via', '10.99.2.1'],
      ['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
      [
        'ip',
        'netns',
        'exec',
        r,
        'nft',
        'add table inet m; add chain inet m pre { type filter hook prerouting priority -150; }; add rule inet m pre icmp type echo-request meta mark set 1',
      ],
      ['ip', '-n', r, 'rule', 'add', 'fwmark', '1', 'lookup', '100'],
      ['ip', '-n', r, 'route', 'add', 'blackhole', 'default', 'table', '100'],
    );
  });

  afterAll(async () => {
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
  });

  it('the ping dies in the router; why: a route error the lookup without the mark does not show', async () => {
    const { lines } = await captureWhile(
      ['-i', `${a}/eth0`, '-i', `${r}/ra`, '-i', `${r}/rb`, '-i', `${b}/eth0`],
      4,
      () => inNetns(a, ['ping', '-c1', '-W1', '10.99.2.2']),
      (l) => exchangesOf(l, 'icmp-echo').length > 0,
    );
    const [echo] = exchangesOf(lines, 'icmp-echo');
    // (the server's interface holds its destination and never saw it: docs/verdicts.md "The expected path")
    expect(echo.status).toBe('lost');
    expect(echo.lost).toEqual({ stage: 'request', lastSeen: `${r}/ra`, missingOn: [`${b}/eth0`] });
    expect(echo.stages[0].seen.map((s) => s.iface)).toEqual([`${a}/eth0`, `${r}/ra`]);
    expect(echo.cause?.code).toBe('no-route');
    expect(echo.cause?.at).toBe(`${r}/ra`);
    expect(echo.cause?.summary).toBe(
      `the kernel dropped it on input: its route lookup found a blackhole, unreachable or prohibit route or rule (NOT_SPECIFIED at ${
        (echo.cause?.evidence.find((e) => e.source === 'kernel') as KernelDropEvidence | undefined)
          ?.location ?? '?'
      }); \`ip route get 10.99.2.2 from 10.99.1.2 iif ra\` in ${r} finds 10.99.2.2 dev rb, so a policy rule chose another table for this packet (\`ip rule\`: by its firewall mark?)`,
    );
    expect(echo.cause?.evidence).toContainEqual(
      expect.objectContaining({ source: 'kernel', netns: r, reason: 'NOT_SPECIFIED', matchedBy: 'packet' }),
    );
    expect(echo.cause?.evidence).toContainEqual({
      source: 'route',
      netns: r,
      query: '10.99.2.2 from 10.99.1.2 iif ra',
      route: '10.99.2.2 dev rb',
      iface: 'rb',
    });
  }, 60_000);
});
