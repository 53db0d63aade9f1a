// A reply that reaches the asker's interface and dies inside the asker: the client's own
// firewall drops the server's SYN-ACK, or its DNS server's response. Every capture sees
// the answer arrive; only the client's question, asked again with the same ISN (the
// same DNS id), tells it was not taken. One exchange, lost where it reached the client
// (docs/verdicts.md, `not taken`), its cause the client's rule; its recording replays
// the same.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNetns, listeningIn, runAll, runPrefix } from '../lab/support/lab-env.js';
import { downRoutedPair, routedPair } from '../lab/support/routed-pair.js';
import { dnsmasqIn } from '../lab/support/dnsmasq.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';
import { runCli } from '../support/run-cli.js';

describe('an answer the client’s own firewall drops', () => {
  const P = runPrefix('taken');
  const [a, r, b] = ['a', 'r', 'b'].map((n) => `${P}${n}`);
  const work = mkdtempSync(join(tmpdir(), 'hopscope-not-taken-'));
  let server: ResultPromise | undefined;
  let resolver: ResultPromise | undefined;

  beforeAll(async () => {
    await routedPair(P, 93);
    server = execa(
      'ip',
      [
        'netns',
        'exec',
        b,
        process.execPath,
        '-e',
        "require('node:net').createServer().listen(8080, '10.93.2.2')",
      ],
      { reject: false, stdin: 'ignore' },
    );
    resolver = dnsmasqIn(b, work, [
      '--bind-interfaces',
      '--listen-address=10.93.2.2',
      '--address=/www.example.lab/10.0.0.9',
    ]);
    await listeningIn(b, 'sport = :8080');
    await listeningIn(b, 'sport = :53');
    await runAll([
      'ip',
      'netns',
      'exec',
      a,
      'nft',
      'add table inet f; add chain inet f in { type filter hook input priority 0; }; add rule inet f in tcp flags syn,ack tcp sport 8080 drop; add rule inet f in udp sport 53 drop',
    ]);
  });

  afterAll(async () => {
    server?.kill();
    resolver?.kill();
    await server;
    await resolver;
    await downRoutedPair(P);
    rmSync(work, { recursive: true, force: true });
  });

  it('one exchange, lost where the SYN-ACK reached the client, not taken; why: the client’s rule', async () => {
    const recording = join(work, 'not-taken.pcapng');
    const { lines } = await captureWhile(
      ['-i', `${a}/eth0`, '-i', `${r}/ra`, '-i', `${r}/rb`, '-i', `${b}/eth0`, '-w', recording],
      4,
      // (the client tries for 4 s: its SYN at 0, 1 and 3 s)
      () => inNetns(a, ['timeout', '4', 'nc', '10.93.2.2', '8080']).catch(() => undefined),
      (l) => exchangesOf(l, 'tcp-handshake').length > 0,
    );
    const handshakes = exchangesOf(lines, 'tcp-handshake');
    expect(handshakes).toHaveLength(1);
    const [h] = handshakes;
    expect(h.status).toBe('lost');
    expect(h.lost).toEqual({ stage: 'syn-ack', lastSeen: `${a}/eth0`, missingOn: [] });
    expect(h.detail).toBe('not taken: the asker asked again');
    expect(h.stages[0].packets).toBeGreaterThanOrEqual(2);
    expect(h.stages[1].seen.map((s) => s.iface)).toEqual([`${b}/eth0`, `${r}/rb`, `${r}/ra`, `${a}/eth0`]);
    expect(h.cause?.code).toBe('netfilter-drop');
    expect(h.cause?.summary).toContain('`tcp flags syn,ack tcp sport 8080 drop`');
    const replay = await runCli(['replay', recording, '--json']);
    expect(
      exchangesOf(replay.stdout.split('\n'), 'tcp-handshake').map((x) => [
        x.status,
        x.lost,
        x.detail,
        x.cause,
      ]),
    ).toEqual([[h.status, h.lost, h.detail, h.cause]]);
    const text = await runCli(['replay', recording]);
    expect(text.stdout).toContain(`syn-ack reached ${a}/eth0 and was not taken: the asker asked again`);
  }, 60_000);

  it('a DNS response: the stub resolver asks again with the same id; lost where it reached the client', async () => {
    const { lines } = await captureWhile(
      ['-i', `${a}/eth0`, '-i', `${r}/ra`, '-i', `${r}/rb`, '-i', `${b}/eth0`],
      4,
      // (dig asks again with the same id after 1 s)
      () =>
        inNetns(a, ['dig', '@10.93.2.2', 'www.example.lab', '+tries=2', '+timeout=1']).catch(() => undefined),
      (l) => exchangesOf(l, 'dns').length > 0,
    );
    const queries = exchangesOf(lines, 'dns');
    expect(queries).toHaveLength(1);
    const [q] = queries;
    expect(q.status).toBe('lost');
    expect(q.lost).toEqual({ stage: 'response', lastSeen: `${a}/eth0`, missingOn: [] });
    expect(q.detail).toBe('not taken: the asker asked again');
    expect(q.stages.map((s) => s.packets)).toEqual([2, 2]);
    expect(q.cause?.code).toBe('netfilter-drop');
    expect(q.cause?.summary).toContain('`udp sport 53 drop`');
  }, 60_000);
});
