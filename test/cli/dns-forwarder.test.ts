// A resolver that forwards: dnsmasq in the router asks the upstream server the client's
// question in turn. The upstream does not answer (nothing listens; a firewall drops it),
// so the client's query goes unanswered at a resolver that is itself fine — its hop
// shows nothing wrong. The cause is the resolver's own query onward, its verdict and its
// cause (docs/json-lines.md `cause`, `upstream-failed`), and a recording replays it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DnsFlow, ExchangeRecord } from '../../src/events/types.js';
import { inNetns, listeningIn, runPrefix } from '../lab/support/lab-env.js';
import { dnsmasqIn } from '../lab/support/dnsmasq.js';
import { downRoutedPair, routedPair } from '../lab/support/routed-pair.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';
import { runCli } from '../support/run-cli.js';

const RESOLVER = '10.96.1.1';
const UPSTREAM = '10.96.2.2';
/** The address a DNS query was sent to. */
const to = (q: ExchangeRecord): string | null => (q.flow as DnsFlow).dst;

describe('a forwarding resolver whose upstream does not answer', () => {
  const P = runPrefix('fwd');
  const [a, r, b] = ['a', 'r', 'b'].map((n) => `${P}${n}`);
  const work = mkdtempSync(join(tmpdir(), 'hopscope-forwarder-'));
  let resolver: ResultPromise | undefined;
  const dnsmasq = (ns: string, args: readonly string[]): ResultPromise =>
    dnsmasqIn(ns, work, ['--bind-interfaces', ...args]);
  const interfaces = ['-i', `${a}/eth0`, '-i', `${r}/ra`, '-i', `${r}/rb`, '-i', `${b}/eth0`];
  const ask = (): Promise<unknown> =>
    inNetns(a, ['dig', '+tries=1', '+time=2', `@${RESOLVER}`, 'www.example.lab', 'A']);

  beforeAll(async () => {
    await routedPair(P, 96);
  });

  // (a resolver of its own for each test: dnsmasq remembers how its upstream answered)
  beforeEach(async () => {
    resolver = dnsmasq(r, [`--server=${UPSTREAM}`, `--listen-address=${RESOLVER}`]);
    await listeningIn(r, 'sport = :53');
  });

  afterEach(async () => {
    resolver?.kill();
    await resolver;
  });

  afterAll(async () => {
    await downRoutedPair(P);
    rmSync(work, { recursive: true, force: true });
  });

  it('nothing listens upstream: the client’s query is unanswered at the resolver; why: its query onward was refused', async () => {
    const recording = join(work, 'refused.pcapng');
    const { lines } = await captureWhile(
      [...interfaces, '-w', recording],
      4,
      ask,
      (l) => exchangesOf(l, 'dns').length >= 2,
    );
    const queries = exchangesOf(lines, 'dns');
    const client = queries.find((q) => to(q) === RESOLVER);
    const onward = queries.find((q) => to(q) === UPSTREAM);
    expect(onward?.status).toBe('error');
    expect(onward?.cause?.code).toBe('no-listener');
    expect(client?.status).toBe('unanswered');
    expect(client?.lost?.lastSeen).toBe(`${r}/ra`);
    expect(client?.cause).toMatchObject({
      code: 'upstream-failed',
      at: onward?.cause?.at,
      summary: `the server ${RESOLVER} asked ${UPSTREAM} in turn for www.example.lab A, and that query was answered with port-unreachable: ${onward?.cause?.summary}`,
    });
    expect(client?.cause?.evidence[0]).toEqual({
      source: 'exchange',
      netns: r,
      kind: 'dns',
      key: onward?.key,
      status: 'error',
      detail: 'port-unreachable',
      ts: onward?.ts,
    });
    // its recording says the same, without reading any host
    const replay = await runCli(['replay', recording, '--json']);
    expect(exchangesOf(replay.stdout.split('\n'), 'dns').map((q) => q.cause)).toEqual(
      queries.map((q) => q.cause),
    );
  }, 60_000);

  it('the upstream refuses: so does the resolver; why: its query onward was answered REFUSED', async () => {
    const upstream = dnsmasq(b, [`--listen-address=${UPSTREAM}`]);
    try {
      await listeningIn(b, 'sport = :53');
      const { lines } = await captureWhile(interfaces, 4, ask, (l) => exchangesOf(l, 'dns').length >= 2);
      const queries = exchangesOf(lines, 'dns');
      const client = queries.find((q) => to(q) === RESOLVER);
      const onward = queries.find((q) => to(q) === UPSTREAM);
      expect([onward?.status, onward?.detail, onward?.cause]).toEqual(['error', 'REFUSED', undefined]);
      expect([client?.status, client?.detail]).toEqual(['error', 'REFUSED']);
      expect(client?.cause).toMatchObject({
        code: 'upstream-failed',
        summary: `the server ${RESOLVER} asked ${UPSTREAM} in turn for www.example.lab A, and that query was answered with REFUSED`,
      });
    } finally {
      upstream.kill();
      await upstream;
    }
  }, 60_000);

  it('a firewall drops it upstream: unanswered at the resolver; why: its query onward got no answer, and the rule', async () => {
    await inNetns(b, [
      'nft',
      'add table inet f; add chain inet f in { type filter hook input priority 0; }; add rule inet f in udp dport 53 drop',
    ]);
    const { lines } = await captureWhile(interfaces, 4, ask, (l) => exchangesOf(l, 'dns').length >= 2);
    const queries = exchangesOf(lines, 'dns');
    const client = queries.find((q) => to(q) === RESOLVER);
    const onward = queries.find((q) => to(q) === UPSTREAM);
    expect(onward?.status).toBe('unanswered');
    expect(onward?.cause?.code).toBe('netfilter-drop');
    expect(client?.status).toBe('unanswered');
    expect(client?.cause?.code).toBe('upstream-failed');
    expect(client?.cause?.summary).toBe(
      `the server ${RESOLVER} asked ${UPSTREAM} in turn for www.example.lab A, and that query got no answer (it reached ${b}/eth0): ${onward?.cause?.summary}`,
    );
    expect(client?.cause?.summary).toContain('`udp dport 53 drop`');
  }, 60_000);
});
