// The hosts of a lab split between real ssh (each lab host runs its own sshd, its
// interfaces captured by tcpdump over ssh) and local namespaces give the same verdicts
// as capturing every interface locally, exchange by exchange: the same exchanges, the
// same status, lost at the same stage, last seen and missing on the same capture points,
// and each lost exchange's path in the same order — captured at the same time, on the
// same packets. The split capture's ssh hosts get clock offsets, each with its
// uncertainty; the verdicts must not depend on them. Compared is what both captured:
// the exchanges of the window in which both had every interface up (split-run.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturePoint } from '../../src/lab/index.js';
import { parseLabel } from '../../src/framing/index.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import {
  canonicalLabel,
  comparableVerdicts,
  packetsInWindow,
  runSplit,
  splitSpecs,
  summaryOf,
  type SplitRun,
} from './support/split-run.js';

const PREFIX = runPrefix('ssp');

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

/** The lab hosts an exchange that lost something touched: where it was seen and where it is missing. */
function hostsTouched(run: SplitRun, labels: readonly string[]): Set<string> {
  return new Set(labels.map((l) => canonicalLabel(run.lab, l).split(':')[0]));
}

function expectSameVerdicts(run: SplitRun): void {
  const { local, split, outside } = comparableVerdicts(run);
  const where = `recordings: all local ${run.local.recording}, split ${run.split.recording}; left out (seen outside the window both captured in): ${outside.join('; ') || 'none'}`;
  const localSpecs = run.split.specs.filter((s) => parseLabel(s).host === null);
  expect(run.sshHosts.length, run.split.specs.join(' ')).toBeGreaterThanOrEqual(2);
  expect(localSpecs.length, run.split.specs.join(' ')).toBeGreaterThanOrEqual(1);

  // The fault shows, across hosts, in the window compared: not a comparison of two empty runs.
  const crossing = run.local.exchanges.filter(
    (e) =>
      e.lost !== undefined &&
      !outside.includes(`${e.kind} ${e.key}`) &&
      hostsTouched(run, [
        ...e.stages.flatMap((s) => s.seen.map((x) => x.iface)),
        ...e.lost.missingOn,
        ...(e.lost.lastSeen === null ? [] : [e.lost.lastSeen]),
      ]).size >= 2,
  );
  expect(crossing.length, where).toBeGreaterThan(0);

  // Each interface over ssh captured from the moment it was reported up: in the window,
  // both recordings hold as many packets of every capture point.
  expect(packetsInWindow(run, run.split), where).toEqual(packetsInWindow(run, run.local));

  expect([...split.keys()], where).toEqual([...local.keys()]);
  for (const [exchange, verdicts] of local)
    expect(split.get(exchange), `${exchange}; ${where}`).toEqual(verdicts);
  // Each summary counts the verdicts its capture printed (those compared above among them).
  expect(run.local.summary, where).toEqual(summaryOf(run.local.exchanges));
  expect(run.split.summary, where).toEqual(summaryOf(run.split.exchanges));
  expect(run.split.exit, where).toBe(run.local.exit);

  // Every host of the split capture but the reference (the first named) has its clock
  // offset estimated, with how far it may be off.
  const reference = parseLabel(run.split.specs[0]).host ?? 'local';
  const hosts = [...new Set(run.split.specs.map((s) => parseLabel(s).host ?? 'local'))];
  for (const c of run.split.clocks) expect(c.reference).toBe(reference);
  for (const host of hosts.filter((h) => h !== reference)) {
    const last = run.split.clocks.filter((c) => c.host === host).at(-1);
    expect(last, `clock of ${host}: ${JSON.stringify(run.split.clocks)}`).toBeDefined();
    expect(Number.isFinite(last?.uncertaintyMs), JSON.stringify(last)).toBe(true);
    expect(last?.uncertaintyMs).toBeGreaterThanOrEqual(0);
  }
  run.removeRecordings();
}

const inNamespace =
  (...names: string[]) =>
  (p: CapturePoint): boolean =>
    names.some((n) => p.netns.endsWith(n));

describe('hosts split between ssh and local namespaces: the verdicts of an all-local capture', () => {
  it('nova-flat reply-drop-br100: compute and external over ssh, the VM’s eth0 local', async () => {
    const run = await runSplit('nova-flat', 'reply-drop-br100', `${PREFIX}a-`, (lab) =>
      splitSpecs(lab, inNamespace('instance-00000001')),
    );
    expectSameVerdicts(run);
  }, 180_000);

  it('dvr-fip sg-drop: compute, network and outside over ssh, the qrouter and fip namespaces local', async () => {
    const run = await runSplit('dvr-fip', 'sg-drop', `${PREFIX}b-`, (lab) =>
      splitSpecs(
        lab,
        inNamespace(
          'qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50',
          'fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8',
        ),
      ),
    );
    expectSameVerdicts(run);
  }, 180_000);

  it('sdn-vxlan mtu-mismatch: node1 and node2 over ssh, node2’s pod namespace local', async () => {
    const run = await runSplit('sdn-vxlan', 'mtu-mismatch', `${PREFIX}c-`, (lab) =>
      splitSpecs(lab, inNamespace('cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d')),
    );
    expectSameVerdicts(run);
  }, 180_000);
});
