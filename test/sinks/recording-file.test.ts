// The file under a recording, as the capture relies on it: bytes land in the order they
// were given however many wait behind a write in the thread pool; a buffer handed over is
// not touched until written and then comes back for reuse, so a steady capture allocates
// nothing; what is queued is bounded; close() leaves every byte on disk even with a write
// still in the pool.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concat } from '../framing/hex.js';
import { BufferPool, MAX_SPARE_BYTES } from '../../src/sinks/buffer-pool.js';
import { RecordingError } from '../../src/sinks/recording-error.js';
import { RecordingFile } from '../../src/sinks/recording-file.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-recording-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `size` bytes, each a function of the chunk number and its position. */
function chunk(k: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (k * 31 + i * 7) & 0xff;
  return b;
}

/** The file holds exactly these bytes, in this order. */
function expectFileHolds(path: string, parts: readonly Uint8Array[]): void {
  expect(Buffer.from(readFileSync(path)).equals(Buffer.from(concat(...parts)))).toBe(true);
}

/** Turns the event loop until nothing is queued (the pool's writes have landed). */
async function landed(file: RecordingFile): Promise<void> {
  for (let i = 0; i < 10_000 && file.pendingBytes > 0; i++) await new Promise((r) => setTimeout(r, 1));
  expect(file.pendingBytes).toBe(0);
}

describe('RecordingFile', () => {
  it('is created mode 0600', () => {
    const path = join(dir, 'mode.bin');
    const file = RecordingFile.open(path);
    file.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('many chunks given while a write is in the pool land in order, copies and handed-over buffers alike', async () => {
    const path = join(dir, 'order.bin');
    const file = RecordingFile.open(path);
    const expected: Uint8Array[] = [];
    let owned: Uint8Array = new Uint8Array(4096);
    for (let k = 0; k < 600; k++) {
      if (k % 3 === 0) {
        // handed over: filled, given, and the buffer given back is the one to fill next
        const size = 1 + ((k * 37) % 4096);
        owned.set(chunk(k, size));
        expected.push(chunk(k, size));
        const next = file.writeOwned(owned, size);
        expect(next).not.toBe(owned);
        expect(next.length).toBe(4096);
        owned = next;
        owned.fill(0xee); // scribbled over at once, as the writer does: must not reach the file
      } else {
        const bytes = chunk(k, 1 + ((k * 101) % 9000));
        expected.push(bytes.slice());
        file.write(bytes);
        bytes.fill(0xdd); // the caller reuses its bytes once write() returns
      }
      if (k % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await landed(file);
    file.close();
    expectFileHolds(path, expected);
  });

  it('a handed-over buffer comes back once written: a steady writer allocates nothing', async () => {
    const file = RecordingFile.open(join(dir, 'reuse.bin'));
    const a = new Uint8Array(8192);
    const b = file.writeOwned(a, 100);
    await landed(file);
    const c = file.writeOwned(b, 200);
    expect(c).toBe(a);
    await landed(file);
    expect(file.writeOwned(c, 300)).toBe(b);
    file.close();
  });

  it('buffers reserved up front are the ones handed out, and the pool keeps no more than the queue can hold', () => {
    const pool = new BufferPool();
    pool.reserve(256 << 10, 1 << 20);
    expect(pool.bytes).toBe(1 << 20);
    pool.reserve(256 << 10, 1 << 20); // already there: nothing more
    expect(pool.bytes).toBe(1 << 20);
    const file = RecordingFile.open(join(dir, 'reserved.bin'), pool);
    const first = new Uint8Array(256 << 10);
    const given = file.writeOwned(first, 10);
    expect(given.length).toBe(256 << 10);
    expect(given[0]).toBe(0xff); // one of the reserved, pages touched — not a fresh zeroed buffer
    expect(pool.bytes).toBe(3 * (256 << 10));
    file.close();
    pool.reserve(256 << 10, 1 << 30);
    expect(pool.bytes).toBe(MAX_SPARE_BYTES);
  });

  it('close() gives every buffer back to the pool, those it wrote itself included', async () => {
    const pool = new BufferPool();
    const file = RecordingFile.open(join(dir, 'give-back.bin'), pool);
    let buf: Uint8Array = new Uint8Array(64 << 10);
    const handed = [buf];
    for (let k = 0; k < 10; k++) {
      buf = file.writeOwned(buf, buf.length);
      handed.push(buf);
    }
    // 10 given, the pool's write holds the first, the rest queued behind it; close writes those
    file.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.bytes).toBe(10 * (64 << 10));
    const back = new Set<Uint8Array>();
    for (let k = 0; k < 10; k++) back.add(pool.take(64 << 10, true));
    for (let k = 0; k < 10; k++) expect(back.has(handed[k])).toBe(true);
  });

  it('queues at most 32 MiB: beyond, writes are synchronous', () => {
    const path = join(dir, 'bounded.bin');
    const file = RecordingFile.open(path);
    const mib = new Uint8Array(1 << 20);
    let most = 0;
    for (let k = 0; k < 80; k++) {
      mib[0] = k;
      file.write(mib);
      most = Math.max(most, file.pendingBytes);
    }
    expect(most).toBeGreaterThan(16 << 20); // the pool had no turn to write: it did queue
    expect(most).toBeLessThanOrEqual(32 << 20);
    file.close();
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(80 << 20);
    for (let k = 0; k < 80; k++) expect(bytes[k << 20]).toBe(k);
  });

  it('close() with a write still in the pool: every byte is on disk and nothing throws later', async () => {
    const path = join(dir, 'close.bin');
    const file = RecordingFile.open(path);
    const parts = [chunk(1, 300_000), chunk(2, 5), chunk(3, 70_000)];
    for (const p of parts) file.write(p);
    file.close();
    expectFileHolds(path, parts);
    // the pool's write lands after the close: the fd it closes then is still its own
    await new Promise((r) => setTimeout(r, 50));
    expectFileHolds(path, parts);
    expect(() => file.write(parts[1])).toThrow(RecordingError);
  });

  it('drain() puts what is queued on disk at once', () => {
    const path = join(dir, 'drain.bin');
    const file = RecordingFile.open(path);
    const parts = [chunk(4, 1000), chunk(5, 2000), chunk(6, 3000)];
    for (const p of parts) file.write(p);
    file.drain();
    expectFileHolds(path, parts);
    file.close();
  });

  it('a device is written synchronously, its buffer given straight back', () => {
    const file = RecordingFile.open('/dev/null');
    expect(file.queues).toBe(false);
    const buf = new Uint8Array(4096);
    expect(file.writeOwned(buf, 4096)).toBe(buf);
    expect(file.pendingBytes).toBe(0);
    file.close();
  });

  it('a recording that cannot be created says why, naming the file', () => {
    const path = join(dir, 'no-such-dir', 'x.pcapng');
    expect(() => RecordingFile.open(path)).toThrow(
      /cannot create recording .*x\.pcapng: directory .*no-such-dir does not exist/,
    );
  });
});
