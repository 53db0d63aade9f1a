// dvr-fip: Neutron DVR with a floating IP, hybrid plugging (iptables firewall on a
// per-port Linux bridge). North-south traffic of a VM with a floating IP never
// leaves its compute node: the distributed router and the fip namespace are local.
//
//  compute                                                                    outside
//  vm eth0 ═tap═ tap… ─ qbr… ─ qvb…══qvo… ─ br-int ─ tap…══qr-… [qrouter-…] rfp-…══fpr-… [fip-…] fg-…══tap… ─ br-ex ─ eth1 ══ eth0
//                                            │                                                   203.0.113.1
//                                        vxlan-c0a8640a ─ eth0 ══ eth0 ─ vxlan-c0a8640b ─ br-int ─ tap…══ns-… [qdhcp-…] dnsmasq
//                                                                 network
//
// br-int and br-ex are Linux bridges standing in for Open vSwitch. Router and DHCP
// ports, OVS internal ports in a real deployment, are veth pairs named as the
// linuxbridge agent names them: the namespace end qr-/fg-/ns-, the bridge end tap<port id>.
// rfp/fpr use 10.254.106.114/31 where Neutron uses 169.254.106.114/31 (the lab keeps
// to its address ranges).
import type { ScenarioSpec } from '../topology.js';
import { connectArgv, DHCP_LEASE_ARGV, pingArgv } from './probes.js';
import { faultRuleset, filterRuleset, floatingIpNat } from './rulesets.js';

const ROUTER_ID = '6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50';
const EXT_NET_ID = '2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8';
const TENANT_NET_ID = '8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';

const COMPUTE = 'compute';
const NETWORK = 'network';
const OUTSIDE = 'outside';
const VM = 'instance-0000002a';
const QROUTER = `qrouter-${ROUTER_ID}`;
const FIP = `fip-${EXT_NET_ID}`;
const QDHCP = `qdhcp-${TENANT_NET_ID}`;

// Port ids cut to 11 characters, as Neutron names devices.
const VM_PORT = '7aa08012-d0';
const QR_PORT = '56c70d72-3b';
const FG_PORT = '3c1d5e7f-a2';
const DHCP_PORT = '9d8c7b6a-5e';
const TAP = `tap${VM_PORT}`;
const QBR = `qbr${VM_PORT}`;
const QVB = `qvb${VM_PORT}`;
const QVO = `qvo${VM_PORT}`;
const QR = `qr-${QR_PORT}`;
const FG = `fg-${FG_PORT}`;
const DHCP_NS_PORT = `ns-${DHCP_PORT}`;
// Neutron: (prefix + router id)[:14]
const RFP = `rfp-${ROUTER_ID}`.slice(0, 14);
const FPR = `fpr-${ROUTER_ID}`.slice(0, 14);
const VXLAN_TO_NETWORK = 'vxlan-c0a8640a'; // OVS names tunnel ports by the remote IP in hex: 192.168.100.10
const VXLAN_TO_COMPUTE = 'vxlan-c0a8640b'; // 192.168.100.11

const VM_MAC = 'fa:16:3e:5a:6b:7c';
const VM_IP = '10.0.0.5';
const GATEWAY_IP = '10.0.0.1';
const DHCP_IP = '10.0.0.2';
const RFP_IP = '10.254.106.114';
const FPR_IP = '10.254.106.115';
const FLOATING_IP = '203.0.113.20';
const FG_IP = '203.0.113.4';
const OUTSIDE_GATEWAY_IP = '203.0.113.1';
/** the fip end of the router's /31 mistyped: an address nobody has */
const WRONG_FPR_IP = '10.254.106.113';
const TENANT_MTU = 1450; // VXLAN tenant network: 1500 - 50
const VNI = 1074;

// What the L3 agent's iptables rules do for a floating IP, in nftables.
const FLOATING_IP_NAT = floatingIpNat(FLOATING_IP, VM_IP, RFP);

// The VM's security group without its ingress rules for ICMP and SSH, enforced on
// qbr as the hybrid firewall driver does: requests cross qvb and die before the tap.
const SECURITY_GROUP_DROP = filterRuleset('bridge neutron_sg', 'forward', [
  `iifname "${QVB}" oifname "${TAP}" icmp type echo-request drop`,
  `iifname "${QVB}" oifname "${TAP}" tcp dport 22 drop`,
]);

export const dvrFip: ScenarioSpec = {
  name: 'dvr-fip',
  summary:
    'Neutron DVR with a floating IP: tap -> qbr -> qvb/qvo -> br-int -> qrouter qr-/rfp- -> fip fpr-/fg- -> br-ex -> outside',
  faults: [
    {
      name: 'sg-drop',
      description:
        'security group drops inbound ICMP and TCP 22 on qbr: requests seen on qvb and qr-, never on the tap',
    },
    {
      name: 'br-ex-no-uplink',
      description:
        'br-ex has no uplink port: ARP from fg- for the outside gateway goes unanswered (INCOMPLETE)',
    },
    {
      name: 'router-forwarding-off',
      description:
        'IP forwarding is off in the qrouter namespace: packets reach qr- and rfp- and are not routed on',
    },
    {
      name: 'router-wrong-gateway',
      description:
        'the qrouter’s default route names 10.254.106.113, a mistyped next hop nobody has: its neighbour entry fails, the router’s outbound traffic dies after qr-',
    },
  ],
  hosts: [
    {
      name: COMPUTE,
      netns: COMPUTE,
      description: 'compute node (VM, qbr, br-int, DVR qrouter and fip namespaces, br-ex)',
    },
    {
      name: NETWORK,
      netns: NETWORK,
      description: 'network node (qdhcp namespace with dnsmasq), VXLAN tunnel to compute',
    },
    { name: OUTSIDE, netns: OUTSIDE, description: 'upstream router on the external network (203.0.113.1)' },
  ],
  namespaces: [
    { name: COMPUTE, host: COMPUTE, description: 'compute node' },
    { name: VM, host: COMPUTE, description: `VM ${VM} (the guest’s own network stack)` },
    { name: QROUTER, host: COMPUTE, description: 'distributed router' },
    { name: FIP, host: COMPUTE, description: 'floating-IP namespace of the external network' },
    { name: NETWORK, host: NETWORK, description: 'network node' },
    { name: QDHCP, host: NETWORK, description: 'DHCP namespace of the tenant network' },
    { name: OUTSIDE, host: OUTSIDE, description: 'outside router' },
  ],
  links: [
    {
      kind: 'tap',
      tap: { netns: COMPUTE, name: TAP, role: 'tap' },
      guest: { netns: VM, name: 'eth0', role: 'guest', mac: VM_MAC },
    },
    { kind: 'bridge', dev: { netns: COMPUTE, name: QBR, role: 'qbr' } },
    {
      kind: 'veth',
      a: { netns: COMPUTE, name: QVB, role: 'qvb' },
      b: { netns: COMPUTE, name: QVO, role: 'qvo' },
    },
    { kind: 'bridge', dev: { netns: COMPUTE, name: 'br-int', role: 'bridge' } },
    {
      kind: 'veth',
      a: { netns: QROUTER, name: QR, role: 'qr', mac: 'fa:16:3e:0a:00:01' },
      b: { netns: COMPUTE, name: `tap${QR_PORT}`, role: 'tap' },
    },
    {
      kind: 'veth',
      a: { netns: QROUTER, name: RFP, role: 'rfp' },
      b: { netns: FIP, name: FPR, role: 'fpr' },
    },
    {
      kind: 'veth',
      a: { netns: FIP, name: FG, role: 'fg', mac: 'fa:16:3e:cb:00:04' },
      b: { netns: COMPUTE, name: `tap${FG_PORT}`, role: 'tap' },
    },
    { kind: 'bridge', dev: { netns: COMPUTE, name: 'br-ex', role: 'bridge' } },
    {
      kind: 'veth',
      a: { netns: COMPUTE, name: 'eth1', role: 'physical' },
      b: { netns: OUTSIDE, name: 'eth0', role: 'physical' },
    },
    // Tunnel network between the nodes, and the VXLAN tunnel ports on it.
    {
      kind: 'veth',
      a: { netns: COMPUTE, name: 'eth0', role: 'physical' },
      b: { netns: NETWORK, name: 'eth0', role: 'physical' },
    },
    {
      kind: 'vxlan',
      dev: { netns: COMPUTE, name: VXLAN_TO_NETWORK, role: 'vxlan' },
      vni: VNI,
      dstPort: 4789,
      local: '192.168.100.11',
      remote: '192.168.100.10',
      underlay: 'eth0',
    },
    { kind: 'bridge', dev: { netns: NETWORK, name: 'br-int', role: 'bridge' } },
    {
      kind: 'vxlan',
      dev: { netns: NETWORK, name: VXLAN_TO_COMPUTE, role: 'vxlan' },
      vni: VNI,
      dstPort: 4789,
      local: '192.168.100.10',
      remote: '192.168.100.11',
      underlay: 'eth0',
    },
    {
      kind: 'veth',
      a: { netns: QDHCP, name: DHCP_NS_PORT, role: 'veth', mac: 'fa:16:3e:0a:00:02' },
      b: { netns: NETWORK, name: `tap${DHCP_PORT}`, role: 'tap' },
    },
  ],
  bridgePorts: [
    { netns: COMPUTE, bridge: QBR, port: TAP },
    { netns: COMPUTE, bridge: QBR, port: QVB },
    { netns: COMPUTE, bridge: 'br-int', port: QVO },
    { netns: COMPUTE, bridge: 'br-int', port: `tap${QR_PORT}` },
    { netns: COMPUTE, bridge: 'br-int', port: VXLAN_TO_NETWORK },
    { netns: COMPUTE, bridge: 'br-ex', port: `tap${FG_PORT}` },
    { netns: COMPUTE, bridge: 'br-ex', port: 'eth1', when: { withoutFault: 'br-ex-no-uplink' } },
    { netns: NETWORK, bridge: 'br-int', port: VXLAN_TO_COMPUTE },
    { netns: NETWORK, bridge: 'br-int', port: `tap${DHCP_PORT}` },
  ],
  mtus: [
    ...[TAP, QVB, QVO, `tap${QR_PORT}`].map((dev) => ({ netns: COMPUTE, dev, mtu: TENANT_MTU })),
    { netns: VM, dev: 'eth0', mtu: TENANT_MTU },
    { netns: QROUTER, dev: QR, mtu: TENANT_MTU },
    { netns: QDHCP, dev: DHCP_NS_PORT, mtu: TENANT_MTU },
    { netns: NETWORK, dev: `tap${DHCP_PORT}`, mtu: TENANT_MTU },
  ],
  sysctls: [
    {
      netns: QROUTER,
      key: 'net.ipv4.ip_forward',
      value: '1',
      when: { withoutFault: 'router-forwarding-off' },
    },
    { netns: QROUTER, key: 'net.ipv4.ip_forward', value: '0', when: { withFault: 'router-forwarding-off' } },
    { netns: FIP, key: 'net.ipv4.ip_forward', value: '1' },
    // The fip namespace answers ARP for the floating IPs it routes to the router.
    { netns: FIP, key: `net.ipv4.conf.${FG}.proxy_arp`, value: '1' },
  ],
  addresses: [
    { netns: VM, dev: 'eth0', cidr: `${VM_IP}/24` },
    { netns: QROUTER, dev: QR, cidr: `${GATEWAY_IP}/24` },
    { netns: QROUTER, dev: RFP, cidr: `${RFP_IP}/31` },
    // DVR puts each floating IP on the rfp- device.
    { netns: QROUTER, dev: RFP, cidr: `${FLOATING_IP}/32` },
    { netns: FIP, dev: FPR, cidr: `${FPR_IP}/31` },
    { netns: FIP, dev: FG, cidr: `${FG_IP}/24` },
    { netns: COMPUTE, dev: 'eth0', cidr: '192.168.100.11/24' },
    { netns: NETWORK, dev: 'eth0', cidr: '192.168.100.10/24' },
    { netns: QDHCP, dev: DHCP_NS_PORT, cidr: `${DHCP_IP}/24` },
    { netns: OUTSIDE, dev: 'eth0', cidr: `${OUTSIDE_GATEWAY_IP}/24` },
  ],
  routes: [
    { netns: VM, to: 'default', via: GATEWAY_IP },
    { netns: QROUTER, to: 'default', via: FPR_IP, dev: RFP, when: { withoutFault: 'router-wrong-gateway' } },
    // not on the /31: only `onlink` makes the kernel take it, as an agent's typo would
    {
      netns: QROUTER,
      to: 'default',
      via: WRONG_FPR_IP,
      dev: RFP,
      onlink: true,
      when: { withFault: 'router-wrong-gateway' },
    },
    { netns: FIP, to: `${FLOATING_IP}/32`, via: RFP_IP, dev: FPR },
    { netns: FIP, to: 'default', via: OUTSIDE_GATEWAY_IP, dev: FG },
  ],
  neighbors: [],
  nftables: [
    { netns: QROUTER, name: 'floating-ip-nat', ruleset: FLOATING_IP_NAT },
    faultRuleset(COMPUTE, 'security-group', SECURITY_GROUP_DROP, 'sg-drop'),
  ],
  iptables: [],
  daemons: [
    {
      kind: 'dnsmasq',
      name: 'qdhcp',
      netns: QDHCP,
      interface: DHCP_NS_PORT,
      listenAddress: DHCP_IP,
      dhcpRange: { start: '10.0.0.2', end: '10.0.0.254', netmask: '255.255.255.0', lease: '1d' },
      router: GATEWAY_IP,
      dhcpHosts: [{ mac: VM_MAC, ip: VM_IP, hostname: 'host-10-0-0-5' }],
      hostRecords: [],
      domain: 'openstacklocal',
    },
    // The VM's own sshd, as far as a TCP connect can tell.
    { kind: 'tcp-listener', name: 'vm-sshd', netns: VM, address: '0.0.0.0', port: 22 },
  ],
  traffic: [
    // In the order a VM lives it: lease, outbound traffic, then what the incident is about.
    {
      name: 'dhcp',
      netns: VM,
      argv: DHCP_LEASE_ARGV,
      description: 'the VM renews its lease from the network node’s dnsmasq, over the VXLAN tunnel',
      failsWith: [],
    },
    {
      name: 'ping-outside',
      netns: VM,
      argv: pingArgv(OUTSIDE_GATEWAY_IP),
      description: 'the VM pings the outside router, SNAT-ed to its floating IP',
      failsWith: ['br-ex-no-uplink', 'router-forwarding-off', 'router-wrong-gateway'],
    },
    {
      name: 'ping-floating-ip',
      netns: OUTSIDE,
      argv: pingArgv(FLOATING_IP),
      description: 'the outside pings the VM’s floating IP',
      failsWith: ['sg-drop', 'br-ex-no-uplink', 'router-forwarding-off', 'router-wrong-gateway'],
    },
    {
      name: 'ssh-floating-ip',
      netns: OUTSIDE,
      argv: connectArgv(FLOATING_IP, 22),
      description: 'the outside connects to the VM’s port 22 through its floating IP',
      failsWith: ['sg-drop', 'br-ex-no-uplink', 'router-forwarding-off', 'router-wrong-gateway'],
    },
  ],
  // Not the bridges: frames a Linux bridge forwards between its ports never show on the bridge device.
  capturePoints: [
    { netns: VM, iface: 'eth0' },
    { netns: COMPUTE, iface: TAP },
    { netns: COMPUTE, iface: QVB },
    { netns: COMPUTE, iface: QVO },
    { netns: QROUTER, iface: QR },
    { netns: QROUTER, iface: RFP },
    { netns: FIP, iface: FPR },
    { netns: FIP, iface: FG },
    { netns: COMPUTE, iface: 'eth1' },
    { netns: OUTSIDE, iface: 'eth0' },
    { netns: COMPUTE, iface: VXLAN_TO_NETWORK },
    { netns: COMPUTE, iface: 'eth0' },
    { netns: NETWORK, iface: VXLAN_TO_COMPUTE },
    { netns: QDHCP, iface: DHCP_NS_PORT },
  ],
};
