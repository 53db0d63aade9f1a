// dnat-local: a port on the ingress NIC DNAT-ed to a service listening on
// 127.0.0.1 (what kube-proxy and many "expose a local port" recipes do).
//
//   client eth0 ──veth── eth0 edge ─(nat PREROUTING: tcp 80 → 127.0.0.1:8080)─► local socket (socat)
//
// The classic incident: without net.ipv4.conf.<ingress>.route_localnet=1 the
// kernel treats a packet to 127.0.0.1 arriving on a real NIC as martian and drops
// it after DNAT; the SYN is seen on eth0 and never answered.
//
// lo is not a capture point: a packet DNAT-ed to 127.0.0.1 is delivered locally
// straight from eth0 and never crosses lo, so a capture there stays empty either way.
import type { ScenarioSpec } from '../topology.js';
import { connectArgv, pingArgv } from './probes.js';
import { faultRuleset } from './rulesets.js';

const CLIENT = 'client';
const EDGE = 'edge';
const EDGE_IP = '198.51.100.1';
const CLIENT_IP = '198.51.100.10';
const PUBLIC_PORT = 80;
const LOCAL_PORT = 8080;

const DNAT_RULESET = `table ip nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "eth0" tcp dport ${PUBLIC_PORT} dnat to 127.0.0.1:${LOCAL_PORT}
  }
}
`;

// Pings to the edge host skip conntrack (a notrack rule, to spare the table under a
// monitoring system's load), and the host firewall drops what conntrack calls invalid:
// the edge's echo replies answer requests conntrack never saw, and die on their way out.
const NOTRACK_AND_INVALID_DROP = `table inet edge-firewall {
  chain raw-prerouting {
    type filter hook prerouting priority raw; policy accept;
    iifname "eth0" icmp type echo-request notrack
  }
  chain output {
    type filter hook output priority filter; policy accept;
    ct state invalid drop
  }
}
`;

export const dnatLocal: ScenarioSpec = {
  name: 'dnat-local',
  summary: 'DNAT to a local port: ingress NIC -> nat PREROUTING -> a service on 127.0.0.1:8080',
  faults: [
    {
      name: 'no-route-localnet',
      description:
        'route_localnet=0 on the ingress NIC: DNAT-ed SYNs to 127.0.0.1 are dropped as martians, never answered',
    },
    {
      name: 'ct-invalid-drop',
      description:
        'pings skip conntrack (notrack) and the host firewall drops invalid packets: the edge’s echo replies never leave',
    },
  ],
  hosts: [
    { name: CLIENT, netns: CLIENT, description: 'a client on the edge host’s network' },
    { name: EDGE, netns: EDGE, description: 'host exposing a local service through DNAT' },
  ],
  namespaces: [
    { name: CLIENT, host: CLIENT, description: 'client host' },
    { name: EDGE, host: EDGE, description: 'edge host (DNAT, local service on 127.0.0.1)' },
  ],
  links: [
    {
      kind: 'veth',
      a: { netns: CLIENT, name: 'eth0', role: 'physical' },
      b: { netns: EDGE, name: 'eth0', role: 'physical' },
    },
  ],
  bridgePorts: [],
  mtus: [],
  sysctls: [
    {
      netns: EDGE,
      key: 'net.ipv4.conf.eth0.route_localnet',
      value: '1',
      when: { withoutFault: 'no-route-localnet' },
    },
  ],
  addresses: [
    { netns: CLIENT, dev: 'eth0', cidr: `${CLIENT_IP}/24` },
    { netns: EDGE, dev: 'eth0', cidr: `${EDGE_IP}/24` },
  ],
  routes: [],
  neighbors: [],
  nftables: [
    { netns: EDGE, name: 'dnat-to-localhost', ruleset: DNAT_RULESET },
    faultRuleset(EDGE, 'edge-firewall', NOTRACK_AND_INVALID_DROP, 'ct-invalid-drop'),
  ],
  iptables: [],
  daemons: [
    { kind: 'tcp-listener', name: 'local-service', netns: EDGE, address: '127.0.0.1', port: LOCAL_PORT },
  ],
  traffic: [
    {
      name: 'ping-edge',
      netns: CLIENT,
      argv: pingArgv(EDGE_IP),
      description: 'the edge host answers pings (the link is fine)',
      failsWith: ['ct-invalid-drop'],
    },
    {
      name: 'connect-dnat-port',
      netns: CLIENT,
      argv: connectArgv(EDGE_IP, PUBLIC_PORT),
      description: `TCP connect to ${EDGE_IP}:${PUBLIC_PORT}, DNAT-ed to 127.0.0.1:${LOCAL_PORT}`,
      failsWith: ['no-route-localnet'],
    },
  ],
  capturePoints: [
    { netns: CLIENT, iface: 'eth0' },
    { netns: EDGE, iface: 'eth0' },
  ],
};
