// Interface discovery (the map behind `hopscope ifaces` and SPEC resolution): roles
// as operators name things, `ip -j -d addr show` read from a namespace built here and
// checked against /sys/class/net, the remote script's listing (run here through sh,
// and cut or broken on purpose), and the globs that pick namespaces and interfaces.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  discoverInterfaces,
  parseIpAddrJson,
  parseRemoteDiscovery,
  remoteDiscoveryScript,
  type DiscoveredInterface,
} from '../../src/sources/discovery.js';
import { roleOf } from '../../src/shared/roles.js';
import { globToRegExp, isGlob, NamePattern } from '../../src/sources/glob.js';
import { requireRoot } from '../lab/support/lab-env.js';
import { recordTestRun } from '../support/test-runs.js';

describe('roleOf', () => {
  it('guesses roles the way OpenStack, OpenShift, libvirt and plain Linux name things', () => {
    // [name, link kind as `ip -d` reports it, role an operator would give it]
    const cases: Array<[string, string | null, string]> = [
      ['tap7aa08012-d0', 'tun', 'tap'],
      ['tap7aa08012-d0', null, 'tap'],
      ['qbr7aa08012-d0', 'bridge', 'qbr'],
      ['qvb7aa08012-d0', 'veth', 'qvb'],
      ['qvo7aa08012-d0', 'veth', 'qvo'],
      ['qr-56c70d72-3b', 'veth', 'qr'],
      // legacy OVS agent: router ports are OVS internal ports
      ['qr-56c70d72-3b', 'openvswitch', 'qr'],
      ['qg-5f3a9c21-cc', 'openvswitch', 'qg'],
      ['rfp-6f774e8e-2', 'veth', 'rfp'],
      ['fpr-6f774e8e-2', 'veth', 'fpr'],
      ['fg-3c1d5e7f-a2', 'openvswitch', 'fg'],
      ['br-int', 'openvswitch', 'bridge'],
      ['br-ex', 'openvswitch', 'bridge'],
      ['br-int', 'bridge', 'bridge'],
      ['br100', 'bridge', 'bridge'],
      ['br0', null, 'bridge'],
      ['virbr0', 'bridge', 'bridge'],
      ['docker0', 'bridge', 'bridge'],
      ['tun0', 'tun', 'tun'],
      // OpenShift SDN's tun0 is an OVS internal port; the lab's a veth
      ['tun0', 'openvswitch', 'tun'],
      ['tun0', 'veth', 'tun'],
      ['vxlan_sys_4789', 'vxlan', 'vxlan'],
      ['vxlan_sys_4789', null, 'vxlan'],
      ['genev_sys_6081', 'geneve', 'vxlan'],
      ['flannel.1', 'vxlan', 'vxlan'],
      ['gre0', 'gre', 'vxlan'],
      ['veth5c1e7a2d', 'veth', 'veth'],
      ['vethtun0', 'veth', 'veth'],
      ['cali1a2b3c4d5e6', 'veth', 'veth'],
      // libvirt's VM ports: tun devices in tap mode (parseIpAddrJson passes 'tap')
      ['vnet0', 'tap', 'tap'],
      ['vnet0', null, 'tap'],
      ['eth0', null, 'physical'],
      ['ens3', null, 'physical'],
      ['enp0s31f6', null, 'physical'],
      ['eno1', null, 'physical'],
      // a bond aggregates NICs: read as physical
      ['bond0', 'bond', 'physical'],
      // a container's eth0 is the far end of a veth
      ['eth0', 'veth', 'veth'],
      ['ifb0', 'ifb', 'other'],
      ['lo', null, 'loopback'],
      ['lo', 'veth', 'loopback'],
    ];
    for (const [name, kind, role] of cases)
      expect([name, kind, roleOf(name, kind)]).toEqual([name, kind, role]);
    // the LOOPBACK flag decides whatever the name
    expect(roleOf('loop7', null, true)).toBe('loopback');
    // a kind that happens to be an Object.prototype key is not a role
    expect(roleOf('x0', 'constructor')).toBe('other');
  });
});

describe('parseIpAddrJson and parseRemoteDiscovery on hand-written input', () => {
  it('empty output is no interfaces; what is not ip -j output is refused with a clear reason', () => {
    expect(parseIpAddrJson('', null, null)).toEqual([]);
    expect(parseIpAddrJson('  \n', null, null)).toEqual([]);
    expect(() => parseIpAddrJson('1: lo: <LOOPBACK,UP> mtu 65536', null, null)).toThrow(
      /not JSON \(iproute2 too old for -j\?\): 1: lo:/,
    );
    expect(() => parseIpAddrJson('{"ifname":"lo"}', null, null)).toThrow(/not a JSON array/);
    // entries that are not interfaces are skipped, missing fields get neutral values
    expect(parseIpAddrJson('[1, {"x":2}, {"ifname":"weird0"}]', 'h', 'ns')).toEqual([
      {
        host: 'h',
        netns: 'ns',
        name: 'weird0',
        ifindex: 0,
        kind: null,
        role: 'physical',
        state: 'UNKNOWN',
        adminUp: false,
        mtu: 0,
        mac: null,
        master: null,
        addresses: [],
      },
    ]);
  });

  const LO =
    '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]}]';
  const QR =
    '[{"ifindex":2,"ifname":"qr-1","flags":["UP"],"mtu":1450,"operstate":"UP","link_type":"ether","address":"fa:16:3e:00:00:01","linkinfo":{"info_kind":"veth"},"addr_info":[{"local":"10.0.0.1","prefixlen":24}]}]';

  it('reads the remote listing: root, named namespaces, pid namespaces, and one that could not be asked', () => {
    const out = [
      'Welcome to compute2 (a banner from a shell rc file, before any marker)',
      '@@hopscope root',
      LO,
      '@@hopscope ns qrouter-1',
      QR,
      '@@hopscope ns gone-ns',
      'Cannot open network namespace "gone-ns": No such file or directory',
      '@@hopscope error',
      '@@hopscope ns old-ip',
      '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN',
      '@@hopscope pid 4242',
      QR,
      '@@hopscope pid 99999',
      'nsenter: cannot open /proc/99999/ns/net: No such file or directory',
      '@@hopscope error',
      '@@hopscope end',
      '',
    ].join('\n');
    const inv = parseRemoteDiscovery('compute2', out);
    expect(inv.host).toBe('compute2');
    expect(inv.namespaces).toEqual(['gone-ns', 'old-ip', 'qrouter-1']);
    expect(inv.inventories.map((i) => [i.netns, i.error === null])).toEqual([
      [null, true],
      ['qrouter-1', true],
      ['gone-ns', false],
      ['old-ip', false],
      ['pid:4242', true],
      ['pid:99999', false],
    ]);
    expect(inv.inventories[0].interfaces).toMatchObject([
      { host: 'compute2', netns: null, name: 'lo', role: 'loopback', mac: null, addresses: ['127.0.0.1/8'] },
    ]);
    expect(inv.inventories[1].interfaces[0]).toMatchObject({
      host: 'compute2',
      netns: 'qrouter-1',
      name: 'qr-1',
      role: 'qr',
      kind: 'veth',
      mtu: 1450,
      mac: 'fa:16:3e:00:00:01',
      addresses: ['10.0.0.1/24'],
    });
    expect(inv.inventories[2].error).toBe(
      'Cannot open network namespace "gone-ns": No such file or directory',
    );
    expect(inv.inventories[3].error).toMatch(/not JSON/);
    expect(inv.inventories[4].interfaces[0]).toMatchObject({ netns: 'pid:4242', name: 'qr-1' });
    expect(inv.inventories[5].error).toMatch(/cannot open \/proc\/99999/);
  });

  it('root scope: namespaces are named but not asked', () => {
    const inv = parseRemoteDiscovery(
      'h',
      ['@@hopscope root', LO, '@@hopscope name b-ns', '@@hopscope name a-ns', '@@hopscope end'].join('\n'),
    );
    expect(inv.namespaces).toEqual(['a-ns', 'b-ns']);
    expect(inv.inventories.map((i) => i.netns)).toEqual([null]);
  });

  it('an error marker without a message still says something', () => {
    const inv = parseRemoteDiscovery(
      'h',
      ['@@hopscope root', LO, '@@hopscope ns x', '@@hopscope error', '@@hopscope end'].join('\n'),
    );
    expect(inv.inventories[1]).toMatchObject({ netns: 'x', interfaces: [], error: 'could not be asked' });
  });

  it('refuses a listing cut short (ssh died, script killed): no end marker', () => {
    const cut = ['@@hopscope root', LO, '@@hopscope ns qrouter-1', QR].join('\n');
    expect(() => parseRemoteDiscovery('compute2', cut)).toThrow(
      /^compute2: the interface listing ended early$/,
    );
    expect(() => parseRemoteDiscovery('compute2', '')).toThrow(/ended early/);
  });
});

describe('glob.ts', () => {
  it('isGlob: only *, ? and [ make a glob', () => {
    expect(isGlob('tap*')).toBe(true);
    expect(isGlob('eth?')).toBe(true);
    expect(isGlob('eth[01]')).toBe(true);
    expect(isGlob('qrouter-6f774e8e-2f5b')).toBe(false);
    expect(isGlob('vxlan_sys_4789')).toBe(false);
  });

  const matches = (glob: string, name: string): boolean => new NamePattern(glob).matches(name);

  it('* any run (also none), ? exactly one character, anchored at both ends', () => {
    expect(matches('tap*', 'tap7aa08012-d0')).toBe(true);
    expect(matches('tap*', 'tap')).toBe(true);
    expect(matches('tap*', 'xtap1')).toBe(false);
    expect(matches('*-d0', 'tap7aa08012-d0')).toBe(true);
    expect(matches('qrouter-*', 'qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50')).toBe(true);
    expect(matches('q*-*', 'qr-1')).toBe(true);
    expect(matches('*', '')).toBe(true);
    expect(matches('eth?', 'eth0')).toBe(true);
    expect(matches('eth?', 'eth')).toBe(false);
    expect(matches('eth?', 'eth10')).toBe(false);
    expect(matches('qr-5f3a9c2?-*', 'qr-5f3a9c21-cc')).toBe(true);
    // regexp characters are plain characters
    expect(matches('flannel.*', 'flannel.1')).toBe(true);
    expect(matches('flannel.*', 'flannelX1')).toBe(false);
    expect(matches('a+b*', 'a+bc')).toBe(true);
    expect(matches('a+b*', 'aab')).toBe(false);
    expect(matches('(x)|y*', '(x)|yz')).toBe(true);
    expect(matches('^e$*', '^e$1')).toBe(true);
  });

  it('classes, ranges and negation with ! or ^', () => {
    expect(matches('eth[01]', 'eth0')).toBe(true);
    expect(matches('eth[01]', 'eth1')).toBe(true);
    expect(matches('eth[01]', 'eth2')).toBe(false);
    expect(matches('eth[0-3]', 'eth3')).toBe(true);
    expect(matches('eth[0-3]', 'eth4')).toBe(false);
    expect(matches('eth[!01]', 'eth2')).toBe(true);
    expect(matches('eth[!01]', 'eth0')).toBe(false);
    expect(matches('eth[^01]', 'eth2')).toBe(true);
    expect(matches('eth[^01]', 'eth1')).toBe(false);
    // ']' first in a class is a member, as in fnmatch
    expect(matches('x[]]', 'x]')).toBe(true);
    expect(matches('x[]a]', 'xa')).toBe(true);
    expect(matches('x[]]', 'xa')).toBe(false);
    // a backslash or ^ inside a class is a member, not regexp syntax
    expect(matches('x[a^]', 'x^')).toBe(true);
    expect(matches('x[\\]', 'x\\')).toBe(true);
  });

  it('a backslash quotes the next character; a lone [ is an ordinary character', () => {
    expect(matches('tap\\*', 'tap*')).toBe(true);
    expect(matches('tap\\*', 'tap1')).toBe(false);
    expect(matches('what\\?', 'what?')).toBe(true);
    expect(matches('what\\?', 'whatx')).toBe(false);
    expect(matches('x\\[0]', 'x[0]')).toBe(true);
    expect(matches('x\\[0]', 'x0')).toBe(false);
    expect(matches('a[b', 'a[b')).toBe(true);
    expect(matches('a[b*', 'a[bcd')).toBe(true);
    expect(matches('a[b*', 'ab')).toBe(false);
    expect(matches('[', '[')).toBe(true);
    // a trailing backslash is itself
    expect(matches('a\\', 'a\\')).toBe(true);
  });

  it('an exact name (no glob character) is compared as it is', () => {
    const p = new NamePattern('qrouter-1');
    expect(p.isGlob).toBe(false);
    expect(p.text).toBe('qrouter-1');
    expect(p.matches('qrouter-1')).toBe(true);
    expect(p.matches('qrouter-10')).toBe(false);
    expect(new NamePattern('qrouter-*').isGlob).toBe(true);
  });

  it('runs of * are collapsed into one', () => {
    expect(globToRegExp('a***b').source).toBe('^a.*b$');
    // a ']' first in a class (also after '!') is a member, as fnmatch reads it
    expect(new NamePattern('x[!]]').matches('xa')).toBe(true);
    expect(new NamePattern('x[!]]').matches('x]')).toBe(false);
    expect(new NamePattern('x[]a]').matches('x]')).toBe(true);
    expect(globToRegExp('**').source).toBe('^.*$');
    expect(new NamePattern(`${'*'.repeat(10_000)}x`).matches(`${'a'.repeat(10_000)}y`)).toBe(false);
  });

  it('matches names containing a newline only as they are (dotAll)', () => {
    expect(matches('a*b', 'a\nb')).toBe(true);
    expect(matches('a?b', 'a\nb')).toBe(true);
  });
});

// ---- on a real namespace -------------------------------------------------------------

const PREFIX = `hsif${process.pid.toString(36)}${randomBytes(2).toString('hex')}-`;
recordTestRun(PREFIX); // taken down by the next run should this one be killed
const NS = `${PREFIX}d`;
let sleeper: ChildProcess | undefined;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: 'pipe' });
/** Read a file of /sys/class/net inside the namespace: an oracle independent of ip's JSON. */
const sysNet = (path: string): string =>
  execFileSync('ip', ['netns', 'exec', NS, 'sh', '-c', `cat /sys/class/net/${path}`], {
    encoding: 'utf8',
  }).trim();
const sysMaster = (dev: string): string | null => {
  const out = execFileSync(
    'ip',
    ['netns', 'exec', NS, 'sh', '-c', `readlink /sys/class/net/${dev}/master || true`],
    { encoding: 'utf8' },
  ).trim();
  return out === '' ? null : out.split('/').pop()!;
};

describe('on a namespace built for the test', () => {
  beforeAll(() => {
    requireRoot();
    ip('netns', 'add', NS);
    const n = (...args: string[]): string => ip('-n', NS, ...args);
    n('link', 'set', 'lo', 'up');
    n('link', 'add', 'br-int', 'type', 'bridge');
    n('link', 'add', 'qvo7aa08012-d0', 'type', 'veth', 'peer', 'name', 'qvb7aa08012-d0');
    n('tuntap', 'add', 'tap7aa08012-d0', 'mode', 'tap');
    n('tuntap', 'add', 'vnet0', 'mode', 'tap');
    n('tuntap', 'add', 'tun0', 'mode', 'tun');
    n('link', 'add', 'vxlan_sys_4789', 'type', 'vxlan', 'id', '42', 'dstport', '4789');
    n('link', 'set', 'qvo7aa08012-d0', 'master', 'br-int');
    n('link', 'set', 'tap7aa08012-d0', 'master', 'br-int');
    n('link', 'set', 'qvo7aa08012-d0', 'mtu', '1450');
    n('addr', 'add', '10.77.0.1/24', 'dev', 'br-int');
    n('addr', 'add', 'fd00:77::1/64', 'dev', 'br-int', 'nodad');
    n('addr', 'add', '10.78.0.1/30', 'dev', 'tun0');
    for (const l of ['br-int', 'qvo7aa08012-d0', 'tun0', 'vxlan_sys_4789']) n('link', 'set', l, 'up');
    // qvb… and the taps stay down
    sleeper = spawn('ip', ['netns', 'exec', NS, 'sleep', '120'], { stdio: 'ignore' });
  });

  afterAll(() => {
    sleeper?.kill('SIGKILL');
    try {
      ip('netns', 'del', NS);
    } catch {
      // never built (not root) or already gone
    }
  });

  const byName = (list: DiscoveredInterface[]): Map<string, DiscoveredInterface> =>
    new Map(list.map((i) => [i.name, i]));

  it('parseIpAddrJson reads what ip -j -d addr show prints, field by field as /sys/class/net has it', () => {
    const text = ip('-n', NS, '-j', '-d', 'addr', 'show');
    const list = parseIpAddrJson(text, 'compute2', NS);
    const sysNames = execFileSync('ip', ['netns', 'exec', NS, 'ls', '/sys/class/net'], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .sort();
    expect(list.map((i) => i.name).sort()).toEqual(sysNames);
    for (const i of list) {
      expect(i.host).toBe('compute2');
      expect(i.netns).toBe(NS);
      expect(i.ifindex, i.name).toBe(Number(sysNet(`${i.name}/ifindex`)));
      expect(i.mtu, i.name).toBe(Number(sysNet(`${i.name}/mtu`)));
      expect(i.state.toLowerCase(), i.name).toBe(sysNet(`${i.name}/operstate`));
      expect(i.adminUp, i.name).toBe((Number(sysNet(`${i.name}/flags`)) & 1) === 1);
      expect(i.master, i.name).toBe(sysMaster(i.name));
      // type 1 = ARPHRD_ETHER: those have a MAC; lo and tun0 do not
      const ether = sysNet(`${i.name}/type`) === '1';
      expect(i.mac, i.name).toBe(ether ? sysNet(`${i.name}/address`) : null);
    }
    const m = byName(list);
    expect(m.get('lo')).toMatchObject({
      role: 'loopback',
      kind: null,
      addresses: expect.arrayContaining(['127.0.0.1/8']),
    });
    expect(m.get('br-int')).toMatchObject({
      role: 'bridge',
      kind: 'bridge',
      adminUp: true,
      addresses: expect.arrayContaining(['10.77.0.1/24', 'fd00:77::1/64']),
    });
    expect(m.get('qvo7aa08012-d0')).toMatchObject({ role: 'qvo', kind: 'veth', mtu: 1450, master: 'br-int' });
    expect(m.get('qvb7aa08012-d0')).toMatchObject({
      role: 'qvb',
      kind: 'veth',
      master: null,
      adminUp: false,
      state: 'DOWN',
    });
    expect(m.get('tap7aa08012-d0')).toMatchObject({
      role: 'tap',
      kind: 'tun',
      master: 'br-int',
      adminUp: false,
    });
    // libvirt-style name: a tun device in tap mode is a VM port
    expect(m.get('vnet0')).toMatchObject({ role: 'tap', kind: 'tun' });
    expect(m.get('tun0')).toMatchObject({ role: 'tun', kind: 'tun', mac: null, addresses: ['10.78.0.1/30'] });
    expect(m.get('vxlan_sys_4789')).toMatchObject({ role: 'vxlan', kind: 'vxlan', adminUp: true });
  });

  it('discoverInterfaces: root scope names every namespace and asks only the root one', async () => {
    const inv = await discoverInterfaces({ scope: 'root' });
    expect(inv.host).toBeNull();
    expect(inv.namespaces).toContain(NS);
    expect(inv.inventories.map((i) => i.netns)).toEqual([null]);
    expect(inv.inventories[0].error).toBeNull();
    expect(inv.inventories[0].interfaces.find((i) => i.name === 'lo')).toMatchObject({
      netns: null,
      role: 'loopback',
    });
  });

  it('discoverInterfaces: all scope asks every namespace; pid:N asks the namespace of a process', async () => {
    const pid = await waitForChildPid();
    const inv = await discoverInterfaces({ scope: 'all', pids: [pid, 999_999_999] });
    expect(inv.inventories[0].netns).toBeNull();
    const mine = inv.inventories.find((i) => i.netns === NS);
    expect(mine?.error).toBeNull();
    const expected = parseIpAddrJson(ip('-n', NS, '-j', '-d', 'addr', 'show'), null, NS);
    expect(mine?.interfaces).toEqual(expected);
    const viaPid = inv.inventories.find((i) => i.netns === `pid:${pid}`);
    expect(viaPid?.interfaces.map((i) => [i.name, i.role, i.netns])).toEqual(
      expected.map((i) => [i.name, i.role, `pid:${pid}`]),
    );
    // a process that does not exist: that namespace's error, not a failure of the whole
    const gone = inv.inventories.find((i) => i.netns === 'pid:999999999');
    expect(gone?.interfaces).toEqual([]);
    expect(gone?.error).toMatch(/nsenter: .*\/proc\/999999999\/ns\/net/);
    await expect(discoverInterfaces({ scope: 'root', pids: [0] })).rejects.toThrow(/not a process id: 0/);
  });

  it('the remote script, run here by sh, lists the same as local discovery', async () => {
    const pid = await waitForChildPid();
    const script = remoteDiscoveryScript('all');
    const out = execFileSync('sh', ['-c', script, 'sh', String(pid), '999999999'], { encoding: 'utf8' });
    const remote = parseRemoteDiscovery('here', out);
    const local = await discoverInterfaces({ scope: 'all', pids: [pid] });
    expect(remote.namespaces).toContain(NS);
    const strip = (list: DiscoveredInterface[]): unknown[] => list.map((i) => ({ ...i, host: null }));
    const remoteNs = remote.inventories.find((i) => i.netns === NS);
    expect(remoteNs?.interfaces.every((i) => i.host === 'here')).toBe(true);
    expect(strip(remoteNs?.interfaces ?? [])).toEqual(
      strip(local.inventories.find((i) => i.netns === NS)?.interfaces ?? []),
    );
    expect(remote.inventories.find((i) => i.netns === `pid:${pid}`)?.interfaces.map((i) => i.name)).toEqual(
      local.inventories.find((i) => i.netns === `pid:${pid}`)?.interfaces.map((i) => i.name),
    );
    expect(remote.inventories.find((i) => i.netns === 'pid:999999999')?.error).toMatch(/nsenter/);
    // root scope: every namespace named, only root and pids asked
    const rootOnly = parseRemoteDiscovery(
      'here',
      execFileSync('sh', ['-c', remoteDiscoveryScript('root'), 'sh'], { encoding: 'utf8' }),
    );
    expect(rootOnly.namespaces).toContain(NS);
    expect(rootOnly.inventories.map((i) => i.netns)).toEqual([null]);
  });
});

/** The pid of `sleep` inside the namespace (ip netns exec execs it, so it is the child itself). */
async function waitForChildPid(): Promise<number> {
  const pid = sleeper?.pid;
  if (pid === undefined) throw new Error('sleeper not started');
  // wait until ip has entered the namespace and exec'd sleep
  for (let i = 0; i < 100; i++) {
    const comm = execFileSync('sh', ['-c', `cat /proc/${pid}/comm 2>/dev/null || true`], {
      encoding: 'utf8',
    }).trim();
    if (comm === 'sleep') return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('sleep did not start in the namespace');
}
