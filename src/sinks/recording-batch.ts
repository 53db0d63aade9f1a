// A live capture's batch written to a recording in one go: the packets become EPBs in C
// (native/epb.h batchToEpbs), straight into the pcapng writer's buffer — one call per
// batch instead of a JavaScript loop over every packet's bytes. The EPBs are those the
// writer makes packet by packet (test/native/epb.test.ts compares them byte for byte).
//
// A packet that does not fit after what the writer holds is written after a flush; one
// larger than the writer's whole buffer goes through writePacket, which writes it in
// pieces.
import type { FramedPacket } from '../events/types.js';
import type { EpbConverter } from '../framing/epb-converter.js';
import type { PcapngWriter } from '../framing/index.js';
import { reusedFramedPacket } from '../framing/reused-packet.js';

/** A batch as the capture addon lays it out (src/sources/native-addon.ts "Batch layout"). */
export interface RecordBatch {
  readonly buffer: ArrayBuffer;
  /** packets in it */
  readonly count: number;
  /** bytes of `buffer` in use */
  readonly byteLength: number;
}

/** The addon's record header (src/sources/native-addon.ts RECORD_HEADER_BYTES). */
const RECORD_HEADER_BYTES = 24;
const TWO_POW_32 = 4294967296;

export class BatchEpbs {
  readonly #convert: EpbConverter;
  readonly #state = new Float64Array(2);
  /** a packet larger than the writer's buffer, for writePacket (rare: allocated then) */
  readonly #single: FramedPacket = reusedFramedPacket();

  constructor(convert: EpbConverter) {
    this.#convert = convert;
  }

  /** Writes the batch's packets, all of interface `interfaceId` (added to the writer). */
  write(writer: PcapngWriter, batch: RecordBatch, interfaceId: number): void {
    const index = writer.interfaceIndex(interfaceId);
    if (index < 0)
      throw new Error(`pcapng recorder: packet on interface ${interfaceId}, which was not added`);
    const unitNs = writer.interfaceUnitNs(interfaceId);
    const state = this.#state;
    const end = batch.byteLength;
    let from = 0;
    let left = batch.count;
    let flushed = false;
    while (left > 0 && from < end) {
      const at = flushed ? writer.reserve(writer.bufferSize) : writer.reserve(0);
      const out = writer.buffer;
      const n = this.#convert(batch.buffer, from, end, left, out, at, out.length, index, unitNs, state);
      if (n > 0) {
        writer.commit(state[1] - at, n);
        from = state[0];
        left -= n;
        flushed = false;
      } else if (!flushed) {
        flushed = true; // the next one did not fit after what is buffered
      } else {
        // Larger than the whole buffer (or a record the converter leaves to the writer).
        const next = this.#writeOne(writer, batch, from, interfaceId);
        if (next < 0) return;
        from = next;
        left--;
        flushed = false;
      }
    }
  }

  /** The record at `from` through writePacket; the next record's offset, or -1 past the batch. */
  #writeOne(writer: PcapngWriter, batch: RecordBatch, from: number, interfaceId: number): number {
    const words = new Uint32Array(batch.buffer, from, RECORD_HEADER_BYTES / 4);
    const caplen = words[3];
    const data = from + RECORD_HEADER_BYTES;
    if (data + caplen > batch.byteLength) return -1;
    const p = this.#single;
    p.interfaceId = interfaceId;
    p.tsSec = words[0] + words[1] * TWO_POW_32;
    p.tsNsec = words[2];
    p.caplen = caplen;
    p.len = words[4];
    p.data = new Uint8Array(batch.buffer);
    p.offset = data;
    writer.writePacket(p);
    return data + ((caplen + 7) & ~7);
  }
}
