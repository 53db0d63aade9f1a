// The order an operator names interfaces in is not the packet's path. On nova-flat with
// the echo reply dropped on br100, the tap and its bridge stamp the VM's request the
// same nanosecond, and the bridge has taken the tap's MAC. Named bridge first, the
// request was taken to start on br100 — and the reply, which reached br100, to have
// reached its asker: the ping was judged ok while the VM got nothing. Where the MAC
// addresses live says otherwise: the request, sent to the gateway's MAC, ends on the one
// of the two that holds addresses, the bridge (docs/verdicts.md "Hop order"). So too
// over ssh, where the captures come up in any order, and in the recording's replay (its
// interface blocks carry if_MACaddr).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { labUp, type LabView } from '../../src/lab/index.js';
import { downAllLabs, inNetns, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { captureWhile, exchangesOf } from '../support/cli-process.js';
import { runCli } from '../support/run-cli.js';

const TAP = 'tap7aa08012-d0';

describe('interfaces named against the path: a bridge before its port', () => {
  const PREFIX = runPrefix('order');
  let lab: LabView;
  let work: string;

  beforeAll(async () => {
    requireRoot();
    work = mkdtempSync(join(tmpdir(), 'hopscope-order-'));
    lab = await labUp('nova-flat', { fault: 'reply-drop-br100', prefix: PREFIX });
  }, 180_000);

  afterAll(async () => {
    await downAllLabs(PREFIX);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  /** Captures `specs` (in that order) while the VM pings the external host twice; its echo records. */
  async function pingWhile(specs: string[], extra: string[]): Promise<ExchangeRecord[]> {
    const { lines } = await captureWhile(
      [...specs.flatMap((s) => ['-i', s]), '-f', 'icmp', ...extra],
      specs.length,
      async () => {
        const ping = await inNetns(`${lab.prefix}instance-00000001`, [
          'ping',
          '-c',
          '2',
          '-i',
          '0.2',
          '-W',
          '1',
          '203.0.113.10',
        ]);
        expect(ping.exitCode).not.toBe(0);
      },
      (l) => exchangesOf(l, 'icmp-echo').length === 2,
    );
    return exchangesOf(lines, 'icmp-echo');
  }

  function expectLostBeforeTheTap(echo: ExchangeRecord, compute: string, external: string): void {
    expect(echo.status).toBe('lost');
    expect(echo.lost).toEqual({
      stage: 'reply',
      lastSeen: `${compute}br100`,
      missingOn: [`${compute}${TAP}`],
    });
    expect(echo.stages[0].seen.map((s) => s.iface)).toEqual([
      `${compute}${TAP}`,
      `${compute}br100`,
      `${compute}eth1`,
      external,
    ]);
  }

  it('local captures: lost on br100, never reaching the tap; so says the replay of the recording', async () => {
    const compute = `${lab.prefix}compute/`;
    const external = `${lab.prefix}external/eth0`;
    const recording = join(work, 'order.pcapng');
    const live = await pingWhile(
      [`${compute}br100`, `${compute}${TAP}`, `${compute}eth1`, external],
      ['-w', recording],
    );
    for (const echo of live) expectLostBeforeTheTap(echo, compute, external);
    // (its interface blocks carry each interface's MAC: if_MACaddr)
    const replayed = exchangesOf(runCli(['replay', recording, '--json']).stdout.split('\n'), 'icmp-echo');
    expect(replayed.map((e) => [e.status, e.lost])).toEqual(live.map((e) => [e.status, e.lost]));
  }, 120_000);

  it('over ssh, each capture coming up when its session does: the same', async () => {
    const compute = `${lab.prefix}compute:`;
    const external = `${lab.prefix}external:eth0`;
    const live = await pingWhile(
      [`${compute}br100`, `${compute}${TAP}`, `${compute}eth1`, external],
      ['--ssh-config', lab.sshConfigPath],
    );
    for (const echo of live) expectLostBeforeTheTap(echo, compute, external);
  }, 120_000);
});
