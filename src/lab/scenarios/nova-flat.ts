// nova-flat: nova-network FlatDHCP in multi-host mode. Each compute node bridges
// its VMs' taps into br100, runs dnsmasq on br100 for DHCP and DNS, routes to the
// public interface eth1 and SNATs the VM to its floating IP.
//
//   instance-00000001          compute                                   external
//   eth0 ═tap═ tap7aa08012-d0 ─ br100 (10.0.0.1, dnsmasq) ─route/NAT─ eth1 ──veth── eth0
//   10.0.0.10                                        203.0.113.2 + floating .101   203.0.113.10
import type { ScenarioSpec } from '../topology.js';
import { connectArgv, DHCP_LEASE_ARGV, pingArgv } from './probes.js';
import { faultRuleset, filterRuleset, floatingIpNat } from './rulesets.js';

const VM = 'instance-00000001';
const COMPUTE = 'compute';
const EXTERNAL = 'external';
const TAP = 'tap7aa08012-d0';
const VM_MAC = 'fa:16:3e:1c:2d:3e';
const VM_IP = '10.0.0.10';
const GATEWAY_IP = '10.0.0.1';
const FLOATING_IP = '203.0.113.101';
const EXTERNAL_IP = '203.0.113.10';
const WEB_NAME = 'web.lab';

// What nova-network's nova-network-float-snat / floating-ip chains do, in nftables.
const FLOATING_IP_NAT = floatingIpNat(FLOATING_IP, VM_IP, 'eth1');

// Bridge-level filter on br100's port to the VM: the reply has crossed eth1 and
// br100, and dies before the tap.
const DROP_ECHO_REPLY_TO_VM = filterRuleset('bridge filter', 'postrouting', [
  `oifname "${TAP}" icmp type echo-reply drop`,
]);

// Bridge-level filter on the VM's port for what the host itself sends: dnsmasq's DHCP
// answers leave br100 and never reach the tap (a security group that forgot DHCP).
const DROP_DHCP_TO_VM = filterRuleset('bridge dhcp', 'output', [`oifname "${TAP}" udp sport 67 drop`]);

// A host firewall rule that swallows dnsmasq's answers: queries arrive, nothing leaves.
const DROP_DNS_ANSWERS = filterRuleset('inet filter', 'output', ['oifname "br100" udp sport 53 drop']);

// nova-network's security groups were iptables chains per instance on the compute
// host: this one lost its rule allowing ICMP in (x_tables, the legacy backend, as then).
const SECURITY_GROUP_IPTABLES = `*filter
:nova-compute-inst-1 - [0:0]
-A FORWARD -d ${VM_IP}/32 -j nova-compute-inst-1
-A nova-compute-inst-1 -m state --state RELATED,ESTABLISHED -j ACCEPT
-A nova-compute-inst-1 -p icmp -m icmp --icmp-type 8 -j DROP
COMMIT
`;

// A host firewall that tracks connections: conntrack runs in the compute namespace
// before the floating IP's NAT rules exist.
const HOST_FIREWALL = filterRuleset('inet host-firewall', 'forward', ['ct state established,related accept']);

export const novaFlat: ScenarioSpec = {
  name: 'nova-flat',
  summary:
    'nova-network FlatDHCP: vm eth0 -> tap -> br100 (dnsmasq DHCP/DNS) -> eth1, SNAT to a floating IP -> external host',
  faults: [
    {
      name: 'reply-drop-br100',
      description: 'echo replies to the VM dropped on br100: seen on eth1 and br100, never on the tap',
    },
    {
      name: 'dnsmasq-stopped',
      description: 'dnsmasq is not running on br100: DHCP discovers get no offer, DNS queries no answer',
    },
    {
      name: 'dns-answer-drop',
      description: 'a firewall rule drops dnsmasq’s DNS answers: the VM’s queries go unanswered',
    },
    {
      name: 'dhcp-offer-drop',
      description:
        'dnsmasq’s DHCP offers are dropped between br100 and the tap: seen on br100, never on the tap or in the VM',
    },
    {
      name: 'sg-iptables',
      description:
        'the VM’s security group, as iptables rules (legacy backend) on the compute host, drops inbound pings to the floating IP',
    },
    {
      name: 'stale-conntrack-snat',
      description:
        'a monitoring ping from the VM started before the SNAT rule: its conntrack entry keeps it untranslated, the external host cannot answer it',
    },
  ],
  hosts: [
    { name: COMPUTE, netns: COMPUTE, description: 'compute node (br100, dnsmasq, floating-IP NAT)' },
    { name: EXTERNAL, netns: EXTERNAL, description: 'external host on the public network (web server)' },
  ],
  namespaces: [
    { name: COMPUTE, host: COMPUTE, description: 'compute node' },
    { name: VM, host: COMPUTE, description: `VM ${VM} (the guest’s own network stack)` },
    { name: EXTERNAL, host: EXTERNAL, description: 'external host' },
  ],
  links: [
    {
      kind: 'tap',
      tap: { netns: COMPUTE, name: TAP, role: 'tap' },
      guest: { netns: VM, name: 'eth0', role: 'guest', mac: VM_MAC },
    },
    { kind: 'bridge', dev: { netns: COMPUTE, name: 'br100', role: 'bridge' } },
    {
      kind: 'veth',
      a: { netns: COMPUTE, name: 'eth1', role: 'physical' },
      b: { netns: EXTERNAL, name: 'eth0', role: 'physical' },
    },
  ],
  bridgePorts: [{ netns: COMPUTE, bridge: 'br100', port: TAP }],
  mtus: [],
  sysctls: [{ netns: COMPUTE, key: 'net.ipv4.ip_forward', value: '1' }],
  addresses: [
    // The address dnsmasq reserves for the VM's MAC: the VM booted and took its lease.
    { netns: VM, dev: 'eth0', cidr: `${VM_IP}/24` },
    { netns: COMPUTE, dev: 'br100', cidr: `${GATEWAY_IP}/24` },
    { netns: COMPUTE, dev: 'eth1', cidr: '203.0.113.2/24' },
    // nova-network puts floating IPs on the public interface.
    { netns: COMPUTE, dev: 'eth1', cidr: `${FLOATING_IP}/32` },
    { netns: EXTERNAL, dev: 'eth0', cidr: `${EXTERNAL_IP}/24` },
  ],
  routes: [{ netns: VM, to: 'default', via: GATEWAY_IP }],
  neighbors: [],
  nftables: [
    {
      netns: COMPUTE,
      name: 'floating-ip-nat',
      ruleset: FLOATING_IP_NAT,
      when: { withoutFault: 'stale-conntrack-snat' },
    },
    faultRuleset(COMPUTE, 'host-firewall', HOST_FIREWALL, 'stale-conntrack-snat'),
    {
      netns: COMPUTE,
      name: 'floating-ip-nat',
      ruleset: FLOATING_IP_NAT,
      late: true,
      when: { withFault: 'stale-conntrack-snat' },
    },
    faultRuleset(COMPUTE, 'drop-echo-reply-to-vm', DROP_ECHO_REPLY_TO_VM, 'reply-drop-br100'),
    faultRuleset(COMPUTE, 'drop-dhcp-to-vm', DROP_DHCP_TO_VM, 'dhcp-offer-drop'),
    faultRuleset(COMPUTE, 'drop-dns-answers', DROP_DNS_ANSWERS, 'dns-answer-drop'),
  ],
  iptables: [
    {
      netns: COMPUTE,
      name: 'security-group',
      backend: 'legacy',
      rules: SECURITY_GROUP_IPTABLES,
      when: { withFault: 'sg-iptables' },
    },
  ],
  daemons: [
    {
      kind: 'background-traffic',
      name: 'monitoring-ping',
      netns: VM,
      argv: ['ping', '-i', '0.5', EXTERNAL_IP],
      trackedIn: { netns: COMPUTE, protocol: 'icmp', src: VM_IP, dst: EXTERNAL_IP },
      when: { withFault: 'stale-conntrack-snat' },
    },
    {
      kind: 'dnsmasq',
      name: 'br100',
      netns: COMPUTE,
      interface: 'br100',
      listenAddress: GATEWAY_IP,
      dhcpRange: { start: '10.0.0.10', end: '10.0.0.100', netmask: '255.255.255.0', lease: '1h' },
      dhcpHosts: [{ mac: VM_MAC, ip: VM_IP, hostname: VM }],
      hostRecords: [{ name: WEB_NAME, ip: EXTERNAL_IP }],
      domain: 'novalocal',
      when: { withoutFault: 'dnsmasq-stopped' },
    },
    { kind: 'tcp-listener', name: 'web', netns: EXTERNAL, address: '0.0.0.0', port: 80 },
  ],
  traffic: [
    {
      name: 'dhcp',
      netns: VM,
      argv: DHCP_LEASE_ARGV,
      description: 'the VM asks dnsmasq for a lease (DISCOVER, OFFER, REQUEST, ACK)',
      failsWith: ['dnsmasq-stopped', 'dhcp-offer-drop'],
    },
    {
      name: 'dns',
      netns: VM,
      argv: ['dig', `@${GATEWAY_IP}`, WEB_NAME, '+time=1', '+tries=2'],
      description: `the VM resolves ${WEB_NAME} through dnsmasq`,
      failsWith: ['dnsmasq-stopped', 'dns-answer-drop'],
    },
    {
      name: 'ping-external',
      netns: VM,
      argv: pingArgv(EXTERNAL_IP),
      description: 'the VM pings the external host, SNAT-ed to its floating IP',
      failsWith: ['reply-drop-br100'],
    },
    {
      name: 'http-external',
      netns: VM,
      argv: connectArgv(EXTERNAL_IP, 80),
      description: 'the VM connects to the external web server',
      failsWith: [],
    },
    {
      name: 'ping-floating-ip',
      netns: EXTERNAL,
      argv: pingArgv(FLOATING_IP),
      description: 'the external host pings the VM’s floating IP (DNAT)',
      failsWith: ['sg-iptables'],
    },
  ],
  capturePoints: [
    { netns: VM, iface: 'eth0' },
    { netns: COMPUTE, iface: TAP },
    { netns: COMPUTE, iface: 'br100' },
    { netns: COMPUTE, iface: 'eth1' },
    { netns: EXTERNAL, iface: 'eth0' },
  ],
};
