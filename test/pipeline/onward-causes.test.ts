// A DNS query's cause from its server's own query onward (src/pipeline/onward-causes.ts):
// the same question, asked from the namespace the query reached, after it got there —
// judged before or after it, within the wait; never a query from elsewhere, another
// question, one asked before, or where the hop's own cause says something. The wait
// only while such a query is open, as the correlator's queue has it.
import { describe, expect, it } from 'vitest';
import type { Cause, DnsFlow, ExchangeRecord } from '../../src/events/types.js';
import type { CauseProvider } from '../../src/pipeline/causes.js';
import { Correlator } from '../../src/correlate/correlator.js';
import { Kind } from '../../src/correlate/kinds/kind.js';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { PacketRecord } from '../../src/decode/record.js';
import { type NamespaceOf, OnwardCauses, type QueriesSince } from '../../src/pipeline/onward-causes.js';
import { dnsQuery } from '../correlate/support/dns-tcp-frames.js';
import { ethIpv4Udp } from '../decode/support/frames.js';

/** Interfaces `ns/dev` are in namespace `ns` of this machine. */
const namespaceOf: NamespaceOf = (label) => {
  const slash = label.indexOf('/');
  if (slash < 0) return null;
  const netns = label.slice(0, slash);
  return { key: `\u0000${netns}`, host: null, netns };
};

/** A DNS query from `path[0]` to the last interface of `path`, at `ms` ms, its hops 1 µs apart. */
function query(
  dst: string,
  path: string[],
  ms: number,
  status: ExchangeRecord['status'],
  qname = 'www.example.lab',
  detail?: string,
): ExchangeRecord {
  const ts = (i: number): string => `1700000000.${String(ms * 1_000_000 + i * 1000).padStart(9, '0')}`;
  return {
    type: 'exchange',
    kind: 'dns',
    key: `to ${dst} at ${ms}`,
    flow: { src: '10.0.0.9', dst, id: ms, qname, qtype: 'A', transport: 'udp' },
    status,
    stages: [{ name: 'query', packets: 1, seen: path.map((iface, i) => ({ iface, ts: ts(i) })) }],
    ...(status === 'error'
      ? {}
      : { lost: { stage: 'response', lastSeen: path[path.length - 1], missingOn: [] } }),
    ...(detail !== undefined ? { detail } : {}),
    ts: ts(0),
  };
}

/** Every problem's own cause: `unknown`, except for queries to 10.0.0.53 (the upstream's: a rule). */
const inner: CauseProvider = {
  causeOf: (ex) =>
    Promise.resolve<Cause>(
      (ex.flow as { dst: string }).dst === '10.0.0.53'
        ? { code: 'netfilter-drop', summary: 'dropped by a rule', at: 'up/eth0', evidence: [] }
        : { code: 'unknown', summary: 'no cause found', at: 'r/ra', evidence: [] },
    ),
  mayHaveCause: (status) => status !== 'ok',
  giveUp: () => null,
};

describe('the cause of a DNS query from its server’s query onward', () => {
  const client = query('10.0.0.1', ['c/eth0', 'r/ra'], 100, 'unanswered');

  it('judged before or after the client’s: its outcome and its own cause', async () => {
    const onward = query('10.0.0.53', ['r/rb', 'up/eth0'], 101, 'unanswered');
    const summary =
      'the server 10.0.0.1 asked 10.0.0.53 in turn for www.example.lab A, and that query got no answer (it reached up/eth0): dropped by a rule';
    for (const order of [
      [onward, client],
      [client, onward],
    ]) {
      const causes = new OnwardCauses(inner, namespaceOf, null, 1000);
      const found = order.map((ex) => causes.causeOf(ex));
      const cause = await found[order.indexOf(client)];
      expect(cause).toEqual({
        code: 'upstream-failed',
        summary,
        at: 'up/eth0',
        evidence: [
          {
            source: 'exchange',
            netns: 'r',
            kind: 'dns',
            key: onward.key,
            status: 'unanswered',
            ts: onward.ts,
          },
        ],
      });
    }
  });

  it('not another question, not from elsewhere, not asked before the query arrived: its own cause', async () => {
    for (const other of [
      query('10.0.0.53', ['r/rb', 'up/eth0'], 101, 'unanswered', 'other.example.lab'),
      query('10.0.0.53', ['x/eth0', 'up/eth0'], 101, 'unanswered'),
      query('10.0.0.53', ['r/rb', 'up/eth0'], 99, 'unanswered'),
    ]) {
      const causes = new OnwardCauses(inner, namespaceOf, null, 50);
      causes.causeOf(other);
      expect((await causes.causeOf(client))?.code).toBe('unknown');
    }
  });

  it('an rcode passed on: the onward query answered with an error, without a cause of its own', async () => {
    const noCause: CauseProvider = { ...inner, causeOf: () => null };
    const causes = new OnwardCauses(noCause, namespaceOf, null, 50);
    causes.causeOf(query('10.0.0.53', ['r/rb', 'up/eth0', 'up/eth0'], 101, 'error', undefined, 'REFUSED'));
    const refused = query('10.0.0.1', ['c/eth0', 'r/ra'], 100, 'error', undefined, 'REFUSED');
    expect(await causes.causeOf(refused)).toMatchObject({
      code: 'upstream-failed',
      summary:
        'the server 10.0.0.1 asked 10.0.0.53 in turn for www.example.lab A, and that query was answered with REFUSED',
      at: 'up/eth0',
    });
  });

  it('waits only when a query onward may still come: one with the question, begun at the server since', async () => {
    const onward = query('10.0.0.53', ['r/rb', 'up/eth0'], 101, 'unanswered');
    /** The queries since, as the correlator would list them: each [first label, flow]. */
    const since =
      (listed: ExchangeRecord[], told = true, asked: number[][] = []): QueriesSince =>
      (sec, nsec, visit) => {
        asked.push([sec, nsec]);
        for (const q of listed) if (visit(q.stages[0].seen[0].iface, () => q.flow)) return true;
        return told;
      };
    // none, or none like it (another question, from elsewhere, the client's own query):
    // its own cause at once — a wait of ten minutes would fail the test
    for (const listed of [
      [],
      [query('10.0.0.53', ['r/rb', 'up/eth0'], 101, 'unanswered', 'other.example.lab')],
      [query('10.0.0.53', ['x/eth0', 'up/eth0'], 101, 'unanswered')],
      [client],
    ]) {
      const asked: number[][] = [];
      const causes = new OnwardCauses(inner, namespaceOf, since(listed, true, asked), 600_000);
      expect((await causes.causeOf(client))?.code).toBe('unknown');
      // (since the query reached the server: its last sighting, r/ra at 100.001 ms)
      expect(asked).toEqual([[1_700_000_000, 100_001_000]]);
    }
    // one like it, judged after the client's: waited for
    for (const told of [true, false]) {
      const listed = told ? [onward] : [];
      const causes = new OnwardCauses(inner, namespaceOf, since(listed, told), 600_000);
      const cause = causes.causeOf(client);
      causes.causeOf(onward);
      expect((await cause)?.code).toBe('upstream-failed');
    }
  });

  it('a cause found at the hop stands; other kinds pass through', async () => {
    const found: CauseProvider = {
      ...inner,
      causeOf: () =>
        Promise.resolve<Cause>({ code: 'no-listener', summary: 'nothing listens', at: 'r/ra', evidence: [] }),
    };
    const causes = new OnwardCauses(found, namespaceOf, null, 50);
    causes.causeOf(query('10.0.0.53', ['r/rb', 'up/eth0'], 101, 'unanswered'));
    expect((await causes.causeOf(client))?.code).toBe('no-listener');
    const echo: ExchangeRecord = { ...client, kind: 'icmp-echo' };
    expect((await new OnwardCauses(inner, namespaceOf, null, 50).causeOf(echo))?.code).toBe('unknown');
  });
});

describe('the onward query as the correlator has it (live: Correlator.recent)', () => {
  it('judged after the client’s query: the client’s verdict waits for it, and has it for its cause', async () => {
    const rec = new PacketRecord();
    const causes: Array<Promise<Cause | null> | Cause | null> = [];
    const order: string[] = [];
    // (the provider is made below: the correlator's verdicts go to it as they are judged)
    let onward: OnwardCauses | null = null;
    const corr = new Correlator({
      onExchange: (j) => {
        const record = j.record();
        order.push((record.flow as DnsFlow).dst ?? '');
        causes.push(onward?.causeOf(record) ?? null);
      },
    });
    onward = new OnwardCauses(
      inner,
      namespaceOf,
      (sec, nsec, visit) => corr.recent.since(Kind.Dns, sec, nsec, 600e6, 1000, visit),
      600_000,
    );
    ['c/eth0', 'r/ra', 'r/rb', 'up/eth0'].forEach((label, id) =>
      corr.addInterface({ id, label, host: null }),
    );
    const at = (b: Uint8Array, iface: number, us: number): void => {
      decodePacket(b, 0, b.length, 1, b.length, rec);
      corr.packet(rec, iface, 1_700_000_000, us * 1000);
    };
    // the client's query reaches its resolver (r) at 0.1 ms; r asks 10.0.0.54 at 1 ms, and
    // asks again at 300 ms (its own retry): its deadline comes after the client's
    const client = ethIpv4Udp(40000, 53, dnsQuery(1, 'www.example.lab'), {
      src: '0a000009',
      dst: '0a000001',
    });
    at(client, 0, 0);
    at(client, 1, 100);
    const upstream = ethIpv4Udp(41000, 53, dnsQuery(2, 'www.example.lab'), {
      src: '0a000101',
      dst: '0a000036',
    });
    at(upstream, 2, 1000);
    at(upstream, 3, 1010);
    at(upstream, 2, 300_000);
    at(upstream, 3, 300_010);
    corr.finish(1_700_000_020, 0);
    expect(order).toEqual(['10.0.0.1', '10.0.0.54']);
    const cause = await causes[0];
    expect(cause).toMatchObject({
      code: 'upstream-failed',
      summary:
        'the server 10.0.0.1 asked 10.0.0.54 in turn for www.example.lab A, and that query got no answer (it reached up/eth0)',
    });
  });
});
