// A router whose neighbour entry for the server names another MAC than the server's (an
// address moved to another VM, a static entry left behind): every frame it forwards
// there is addressed to a MAC nobody owns, and the server's kernel drops each as another
// host's (OTHERHOST). The server's own hop shows nothing wrong; the router's entry is the
// cause (docs/json-lines.md `cause`, `wrong-neighbour`), for IPv4 (ARP) and IPv6 (NDP).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bridgePortsForwarding,
  inNetns,
  namespacesStartingWith,
  requireRoot,
  run,
  runAll,
  runPrefix,
} from '../lab/support/lab-env.js';
import { downRoutedPair, routedPair } from '../lab/support/routed-pair.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';

const WRONG_MAC = '02:00:00:00:00:99';

describe('a router whose neighbour entry for the server names another MAC', () => {
  const P = runPrefix('neigh');
  const [a, r, b] = ['a', 'r', 'b'].map((n) => `${P}${n}`);
  let serverMac = '';

  beforeAll(async () => {
    await routedPair(P, 95, { ipv6: true });
    await runAll(
      ['ip', '-n', r, 'neigh', 'replace', '10.95.2.2', 'lladdr', WRONG_MAC, 'dev', 'rb', 'nud', 'permanent'],
      ['ip', '-n', r, 'neigh', 'replace', 'fd95:2::2', 'lladdr', WRONG_MAC, 'dev', 'rb', 'nud', 'permanent'],
    );
    const link = JSON.parse((await run(['ip', '-n', b, '-j', 'link', 'show', 'eth0'])).stdout) as Array<{
      address: string;
    }>;
    serverMac = link[0].address;
  });

  afterAll(() => downRoutedPair(P));

  for (const [family, kind, server, ping] of [
    ['IPv4', 'icmp-echo', '10.95.2.2', ['ping', '-c1', '-W1', '10.95.2.2']],
    ['IPv6', 'icmpv6-echo', 'fd95:2::2', ['ping', '-6', '-c1', '-W1', 'fd95:2::2']],
  ] as const) {
    it(`${family}: the ping reaches the server's device and dies there; why: the router's entry`, async () => {
      const { lines } = await captureWhile(
        ['-i', `${a}/eth0`, '-i', `${r}/ra`, '-i', `${r}/rb`, '-i', `${b}/eth0`],
        4,
        () => inNetns(a, [...ping]).catch(() => undefined),
        (l) => exchangesOf(l, kind).length > 0,
      );
      const [echo] = exchangesOf(lines, kind);
      expect(echo.status).toBe('unanswered');
      expect(echo.lost?.lastSeen).toBe(`${b}/eth0`);
      expect(echo.cause?.code).toBe('wrong-neighbour');
      expect(echo.cause?.at).toBe(`${r}/rb`);
      expect(echo.cause?.summary).toMatch(
        new RegExp(
          `^${r}'s neighbour entry for ${server} on rb is ${WRONG_MAC} \\(PERMANENT\\), not eth0's ${serverMac}: ${b} dropped it as addressed to another host \\(OTHERHOST at ip6?_rcv_core\\+0x[0-9a-f]+\\)$`,
        ),
      );
      expect(echo.cause?.evidence).toContainEqual({
        source: 'neighbour',
        netns: r,
        iface: 'rb',
        address: server,
        state: ['PERMANENT'],
        lladdr: WRONG_MAC,
      });
      expect(echo.cause?.evidence).toContainEqual(
        expect.objectContaining({ source: 'link', netns: b, iface: 'eth0', mac: serverMac }),
      );
    }, 60_000);
  }
});

// The server's address moved from VM c to VM b on one bridge, and the router still has
// c's MAC for it: c gets the frames and, no router, cannot route them (forwarding off) —
// true, and no cause. The router's entry, naming c's MAC, is.
describe('an address that moved to another VM while the router kept the old MAC', () => {
  const P = runPrefix('moved');
  const [a, r, sw, b, c] = ['a', 'r', 'sw', 'b', 'c'].map((n) => `${P}${n}`);
  let oldMac = '';

  beforeAll(async () => {
    requireRoot();
    for (const ns of [a, r, sw, b, c])
      await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runAll(
      ['ip', '-n', a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'ra', 'netns', r],
      ['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', '-n', r, 'link', 'add', 'rb', 'type', 'veth', 'peer', 'name', 'pr', 'netns', sw],
      ['ip', '-n', b, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'pb', 'netns', sw],
      ['ip', '-n', c, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'pc', 'netns', sw],
      ...['pr', 'pb', 'pc'].map((p) => ['ip', '-n', sw, 'link', 'set', p, 'master', 'br0']),
      ...[
        [a, '10.94.1.2/24', 'eth0'],
        [r, '10.94.1.1/24', 'ra'],
        [r, '10.94.2.1/24', 'rb'],
        [b, '10.94.2.2/24', 'eth0'],
        [c, '10.94.2.3/24', 'eth0'],
      ].map(([ns, addr, dev]) => ['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev]),
      ...[
        [a, 'eth0'],
        [r, 'ra'],
        [r, 'rb'],
        [sw, 'br0'],
        [sw, 'pr'],
        [sw, 'pb'],
        [sw, 'pc'],
        [b, 'eth0'],
        [c, 'eth0'],
      ].map(([ns, dev]) => ['ip', '-n', ns, 'link', 'set', dev, 'up']),
      ['ip', '-n', a, 'route', 'add', 'default', 'via', '10.94.1.1'],
      ['ip', '-n', b, 'route', 'add', 'default', 'via', '10.94.2.1'],
      ['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
    );
    const link = JSON.parse((await run(['ip', '-n', c, '-j', 'link', 'show', 'eth0'])).stdout) as Array<{
      address: string;
    }>;
    oldMac = link[0].address;
    await run([
      'ip',
      '-n',
      r,
      'neigh',
      'replace',
      '10.94.2.2',
      'lladdr',
      oldMac,
      'dev',
      'rb',
      'nud',
      'permanent',
    ]);
    await bridgePortsForwarding(sw, ['pr', 'pb', 'pc']);
  });

  afterAll(async () => {
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
  });

  it('the ping ends in the old VM, not the new one; why: the router’s entry, not the old VM’s forwarding', async () => {
    const { lines } = await captureWhile(
      ['-i', `${a}/eth0`, '-i', `${r}/ra`, '-i', `${r}/rb`, '-i', `${b}/eth0`, '-i', `${c}/eth0`],
      5,
      () => inNetns(a, ['ping', '-c1', '-W1', '10.94.2.2']).catch(() => undefined),
      (l) => exchangesOf(l, 'icmp-echo').length > 0,
    );
    const [echo] = exchangesOf(lines, 'icmp-echo');
    expect(echo.status).toBe('lost');
    expect(echo.lost).toEqual({ stage: 'request', lastSeen: `${c}/eth0`, missingOn: [`${b}/eth0`] });
    expect(echo.cause).toMatchObject({
      code: 'wrong-neighbour',
      at: `${r}/rb`,
      summary: `${r}'s neighbour entry for 10.94.2.2 on rb is ${oldMac} (PERMANENT), which is ${c}'s eth0: the frame went to ${c}, which does not hold 10.94.2.2`,
    });
    expect(echo.cause?.evidence).toContainEqual(
      expect.objectContaining({ source: 'link', netns: c, iface: 'eth0', mac: oldMac }),
    );
  }, 60_000);
});
