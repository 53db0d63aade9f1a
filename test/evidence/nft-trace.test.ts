// Opt-in rule tracing: a temporary nftrace table for one flow, `nft monitor trace`
// naming the rule that dropped its packets by handle, the tables gone after (the
// ruleset prints the same bytes), and a killed run's tables removed by the next.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceLine, RuleTrace, traceTablesScript } from '../../src/evidence/firewall/nft-trace.js';
import { A_ADDR, B_ADDR, requireRoot, Topology, waitFor } from '../native/netns-topology.js';
import { handleOf } from './support/cause-run.js';

describe('rule tracing', () => {
  const topo = new Topology('trc');
  beforeAll(async () => {
    requireRoot();
    await topo.up();
    await topo.inB([
      'nft',
      'add table inet host; add chain inet host input { type filter hook input priority 0; }; ' +
        'add rule inet host input ct state established accept; add rule inet host input icmp type echo-request counter drop',
    ]);
  });
  afterAll(async () => topo.down());

  it('names the rule that dropped the flow, by handle; removes its tables after', async () => {
    const before = await topo.inB(['nft', '-s', 'list', 'ruleset']);
    const trace = new RuleTrace(topo.nsB, { family: 4, addresses: [A_ADDR, B_ADDR] });
    try {
      await trace.start();
      expect(await topo.inB(['nft', 'list', 'tables'])).toContain(trace.table);
      await topo
        .run(['ip', 'netns', 'exec', topo.nsA, 'ping', '-c', '1', '-W', '1', B_ADDR])
        .catch(() => undefined);
      await waitFor('the drop traced', () => trace.drops().length > 0, 10_000);
    } finally {
      await trace.stop();
    }
    const ruleset = await topo.inB(['nft', '-a', 'list', 'ruleset']);
    expect(trace.drops()[0]).toMatchObject({
      family: 'inet',
      table: 'host',
      chain: 'input',
      rule: 'icmp type echo-request counter drop',
      handle: handleOf(ruleset, 'inet host', 'icmp type echo-request'),
      verdict: 'drop',
    });
    // the packet as the trace saw it first, on its way in
    expect(trace.events.find((e) => e.kind === 'packet')).toMatchObject({ table: 'host', chain: 'input' });
    expect(await topo.inB(['nft', '-s', 'list', 'ruleset'])).toBe(before);
  });

  it('tables of a run that was killed are removed by the next', async () => {
    const before = await topo.inB(['nft', '-s', 'list', 'ruleset']);
    // what a killed run leaves: its tables, named with a pid that no longer runs
    await topo.inB([
      'nft',
      traceTablesScript('hopscope_trace_4194304_deadbeef', { family: 4, addresses: [A_ADDR] }),
    ]);
    expect(await topo.inB(['nft', 'list', 'tables'])).toContain('hopscope_trace_4194304_deadbeef');
    expect(await RuleTrace.cleanStale(topo.nsB)).toEqual(['hopscope_trace_4194304_deadbeef']);
    expect(await topo.inB(['nft', '-s', 'list', 'ruleset'])).toBe(before);
  });

  it('reads monitor lines', () => {
    expect(
      parseTraceLine(
        'trace id 0bf703eb inet f i rule ip saddr != 10.1.0.0/16 drop # handle 12 (verdict drop)',
      ),
    ).toEqual({
      kind: 'rule',
      id: '0bf703eb',
      family: 'inet',
      table: 'f',
      chain: 'i',
      rule: 'ip saddr != 10.1.0.0/16 drop',
      handle: 12,
      verdict: 'drop',
    });
    expect(parseTraceLine('trace id 0bf703eb inet f i policy accept ')).toMatchObject({
      kind: 'policy',
      verdict: 'accept',
    });
    expect(() => traceTablesScript('other', { family: 4, addresses: [A_ADDR] })).toThrow();
    expect(() =>
      traceTablesScript('hopscope_trace_1_ab', { family: 4, addresses: ['1.2.3.4; flush ruleset'] }),
    ).toThrow();
  });
});
