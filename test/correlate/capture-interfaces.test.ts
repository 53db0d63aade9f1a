import { describe, expect, it } from 'vitest';
import { hashAddr } from '../../src/correlate/classify.js';
import { CaptureInterfaces } from '../../src/correlate/capture-interfaces.js';
import { parseIp } from '../../src/decode/format.js';

const addr = (text: string): number => {
  const bytes = parseIp(text) as Uint8Array;
  return hashAddr(bytes, 0, bytes.length);
};

describe('CaptureInterfaces.destinationOf: where a packet to an address should end', () => {
  // router r (1: xra, 2: xrb) between a (0: xa) and b (3: xb, holding 10.0.0.2)
  function lab(): CaptureInterfaces {
    const c = new CaptureInterfaces();
    c.add({ id: 0, label: 'a/xa', host: null, netns: 'a', addresses: ['10.0.1.2/24'] });
    c.add({ id: 1, label: 'r/xra', host: null, netns: 'r', addresses: ['10.0.1.1/24'] });
    c.add({ id: 2, label: 'r/xrb', host: null, netns: 'r', addresses: ['10.0.0.1/24'] });
    c.add({ id: 3, label: 'b/xb', host: null, netns: 'b', addresses: ['10.0.0.2/24'] });
    return c;
  }

  it('the interface holding it, until the packet was seen in its namespace', () => {
    const c = lab();
    expect(c.destinationOf(2, addr('10.0.0.2'), [0, 1, 2])).toBe(3);
    expect(c.destinationOf(3, addr('10.0.0.2'), [0, 1, 2, 3])).toBe(-1);
    // another device of b's namespace saw it: it entered there by that one
    c.add({ id: 4, label: 'b/xb2', host: null, netns: 'b', addresses: ['10.0.9.2/24'] });
    expect(c.destinationOf(4, addr('10.0.0.2'), [0, 1, 4])).toBe(-1);
    // one namespace is one destination: its device captured by name and in an `any` capture
    c.add({ id: 5, label: 'b/eth0', host: null, netns: 'b', addresses: ['10.0.0.2/24'], capture: 9 });
    expect(c.destinationOf(2, addr('10.0.0.2'), [0, 1, 2])).toBe(3);
    // an address no capture holds
    expect(c.destinationOf(2, addr('10.0.0.9'), [0, 1, 2])).toBe(-1);
  });

  it('held on several hosts (a distributed router’s gateway): the one on the host it was last seen on, else none', () => {
    const c = new CaptureInterfaces();
    c.add({ id: 0, label: 'h1:tap1', host: 'h1', netns: null, addresses: [] });
    c.add({ id: 1, label: 'h1:qrouter/qr-1', host: 'h1', netns: 'qrouter', addresses: ['10.0.0.1/24'] });
    c.add({ id: 2, label: 'h2:qrouter/qr-1', host: 'h2', netns: 'qrouter', addresses: ['10.0.0.1/24'] });
    c.add({ id: 3, label: 'h3:tap3', host: 'h3', netns: null, addresses: [] });
    expect(c.destinationOf(0, addr('10.0.0.1'), [0])).toBe(1);
    expect(c.destinationOf(3, addr('10.0.0.1'), [3])).toBe(-1);
  });

  it('a namespace not known (a plain pcap) holds nothing; addresses announced again replace the old', () => {
    const c = new CaptureInterfaces();
    c.add({ id: 0, label: 'eth0', host: null, addresses: ['10.0.0.2'] });
    c.add({ id: 1, label: 'r/x', host: null, netns: 'r', addresses: [] });
    expect(c.destinationOf(1, addr('10.0.0.2'), [1])).toBe(-1);
    c.add({ id: 2, label: 'b/xb', host: null, netns: 'b', addresses: ['10.0.0.2'] });
    expect(c.destinationOf(1, addr('10.0.0.2'), [1])).toBe(2);
    c.add({ id: 2, label: 'b/xb', host: null, netns: 'b', addresses: ['10.0.0.3'] });
    expect(c.destinationOf(1, addr('10.0.0.2'), [1])).toBe(-1);
    expect(c.destinationOf(1, addr('10.0.0.3'), [1])).toBe(2);
  });
});
