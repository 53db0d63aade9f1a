// Every fault of every lab scenario, with the cause hopscope must give the exchanges it
// breaks: the code, the hop (`at`), and the evidence that identifies the thing — the
// rule's handle as `nft -a list ruleset` shows it, the neighbour's state, the device
// and its MTU, the sysctl and its value.
import { expect } from 'vitest';
import type {
  Cause,
  CauseCode,
  EvidenceItem,
  ExchangeRecord,
  IptablesEvidence,
  KernelDropEvidence,
  LinkEvidence,
  NeighbourEvidence,
  NftablesEvidence,
  SysctlEvidence,
} from '../../../src/events/types.js';
import { handleOf, type CauseRun } from './cause-run.js';

const QROUTER = 'qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50';
const FIP = 'fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8';

export interface ExpectedCause {
  /** which exchanges of the run the fault breaks */
  what: string;
  exchanges: (e: ExchangeRecord) => boolean;
  code: CauseCode;
  /** the `at` label, given the lab's prefix (local capture labels: `<netns>/<iface>`) */
  at: (prefix: string) => string | RegExp;
  /** the evidence that names the thing */
  check: (cause: Cause, run: CauseRun) => void;
}

export interface FaultCauses {
  scenario: string;
  fault: string;
  expected: ExpectedCause[];
}

function item<T extends EvidenceItem>(cause: Cause, source: T['source'], where?: (e: T) => boolean): T {
  const found = cause.evidence.find(
    (e) => e.source === source && !('unreadable' in e) && (where?.(e as T) ?? true),
  );
  expect(found, `${source} evidence in ${JSON.stringify(cause)}`).toBeDefined();
  return found as T;
}

function kernel(cause: Cause, reason: string): KernelDropEvidence {
  const k = item<KernelDropEvidence>(cause, 'kernel');
  expect(k.reason).toBe(reason);
  expect(k.matchedBy).toBe('packet');
  return k;
}

/** The nftables rule of the cause is the one `nft -a list ruleset` shows in `table` with `text`, by handle. */
function nftRule(cause: Cause, run: CauseRun, netns: string, table: string, text: string): NftablesEvidence {
  const rule = item<NftablesEvidence>(cause, 'nftables');
  const ruleset = run.rulesets.get(`${run.lab.prefix}${netns}`) ?? '';
  expect(`${rule.family} ${rule.table}`).toBe(table);
  expect(rule.handle).toBe(handleOf(ruleset, table, text));
  expect(rule.rule).toContain(text);
  expect(rule.netns).toBe(`${run.lab.prefix}${netns}`);
  return rule;
}

function sysctl(cause: Cause, key: string, value: string): void {
  const s = item<SysctlEvidence>(cause, 'sysctl', (e) => e.key === key);
  expect(s.value).toBe(value);
}

function neighbour(cause: Cause, address: string, iface: string): void {
  const n = item<NeighbourEvidence>(cause, 'neighbour');
  expect(n.address).toBe(address);
  expect(n.iface).toBe(iface);
  expect(
    n.state.some((s) => s === 'INCOMPLETE' || s === 'FAILED'),
    n.state.join(' '),
  ).toBe(true);
}

const key = (prefix: string) => (e: ExchangeRecord) => e.key.startsWith(prefix);

export const EXPECTED_CAUSES: readonly FaultCauses[] = [
  {
    scenario: 'nova-flat',
    fault: 'reply-drop-br100',
    expected: [
      {
        what: 'the VM’s echo replies',
        exchanges: key('10.0.0.10>203.0.113.10 '),
        code: 'netfilter-drop',
        at: (p) => `${p}compute/br100`,
        check: (c, run) => {
          kernel(c, 'NETFILTER_DROP');
          nftRule(c, run, 'compute', 'bridge filter', 'oifname "tap7aa08012-d0" icmp type echo-reply drop');
        },
      },
    ],
  },
  {
    scenario: 'nova-flat',
    fault: 'dnsmasq-stopped',
    expected: [
      {
        what: 'DHCP discovers',
        exchanges: (e) => e.kind === 'dhcp',
        code: 'no-listener',
        at: (p) => `${p}compute/br100`,
        check: (c) =>
          expect(item(c, 'socket')).toMatchObject({ protocol: 'udp', port: 67, listening: false }),
      },
      {
        what: 'DNS queries',
        exchanges: (e) => e.kind === 'dns',
        code: 'no-listener',
        // a retry whose query was seen in the VM only is explained by its ICMP answer, there
        at: (p) => new RegExp(`^${p}(compute/(br100|tap7aa08012-d0)|instance-00000001/eth0)$`),
        check: (c) => {
          if (c.at.includes('/compute/') || c.at.includes('-compute/')) kernel(c, 'NO_SOCKET');
          expect(item(c, 'socket')).toMatchObject({
            protocol: 'udp',
            address: '10.0.0.1',
            port: 53,
            listening: false,
          });
        },
      },
    ],
  },
  {
    scenario: 'nova-flat',
    fault: 'dns-answer-drop',
    expected: [
      {
        what: 'DNS queries',
        exchanges: (e) => e.kind === 'dns',
        code: 'netfilter-drop',
        at: (p) => `${p}compute/br100`,
        check: (c, run) => {
          kernel(c, 'NETFILTER_DROP');
          nftRule(c, run, 'compute', 'inet filter', 'oifname "br100" udp sport 53 drop');
        },
      },
    ],
  },
  {
    scenario: 'nova-flat',
    fault: 'dhcp-offer-drop',
    expected: [
      {
        what: 'DHCP offers',
        exchanges: (e) => e.kind === 'dhcp',
        code: 'netfilter-drop',
        at: (p) => `${p}compute/br100`,
        check: (c, run) => {
          kernel(c, 'NETFILTER_DROP');
          nftRule(c, run, 'compute', 'bridge dhcp', 'oifname "tap7aa08012-d0" udp sport 67 drop');
        },
      },
    ],
  },
  {
    scenario: 'nova-flat',
    fault: 'sg-iptables',
    expected: [
      {
        what: 'pings of the floating IP',
        exchanges: key('203.0.113.10>203.0.113.101 '),
        code: 'netfilter-drop',
        at: (p) => `${p}compute/eth1`,
        check: (c) => {
          kernel(c, 'NETFILTER_DROP');
          const rule = item<IptablesEvidence>(c, 'iptables');
          expect(rule).toMatchObject({
            backend: 'legacy',
            family: 'ip',
            table: 'filter',
            chain: 'nova-compute-inst-1',
            rule: '-A nova-compute-inst-1 -p icmp -m icmp --icmp-type 8 -j DROP',
            verdict: 'drop',
            matchedBy: 'counter',
          });
          expect(rule.counterDelta).toBeGreaterThanOrEqual(1);
        },
      },
    ],
  },
  {
    scenario: 'nova-flat',
    fault: 'stale-conntrack-snat',
    expected: [
      {
        what: 'the monitoring ping started before the SNAT rule',
        exchanges: (e) => e.key.startsWith('10.0.0.10>203.0.113.10 ') && e.status === 'unanswered',
        code: 'conntrack',
        at: (p) => `${p}compute/eth1`,
        check: (c, run) => {
          const ct = item(c, 'conntrack') as { entry?: string };
          expect(ct.entry).toMatch(
            /src=10\.0\.0\.10 dst=203\.0\.113\.10 .*\[UNREPLIED\] src=203\.0\.113\.10 dst=10\.0\.0\.10 /,
          );
          nftRule(c, run, 'compute', 'ip nat', 'snat to 203.0.113.101');
        },
      },
    ],
  },
  {
    scenario: 'dvr-fip',
    fault: 'sg-drop',
    expected: [
      {
        what: 'inbound pings',
        exchanges: key('203.0.113.1>203.0.113.20 '),
        code: 'netfilter-drop',
        at: (p) => `${p}compute/qvb7aa08012-d0`,
        check: (c, run) => {
          kernel(c, 'NETFILTER_DROP');
          nftRule(c, run, 'compute', 'bridge neutron_sg', 'icmp type echo-request drop');
        },
      },
      {
        what: 'inbound SSH connections',
        exchanges: (e) => e.kind === 'tcp-handshake',
        code: 'netfilter-drop',
        at: (p) => `${p}compute/qvb7aa08012-d0`,
        check: (c, run) => {
          kernel(c, 'NETFILTER_DROP');
          nftRule(c, run, 'compute', 'bridge neutron_sg', 'tcp dport 22 drop');
        },
      },
    ],
  },
  {
    scenario: 'dvr-fip',
    fault: 'br-ex-no-uplink',
    expected: [
      {
        what: 'fg-’s ARP for the outside gateway',
        exchanges: (e) => e.key === 'who-has 203.0.113.1 tell 203.0.113.4',
        code: 'no-neighbour',
        at: (p) => `${p}${FIP}/fg-3c1d5e7f-a2`,
        check: (c) => neighbour(c, '203.0.113.1', 'fg-3c1d5e7f-a2'),
      },
      {
        what: 'the VM’s pings of the outside',
        exchanges: key('10.0.0.5>203.0.113.1 '),
        code: 'no-neighbour',
        at: (p) => new RegExp(`^${p}${FIP}/`),
        check: (c) => neighbour(c, '203.0.113.1', 'fg-3c1d5e7f-a2'),
      },
    ],
  },
  {
    scenario: 'dvr-fip',
    fault: 'router-forwarding-off',
    expected: [
      {
        what: 'the VM’s pings of the outside',
        exchanges: key('10.0.0.5>203.0.113.1 '),
        code: 'forwarding-off',
        at: (p) => `${p}${QROUTER}/qr-56c70d72-3b`,
        check: (c) => {
          kernel(c, 'IP_INADDRERRORS');
          sysctl(c, 'net.ipv4.ip_forward', '0');
        },
      },
      {
        what: 'inbound pings and SSH',
        exchanges: (e) => e.key.startsWith('203.0.113.1>203.0.113.20 ') || e.kind === 'tcp-handshake',
        code: 'forwarding-off',
        at: (p) => `${p}${QROUTER}/rfp-6f774e8e-2`,
        check: (c) => sysctl(c, 'net.ipv4.ip_forward', '0'),
      },
    ],
  },
  {
    scenario: 'dvr-fip',
    fault: 'router-wrong-gateway',
    expected: [
      {
        what: 'the VM’s pings of the outside',
        exchanges: key('10.0.0.5>203.0.113.1 '),
        code: 'no-neighbour',
        at: (p) => `${p}${QROUTER}/qr-56c70d72-3b`,
        check: (c) => neighbour(c, '10.254.106.113', 'rfp-6f774e8e-2'),
      },
      {
        what: 'the router’s ARP for the mistyped next hop',
        exchanges: (e) => e.key === 'who-has 10.254.106.113 tell 203.0.113.20',
        code: 'no-neighbour',
        at: (p) => `${p}${QROUTER}/rfp-6f774e8e-2`,
        check: (c) => neighbour(c, '10.254.106.113', 'rfp-6f774e8e-2'),
      },
    ],
  },
  {
    scenario: 'sdn-vxlan',
    fault: 'mtu-mismatch',
    expected: [
      {
        what: 'large DF pings',
        exchanges: (e) => e.kind === 'icmp-echo' && e.status !== 'ok',
        code: 'mtu',
        at: (p) => `${p}node2/eth0`,
        check: (c) => {
          const link = item<LinkEvidence>(c, 'link');
          expect(link).toMatchObject({
            netns: expect.stringMatching(/node2$/),
            iface: 'eth0',
            mtu: 1400,
            packetBytes: 1478,
          });
        },
      },
    ],
  },
  {
    scenario: 'sdn-vxlan',
    fault: 'missing-route',
    expected: [
      {
        what: 'replies of node2’s pod',
        exchanges: (e) => e.status !== 'ok',
        code: 'no-route',
        at: (p) => `${p}node2/tun0`,
        check: (c) => {
          kernel(c, 'IP_INNOROUTES');
          expect(item(c, 'route')).toMatchObject({
            query: '10.128.0.5 from 10.128.2.5 iif tun0',
            error: 'Network is unreachable',
          });
        },
      },
    ],
  },
  {
    scenario: 'sdn-vxlan',
    fault: 'rp-filter-asymmetric',
    expected: [
      {
        what: 'replies that come back over the underlay',
        exchanges: (e) => e.status !== 'ok',
        code: 'rp-filter',
        at: (p) => `${p}node1/eth0`,
        check: (c) => {
          kernel(c, 'IP_RPFILTER');
          sysctl(c, 'net.ipv4.conf.eth0.rp_filter', '1');
        },
      },
    ],
  },
  {
    scenario: 'dnat-local',
    fault: 'no-route-localnet',
    expected: [
      {
        what: 'SYNs DNAT-ed to 127.0.0.1',
        exchanges: (e) => e.kind === 'tcp-handshake',
        code: 'localnet',
        at: (p) => `${p}edge/eth0`,
        check: (c) => {
          kernel(c, 'IP_LOCALNET');
          sysctl(c, 'net.ipv4.conf.eth0.route_localnet', '0');
        },
      },
    ],
  },
  {
    scenario: 'dnat-local',
    fault: 'ct-invalid-drop',
    expected: [
      {
        what: 'pings of the edge host',
        exchanges: (e) => e.kind === 'icmp-echo',
        code: 'conntrack',
        at: (p) => `${p}edge/eth0`,
        check: (c, run) => {
          kernel(c, 'NETFILTER_DROP');
          nftRule(c, run, 'edge', 'inet edge-firewall', 'ct state invalid drop');
        },
      },
    ],
  },
];
