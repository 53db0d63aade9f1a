// `hopscope ifaces` as an operator runs it: on namespaces built for the test (a
// hybrid-plug compute node — qbr bridge, a veth pair into br-int, a VM tap set down —
// and a router with addresses), in a process's namespace, in the root namespace, on
// a lab host over ssh; and the one-line errors when nothing can be listed.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUp, type LabView } from '../../src/lab/index.js';
import { downAllLabs, requireRoot } from '../lab/support/lab-env.js';
import { CLI, PROJECT_ROOT, runCli } from '../support/run-cli.js';
import { recordTestRun } from '../support/test-runs.js';

const PREFIX = `hsif${process.pid.toString(36)}${randomBytes(2).toString('hex')}-`;
recordTestRun(PREFIX); // taken down by the next run should this one be killed
/** compute-like: qbr… with the tap and qvb…, qvo… in br-int */
const NS_A = `${PREFIX}ns-a`;
/** router-like: qr-/qg- ports with addresses */
const NS_B = `${PREFIX}ns-b`;
const OURS = `${PREFIX}ns-*`;
const TAP = 'tap7aa08012-d0';
const QBR = 'qbr7aa08012-d0';
const QVB = 'qvb7aa08012-d0';
const QVO = 'qvo7aa08012-d0';
const QR = 'qr-56c70d72-3b';
const QG = 'qg-5f3a9c21-cc';

const JSON_KEYS = [
  'type',
  'host',
  'netns',
  'name',
  'label',
  'role',
  'kind',
  'state',
  'adminUp',
  'mtu',
  'mac',
  'master',
  'addresses',
].sort();

let lab: LabView | undefined;
let sleeper: ChildProcess | undefined;
let sleeperPid = 0;
let fakeDir: string;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: 'pipe' });

type Rec = Record<string, unknown>;
function records(stdout: string): Rec[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  // --json prints nothing else on stdout
  for (const l of lines) expect(l.startsWith('{'), l).toBe(true);
  return lines.map((l) => JSON.parse(l) as Rec);
}
const byLabel = (recs: Rec[]): Map<unknown, Rec> => new Map(recs.map((r) => [r.label, r]));
const oneLine = (stderr: string): void => expect(stderr.trim().split('\n'), stderr).toHaveLength(1);

beforeAll(async () => {
  requireRoot();
  for (const ns of [NS_A, NS_B]) ip('netns', 'add', ns);
  const a = (...args: string[]): string => ip('-n', NS_A, ...args);
  a('link', 'add', 'br-int', 'type', 'bridge');
  a('link', 'add', QBR, 'type', 'bridge');
  a('link', 'add', QVB, 'type', 'veth', 'peer', 'name', QVO);
  a('tuntap', 'add', TAP, 'mode', 'tap');
  a('link', 'set', TAP, 'master', QBR);
  a('link', 'set', QVB, 'master', QBR);
  a('link', 'set', QVO, 'master', 'br-int');
  for (const l of [QVB, QVO]) a('link', 'set', l, 'mtu', '1450');
  a('addr', 'add', '192.0.2.20/24', 'dev', 'br-int');
  // the VM's tap stays down: the link an operator looks for
  for (const l of ['lo', 'br-int', QBR, QVB, QVO]) a('link', 'set', l, 'up');
  const b = (...args: string[]): string => ip('-n', NS_B, ...args);
  b('link', 'add', QR, 'type', 'veth', 'peer', 'name', QG);
  b('addr', 'add', '10.0.0.1/24', 'dev', QR);
  b('addr', 'add', '203.0.113.5/24', 'dev', QG);
  b('addr', 'add', '2001:db8:5::1/64', 'dev', QG, 'nodad');
  b('link', 'set', QR, 'mtu', '1450');
  for (const l of [QR, QG]) b('link', 'set', l, 'up');
  // a process living in NS_B, for --netns pid:N
  sleeper = spawn('ip', ['netns', 'exec', NS_B, 'sleep', '300'], { stdio: 'ignore' });
  sleeperPid = sleeper.pid ?? 0;
  for (let i = 0; i < 100 && !isSleep(sleeperPid); i++) await new Promise((r) => setTimeout(r, 20));
  // an `ip` that cannot look into NS_B (as for a namespace deleted meanwhile), and one that always fails
  fakeDir = mkdtempSync(join(tmpdir(), 'hsif-ip-'));
  const realIp = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();
  for (const [dir, body] of [
    [
      'partial',
      `for a in "$@"; do [ "$a" = '${NS_B}' ] && { echo 'Cannot open network namespace "${NS_B}": Invalid argument' >&2; exit 1; }; done\nexec ${realIp} "$@"`,
    ],
    ['broken', `echo 'ip: something broke' >&2\nexit 1`],
  ]) {
    execFileSync('mkdir', ['-p', join(fakeDir, dir)]);
    writeFileSync(join(fakeDir, dir, 'ip'), `#!/bin/sh\n${body}\n`);
    chmodSync(join(fakeDir, dir, 'ip'), 0o755);
  }
  lab = await labUp('nova-flat', { prefix: `${PREFIX}lab-` });
}, 180_000);

afterAll(async () => {
  sleeper?.kill('SIGKILL');
  for (const ns of [NS_A, NS_B]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // never built, or already gone
    }
  }
  if (fakeDir !== undefined) rmSync(fakeDir, { recursive: true, force: true });
  await downAllLabs(PREFIX);
}, 120_000);

function isSleep(pid: number): boolean {
  try {
    return execFileSync('cat', [`/proc/${pid}/comm`], { encoding: 'utf8', stdio: 'pipe' }).trim() === 'sleep';
  } catch {
    return false;
  }
}

describe('hopscope ifaces on namespaces', () => {
  it('--netns GLOB --json: one record per interface with what an operator checks', () => {
    const r = runCli(['ifaces', '--netns', OURS, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const recs = records(r.stdout);
    for (const x of recs) {
      expect(Object.keys(x).sort()).toEqual(JSON_KEYS);
      expect(x.type).toBe('iface');
      expect(x.host).toBeNull();
      // only the namespaces the glob matches (not the lab's, which share the prefix)
      expect([NS_A, NS_B]).toContain(x.netns);
      expect(x.label).toBe(`${String(x.netns)}/${String(x.name)}`);
    }
    const m = byLabel(recs);
    expect([...m.keys()].sort()).toEqual(
      [
        `${NS_A}/lo`,
        `${NS_A}/br-int`,
        `${NS_A}/${QBR}`,
        `${NS_A}/${QVB}`,
        `${NS_A}/${QVO}`,
        `${NS_A}/${TAP}`,
        `${NS_B}/lo`,
        `${NS_B}/${QR}`,
        `${NS_B}/${QG}`,
      ].sort(),
    );
    expect(m.get(`${NS_A}/${TAP}`)).toMatchObject({
      netns: NS_A,
      name: TAP,
      role: 'tap',
      kind: 'tun',
      master: QBR,
      adminUp: false,
      state: 'DOWN',
      mtu: 1500,
      mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
      addresses: [],
    });
    expect(m.get(`${NS_A}/${QBR}`)).toMatchObject({
      role: 'qbr',
      kind: 'bridge',
      master: null,
      adminUp: true,
    });
    expect(m.get(`${NS_A}/${QVB}`)).toMatchObject({
      role: 'qvb',
      kind: 'veth',
      master: QBR,
      mtu: 1450,
      adminUp: true,
      state: 'UP',
    });
    expect(m.get(`${NS_A}/${QVO}`)).toMatchObject({ role: 'qvo', kind: 'veth', master: 'br-int', mtu: 1450 });
    // a bridge's MTU follows its ports'
    expect(m.get(`${NS_A}/br-int`)).toMatchObject({
      role: 'bridge',
      kind: 'bridge',
      mtu: 1450,
      addresses: expect.arrayContaining(['192.0.2.20/24']),
    });
    expect(m.get(`${NS_A}/lo`)).toMatchObject({ role: 'loopback', mac: null, adminUp: true });
    expect(m.get(`${NS_B}/lo`)).toMatchObject({ role: 'loopback', adminUp: false });
    expect(m.get(`${NS_B}/${QR}`)).toMatchObject({
      role: 'qr',
      kind: 'veth',
      mtu: 1450,
      state: 'UP',
      master: null,
      addresses: expect.arrayContaining(['10.0.0.1/24']),
    });
    expect(m.get(`${NS_B}/${QG}`)).toMatchObject({
      role: 'qg',
      mtu: 1500,
      addresses: expect.arrayContaining(['203.0.113.5/24', '2001:db8:5::1/64']),
    });
  });

  it('text: a block per namespace, the columns, names and roles, the set-down link, how to capture', () => {
    const r = runCli(['ifaces', '--netns', OURS]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toContain(`namespace ${NS_A} (6 interfaces)`);
    expect(out).toContain(`namespace ${NS_B} (3 interfaces)`);
    expect(out.indexOf(`namespace ${NS_A}`)).toBeLessThan(out.indexOf(`namespace ${NS_B}`));
    expect(out).not.toContain('root namespace');
    expect(out).toMatch(/^ {2}NAME +ROLE +STATE +MTU +MASTER +ADDRESSES$/m);
    expect(out).toMatch(new RegExp(`^  ${TAP} +tap +DOWN \\(set down\\) +1500 +${QBR} +-$`, 'm'));
    expect(out).toMatch(new RegExp(`^  ${QVB} +qvb +UP +1450 +${QBR} +\\S`, 'm'));
    expect(out).toMatch(new RegExp(`^  ${QVO} +qvo +UP +1450 +br-int +\\S`, 'm'));
    expect(out).toMatch(new RegExp(`^  ${QBR} +qbr +UP +1450 +- +\\S`, 'm'));
    expect(out).toMatch(/^ {2}br-int +bridge +UP +1450 +- +192\.0\.2\.20\/24( |$)/m);
    expect(out).toMatch(new RegExp(`^  ${QR} +qr +UP +1450 +- +10\\.0\\.0\\.1/24( |$)`, 'm'));
    expect(out).toMatch(new RegExp(`^  ${QG} +qg +UP +1500 +- +.*203\\.0\\.113\\.5/24`, 'm'));
    expect(out).toMatch(new RegExp(`^  ${QG} .*2001:db8:5::1/64`, 'm'));
    expect(out).toMatch(/^ {2}lo +loopback +DOWN \(set down\) +65536 +- +-$/m);
    // the hint names an interface that is up, as -i takes it
    expect(out).toMatch(new RegExp(`^capture with: hopscope capture -i '${PREFIX}ns-[ab]/[^']+'`, 'm'));
  });

  it('--netns NAME: that namespace only', () => {
    const r = runCli(['ifaces', '--netns', NS_B, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(new Set(records(r.stdout).map((x) => x.netns))).toEqual(new Set([NS_B]));
  });

  it('--netns pid:N: the namespace of a process, labelled pid:N', () => {
    expect(isSleep(sleeperPid)).toBe(true);
    const r = runCli(['ifaces', '--netns', `pid:${sleeperPid}`, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const recs = records(r.stdout);
    expect(recs.map((x) => x.name).sort()).toEqual([QG, QR, 'lo'].sort());
    expect(byLabel(recs).get(`pid:${sleeperPid}/${QR}`)).toMatchObject({
      netns: `pid:${sleeperPid}`,
      role: 'qr',
      addresses: expect.arrayContaining(['10.0.0.1/24']),
    });
    const text = runCli(['ifaces', '--netns', `pid:${sleeperPid}`]);
    expect(text.stdout).toContain(`namespace pid:${sleeperPid} (3 interfaces)`);
  });

  it('without --netns: the root namespace only', () => {
    const r = runCli(['ifaces', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const recs = records(r.stdout);
    expect(recs.every((x) => x.netns === null && x.host === null)).toBe(true);
    expect(recs.find((x) => x.name === 'lo')).toMatchObject({ label: 'lo', role: 'loopback' });
    const text = runCli(['ifaces']);
    expect(text.stdout).toMatch(/^root namespace \(\d+ interfaces?\)$/m);
    expect(text.stdout).not.toContain(NS_A);
  });

  it('--all-netns: the root namespace first, then every named one', () => {
    const r = runCli(['ifaces', '--all-netns', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const recs = records(r.stdout);
    expect(recs[0].netns).toBeNull();
    expect(recs.some((x) => x.netns === null && x.name === 'lo' && x.label === 'lo')).toBe(true);
    expect(byLabel(recs).get(`${NS_A}/${TAP}`)).toMatchObject({ role: 'tap', master: QBR });
    expect(recs.some((x) => x.netns === `${PREFIX}lab-compute` && x.name === 'br100')).toBe(true);
  });

  it('a namespace that cannot be asked is a warning naming it; the others are listed', () => {
    const env = { ...process.env, PATH: `${join(fakeDir, 'partial')}:${process.env.PATH ?? ''}` };
    const r = runCli(['ifaces', '--netns', OURS, '--json'], { env });
    expect(r.status, r.stderr).toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(
      new RegExp(
        `^hopscope: warning: namespace ${NS_B} on this host could not be asked: Cannot open network namespace`,
      ),
    );
    const recs = records(r.stdout);
    expect(recs.some((x) => x.netns === NS_A && x.name === TAP)).toBe(true);
    expect(recs.some((x) => x.netns === NS_B)).toBe(false);
    // only that namespace asked: nothing listed, so an error
    const only = runCli(['ifaces', '--netns', NS_B], { env });
    expect(only.status).toBe(2);
    oneLine(only.stderr);
    expect(only.stderr).toMatch(
      new RegExp(`^hopscope: ifaces: cannot list interfaces of namespace ${NS_B} on this host: Cannot open`),
    );
  });
});

describe('hopscope ifaces errors: one line, exit 2', () => {
  it('no such namespace: lists the namespaces that exist', () => {
    const r = runCli(['ifaces', '--netns', `${PREFIX}nosuch`]);
    expect(r.status).toBe(2);
    oneLine(r.stderr);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^hopscope: ifaces: no such namespace '${PREFIX}nosuch' on this host \\(namespaces: .*${NS_A}`,
      ),
    );
    expect(r.stderr).toContain(NS_B);
  });

  it('a glob that matches nothing: lists what exists', () => {
    const r = runCli(['ifaces', '--netns', `${PREFIX}zz*`]);
    expect(r.status).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(
      new RegExp(`no namespace matches '${PREFIX}zz\\*' on this host \\(namespaces: .*${NS_A}`),
    );
  });

  it('--netns with --all-netns, a bad pid, a bad name, stray arguments, unknown options', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--netns', NS_A, '--all-netns'], /--netns and --all-netns exclude each other/],
      [['--netns', 'pid:0'], /'pid:0' does not name a process/],
      [['--netns', 'pid:99999999999999999999'], /does not name a process/],
      [
        ['--netns', 'pid:999999999'],
        /cannot enter the namespace of process 999999999 on this host \(nsenter: /,
      ],
      [['--netns', 'a/b'], /network namespace name "a\/b" contains '\/'/],
      [['--host', '-oProxyCommand=touch /tmp/x'], /ssh destination .* begins with '-'/],
      [['eth0'], /unexpected argument 'eth0'/],
      [['--frobnicate'], /unknown option --frobnicate/],
      [['--netns'], /--netns needs a value/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['ifaces', ...args]);
      expect([args, r.status]).toEqual([args, 2]);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/^hopscope: /);
      expect(r.stderr).toMatch(message);
    }
  });

  it('without privileges: the root namespace is listed, namespaces need CAP_SYS_ADMIN', () => {
    // root's uid with nothing in the bounding set: what a user without root gets
    const noCaps = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const r = spawnSync(
        'setpriv',
        ['--bounding-set=-all', '--inh-caps=-all', process.execPath, CLI, ...args],
        {
          encoding: 'utf8',
          cwd: PROJECT_ROOT,
          timeout: 60_000,
        },
      );
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const plain = noCaps(['ifaces', '--json']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(records(plain.stdout).some((x) => x.name === 'lo' && x.netns === null)).toBe(true);
    for (const args of [['--all-netns'], ['--netns', NS_A], ['--netns', `pid:${sleeperPid}`]]) {
      const r = noCaps(['ifaces', ...args]);
      expect([args, r.status]).toEqual([args, 2]);
      expect(r.stderr).toBe('hopscope: ifaces: looking into network namespaces needs root (CAP_SYS_ADMIN)\n');
    }
  });

  it('ip failing: nothing listed, exit 2 with ip’s reason', () => {
    const env = { ...process.env, PATH: `${join(fakeDir, 'broken')}:${process.env.PATH ?? ''}` };
    const r = runCli(['ifaces'], { env });
    expect(r.status).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toBe(
      'hopscope: ifaces: cannot list interfaces of the root namespace on this host: ip: something broke\n',
    );
    const all = runCli(['ifaces', '--all-netns'], { env });
    expect(all.status).toBe(2);
    oneLine(all.stderr);
    expect(all.stderr).toMatch(/cannot list interfaces of \d+ namespaces on this host: ip: something broke/);
  });
});

describe('hopscope ifaces --host (a lab host over ssh)', () => {
  const compute = (): string => lab?.hosts.find((h) => h.name === 'compute')?.sshName ?? 'no-lab';

  it('--all-netns --json: the host’s interfaces, labelled host:[ns/]name', () => {
    const host = compute();
    const r = runCli(['ifaces', '--host', host, '--ssh-config', lab!.sshConfigPath, '--all-netns', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const recs = records(r.stdout);
    for (const x of recs) {
      expect(x.host).toBe(host);
      expect(x.label).toBe(`${host}:${x.netns === null ? '' : `${String(x.netns)}/`}${String(x.name)}`);
    }
    const m = byLabel(recs);
    // the host's own (root) namespace: the compute node's interfaces
    expect(m.get(`${host}:br100`)).toMatchObject({
      netns: null,
      role: 'bridge',
      kind: 'bridge',
      addresses: expect.arrayContaining(['10.0.0.1/24']),
    });
    expect(m.get(`${host}:tap7aa08012-d0`)).toMatchObject({ role: 'tap', master: 'br100', kind: 'tun' });
    expect(m.get(`${host}:eth1`)).toMatchObject({
      addresses: expect.arrayContaining(['203.0.113.2/24', '203.0.113.101/32']),
    });
    // named namespaces as the host sees them
    expect(m.get(`${host}:${PREFIX}lab-instance-00000001/eth0`)).toMatchObject({
      netns: `${PREFIX}lab-instance-00000001`,
      addresses: expect.arrayContaining(['10.0.0.10/24']),
    });
    expect(m.get(`${host}:${NS_A}/${TAP}`)).toMatchObject({ role: 'tap', master: QBR, adminUp: false });
  });

  it('text: blocks headed by the host', () => {
    const host = compute();
    const r = runCli(['ifaces', '--host', host, '--ssh-config', lab!.sshConfigPath]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${host}: root namespace \\(\\d+ interfaces\\)$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}br100 +bridge +UP +1500 +- +10\.0\.0\.1\/24/m);
    expect(r.stdout).toContain(`capture with: hopscope capture -i '${host}:`);
  });

  it('an unknown namespace on the host lists the host’s namespaces', () => {
    const host = compute();
    const r = runCli(['ifaces', '--host', host, '--ssh-config', lab!.sshConfigPath, '--netns', 'nosuch']);
    expect(r.status).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(
      new RegExp(`no such namespace 'nosuch' on ${host} \\(namespaces: .*${PREFIX}lab-compute`),
    );
  });

  it('a host ssh cannot reach: exit 2, one line with ssh’s reason', () => {
    const r = runCli(['ifaces', '--host', 'hs-no-such-host', '--ssh-config', lab!.sshConfigPath]);
    expect(r.status).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^hopscope: ifaces: hs-no-such-host: cannot list interfaces: \S/);
    const noConfig = runCli(['ifaces', '--host', compute(), '--ssh-config', join(fakeDir, 'missing')]);
    expect(noConfig.status).toBe(2);
    oneLine(noConfig.stderr);
    expect(noConfig.stderr).toMatch(/cannot list interfaces: .*missing/);
  }, 60_000);
});
