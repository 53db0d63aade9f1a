// Verdicts on dnat-local, live and replayed: SYNs DNAT-ed to 127.0.0.1 without
// route_localnet are dropped as martians — unanswered, last seen on the ingress NIC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { expectSameVerdictsOnHostClocks, ofKind, runScenario, verdictOf } from './support/scenario-run.js';

const PREFIX = runPrefix('vdl');

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

describe('dnat-local', () => {
  it('no-route-localnet: the SYN reaches the edge NIC and no SYN-ACK is seen anywhere', async () => {
    const run = await runScenario('dnat-local', 'no-route-localnet', PREFIX);
    const p = run.lab.prefix;
    const syn = ofKind(run.live, 'tcp-handshake');
    expect(syn).toHaveLength(1);
    expect(syn[0].status).toBe('unanswered');
    expect(syn[0].key).toMatch(/^198\.51\.100\.10:\d+>198\.51\.100\.1:80 isn=\d+$/);
    expect(syn[0].lost).toEqual({ stage: 'syn-ack', lastSeen: `${p}edge/eth0`, missingOn: [] });
    // the client retransmitted its SYN: one exchange, several packets
    expect(syn[0].stages[0].packets).toBeGreaterThanOrEqual(2);
    // ping to the same address works: the host is there, only the DNAT-ed port is not
    expect(ofKind(run.live, 'icmp-echo').map((e) => e.status)).toEqual(['ok', 'ok', 'ok']);
    expect(run.liveExit).toBe(1);
    expect(run.replayed.map(verdictOf).sort()).toEqual(run.live.map(verdictOf).sort());
    await expectSameVerdictsOnHostClocks(run);
  }, 180_000);
});
