// sdn-vxlan: OpenShift SDN (ovs-subnet). Each node owns a /23 of the cluster
// network 10.128.0.0/14; pods hang off br0; tun0 is the node's gateway into the
// pod subnet; node-to-node pod traffic is carried by VXLAN (vxlan_sys_4789, UDP
// 4789) over the nodes' underlay NICs.
//
//   pod1 eth0 ══ veth… ─ br0 ─ vethtun0══tun0 [node1 routing] vxlan_sys_4789 ─ eth0 ══underlay══ eth0 ─ vxlan_sys_4789 [node2 routing] tun0══vethtun0 ─ br0 ─ veth… ══ eth0 pod2
//   10.128.0.5                         10.128.0.1          192.168.126.11            192.168.126.12          10.128.2.1                     10.128.2.5
//
// br0 is a Linux bridge standing in for OVS, and tun0 (an OVS internal port there)
// a veth whose other end, vethtun0, is a br0 port. The OVS flows that send remote
// pod subnets into the tunnel are routes plus a static neighbour entry here.
import type { NeighborSpec, RouteSpec, ScenarioSpec } from '../topology.js';
import { connectArgv, pingArgv } from './probes.js';

const OVERLAY_MTU = 1450;
const VNI = 5624913; // a project's NETID
const VXLAN = 'vxlan_sys_4789';

interface Node {
  name: string;
  pod: string;
  podName: string;
  podVeth: string;
  underlayIp: string;
  vxlanMac: string;
  subnet: string;
  gatewayIp: string;
  podIp: string;
}

const NODE1: Node = {
  name: 'node1',
  pod: 'cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d',
  podName: 'client-7d9f8b6c5-x2x4k',
  podVeth: 'veth5c1e7a2d',
  underlayIp: '192.168.126.11',
  vxlanMac: '0a:58:c0:a8:7e:0b',
  subnet: '10.128.0.0/23',
  gatewayIp: '10.128.0.1',
  podIp: '10.128.0.5',
};

const NODE2: Node = {
  name: 'node2',
  pod: 'cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  podName: 'hello-openshift-1-abcde',
  podVeth: 'veth9a8b7c6d',
  underlayIp: '192.168.126.12',
  vxlanMac: '0a:58:c0:a8:7e:0c',
  subnet: '10.128.2.0/23',
  gatewayIp: '10.128.2.1',
  podIp: '10.128.2.5',
};

/** Node `from` reaches `to`'s pod subnet through the tunnel. */
function tunnelRoute(from: Node, to: Node): RouteSpec {
  return { netns: from.name, to: to.subnet, via: to.gatewayIp, dev: VXLAN, onlink: true };
}

function tunnelNeighbor(from: Node, to: Node): NeighborSpec {
  return { netns: from.name, dev: VXLAN, ip: to.gatewayIp, mac: to.vxlanMac };
}

function nodeLinks(node: Node, peer: Node): ScenarioSpec['links'] {
  return [
    { kind: 'bridge', dev: { netns: node.name, name: 'br0', role: 'bridge' } },
    {
      kind: 'veth',
      a: { netns: node.name, name: 'tun0', role: 'tun' },
      b: { netns: node.name, name: 'vethtun0', role: 'veth' },
    },
    {
      kind: 'veth',
      a: { netns: node.pod, name: 'eth0', role: 'guest' },
      b: { netns: node.name, name: node.podVeth, role: 'veth' },
    },
    {
      kind: 'vxlan',
      dev: { netns: node.name, name: VXLAN, role: 'vxlan', mac: node.vxlanMac },
      vni: VNI,
      dstPort: 4789,
      local: node.underlayIp,
      remote: peer.underlayIp,
      underlay: 'eth0',
    },
  ];
}

export const sdnVxlan: ScenarioSpec = {
  name: 'sdn-vxlan',
  summary: 'OpenShift SDN: pod veth -> br0 -> tun0, node to node over vxlan_sys_4789 on the underlay',
  faults: [
    {
      name: 'mtu-mismatch',
      description:
        'node2’s underlay NIC carries only 1400 bytes, the overlay MTU (1450) needs 1500: large DF pings vanish, small ones pass',
    },
    {
      name: 'missing-route',
      description:
        'node2 has no route to node1’s pod subnet: requests arrive, replies die on node2 after tun0',
    },
    {
      name: 'rp-filter-asymmetric',
      description:
        'a host route on node2 sends replies to the client pod over the underlay, not the tunnel; node1’s strict reverse-path filter drops them on eth0',
    },
  ],
  hosts: [
    { name: NODE1.name, netns: NODE1.name, description: `node with pod ${NODE1.podName} (${NODE1.subnet})` },
    { name: NODE2.name, netns: NODE2.name, description: `node with pod ${NODE2.podName} (${NODE2.subnet})` },
  ],
  namespaces: [
    { name: NODE1.name, host: NODE1.name, description: 'OpenShift node' },
    { name: NODE1.pod, host: NODE1.name, description: `pod ${NODE1.podName}` },
    { name: NODE2.name, host: NODE2.name, description: 'OpenShift node' },
    { name: NODE2.pod, host: NODE2.name, description: `pod ${NODE2.podName}` },
  ],
  links: [
    {
      kind: 'veth',
      a: { netns: NODE1.name, name: 'eth0', role: 'physical' },
      b: { netns: NODE2.name, name: 'eth0', role: 'physical' },
    },
    ...nodeLinks(NODE1, NODE2),
    ...nodeLinks(NODE2, NODE1),
  ],
  bridgePorts: [NODE1, NODE2].flatMap((n) => [
    { netns: n.name, bridge: 'br0', port: 'vethtun0' },
    { netns: n.name, bridge: 'br0', port: n.podVeth },
  ]),
  mtus: [
    ...[NODE1, NODE2].flatMap((n) => [
      ...['tun0', 'vethtun0', n.podVeth, VXLAN].map((dev) => ({ netns: n.name, dev, mtu: OVERLAY_MTU })),
      { netns: n.pod, dev: 'eth0', mtu: OVERLAY_MTU },
    ]),
    { netns: NODE2.name, dev: 'eth0', mtu: 1400, when: { withFault: 'mtu-mismatch' } },
  ],
  sysctls: [
    ...[NODE1, NODE2].map((n) => ({ netns: n.name, key: 'net.ipv4.ip_forward', value: '1' })),
    // strict reverse-path filtering on node1 (max of `all` and the device's applies)
    ...['all', 'eth0'].map((dev) => ({
      netns: NODE1.name,
      key: `net.ipv4.conf.${dev}.rp_filter`,
      value: '1',
      when: { withFault: 'rp-filter-asymmetric' },
    })),
  ],
  addresses: [NODE1, NODE2].flatMap((n) => [
    { netns: n.name, dev: 'eth0', cidr: `${n.underlayIp}/24` },
    { netns: n.name, dev: 'tun0', cidr: `${n.gatewayIp}/23` },
    { netns: n.pod, dev: 'eth0', cidr: `${n.podIp}/23` },
  ]),
  routes: [
    ...[NODE1, NODE2].map((n): RouteSpec => ({ netns: n.pod, to: 'default', via: n.gatewayIp })),
    tunnelRoute(NODE1, NODE2),
    { ...tunnelRoute(NODE2, NODE1), when: { withoutFault: 'missing-route' } },
    // left over from debugging: node1's pod reached over the underlay, around the tunnel
    {
      netns: NODE2.name,
      to: `${NODE1.podIp}/32`,
      via: NODE1.underlayIp,
      dev: 'eth0',
      when: { withFault: 'rp-filter-asymmetric' },
    },
  ],
  neighbors: [tunnelNeighbor(NODE1, NODE2), tunnelNeighbor(NODE2, NODE1)],
  nftables: [],
  iptables: [],
  daemons: [
    { kind: 'tcp-listener', name: 'hello-openshift', netns: NODE2.pod, address: '0.0.0.0', port: 8080 },
  ],
  traffic: [
    {
      name: 'ping-pod',
      netns: NODE1.pod,
      argv: pingArgv(NODE2.podIp),
      description: 'pod on node1 pings the pod on node2 (small packets)',
      failsWith: ['missing-route', 'rp-filter-asymmetric'],
    },
    {
      name: 'ping-pod-large-df',
      netns: NODE1.pod,
      argv: pingArgv(NODE2.podIp, '-M', 'do', '-s', '1400'),
      description: '1428-byte pings with DF set: fit the overlay MTU, not a smaller underlay',
      failsWith: ['mtu-mismatch', 'missing-route', 'rp-filter-asymmetric'],
    },
    {
      name: 'http-pod',
      netns: NODE1.pod,
      argv: connectArgv(NODE2.podIp, 8080),
      description: 'pod on node1 connects to hello-openshift on node2, port 8080',
      failsWith: ['missing-route', 'rp-filter-asymmetric'],
    },
  ],
  capturePoints: [
    { netns: NODE1.pod, iface: 'eth0' },
    { netns: NODE1.name, iface: NODE1.podVeth },
    { netns: NODE1.name, iface: 'tun0' },
    { netns: NODE1.name, iface: VXLAN },
    { netns: NODE1.name, iface: 'eth0' },
    { netns: NODE2.name, iface: 'eth0' },
    { netns: NODE2.name, iface: VXLAN },
    { netns: NODE2.name, iface: 'tun0' },
    { netns: NODE2.name, iface: NODE2.podVeth },
    { netns: NODE2.pod, iface: 'eth0' },
  ],
};
