// The JSON lines contract (docs/json-lines.md, docs/hopscope.schema.json) against what
// hopscope really writes: every record of `replay --json` and `replay --packets --json`
// of every shipped capture and every corpus file, and of a live capture on a veth pair
// in namespaces built here (an interface deleted mid-capture, so a `state` record too).
// Every line on stdout must be a record, and every record must keep the schema.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_AVAILABLE, CORPUS_DIR } from '../decode/support/corpus.js';
import { A_ADDR, requireRoot, Topology } from '../native/netns-topology.js';
import { jsonRecords, startCli } from '../support/cli-process.js';
import { contractError } from '../support/json-schema.js';
import { CLI, PROJECT_ROOT } from '../support/run-cli.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function replay(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'replay', ...args],
      { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        const status = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** `task` over `items`, `width` at a time (each replay is its own process). */
async function eachAtOnce<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

interface Checked {
  run: string;
  types: Set<string>;
  /** what broke the contract: the first few lines of this run that did */
  problems: string[];
}

/** Replays `file` with and without --packets; every stdout line must be a record that keeps the contract. */
async function checkReplays(file: string): Promise<Checked[]> {
  const checked: Checked[] = [];
  for (const args of [['--json'], ['--packets', '--json']]) {
    const r = await replay([file, ...args]);
    const run = `replay ${file} ${args.join(' ')}`;
    // 2: a damaged file (the corpus has some) still prints every record it could make.
    expect([0, 1, 2], `${run}: ${r.stderr}`).toContain(r.status);
    const types = new Set<string>();
    const problems: string[] = [];
    for (const line of r.stdout.split('\n')) {
      if (line === '') continue;
      const record = line.startsWith('{') ? (JSON.parse(line) as { type: string }) : null;
      const error = record === null ? 'not a JSON record' : contractError(record);
      if (record !== null) types.add(record.type);
      if (error !== null && problems.length < 3) problems.push(`${error}\n    ${line.slice(0, 600)}`);
    }
    checked.push({ run, types, problems });
  }
  return checked;
}

/** Every run's problems, one entry per run that had any: expected to be empty. */
function problemsOf(checked: readonly Checked[]): string[] {
  return checked.filter((c) => c.problems.length > 0).map((c) => `${c.run}:\n  ${c.problems.join('\n  ')}`);
}

describe('the schema itself', () => {
  const exchange = {
    type: 'exchange',
    kind: 'icmp-echo',
    key: '10.0.0.5>203.0.113.1 id=1 seq=1',
    status: 'ok',
    ts: '1700000000.000000000',
    stages: [{ name: 'request', packets: 1, seen: [{ iface: 'eth0', ts: '1700000000.000000000' }] }],
    rttMs: 0.42,
  };

  it('takes a well-formed record, with or without the structured flow', () => {
    expect(contractError(exchange)).toBeNull();
    const flow = { src: '10.0.0.5', dst: '203.0.113.1', id: 1, seq: 1 };
    expect(contractError({ ...exchange, flow })).toBeNull();
  });

  it('refuses an unknown record type, a field of the wrong type, and a field it does not describe', () => {
    expect(contractError({ ...exchange, type: 'exchanges' })).toMatch(/unknown record type "exchanges"/);
    expect(contractError({ ...exchange, rttMs: '0.42' })).toMatch(/\/rttMs must be number/);
    expect(contractError({ ...exchange, ts: 1700000000.5 })).toMatch(/\/ts must be string/);
    expect(contractError({ ...exchange, status: 'fine' })).toMatch(/\/status must be equal to one of/);
    expect(contractError({ ...exchange, why: 'x' })).toMatch(/must NOT have additional properties/);
    expect(contractError({ type: 'summary', exchanges: 1, ok: 1, lost: 0, unanswered: 0, error: 0 })).toMatch(
      /must have required property 'inconclusive'/,
    );
  });
});

describe('replay --json and --packets --json of the shipped captures', () => {
  const files = readdirSync(CAPTURES)
    .filter((f) => f.endsWith('.pcapng'))
    .map((f) => join(CAPTURES, f));

  it('every record keeps the contract; together they show every record type a replay writes', async () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    const checked = (await eachAtOnce(files, 2, checkReplays)).flat();
    expect(problemsOf(checked)).toEqual([]);
    const types = new Set(checked.flatMap((c) => [...c.types]));
    expect([...types].sort()).toEqual(['clock', 'exchange', 'interface', 'packet', 'stats', 'summary']);
  });
});

describe.skipIf(!CORPUS_AVAILABLE)(`replay --json and --packets --json of the corpus (${CORPUS_DIR})`, () => {
  it('every record of every file keeps the contract', { timeout: 600_000 }, async () => {
    const files = readdirSync(CORPUS_DIR)
      .filter((f) => /\.(pcap|pcapng|cap)$/.test(f))
      .map((f) => join(CORPUS_DIR, f));
    expect(files.length).toBeGreaterThanOrEqual(120);
    const checked = (await eachAtOnce(files, 3, checkReplays)).flat();
    expect(checked).toHaveLength(files.length * 2);
    expect(problemsOf(checked)).toEqual([]);
    const types = new Set(checked.flatMap((c) => [...c.types]));
    for (const type of ['interface', 'packet', 'exchange', 'stats', 'summary']) expect(types).toContain(type);
  });
});

describe('capture --json --packets, live on a veth pair in namespaces', () => {
  const topo = new Topology('jl');
  let work: string;

  beforeAll(async () => {
    requireRoot();
    work = mkdtempSync(join(tmpdir(), 'hopscope-jl-'));
    await topo.up();
  });

  afterAll(async () => {
    await topo.down();
    rmSync(work, { recursive: true, force: true });
    expect(await topo.leftovers()).toEqual([]);
  });

  it('every record keeps the contract: interfaces, packets, exchanges, a state, stats, the summary', async () => {
    const cli = startCli([
      'capture',
      '-i',
      `${topo.nsA}/a0`,
      '-i',
      `${topo.nsA}/a1`,
      '--json',
      '--packets',
      '-w',
      join(work, 'run.pcapng'),
    ]);
    try {
      const interfaces = (line: string): boolean =>
        line.includes('"type":"interface"') && line.includes('a1');
      await cli.waitForLine(interfaces);
      await topo.inB(['ping', '-c', '3', '-i', '0.2', '-W', '1', A_ADDR]);
      await cli.waitForLine((l) => l.includes('"type":"exchange"') && l.includes('"status":"ok"'));
      // An interface deleted while captured: a `state` record says it is gone.
      await topo.run(['ip', '-n', topo.nsA, 'link', 'del', 'a1']);
      await cli.waitForLine((l) => l.includes('"type":"state"') && l.includes('"state":"gone"'));
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
    const lines = cli.lines.filter((l) => l !== '');
    for (const line of lines) expect(line.startsWith('{'), `not a record: ${line}`).toBe(true);
    const records = jsonRecords(lines);
    const types = new Set(records.map((r) => r.type));
    for (const type of ['interface', 'packet', 'exchange', 'state', 'stats', 'summary'])
      expect(types).toContain(type);
  });
});
