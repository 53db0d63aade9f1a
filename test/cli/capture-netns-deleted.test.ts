// A namespace deleted while it is captured (`ip netns del`, or the exit of the process
// a pid:N spec names): its interfaces are reported gone within about a second, and
// their captures closed, so that the kernel frees the namespace — which shows as its
// veth's peer, in another namespace, disappearing. A namespace created again under the
// same name is captured again. Real namespaces, veths and processes; the pings stay
// between the two lab namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespacesStartingWith, requireRoot, run, runPrefix } from '../lab/support/lab-env.js';
import { jsonRecords, startCli, type CliProcess } from '../support/cli-process.js';

const PREFIX = runPrefix('nsdel');
const A = `${PREFIX}a`;
const B = `${PREFIX}b`;
const A_ADDR = '10.203.0.1';
const B_ADDR = '10.203.0.2';

async function must(argv: readonly string[]): Promise<void> {
  const r = await run(argv);
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

async function until(
  what: string,
  done: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function linkExists(netns: string, name: string): Promise<boolean> {
  return (await run(['ip', '-n', netns, 'link', 'show', name])).exitCode === 0;
}

/** Namespace A (made again if need be) with a0 ↔ b0 to namespace B, both up, addressed. */
async function createA(): Promise<void> {
  await must(['ip', 'netns', 'add', A]);
  await must(['ip', '-n', A, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', B]);
  await must(['ip', '-n', A, 'addr', 'add', `${A_ADDR}/24`, 'dev', 'a0']);
  await must(['ip', '-n', B, 'addr', 'add', `${B_ADDR}/24`, 'dev', 'b0']);
  await must(['ip', '-n', A, 'link', 'set', 'a0', 'up']);
  await must(['ip', '-n', B, 'link', 'set', 'b0', 'up']);
}

function states(cli: CliProcess, label: string): Array<Record<string, unknown>> {
  return jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.iface === label);
}

async function stop(cli: CliProcess): Promise<number | null> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGINT');
  return cli.exited;
}

describe('capture: a namespace deleted mid-capture', () => {
  beforeAll(async () => {
    requireRoot();
    await must(['ip', 'netns', 'add', B]);
  });

  afterAll(async () => {
    for (const ns of namespacesStartingWith(PREFIX)) await run(['ip', 'netns', 'del', ns]);
  });

  it('ip netns del: gone within about a second, the namespace freed, and captured again when re-created', async () => {
    await createA();
    const label = `${A}/a0`;
    const cli = startCli(['capture', '-i', label, '-f', 'icmp', '--packets', '--json']);
    try {
      await cli.waitForLine(() => states(cli, label).some((r) => r.state === 'up'));

      await must(['ip', 'netns', 'del', A]);
      // Detection is once a second; the deadline is only there so that a failure ends.
      await cli.waitForLine(() => states(cli, label).some((r) => r.state === 'gone'), 10_000);
      expect(states(cli, label).find((r) => r.state === 'gone')?.reason).toBe(`namespace ${A} deleted`);
      // Nothing holds the namespace any more: the kernel tears it down, and the veth with it.
      await until(`b0 (a0's peer, in ${B}) to disappear`, async () => !(await linkExists(B, 'b0')));

      // The same name, a new namespace: captured there, with the same interface id.
      await createA();
      await cli.waitForLine(() => states(cli, label).filter((r) => r.state === 'up').length >= 2, 10_000);
      const ping = await run(['ip', 'netns', 'exec', B, 'ping', '-c', '3', '-i', '0.2', '-W', '1', A_ADDR]);
      expect(ping.exitCode, ping.stdout + ping.stderr).toBe(0);
      await cli.waitForLine(
        () => jsonRecords(cli.lines).filter((r) => r.type === 'packet' && r.iface === label).length >= 6,
        10_000,
      );
      expect(await stop(cli)).toBe(0);
      expect(states(cli, label).map((r) => r.state)).toEqual(['up', 'gone', 'up', 'stopped']);
      // One id before and after. Its addresses: those of the veth as it was attached, then
      // (announced again, same id) those of the new one where they differ — a new veth has
      // another IPv6 link-local address where IPv6 is on.
      const announced = jsonRecords(cli.lines).filter((r) => r.type === 'interface' && r.label === label);
      expect(new Set(announced.map((r) => r.id)).size).toBe(1);
      expect(announced.length).toBeLessThanOrEqual(2);
      expect(announced[0].addresses).toContain(`${A_ADDR}/24`);
      const listed = JSON.parse(
        (await run(['ip', '-n', A, '-j', 'addr', 'show', 'dev', 'a0'])).stdout,
      ) as Array<{
        addr_info: Array<{ local: string; prefixlen: number }>;
      }>;
      const now = listed[0].addr_info.map((a) => `${a.local}/${a.prefixlen}`).sort();
      expect([...(announced[announced.length - 1].addresses as string[])].sort()).toEqual(now);
      if (announced.length === 2) expect(announced[1].addresses).not.toEqual(announced[0].addresses);
    } finally {
      await stop(cli);
      await run(['ip', 'netns', 'del', A]);
    }
  }, 60_000);

  it('pid:N whose process exits: gone, and its namespace freed', async () => {
    // A process with a network namespace of its own, which nothing but it names.
    const holder: ChildProcess = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    let cli: CliProcess | null = null;
    try {
      const pid = holder.pid;
      if (pid === undefined) throw new Error('unshare did not start');
      const ours = readlinkSync('/proc/self/ns/net');
      await until('unshare to enter its namespace', () => {
        try {
          return readlinkSync(`/proc/${pid}/ns/net`) !== ours;
        } catch {
          return false;
        }
      });
      await must([
        'ip',
        '-n',
        B,
        'link',
        'add',
        'x0',
        'type',
        'veth',
        'peer',
        'name',
        'y0',
        'netns',
        String(pid),
      ]);
      await must(['ip', '-n', B, 'link', 'set', 'x0', 'up']);
      await must(['nsenter', '-t', String(pid), '-n', 'ip', 'link', 'set', 'y0', 'up']);
      const label = `pid:${pid}/y0`;
      const started = startCli(['capture', '-i', label, '--json']);
      cli = started;
      await started.waitForLine(() => states(started, label).some((r) => r.state === 'up'));

      holder.kill('SIGKILL');
      await exited;
      await started.waitForLine(() => states(started, label).some((r) => r.state === 'gone'), 10_000);
      expect(states(started, label).find((r) => r.state === 'gone')?.reason).toBe(
        `process ${pid} exited (namespace pid:${pid} gone)`,
      );
      await until(`x0 (y0's peer, in ${B}) to disappear`, async () => !(await linkExists(B, 'x0')));
      expect(await stop(started)).toBe(0);
    } finally {
      if (cli !== null) await stop(cli);
      holder.kill('SIGKILL');
      await run(['ip', '-n', B, 'link', 'del', 'x0']);
    }
  }, 60_000);
});
