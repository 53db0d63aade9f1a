// `hopscope lab` as a user drives it: list, up, up again, status, down, down
// again; a failed up leaves nothing; a crash mid-up is cleaned by `lab down`.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { buildLab } from '../../src/lab/builder.js';
import { executePlan } from '../../src/lab/executor.js';
import { labDown, labStatus, labStateDir, labUp, type LabStatus } from '../../src/lab/index.js';
import { checkTools } from '../../src/lab/preflight.js';
import { isSameProcessAlive } from '../../src/lab/processes.js';
import { dnatLocal } from '../../src/lab/scenarios/dnat-local.js';
import { novaFlat } from '../../src/lab/scenarios/nova-flat.js';
import { LabStateFile } from '../../src/lab/state-file.js';
import { downAllLabs, namespacesStartingWith, requireRoot, run, runPrefix } from './support/lab-env.js';

const RUN = runPrefix('life');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  // As a stream's write does: the callback, when given, once the chunk is taken (the CLI
  // waits for stdout to have taken everything before it returns).
  const taken = (encodingOrDone?: unknown, done?: unknown): true => {
    const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
    if (typeof callback === 'function') queueMicrotask(() => (callback as () => void)());
    return true;
  };
  const out = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array, encodingOrDone?: unknown, done?: unknown) => {
      stdout += String(chunk);
      return taken(encodingOrDone, done);
    });
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk: string | Uint8Array, encodingOrDone?: unknown, done?: unknown) => {
      stderr += String(chunk);
      return taken(encodingOrDone, done);
    });
  try {
    const code = await runCli(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('hopscope lab (command line and lifecycle)', () => {
  beforeAll(requireRoot);
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await downAllLabs(RUN);
    await run(['ip', 'netns', 'del', `${RUN}clash-edge`]);
    expect(namespacesStartingWith(RUN)).toEqual([]);
  });

  it('lab list names every scenario and fault with a description', async () => {
    const r = await cli('lab', 'list');
    expect(r.code).toBe(0);
    for (const word of [
      'nova-flat',
      'dvr-fip',
      'sdn-vxlan',
      'dnat-local',
      'reply-drop-br100',
      'dnsmasq-stopped',
      'dns-answer-drop',
      'dhcp-offer-drop',
      'sg-drop',
      'br-ex-no-uplink',
      'mtu-mismatch',
      'missing-route',
      'no-route-localnet',
      'sg-iptables',
      'stale-conntrack-snat',
      'router-forwarding-off',
      'router-wrong-gateway',
      'rp-filter-asymmetric',
      'ct-invalid-drop',
    ]) {
      expect(r.stdout).toContain(word);
    }
    const json = JSON.parse((await cli('lab', 'list', '--json')).stdout) as {
      name: string;
      faults: { name: string; description: string }[];
    }[];
    expect(json.map((s) => s.name)).toEqual(['nova-flat', 'dvr-fip', 'sdn-vxlan', 'dnat-local']);
    expect(json.every((s) => s.faults.every((f) => f.description.length > 10))).toBe(true);
  });

  it('usage errors are one line and exit 2', async () => {
    expect(await cli('lab', 'up', 'nova-flatt')).toMatchObject({
      code: 2,
      stderr:
        "hopscope: lab: unknown scenario 'nova-flatt' (scenarios: nova-flat, dvr-fip, sdn-vxlan, dnat-local)\n",
    });
    expect(await cli('lab', 'up', 'dvr-fip', '--fault', 'nope')).toMatchObject({
      code: 2,
      stderr:
        "hopscope: lab: scenario dvr-fip has no fault 'nope' (faults: sg-drop, br-ex-no-uplink, router-forwarding-off, router-wrong-gateway)\n",
    });
    expect((await cli('lab', 'up', 'dnat-local', '--prefix', 'bad/prefix')).stderr).toMatch(
      /^hopscope: lab: bad --prefix 'bad\/prefix'/,
    );
    // An empty prefix (an unset $PREFIX) would build namespaces with a real deployment's names.
    const empty = await cli('lab', 'up', 'dnat-local', '--prefix', '');
    if (empty.code === 0) await labDown(''); // built after all: leave nothing behind, then fail
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^hopscope: lab: bad --prefix '' \(up to 24 letters/);
    expect(empty.stderr.split('\n')).toHaveLength(2);
    expect((await cli('lab', 'frobnicate')).code).toBe(2);
  });

  it('not root: says so in one line, exit 2', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    expect(await cli('lab', 'up', 'dnat-local', '--prefix', `${RUN}nr-`)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'hopscope: lab: must run as root (creates network namespaces)\n',
    });
  });

  it('up, up again (refused), status, down, down again (nothing to do)', async () => {
    const prefix = `${RUN}cli-`;
    const up = await cli('lab', 'up', 'dnat-local', '--prefix', prefix);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`ip netns exec ${prefix}client nc -z -w 2 198.51.100.1 80`);
    expect(up.stdout).toContain(`hopscope capture -i ${prefix}client/eth0 -i ${prefix}edge/eth0`);

    const again = await cli('lab', 'up', 'nova-flat', '--prefix', prefix);
    expect(again).toMatchObject({
      code: 2,
      stderr: `hopscope: lab: a lab is already up with prefix '${prefix}' (dnat-local); run 'hopscope lab down --prefix ${prefix}' first\n`,
    });

    const status = await cli('lab', 'status', '--prefix', prefix, '--json');
    const [lab] = JSON.parse(status.stdout) as LabStatus[];
    expect(lab).toMatchObject({
      scenario: 'dnat-local',
      fault: null,
      prefix,
      phase: 'up',
      sshConfigPath: `${labStateDir(prefix)}/ssh_config`,
    });
    expect(lab.processes.every((p) => p.alive)).toBe(true);
    expect((lab as LabStatus & { commands: { traffic: string[] } }).commands.traffic).toContain(
      `ip netns exec ${prefix}client nc -z -w 2 198.51.100.1 80`,
    );
    expect(lab.liveInterfaces).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          netns: `${prefix}edge`,
          name: 'eth0',
          addresses: ['198.51.100.1/24'],
          state: 'UP',
        }),
      ]),
    );

    expect((await cli('lab', 'down', 'nova-flat', '--prefix', prefix)).stderr).toContain(
      `the lab with prefix '${prefix}' is dnat-local, not nova-flat`,
    );
    const down = await cli('lab', 'down', '--prefix', prefix);
    expect(down).toMatchObject({
      code: 0,
      stdout: `lab dnat-local (prefix '${prefix}') is down: removed 2 namespaces\n`,
    });
    expect(namespacesStartingWith(prefix)).toEqual([]);
    expect(lab.processes.some((p) => isSameProcessAlive(p))).toBe(false);
    expect(existsSync(labStateDir(prefix))).toBe(false);

    const downAgain = await cli('lab', 'down', '--prefix', prefix);
    expect(downAgain.code).toBe(0);
    expect(downAgain.stdout).toMatch(
      new RegExp(`^lab: nothing to take down: no lab is up with prefix '${prefix}'`),
    );
  });

  it('a failed up removes what it built, exits 2 with the reason, and never touches what is not its own', async () => {
    const prefix = `${RUN}clash-`;
    // Someone else's namespace with the name the lab wants for its second namespace.
    await run(['ip', 'netns', 'add', `${prefix}edge`]);
    const up = await cli('lab', 'up', 'dnat-local', '--prefix', prefix);
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(
      /^hopscope: lab: could not build dnat-local: namespace .*clash-edge: already exists and is not this lab’s .*; removed what was built\n$/,
    );
    expect(namespacesStartingWith(prefix)).toEqual([`${prefix}edge`]);
    expect(existsSync(labStateDir(prefix))).toBe(false);
  });

  it('after a crash in the middle of up, status says interrupted and down removes everything recorded', async () => {
    const prefix = `${RUN}crash-`;
    const stateDir = labStateDir(prefix);
    const { plan, view } = buildLab(novaFlat, { fault: null, prefix, stateDir, tools: checkTools(novaFlat) });
    // Up to and including the first sshd: namespaces, links, and two running processes.
    const firstSshd = plan.steps.findIndex((s) => s.kind === 'daemon' && s.name.startsWith('sshd-'));
    const record = LabStateFile.create(stateDir, {
      scenario: 'nova-flat',
      fault: null,
      prefix,
      builder: { pid: 0x3fffff, startTicks: 1 },
      view,
    });
    await executePlan({ namespaces: plan.namespaces, steps: plan.steps.slice(0, firstSshd + 1) }, record);
    const processes = record.state.processes;
    expect(processes.map((p) => p.name)).toEqual(['tap-tap7aa08012-d0', 'sshd-compute']);
    // ... and here `lab up` dies without cleaning up.

    const [status] = await labStatus({ prefix });
    expect(status.phase).toBe('interrupted');
    expect((await cli('lab', 'status', '--prefix', prefix)).stdout).toContain(
      `interrupted while building (run 'hopscope lab down --prefix ${prefix}')`,
    );

    const down = await labDown(prefix);
    expect(down).toMatchObject({ found: true, scenario: 'nova-flat' });
    expect(down.namespacesDeleted.sort()).toEqual(plan.namespaces.slice().sort());
    expect(namespacesStartingWith(prefix)).toEqual([]);
    expect(processes.some((p) => isSameProcessAlive(p))).toBe(false);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('an interrupted up (Ctrl-C) stops building and removes what was built', async () => {
    const prefix = `${RUN}int-`;
    const interrupt = new AbortController();
    const up = labUp('dvr-fip', { prefix, signal: interrupt.signal });
    setTimeout(() => interrupt.abort(), 100);
    await expect(up).rejects.toThrow('lab: building dvr-fip was interrupted; removed what was built');
    expect(namespacesStartingWith(prefix)).toEqual([]);
    expect(existsSync(labStateDir(prefix))).toBe(false);
  });

  it('lab down cleans a state directory left before anything was recorded', async () => {
    const prefix = `${RUN}empty-`;
    LabStateFile.create(labStateDir(prefix), {
      scenario: 'dnat-local',
      fault: null,
      prefix,
      builder: { pid: 0x3fffff, startTicks: 1 },
      view: buildLab(dnatLocal, {
        fault: null,
        prefix,
        stateDir: labStateDir(prefix),
        tools: checkTools(dnatLocal),
      }).view,
    });
    expect(await labDown(prefix)).toMatchObject({ found: true, namespacesDeleted: [] });
    expect(existsSync(labStateDir(prefix))).toBe(false);
  });
});
