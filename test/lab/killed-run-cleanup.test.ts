// A test run killed by SIGKILL never reaches its afterAll: its lab stays up. The next
// run's globalSetup (test/support/test-runs.ts) takes down what the dead run's recorded
// prefix names — lab daemons, namespaces, state directory — and nothing else: not a
// live run's namespaces, not namespaces no record names, not those of a run whose pid
// now belongs to another process.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getLab, labStateDir } from '../../src/lab/index.js';
import { processStartTicks } from '../../src/lab/processes.js';
import { CLI } from '../support/run-cli.js';
import { cleanUpDeadTestRuns, recordTestRun } from '../support/test-runs.js';
import { downAllLabs, namespacesStartingWith, requireRoot, run, runPrefix } from './support/lab-env.js';

const dead = runPrefix('kdead');
const live = runPrefix('klive');
const reused = runPrefix('kreus');
const unrecorded = runPrefix('knone');
const ALL = [dead, live, reused, unrecorded];

/** Resolves once the child printed `line` (its lab is up), rejects if it exits first. */
function waitForLine(child: ReturnType<typeof spawn>, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').includes(line)) resolve();
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) =>
      reject(new Error(`child ended (${code ?? signal}) before '${line}': ${err.trim()}`)),
    );
  });
}

function alive(pid: number): boolean {
  return processStartTicks(pid) !== null;
}

describe('a killed test run’s lab', () => {
  /** Records of this test's runs, apart from the real ones (another run of the suite may be going on). */
  let records = '';

  afterAll(async () => {
    for (const prefix of ALL) {
      await downAllLabs(prefix);
      for (const ns of namespacesStartingWith(prefix)) await run(['ip', 'netns', 'del', ns]);
    }
    if (records !== '') rmSync(records, { recursive: true, force: true });
  });

  it('is taken down by the next run’s cleanup; a live run’s namespaces and unrecorded ones stay', async () => {
    requireRoot();
    records = mkdtempSync('/run/hopscope-test-runs-check-');
    // The killed run: a process that brings a lab up (as a test file's beforeAll does)
    // and is then killed before it can take it down.
    const lab = `${dead}lab-`;
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('node:child_process').execFileSync(process.execPath, [${JSON.stringify(CLI)}, 'lab', 'up', 'dnat-local', '--prefix', ${JSON.stringify(lab)}], { stdio: ['ignore', 'ignore', 'inherit'] });
         console.log('up');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const childPid = child.pid as number;
    recordTestRun(dead, records, childPid);
    await waitForLine(child, 'up');
    expect(getLab(lab)?.scenario).toBe('dnat-local');
    // The lab's daemons (an sshd per host, the local service): they outlive the run.
    const daemons = readdirSync(labStateDir(lab))
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(join(labStateDir(lab), f), 'utf8').trim()));
    expect(daemons.length).toBeGreaterThan(0);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const leftover = namespacesStartingWith(dead);
    expect(leftover).toEqual([`${lab}client`, `${lab}edge`]);

    // A live run (this process) and a run whose pid now belongs to another process.
    recordTestRun(live, records);
    await run(['ip', 'netns', 'add', `${live}ns`]);
    recordTestRun(reused, records);
    await run(['ip', 'netns', 'add', `${reused}ns`]);
    const reusedRecord = join(records, `${reused}.json`);
    writeFileSync(
      reusedRecord,
      JSON.stringify({
        prefix: reused,
        pid: process.pid,
        startTicks: (processStartTicks(process.pid) ?? 0) - 1,
      }),
    );
    // Named like a test run's, recorded by none.
    await run(['ip', 'netns', 'add', `${unrecorded}ns`]);

    const { cleaned, problems } = await cleanUpDeadTestRuns(records);

    expect(problems).toEqual([]);
    expect(namespacesStartingWith(dead)).toEqual([]);
    expect(existsSync(labStateDir(lab))).toBe(false);
    expect(namespacesStartingWith(reused)).toEqual([]);
    expect(cleaned.map((c) => c.prefix).sort()).toEqual([dead, reused].sort());
    expect(cleaned.find((c) => c.prefix === dead)?.labs).toEqual([lab]);
    expect(namespacesStartingWith(live)).toEqual([`${live}ns`]);
    expect(namespacesStartingWith(unrecorded)).toEqual([`${unrecorded}ns`]);
    // The dead runs' records are gone, the live run's stays.
    expect(readdirSync(records).sort()).toEqual([`${live}.json`]);
    expect(daemons.filter(alive)).toEqual([]);
  });
});
