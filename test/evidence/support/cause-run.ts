// One lab scenario with one fault, captured by the real CLI (`capture --json -w REC`)
// on every capture point while its traffic runs: the CLI gathers the cause of each
// verdict itself (started with the captured interfaces before the traffic, asked as
// each verdict comes, stopped at the end), and its exchange records carry them. Then
// the recording made in the same run is replayed (`replay REC --json`): its records
// must carry the same causes.
//
// Also what the tests check after every run: each lab namespace's ruleset as
// `nft -s list ruleset` (the rules without their counters) printed it before and after, byte for byte, and that no
// tracefs instance, BPF program or nft table of ours is left.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cause, ExchangeRecord } from '../../../src/events/types.js';
import { captureSpec, labDown, labUp, runTraffic, type LabView } from '../../../src/lab/index.js';
import { jsonRecords, startCli } from '../../support/cli-process.js';
import { runCli } from '../../support/run-cli.js';
import { ourBpfPrograms } from './bpf-programs.js';

export interface ExplainedExchange {
  exchange: ExchangeRecord;
  cause: Cause | null;
}

export interface CauseRun {
  lab: LabView;
  /** the live capture's exchange records, with their causes */
  explained: ExplainedExchange[];
  /**
   * When every capture point was up (epoch seconds, as the test saw it). Traffic that runs
   * from before the capture (a monitoring ping) has exchanges from while the captures were
   * still opening one by one: those seen only where a capture was already up are judged
   * on what those captures saw, not on the fault's hop.
   */
  capturingSince: number;
  /** the replay of its recording's */
  replayed: ExplainedExchange[];
  /** the capture's stderr, and the replay's */
  stderr: string;
  replayStderr: string;
  /** `nft -a list ruleset` of each lab namespace, read after the capture (handles) */
  rulesets: Map<string, string>;
  /** `nft list ruleset` before and after, per namespace */
  before: Map<string, string>;
  after: Map<string, string>;
  /** what was left after the capture ended */
  leftovers: { tracefs: string[]; bpf: string[]; nftTables: string[] };
}

export function nft(netns: string, args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', netns, 'nft', ...args], { encoding: 'utf8' });
}

/**
 * hopscope's tracefs instances on this machine (they are the kernel's, whichever mount
 * shows them). Where this mount namespace has no tracefs mounted (a machine whose boot
 * did not mount it), they are listed through a mount of its own in a mount namespace
 * that ends with the command, as the remote script mounts it (tracefs-script.ts): the
 * host's mounts are left as they are, and an instance left behind is still seen.
 */
export function tracefsInstances(): string[] {
  const dir = '/sys/kernel/tracing/instances';
  const names = existsSync(dir)
    ? readdirSync(dir)
    : execFileSync(
        'unshare',
        [
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          `mount -t tracefs nodev /sys/kernel/tracing && ls -1 ${dir}`,
        ],
        { encoding: 'utf8' },
      ).split('\n');
  return names.filter((n) => n.startsWith('hopscope-'));
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
  /** more arguments for `capture` (--trace-rules) */
  args?: readonly string[];
  /** run before the capture starts (after the lab is up) */
  prepare?: (lab: LabView) => Promise<void>;
  traffic?: readonly string[];
  /**
   * The capture is stopped once its exchange records so far — of exchanges that began
   * once every capture point was up — make this true (after the traffic ran); default: at
   * least one exchange that is not ok.
   */
  until?: (exchanges: readonly ExchangeRecord[]) => boolean;
}

function explained(records: ReadonlyArray<Record<string, unknown>>): ExplainedExchange[] {
  return records
    .filter((r) => r.type === 'exchange')
    .map((r) => {
      const exchange = r as unknown as ExchangeRecord;
      return { exchange, cause: exchange.cause ?? null };
    });
}

export async function runWithCauses(
  scenario: string,
  fault: string | undefined,
  prefix: string,
  options: RunOptions = {},
): Promise<CauseRun> {
  const lab = await labUp(scenario, { fault, prefix });
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-causes-'));
  const recording = join(dir, 'run.pcapng');
  let cli: ReturnType<typeof startCli> | null = null;
  try {
    await options.prepare?.(lab);
    const namespaces = lab.namespaces.map((n) => n.name);
    const before = new Map(namespaces.map((n) => [n, nft(n, ['-s', 'list', 'ruleset'])]));
    const specs = lab.capturePoints.map((p) => captureSpec(p, lab, options.remote ?? false));
    cli = startCli([
      'capture',
      ...specs.flatMap((s) => ['-i', s]),
      ...(options.remote ? ['--ssh-config', lab.sshConfigPath] : []),
      '--json',
      '-w',
      recording,
      ...(options.args ?? []),
    ]);
    const c = cli;
    await c.waitForLine(
      () => jsonRecords(c.lines).filter((r) => r.type === 'state' && r.state === 'up').length >= specs.length,
      90_000,
    );
    const capturingSince = Date.now() / 1000;
    await runTraffic(lab, {
      timeoutMs: 20_000,
      ...(options.traffic !== undefined ? { only: options.traffic } : {}),
    });
    // the verdicts of the traffic (a problem's record comes with its cause)
    const until = options.until ?? ((list) => list.some((e) => e.status !== 'ok'));
    await c.waitForLine(
      () =>
        until(
          explained(jsonRecords(c.lines.filter((l) => l.startsWith('{"type":"exchange"'))))
            .map((x) => x.exchange)
            .filter((e) => Number(e.ts) >= capturingSince),
        ),
      60_000,
    );
    c.child.kill('SIGINT');
    await c.exited;
    const live = explained(jsonRecords(c.lines));
    const replay = runCli(['replay', recording, '--json']);
    if (replay.status !== 0 && replay.status !== 1) throw new Error(`replay failed: ${replay.stderr}`);
    const rulesets = new Map(namespaces.map((n) => [n, nft(n, ['-a', 'list', 'ruleset'])]));
    const after = new Map(namespaces.map((n) => [n, nft(n, ['-s', 'list', 'ruleset'])]));
    const nftTables = namespaces.flatMap((n) =>
      nft(n, ['list', 'tables'])
        .split('\n')
        .filter((l) => l.includes('hopscope')),
    );
    return {
      lab,
      explained: live,
      capturingSince,
      replayed: explained(jsonRecords(replay.stdout.split('\n'))),
      stderr: c.stderr(),
      replayStderr: replay.stderr,
      rulesets,
      before,
      after,
      leftovers: { tracefs: tracefsInstances(), bpf: ourBpfPrograms(), nftTables },
    };
  } finally {
    if (cli !== null && cli.child.exitCode === null && cli.child.signalCode === null)
      cli.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await labDown(lab.prefix);
  }
}

/** Exchanges of the run that match, with their causes. */
export function exchangesWhere(run: CauseRun, match: (e: ExchangeRecord) => boolean): ExplainedExchange[] {
  return run.explained.filter((x) => match(x.exchange));
}
