// The gatherer as the pipeline will use it, beyond the faults' own causes: a drop rule
// on a hop the exchange never crossed is never blamed; without privileges every
// source says it could not be read, and nothing throws.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cause, ExchangeRecord } from '../../src/events/types.js';
import { placeOf } from '../../src/evidence/context.js';
import { labDown, labUp } from '../../src/lab/index.js';
import { downAllLabs, inNetns, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { nft, runWithCauses } from './support/cause-run.js';
import { checkCauses } from './support/check-causes.js';
import { EXPECTED_CAUSES } from './support/expected-causes.js';
import { asNobodyArgv } from '../support/as-nobody.js';

const PREFIX = runPrefix('cga');
const DHCP_NS = 'qdhcp-8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

describe('evidence gatherer', () => {
  it('a drop rule that fits the packet, on a hop the exchange never crossed, is never blamed', async () => {
    const fault = EXPECTED_CAUSES.find((f) => f.scenario === 'dvr-fip' && f.fault === 'sg-drop');
    if (fault === undefined) throw new Error('no sg-drop expectations');
    const run = await runWithCauses('dvr-fip', 'sg-drop', `${PREFIX}a-`, {
      prepare: async (lab) => {
        // the network node's DHCP namespace drops exactly what the security group drops
        const ns = `${lab.prefix}${DHCP_NS}`;
        const r = await inNetns(ns, [
          'nft',
          'add table inet decoy; add chain inet decoy input { type filter hook input priority 0; }; ' +
            'add rule inet decoy input icmp type echo-request drop; add rule inet decoy input tcp dport 22 drop',
        ]);
        expect(r.exitCode, r.stderr).toBe(0);
        expect(nft(ns, ['list', 'ruleset'])).toContain('table inet decoy');
      },
    });
    await checkCauses(run, fault);
    for (const { cause } of run.explained) {
      expect(JSON.stringify(cause)).not.toContain('decoy');
      expect(JSON.stringify(cause)).not.toContain(DHCP_NS);
    }
  }, 180_000);

  describe('without privileges', () => {
    let input = '';
    let prefix = '';
    beforeAll(async () => {
      const lab = await labUp('dnat-local', { fault: 'no-route-localnet', prefix: `${PREFIX}b-` });
      prefix = lab.prefix;
      const p = lab.prefix;
      const label = `${p}edge/eth0`;
      const exchange: ExchangeRecord = {
        type: 'exchange',
        kind: 'tcp-handshake',
        key: '198.51.100.10:40000>198.51.100.1:80 isn=1000',
        flow: { src: '198.51.100.10', dst: '198.51.100.1', sport: 40000, dport: 80, isn: 1000 },
        status: 'unanswered',
        stages: [
          {
            name: 'syn',
            packets: 1,
            seen: [
              { iface: `${p}client/eth0`, ts: '1.0' },
              { iface: label, ts: '1.0' },
            ],
          },
        ],
        lost: { stage: 'syn-ack', lastSeen: label, missingOn: [] },
        ts: '1.0',
      };
      input = JSON.stringify({
        places: lab.capturePoints.map((c) => placeOf(`${c.netns}/${c.iface}`)),
        exchange,
        packet: {
          family: 4,
          src: '198.51.100.10',
          dst: '198.51.100.1',
          proto: 6,
          ipId: 1,
          ipLength: 60,
          sport: 40000,
          dport: 80,
          icmpType: null,
          icmpId: null,
          icmpSeq: null,
          tcpSeq: 1000,
          tcpFlags: 2,
          dontFragment: true,
          aliases: [],
        },
        lastSeen: placeOf(label),
        next: null,
        path: [placeOf(`${p}client/eth0`), placeOf(label)],
        window: {
          startNs: String(BigInt(Date.now()) * 1_000_000n),
          endNs: String(BigInt(Date.now() + 2000) * 1_000_000n),
        },
      });
    });
    afterAll(async () => labDown(prefix));

    const run = (wrap: (argv: string[]) => string[]): { cause: Cause; kernelUnavailable: string } => {
      const [cmd, ...args] = wrap([
        process.execPath,
        'test/evidence/support/ts-child.mjs',
        'test/evidence/support/gatherer-child.ts',
        input,
      ]);
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as { cause: Cause; kernelUnavailable: string };
    };

    it.each([
      [
        'root without capabilities',
        (argv: string[]) => ['setpriv', '--bounding-set=-all', '--inh-caps=-all', ...argv],
      ],
      ['nobody', asNobodyArgv],
    ])('%s: each source says it could not be read, the verdict stands, nothing throws', (_what, wrapper) => {
      const { cause, kernelUnavailable } = run(wrapper);
      expect(kernelUnavailable).toMatch(/needs root/);
      expect(cause.code).toBe('unknown');
      expect(cause.at).toBe(`${prefix}edge/eth0`);
      const unreadable = new Map(
        cause.evidence
          .filter((e): e is typeof e & { unreadable: string } => 'unreadable' in e)
          .map((e) => [e.source, e.unreadable]),
      );
      expect(unreadable.get('kernel')).toMatch(/needs root/);
      for (const source of [
        'nftables',
        'iptables',
        'link',
        'neighbour',
        'sysctl',
        'conntrack',
        'socket',
      ] as const)
        expect(unreadable.get(source), source).toMatch(new RegExp(`cannot enter namespace ${prefix}edge`));
    });
  });
});
