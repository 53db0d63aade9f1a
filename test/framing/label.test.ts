import { describe, expect, it } from 'vitest';
import { interfaceLabel } from '../../src/events/types.js';
import { fileBaseLabel, fileInterfaceLabel, parseLabel } from '../../src/framing/index.js';

describe('parseLabel: [HOST:][NETNS/]NAME', () => {
  const cases: Array<[string, string | null, string | null, string]> = [
    ['br100', null, null, 'br100'],
    ['qrouter-6f774e8e/qr-56c70d72-3b', null, 'qrouter-6f774e8e', 'qr-56c70d72-3b'],
    ['root@compute2:tap7aa08012-d0', 'root@compute2', null, 'tap7aa08012-d0'],
    ['compute:qrouter-x/qr-1', 'compute', 'qrouter-x', 'qr-1'],
    ['compute2:qrouter-6f77/qr-56c70d72-3b', 'compute2', 'qrouter-6f77', 'qr-56c70d72-3b'],
    ['[2001:db8::7]:fip-1/fg-2', '2001:db8::7', 'fip-1', 'fg-2'],
    ['pid:1234/eth0', null, 'pid:1234', 'eth0'],
    ['node1:pid:1234/eth0', 'node1', 'pid:1234', 'eth0'],
    ['ns1/eth0:1', null, 'ns1', 'eth0:1'],
    ['natdrop-qg', null, null, 'natdrop-qg'],
    ['capture#2', null, null, 'capture#2'],
    [':odd', null, null, ':odd'],
  ];
  for (const [label, host, netns, name] of cases) {
    it(label, () => {
      expect(parseLabel(label)).toEqual({ host, netns, name });
    });
  }

  it('round-trips with interfaceLabel for the shapes docs/json-lines.md uses', () => {
    for (const [label] of cases.slice(0, 9)) {
      if (label.startsWith('[')) continue; // interfaceLabel does not bracket hosts
      expect(interfaceLabel(parseLabel(label))).toBe(label);
    }
  });
});

describe('labels of interfaces read from files', () => {
  it('file base name without extension', () => {
    expect(fileBaseLabel('natdrop-qg.pcap')).toBe('natdrop-qg');
    expect(fileBaseLabel('/tmp/x/run.1.pcapng')).toBe('run.1');
    expect(fileBaseLabel('noext')).toBe('noext');
    expect(fileBaseLabel('.hidden')).toBe('.hidden');
  });

  it('recorded name first, else the base name, else base#idx when several are unnamed', () => {
    expect(fileInterfaceLabel('compute:qrouter-x/qr-1', 'f', 0, true)).toBe('compute:qrouter-x/qr-1');
    expect(fileInterfaceLabel(null, 'natdrop-qg', 0, false)).toBe('natdrop-qg');
    expect(fileInterfaceLabel('', 'natdrop-qg', 0, false)).toBe('natdrop-qg');
    expect(fileInterfaceLabel(null, 'multi', 2, true)).toBe('multi#2');
  });
});
