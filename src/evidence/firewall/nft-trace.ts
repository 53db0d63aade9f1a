// Opt-in rule tracing (`--trace-rules`, docs/json-lines.md `cause`): for one flow in one namespace,
// a temporary table marks its packets with `meta nftrace set 1` at the earliest hooks,
// and `nft -a monitor trace` says which rule of which chain each marked packet met
// and what it decided — the rule that dropped it by its handle, with no guessing. It
// changes the system, so it is only ever started when asked, and removed after:
//
//   table inet   hopscope_trace_<pid>_<nonce>   prerouting and output, priority -350
//   table bridge hopscope_trace_<pid>_<nonce>   the same for bridged frames
//
// stop() deletes both tables, leaving the ruleset as it was (`nft list ruleset` prints
// the same bytes). Tables of a run that was killed are recognised by the pid in their
// name (no such process any more) and removed by cleanStale(), which a run calls first.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { validateNetnsName } from '../../sources/remote-script.js';
import { isIpAddress } from '../state/hop-script.js';

export const TRACE_TABLE_PREFIX = 'hopscope_trace_';
/** Before conntrack (-200) and every usual filter, so marked packets are traced through all of them. */
const TRACE_PRIORITY = -350;

export interface TraceFlow {
  family: 4 | 6;
  /** the flow's addresses, before and after NAT: its packets have them on either side */
  addresses: readonly string[];
}

/** One line of `nft -a monitor trace`. */
export type TraceEvent =
  | { kind: 'packet'; id: string; family: string; table: string; chain: string; packet: string }
  | {
      kind: 'rule';
      id: string;
      family: string;
      table: string;
      chain: string;
      rule: string;
      handle: number;
      verdict: string;
    }
  | { kind: 'policy' | 'verdict'; id: string; family: string; table: string; chain: string; verdict: string };

const LINE = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (.*)$/;

export function parseTraceLine(line: string): TraceEvent | null {
  const m = LINE.exec(line.trim());
  if (m === null) return null;
  const [, id, family, table, chain, rest] = m;
  if (rest.startsWith('packet: ')) return { kind: 'packet', id, family, table, chain, packet: rest.slice(8) };
  const policy = /^policy (\S+)/.exec(rest);
  if (policy !== null) return { kind: 'policy', id, family, table, chain, verdict: policy[1] };
  const verdict = /^verdict (\S+)/.exec(rest);
  if (verdict !== null) return { kind: 'verdict', id, family, table, chain, verdict: verdict[1] };
  const rule =
    /^rule (.*?) # handle (\d+) \(verdict (\S+)\)$/.exec(rest) ??
    /^(unknown) rule handle (\d+) \(verdict (\S+)\)$/.exec(rest);
  if (rule !== null)
    return {
      kind: 'rule',
      id,
      family,
      table,
      chain,
      // as the ruleset reader writes rules: counter values left out
      rule: rule[1].replace(/counter packets \d+ bytes \d+/g, 'counter'),
      handle: Number(rule[2]),
      verdict: rule[3],
    };
  return null;
}

/** The nft script that creates the trace tables for `flow`. */
export function traceTablesScript(name: string, flow: TraceFlow): string {
  if (!new RegExp(`^${TRACE_TABLE_PREFIX}\\d+_[a-z0-9]+$`).test(name))
    throw new Error(`bad trace table name ${name}`);
  const addresses = [...new Set(flow.addresses)];
  if (addresses.length === 0 || addresses.some((a) => !isIpAddress(a)))
    throw new Error('a trace needs the flow’s addresses');
  const ip = flow.family === 4 ? 'ip' : 'ip6';
  const set = `{ ${addresses.join(', ')} }`;
  const mark = `${ip} saddr ${set} ${ip} daddr ${set} meta nftrace set 1`;
  const chains = ['prerouting', 'output']
    .map(
      (hook) =>
        `  chain ${hook} {\n    type filter hook ${hook} priority ${TRACE_PRIORITY}; policy accept;\n    ${mark}\n  }\n`,
    )
    .join('');
  return `table inet ${name} {\n${chains}}\ntable bridge ${name} {\n${chains}}\n`;
}

function inNetns(netns: string | null, argv: string[]): string[] {
  if (netns === null) return argv;
  validateNetnsName(netns);
  return ['ip', 'netns', 'exec', netns, ...argv];
}

export class RuleTrace {
  readonly netns: string | null;
  readonly table: string;
  readonly #flow: TraceFlow;
  #monitor: ChildProcess | null = null;
  #partial = '';
  readonly events: TraceEvent[] = [];
  #created = false;

  constructor(netns: string | null, flow: TraceFlow, nonce: string = randomBytes(4).toString('hex')) {
    this.netns = netns;
    this.#flow = flow;
    this.table = `${TRACE_TABLE_PREFIX}${process.pid}_${nonce}`;
  }

  /** Removes trace tables of runs whose process is gone; returns their names. */
  static async cleanStale(netns: string | null): Promise<string[]> {
    const argv = inNetns(netns, ['nft', 'list', 'tables']);
    const r = await execa(argv[0], argv.slice(1), { reject: false });
    const stale = new Set<string>();
    for (const line of String(r.stdout).split('\n')) {
      const m = new RegExp(`^table (inet|bridge) (${TRACE_TABLE_PREFIX}(\\d+)_[a-z0-9]+)$`).exec(line.trim());
      if (m !== null && !existsSync(`/proc/${m[3]}`)) stale.add(`${m[1]} ${m[2]}`);
    }
    for (const t of stale) {
      const del = inNetns(netns, ['nft', 'delete', 'table', ...t.split(' ')]);
      await execa(del[0], del.slice(1), { reject: false });
    }
    return [...stale].map((t) => t.split(' ')[1]).filter((n, k, all) => all.indexOf(n) === k);
  }

  /** Starts the monitor, then adds the tables; resolves once both are in place. */
  async start(): Promise<void> {
    const monitor = inNetns(this.netns, ['nft', '-a', 'monitor', 'trace']);
    const child = spawn(monitor[0], monitor.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#monitor = child;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const lines = (this.#partial + chunk).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        const e = parseTraceLine(line);
        // our own marking rule is not evidence
        if (e !== null && e.table !== this.table) this.events.push(e);
      }
    });
    const add = inNetns(this.netns, ['nft', '-f', '-']);
    const r = await execa(add[0], add.slice(1), {
      input: traceTablesScript(this.table, this.#flow),
      reject: false,
    });
    if (r.exitCode !== 0) {
      await this.stop();
      throw new Error(`cannot add the trace tables: ${String(r.stderr).trim().split('\n')[0]}`);
    }
    this.#created = true;
  }

  /** The rules that dropped or rejected the flow's packets, as the trace saw them. */
  drops(): Array<Extract<TraceEvent, { kind: 'rule' }>> {
    return this.events.filter(
      (e): e is Extract<TraceEvent, { kind: 'rule' }> =>
        e.kind === 'rule' && (e.verdict === 'drop' || e.verdict === 'reject'),
    );
  }

  /** Deletes the tables (the ruleset is as it was) and ends the monitor. Idempotent. */
  async stop(): Promise<void> {
    if (this.#created) {
      this.#created = false;
      for (const family of ['inet', 'bridge']) {
        const del = inNetns(this.netns, ['nft', 'delete', 'table', family, this.table]);
        await execa(del[0], del.slice(1), { reject: false });
      }
    }
    const monitor = this.#monitor;
    this.#monitor = null;
    if (monitor !== null && monitor.exitCode === null && monitor.signalCode === null) {
      const exited = new Promise<void>((resolve) => monitor.once('exit', () => resolve()));
      monitor.kill('SIGTERM');
      await exited;
    }
  }
}
