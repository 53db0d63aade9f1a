// One lab scenario with one fault, captured by the real CLI (`capture --json --packets`)
// on every capture point while its traffic runs, with the evidence gatherer running
// beside it as the pipeline will run it: started with the captured interfaces before
// the traffic, asked for the cause of each verdict as the verdict is printed (so the
// hop's state is read while the incident is on), stopped at the end.
//
// Also what the tests check after every run: each lab namespace's ruleset as
// `nft -s list ruleset` (the rules without their counters) printed it before and after, byte for byte, and that no
// tracefs instance, BPF program or nft table of ours is left.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { Cause, ExchangeRecord, PacketView } from '../../../src/events/types.js';
import { placeOf, tsToNs, type HopPlace } from '../../../src/evidence/context.js';
import { EvidenceGatherer, type EvidenceGathererOptions } from '../../../src/evidence/gatherer.js';
import { verdictContext } from '../../../src/evidence/verdict-context.js';
import { captureSpec, labDown, labUp, runTraffic, type LabView } from '../../../src/lab/index.js';
import { jsonRecords, startCli } from '../../support/cli-process.js';
import { ourBpfPrograms } from './bpf-programs.js';

export interface ExplainedExchange {
  exchange: ExchangeRecord;
  cause: Cause | null;
}

export interface CauseRun {
  lab: LabView;
  explained: ExplainedExchange[];
  /** `nft -a list ruleset` of each lab namespace, read during the run (handles) */
  rulesets: Map<string, string>;
  /** `nft list ruleset` before and after, per namespace */
  before: Map<string, string>;
  after: Map<string, string>;
  /** what was left after the gatherer stopped */
  leftovers: { tracefs: string[]; bpf: string[]; nftTables: string[] };
  gatherer: EvidenceGatherer;
}

const SETTLE_MS = 2500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function nft(netns: string, args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', netns, 'nft', ...args], { encoding: 'utf8' });
}

export function tracefsInstances(): string[] {
  try {
    return readdirSync('/sys/kernel/tracing/instances').filter((n) => n.startsWith('hopscope-'));
  } catch {
    return [];
  }
}

/** The handle `nft -a list ruleset` gives the rule whose text contains `text`, in table FAMILY NAME. */
export function handleOf(ruleset: string, table: string, text: string): number {
  let inTable = false;
  for (const line of ruleset.split('\n')) {
    const t = /^table (\S+ \S+) \{/.exec(line);
    if (t !== null) inTable = t[1] === table;
    const h = / # handle (\d+)$/.exec(line);
    if (inTable && h !== null && line.includes(text)) return Number(h[1]);
  }
  throw new Error(`no rule with ${text} in table ${table}:\n${ruleset}`);
}

export interface RunOptions {
  /** capture (and read hops) over the lab's ssh instead of locally */
  remote?: boolean;
  gatherer?: EvidenceGathererOptions;
  /** run before the capture starts (after the lab is up) */
  prepare?: (lab: LabView) => Promise<void>;
  traffic?: readonly string[];
}

export async function runWithCauses(
  scenario: string,
  fault: string | undefined,
  prefix: string,
  options: RunOptions = {},
): Promise<CauseRun> {
  const lab = await labUp(scenario, { fault, prefix });
  const gatherer = new EvidenceGatherer({
    ...(options.remote ? { sshConfig: lab.sshConfigPath } : {}),
    ...options.gatherer,
  });
  let cli: ReturnType<typeof startCli> | null = null;
  try {
    await options.prepare?.(lab);
    const namespaces = lab.namespaces.map((n) => n.name);
    const before = new Map(namespaces.map((n) => [n, nft(n, ['-s', 'list', 'ruleset'])]));
    const specs = lab.capturePoints.map((p) => captureSpec(p, lab, options.remote ?? false));
    const places: HopPlace[] = specs.map((s) => placeOf(s));
    await gatherer.start(places);
    cli = startCli([
      'capture',
      ...specs.flatMap((s) => ['-i', s]),
      ...(options.remote ? ['--ssh-config', lab.sshConfigPath] : []),
      '--json',
      '--packets',
    ]);
    const c = cli;
    await c.waitForLine(
      () => jsonRecords(c.lines).filter((r) => r.type === 'state' && r.state === 'up').length >= specs.length,
      90_000,
    );

    // packets by interface and time stamp, and each verdict explained as it comes
    const packets = new Map<string, PacketView>();
    // per interface, for sightings on a remote host's clock (moved by its estimated offset)
    const byIface = new Map<string, Array<{ ns: bigint; view: PacketView }>>();
    const explaining: Array<Promise<ExplainedExchange>> = [];
    // a verdict may be printed before the packet records of its last batch: it waits for them
    const waiting: Array<{ ex: ExchangeRecord; since: number }> = [];
    let read = 0;
    const NEAR_NS = 50_000_000n;
    const lookup = (iface: string, ts: string): PacketView | null => {
      const exact = packets.get(`${iface} ${ts}`);
      if (exact !== undefined) return exact;
      const at = tsToNs(ts);
      let best: { d: bigint; view: PacketView } | null = null;
      for (const x of byIface.get(iface) ?? []) {
        const d = x.ns > at ? x.ns - at : at - x.ns;
        if (d < NEAR_NS && (best === null || d < best.d)) best = { d, view: x.view };
      }
      return best?.view ?? null;
    };
    const take = (final = false): void => {
      for (; read < c.lines.length; read++) {
        const line = c.lines[read];
        if (!line.startsWith('{')) continue;
        const r = JSON.parse(line) as { type: string };
        if (r.type === 'packet') {
          const p = r as PacketView;
          packets.set(`${p.iface} ${p.ts}`, p);
          const list = byIface.get(p.iface) ?? [];
          list.push({ ns: tsToNs(p.ts), view: p });
          byIface.set(p.iface, list);
        } else if (r.type === 'exchange') waiting.push({ ex: r as ExchangeRecord, since: Date.now() });
      }
      for (let k = 0; k < waiting.length;) {
        const { ex, since } = waiting[k];
        const ctx = verdictContext(ex, lookup);
        if (ctx.packet === null && !final && Date.now() - since < 5000) {
          k++;
          continue;
        }
        waiting.splice(k, 1);
        explaining.push(gatherer.explain(ctx).then((cause) => ({ exchange: ex, cause })));
      }
    };
    const poll = setInterval(take, 50);
    await runTraffic(lab, {
      timeoutMs: 20_000,
      ...(options.traffic !== undefined ? { only: options.traffic } : {}),
    });
    await sleep(SETTLE_MS);
    c.child.kill('SIGINT');
    await c.exited;
    clearInterval(poll);
    take(true);
    const explained = await Promise.all(explaining);
    const rulesets = new Map(namespaces.map((n) => [n, nft(n, ['-a', 'list', 'ruleset'])]));
    await gatherer.stop();
    const after = new Map(namespaces.map((n) => [n, nft(n, ['-s', 'list', 'ruleset'])]));
    const nftTables = namespaces.flatMap((n) =>
      nft(n, ['list', 'tables'])
        .split('\n')
        .filter((l) => l.includes('hopscope')),
    );
    return {
      lab,
      explained,
      rulesets,
      before,
      after,
      leftovers: { tracefs: tracefsInstances(), bpf: ourBpfPrograms(), nftTables },
      gatherer,
    };
  } finally {
    if (cli !== null && cli.child.exitCode === null && cli.child.signalCode === null)
      cli.child.kill('SIGKILL');
    await gatherer.stop();
    await labDown(lab.prefix);
  }
}

/** Exchanges of the run that match, with their causes. */
export function exchangesWhere(run: CauseRun, match: (e: ExchangeRecord) => boolean): ExplainedExchange[] {
  return run.explained.filter((x) => match(x.exchange));
}
