// A router whose main table routes the packet, and whose policy rules send it elsewhere:
// the router's firewall marks echo requests, and `ip rule fwmark 1 lookup 100` meets a
// table with nothing but a blackhole. `ip route get` (told no mark) finds the route; the
// kernel drops the packet in ip_error with no reason of its own. The cause says both,
// and where to look (docs/json-lines.md `cause`, `no-route`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelDropEvidence } from '../../src/events/types.js';
import { inNetns, runAll, runPrefix } from '../lab/support/lab-env.js';
import { downRoutedPair, routedPair } from '../lab/support/routed-pair.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';

describe('a policy rule that sends a forwarded packet to a blackhole', () => {
  const P = runPrefix('prule');
  const [a, r, b] = ['a', 'r', 'b'].map((n) => `${P}${n}`);

  beforeAll(async () => {
    await routedPair(P, 99);
    await runAll(
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

  afterAll(() => downRoutedPair(P));

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
