// Verdicts on nova-flat, live and replayed (docs/verdicts.md): the echo reply dropped on
// br100, DHCP with dnsmasq stopped, DNS answers dropped — each judged exactly where it broke.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import {
  expectSameVerdictsOnHostClocks,
  ofKind,
  runScenario,
  verdictOf,
  type ScenarioRun,
} from './support/scenario-run.js';

const PREFIX = runPrefix('vnf');

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

async function expectReplayEqualsLive(run: ScenarioRun): Promise<void> {
  expect(run.replayed.map(verdictOf).sort()).toEqual(run.live.map(verdictOf).sort());
  expect(run.replaySummary).toEqual(run.liveSummary);
  expect(run.replayExit).toBe(run.liveExit);
  await expectSameVerdictsOnHostClocks(run);
}

describe('nova-flat', () => {
  it('reply-drop-br100: VM→external echoes lost on the way back, last seen on br100, missing on the tap and the VM', async () => {
    const run = await runScenario('nova-flat', 'reply-drop-br100', `${PREFIX}a-`);
    const p = run.lab.prefix;
    const echoes = ofKind(run.live, 'icmp-echo').filter((e) => e.key.startsWith('10.0.0.10>203.0.113.10 '));
    expect(echoes).toHaveLength(3);
    for (const e of echoes) {
      expect(e.status).toBe('lost');
      expect(e.lost).toEqual({
        stage: 'reply',
        lastSeen: `${p}compute/br100`,
        missingOn: [`${p}compute/tap7aa08012-d0`, `${p}instance-00000001/eth0`],
      });
      // the request went all the way, through the SNAT on eth1, to the external host
      expect(e.stages[0].seen.map((s) => s.iface)).toContain(`${p}external/eth0`);
    }
    // What the fault does not touch stays ok: DHCP, DNS, HTTP, and the external host pinging the floating IP.
    for (const kind of ['dhcp', 'dns', 'tcp-handshake']) {
      expect(ofKind(run.live, kind).map((e) => e.status)).toEqual(['ok']);
    }
    expect(run.liveExit).toBe(1);
    await expectReplayEqualsLive(run);
  }, 180_000);

  it('dnsmasq-stopped: the DHCP discover is unanswered at the bridge; DNS gets port-unreachable', async () => {
    const run = await runScenario('nova-flat', 'dnsmasq-stopped', `${PREFIX}b-`);
    const p = run.lab.prefix;
    const dhcp = ofKind(run.live, 'dhcp');
    expect(dhcp).toHaveLength(1);
    expect(dhcp[0].status).toBe('unanswered');
    expect(dhcp[0].lost).toEqual({ stage: 'offer', lastSeen: `${p}compute/br100`, missingOn: [] });
    // udhcpc retried: the discover stage holds its three packets
    expect(dhcp[0].stages[0]).toMatchObject({ name: 'discover', packets: 3 });
    // every attempt dig makes is refused by the host: one error exchange each
    const dns = ofKind(run.live, 'dns');
    expect(dns.length).toBeGreaterThanOrEqual(1);
    for (const e of dns) expect([e.status, e.detail]).toEqual(['error', 'port-unreachable']);
    expect(run.liveExit).toBe(1);
    await expectReplayEqualsLive(run);
  }, 180_000);

  it('dns-answer-drop: the VM’s DNS query is unanswered, last seen where dnsmasq listens', async () => {
    const run = await runScenario('nova-flat', 'dns-answer-drop', `${PREFIX}c-`);
    const p = run.lab.prefix;
    const dns = ofKind(run.live, 'dns');
    expect(dns.length).toBeGreaterThanOrEqual(1);
    for (const e of dns) {
      expect(e.status).toBe('unanswered');
      expect(e.key).toMatch(/^10\.0\.0\.10>10\.0\.0\.1 id=\d+ web\.lab A$/);
      expect(e.lost).toEqual({ stage: 'response', lastSeen: `${p}compute/br100`, missingOn: [] });
    }
    expect(ofKind(run.live, 'dhcp').map((e) => e.status)).toEqual(['ok']);
    expect(run.liveExit).toBe(1);
    await expectReplayEqualsLive(run);
  }, 180_000);

  it('dhcp-offer-drop: the offer leaves br100 and never reaches the tap: missing on the tap and in the VM', async () => {
    const run = await runScenario('nova-flat', 'dhcp-offer-drop', `${PREFIX}d-`);
    const p = run.lab.prefix;
    const dhcp = ofKind(run.live, 'dhcp');
    expect(dhcp).toHaveLength(1);
    expect(dhcp[0].status).toBe('lost');
    // nearest first: the tap on the way back, then the VM that asked
    expect(dhcp[0].lost).toEqual({
      stage: 'offer',
      lastSeen: `${p}compute/br100`,
      missingOn: [`${p}compute/tap7aa08012-d0`, `${p}instance-00000001/eth0`],
    });
    // the discover went from the VM through the tap to br100, in that order
    expect(dhcp[0].stages[0].seen.map((s) => s.iface)).toEqual([
      `${p}instance-00000001/eth0`,
      `${p}compute/tap7aa08012-d0`,
      `${p}compute/br100`,
    ]);
    expect(run.liveExit).toBe(1);
    await expectReplayEqualsLive(run);
  }, 180_000);
});
