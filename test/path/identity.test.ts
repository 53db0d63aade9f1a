// Cloud identities as -i SPECs (port:, router:, dhcp:, ip:): what parseSpec makes of
// them, and which interfaces they name in the state recorded on the lab (the path's
// snapshots: names as a real cloud gives them) — or the nearest names when none.
import { describe, expect, it } from 'vitest';
import { nearest, resolveIdentity, type IdentityLocation } from '../../src/path/identity.js';
import {
  parseSpec,
  resolveSpecs,
  SpecError,
  specIsOpen,
  specMatches,
  type CloudIdentity,
} from '../../src/sources/spec.js';
import { Topology } from '../../src/path/topology.js';
import { hostState } from './support/snapshots.js';

const ROUTER = '6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50';
const DVR = 'snap-dvr-';

function names(locs: IdentityLocation[]): string[] {
  return locs.map((l) => (l.netns === null ? l.name : `${l.netns}/${l.name}`)).sort();
}

function resolve(text: string, topo: Topology): IdentityLocation[] {
  const spec = parseSpec(text);
  return resolveIdentity(spec.identity as CloudIdentity, topo, text, 'on this host');
}

function failure(text: string, topo: Topology): string {
  try {
    resolve(text, topo);
  } catch (err) {
    if (err instanceof SpecError) return err.message;
    throw err;
  }
  throw new Error(`${text} resolved`);
}

describe('parseSpec: cloud identities', () => {
  it.each([
    [
      'port:7AA08012-D0E5-4c3b-9a1f-1b2c3d4e5f60',
      null,
      { kind: 'port', value: '7aa08012-d0e5-4c3b-9a1f-1b2c3d4e5f60' },
    ],
    [`router:${ROUTER}`, null, { kind: 'router', value: ROUTER }],
    ['dhcp:8e1b2a3c', null, { kind: 'dhcp', value: '8e1b2a3c' }],
    ['ip:10.0.0.5', null, { kind: 'ip', value: '10.0.0.5' }],
    ['ip:2001:DB8::0:1', null, { kind: 'ip', value: '2001:db8::1' }],
    ['root@compute2:port:7aa08012-d0', 'root@compute2', { kind: 'port', value: '7aa08012-d0' }],
    ['compute2:ip:fe80::1', 'compute2', { kind: 'ip', value: 'fe80::1' }],
  ])('%s', (text, host, identity) => {
    const spec = parseSpec(text);
    expect(spec.host).toBe(host);
    expect(spec.identity).toEqual(identity);
    // resolved once, into the interfaces it names: never a pattern that attaches more later
    expect(specIsOpen(spec)).toBe(false);
    expect(specMatches(spec, { host, netns: null, name: 'tap7aa08012-d0' })).toBe(false);
    expect(() => resolveSpecs([spec], [])).toThrow(/resolved by identityTargets, not here/);
  });

  it.each([
    ['port:vm1', `-i "port:vm1": 'vm1' is not a port id (a UUID, or its first 8 hex digits at least)`],
    ['port:7aa0', `-i "port:7aa0": '7aa0' is not a port id (a UUID, or its first 8 hex digits at least)`],
    [
      'dhcp:net-1',
      `-i "dhcp:net-1": 'net-1' is not a network id (a UUID, or its first 8 hex digits at least)`,
    ],
    ['ip:10.0.0.0/24', `-i "ip:10.0.0.0/24": '10.0.0.0/24' is not an IP address (ip:10.0.0.5)`],
    ['-x:port:7aa08012', `-i "-x:port:7aa08012": ssh destination "-x" begins with '-'`],
  ])('%s is refused in one line', (text, message) => {
    expect(() => parseSpec(text)).toThrow(new SpecError(message));
  });

  it('a plain SPEC is no identity, and a host named like one is written with its user', () => {
    expect(parseSpec('compute:tap7aa08012-d0').identity).toBeUndefined();
    const spec = parseSpec('root@port:eth0');
    expect([spec.host, spec.iface.text, spec.identity]).toEqual(['root@port', 'eth0', undefined]);
  });
});

describe('identities on the dvr-fip lab’s recorded state', () => {
  const topo = new Topology([hostState('dvr-fip.txt.gz')]);

  it('port: the VM port’s tap, qbr, qvb, qvo — by the first 11 characters of the port id', () => {
    expect(names(resolve('port:7aa08012-d0e5-4c3b-9a1f-1b2c3d4e5f60', topo))).toEqual(
      ['qbr7aa08012-d0', 'qvb7aa08012-d0', 'qvo7aa08012-d0', 'tap7aa08012-d0'].map(
        (n) => `${DVR}compute/${n}`,
      ),
    );
    // a router port: qr- in the router, and its bridge end
    expect(names(resolve('port:56c70d72-3b11-4e0f-8a9b-0c1d2e3f4a5b', topo))).toEqual([
      `${DVR}compute/tap56c70d72-3b`,
      `${DVR}qrouter-${ROUTER}/qr-56c70d72-3b`,
    ]);
    // the id's start is enough
    expect(names(resolve('port:7aa08012', topo))).toHaveLength(4);
  });

  it('router: the qrouter namespace’s qr-/rfp-, and the DVR fip namespace’s fpr- and fg-', () => {
    const fip = `${DVR}fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8`;
    expect(names(resolve(`router:${ROUTER}`, topo))).toEqual([
      `${fip}/fg-3c1d5e7f-a2`,
      `${fip}/fpr-6f774e8e-2`,
      `${DVR}qrouter-${ROUTER}/qr-56c70d72-3b`,
      `${DVR}qrouter-${ROUTER}/rfp-6f774e8e-2`,
    ]);
  });

  it('dhcp: the qdhcp namespace’s ns- port', () => {
    expect(names(resolve('dhcp:8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b', topo))).toEqual([
      `${DVR}qdhcp-8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b/ns-9d8c7b6a-5e`,
    ]);
  });

  it('ip: where the address lives and the bridge port towards it (the VM’s tap, a router port’s bridge end)', () => {
    expect(names(resolve('ip:10.0.0.5', topo))).toEqual([
      `${DVR}compute/tap7aa08012-d0`,
      `${DVR}instance-0000002a/eth0`,
    ]);
    expect(names(resolve('ip:10.0.0.1', topo))).toEqual([
      `${DVR}compute/tap56c70d72-3b`,
      `${DVR}qrouter-${ROUTER}/qr-56c70d72-3b`,
    ]);
    // a floating IP on rfp-: its other end is no bridge port
    expect(names(resolve('ip:203.0.113.20', topo))).toEqual([`${DVR}qrouter-${ROUTER}/rfp-6f774e8e-2`]);
  });

  it('ip of a VM that is no namespace here (a real guest): the bridge port its MAC was learned on', () => {
    const state = hostState('dvr-fip.txt.gz');
    state.namespaces = state.namespaces.filter((n) => n.name !== `${DVR}instance-0000002a`);
    const router = state.namespaces.find((n) => n.name === `${DVR}qrouter-${ROUTER}`);
    const compute = state.namespaces.find((n) => n.name === `${DVR}compute`);
    if (router === undefined || compute === undefined) throw new Error('no router or compute');
    const ip = { family: 4 as const, bytes: Uint8Array.of(10, 0, 0, 5), text: '10.0.0.5' };
    router.neighbours.push({
      address: ip,
      dev: 'qr-56c70d72-3b',
      mac: 'fa:16:3e:5a:6b:7c',
      state: ['REACHABLE'],
    });
    compute.fdb.push({
      mac: 'fa:16:3e:5a:6b:7c',
      dev: 'tap7aa08012-d0',
      master: 'qbr7aa08012-d0',
      dst: null,
      permanent: false,
    });
    compute.fdb.push({
      mac: 'fa:16:3e:5a:6b:7c',
      dev: 'qvo7aa08012-d0',
      master: 'br-int',
      dst: null,
      permanent: false,
    });
    expect(names(resolve('ip:10.0.0.5', new Topology([state])))).toEqual([
      `${DVR}compute/qvo7aa08012-d0`,
      `${DVR}compute/tap7aa08012-d0`,
    ]);
  });

  it('an identity that names nothing lists the nearest that exist', () => {
    expect(failure('port:7aa08013-d0', topo)).toBe(
      `-i "port:7aa08013-d0": no interface of port 7aa08013-d0 on this host (nearest: ${DVR}compute/qbr7aa08012-d0, ${DVR}compute/qvb7aa08012-d0, ${DVR}compute/qvo7aa08012-d0, ${DVR}compute/tap7aa08012-d0, ${DVR}compute/tap3c1d5e7f-a2)`,
    );
    expect(failure('router:6f774e8f', topo)).toBe(
      `-i "router:6f774e8f": no namespace of router 6f774e8f (qrouter-6f774e8f…) on this host (nearest: ${DVR}qrouter-${ROUTER})`,
    );
    expect(failure('dhcp:8e1b2a3d', topo)).toBe(
      `-i "dhcp:8e1b2a3d": no DHCP namespace of network 8e1b2a3d (qdhcp-8e1b2a3d…) on this host (nearest: ${DVR}qdhcp-8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b)`,
    );
    expect(failure('ip:10.0.0.6', topo)).toMatch(
      /^-i "ip:10\.0\.0\.6": no interface holds 10\.0\.0\.6 on this host \(nearest: 10\.0\.0\.5 on snap-dvr-instance-0000002a\/eth0, 10\.0\.0\.2 on snap-dvr-qdhcp-[^,]+\/ns-9d8c7b6a-5e, 10\.0\.0\.1 on /,
    );
  });

  it('nearest: by edit distance over the compared part, then the longer common start', () => {
    const c = (name: string): { name: string; key: string } => ({ name, key: name });
    expect(
      nearest('qvo7aa08012', [c('qvb7aa08012'), c('qvo7aa08013'), c('tapxxxx'), c('qvo7aa08012x')]),
    ).toEqual(['qvo7aa08012x', 'qvo7aa08013', 'qvb7aa08012', 'tapxxxx']);
  });
});

describe('identities on sdn-vxlan: a pod by its address', () => {
  it('ip: the pod’s eth0 and its veth’s end on the node’s bridge', () => {
    const topo = new Topology([hostState('sdn-vxlan.txt.gz')]);
    expect(names(resolve('ip:10.128.0.5', topo))).toEqual([
      'snap-sdn-cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d/eth0',
      'snap-sdn-node1/veth5c1e7a2d',
    ]);
  });
});
