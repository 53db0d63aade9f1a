import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError, CaptureReader, readCaptureBytes } from '../../src/framing/index.js';
import { PCAP_MICRO_LE, PCAPNG_TWO_SECTIONS } from './fixtures.js';
import { hex } from './hex.js';
import { seededRandom } from '../support/seeded-random.js';
import { collector, readChunked, type Seen } from './support.js';

const CORPUS = '/work/shared/corpus';

function outcome(
  bytes: Uint8Array,
  sizes: number[] = [bytes.length || 1],
): { seen: Seen; error: CaptureFormatError | null } {
  const { seen, handlers } = collector();
  const reader = new CaptureReader(handlers);
  try {
    let o = 0;
    for (let i = 0; o < bytes.length; i++) {
      const n = sizes[i % sizes.length];
      reader.push(bytes.subarray(o, o + n));
      o += n;
    }
    reader.end();
    return { seen, error: null };
  } catch (err) {
    if (err instanceof CaptureFormatError) return { seen, error: err };
    throw err;
  }
}

describe('capture reader: format detection', () => {
  it('names what it found when the input is not a capture', () => {
    const html = new TextEncoder().encode('<html><body>');
    const { error } = outcome(html);
    expect(error?.code).toBe('not_a_capture');
    expect(error?.message).toBe('not a pcap or pcapng file: magic 0x3c68746d at byte 0');
    expect(error?.packetNumber).toBe(0);
  });

  it('says so when the capture is gzip-compressed', () => {
    expect(outcome(hex`1f 8b 08 00 00 00 00 00`).error?.message).toMatch(
      /gzip-compressed: decompress it first/,
    );
  });

  it('empty input and inputs shorter than a header are errors, not empty captures', () => {
    expect(outcome(new Uint8Array(0)).error?.message).toBe(
      'empty input: not a pcap or pcapng file at byte 0',
    );
    expect(outcome(hex`d4 c3`).error?.message).toBe(
      'input of 2 bytes is too short to be a pcap or pcapng file at byte 0',
    );
    expect(outcome(PCAP_MICRO_LE.subarray(0, 20)).error?.message).toBe(
      'pcap file cut short in its file header (20 bytes in all) at byte 20',
    );
    expect(outcome(PCAPNG_TWO_SECTIONS.subarray(0, 40)).error?.code).toBe('truncated_header');
  });

  it('reports format, packets and bytes consumed', () => {
    const { handlers } = collector();
    const reader = new CaptureReader(handlers);
    expect(reader.format).toBeNull();
    reader.push(PCAP_MICRO_LE.subarray(0, 30));
    expect(reader.format).toBe('pcap');
    expect(reader.bytesConsumed).toBe(24);
    expect(reader.bytesReceived).toBe(30);
    reader.push(PCAP_MICRO_LE.subarray(30));
    reader.end();
    expect(reader.packetCount).toBe(2);
    expect(reader.bytesConsumed).toBe(PCAP_MICRO_LE.length);
  });
});

describe('capture reader: a capture cut short', () => {
  it('delivers every whole packet before the cut and warns (pcap)', () => {
    // record 1 ends at 24+16+8 = 48; cut inside record 2
    const { seen, error } = outcome(PCAP_MICRO_LE.subarray(0, 60));
    expect(error).toBeNull();
    expect(seen.packets.length).toBe(1);
    expect(seen.warnings).toEqual([
      'capture cut short at byte 60: last record incomplete (packet 2, 12 bytes from byte 48)',
    ]);
  });

  it('at every length of the fixtures: an error only inside the file header, else whole records', () => {
    // pcap file header 24 bytes; the pcapng fixture's first SHB 52
    for (const [bytes, headerBytes] of [
      [PCAP_MICRO_LE, 24],
      [PCAPNG_TWO_SECTIONS, 52],
    ] as const) {
      const whole = outcome(bytes).seen.packets;
      for (let cut = 0; cut <= bytes.length; cut++) {
        const { seen, error } = outcome(bytes.subarray(0, cut), [1 + (cut % 5)]);
        if (cut < headerBytes) {
          expect(error?.code, `cut at ${cut}`).toBe('truncated_header');
          continue;
        }
        expect(error, `cut at ${cut}`).toBeNull();
        expect(seen.packets, `cut at ${cut}`).toEqual(whole.slice(0, seen.packets.length));
        if (cut < bytes.length && seen.packets.length < whole.length) {
          // every cut that loses something says so, unless it fell between records
          expect(
            seen.warnings.some((w) => w.startsWith(`capture cut short at byte ${cut}:`)) ||
              isBoundary(bytes, cut),
          ).toBe(true);
        }
      }
    }
  });

  it('corpus files cut at several lengths: whole packets before the cut + a warning', () => {
    for (const file of [
      'dns_tcp.pcap',
      'get-to-ssh-server.pcap',
      'pcapng-multi-interface.pcapng',
      'gopacket-be-test202.pcapng',
      'isup.pcap',
    ]) {
      const bytes = readFileSync(join(CORPUS, file));
      const whole = outcome(bytes).seen.packets;
      for (const fraction of [0.3, 0.5, 0.77, 0.99]) {
        const cut = Math.floor(bytes.length * fraction);
        const { seen, error } = outcome(bytes.subarray(0, cut), [1000]);
        expect(error, `${file} cut at ${cut}`).toBeNull();
        expect(seen.packets.length).toBeLessThan(whole.length);
        expect(seen.packets).toEqual(whole.slice(0, seen.packets.length));
        const cutWarning = new RegExp(
          `^capture cut short at byte ${cut}: last record incomplete \\(packet ${seen.packets.length + 1}`,
        );
        expect(seen.warnings.filter((w) => cutWarning.test(w)).length).toBe(1);
      }
    }
  });
});

/** true when `cut` falls exactly between two units of the fixture (nothing to warn about). */
function isBoundary(bytes: Uint8Array, cut: number): boolean {
  const { seen } = outcome(bytes.subarray(0, cut));
  return seen.warnings.every((w) => !w.startsWith('capture cut short'));
}

describe('capture reader: garbage never hangs or crashes', () => {
  it('random bytes: an error or a clean end, in bounded time', () => {
    const rnd = seededRandom(7);
    for (let i = 0; i < 500; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(rnd() * 600) }, () => Math.floor(rnd() * 256));
      // Half of them start with a real magic so the parsers, not the detector, see garbage.
      if (i % 2 === 0 && bytes.length >= 4) bytes.set(i % 4 === 0 ? hex`d4 c3 b2 a1` : hex`0a 0d 0d 0a`);
      const { error } = outcome(bytes, [1 + (i % 13)]);
      if (error !== null) expect(error).toBeInstanceOf(CaptureFormatError);
    }
  });

  it('mutated real files: an error with an offset inside the file, or packets', () => {
    const rnd = seededRandom(42);
    const originals = [
      'pcapng-multi-interface.pcapng',
      'gopacket-be-test202.pcapng',
      'dns_tcp.pcap',
      'modify-request.pcapng',
    ].map((f) => readFileSync(join(CORPUS, f)));
    for (let i = 0; i < 400; i++) {
      const bytes = Uint8Array.from(originals[i % originals.length]);
      for (let k = 0; k < 1 + (i % 5); k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      const { seen, error } = outcome(bytes, [97]);
      if (error !== null) {
        expect(error.offset).toBeGreaterThanOrEqual(0);
        expect(error.offset).toBeLessThanOrEqual(bytes.length);
      }
      for (const p of seen.packets) expect(p.caplen).toBe(p.bytes.length / 2);
    }
  });
});

describe('capture reader: contract', () => {
  it('a handler that throws stops the reader; later pushes repeat the error', () => {
    const reader = new CaptureReader({
      onInterface: () => {},
      onPacket: () => {
        throw new Error('sink full');
      },
    });
    expect(() => reader.push(PCAP_MICRO_LE)).toThrow('sink full');
    expect(() => reader.push(PCAP_MICRO_LE)).toThrow('sink full');
  });

  it('push after end is a programming error', () => {
    const { handlers } = collector();
    const reader = readCaptureBytes(PCAP_MICRO_LE, handlers);
    expect(() => reader.push(PCAP_MICRO_LE)).toThrow(/after end/);
  });

  it('the caller may overwrite its chunk after push(): carried bytes were copied', () => {
    const whole = readChunked(PCAPNG_TWO_SECTIONS, [PCAPNG_TWO_SECTIONS.length], { packetComments: true });
    const { seen, handlers } = collector();
    const reader = new CaptureReader(handlers, { packetComments: true });
    const buf = new Uint8Array(10);
    for (let o = 0; o < PCAPNG_TWO_SECTIONS.length; o += 10) {
      const n = Math.min(10, PCAPNG_TWO_SECTIONS.length - o);
      buf.set(PCAPNG_TWO_SECTIONS.subarray(o, o + n));
      reader.push(buf.subarray(0, n));
      buf.fill(0xee);
    }
    reader.end();
    expect(seen).toEqual(whole);
  });

  it('random chunk sizes give what one chunk gives, for every corpus capture', () => {
    const rnd = seededRandom(3);
    for (const file of [
      'modify-request.pcapng',
      'afs.pcap',
      'gopacket-be-test202.pcapng',
      'gopacket-le-test902.pcapng',
    ]) {
      const bytes = readFileSync(join(CORPUS, file));
      const whole = outcome(bytes);
      const sizes = Array.from({ length: 50 }, () => 1 + Math.floor(rnd() * 3000));
      expect(outcome(bytes, sizes)).toEqual(whole);
    }
  });
});
