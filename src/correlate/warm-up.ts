// Before live capture starts: run the decoder and the correlator over a few thousand
// synthetic packets, so that V8 has compiled the hot paths before the first real burst.
// Otherwise the first packets run in the interpreter while the kernel ring fills — a
// pause of tens of milliseconds, enough to drop packets at high rates.
import { decodePacket } from '../decode/decode-packet.js';
import { PacketRecord } from '../decode/record.js';
import { LINKTYPE } from '../events/types.js';
import { Correlator } from './correlator.js';

const ROUNDS = 4000;

function frame(kind: number, i: number): Uint8Array {
  // Ethernet + IPv4 + (ICMP echo | UDP/DNS-ish | TCP SYN), 98 bytes.
  const b = new Uint8Array(98);
  b.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00], 0);
  b[14] = 0x45;
  b[16] = 0;
  b[17] = 84;
  b[18] = (i >> 8) & 0xff;
  b[19] = i & 0xff;
  b[22] = 64;
  b[23] = kind === 0 ? 1 : kind === 1 ? 17 : 6;
  b.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  if (kind === 0) {
    b[34] = i % 2 === 0 ? 8 : 0;
    b[38] = 0x12;
    b[40] = (i >> 9) & 0xff;
    b[41] = (i >> 1) & 0xff;
  } else if (kind === 1) {
    b.set([0x30, 0x39, 0, 53, 0, 64], 34);
    b.set([i & 0xff, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1], 42);
  } else {
    b.set([0x30, 0x39, 0, 80, 0, 0, (i >> 8) & 0xff, i & 0xff, 0, 0, 0, 0, 0x50, 0x02], 34);
  }
  return b;
}

/** Exercises decode and correlation; a few milliseconds, results thrown away. */
export function warmUpPipeline(): void {
  const rec = new PacketRecord();
  const correlator = new Correlator({ onExchange: () => undefined, wants: () => false });
  correlator.addInterface({ id: 0, label: 'warm-up', host: null });
  const frames = [frame(0, 0), frame(1, 0), frame(2, 0)];
  for (let i = 0; i < ROUNDS; i++) {
    const b = i % 64 === 0 ? frame(i % 3, i) : frames[i % 3];
    decodePacket(b, 0, b.length, LINKTYPE.EN10MB, b.length, rec);
    correlator.packet(rec, 0, 1_700_000_000 + Math.floor(i / 1000), (i % 1000) * 1_000_000);
  }
  correlator.finish();
}
