// The packet memory (src/pipeline/packet-memory.ts) gives the gatherer the packet a
// verdict's sighting names: on this machine's clock the one stamped exactly so, even
// when thousands of other exchange packets of the interface are stamped within the
// remote window around it; on another host's clock the nearest of the exchange's own
// within REMOTE_NEAR_NS of the offset-corrected time, and nothing farther.
import { describe, expect, it } from 'vitest';
import type { ExchangeRecord, FramedPacket, InterfaceDescriptor } from '../../src/events/types.js';
import { PacketMemory } from '../../src/pipeline/packet-memory.js';
import { echoFrame } from '../correlate/support/echo-frame.js';

const SEC = 1_700_000_000;
const VM = [10, 0, 0, 10];
const DST = [203, 0, 113, 10];

function iface(id: number, label: string, host: string | null): InterfaceDescriptor {
  return {
    id,
    label,
    host,
    netns: null,
    name: label,
    linktype: 1,
    snaplen: 262144,
    tsResolutionNs: 1,
    addresses: [],
  };
}

function keep(memory: PacketMemory, id: number, frame: Uint8Array, nsec: number): void {
  const p: FramedPacket = {
    interfaceId: id,
    tsSec: SEC,
    tsNsec: nsec,
    caplen: frame.length,
    len: frame.length,
    data: frame,
    offset: 0,
    direction: 0,
  };
  memory.keep(p, id);
}

function echo(seq: number): ExchangeRecord {
  return {
    type: 'exchange',
    kind: 'icmp-echo',
    key: `10.0.0.10>203.0.113.10 id=9 seq=${seq}`,
    flow: { src: '10.0.0.10', dst: '203.0.113.10', id: 9, seq },
    status: 'unanswered',
    stages: [],
    ts: `${SEC}.500000000`,
  };
}

const ts = (nsec: number): string => `${SEC}.${String(nsec).padStart(9, '0')}`;

describe('packet memory', () => {
  it('finds the packet stamped exactly so among thousands stamped within 50 ms of it', () => {
    const memory = new PacketMemory();
    memory.interface(iface(0, 'vm/eth0', null));
    // a flood of other echoes, 10 µs apart, around the one looked for (seq 7 at .500000000)
    for (let k = 0; k < 10_000; k++)
      keep(memory, 0, echoFrame(8, VM, DST, 9, 1000 + (k % 500)), 450_000_000 + k * 10_000);
    keep(memory, 0, echoFrame(8, VM, DST, 9, 7), 500_000_000);
    const found = memory.find('vm/eth0', ts(500_000_000), echo(7));
    expect(found?.view.icmp?.seq).toBe(7);
    expect(found?.view.ts).toBe(ts(500_000_000));
    // the DF bit, which the decoder's view does not carry (echoFrame sets it), and where
    // its IP header starts (after the Ethernet header, in the slot it was kept in)
    expect(found?.dontFragment).toBe(true);
    expect(found?.ipOffset).toBe(14);
    // nothing of the exchange within 50 ms of the time asked for
    expect(memory.find('vm/eth0', ts(440_000_000), echo(7))).toBeNull();
  });

  it('the DF bit of the packet found, as it was sent', () => {
    const memory = new PacketMemory();
    memory.interface(iface(0, 'vm/eth0', null));
    const mayFragment = echoFrame(8, VM, DST, 9, 8);
    mayFragment[14 + 6] = 0; // flags: DF clear
    keep(memory, 0, mayFragment, 500_000_000);
    expect(memory.find('vm/eth0', ts(500_000_000), echo(8))?.dontFragment).toBe(false);
  });

  it("on another host's clock: the exchange's packet nearest the offset-corrected time, within 50 ms", () => {
    const memory = new PacketMemory();
    memory.interface(iface(0, 'b:eth0', 'b'));
    memory.clock('b', 3); // host b is 3 ms ahead of the reference clock
    keep(memory, 0, echoFrame(8, VM, DST, 9, 5), 503_400_000); // 0.4 ms from the corrected time
    keep(memory, 0, echoFrame(8, VM, DST, 9, 5), 540_000_000); // 37 ms from it
    keep(memory, 0, echoFrame(8, VM, DST, 9, 6), 503_000_000); // exactly there, another exchange's
    expect(memory.find('b:eth0', ts(500_000_000), echo(5))?.view.ts).toBe(ts(503_400_000));
    expect(memory.find('b:eth0', ts(450_000_000), echo(5))).toBeNull(); // 53.4 ms away
  });
});
