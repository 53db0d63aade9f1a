// `hopscope capture --path SRC DST` is the whole command in an incident: on each faulty
// lab scenario, captured at the same time as the lab tests' hand-written `-i` list, it
// gives the same verdicts for the flow between SRC and DST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { labDown, labUp, runTraffic, type LabView } from '../../src/lab/index.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { jsonRecords, startCli, type CliProcess } from '../support/cli-process.js';
import { expectContract } from '../support/json-schema.js';
import { runCli } from '../support/run-cli.js';
import { localSpecs, SETTLE_MS } from '../correlate/support/scenario-run.js';
import { canonicalLabel } from '../correlate/support/split-run.js';

const PREFIX = runPrefix('pcp');

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function upCount(cli: CliProcess, count: number): Promise<void> {
  await cli.waitForLine(
    () => jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length >= count,
    60_000,
  );
}

/** What a verdict says, interfaces by capture point: status, detail, where it was lost. */
function verdict(lab: LabView, ex: ExchangeRecord): string {
  const c = (label: string | null): string => (label === null ? '-' : canonicalLabel(lab, label));
  const lost =
    ex.lost === undefined
      ? ''
      : ` ${ex.lost.stage} last=${c(ex.lost.lastSeen)} missing=${ex.lost.missingOn.map(c).join(',')}`;
  return `${ex.kind} ${ex.key} ${ex.status}${ex.detail !== undefined ? ` (${ex.detail})` : ''}${lost}`;
}

const CASES: Array<{ scenario: string; fault: string; src: string; dst: string; flow: RegExp }> = [
  {
    scenario: 'nova-flat',
    fault: 'reply-drop-br100',
    src: '10.0.0.10',
    dst: '203.0.113.10',
    flow: /^10\.0\.0\.10>203\.0\.113\.10 /,
  },
  {
    scenario: 'dvr-fip',
    fault: 'sg-drop',
    src: '203.0.113.1',
    dst: '203.0.113.20',
    flow: /^203\.0\.113\.1(:\d+)?>203\.0\.113\.20[ :]/,
  },
  {
    scenario: 'sdn-vxlan',
    fault: 'mtu-mismatch',
    src: '10.128.0.5',
    dst: '10.128.2.5',
    flow: /^10\.128\.0\.5(:\d+)?>10\.128\.2\.5[ :]/,
  },
  {
    scenario: 'dnat-local',
    fault: 'no-route-localnet',
    src: '198.51.100.10',
    dst: '198.51.100.1',
    flow: /^198\.51\.100\.10(:\d+)?>198\.51\.100\.1[ :]/,
  },
];

describe('capture --path', () => {
  it.each(CASES)(
    '$scenario $fault: --path $src $dst gives the verdicts of the hand-written -i list',
    async (c) => {
      const lab = await labUp(c.scenario, { fault: c.fault, prefix: `${PREFIX}${c.scenario.slice(0, 3)}-` });
      const clis: CliProcess[] = [];
      try {
        // the chain's interfaces (the same lookup --path makes)
        // (only this lab's namespaces: other test files run labs with the same addresses)
        const netns = ['--netns', `${lab.prefix}*`];
        const found = runCli(['path', c.src, c.dst, ...netns, '--json']);
        // 0, or 1 where the fault stops the path (a missing route, a martian)
        expect([0, 1], found.stderr).toContain(found.status);
        const printed: unknown = JSON.parse(found.stdout.trim().split('\n').at(-1) ?? '{}');
        expectContract([printed], `hopscope path ${c.src} ${c.dst} --json`);
        const chain = printed as { capture?: string[] };
        const chainLength = chain.capture?.length ?? 0;
        expect(chainLength).toBeGreaterThan(1);
        const listed = localSpecs(lab);
        clis.push(startCli(['capture', ...listed.flatMap((s) => ['-i', s]), '--json']));
        clis.push(startCli(['capture', '--path', c.src, c.dst, ...netns, '--json']));
        const [byList, byPath] = clis;
        await upCount(byList, listed.length);
        await upCount(byPath, chainLength);
        await runTraffic(lab, { timeoutMs: 20_000 });
        await sleep(SETTLE_MS);
        for (const cli of clis) cli.child.kill('SIGINT');
        await Promise.all(clis.map((cli) => cli.exited));
        const flowVerdicts = (cli: CliProcess): string[] =>
          (jsonRecords(cli.lines).filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[])
            .filter((e) => c.flow.test(e.key))
            .map((e) => verdict(lab, e))
            .sort();
        const want = flowVerdicts(byList);
        expect(want.length).toBeGreaterThan(0);
        // the fault shows on this flow
        expect(want.some((v) => / (lost|unanswered|error) /.test(v))).toBe(true);
        expect(flowVerdicts(byPath)).toEqual(want);
      } finally {
        for (const cli of clis)
          if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
        await labDown(lab.prefix);
      }
    },
    180_000,
  );

  it('without two addresses, or with -i and a stray argument: one line, exit 2', () => {
    for (const args of [
      ['--path', '10.0.0.5'],
      ['--path', '10.0.0.5', 'a', 'b'],
    ]) {
      const r = runCli(['capture', ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^hopscope: capture: --path takes two addresses, SRC and DST/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const noWay = runCli(['capture', '--path', '192.0.2.77', '192.0.2.78']);
    expect(noWay.status).toBe(2);
    expect(noWay.stderr).toMatch(/^hopscope: capture: --path: /);
  });
});
