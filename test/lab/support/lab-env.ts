// Shared helpers of the lab tests: root check, per-run prefixes, cleanup, and
// commands inside namespaces.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect } from 'vitest';
import { recordTestRun } from '../../support/test-runs.js';
import { labDown, labUp, LAB_STATE_ROOT, runTraffic, type LabView } from '../../../src/lab/index.js';

/** Lab tests are never skipped: without root they fail, saying why. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'lab tests must run as root: they build network namespaces, veths, bridges and nftables rulesets (run `npm test` as root)',
    );
  }
}

/**
 * A prefix unique to this test run and this tag, e.g. `t3f9a1c-dnat-`, recorded with
 * this process: should it be killed before its afterAll, the next run takes down
 * what the prefix names (test/support/test-runs.ts).
 */
export function runPrefix(tag: string): string {
  const prefix = `t${process.pid.toString(36)}${randomBytes(2).toString('hex')}-${tag}-`;
  recordTestRun(prefix);
  return prefix;
}

export function namespacesStartingWith(prefix: string): string[] {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix)).sort();
}

/** Take down every lab whose prefix starts with `runPrefix` (also half-built ones). */
export async function downAllLabs(prefix: string): Promise<void> {
  let dirs: string[];
  try {
    dirs = readdirSync(LAB_STATE_ROOT);
  } catch {
    dirs = [];
  }
  await Promise.all(dirs.filter((d) => d.startsWith(prefix)).map((d) => labDown(basename(d))));
}

export interface NsResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run `argv` inside `netns`, never throwing for a non-zero exit. */
export async function inNetns(netns: string, argv: readonly string[], timeoutMs = 20_000): Promise<NsResult> {
  const r = await execa('ip', ['netns', 'exec', netns, ...argv], {
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export async function run(argv: readonly string[], timeoutMs = 20_000): Promise<NsResult> {
  const r = await execa(argv[0], argv.slice(1), { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs each command in turn, failing the test at the first that fails (with its stderr). */
export async function runAll(...commands: ReadonlyArray<readonly string[]>): Promise<void> {
  for (const argv of commands) {
    const r = await run(argv);
    expect(r.exitCode, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
}

/** Waits until `ss -Hln FILTER` in `netns` lists a socket: a server started in the background listens. */
export async function listeningIn(netns: string, filter: string): Promise<void> {
  while ((await run(['ip', 'netns', 'exec', netns, 'ss', '-Hln', filter])).stdout.trim() === '')
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Waits until each of `ports` in `netns` is a bridge port in state forwarding: a port
 * gets there only once the kernel's link watch saw its carrier, up to a second after
 * its link came up, and drops what it is handed until then.
 */
export async function bridgePortsForwarding(netns: string, ports: readonly string[]): Promise<void> {
  const state = async (port: string): Promise<string | undefined> => {
    const r = await run(['ip', '-n', netns, '-j', '-d', 'link', 'show', 'dev', port]);
    const links = JSON.parse(r.stdout || '[]') as Array<{
      linkinfo?: { info_slave_data?: { state?: string } };
    }>;
    return links[0]?.linkinfo?.info_slave_data?.state;
  };
  for (const port of ports)
    while ((await state(port)) !== 'forwarding') await new Promise((resolve) => setTimeout(resolve, 50));
}

/** One lab of a suite: the last part of its prefix, and its fault (none: healthy). */
export interface SuiteLab {
  readonly prefix: string;
  readonly fault?: string;
}

/**
 * The labs of `scenario` a describe block's tests look at: brought up side by side in
 * its beforeAll under one run prefix (`runPrefix(tag)`), taken down in its afterAll,
 * which checks that no namespace of the run is left. The views are there once
 * beforeAll has run.
 */
export function suiteLabs<K extends string>(
  scenario: string,
  tag: string,
  labs: Readonly<Record<K, SuiteLab>>,
): Readonly<Record<K, LabView>> {
  const run = runPrefix(tag);
  const views = {} as Record<K, LabView>;
  beforeAll(async () => {
    requireRoot();
    const names = Object.keys(labs) as K[];
    const up = await Promise.all(
      names.map((name) =>
        labUp(scenario, { prefix: `${run}${labs[name].prefix}-`, fault: labs[name].fault }),
      ),
    );
    names.forEach((name, i) => (views[name] = up[i]));
  });
  afterAll(async () => {
    await downAllLabs(run);
    expect(namespacesStartingWith(run)).toEqual([]);
  });
  return views;
}

/** Each traffic command of a lab, in the scenario's order: its name, whether it succeeded, whether it should have. */
export async function trafficOutcomes(lab: LabView): Promise<[string, boolean, boolean][]> {
  return (await runTraffic(lab)).map((r) => [r.name, r.succeeded, r.expectSuccess]);
}
