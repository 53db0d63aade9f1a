// The `-w` recorder as an operator checks it: tshark reads every recording back with
// the same packets, interface labels and nanosecond timestamps; files are 0600; a
// killed recorder leaves a readable file holding what it wrote a second before; the
// ring buffer's files are each complete.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FramedPacket, InterfaceDescriptor, InterfaceStats } from '../../src/events/types.js';
import { formatTimestamp, readCaptureBytes, readCaptureFile } from '../../src/framing/index.js';
import {
  defaultRecordingStem,
  nextRecordingPath,
  PcapngRecorder,
  recordingFilePath,
  RecordingError,
  type PcapngRecorderOptions,
} from '../../src/sinks/pcapng-recorder.js';
import { BufferPool } from '../../src/sinks/recording-file.js';
import { collector } from '../framing/support.js';

const CORPUS = '/work/shared/corpus';
const dir = mkdtempSync(join(tmpdir(), 'hopscope-recorder-'));
const opened: PcapngRecorder[] = [];

afterAll(() => {
  for (const r of opened) {
    try {
      r.closeSync();
    } catch {
      // a recorder a test made fail on purpose
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function open(
  options: Omit<PcapngRecorderOptions, 'capturesDir'> & { capturesDir?: string },
): PcapngRecorder {
  const r = PcapngRecorder.open({ capturesDir: join(dir, 'captures'), ...options });
  opened.push(r);
  return r;
}

// ---------------------------------------------------------------------------------
// Packets: three corpus files, one per interface, with the labels of DESIGN §3.

const iface = (id: number, host: string | null, netns: string | null, name: string, linktype: number) =>
  ({
    id,
    host,
    netns,
    name,
    label: `${host !== null ? `${host}:` : ''}${netns !== null ? `${netns}/` : ''}${name}`,
    linktype,
    snaplen: 262144,
    tsResolutionNs: 1,
  }) satisfies InterfaceDescriptor;

const INTERFACES = [
  iface(0, 'compute', 'qrouter-6f77', 'qr-56c70d72-3b', 1),
  iface(1, null, null, 'br100', 1),
  iface(2, 'root@compute2', null, 'tap7aa08012-d0', 101),
];
const SOURCES = ['5-pings.pcap', 'vxlan.pcap', 'LINKTYPE_RAW_ipv4.pcap'];

interface StoredPacket {
  interfaceId: number;
  tsSec: number;
  tsNsec: number;
  len: number;
  bytes: Uint8Array;
  direction: number;
}

/** One round: every packet of the three files, merged by time, with nanosecond digits added. */
const round: StoredPacket[] = [];

beforeAll(async () => {
  for (const [i, file] of SOURCES.entries()) {
    await readCaptureFile(join(CORPUS, file), {
      onInterface: (ci) => expect(ci.linktype).toBe(INTERFACES[i].linktype),
      onPacket: (p) =>
        void round.push({
          interfaceId: i,
          tsSec: p.tsSec,
          // µs files: give every packet nanosecond digits of its own
          tsNsec: p.tsNsec + ((round.length * 37 + 1) % 1000),
          len: p.len,
          bytes: Uint8Array.from(p.data.subarray(p.offset, p.offset + p.caplen)),
          direction: round.length % 3,
        }),
    });
  }
  round.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  expect(round.length).toBe(21);
});

/** The first packet of the round on an interface. */
function onInterface(id: number): StoredPacket {
  return round.find((p) => p.interfaceId === id) as StoredPacket;
}

/** What tshark prints for a packet: interface name, epoch time, length. */
interface Row {
  label: string;
  ts: string;
  len: number;
}

/**
 * Writes packets through one reused FramedPacket whose bytes sit at an offset in one
 * reused buffer that is scribbled over after every call, as a source's batch buffer is.
 */
function writer(recorder: PcapngRecorder): (p: StoredPacket, shiftSec?: number) => Row {
  const scratch = new Uint8Array(70000);
  const framed: FramedPacket = {
    interfaceId: 0,
    tsSec: 0,
    tsNsec: 0,
    caplen: 0,
    len: 0,
    data: scratch,
    offset: 3,
    direction: 0,
  };
  return (p, shiftSec = 0) => {
    scratch.set(p.bytes, 3);
    framed.interfaceId = p.interfaceId;
    framed.tsSec = p.tsSec + shiftSec;
    framed.tsNsec = p.tsNsec;
    framed.caplen = p.bytes.length;
    framed.len = p.len;
    framed.direction = p.direction;
    recorder.writePacket(framed);
    scratch.fill(0xee, 0, p.bytes.length + 6);
    return {
      label: INTERFACES[p.interfaceId].label,
      ts: formatTimestamp(framed.tsSec, p.tsNsec),
      len: p.len,
    };
  };
}

function tsharkRows(path: string): { rows: Row[]; status: number | null; stderr: string } {
  const r = spawnSync(
    'tshark',
    [
      '-r',
      path,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-e',
      'frame.interface_name',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.len',
    ],
    { encoding: 'utf8' },
  );
  const rows = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [label, ts, len] = l.split('\t');
      return { label, ts, len: Number(len) };
    });
  // tshark's warning about running as root is not about the file
  const stderr = r.stderr.replace(/^Running as user "root".*\n/m, '');
  return { rows, status: r.status, stderr };
}

/** tshark's rows of a file it must read without complaint. */
function tshark(path: string): Row[] {
  const r = tsharkRows(path);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.rows;
}

function capinfos(path: string): string {
  const r = spawnSync('capinfos', ['-M', path], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout;
}

/** Our own reader's view: interface names in order, final statistics, packet count. */
function readBack(path: string): { names: (string | null)[]; stats: InterfaceStats[]; packets: number } {
  const { seen, handlers } = collector();
  readCaptureBytes(readFileSync(path), handlers);
  return {
    names: seen.interfaces.map((i) => i.name),
    stats: seen.stats.filter((s) => s.final),
    packets: seen.packets.length,
  };
}

const mode = (path: string): number => statSync(path).mode & 0o777;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const NS_TIMESTAMP = /^\d{10}\.\d{9}$/;

// ---------------------------------------------------------------------------------

describe('pcapng recorder: one file, every interface', () => {
  const path = join(dir, 'session.pcapng');
  const expected: Row[] = [];
  const finalStats: InterfaceStats[] = [
    { interfaceId: 0, received: 1234, dropped: 5, final: true },
    { interfaceId: 1, received: 77, dropped: 0, final: true },
    { interfaceId: 2, received: 1, dropped: 3, ifDropped: 9, final: true },
  ];

  beforeAll(async () => {
    const recorder = open({ path });
    for (const i of INTERFACES) recorder.addInterface(i);
    const write = writer(recorder);
    for (const p of round) {
      expected.push(write(p));
      // counters arrive as the capture goes; the ISB carries the latest
      recorder.updateStats({ interfaceId: p.interfaceId, received: 1, dropped: 1, final: false });
    }
    for (const s of finalStats) recorder.updateStats(s);
    expect(recorder.packetsWritten).toBe(21);
    await recorder.close();
    expect(recorder.files).toEqual([path]);
    expect(recorder.currentPath).toBe(path);
    expect(recorder.bytesWritten).toBe(statSync(path).size);
  });

  it('tshark reads the same packets, with the labels and nanosecond timestamps', () => {
    const rows = tshark(path);
    expect(rows).toEqual(expected);
    expect(new Set(rows.map((r) => r.label))).toEqual(new Set(INTERFACES.map((i) => i.label)));
    for (const r of rows) expect(r.ts).toMatch(NS_TIMESTAMP);
    // not all multiples of 1000: the nanoseconds survived
    expect(rows.filter((r) => !r.ts.endsWith('000')).length).toBeGreaterThan(15);
  });

  it('declares one interface per label, nanosecond resolution, and one ISB each', () => {
    const info = capinfos(path);
    expect(info).toMatch(/File type:\s+pcapng/);
    expect(info).toMatch(/Number of packets:\s+21/);
    expect(info).toMatch(/Number of interfaces in file: 3/);
    for (const i of INTERFACES) expect(info).toContain(`Name = ${i.label}`);
    expect(info.match(/Time precision = nanoseconds/g)?.length).toBe(3);
    expect(info.match(/Number of stat entries = 1/g)?.length).toBe(3);
  });

  it('the ISBs carry the latest received/dropped counters', () => {
    const back = readBack(path);
    expect(back.names).toEqual(INTERFACES.map((i) => i.label));
    // ifDropped has no block field of its own (see pcapng-writer.ts)
    expect(back.stats).toEqual(
      finalStats.map(({ interfaceId, received, dropped }) => ({
        interfaceId,
        received,
        dropped,
        final: true,
      })),
    );
  });

  it('the bytes are the packets given, not what the caller wrote into its buffer afterwards', () => {
    const { seen, handlers } = collector();
    readCaptureBytes(readFileSync(path), handlers);
    expect(seen.packets.map((p) => p.bytes)).toEqual(round.map((p) => Buffer.from(p.bytes).toString('hex')));
    expect(seen.packets.map((p) => p.direction)).toEqual(round.map((p) => p.direction));
  });

  it('is mode 0600', () => {
    expect(mode(path)).toBe(0o600);
  });
});

describe('pcapng recorder: file mode, path and errors', () => {
  it('creates 0600 with umask 0, and makes an existing 0644 file 0600 (overwriting it, as tcpdump)', async () => {
    const old = process.umask(0);
    try {
      const fresh = join(dir, 'umask0.pcapng');
      const r1 = open({ path: fresh });
      expect(mode(fresh)).toBe(0o600);
      await r1.close();
      expect(mode(fresh)).toBe(0o600);

      const existing = join(dir, 'existing.pcapng');
      writeFileSync(existing, 'not a capture, and readable by everyone');
      chmodSync(existing, 0o644);
      const r2 = open({ path: existing });
      expect(mode(existing)).toBe(0o600);
      r2.addInterface(INTERFACES[1]);
      writer(r2)(onInterface(1));
      await r2.close();
      expect(mode(existing)).toBe(0o600);
      expect(tshark(existing)).toHaveLength(1);
    } finally {
      process.umask(old);
    }
  });

  it('without a path, records under capturesDir (created) as hopscope-YYYYMMDD-HHMMSS.pcapng in UTC', async () => {
    const capturesDir = join(dir, 'fresh', 'captures');
    expect(existsSync(capturesDir)).toBe(false);
    const now = (): Date => new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(defaultRecordingStem(now())).toBe('hopscope-20240102-030405');
    const r1 = open({ path: null, capturesDir, now });
    expect(r1.currentPath).toBe(join(capturesDir, 'hopscope-20240102-030405.pcapng'));
    r1.addInterface(INTERFACES[0]);
    writer(r1)(onInterface(0));
    await r1.close();
    expect(mode(r1.currentPath)).toBe(0o600);
    expect(tshark(r1.currentPath)).toHaveLength(1);
    // another recording in the same second keeps the first
    const r2 = open({ capturesDir, now });
    expect(r2.currentPath).toBe(join(capturesDir, 'hopscope-20240102-030405_2.pcapng'));
    await r2.close();
    expect(readdirSync(capturesDir).sort()).toEqual([
      'hopscope-20240102-030405.pcapng',
      'hopscope-20240102-030405_2.pcapng',
    ]);
    // the real clock gives a name of that shape too
    const r3 = open({ capturesDir });
    expect(r3.currentPath).toMatch(/\/hopscope-\d{8}-\d{6}\.pcapng$/);
    await r3.close();
  });

  it("a further recording of the run (the TUI's r) goes next to -w FILE and never over a file", () => {
    const base = join(dir, 'take.pcapng');
    writeFileSync(base, '');
    expect(nextRecordingPath(base)).toBe(join(dir, 'take.2.pcapng'));
    writeFileSync(join(dir, 'take.2.pcapng'), '');
    expect(nextRecordingPath(base)).toBe(join(dir, 'take.3.pcapng'));
    expect(nextRecordingPath(join(dir, 'noext'))).toBe(join(dir, 'noext.2'));
    // --record: a new timestamped name under captures/ (the recorder picks it)
    expect(nextRecordingPath(null)).toBeNull();
  });

  it('says which path it could not create, and why', () => {
    const missing = join(dir, 'no-such-dir', 'x.pcapng');
    expect(() => open({ path: missing })).toThrow(
      `cannot create recording ${missing}: directory ${join(dir, 'no-such-dir')} does not exist`,
    );
    expect(() => open({ path: dir })).toThrow(RecordingError);
    expect(() => open({ path: dir })).toThrow(`cannot create recording ${dir}:`);
    const err = ((): unknown => {
      try {
        open({ path: missing });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(RecordingError);
    expect((err as RecordingError).code).toBe('ENOENT');
    expect((err as RecordingError).path).toBe(missing);
    // a full disk: the file header cannot even be written (and the fd is not left open)
    const fds = readdirSync('/proc/self/fd').length;
    expect(() => open({ path: '/dev/full' })).toThrow(
      'cannot write recording /dev/full: no space left on device',
    );
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
  });

  it('records to /dev/null without changing its mode', async () => {
    const before = mode('/dev/null');
    const r = open({ path: '/dev/null' });
    r.addInterface(INTERFACES[0]);
    writer(r)(onInterface(0));
    await r.close();
    expect(mode('/dev/null')).toBe(before);
    expect(mode('/dev/full')).toBe(0o666);
  });

  it('reserves its write buffers up front for a file, not for a device; a shared pool serves the next recording', async () => {
    const pool = new BufferPool();
    const dev = open({ path: '/dev/null', pool, reserveBytes: 1 << 20 });
    expect(pool.bytes).toBe(0);
    await dev.close();
    const r = open({ path: join(dir, 'reserved.pcapng'), pool, reserveBytes: 1 << 20, bufferSize: 64 << 10 });
    expect(pool.bytes).toBe(1 << 20);
    for (const i of INTERFACES) r.addInterface(i);
    const write = writer(r);
    const expected = [0, 1, 2, 2, 1, 0].map((id) => write(onInterface(id)));
    await r.close();
    expect(tshark(join(dir, 'reserved.pcapng'))).toEqual(expected);
    // the buffers went out and came back: the next recording finds them all
    await new Promise((done) => setTimeout(done, 50));
    expect(pool.bytes).toBeGreaterThanOrEqual(1 << 20);
    const next = open({
      path: join(dir, 'reserved-2.pcapng'),
      pool,
      reserveBytes: 1 << 20,
      bufferSize: 64 << 10,
    });
    expect(pool.bytes).toBeGreaterThanOrEqual(1 << 20);
    await next.close();
  });

  it('rejects ring-buffer options that make no sense', () => {
    expect(() => open({ path: join(dir, 'o.pcapng'), maxFiles: 3 })).toThrow(
      'maxFiles (--max-files) needs maxSizeBytes',
    );
    expect(() => open({ path: join(dir, 'o.pcapng'), maxSizeBytes: 0 })).toThrow(
      'maxSizeBytes must be a positive',
    );
    expect(() => open({ path: join(dir, 'o.pcapng'), maxSizeBytes: 1e6, maxFiles: 1.5 })).toThrow(
      'maxFiles must be a positive integer',
    );
    expect(() => open({ path: join(dir, 'o.pcapng'), flushIntervalMs: -1 })).toThrow('flushIntervalMs');
  });

  it('close is idempotent, closeSync and close mix, and packets after close are counted, not written', async () => {
    const path = join(dir, 'idempotent.pcapng');
    const r = open({ path });
    r.addInterface(INTERFACES[0]);
    const write = writer(r);
    write(onInterface(0));
    r.closeSync();
    r.closeSync();
    await r.close();
    write(onInterface(0)); // a source's last batch arriving during shutdown
    r.updateStats({ interfaceId: 0, received: 1, dropped: 0, final: true });
    r.addInterface(INTERFACES[1]);
    expect(r.isClosed).toBe(true);
    expect(r.packetsWritten).toBe(1);
    expect(r.packetsIgnored).toBe(1);
    expect(tshark(path)).toHaveLength(1);
  });

  it('refuses a packet on an interface it was not told of', async () => {
    const r = open({ path: join(dir, 'unknown-iface.pcapng') });
    expect(() => writer(r)(onInterface(0))).toThrow('packet on interface 0, which was not added');
    await r.close();
  });
});

describe('pcapng recorder: flushing (a crash loses at most the flush interval)', () => {
  it('packets reach the file within flushIntervalMs, without close', async () => {
    const path = join(dir, 'flush.pcapng');
    const r = open({ path, flushIntervalMs: 200 });
    for (const i of INTERFACES) r.addInterface(i);
    const write = writer(r);
    const expected = round.map((p) => write(p));
    // still in the recorder's buffer: the file holds the header only
    expect(tshark(path)).toEqual([]);
    await sleep(500);
    // read by another process while the recorder is still open
    expect(tshark(path)).toEqual(expected);
    await r.close();
  });

  it('many small flushes while earlier ones are still being written: every byte lands in order', async () => {
    // Small chunks flushed 4,000 times, many queued behind the one being written, the
    // event loop turning now and then so writes land and their chunks are reused for
    // later copies: a chunk reused too early would put one flush's bytes in another's place.
    const path = join(dir, 'reused-chunks.pcapng');
    const r = open({ path, flushIntervalMs: 60_000, bufferSize: 4096 });
    r.addInterface(INTERFACES[1]);
    const data = new Uint8Array(300);
    const framed: FramedPacket = {
      interfaceId: 1,
      tsSec: 1_700_000_000,
      tsNsec: 0,
      caplen: 0,
      len: 0,
      data,
      offset: 0,
      direction: 0,
    };
    for (let i = 0; i < 20_000; i++) {
      // every packet's bytes say which packet it is
      const caplen = 60 + (i % 200);
      for (let k = 0; k < caplen; k++) data[k] = (i * 7 + k) & 0xff;
      framed.caplen = caplen;
      framed.len = caplen;
      framed.tsNsec = i;
      r.writePacket(framed);
      // a flush every 5 packets, the loop turning every 200: ~40 chunks queued at a time
      if (i % 5 === 0) r.flush();
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await r.close();
    const { seen, handlers } = collector();
    readCaptureBytes(readFileSync(path), handlers);
    expect(seen.packets).toHaveLength(20_000);
    seen.packets.forEach((p, i) => {
      const caplen = 60 + (i % 200);
      const want = Buffer.alloc(caplen);
      for (let k = 0; k < caplen; k++) want[k] = (i * 7 + k) & 0xff;
      if (p.bytes !== want.toString('hex')) expect.fail(`packet ${i} differs`);
    });
  });

  it('flush() hands packets to the kernel at once', async () => {
    const path = join(dir, 'flush-now.pcapng');
    const r = open({ path, flushIntervalMs: 60_000 });
    r.addInterface(INTERFACES[1]);
    writer(r)(onInterface(1));
    r.flush();
    expect(tshark(path)).toHaveLength(1);
    await r.close();
  });
});

describe('pcapng recorder: a write that fails', () => {
  /** A recorder writing into a FIFO read by `cat`, which the test can kill (EPIPE afterwards). */
  async function intoFifo(
    name: string,
    onError?: (err: RecordingError) => void,
  ): Promise<{ r: PcapngRecorder; stopReader: () => Promise<void> }> {
    const fifo = join(dir, name);
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'ignore', 'ignore'] });
    const r = open({ path: fifo, flushIntervalMs: 100, ...(onError !== undefined ? { onError } : {}) });
    r.addInterface(INTERFACES[1]);
    return {
      r,
      stopReader: () =>
        new Promise<void>((resolve) => {
          reader.on('close', () => resolve());
          reader.kill('SIGKILL');
        }),
    };
  }

  it('from the flush timer: stops recording, tells onError once, then writePacket throws', async () => {
    const errors: RecordingError[] = [];
    const { r, stopReader } = await intoFifo('fifo-onerror', (e) => errors.push(e));
    await stopReader();
    const write = writer(r);
    write(onInterface(1));
    await sleep(400);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RecordingError);
    expect(errors[0].code).toBe('EPIPE');
    expect(errors[0].message).toContain(`cannot write recording ${join(dir, 'fifo-onerror')}`);
    expect(r.isClosed).toBe(true);
    expect(() => write(onInterface(1))).toThrow(errors[0]);
    r.closeSync(); // already told: no second throw
  });

  it('from the flush timer without onError: the next close() throws it, once', async () => {
    const { r, stopReader } = await intoFifo('fifo-close');
    await stopReader();
    writer(r)(onInterface(1));
    await sleep(400);
    await expect(r.close()).rejects.toThrow(/cannot write recording .*fifo-close/);
    await r.close();
  });
});

// ---------------------------------------------------------------------------------
// A recorder in another process: killed, or closed from its signal handlers.

const LOADER = pathToFileURL(join(import.meta.dirname, '../fuzz/ts-loader.mjs')).href;
const RECORDER = pathToFileURL(join(import.meta.dirname, '../../src/sinks/pcapng-recorder.ts')).href;
const BASE_SEC = 1700000000;

/**
 * The child records one packet every 20 ms on `br100` (packet n has timestamp
 * BASE_SEC + n, n ns) and prints `n <Date.now()>` after writing it. `how` says how it
 * ends: `kill` (it does not, the parent SIGKILLs it), `sigterm` (close() in the SIGTERM
 * handler), `exit` (SIGINT handler calls process.exit; closeSync() in 'exit').
 */
const CHILD = `
import { register } from 'node:module';
register(${JSON.stringify(LOADER)});
const { PcapngRecorder } = await import(${JSON.stringify(RECORDER)});
const [path, how] = process.argv.slice(2);
const rec = PcapngRecorder.open({ path, capturesDir: '/nonexistent' });
rec.addInterface({ id: 0, host: null, netns: null, name: 'br100', label: 'br100', linktype: 1, snaplen: 262144 });
const data = new Uint8Array(64).fill(0x5a);
const p = { interfaceId: 0, tsSec: 0, tsNsec: 0, caplen: 60, len: 60, data, offset: 2, direction: 0 };
let n = 0;
setInterval(() => {
  n++;
  p.tsSec = ${BASE_SEC} + n;
  p.tsNsec = n;
  rec.writePacket(p);
  rec.updateStats({ interfaceId: 0, received: n + 1000, dropped: 7, final: false });
  process.stdout.write(n + ' ' + Date.now() + '\\n');
}, 20);
if (how === 'sigterm') process.on('SIGTERM', () => void rec.close().then(() => process.exit(0)));
if (how === 'exit') {
  process.on('exit', () => rec.closeSync());
  process.on('SIGINT', () => process.exit(0));
}
`;

interface ChildRun {
  written: Array<{ n: number; at: number }>;
  signalledAt: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runChild(path: string, how: 'kill' | 'sigterm' | 'exit', runMs: number): Promise<ChildRun> {
  const script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, how], { stdio: ['ignore', 'pipe', 'pipe'] });
    const written: ChildRun['written'] = [];
    let stdout = '';
    let stderr = '';
    let signalledAt = 0;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const lines = stdout.split('\n');
      stdout = lines.pop() ?? '';
      for (const l of lines) {
        const [n, at] = l.split(' ').map(Number);
        written.push({ n, at });
        if (n === 1) {
          setTimeout(() => {
            signalledAt = Date.now();
            child.kill(how === 'kill' ? 'SIGKILL' : how === 'sigterm' ? 'SIGTERM' : 'SIGINT');
          }, runMs);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`recorder child did not finish: ${stderr}`));
    }, runMs + 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ written, signalledAt, code, signal, stderr });
    });
  });
}

describe('pcapng recorder in a process that is killed or signalled', () => {
  it('SIGKILL after >1 s leaves a file tshark reads, with every packet written ≥1 s before the kill', async () => {
    const path = join(dir, 'killed.pcapng');
    const run = await runChild(path, 'kill', 2500);
    expect(run.signal).toBe('SIGKILL');
    expect(run.stderr).toBe('');
    const { rows, stderr } = tsharkRows(path);
    // the file ends on a block boundary: no "cut short" complaint expected, but allowed
    if (stderr !== '') expect(stderr).toMatch(/cut short|truncated/i);
    const recorded = new Set(rows.map((r) => Math.round(Number(r.ts)) - BASE_SEC));
    for (const r of rows) expect(r.label).toBe('br100');
    // The guarantee is one flush interval (1 s); 100 ms more for timer scheduling.
    const mustHave = run.written.filter((w) => w.at <= run.signalledAt - 1100);
    expect(mustHave.length).toBeGreaterThan(40);
    for (const w of mustHave)
      expect(recorded.has(w.n), `packet ${w.n} written ${run.signalledAt - w.at} ms before the kill`).toBe(
        true,
      );
    // and nothing that was never written; packets in order, none twice
    expect([...recorded]).toEqual(run.written.slice(0, recorded.size).map((w) => w.n));
    expect(rows).toHaveLength(recorded.size);
    expect(mode(path)).toBe(0o600);
  });

  it('close() from a SIGTERM handler writes every packet and the ISB', async () => {
    const path = join(dir, 'sigterm.pcapng');
    const run = await runChild(path, 'sigterm', 300);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const rows = tshark(path);
    expect(rows).toHaveLength(run.written.length);
    const back = readBack(path);
    expect(back.stats).toEqual([
      { interfaceId: 0, received: run.written.length + 1000, dropped: 7, final: true },
    ]);
  });

  it("closeSync() from process.on('exit') (SIGINT → process.exit) writes every packet and the ISB", async () => {
    const path = join(dir, 'sigint-exit.pcapng');
    const run = await runChild(path, 'exit', 300);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(tshark(path)).toHaveLength(run.written.length);
    expect(readBack(path).stats).toEqual([
      { interfaceId: 0, received: run.written.length + 1000, dropped: 7, final: true },
    ]);
  });
});

// ---------------------------------------------------------------------------------

describe('pcapng recorder: ring buffer (--max-size, --max-files)', () => {
  const ROUNDS = 6;

  /** Writes ROUNDS rounds (each shifted by 1000 s) with statistics; returns what tshark should see. */
  function record(r: PcapngRecorder): Row[] {
    for (const i of INTERFACES) r.addInterface(i);
    const write = writer(r);
    const rows: Row[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      for (const p of round) {
        rows.push(write(p, k * 1000));
        r.updateStats({ interfaceId: p.interfaceId, received: rows.length, dropped: k, final: false });
      }
    }
    return rows;
  }

  it('rotates into name.pcapng, name-1.pcapng, ... each complete, none over the size, no packet lost', async () => {
    const path = join(dir, 'ring', 'ring.pcapng');
    mkdirSync(join(dir, 'ring'));
    const maxSizeBytes = 4000;
    const r = open({ path, maxSizeBytes });
    const expected = record(r);
    await r.close();

    const files = r.files;
    expect(files.length).toBeGreaterThan(5);
    expect(files).toEqual(
      files.map((_, k) => join(dir, 'ring', k === 0 ? 'ring.pcapng' : `ring-${k}.pcapng`)),
    );
    expect(files).toEqual(files.map((_, k) => recordingFilePath(path, k)));
    expect(readdirSync(join(dir, 'ring')).sort()).toEqual(
      files.map((f) => f.slice(join(dir, 'ring').length + 1)).sort(),
    );
    expect(r.currentPath).toBe(files[files.length - 1]);

    const seen: Row[] = [];
    let bytes = 0;
    for (const f of files) {
      const rows = tshark(f);
      expect(rows.length).toBeGreaterThan(0);
      seen.push(...rows);
      const size = statSync(f).size;
      bytes += size;
      if (rows.length > 1) expect(size).toBeLessThanOrEqual(maxSizeBytes);
      expect(mode(f)).toBe(0o600);
      // every file declares every interface, in the same order, and closes with their ISBs
      const back = readBack(f);
      expect(back.names).toEqual(INTERFACES.map((i) => i.label));
      expect(back.stats.map((s) => s.interfaceId)).toEqual([0, 1, 2]);
      expect(capinfos(f)).toMatch(/Number of interfaces in file: 3/);
    }
    expect(seen).toEqual(expected);
    expect(r.packetsWritten).toBe(expected.length);
    expect(r.bytesWritten).toBe(bytes);
  });

  it('with --max-files N keeps the N most recent files, each complete, holding the last packets', async () => {
    const path = join(dir, 'ring3', 'ring');
    mkdirSync(join(dir, 'ring3'));
    const r = open({ path, maxSizeBytes: 4000, maxFiles: 3 });
    const expected = record(r);
    await r.close();

    const files = r.files;
    expect(files).toHaveLength(3);
    const last = Number(/-(\d+)$/.exec(files[2])?.[1]);
    expect(last).toBeGreaterThanOrEqual(5);
    // no extension: `-N` appended
    expect(files).toEqual([`${path}-${last - 2}`, `${path}-${last - 1}`, `${path}-${last}`]);
    expect(readdirSync(join(dir, 'ring3')).sort()).toEqual([
      `ring-${last - 2}`,
      `ring-${last - 1}`,
      `ring-${last}`,
    ]);

    const seen = files.flatMap((f) => {
      expect(readBack(f).names).toEqual(INTERFACES.map((i) => i.label));
      return tshark(f);
    });
    expect(seen).toEqual(expected.slice(expected.length - seen.length));
    expect(r.packetsWritten).toBe(expected.length);
  });

  it('an interface added mid-recording is declared in its file and every later one, ids unchanged', async () => {
    const path = join(dir, 'late.pcapng');
    const r = open({ path, maxSizeBytes: 3000 });
    r.addInterface(INTERFACES[1]);
    r.addInterface(INTERFACES[0]);
    const write = writer(r);
    const expected: Row[] = [];
    for (const p of round) if (p.interfaceId !== 2) expected.push(write(p));
    const before = r.files.length;
    expect(before).toBeGreaterThan(1);
    r.addInterface(INTERFACES[2]);
    for (let k = 1; k < 4; k++) for (const p of round) expected.push(write(p, k * 1000));
    await r.close();
    expect(r.files.length).toBeGreaterThan(before + 1);
    const seen: Row[] = [];
    r.files.forEach((f, k) => {
      const names = readBack(f).names;
      if (k < before - 1) expect(names).toEqual([INTERFACES[1].label, INTERFACES[0].label]);
      if (k >= before) expect(names).toEqual([INTERFACES[1].label, INTERFACES[0].label, INTERFACES[2].label]);
      seen.push(...tshark(f));
    });
    expect(seen).toEqual(expected);
  });

  it('a packet larger than --max-size gets a file of its own', async () => {
    const path = join(dir, 'tiny.pcapng');
    const r = open({ path, maxSizeBytes: 100 });
    for (const i of INTERFACES) r.addInterface(i);
    const write = writer(r);
    const expected = round.slice(0, 4).map((p) => write(p));
    await r.close();
    expect(r.files).toHaveLength(4);
    expect(r.files.flatMap((f) => tshark(f))).toEqual(expected);
  });
});
