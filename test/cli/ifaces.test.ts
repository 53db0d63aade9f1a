// `hopscope ifaces` on namespaces built for the test (a bridge with a veth and a tap
// enslaved, addresses, a link set down) and on a lab host over ssh: what an operator
// reads to choose what to capture.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUp, type LabView } from '../../src/lab/index.js';
import { parseRemoteDiscovery, roleOf } from '../../src/sources/discovery.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { runCli } from '../support/run-cli.js';

const PREFIX = runPrefix('ifc');
const NS = `${PREFIX}qrouter-1`;
const NS2 = `${PREFIX}compute`;
let lab: LabView;

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: 'pipe' });
};

function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  requireRoot();
  ip('netns', 'add', NS);
  ip('netns', 'add', NS2);
  // compute: br-int with a qvo veth and a VM tap; a link set down
  ip('-n', NS2, 'link', 'add', 'br-int', 'type', 'bridge');
  ip('-n', NS2, 'link', 'add', 'qvo1234abcd-ef', 'type', 'veth', 'peer', 'name', 'qvb1234abcd-ef');
  ip('-n', NS2, 'tuntap', 'add', 'tap1234abcd-ef', 'mode', 'tap');
  ip('-n', NS2, 'link', 'set', 'qvo1234abcd-ef', 'master', 'br-int');
  ip('-n', NS2, 'link', 'set', 'tap1234abcd-ef', 'master', 'br-int');
  ip('-n', NS2, 'link', 'set', 'qvo1234abcd-ef', 'mtu', '1450');
  for (const l of ['br-int', 'qvo1234abcd-ef', 'qvb1234abcd-ef']) ip('-n', NS2, 'link', 'set', l, 'up');
  // router: a qr- port with addresses
  ip('-n', NS, 'link', 'add', 'qr-56c70d72-3b', 'type', 'veth', 'peer', 'name', 'peer0');
  ip('-n', NS, 'addr', 'add', '10.0.0.1/24', 'dev', 'qr-56c70d72-3b');
  ip('-n', NS, 'link', 'set', 'qr-56c70d72-3b', 'up');
  lab = await labUp('nova-flat', { prefix: `${PREFIX}l-` });
}, 180_000);

afterAll(async () => {
  for (const ns of [NS, NS2]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
  await downAllLabs(PREFIX);
}, 120_000);

describe('hopscope ifaces', () => {
  it('--json: host, namespace, role, kind, state, MTU, master and addresses of every interface', () => {
    const r = runCli(['ifaces', '--netns', `${PREFIX}*`, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const byLabel = new Map(records(r.stdout).map((x) => [x.label, x]));
    expect(byLabel.get(`${NS2}/tap1234abcd-ef`)).toMatchObject({
      type: 'iface',
      host: null,
      netns: NS2,
      role: 'tap',
      kind: 'tun',
      master: 'br-int',
      adminUp: false,
    });
    expect(byLabel.get(`${NS2}/qvo1234abcd-ef`)).toMatchObject({
      role: 'qvo',
      kind: 'veth',
      mtu: 1450,
      master: 'br-int',
      adminUp: true,
    });
    expect(byLabel.get(`${NS2}/qvb1234abcd-ef`)).toMatchObject({ role: 'qvb', master: null });
    expect(byLabel.get(`${NS2}/br-int`)).toMatchObject({ role: 'bridge', kind: 'bridge' });
    expect(byLabel.get(`${NS}/qr-56c70d72-3b`)).toMatchObject({
      role: 'qr',
      addresses: expect.arrayContaining(['10.0.0.1/24']),
      state: expect.stringMatching(/^(UP|LOWERLAYERDOWN)$/),
    });
    expect(byLabel.get(`${NS}/lo`)).toMatchObject({ role: 'loopback' });
    // only the namespaces asked for
    for (const x of byLabel.values()) expect(String(x.netns)).toMatch(new RegExp(`^${PREFIX}`));
  });

  it('text: one block per namespace with the columns, and how to capture', () => {
    const r = runCli(['ifaces', '--netns', NS2]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`namespace ${NS2} (5 interfaces)`);
    expect(r.stdout).toMatch(/NAME\s+ROLE\s+STATE\s+MTU\s+MASTER\s+ADDRESSES/);
    expect(r.stdout).toMatch(/tap1234abcd-ef\s+tap\s+DOWN \(set down\)\s+1500\s+br-int/);
    expect(r.stdout).toMatch(/capture with: hopscope capture -i '/);
  });

  it('--all-netns includes the root namespace', () => {
    const r = runCli(['ifaces', '--all-netns', '--json']);
    expect(r.status).toBe(0);
    const recs = records(r.stdout);
    expect(recs.some((x) => x.netns === null && x.name === 'lo')).toBe(true);
    expect(recs.some((x) => x.netns === NS)).toBe(true);
  });

  it('errors are one line, exit 2, and list what exists', () => {
    const missing = runCli(['ifaces', '--netns', `${PREFIX}nosuch`]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(
      new RegExp(`no such namespace '${PREFIX}nosuch' on this host \\(namespaces: .*${NS}`),
    );
    const glob = runCli(['ifaces', '--netns', `${PREFIX}zz*`]);
    expect(glob.stderr).toMatch(/no namespace matches/);
    const both = runCli(['ifaces', '--netns', NS, '--all-netns']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/exclude each other/);
    for (const r of [missing, glob, both]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--host asks a lab host over ssh; labels carry the host', () => {
    const compute = lab.hosts.find((h) => h.name === 'compute')?.sshName as string;
    const r = runCli([
      'ifaces',
      '--host',
      compute,
      '--ssh-config',
      lab.sshConfigPath,
      '--all-netns',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const recs = records(r.stdout);
    expect(recs.find((x) => x.name === 'br100' && x.netns === null)).toMatchObject({
      host: compute,
      label: `${compute}:br100`,
      role: 'bridge',
      addresses: expect.arrayContaining(['10.0.0.1/24']),
    });
    expect(recs.find((x) => x.name === 'tap7aa08012-d0')).toMatchObject({ role: 'tap', master: 'br100' });
    const bad = runCli(['ifaces', '--host', 'hs-no-such-host', '--ssh-config', lab.sshConfigPath]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^hopscope: ifaces: hs-no-such-host: cannot list interfaces: /);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});

describe('roles and the remote listing', () => {
  it('guesses roles the way OpenStack and Kubernetes name things', () => {
    const cases: Array<[string, string | null, string]> = [
      ['tap7aa08012-d0', 'tun', 'tap'],
      ['qbr7aa08012-d0', 'bridge', 'qbr'],
      ['qvb7aa08012-d0', 'veth', 'qvb'],
      ['qvo7aa08012-d0', 'veth', 'qvo'],
      ['qr-56c70d72-3b', 'veth', 'qr'],
      ['qg-5f3a9c21-cc', 'veth', 'qg'],
      ['rfp-6f774e8e-2', 'veth', 'rfp'],
      ['fpr-6f774e8e-2', 'veth', 'fpr'],
      ['fg-3c1d5e7f-a2', 'veth', 'fg'],
      ['br-int', 'openvswitch', 'bridge'],
      ['br100', 'bridge', 'bridge'],
      ['tun0', 'tun', 'tun'],
      ['vxlan_sys_4789', 'vxlan', 'vxlan'],
      ['veth5c1e7a2d', 'veth', 'veth'],
      ['eth0', null, 'physical'],
      ['ens3', null, 'physical'],
      ['lo', null, 'loopback'],
    ];
    for (const [name, kind, role] of cases) expect([name, roleOf(name, kind)]).toEqual([name, role]);
  });

  it('reads the remote script output, a namespace that could not be asked, and refuses a cut listing', () => {
    const out = [
      '@@hopscope root',
      '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","addr_info":[]}]',
      '@@hopscope ns qrouter-1',
      '[{"ifindex":2,"ifname":"qr-1","flags":["UP"],"mtu":1450,"operstate":"UP","link_type":"ether","address":"fa:16:3e:00:00:01","linkinfo":{"info_kind":"veth"},"addr_info":[{"local":"10.0.0.1","prefixlen":24}]}]',
      '@@hopscope ns gone-ns',
      'Cannot open network namespace "gone-ns": No such file or directory',
      '@@hopscope error',
      '@@hopscope end',
    ].join('\n');
    const inv = parseRemoteDiscovery('compute2', out);
    expect(inv.namespaces).toEqual(['gone-ns', 'qrouter-1']);
    expect(inv.inventories[1].interfaces[0]).toMatchObject({
      host: 'compute2',
      netns: 'qrouter-1',
      name: 'qr-1',
      role: 'qr',
      mtu: 1450,
      addresses: ['10.0.0.1/24'],
    });
    expect(inv.inventories[2].error).toMatch(/Cannot open network namespace/);
    expect(() => parseRemoteDiscovery('compute2', out.replace('@@hopscope end', ''))).toThrow(/ended early/);
  });
});
