// The classic of a host that runs Docker next to VMs: Docker sets the iptables FORWARD
// policy to DROP and loads br_netfilter, and bridged traffic between two VMs on a Linux
// bridge — which no IP routing touches — starts to meet the IP FORWARD chain. The ping
// between two ports of the bridge is lost in the bridge's namespace, and the cause names
// the policy and the switch that hands bridged packets to it
// (net.bridge.bridge-nf-call-iptables; docs/json-lines.md `cause`). With the switch
// off, the same ping is ok.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import {
  bridgePortsForwarding,
  inNetns,
  namespacesStartingWith,
  requireRoot,
  run,
  runAll,
  runPrefix,
} from '../lab/support/lab-env.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';

describe('bridged traffic meeting the IP FORWARD policy through br_netfilter', () => {
  const P = runPrefix('brnf');
  const [c1, c2, r] = ['c1', 'c2', 'r'].map((n) => `${P}${n}`);
  const SWITCH = 'net.bridge.bridge-nf-call-iptables';

  beforeAll(async () => {
    requireRoot();
    if (!existsSync('/proc/sys/net/bridge')) await runAll(['modprobe', 'br_netfilter']);
    for (const ns of [c1, c2, r])
      await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runAll(
      ['ip', '-n', r, 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', '-n', r, 'link', 'set', 'br0', 'up'],
      ['ip', '-n', r, 'link', 'add', 'p1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c1],
      ['ip', '-n', r, 'link', 'add', 'p2', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c2],
      ...['p1', 'p2'].flatMap((p) => [
        ['ip', '-n', r, 'link', 'set', p, 'master', 'br0'],
        ['ip', '-n', r, 'link', 'set', p, 'up'],
      ]),
      ['ip', '-n', c1, 'addr', 'add', '10.94.0.2/24', 'dev', 'eth0'],
      ['ip', '-n', c2, 'addr', 'add', '10.94.0.3/24', 'dev', 'eth0'],
      ['ip', '-n', c1, 'link', 'set', 'eth0', 'up'],
      ['ip', '-n', c2, 'link', 'set', 'eth0', 'up'],
      ['ip', 'netns', 'exec', r, 'iptables', '-P', 'FORWARD', 'DROP'],
    );
    await bridgePortsForwarding(r, ['p1', 'p2']);
  });

  afterAll(async () => {
    for (const ns of namespacesStartingWith(P)) await run(['ip', 'netns', 'del', ns]);
  });

  /** One ping from c1 to c2 (its ARP first: the bridge's path is learned), captured on the four devices. */
  async function ping(): Promise<ExchangeRecord> {
    await runAll(['ip', '-n', c1, 'neigh', 'flush', 'all']);
    const { lines } = await captureWhile(
      ['-i', `${c1}/eth0`, '-i', `${r}/p1`, '-i', `${r}/p2`, '-i', `${c2}/eth0`],
      4,
      () => inNetns(c1, ['ping', '-c1', '-W1', '10.94.0.3']),
      (l) => exchangesOf(l, 'icmp-echo').length > 0,
    );
    return exchangesOf(lines, 'icmp-echo')[0];
  }

  it('the switch on: lost between the two ports; why: the FORWARD policy, met because of the switch', async () => {
    await runAll(['ip', 'netns', 'exec', r, 'sysctl', '-qw', `${SWITCH}=1`]);
    const echo = await ping();
    expect(echo.status).toBe('lost');
    expect(echo.lost).toEqual({
      stage: 'request',
      lastSeen: `${r}/p1`,
      missingOn: [`${r}/p2`, `${c2}/eth0`],
    });
    expect(echo.cause?.code).toBe('netfilter-drop');
    expect(echo.cause?.summary).toMatch(
      new RegExp(
        `FORWARD.*DROP.*, which the bridged packet meets because ${SWITCH.replaceAll('.', '\\.')} = 1 \\(br_netfilter\\)$`,
      ),
    );
    expect(echo.cause?.evidence).toContainEqual({ source: 'sysctl', netns: r, key: SWITCH, value: '1' });
  }, 60_000);

  it('the switch off: the bridge forwards it, whatever the FORWARD policy', async () => {
    await runAll(['ip', 'netns', 'exec', r, 'sysctl', '-qw', `${SWITCH}=0`]);
    const echo = await ping();
    expect(echo.status).toBe('ok');
  }, 60_000);
});
