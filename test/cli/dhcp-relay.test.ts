// DHCP through a relay (RFC 2131 §4.1: the relay unicasts the client's broadcast to the
// server from its own address, giaddr set, and hands the server's answers back): real
// dnsmasq as server and as relay, busybox udhcpc as client. The relay's copy of a message
// is a packet of its own, and live interfaces deliver in batches: read after the offer,
// it was taken for a new transaction with the same xid, and one handshake became four
// exchanges, one "unanswered". A question is new only when it comes after its answer
// reached the asker (docs/verdicts.md). The relay's copy starts where the relay holds its
// source, as the server's does where the server holds its own: neither is the start, and
// time on the one clock orders the hops. And a server with no route back to the relay
// leaves the discover unanswered there, with that as its cause.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inNetns,
  listeningIn,
  namespacesStartingWith,
  requireRoot,
  run,
  runAll,
  runPrefix,
} from '../lab/support/lab-env.js';
import { dnsmasqIn } from '../lab/support/dnsmasq.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';

describe('DHCP through a relay', () => {
  const P = runPrefix('relay');
  const [c, rl, s] = ['c', 'rl', 's'].map((n) => `${P}${n}`);
  const daemons: ResultPromise[] = [];
  const work = mkdtempSync(join(tmpdir(), 'hopscope-relay-'));
  const dnsmasq = (ns: string, args: string[]): ResultPromise => {
    const d = dnsmasqIn(ns, work, ['--port=0', ...args]);
    daemons.push(d);
    return d;
  };
  const interfaces = ['-i', `${c}/eth0`, '-i', `${rl}/rc`, '-i', `${rl}/rs`, '-i', `${s}/eth0`];

  beforeAll(async () => {
    requireRoot();
    for (const ns of [c, rl, s])
      await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runAll(
      ['ip', '-n', c, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'rc', 'netns', rl],
      ['ip', '-n', s, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'rs', 'netns', rl],
      ['ip', '-n', rl, 'addr', 'add', '10.97.1.1/24', 'dev', 'rc'],
      ['ip', '-n', rl, 'addr', 'add', '10.97.2.1/24', 'dev', 'rs'],
      ['ip', '-n', s, 'addr', 'add', '10.97.2.2/24', 'dev', 'eth0'],
      ['ip', '-n', c, 'link', 'set', 'eth0', 'up'],
      ['ip', '-n', rl, 'link', 'set', 'rc', 'up'],
      ['ip', '-n', rl, 'link', 'set', 'rs', 'up'],
      ['ip', '-n', s, 'link', 'set', 'eth0', 'up'],
      ['ip', 'netns', 'exec', rl, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
    );
    // (--no-ping: the address is offered at once, not after an ICMP check of it — in the
    // first test the server has no route to send one)
    dnsmasq(s, ['--dhcp-range=10.97.1.50,10.97.1.60,255.255.255.0', '--no-ping', '--interface=eth0']);
    dnsmasq(rl, ['--dhcp-relay=10.97.1.1,10.97.2.2', '--interface=rc']);
    await listeningIn(s, 'sport = :67');
    await listeningIn(rl, 'sport = :67');
  });

  afterAll(async () => {
    for (const d of daemons) d.kill();
    await Promise.all(daemons);
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
    rmSync(work, { recursive: true, force: true });
  });

  const lease = (): Promise<unknown> =>
    inNetns(c, ['busybox', 'udhcpc', '-i', 'eth0', '-n', '-q', '-t', '3', '-T', '1', '-s', '/bin/true']);

  it('the server without a route back to the relay: the discover is unanswered there; why: no route', async () => {
    const { lines } = await captureWhile(interfaces, 4, lease, (l) => exchangesOf(l, 'dhcp').length > 0);
    const [first] = exchangesOf(lines, 'dhcp');
    expect(first.status).toBe('unanswered');
    expect(first.stages[0].seen.map((x) => x.iface)).toEqual([
      `${c}/eth0`,
      `${rl}/rc`,
      `${rl}/rs`,
      `${s}/eth0`,
    ]);
    expect(first.cause?.code).toBe('no-route');
    expect(first.cause?.summary).toContain(`no route to 10.97.1.1 in ${s}`);
  }, 60_000);

  it('with the route: one exchange, ok, the relay between client and server both ways', async () => {
    await runAll(['ip', '-n', s, 'route', 'add', 'default', 'via', '10.97.2.1']);
    const { lines } = await captureWhile(interfaces, 4, lease, (l) =>
      exchangesOf(l, 'dhcp').some((x) => x.stages.some((st) => st.name === 'ack')),
    );
    const handshakes = exchangesOf(lines, 'dhcp');
    expect(handshakes.map((x) => x.status)).toEqual(['ok']);
    // every message of it, the relay's copies too, on all four interfaces in path order
    const path = (name: string): string[] =>
      handshakes[0].stages.find((st) => st.name === name)?.seen.map((x) => x.iface) ?? [];
    for (const asked of ['discover', 'request'])
      expect(path(asked), asked).toEqual([`${c}/eth0`, `${rl}/rc`, `${rl}/rs`, `${s}/eth0`]);
    for (const answer of ['offer', 'ack'])
      expect(path(answer), answer).toEqual([`${s}/eth0`, `${rl}/rs`, `${rl}/rc`, `${c}/eth0`]);
  }, 60_000);
});
