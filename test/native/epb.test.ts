// A live capture's batch recorded in one go (native/epb.h through src/sinks/recording-batch.ts)
// must give the very bytes the pcapng writer gives packet by packet: what tshark and a
// replay read back cannot tell which path wrote a recording.
import { describe, expect, it } from 'vitest';
import type { FramedPacket } from '../../src/events/types.js';
import { PcapngWriter, type ByteSink } from '../../src/framing/index.js';
import { BatchEpbs } from '../../src/sinks/recording-batch.js';
import { loadNativeAddon, RECORD_HEADER_BYTES } from '../../src/sources/native-addon.js';

interface Packet {
  sec: number;
  nsec: number;
  bytes: Uint8Array;
  len: number;
}

/** A batch in the addon's layout (native-addon.ts "Batch layout"). */
function batchOf(packets: readonly Packet[]): { buffer: ArrayBuffer; count: number; byteLength: number } {
  const size = packets.reduce((n, p) => n + RECORD_HEADER_BYTES + ((p.bytes.length + 7) & ~7), 0);
  const buffer = new ArrayBuffer(size + 64);
  const words = new Uint32Array(buffer);
  const bytes = new Uint8Array(buffer);
  let o = 0;
  for (const p of packets) {
    words.set([p.sec % 2 ** 32, Math.floor(p.sec / 2 ** 32), p.nsec, p.bytes.length, p.len, 0], o / 4);
    bytes.set(p.bytes, o + RECORD_HEADER_BYTES);
    o += RECORD_HEADER_BYTES + ((p.bytes.length + 7) & ~7);
  }
  return { buffer, count: packets.length, byteLength: o };
}

function sink(): { sink: ByteSink; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    sink: { write: (b) => void parts.push(Buffer.from(b)), close: () => undefined },
    bytes: () => Buffer.concat(parts),
  };
}

const now = (): { sec: number; nsec: number } => ({ sec: 1_765_000_000, nsec: 5 });

/** Writes the packets on interface 3 (stamped in `tsResolutionNs`) by `write`; the file's bytes. */
function written(
  packets: readonly Packet[],
  tsResolutionNs: number,
  bufferSize: number,
  write: (w: PcapngWriter) => void,
): Buffer {
  const out = sink();
  const w = new PcapngWriter(out.sink, { now, bufferSize });
  w.addInterface({ id: 0, label: 'other', linktype: 1, snaplen: 262144, tsResolutionNs: 1 });
  w.addInterface({ id: 3, label: 'ns/eth0', linktype: 1, snaplen: 262144, tsResolutionNs });
  write(w);
  w.close();
  return out.bytes();
}

function packets(): Packet[] {
  const list: Packet[] = [];
  // every padding, an empty one, a full-size one, seconds that cross, a cut one (len > caplen)
  for (const [i, size] of [0, 1, 2, 3, 4, 5, 60, 61, 62, 63, 64, 98, 1514, 9000, 70_000].entries()) {
    const bytes = new Uint8Array(size);
    for (let k = 0; k < size; k++) bytes[k] = (k * 7 + i) & 0xff;
    list.push({
      sec: 1_765_000_000 + (i >> 2),
      nsec: (i * 123_456_789) % 1e9,
      bytes,
      len: size + (i === 7 ? 40 : 0),
    });
  }
  return list;
}

describe('a batch as EPBs (native)', () => {
  const convert = loadNativeAddon().batchToEpbs;

  it('the addon converts batches on this (little-endian) host', () => {
    expect(typeof convert).toBe('function');
  });

  for (const [what, tsResolutionNs, bufferSize] of [
    ['ns stamps, a buffer that holds the batch', 1, 1 << 20],
    ['µs stamps', 1000, 1 << 20],
    ['a small buffer: flushes between packets, the largest written in pieces', 1, 16384],
  ] as const) {
    it(`gives the bytes packet-by-packet writing gives: ${what}`, () => {
      const list = packets();
      const batch = batchOf(list);
      const oneByOne = written(list, tsResolutionNs, bufferSize, (w) => {
        for (const p of list) {
          const f: FramedPacket = {
            interfaceId: 3,
            tsSec: p.sec,
            tsNsec: p.nsec,
            caplen: p.bytes.length,
            len: p.len,
            data: p.bytes,
            offset: 0,
            direction: 0,
          };
          w.writePacket(f);
        }
      });
      const batched = written(list, tsResolutionNs, bufferSize, (w) =>
        new BatchEpbs(convert!).write(w, batch, 3),
      );
      expect(batched.length).toBe(oneByOne.length);
      expect(batched.equals(oneByOne)).toBe(true);
    });
  }

  it('stops at the end of the room given, each EPB whole', () => {
    const list = packets().slice(0, 6);
    const batch = batchOf(list);
    const out = new Uint8Array(100);
    const state = new Float64Array(2);
    // an empty packet is a 32-byte EPB, 1 to 4 bytes make 36: two fit in 100 bytes
    const n = convert!(batch.buffer, 0, batch.byteLength, 6, out, 0, 100, 0, 1, state);
    expect(n).toBe(2);
    expect(state[1]).toBe(32 + 36);
    expect(state[0]).toBe(RECORD_HEADER_BYTES + (RECORD_HEADER_BYTES + 8));
  });
});
