// A worker for slot-ring.test.ts: writes `count` records of varying length, each
// holding its sequence number and a byte pattern derived from it, then an end record.
import { workerData } from 'node:worker_threads';
const { SlotWriter, recordHeader } = await import(workerData.module);
const w = new SlotWriter(workerData.ring);
for (let i = 0; i < workerData.count; i++) {
  const bytes = 16 + 8 * (i % 13);
  const at = w.reserve(bytes);
  w.i32[at >>> 2] = recordHeader(1, bytes);
  w.i32[(at >>> 2) + 1] = i;
  for (let k = 8; k < bytes; k++) w.u8[at + k] = (i + k) & 0xff;
  w.commit(bytes);
  if (i % 1000 === 999) w.publish();
}
const at = w.reserve(8);
w.i32[at >>> 2] = recordHeader(2, 8);
w.commit(8);
w.publish();
if (workerData.crashAfter) throw new Error('writer crashed on purpose');
