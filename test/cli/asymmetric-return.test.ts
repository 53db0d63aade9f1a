// An answer that goes back another way than its question came (two routers: one out,
// one back) must still reach the asker (docs/verdicts.md "The expected path", 4.). With
// the back router's conntrack taking the SYN-ACK for invalid — it never saw the SYN —
// and `ct state invalid drop`, the handshake is lost at that router, with the rule as
// its cause; without the rule, the SYN-ACK reaches the client by its other device, and
// the handshake is ok.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import {
  inNetns,
  listeningIn,
  namespacesStartingWith,
  requireRoot,
  run,
  runAll,
  runPrefix,
} from '../lab/support/lab-env.js';
import { exchangesOf, jsonRecords, startCli } from '../support/cli-process.js';

describe('a SYN-ACK that goes back by another router than the SYN went', () => {
  const P = runPrefix('asym');
  const [a, r1, r2, b] = ['a', 'r1', 'r2', 'b'].map((n) => `${P}${n}`);

  /** A veth between two namespaces, each end addressed and up. */
  const link = (
    x: string,
    xName: string,
    xAddr: string,
    y: string,
    yName: string,
    yAddr: string,
  ): string[][] => [
    ['ip', '-n', x, 'link', 'add', xName, 'type', 'veth', 'peer', 'name', yName, 'netns', y],
    ['ip', '-n', x, 'addr', 'add', xAddr, 'dev', xName],
    ['ip', '-n', y, 'addr', 'add', yAddr, 'dev', yName],
    ['ip', '-n', x, 'link', 'set', xName, 'up'],
    ['ip', '-n', y, 'link', 'set', yName, 'up'],
  ];

  beforeAll(async () => {
    requireRoot();
    for (const ns of [a, r1, r2, b])
      await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // The client's and the server's addresses live on lo; each has a link to both routers.
    await runAll(
      ...link(a, 'a1', '10.93.1.2/24', r1, 'r1a', '10.93.1.1/24'),
      ...link(a, 'a2', '10.93.3.2/24', r2, 'r2a', '10.93.3.1/24'),
      ...link(b, 'b1', '10.93.2.2/24', r1, 'r1b', '10.93.2.1/24'),
      ...link(b, 'b2', '10.93.4.2/24', r2, 'r2b', '10.93.4.1/24'),
      ['ip', '-n', a, 'addr', 'add', '10.93.9.1/32', 'dev', 'lo'],
      ['ip', '-n', b, 'addr', 'add', '10.93.9.2/32', 'dev', 'lo'],
      // out by r1, back by r2
      ['ip', '-n', a, 'route', 'add', '10.93.9.2/32', 'via', '10.93.1.1'],
      ['ip', '-n', b, 'route', 'add', '10.93.9.1/32', 'via', '10.93.4.1'],
      ['ip', '-n', r1, 'route', 'add', '10.93.9.2/32', 'via', '10.93.2.2'],
      ['ip', '-n', r1, 'route', 'add', '10.93.9.1/32', 'via', '10.93.1.2'],
      ['ip', '-n', r2, 'route', 'add', '10.93.9.1/32', 'via', '10.93.3.2'],
      ['ip', '-n', r2, 'route', 'add', '10.93.9.2/32', 'via', '10.93.4.2'],
      ['ip', 'netns', 'exec', r1, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
      ['ip', 'netns', 'exec', r2, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
      // no picking up of connections midway: a SYN-ACK without its SYN is invalid
      ['ip', 'netns', 'exec', r2, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_loose=0'],
      [
        'ip',
        'netns',
        'exec',
        r2,
        'nft',
        'add table inet t; add chain inet t f { type filter hook forward priority 0; }; add rule inet t f ct state invalid drop',
      ],
    );
  });

  afterAll(async () => {
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
  });

  /** One connection from the client to a listener on the server, captured on every device of the four. */
  async function handshake(port: number): Promise<ExchangeRecord> {
    const listener = execa('ip', ['netns', 'exec', b, 'nc', '-l', '-s', '10.93.9.2', '-p', String(port)], {
      reject: false,
      stdin: 'ignore',
    });
    const cli = startCli(['capture', '-i', `${P}*/any`, '-f', 'tcp', '--json']);
    try {
      await listeningIn(b, `sport = :${port}`);
      await cli.waitForLine(
        () => jsonRecords(cli.lines).filter((x) => x.type === 'state' && x.state === 'up').length === 4,
      );
      await inNetns(a, ['timeout', '4', 'nc', '-s', '10.93.9.1', '10.93.9.2', String(port)]);
      await cli.waitForLine(() => exchangesOf(cli.lines, 'tcp-handshake').length > 0, 30_000);
    } finally {
      cli.child.kill('SIGINT');
      listener.kill();
      await listener;
    }
    await cli.exited;
    return exchangesOf(cli.lines, 'tcp-handshake')[0];
  }

  it('dropped as invalid there: lost on the way back, never reached the client, with the rule as cause', async () => {
    const h = await handshake(8081);
    expect(h.stages.map((s) => [s.name, s.seen.map((x) => x.iface)])).toEqual([
      ['syn', [`${a}/a1`, `${r1}/r1a`, `${r1}/r1b`, `${b}/b1`]],
      ['syn-ack', [`${b}/b2`, `${r2}/r2b`]],
    ]);
    expect(h.status).toBe('lost');
    expect(h.lost).toEqual({ stage: 'syn-ack', lastSeen: `${r2}/r2b`, missingOn: [`${a}/a1`] });
    expect(h.cause?.code).toBe('conntrack');
    expect(h.cause?.summary).toContain('ct state invalid drop');
  }, 60_000);

  it('let through: it reaches the client by its other device, and the handshake is ok', async () => {
    await runAll(['ip', 'netns', 'exec', r2, 'nft', 'delete table inet t']);
    const h = await handshake(8082);
    expect(h.status).toBe('ok');
    expect(h.stages[1].seen.map((x) => x.iface)).toEqual([`${b}/b2`, `${r2}/r2b`, `${r2}/r2a`, `${a}/a2`]);
  }, 60_000);
});
