// The recordings shipped in captures/ (made by scripts/record-captures.mjs on the lab;
// see captures/README.md). Needs no root: it only reads the files. tshark reads them,
// their interfaces carry the capture points' labels and roles in path order, every
// packet belongs to one of them, our reader agrees with tshark on every packet, and each
// file shows its fault — checked with tshark's decoding, independent of ours — while the
// rest of its scenario's traffic is complete (a recording cut short would show losses
// that never happened).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCaptureBytes } from '../../src/framing/capture-reader.js';

const dir = fileURLToPath(new URL('../../captures/', import.meta.url));

const FIELDS = [
  'frame.interface_name',
  'frame.interface_description',
  'frame.time_epoch',
  'frame.len',
  'ip.src',
  'ip.dst',
  'ip.flags.df',
  'icmp.type',
  'tcp.flags',
  'tcp.dstport',
  'udp.dstport',
  'vxlan.vni',
  'dhcp.option.dhcp',
  'dns.flags.response',
] as const;

/** One packet as tshark decodes it. A field found at several layers (a tunnelled packet's
 * outer and inner IP) comes as "outer,inner": the plain names hold the innermost value,
 * `all` every value. */
interface Row {
  iface: string;
  description: string;
  ts: string;
  len: number;
  src: string;
  dst: string;
  df: string;
  icmpType: string;
  tcpFlags: number | null;
  tcpDport: string;
  udpDports: string[];
  vni: string;
  dhcpType: string;
  dnsResponse: string;
  all: { src: string[]; dst: string[] };
}

const rowsCache = new Map<string, Row[]>();

function tsharkRows(file: string): Row[] {
  const cached = rowsCache.get(file);
  if (cached) return cached;
  // execFileSync throws unless tshark exits 0
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const rows = out
    .trimEnd()
    .split('\n')
    .map((line): Row => {
      const cols = line.split('\t');
      const values = (i: number): string[] => (cols[i] === undefined || cols[i] === '' ? [] : cols[i].split(','));
      const inner = (i: number): string => values(i).at(-1) ?? '';
      const flags = inner(8);
      return {
        iface: cols[0] ?? '',
        description: cols[1] ?? '',
        ts: cols[2] ?? '',
        len: Number(cols[3]),
        src: inner(4),
        dst: inner(5),
        df: inner(6),
        icmpType: inner(7),
        tcpFlags: flags === '' ? null : Number(flags),
        tcpDport: inner(9),
        udpDports: values(10),
        vni: inner(11),
        dhcpType: inner(12),
        dnsResponse: inner(13),
        all: { src: values(4), dst: values(5) },
      };
    });
  rowsCache.set(file, rows);
  return rows;
}

const on = (rows: Row[], iface: string, match: (r: Row) => boolean): number =>
  rows.filter((r) => r.iface === iface && match(r)).length;
const anywhere = (rows: Row[], match: (r: Row) => boolean): number => rows.filter(match).length;

const echoRequest = (src: string, dst: string) => (r: Row) => r.icmpType === '8' && r.src === src && r.dst === dst;
const echoReply = (src: string, dst: string) => (r: Row) => r.icmpType === '0' && r.src === src && r.dst === dst;
const SYN = 0x002;
const ACK = 0x010;
const RST = 0x004;
const isSyn = (r: Row) => r.tcpFlags !== null && (r.tcpFlags & (SYN | ACK)) === SYN;
const isSynAck = (r: Row) => r.tcpFlags !== null && (r.tcpFlags & (SYN | ACK)) === (SYN | ACK);
const isRst = (r: Row) => r.tcpFlags !== null && (r.tcpFlags & RST) !== 0;
/** a DHCP ACK itself, not an ICMP error quoting one */
const dhcpAck = (r: Row) => r.icmpType === '' && r.dhcpType === '5';

/** Expects `count` packets matching on each of `ifaces`. */
function onEach(rows: Row[], ifaces: string[], match: (r: Row) => boolean, count: number): void {
  expect(Object.fromEntries(ifaces.map((i) => [i, on(rows, i, match)]))).toEqual(
    Object.fromEntries(ifaces.map((i) => [i, count])),
  );
}

// ---- dvr-fip -----------------------------------------------------------------------

const QROUTER = 'compute:qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50';
const FIP = 'compute:fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8';
const DVR = {
  vm: 'compute:instance-0000002a/eth0',
  tap: 'compute:tap7aa08012-d0',
  qvb: 'compute:qvb7aa08012-d0',
  qvo: 'compute:qvo7aa08012-d0',
  qr: `${QROUTER}/qr-56c70d72-3b`,
  rfp: `${QROUTER}/rfp-6f774e8e-2`,
  fpr: `${FIP}/fpr-6f774e8e-2`,
  fg: `${FIP}/fg-3c1d5e7f-a2`,
  eth1: 'compute:eth1',
  outside: 'outside:eth0',
  vxlanCompute: 'compute:vxlan-c0a8640a',
  eth0: 'compute:eth0',
  vxlanNetwork: 'network:vxlan-c0a8640b',
  dhcp: 'network:qdhcp-8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b/ns-9d8c7b6a-5e',
};

// ---- nova-flat ---------------------------------------------------------------------

const NOVA = {
  vm: 'compute:instance-00000001/eth0',
  tap: 'compute:tap7aa08012-d0',
  br100: 'compute:br100',
  eth1: 'compute:eth1',
  external: 'external:eth0',
};

// ---- sdn-vxlan ---------------------------------------------------------------------

const SDN = {
  pod1: 'node1:cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d/eth0',
  veth1: 'node1:veth5c1e7a2d',
  tun1: 'node1:tun0',
  vxlan1: 'node1:vxlan_sys_4789',
  eth1: 'node1:eth0',
  eth2: 'node2:eth0',
  vxlan2: 'node2:vxlan_sys_4789',
  tun2: 'node2:tun0',
  veth2: 'node2:veth9a8b7c6d',
  pod2: 'node2:cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d/eth0',
};
const POD1 = '10.128.0.5';
const POD2 = '10.128.2.5';

interface Shipped {
  file: string;
  /** [label, role] of every capture point, in path order */
  interfaces: Array<[string, string]>;
  fault: (rows: Row[]) => void;
  /** the traffic the fault leaves alone, complete from end to end */
  rest: (rows: Row[]) => void;
}

const SHIPPED: Shipped[] = [
  {
    file: 'dvr-fip-sg-drop.pcapng',
    interfaces: [
      [DVR.vm, 'guest'],
      [DVR.tap, 'tap'],
      [DVR.qvb, 'qvb'],
      [DVR.qvo, 'qvo'],
      [DVR.qr, 'qr'],
      [DVR.rfp, 'rfp'],
      [DVR.fpr, 'fpr'],
      [DVR.fg, 'fg'],
      [DVR.eth1, 'physical'],
      [DVR.outside, 'physical'],
      [DVR.vxlanCompute, 'vxlan'],
      [DVR.eth0, 'physical'],
      [DVR.vxlanNetwork, 'vxlan'],
      [DVR.dhcp, 'veth'],
    ],
    fault: (rows) => {
      // The outside pings the floating IP; the qrouter DNATs it to the VM; the security
      // group on qbr drops it between qvb… and the tap.
      const toFip = echoRequest('203.0.113.1', '203.0.113.20');
      const toVm = echoRequest('203.0.113.1', '10.0.0.5');
      onEach(rows, [DVR.outside, DVR.eth1, DVR.fg, DVR.fpr, DVR.rfp], toFip, 3);
      onEach(rows, [DVR.qr, DVR.qvo, DVR.qvb], toVm, 3);
      onEach(rows, [DVR.tap, DVR.vm], toVm, 0);
      expect(anywhere(rows, (r) => r.icmpType === '0' && r.dst === '203.0.113.1')).toBe(0);
      // TCP 22 likewise: SYNs reach qvb…, never the tap; no SYN-ACK (nor RST) anywhere.
      const sshSyn = (r: Row) => isSyn(r) && r.dst === '10.0.0.5' && r.tcpDport === '22';
      expect(on(rows, DVR.qvb, sshSyn)).toBeGreaterThan(0);
      onEach(rows, [DVR.tap, DVR.vm], sshSyn, 0);
      expect(anywhere(rows, (r) => isSynAck(r) || isRst(r))).toBe(0);
    },
    rest: (rows) => {
      // The VM's own pings to the outside router, SNAT-ed to the floating IP, every hop both ways.
      const path = [DVR.vm, DVR.tap, DVR.qvb, DVR.qvo, DVR.qr, DVR.rfp, DVR.fpr, DVR.fg, DVR.eth1, DVR.outside];
      onEach(rows, path, (r) => r.icmpType === '8' && r.dst === '203.0.113.1', 3);
      onEach(rows, path, (r) => r.icmpType === '0' && r.src === '203.0.113.1', 3);
      expect(on(rows, DVR.eth1, echoRequest('203.0.113.20', '203.0.113.1'))).toBe(3);
      // Its DHCP, answered by the network node's dnsmasq over the VXLAN tunnel.
      const dhcpPath = [DVR.vm, DVR.tap, DVR.qvb, DVR.qvo, DVR.vxlanCompute, DVR.vxlanNetwork, DVR.dhcp];
      onEach(rows, dhcpPath, dhcpAck, 1); // ACK
      expect(on(rows, DVR.eth0, (r) => dhcpAck(r) && r.udpDports.includes('4789'))).toBe(1);
    },
  },
  {
    file: 'nova-flat-reply-drop-br100.pcapng',
    interfaces: [
      [NOVA.vm, 'guest'],
      [NOVA.tap, 'tap'],
      [NOVA.br100, 'bridge'],
      [NOVA.eth1, 'physical'],
      [NOVA.external, 'physical'],
    ],
    fault: (rows) => {
      // The VM pings the external host, SNAT-ed to 203.0.113.101; the replies come back
      // through eth1 and br100 and never reach the tap.
      onEach(rows, [NOVA.vm, NOVA.tap, NOVA.br100], echoRequest('10.0.0.10', '203.0.113.10'), 3);
      onEach(rows, [NOVA.eth1, NOVA.external], echoRequest('203.0.113.101', '203.0.113.10'), 3);
      onEach(rows, [NOVA.external, NOVA.eth1], echoReply('203.0.113.10', '203.0.113.101'), 3);
      expect(on(rows, NOVA.br100, echoReply('203.0.113.10', '10.0.0.10'))).toBe(3);
      onEach(rows, [NOVA.tap, NOVA.vm], (r) => r.icmpType === '0' && r.src === '203.0.113.10', 0);
    },
    rest: (rows) => {
      const path = [NOVA.vm, NOVA.tap, NOVA.br100];
      onEach(rows, path, dhcpAck, 1); // DHCP ACK from dnsmasq on br100
      onEach(rows, path, (r) => r.icmpType === '' && r.dnsResponse === '1', 1); // web.lab answered
      onEach(rows, [...path, NOVA.eth1, NOVA.external], isSynAck, 1); // TCP 80 to the external host
      // The external host pings the floating IP, DNAT-ed to the VM: answered, every hop.
      onEach(rows, [NOVA.tap, NOVA.vm], echoRequest('203.0.113.10', '10.0.0.10'), 3);
      onEach(rows, [NOVA.vm, NOVA.tap, NOVA.br100], echoReply('10.0.0.10', '203.0.113.10'), 3);
      onEach(rows, [NOVA.eth1, NOVA.external], echoReply('203.0.113.101', '203.0.113.10'), 3);
    },
  },
  {
    file: 'sdn-vxlan-mtu-mismatch.pcapng',
    interfaces: [
      [SDN.pod1, 'guest'],
      [SDN.veth1, 'veth'],
      [SDN.tun1, 'tun'],
      [SDN.vxlan1, 'vxlan'],
      [SDN.eth1, 'physical'],
      [SDN.eth2, 'physical'],
      [SDN.vxlan2, 'vxlan'],
      [SDN.tun2, 'tun'],
      [SDN.veth2, 'veth'],
      [SDN.pod2, 'guest'],
    ],
    fault: (rows) => {
      const small = (m: (r: Row) => boolean) => (r: Row) => m(r) && r.len < 200;
      const large = (m: (r: Row) => boolean) => (r: Row) => m(r) && r.len > 1400 && r.df === '1';
      const request = echoRequest(POD1, POD2);
      const reply = echoReply(POD2, POD1);
      // Small pings cross vxlan_sys_4789 on both nodes and are answered.
      onEach(rows, [SDN.pod1, SDN.veth1, SDN.vxlan1, SDN.vxlan2, SDN.tun2, SDN.veth2, SDN.pod2], small(request), 3);
      onEach(rows, [SDN.pod2, SDN.veth2, SDN.tun2, SDN.vxlan2, SDN.vxlan1, SDN.tun1, SDN.veth1, SDN.pod1], small(reply), 3);
      // On the underlay they travel as VXLAN (UDP 4789, the project's VNI) between the
      // nodes' addresses, the pods' ICMP inside.
      const vxlan = (outerSrc: string, m: (r: Row) => boolean) => (r: Row) =>
        m(r) && r.udpDports.includes('4789') && r.vni === '5624913' && r.all.src[0] === outerSrc;
      onEach(rows, [SDN.eth1, SDN.eth2], vxlan('192.168.126.11', small(request)), 3);
      onEach(rows, [SDN.eth2, SDN.eth1], vxlan('192.168.126.12', small(reply)), 3);
      // 1400-byte DF pings leave node1's pod, vxlan device and underlay NIC, and never
      // appear on node2 (its underlay carries only 1400 bytes); no reply anywhere.
      onEach(rows, [SDN.pod1, SDN.veth1, SDN.vxlan1], large(request), 3);
      onEach(rows, [SDN.eth1], vxlan('192.168.126.11', large(request)), 3);
      onEach(rows, [SDN.eth2, SDN.vxlan2, SDN.tun2, SDN.veth2, SDN.pod2], (r) => r.icmpType === '8' && r.len > 1400, 0);
      expect(anywhere(rows, (r) => r.icmpType === '0' && r.len > 1400)).toBe(0);
    },
    rest: (rows) => {
      // TCP 8080 pod to pod: the SYN-ACK comes back to the pod.
      onEach(rows, [SDN.pod2, SDN.eth2, SDN.eth1, SDN.pod1], isSynAck, 1);
    },
  },
  {
    file: 'dnat-local-no-route-localnet.pcapng',
    interfaces: [
      ['client:eth0', 'physical'],
      ['edge:eth0', 'physical'],
    ],
    fault: (rows) => {
      // SYNs to the DNAT-ed port arrive on the ingress NIC and are dropped as martians
      // after DNAT to 127.0.0.1: no SYN-ACK, no RST.
      const syn = (r: Row) => isSyn(r) && r.dst === '198.51.100.1' && r.tcpDport === '80';
      expect(on(rows, 'edge:eth0', syn)).toBeGreaterThan(0);
      expect(on(rows, 'edge:eth0', syn)).toBe(on(rows, 'client:eth0', syn));
      expect(anywhere(rows, (r) => isSynAck(r) || isRst(r))).toBe(0);
    },
    rest: (rows) => {
      // The link is fine: the edge answers pings.
      onEach(rows, ['client:eth0', 'edge:eth0'], echoReply('198.51.100.1', '198.51.100.10'), 3);
    },
  },
];

describe.each(SHIPPED)('captures/$file', ({ file, interfaces, fault, rest }) => {
  const path = dir + file;
  const labels = interfaces.map(([label]) => label);

  it('exists, small', () => {
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).size).toBeLessThanOrEqual(300 * 1024);
  });

  it('tshark reads it: every packet on a capture point named by its label, in time order', () => {
    const rows = tsharkRows(path);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(labels).toContain(r.iface);
    expect(new Set(rows.map((r) => r.iface))).toEqual(new Set(labels));
    const roles = new Map(interfaces);
    for (const r of rows) expect(r.description).toBe(roles.get(r.iface));
    const ts = rows.map((r) => BigInt(r.ts.replace('.', '')));
    for (let i = 1; i < ts.length; i++) expect(ts[i] >= ts[i - 1]).toBe(true);
  });

  it('our reader sees the interfaces in path order and the same packets as tshark', () => {
    const rows = tsharkRows(path);
    const ifaces: Array<{ name: string | null; description: string | null }> = [];
    const seen: Array<{ iface: string; ts: string; len: number }> = [];
    readCaptureBytes(new Uint8Array(readFileSync(path)), {
      onInterface: (i) => {
        ifaces[i.id] = { name: i.name, description: i.description };
      },
      onPacket: (p) => {
        const ts = `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`;
        seen.push({ iface: ifaces[p.interfaceId].name ?? '', ts, len: p.len });
      },
    });
    expect(ifaces).toEqual(interfaces.map(([name, description]) => ({ name, description })));
    expect(seen.length).toBe(rows.length);
    expect(seen).toEqual(rows.map((r) => ({ iface: r.iface, ts: r.ts, len: r.len })));
  });

  it('shows its fault', () => {
    fault(tsharkRows(path));
  });

  it('holds the rest of the scenario’s traffic, complete', () => {
    rest(tsharkRows(path));
  });
});
