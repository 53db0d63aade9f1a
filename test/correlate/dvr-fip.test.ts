// Verdicts on dvr-fip, live and replayed: the security group drops inbound ICMP and SSH
// (requests lost before the tap), br-ex without uplink (ARP unanswered at fg-).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { expectSameVerdictsOnHostClocks, ofKind, runScenario, verdictOf } from './support/scenario-run.js';

const PREFIX = runPrefix('vdf');
const QROUTER = 'qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50';
const FIP = 'fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8';

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

describe('dvr-fip', () => {
  it('sg-drop: inbound echo and SYN lost after qvb, missing on the tap and the VM; outbound ok', async () => {
    const run = await runScenario('dvr-fip', 'sg-drop', `${PREFIX}a-`);
    const p = run.lab.prefix;
    const lostAtSg = {
      lastSeen: `${p}compute/qvb7aa08012-d0`,
      missingOn: [`${p}compute/tap7aa08012-d0`, `${p}instance-0000002a/eth0`],
    };
    const inbound = ofKind(run.live, 'icmp-echo').filter((e) =>
      e.key.startsWith('203.0.113.1>203.0.113.20 '),
    );
    expect(inbound).toHaveLength(3);
    for (const e of inbound) {
      expect(e.status).toBe('lost');
      expect(e.lost).toEqual({ stage: 'request', ...lostAtSg });
      // through the floating IP: fg- and fpr- in the fip namespace, rfp- and qr- in the router
      const path = e.stages[0].seen.map((s) => s.iface);
      for (const hop of [
        `${p}${FIP}/fg-3c1d5e7f-a2`,
        `${p}${FIP}/fpr-6f774e8e-2`,
        `${p}${QROUTER}/qr-56c70d72-3b`,
      ])
        expect(path).toContain(hop);
    }
    const ssh = ofKind(run.live, 'tcp-handshake');
    expect(ssh).toHaveLength(1);
    expect(ssh[0].status).toBe('lost');
    expect(ssh[0].lost).toEqual({ stage: 'syn', ...lostAtSg });
    expect(ssh[0].key).toMatch(/^203\.0\.113\.1:\d+>203\.0\.113\.20:22 isn=\d+$/);
    // The VM's own traffic goes out and comes back (SNAT to its floating IP).
    const outbound = ofKind(run.live, 'icmp-echo').filter((e) => e.key.startsWith('10.0.0.5>'));
    expect(outbound.map((e) => e.status)).toEqual(['ok', 'ok', 'ok']);
    expect(outbound[0].rttMs).toBeGreaterThan(0);
    expect(ofKind(run.live, 'dhcp').map((e) => e.status)).toEqual(['ok']);
    expect(run.liveExit).toBe(1);
    expect(run.replayed.map(verdictOf).sort()).toEqual(run.live.map(verdictOf).sort());
    await expectSameVerdictsOnHostClocks(run);
    expect(run.replayExit).toBe(1);
  }, 180_000);

  it('br-ex-no-uplink: fg- asks for the outside gateway and nobody answers', async () => {
    const run = await runScenario('dvr-fip', 'br-ex-no-uplink', `${PREFIX}b-`);
    const p = run.lab.prefix;
    const arp = ofKind(run.live, 'arp').filter((e) => e.key === 'who-has 203.0.113.1 tell 203.0.113.4');
    expect(arp).toHaveLength(1);
    expect(arp[0].status).toBe('unanswered');
    expect(arp[0].lost).toEqual({ stage: 'reply', lastSeen: `${p}${FIP}/fg-3c1d5e7f-a2`, missingOn: [] });
    // The VM's pings never reach the outside router, which holds their destination: lost
    // in the fip namespace, which never sends them out of fg- (docs/verdicts.md "The
    // expected path", 5), or answered by its host-unreachable once ARP gave up.
    const outbound = ofKind(run.live, 'icmp-echo').filter((e) => e.key.startsWith('10.0.0.5>'));
    expect(outbound).toHaveLength(3);
    for (const e of outbound) {
      expect(['lost', 'error']).toContain(e.status);
      if (e.status === 'error') expect(e.detail).toBe('host-unreachable');
      else
        expect(e.lost).toEqual({
          stage: 'request',
          lastSeen: `${p}${FIP}/fpr-6f774e8e-2`,
          missingOn: [`${p}outside/eth0`],
        });
    }
    expect(run.liveExit).toBe(1);
    expect(run.replayed.map(verdictOf).sort()).toEqual(run.live.map(verdictOf).sort());
    await expectSameVerdictsOnHostClocks(run);
  }, 180_000);
});
