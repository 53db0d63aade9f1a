// Every capture of the shared corpus (/work/shared/corpus, see its README) read by the
// framing stage and compared, packet by packet, with tshark's reading of it:
// frame count, frame.time_epoch (string compare with formatTimestamp), frame.len,
// frame.cap_len, frame.interface_id. Where tshark is not a plain reference (README
// "Known places"), the test says what we do instead and why.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CaptureFormatError,
  CaptureReader,
  formatTimestamp,
  readCaptureBytes,
  readCaptureFile,
  type CaptureErrorCode,
  type CaptureHandlers,
  type CaptureInterface,
  type CapturePacket,
} from '../../src/framing/index.js';

const CORPUS = '/work/shared/corpus';

interface ManifestRow {
  file: string;
  format: string;
  frames: number;
  status: 'ok' | 'partial' | 'error';
}

interface ReadPacket {
  ts: string;
  hasTimestamp: boolean;
  len: number;
  caplen: number;
  /** index within its section, as tshark prints it (pcapng only) */
  sectionInterfaceId: number;
  format: string;
}

function manifest(): ManifestRow[] {
  const lines = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trimEnd().split('\n');
  const head = lines[0].split('\t');
  const col = (name: string): number => head.indexOf(name);
  return lines.slice(1).map((line) => {
    const f = line.split('\t');
    return {
      file: f[col('file')],
      format: f[col('format')],
      frames: Number(f[col('tshark_frames')] || 0),
      status: f[col('tshark_status')] as ManifestRow['status'],
    };
  });
}

function tsharkRows(file: string): Array<Record<string, string>> {
  const lines = readFileSync(join(CORPUS, `${file}.tshark.noreasm.tsv`), 'utf8')
    .trimEnd()
    .split('\n');
  const head = lines[0].split('\t');
  return lines.slice(1).map((line) => {
    const f = line.split('\t');
    return Object.fromEntries(head.map((h, i) => [h, f[i] ?? '']));
  });
}

/** Handlers that keep every packet read as a ReadPacket (after `check`ing it, if given). */
function collectPackets(
  packets: ReadPacket[],
  check?: (p: CapturePacket) => void,
): Pick<CaptureHandlers, 'onInterface' | 'onPacket'> {
  const ifaces: CaptureInterface[] = [];
  return {
    onInterface: (i) => void (ifaces[i.id] = i),
    onPacket: (p) => {
      const iface = ifaces[p.interfaceId];
      packets.push({
        ts: formatTimestamp(p.tsSec, p.tsNsec),
        hasTimestamp: p.hasTimestamp,
        len: p.len,
        caplen: p.caplen,
        sectionInterfaceId: iface.sectionInterfaceId,
        format: iface.format,
      });
      check?.(p);
    },
  };
}

async function readAll(
  path: string,
  chunkSize: number,
): Promise<{ packets: ReadPacket[]; warnings: string[]; error: CaptureFormatError | null }> {
  const packets: ReadPacket[] = [];
  const warnings: string[] = [];
  let error: CaptureFormatError | null = null;
  try {
    await readCaptureFile(
      path,
      {
        ...collectPackets(packets, (p) => {
          // The bytes handed over must really be there.
          expect(p.offset + p.caplen).toBeLessThanOrEqual(p.data.length);
        }),
        onWarning: (m) => void warnings.push(m),
      },
      { chunkSize },
    );
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    error = err;
  }
  return { packets, warnings, error };
}

/** The same as readAll, pushing `chunk` bytes at a time from memory. */
function readInChunks(
  bytes: Uint8Array,
  chunk: number,
): { packets: ReadPacket[]; error: CaptureFormatError | null } {
  const packets: ReadPacket[] = [];
  const reader = new CaptureReader(collectPackets(packets));
  try {
    for (let o = 0; o < bytes.length; o += chunk) reader.push(bytes.subarray(o, o + chunk));
    reader.end();
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    return { packets, error: err };
  }
  return { packets, error: null };
}

const rows = manifest();

// Frames whose stored fraction is out of range (>= 1e6 µs, >= 1e9 ns): tshark prints a
// 10-digit "fraction" ("1418145370.1000000000"), a negative time, or (micro #3,
// 2147483648 µs) overflows to ".000000000". We carry the excess into the seconds.
const TSHARK_ODD_TIMES: Record<string, number[]> = {
  'timestamp_invalid_micro.pcap': [2, 3],
  'timestamp_invalid_nano.pcap': [2, 3],
};

// Files tshark rejects, and what we say about them: code and words of the message.
const EXPECTED_ERRORS: Record<string, { code: CaptureErrorCode; words: RegExp; offset: number }> = {
  'linktype-reserved-field-not-zero.pcap': {
    code: 'reserved_bits',
    words: /0x00300000 has reserved bits/,
    offset: 20,
  },
  'pcap-invalid-version-1.pcap': {
    code: 'unsupported_version',
    words: /unsupported pcap version 1\.4/,
    offset: 4,
  },
  'pcap-truncated-hdr-23.pcap': {
    code: 'truncated_header',
    words: /cut short in its file header/,
    offset: 23,
  },
  'pcapng-block-len-not-mult4.pcapng': {
    code: 'bad_block_length',
    words: /pcapng block length 21 not a multiple of 4/,
    offset: 32,
  },
  'pcapng-packet-before-idb.pcapng': {
    code: 'unknown_interface',
    words: /Enhanced Packet Block on interface 0, but section 0 has described 0/,
    offset: 28,
  },
  // tshark names the first option (length 12336) that runs past the block; we check
  // the block's frame first: its trailing length (0x30303030) is not its length (52).
  'shb-option-too-long.pcapng': {
    code: 'block_length_mismatch',
    words: /Section Header Block trailing length 808464432 differs from its leading length 52/,
    offset: 48,
  },
  // tshark "reads" this one with its MIME fallback (README); as pcapng it is cut short.
  'pcapng-truncated-shb.pcapng': {
    code: 'truncated_header',
    words: /cut short in its Section Header Block/,
    offset: 16,
  },
};

describe('corpus: every file reads like tshark reads it', () => {
  it('covers every capture in the folder', () => {
    expect(rows.length).toBe(120);
    for (const r of rows) expect(existsSync(join(CORPUS, r.file))).toBe(true);
  });

  for (const row of rows.filter((r) => r.status === 'ok' && EXPECTED_ERRORS[r.file] === undefined)) {
    it(`${row.file}: ${row.frames} frames, timestamps, lengths, interfaces`, async () => {
      const { packets, error } = await readAll(join(CORPUS, row.file), 4096);
      expect(error).toBeNull();
      let expected = tsharkRows(row.file);
      // tshark shows pcapng Custom Blocks as frames without interface (test202 frames
      // 1, 7, 10); they are not packets.
      if (row.format === 'pcapng') expected = expected.filter((r) => r['frame.interface_id'] !== '');
      expect(packets.length).toBe(expected.length);
      if (row.file !== 'gopacket-be-test202.pcapng') expect(packets.length).toBe(row.frames);
      expected.forEach((want, i) => {
        const got = packets[i];
        const where = `${row.file} frame ${want['frame.number']}`;
        expect(String(got.len), where).toBe(want['frame.len']);
        expect(String(got.caplen), where).toBe(want['frame.cap_len']);
        expect(got.format === 'pcapng' ? String(got.sectionInterfaceId) : '', where).toBe(
          want['frame.interface_id'],
        );
        const epoch = want['frame.time_epoch'];
        if (epoch === '') {
          // Simple Packet Block: no timestamp in the file (tshark prints none); we give
          // the previous packet's time so a merge keeps it in place.
          expect(got.hasTimestamp, where).toBe(false);
        } else if (TSHARK_ODD_TIMES[row.file]?.includes(Number(want['frame.number']))) {
          // Checked against the stored fields in the next test.
        } else {
          expect(got.ts, where).toBe(epoch);
        }
      });
    });
  }

  it('timestamp_invalid_micro/nano: out-of-range fractions are carried into the seconds', async () => {
    const micro = await readAll(join(CORPUS, 'timestamp_invalid_micro.pcap'), 4096);
    const nano = await readAll(join(CORPUS, 'timestamp_invalid_nano.pcap'), 4096);
    // Records 2 and 3 as stored, what tshark prints, and what the fields add up to:
    //   micro #2: 1418145370 s + 1000000 µs      "1418145370.1000000000"   1418145371.000000000
    //   micro #3: 1418145370 s + 2147483648 µs   "1418145370.000000000"    1418147517.483648000
    //   nano #2:  1418145370 s + 1000000000 ns   "1418145370.1000000000"   1418145371.000000000
    //   nano #3:  1418145370 s + 2147483648 ns   "-1418145370.2147483648"  1418145372.147483648
    expect(micro.packets.map((p) => p.ts)).toEqual([
      '1418145369.999999000',
      '1418145371.000000000',
      '1418147517.483648000',
    ]);
    expect(nano.packets.map((p) => p.ts)).toEqual([
      '1418145369.999999999',
      '1418145371.000000000',
      '1418145372.147483648',
    ]);
    expect(micro.warnings.join('\n')).toMatch(/microsecond field of 1000000/);
    expect(nano.warnings.join('\n')).toMatch(/nanosecond field of 1000000000/);
  });

  for (const [file, want] of Object.entries(EXPECTED_ERRORS)) {
    it(`${file}: CaptureFormatError ${want.code} at byte ${want.offset}`, async () => {
      const { error } = await readAll(join(CORPUS, file), 4096);
      expect(error).toBeInstanceOf(CaptureFormatError);
      expect(error?.code).toBe(want.code);
      expect(error?.message).toMatch(want.words);
      expect(error?.offset).toBe(want.offset);
      expect(error?.file).toBe(join(CORPUS, file));
    });
  }

  it('every MANIFEST error file is in the error table', () => {
    for (const r of rows.filter((x) => x.status === 'error'))
      expect(Object.keys(EXPECTED_ERRORS)).toContain(r.file);
  });

  it('gopacket-be-test901.pcapng (partial): the first frame, then an error at the version-2.0 SHB, like tshark', async () => {
    const { packets, error } = await readAll(join(CORPUS, 'gopacket-be-test901.pcapng'), 4096);
    expect(packets.map((p) => p.ts)).toEqual(['1340954905.298858000']);
    expect(error?.code).toBe('unsupported_version');
    expect(error?.message).toMatch(/unsupported pcapng section version 2\.0 \(section 1/);
    expect(error?.offset).toBe(0x1e0 + 12);
  });

  it('gopacket-be-test901.pcapng with unknownSectionVersion "skip": sections 0 and 2, as gopacket SkipUnknownVersion', () => {
    const bytes = readFileSync(join(CORPUS, 'gopacket-be-test901.pcapng'));
    const got: string[] = [];
    const warnings: string[] = [];
    const names: Array<string | null> = [];
    readCaptureBytes(
      bytes,
      {
        onInterface: (i) => void names.push(i.name),
        onPacket: (p) => void got.push(`${p.interfaceId} ${formatTimestamp(p.tsSec, p.tsNsec)} ${p.caplen}`),
        onWarning: (m) => void warnings.push(m),
      },
      { unknownSectionVersion: 'skip' },
    );
    expect(got).toEqual(['0 1340954905.298858000 314', '1 1340954905.298858000 314']);
    expect(names).toEqual(['eth0', 'eth0']);
    expect(warnings.join('\n')).toMatch(/skipping pcapng section 1 at byte 480: version 2\.0/);
  });

  it('reads every file identically in 1-byte, 7-byte, 4 KiB and whole-file chunks (errors too)', async () => {
    for (const row of rows) {
      const path = join(CORPUS, row.file);
      const whole = await readAll(path, 1 << 20);
      // 1- and 7-byte reads through the file reader would be a syscall per byte: push
      // the same chunks from memory instead.
      const bytes = readFileSync(path);
      for (const chunk of [1, 7, 4096]) {
        const small = readInChunks(bytes, chunk);
        const what = `${row.file} in ${chunk}-byte chunks`;
        expect(small.packets, what).toEqual(whole.packets);
        expect(small.error?.code, what).toBe(whole.error?.code);
        expect(small.error?.detail, what).toBe(whole.error?.detail);
        expect(small.error?.offset, what).toBe(whole.error?.offset);
      }
    }
  });
});
