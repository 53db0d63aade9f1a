// The recordings shipped in captures/ (made by scripts/record-captures.mjs on the lab):
// tshark reads them, their interfaces carry the labels, our reader agrees on every
// packet, and each shows its fault — checked with tshark's decoding, not ours.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCaptureBytes } from '../../src/framing/capture-reader.js';

const dir = fileURLToPath(new URL('../../captures/', import.meta.url));

interface Row {
  iface: string;
  src: string;
  dst: string;
  icmpType: string;
  tcpFlags: string;
  len: number;
}

function tsharkRows(file: string): Row[] {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type', '-e', 'tcp.flags', '-e', 'frame.len'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .trimEnd()
    .split('\n')
    .map((line) => {
      // tunnelled packets list outer,inner: keep the innermost, as hopscope does
      const [iface, src, dst, icmpType, tcpFlags, len] = line.split('\t').map((f) => f.split(',').pop() ?? '');
      return { iface, src, dst, icmpType, tcpFlags, len: Number(len) };
    });
}

const count = (rows: Row[], iface: RegExp, match: (r: Row) => boolean): number =>
  rows.filter((r) => iface.test(r.iface) && match(r)).length;

const echo = (type: '8' | '0', src: string, dst: string) => (r: Row) => r.icmpType === type && r.src === src && r.dst === dst;

const SHIPPED: Array<{ file: string; labels: string[]; fault: (rows: Row[]) => void }> = [
  {
    file: 'dvr-fip-sg-drop.pcapng',
    labels: [
      'compute:instance-0000002a/eth0',
      'compute:tap7aa08012-d0',
      'compute:qvb7aa08012-d0',
      'compute:qvo7aa08012-d0',
      'compute:qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50/qr-56c70d72-3b',
      'compute:qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50/rfp-6f774e8e-2',
      'compute:fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8/fpr-6f774e8e-2',
      'compute:fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8/fg-3c1d5e7f-a2',
      'compute:eth1',
      'outside:eth0',
      'compute:vxlan-c0a8640a',
      'compute:eth0',
      'network:vxlan-c0a8640b',
      'network:qdhcp-8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b/ns-9d8c7b6a-5e',
    ],
    fault: (rows) => {
      // the outside's pings to the floating IP, DNAT-ed to the VM, reach qvb… and stop at the security group
      const toVm = echo('8', '203.0.113.1', '10.0.0.5');
      expect(count(rows, /\/qr-/, toVm)).toBeGreaterThan(0);
      expect(count(rows, /:qvb/, toVm)).toBeGreaterThan(0);
      expect(count(rows, /:tap|instance-/, toVm)).toBe(0);
      expect(count(rows, /./, (r) => r.icmpType === '0' && r.src === '10.0.0.5' && r.dst === '203.0.113.1')).toBe(0);
      // TCP 22 likewise: SYNs on qvb…, none on the tap, no SYN-ACK
      expect(count(rows, /:qvb/, (r) => r.tcpFlags === '0x0002' && r.dst === '10.0.0.5')).toBeGreaterThan(0);
      expect(count(rows, /:tap|instance-/, (r) => r.tcpFlags === '0x0002' && r.dst === '10.0.0.5')).toBe(0);
      expect(count(rows, /./, (r) => r.tcpFlags === '0x0012' && r.src === '10.0.0.5')).toBe(0);
    },
  },
  {
    file: 'nova-flat-reply-drop-br100.pcapng',
    labels: ['compute:instance-00000001/eth0', 'compute:tap7aa08012-d0', 'compute:br100', 'compute:eth1', 'external:eth0'],
    fault: (rows) => {
      // the VM's pings to the external host: replies come back through eth1 and br100, never reach the tap
      const reply = echo('0', '203.0.113.10', '10.0.0.10');
      expect(count(rows, /:tap|instance-/, echo('8', '10.0.0.10', '203.0.113.10'))).toBeGreaterThan(0);
      expect(count(rows, /:br100$/, reply)).toBeGreaterThan(0);
      expect(count(rows, /:eth1$/, echo('0', '203.0.113.10', '203.0.113.101'))).toBeGreaterThan(0);
      expect(count(rows, /:tap|instance-/, reply)).toBe(0);
    },
  },
  {
    file: 'sdn-vxlan-mtu-mismatch.pcapng',
    labels: [
      'node1:cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d/eth0',
      'node1:veth5c1e7a2d',
      'node1:tun0',
      'node1:vxlan_sys_4789',
      'node1:eth0',
      'node2:eth0',
      'node2:vxlan_sys_4789',
      'node2:tun0',
      'node2:veth9a8b7c6d',
      'node2:cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d/eth0',
    ],
    fault: (rows) => {
      const small = (r: Row) => echo('8', '10.128.0.5', '10.128.2.5')(r) && r.len < 200;
      const large = (r: Row) => echo('8', '10.128.0.5', '10.128.2.5')(r) && r.len > 1400;
      // small pings cross the overlay (also seen VXLAN-encapsulated on the underlay) and are answered
      expect(count(rows, /^node1:eth0$/, (r) => r.icmpType === '8' && r.len < 200)).toBeGreaterThan(0);
      expect(count(rows, /^node2:cni-/, small)).toBeGreaterThan(0);
      expect(count(rows, /^node1:cni-/, echo('0', '10.128.2.5', '10.128.0.5'))).toBeGreaterThan(0);
      // large DF pings leave node1's pod and vxlan device, and never reach node2
      expect(count(rows, /^node1:vxlan_sys_4789$/, large)).toBeGreaterThan(0);
      expect(count(rows, /^node2:/, (r) => r.icmpType === '8' && r.len > 1400)).toBe(0);
    },
  },
  {
    file: 'dnat-local-no-route-localnet.pcapng',
    labels: ['client:eth0', 'edge:eth0'],
    fault: (rows) => {
      expect(count(rows, /^edge:eth0$/, (r) => r.tcpFlags === '0x0002')).toBeGreaterThan(0);
      expect(count(rows, /./, (r) => r.tcpFlags === '0x0012')).toBe(0);
    },
  },
];

describe.each(SHIPPED)('captures/$file', ({ file, labels, fault }) => {
  const path = dir + file;

  it('is small, and tshark reads it with every interface named by its label', () => {
    expect(statSync(path).size).toBeLessThan(300 * 1024);
    const rows = tsharkRows(path);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.iface))).toEqual(new Set(labels));
  });

  it('our reader sees the same packets as tshark, on the same interfaces', () => {
    const rows = tsharkRows(path);
    const names: string[] = [];
    const seen: string[] = [];
    readCaptureBytes(new Uint8Array(readFileSync(path)), {
      onInterface: (i) => {
        names[i.id] = i.name ?? '';
      },
      onPacket: (p) => {
        seen.push(names[p.interfaceId]);
      },
    });
    expect(seen).toEqual(rows.map((r) => r.iface));
  });

  it('shows its fault', () => {
    fault(tsharkRows(path));
  });
});
