import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureReader, readCaptureFile } from '../../src/framing/index.js';
import { collector } from './support.js';

const CORPUS = '/work/shared/corpus';

describe('readCaptureFile', () => {
  it('streams a file in chunks of any size and sums up', async () => {
    const path = join(CORPUS, 'pcapng-multi-interface.pcapng');
    const whole = collector();
    const summary = await readCaptureFile(path, whole.handlers);
    expect(summary).toEqual({ format: 'pcapng', packets: 6, bytes: 1348 });
    for (const chunkSize of [1, 3, 100]) {
      const small = collector();
      await readCaptureFile(path, small.handlers, { chunkSize });
      expect(small.seen).toEqual(whole.seen);
    }
  });
});

describe('a byte stream like `tcpdump -U -w -` over ssh', () => {
  it('frames tcpdump stdout as it arrives, chunk by chunk', async () => {
    const path = join(CORPUS, 'dns-edns-ecs.pcap');
    const fromFile = collector();
    await readCaptureFile(path, fromFile.handlers);

    const fromPipe = collector();
    const reader = new CaptureReader(fromPipe.handlers);
    const child = spawn('tcpdump', ['-r', path, '-U', '-w', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let chunks = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      chunks++;
      reader.push(chunk);
    });
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tcpdump exited ${code}`))));
    });
    reader.end();
    expect(chunks).toBeGreaterThan(0);
    // tcpdump rewrites the header (its own snaplen) but not the packets
    expect(fromPipe.seen.packets).toEqual(fromFile.seen.packets);
    expect(fromPipe.seen.warnings).toEqual([]);
  });

  it('a tcpdump killed mid-write leaves whole packets and a warning, not an error', async () => {
    const path = join(CORPUS, 'afs.pcap');
    const { seen, handlers } = collector();
    const reader = new CaptureReader(handlers);
    const child = spawn('tcpdump', ['-r', path, '-U', '-w', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let taken = 0;
    // keep only the first 20000 bytes, cutting a record (as a dying ssh would)
    child.stdout.on('data', (chunk: Buffer) => {
      const room = 20000 - taken;
      if (room > 0) reader.push(chunk.subarray(0, room));
      taken += Math.min(room, chunk.length);
    });
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    reader.end();
    expect(reader.bytesReceived).toBe(20000);
    expect(seen.packets.length).toBeGreaterThan(10);
    expect(seen.warnings).toEqual([
      expect.stringMatching(/^capture cut short at byte 20000: last record incomplete \(packet \d+/),
    ]);
  });
});
