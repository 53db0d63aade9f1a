// Evidence over ssh: the hop's state read by one batched command per host, the host's
// kernel drops traced in a tracefs instance of its own (time-matched, and marked so),
// the instance removed when the trace stops, when the process holding it is killed,
// and — left by a run whose remote shell was killed — by the next run on the host.
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelDropEvidence, NftablesEvidence } from '../../src/events/types.js';
import { RemoteDropTrace } from '../../src/evidence/kernel/tracefs-drops.js';
import { labDown, labUp } from '../../src/lab/index.js';
import { waitFor } from '../native/netns-topology.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { handleOf, runWithCauses, tracefsInstances } from './support/cause-run.js';

const PREFIX = runPrefix('crm');

beforeAll(() => requireRoot());
afterAll(async () => {
  await downAllLabs(PREFIX);
  expect(tracefsInstances()).toEqual([]);
}, 120_000);

describe('evidence over ssh', () => {
  it('dvr-fip sg-drop: the rule read over ssh by its handle, the host’s drop reason matched by time', async () => {
    const run = await runWithCauses('dvr-fip', 'sg-drop', `${PREFIX}a-`, { remote: true });
    const p = run.lab.prefix;
    const lost = run.explained.filter((x) => x.exchange.status === 'lost');
    expect(lost.length).toBeGreaterThanOrEqual(4);
    for (const { exchange, cause } of lost) {
      expect(cause?.code, exchange.key).toBe('netfilter-drop');
      expect(cause?.at).toBe(`${p}compute:qvb7aa08012-d0`);
      const rule = cause?.evidence.find((e): e is NftablesEvidence => e.source === 'nftables');
      const text = exchange.kind === 'tcp-handshake' ? 'tcp dport 22 drop' : 'icmp type echo-request drop';
      expect(rule).toMatchObject({
        host: `${p}compute`,
        family: 'bridge',
        table: 'neutron_sg',
        chain: 'forward',
      });
      expect(rule?.netns).toBeUndefined();
      expect(rule?.handle).toBe(handleOf(run.rulesets.get(`${p}compute`) ?? '', 'bridge neutron_sg', text));
      const kernel = cause?.evidence.find((e): e is KernelDropEvidence => e.source === 'kernel');
      expect(kernel, JSON.stringify({ exchange, cause })).toMatchObject({
        host: `${p}compute`,
        reason: 'NETFILTER_DROP',
        matchedBy: 'time',
      });
    }
    for (const { exchange, cause } of run.explained) if (exchange.status === 'ok') expect(cause).toBeNull();
    for (const [ns, before] of run.before) expect(run.after.get(ns), ns).toBe(before);
    expect(tracefsInstances()).toEqual([]);
  }, 180_000);

  it('sdn-vxlan missing-route: the route lookup made on node2 over ssh', async () => {
    const run = await runWithCauses('sdn-vxlan', 'missing-route', `${PREFIX}b-`, { remote: true });
    const p = run.lab.prefix;
    const lost = run.explained.filter((x) => x.exchange.status === 'lost');
    expect(lost.length).toBeGreaterThan(0);
    for (const { cause } of lost) {
      expect(cause?.code, JSON.stringify(cause)).toBe('no-route');
      expect(cause?.at).toBe(`${p}node2:tun0`);
      expect(cause?.evidence).toContainEqual({
        source: 'route',
        host: `${p}node2`,
        query: '10.128.0.5 from 10.128.2.5 iif tun0',
        error: 'Network is unreachable',
      });
    }
    expect(tracefsInstances()).toEqual([]);
  }, 180_000);

  it('a trace instance of a killed run is removed by the next run on the host; a killed local process leaves none', async () => {
    const lab = await labUp('dnat-local', { prefix: `${PREFIX}c-` });
    try {
      const host = `${lab.prefix}edge`;
      const first = new RemoteDropTrace({ host, sshConfig: lab.sshConfigPath });
      await first.start();
      expect(first.unavailable).toBeNull();
      const name = first.instance as string;
      expect(name).toMatch(new RegExp(`^hopscope-\\d+-${first.nonce}$`));
      expect(tracefsInstances()).toEqual([name]);
      // the remote shell dies without cleaning up (as under `kill -9` or an OOM kill)
      execFileSync('kill', ['-KILL', name.split('-')[1]]);
      await first.stop();
      expect(tracefsInstances()).toEqual([name]);

      const second = new RemoteDropTrace({ host, sshConfig: lab.sshConfigPath });
      await second.start();
      expect(second.removedStale).toEqual([name]);
      expect(tracefsInstances()).toEqual([second.instance]);
      await second.stop();
      expect(second.removed).toBe(true);
      expect(tracefsInstances()).toEqual([]);

      // hopscope itself killed: its ssh dies, the host's session sees its stdin close and cleans up
      const child = spawn(
        process.execPath,
        [
          'test/evidence/support/ts-child.mjs',
          'test/evidence/support/remote-trace-child.ts',
          lab.sshConfigPath,
          host,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('the child traces', () => out.includes('\n'), 30_000);
      expect(out).toMatch(/^hopscope-\d+-[0-9a-f]+\n$/);
      expect(tracefsInstances()).toEqual([out.trim()]);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      await waitFor('the killed run’s instance removed', () => tracefsInstances().length === 0, 20_000);
    } finally {
      await labDown(lab.prefix);
    }
  }, 180_000);
});
