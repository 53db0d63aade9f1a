// An answer that goes around the NAT its question went through: a client and a server
// on one bridge, the server reached through a DNAT on the router that holds the bridge
// (hairpin NAT without SNAT). The server answers its client straight back on the
// bridge, from its own address: the client resets the SYN-ACK, and its resolver does
// not take the DNS response — while every packet "arrived". The verdicts are errors
// (`RST`, `misaddressed`) with the cause `nat-bypassed` naming the router
// (docs/verdicts.md "Statuses", docs/json-lines.md `cause`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
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
import { captureWhile, exchangesOf } from '../support/cli-process.js';

const VIP = '10.96.9.9';

describe('hairpin NAT without SNAT: the answers go around the DNAT', () => {
  const P = runPrefix('hairpin');
  const [c, r, s] = ['c', 'r', 's'].map((n) => `${P}${n}`);
  let work: string;

  beforeAll(async () => {
    requireRoot();
    work = mkdtempSync(join(tmpdir(), 'hopscope-hairpin-'));
    for (const ns of [c, r, s])
      await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runAll(
      ['ip', '-n', r, 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', '-n', r, 'link', 'set', 'br0', 'up'],
      ['ip', '-n', r, 'addr', 'add', '10.96.0.1/24', 'dev', 'br0'],
      ['ip', '-n', r, 'link', 'add', 'rc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c],
      ['ip', '-n', r, 'link', 'add', 'rs', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s],
      ['ip', '-n', r, 'link', 'set', 'rc', 'master', 'br0'],
      ['ip', '-n', r, 'link', 'set', 'rs', 'master', 'br0'],
      ['ip', '-n', r, 'link', 'set', 'rc', 'up'],
      ['ip', '-n', r, 'link', 'set', 'rs', 'up'],
      ['ip', '-n', c, 'addr', 'add', '10.96.0.2/24', 'dev', 'eth0'],
      ['ip', '-n', s, 'addr', 'add', '10.96.0.3/24', 'dev', 'eth0'],
      ['ip', '-n', c, 'link', 'set', 'eth0', 'up'],
      ['ip', '-n', s, 'link', 'set', 'eth0', 'up'],
      ['ip', '-n', c, 'route', 'add', 'default', 'via', '10.96.0.1'],
      ['ip', '-n', s, 'route', 'add', 'default', 'via', '10.96.0.1'],
      ['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
      // (with br_netfilter loaded, bridged packets would meet the router's conntrack:
      // not in this router)
      [
        'ip',
        'netns',
        'exec',
        r,
        'sh',
        '-c',
        'test ! -e /proc/sys/net/bridge/bridge-nf-call-iptables || sysctl -qw net.bridge.bridge-nf-call-iptables=0',
      ],
      [
        'ip',
        'netns',
        'exec',
        r,
        'nft',
        `add table ip nat; add chain ip nat pre { type nat hook prerouting priority -100; }; add rule ip nat pre ip daddr ${VIP} tcp dport 80 dnat to 10.96.0.3:8080; add rule ip nat pre ip daddr ${VIP} udp dport 53 dnat to 10.96.0.3:53`,
      ],
    );
  });

  afterAll(async () => {
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  /** Captures every device of the three while `traffic` runs, until `done` holds of the JSON lines. */
  async function capture(
    filter: string,
    traffic: () => Promise<unknown>,
    done: (lines: readonly string[]) => boolean,
  ): Promise<string[]> {
    return (await captureWhile(['-i', `${P}*/any`, '-f', filter], 3, traffic, done)).lines;
  }

  it('TCP: the client resets the SYN-ACK from the server’s own address; why: the DNAT it went around', async () => {
    const server = execa('ip', ['netns', 'exec', s, 'nc', '-l', '-p', '8080'], {
      reject: false,
      stdin: 'ignore',
    });
    try {
      await listeningIn(s, 'sport = :8080');
      const lines = await capture(
        'tcp',
        () => inNetns(c, ['timeout', '3', 'nc', VIP, '80']),
        (l) => exchangesOf(l, 'tcp-handshake').length > 0,
      );
      const [h] = exchangesOf(lines, 'tcp-handshake');
      expect(h.status).toBe('error');
      expect(h.detail).toBe('RST');
      // the reset came from the client, where the SYN started
      expect(h.stages.find((x) => x.name === 'rst')?.seen[0].iface).toBe(`${c}/eth0`);
      expect(h.cause).toMatchObject({
        code: 'nat-bypassed',
        at: `${r}/rs`,
        summary: `the syn-ack reached 10.96.0.2 from 10.96.0.3 port 8080, not from ${VIP} port 80 where the syn was sent, so 10.96.0.2 resets it: the syn was translated (DNAT) in ${r}, and the syn-ack did not pass back through it to be translated back`,
      });
    } finally {
      server.kill();
      await server;
    }
  }, 60_000);

  it('DNS: the response arrives and is no answer: misaddressed, not ok', async () => {
    const dnsmasq = execa(
      'ip',
      [
        'netns',
        'exec',
        s,
        'dnsmasq',
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        '--bind-interfaces',
        '--listen-address=10.96.0.3',
        `--pid-file=${join(work, 'dnsmasq.pid')}`,
        '--address=/hairpin.test/10.96.7.7',
      ],
      { reject: false, stdin: 'ignore' },
    );
    try {
      await listeningIn(s, 'sport = :53');
      let dig = { exitCode: 0, stdout: '', stderr: '' };
      const lines = await capture(
        'udp port 53',
        async () => {
          dig = await inNetns(c, ['dig', '+tries=1', '+time=1', `@${VIP}`, 'hairpin.test', 'A']);
        },
        (l) => exchangesOf(l, 'dns').length > 0,
      );
      // the client got no answer it would take
      expect(dig.stdout).not.toContain('10.96.7.7');
      const [q] = exchangesOf(lines, 'dns');
      expect(q.stages.map((x) => [x.name, x.seen.at(-1)?.iface])).toEqual([
        ['query', `${s}/eth0`],
        ['response', `${c}/eth0`],
      ]);
      expect(q.status).toBe('error');
      expect(q.detail).toBe('misaddressed');
      expect(q.cause?.code).toBe('nat-bypassed');
      expect(q.cause?.summary).toContain(
        `from 10.96.0.3 port 53, not from ${VIP} port 53 where the query was sent`,
      );
    } finally {
      dnsmasq.kill();
      await dnsmasq;
    }
  }, 60_000);
});
