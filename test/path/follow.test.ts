// `hopscope path` over the state recorded on each lab scenario (pure: the snapshots are
// the gather script's real output): between the endpoints of every traffic entry, the
// chain of the scenario's capture points, in order, both ways — through the floating
// IPs' SNAT and DNAT, the VXLAN tunnel, the port forward to 127.0.0.1; taps told apart
// by their namespaces where two labs use the same names; and over ssh, two hosts whose
// listings show the same namespaces. Every path's `--json` record is checked against
// docs/hopscope.schema.json.
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../src/lab/scenarios/index.js';
import { parseAddress } from '../../src/path/address.js';
import { followPath } from '../../src/path/follow.js';
import { pathRecord } from '../../src/path/format.js';
import type { PathResult } from '../../src/path/path-result.js';
import { parsePathQuery, PathError } from '../../src/path/query.js';
import type { Topology } from '../../src/path/topology.js';
import { expectContract } from '../support/json-schema.js';
import { SCENARIO_NAMES, scenarioPaths, type ScenarioPath } from './support/scenario-paths.js';
import { hostState, SNAPSHOT_PREFIX, topologyOf } from './support/snapshots.js';

function localLabels(scenario: string, prefix: string, points: readonly number[]): string[] {
  const spec = findScenario(scenario);
  if (spec === undefined) throw new Error(scenario);
  return points.map((i) => `${prefix}${spec.capturePoints[i].netns}/${spec.capturePoints[i].iface}`);
}

/** The path followed; its `--json` record, as `path --json` prints it, keeps the contract. */
function follow(topo: Topology, p: Pick<ScenarioPath, 'src' | 'dst' | 'proto'>): PathResult {
  const r = followPath(topo, parsePathQuery(p.src, p.dst, p.proto));
  expectContract([JSON.parse(JSON.stringify(pathRecord(r)))], `hopscope path ${p.src} ${p.dst} --json`);
  return r;
}

const labels = (r: PathResult['forward']): string[] => r.hops.map((h) => h.link.label);
const DVR = SNAPSHOT_PREFIX['dvr-fip'];
const VM_MAC = 'fa:16:3e:5a:6b:7c';

describe('path on each lab scenario (recorded state)', () => {
  it('every traffic entry but DHCP has its path (who talks to whom)', () => {
    for (const name of SCENARIO_NAMES) {
      const spec = findScenario(name);
      const described = spec?.traffic.filter((t) => t.name !== 'dhcp').map((t) => t.name);
      expect(scenarioPaths(name).map((p) => p.traffic)).toEqual(described);
    }
  });

  for (const name of SCENARIO_NAMES) {
    for (const p of scenarioPaths(name)) {
      it(`${name} ${p.traffic}: ${p.src} → ${p.dst} crosses the capture points in order, and back the same way`, () => {
        const prefix = SNAPSHOT_PREFIX[name];
        const topo = topologyOf(hostState(`${name}.txt.gz`));
        const r = follow(topo, p);
        const want = localLabels(name, prefix, p.points);
        expect(labels(r.forward)).toEqual(want);
        expect(r.forward.end.kind).toBe('delivered');
        expect(r.back).not.toBeNull();
        expect(labels(r.back as PathResult['forward'])).toEqual([...want].reverse());
        expect(r.back?.end.kind).toBe('delivered');
        expect(r.backDiffers).toBe(false);
        expect(r.notes).toEqual([]);
      });
    }
  }

  it('nova-flat: the VM is SNAT-ed to its floating IP on eth1, and the reply is un-NATed there', () => {
    const topo = topologyOf(hostState('nova-flat.txt.gz'));
    const r = follow(topo, { src: '10.0.0.10', dst: '203.0.113.10', proto: 'icmp' });
    const hops = r.forward.hops.map((h) => [h.link.name, h.src, h.dst]);
    expect(hops).toEqual([
      ['eth0', '10.0.0.10', '203.0.113.10'],
      ['tap7aa08012-d0', '10.0.0.10', '203.0.113.10'],
      ['br100', '10.0.0.10', '203.0.113.10'],
      ['eth1', '203.0.113.101', '203.0.113.10'],
      ['eth0', '203.0.113.101', '203.0.113.10'],
    ]);
    expect(r.forward.hops[3].notes.join(' ')).toContain('snat 10.0.0.10 → 203.0.113.101');
    expect(r.back?.src).toBe('203.0.113.10');
    expect(r.back?.dst).toBe('203.0.113.101');
    expect(r.back?.hops[1].notes.join(' ')).toContain('conntrack: reply to 203.0.113.101 → 10.0.0.10');
    // the VM's tap is joined to its eth0 by the process holding both (the hypervisor's stand-in)
    expect(r.forward.hops[1].notes.join(' ')).toMatch(/^from eth0 through socat \(pid \d+\)/);
  });

  it('dvr-fip: inbound to the floating IP is DNAT-ed in the router; the router and fip ports carry their bridge ends as twins', () => {
    const prefix = SNAPSHOT_PREFIX['dvr-fip'];
    const topo = topologyOf(hostState('dvr-fip.txt.gz'));
    const r = follow(topo, { src: '203.0.113.1', dst: '203.0.113.20', proto: 'icmp' });
    const rfp = r.forward.hops.find((h) => h.link.name === 'rfp-6f774e8e-2');
    expect(rfp?.notes.join(' ')).toContain('dnat 203.0.113.20 → 10.0.0.5');
    const twins = r.forward.hops.filter((h) => h.twin !== null).map((h) => [h.link.name, h.twin?.label]);
    expect(twins).toEqual([
      ['fg-3c1d5e7f-a2', `${prefix}compute/tap3c1d5e7f-a2`],
      ['qr-56c70d72-3b', `${prefix}compute/tap56c70d72-3b`],
    ]);
    // br-ex has no neighbour entry for the floating IP yet: fg- answers it by proxy ARP
    const eth1 = r.forward.hops.findIndex((h) => h.link.name === 'eth1');
    expect(r.forward.hops[eth1 + 1].link.name).toBe('fg-3c1d5e7f-a2');
  });

  it('sdn-vxlan: the underlay hops carry the ping inside VXLAN to the other node', () => {
    const topo = topologyOf(hostState('sdn-vxlan.txt.gz'));
    const r = follow(topo, { src: '10.128.0.5', dst: '10.128.2.5', proto: 'icmp' });
    const underlay = r.forward.hops.filter((h) => h.tunnel !== null);
    expect(underlay.map((h) => h.link.label)).toEqual(['snap-sdn-node1/eth0', 'snap-sdn-node2/eth0']);
    for (const h of underlay) {
      expect(h.tunnel).toEqual({
        type: 'vxlan',
        vni: 5624913,
        outerSrc: '192.168.126.11',
        outerDst: '192.168.126.12',
      });
      expect([h.src, h.dst]).toEqual(['10.128.0.5', '10.128.2.5']);
    }
  });

  it('sdn-vxlan over ssh: each node asked as a host; labels are HOST:[NETNS/]IFACE as remote capture takes them', () => {
    const topo = topologyOf(
      hostState('sdn-vxlan-node1.txt.gz', 'snap-sdn-node1'),
      hostState('sdn-vxlan-node2.txt.gz', 'snap-sdn-node2'),
    );
    const r = follow(topo, { src: '10.128.0.5', dst: '10.128.2.5', proto: 'icmp' });
    const pod1 = 'snap-sdn-cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d';
    const pod2 = 'snap-sdn-cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    const want = [
      `snap-sdn-node1:${pod1}/eth0`,
      'snap-sdn-node1:veth5c1e7a2d',
      'snap-sdn-node1:tun0',
      'snap-sdn-node1:vxlan_sys_4789',
      'snap-sdn-node1:eth0',
      'snap-sdn-node2:eth0',
      'snap-sdn-node2:vxlan_sys_4789',
      'snap-sdn-node2:tun0',
      'snap-sdn-node2:veth9a8b7c6d',
      `snap-sdn-node2:${pod2}/eth0`,
    ];
    expect(labels(r.forward)).toEqual(want);
    expect(labels(r.back as PathResult['forward'])).toEqual([...want].reverse());
  });

  it('two labs with the same tap and VM NIC names: each VM is joined to the tap of its own compute node', () => {
    const topo = topologyOf(hostState('dvr-fip-and-nova-flat.txt.gz'));
    const dvr = follow(topo, { src: '10.0.0.5', dst: '203.0.113.1', proto: 'icmp' });
    expect(labels(dvr.forward).slice(0, 2)).toEqual([
      'snap-dvr-instance-0000002a/eth0',
      'snap-dvr-compute/tap7aa08012-d0',
    ]);
    const nova = follow(topo, { src: '10.0.0.10', dst: '203.0.113.10', proto: 'icmp' });
    expect(labels(nova.forward).slice(0, 2)).toEqual([
      'snap-nova-instance-00000001/eth0',
      'snap-nova-compute/tap7aa08012-d0',
    ]);
    // and back into the right VM
    expect(labels(dvr.back as PathResult['forward']).at(-1)).toBe('snap-dvr-instance-0000002a/eth0');
  });

  it('an address held in two namespaces is a question to narrow, naming both', () => {
    const topo = topologyOf(hostState('dvr-fip-and-nova-flat.txt.gz'));
    // 10.0.0.1: the DVR router's qr- and nova's br100
    expect(() => follow(topo, { src: '10.0.0.1', dst: '10.0.0.5', proto: 'icmp' })).toThrow(
      /10\.0\.0\.1 is held in 2 namespaces \(.*snap-dvr-qrouter-.*\/qr-56c70d72-3b.*snap-nova-compute\/br100.*\); narrow with --netns/,
    );
    expect(() => follow(topo, { src: '10.99.0.1', dst: '10.0.0.5', proto: 'icmp' })).toThrow(PathError);
  });
});

describe('path to and from a VM no listing shows (a real guest: its address is inside it)', () => {
  /**
   * The dvr-fip state as a compute node running qemu shows it: no namespace for the VM,
   * its tap held by one process, and — once the VM talked — the router's neighbour entry
   * for it and the bridges' fdb entries for its MAC.
   */
  function withGuest(): Topology {
    const state = hostState('dvr-fip.txt.gz');
    const vm = `${DVR}instance-0000002a`;
    state.namespaces = state.namespaces.filter((n) => n.name !== vm);
    state.tunHolders = state.tunHolders.filter((t) => t.iface !== 'eth0');
    const router = state.namespaces.find((n) => n.name?.startsWith(`${DVR}qrouter-`));
    const compute = state.namespaces.find((n) => n.name === `${DVR}compute`);
    if (router === undefined || compute === undefined) throw new Error('no router or compute');
    const ip = parseAddress('10.0.0.5');
    if (ip === null) throw new Error('address');
    router.neighbours.push({ address: ip, dev: 'qr-56c70d72-3b', mac: VM_MAC, state: ['REACHABLE'] });
    compute.fdb.push(
      { mac: VM_MAC, dev: 'tap7aa08012-d0', master: 'qbr7aa08012-d0', dst: null, permanent: false },
      { mac: VM_MAC, dev: 'qvo7aa08012-d0', master: 'br-int', dst: null, permanent: false },
    );
    return topologyOf(state);
  }
  const chain = localLabels('dvr-fip', DVR, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

  it('inbound to the floating IP: to the tap its hypervisor holds, and the answer from there back', () => {
    const r = follow(withGuest(), { src: '203.0.113.1', dst: '203.0.113.20', proto: 'icmp' });
    expect(labels(r.forward)).toEqual([...chain].reverse());
    expect(r.forward.end).toMatchObject({
      kind: 'left',
      note: expect.stringMatching(
        /^handed to socat \(pid \d+\), which holds tap7aa08012-d0: the VM behind it$/,
      ),
    });
    expect(labels(r.back as PathResult['forward'])).toEqual(chain);
    expect(r.back?.end.kind).toBe('delivered');
    expect(r.backDiffers).toBe(false);
  });

  it('from the VM’s address: it starts on the port its MAC was learned on, towards its subnet’s gateway', () => {
    const r = follow(withGuest(), { src: '10.0.0.5', dst: '203.0.113.1', proto: 'icmp' });
    expect(labels(r.forward)).toEqual(chain);
    expect(r.forward.hops[0].notes[0]).toBe(`from the guest behind it (${VM_MAC})`);
    expect(r.forward.end.kind).toBe('delivered');
    expect(labels(r.back as PathResult['forward'])).toEqual([...chain].reverse());
  });
});

describe('path where the state breaks it', () => {
  it('dnat-local without route_localnet: the SYN DNAT-ed to 127.0.0.1 stops at the edge as a martian', () => {
    const state = hostState('dnat-local.txt.gz');
    const edge = state.namespaces.find((n) => n.name === 'snap-dnat-edge');
    edge?.routeLocalnet.set('eth0', false);
    const r = follow(topologyOf(state), { src: '198.51.100.10', dst: '198.51.100.1:80', proto: 'tcp' });
    expect(labels(r.forward)).toEqual(['snap-dnat-client/eth0', 'snap-dnat-edge/eth0']);
    expect(r.forward.end).toMatchObject({
      kind: 'stopped',
      note: '127.0.0.1 arriving on eth0 is a martian there and dropped (net.ipv4.conf.eth0.route_localnet=0)',
    });
    // the ping to the edge itself is not DNAT-ed and arrives
    const ping = follow(topologyOf(state), { src: '198.51.100.10', dst: '198.51.100.1', proto: 'icmp' });
    expect(ping.forward.end.kind).toBe('delivered');
  });

  it('sdn-vxlan without node2’s route to node1’s pods: the request arrives, the answer stops at node2’s tun0 (shown: it differs)', () => {
    const state = hostState('sdn-vxlan.txt.gz');
    const node2 = state.namespaces.find((n) => n.name === 'snap-sdn-node2');
    if (node2 === undefined) throw new Error('no node2');
    node2.routes = node2.routes.filter((r) => !(r.dst.length === 23 && r.dev === 'vxlan_sys_4789'));
    const r = follow(topologyOf(state), { src: '10.128.0.5', dst: '10.128.2.5', proto: 'icmp' });
    expect(r.forward.end.kind).toBe('delivered');
    expect(r.backDiffers).toBe(true);
    expect(labels(r.back as PathResult['forward'])).toEqual([
      'snap-sdn-cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d/eth0',
      'snap-sdn-node2/veth9a8b7c6d',
      'snap-sdn-node2/tun0',
    ]);
    expect(r.back?.end).toMatchObject({
      kind: 'stopped',
      note: 'no route to 10.128.0.5 in namespace snap-sdn-node2',
    });
  });

  it('forwarding off in the router: the VM’s packet stops after qr-', () => {
    const state = hostState('dvr-fip.txt.gz');
    const router = state.namespaces.find((n) => n.name?.startsWith('snap-dvr-qrouter-'));
    if (router === undefined) throw new Error('no router');
    router.forwarding[4] = false;
    const r = follow(topologyOf(state), { src: '10.0.0.5', dst: '203.0.113.1', proto: 'icmp' });
    expect(r.forward.hops.at(-1)?.link.name).toBe('qr-56c70d72-3b');
    expect(r.forward.end.note).toMatch(
      /forwarding is off in namespace snap-dvr-qrouter-.* \(net\.ipv4\.ip_forward=0\): dropped after qr-56c70d72-3b/,
    );
  });

  it('a next hop nobody holds on the link: the path stops where the neighbour lookup fails', () => {
    const topo = topologyOf(hostState('dnat-local.txt.gz'));
    const r = follow(topo, { src: '198.51.100.10', dst: '198.51.100.77', proto: 'icmp' });
    expect(r.forward.hops.map((h) => h.link.label)).toEqual(['snap-dnat-client/eth0']);
    expect(r.forward.end).toEqual({
      kind: 'stopped',
      note: 'nothing answers for 198.51.100.77 out of eth0: snap-dnat-edge/eth0 at its other end is not it',
    });
    expect(r.back).toBeNull();
  });
});
