// The slot ring between the replay's decoder thread and the correlating thread: every
// record arrives once, in order and intact, through many laps of a small ring with a
// real worker thread writing; a writer that dies lets the reader finish what was sent.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  createSlotRing,
  recordBytes,
  recordHeader,
  recordType,
  SlotReader,
  SlotWriter,
} from '../../src/sources/slot-ring.js';

// the worker runs the built module (npm test builds first); this thread, the source
const MODULE = new URL('../../dist/sources/slot-ring.js', import.meta.url).href;
const WRITER = fileURLToPath(new URL('./support/ring-writer.mjs', import.meta.url));

/** Reads records until the end record (type 2) or until the writer is gone. */
async function readAll(reader: SlotReader): Promise<{ seqs: number[]; bad: number; ended: boolean }> {
  const seqs: number[] = [];
  let bad = 0;
  for (;;) {
    const slot = await reader.next();
    if (slot === null) return { seqs, bad, ended: false };
    for (let at = slot.start; at < slot.end;) {
      const h = reader.i32[at >>> 2];
      const bytes = recordBytes(h);
      if (recordType(h) === 2) {
        reader.release();
        return { seqs, bad, ended: true };
      }
      const i = reader.i32[(at >>> 2) + 1];
      seqs.push(i);
      if (bytes !== 16 + 8 * (i % 13)) bad++;
      for (let k = 8; k < bytes; k++) if (reader.u8[at + k] !== ((i + k) & 0xff)) bad++;
      at += bytes;
    }
    reader.release();
  }
}

describe('slot ring', () => {
  it('carries 200k records through a 4-slot ring written by another thread, in order and intact', async () => {
    // 4 slots of 4 KiB: the writer laps the ring hundreds of times and waits for the reader
    const ring = createSlotRing(4, 4096);
    const reader = new SlotReader(ring);
    const worker = new Worker(WRITER, { workerData: { module: MODULE, ring, count: 200_000 } });
    worker.on('exit', () => reader.abort());
    const got = await readAll(reader);
    expect(got.ended).toBe(true);
    expect(got.bad).toBe(0);
    expect(got.seqs.length).toBe(200_000);
    let outOfOrder = 0;
    for (let i = 0; i < got.seqs.length; i++) if (got.seqs[i] !== i) outOfOrder++;
    expect(outOfOrder).toBe(0);
    await worker.terminate();
  });

  it('a writer that dies: the reader gets what it published, then null instead of waiting forever', async () => {
    const ring = createSlotRing(64, 4096);
    const reader = new SlotReader(ring);
    const worker = new Worker(WRITER, {
      workerData: { module: MODULE, ring, count: 3000, crashAfter: true },
    });
    const errors: Error[] = [];
    worker.on('error', (e) => errors.push(e));
    worker.on('exit', () => reader.abort());
    // wait for the worker to end before reading: its slots are all there, then nothing
    await new Promise((r) => worker.once('exit', r));
    const got = await readAll(reader);
    expect(got.seqs.length).toBe(3000);
    expect(got.ended).toBe(true);
    expect(await reader.next()).toBeNull();
    expect(errors.map((e) => e.message)).toEqual(['writer crashed on purpose']);
  });

  it('refuses a record larger than a slot, and places records 8-byte aligned within one slot', () => {
    const ring = createSlotRing(2, 64);
    const w = new SlotWriter(ring);
    expect(() => w.reserve(72)).toThrow(RangeError);
    const a = w.reserve(40);
    w.i32[a >>> 2] = recordHeader(1, 40);
    w.commit(40);
    expect(w.room).toBe(24);
    // 32 bytes do not fit in the 24 left: the first slot is handed on, the record starts the second
    const b = w.reserve(32);
    expect(b).toBe(64);
    expect(new Int32Array(ring.control)[0]).toBe(40);
  });
});
