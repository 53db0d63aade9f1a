// The `-w` recorder as an operator checks it: tshark reads every recording back with
// the same packets, interface labels and nanosecond timestamps; files are 0600, made
// without following a link or clobbering a file; a killed recorder leaves a readable file
// holding what it wrote a second before; the ring buffer's files are each complete; a
// full disk stops the recording at its last whole block without throwing.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FramedPacket, InterfaceDescriptor, InterfaceStats } from '../../src/events/types.js';
import { formatTimestamp, readCaptureBytes, readCaptureFile } from '../../src/framing/index.js';
import {
  PcapngRecorder,
  type PcapngRecorderOptions,
  type RecordingStop,
} from '../../src/sinks/pcapng-recorder.js';
import { RecordingError } from '../../src/sinks/recording-error.js';
import {
  defaultRecordingSeries,
  defaultRecordingStem,
  nextRecordingSeries,
  recordingFilePath,
} from '../../src/sinks/recording-names.js';
import { BufferPool } from '../../src/sinks/buffer-pool.js';
import { requireRoot } from '../lab/support/lab-env.js';
import { collector } from '../framing/support.js';
import { tsharkFields } from '../support/tshark-fields.js';

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

function open(options: PcapngRecorderOptions): PcapngRecorder {
  const r = PcapngRecorder.open({ directory: dir, ...options });
  opened.push(r);
  return r;
}

// ---------------------------------------------------------------------------------
// Packets: three corpus files, one per interface, with labels as docs/json-lines.md writes them.

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
    addresses: [],
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
  const r = tsharkFields(path, ['frame.interface_name', 'frame.time_epoch', 'frame.len']);
  return { ...r, rows: r.rows.map(([label, ts, len]) => ({ label, ts, len: Number(len) })) };
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
  it('creates 0600 with umask 0', async () => {
    const old = process.umask(0);
    try {
      const fresh = join(dir, 'umask0.pcapng');
      const r1 = open({ path: fresh });
      expect(mode(fresh)).toBe(0o600);
      await r1.close();
      expect(mode(fresh)).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('refuses an existing file; with overwrite, replaces it and makes it 0600', async () => {
    const existing = join(dir, 'existing.pcapng');
    writeFileSync(existing, 'not a capture, and readable by everyone');
    chmodSync(existing, 0o644);
    const refused = ((): unknown => {
      try {
        open({ path: existing });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(refused).toBeInstanceOf(RecordingError);
    expect((refused as RecordingError).code).toBe('EEXIST');
    expect((refused as RecordingError).message).toBe(
      `${existing} exists (give --overwrite to replace it, or another name)`,
    );
    expect(readFileSync(existing, 'utf8')).toBe('not a capture, and readable by everyone');
    expect(mode(existing)).toBe(0o644);

    const r = open({ path: existing, overwrite: true });
    expect(mode(existing)).toBe(0o600);
    r.addInterface(INTERFACES[1]);
    writer(r)(onInterface(1));
    await r.close();
    expect(mode(existing)).toBe(0o600);
    expect(tshark(existing)).toHaveLength(1);
  });

  it('never follows a symbolic link, with overwrite or without, dangling or not', () => {
    const target = join(dir, 'link-target');
    writeFileSync(target, 'kept');
    const link = join(dir, 'link.pcapng');
    symlinkSync(target, link);
    const dangling = join(dir, 'dangling.pcapng');
    symlinkSync(join(dir, 'never-made'), dangling);
    for (const path of [link, dangling]) {
      for (const overwrite of [false, true]) {
        expect(() => open({ path, overwrite })).toThrow(`${path} is a symbolic link; not following it`);
      }
    }
    expect(readFileSync(target, 'utf8')).toBe('kept');
    expect(existsSync(join(dir, 'never-made'))).toBe(false);
  });

  it('without a path, records in the directory as hopscope-YYYYMMDD-HHMMSS.pcapng in UTC, never over another', async () => {
    const directory = join(dir, 'default-names');
    mkdirSync(directory);
    const now = (): Date => new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(defaultRecordingStem(now())).toBe('hopscope-20240102-030405');
    const r1 = open({ path: null, directory, now });
    expect(r1.currentPath).toBe(join(directory, 'hopscope-20240102-030405.pcapng'));
    r1.addInterface(INTERFACES[0]);
    writer(r1)(onInterface(0));
    await r1.close();
    expect(mode(r1.currentPath)).toBe(0o600);
    expect(tshark(r1.currentPath)).toHaveLength(1);
    // another recording in the same second keeps the first
    const r2 = open({ directory, now });
    expect(r2.currentPath).toBe(join(directory, 'hopscope-20240102-030405_2.pcapng'));
    await r2.close();
    // another capture of that second creating its file after this one listed the
    // directory: the name it took is not written over, the next one is taken
    const racing = join(directory, 'race');
    mkdirSync(racing);
    const listed = defaultRecordingSeries(racing, now());
    writeFileSync(join(racing, 'hopscope-20240102-030405.pcapng'), 'the other capture');
    const raced = open({ series: listed });
    expect(raced.currentPath).toBe(join(racing, 'hopscope-20240102-030405_2.pcapng'));
    await raced.close();
    expect(readFileSync(join(racing, 'hopscope-20240102-030405.pcapng'), 'utf8')).toBe('the other capture');
    // a ring of that second whose first file is gone (--max-files) keeps its name too
    writeFileSync(join(directory, 'hopscope-20240102-030405_3-4.pcapng'), '');
    const r3 = open({ directory, now });
    expect(r3.currentPath).toBe(join(directory, 'hopscope-20240102-030405_4.pcapng'));
    await r3.close();
    expect(readdirSync(directory).sort()).toEqual([
      'hopscope-20240102-030405.pcapng',
      'hopscope-20240102-030405_2.pcapng',
      'hopscope-20240102-030405_3-4.pcapng',
      'hopscope-20240102-030405_4.pcapng',
      'race',
    ]);
    expect(tshark(r1.currentPath)).toHaveLength(1);
    // the real clock gives a name of that shape too, and the working directory is the default
    const cwd = process.cwd();
    process.chdir(directory);
    try {
      const r4 = PcapngRecorder.open({});
      opened.push(r4);
      expect(r4.currentPath).toMatch(new RegExp(`^${directory}/hopscope-\\d{8}-\\d{6}(_\\d+)?\\.pcapng$`));
      await r4.close();
    } finally {
      process.chdir(cwd);
    }
  });

  it("a further recording of the run (the TUI's r) goes next to -w FILE and never over a file", async () => {
    const base = join(dir, 'take.pcapng');
    const series = nextRecordingSeries(base);
    expect([1, 2, 3].map(series)).toEqual([2, 3, 4].map((n) => join(dir, `take.${n}.pcapng`)));
    expect(nextRecordingSeries(join(dir, 'noext'))(1)).toBe(join(dir, 'noext.2'));
    writeFileSync(join(dir, 'take.2.pcapng'), 'someone else');
    symlinkSync(join(dir, 'take-victim'), join(dir, 'take.3.pcapng'));
    const r = open({ series });
    expect(r.currentPath).toBe(join(dir, 'take.4.pcapng'));
    await r.close();
    expect(readFileSync(join(dir, 'take.2.pcapng'), 'utf8')).toBe('someone else');
    expect(existsSync(join(dir, 'take-victim'))).toBe(false);
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
    onStop?: (stop: RecordingStop) => void,
  ): Promise<{ r: PcapngRecorder; stopReader: () => Promise<void> }> {
    const fifo = join(dir, name);
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'ignore', 'ignore'] });
    const r = open({ path: fifo, flushIntervalMs: 100, ...(onStop !== undefined ? { onStop } : {}) });
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

  it('from the flush timer: stops recording, tells onStop once; later packets and close() do not throw', async () => {
    const stops: RecordingStop[] = [];
    const { r, stopReader } = await intoFifo('fifo-onstop', (s) => stops.push(s));
    await stopReader();
    const write = writer(r);
    write(onInterface(1));
    for (let i = 0; i < 200 && stops.length === 0; i++) await sleep(20);
    expect(stops).toEqual([
      {
        path: join(dir, 'fifo-onstop'),
        reason: 'broken pipe (its reader is gone)',
        code: 'EPIPE',
        packets: 0,
        bytes: expect.any(Number) as number,
        // a pipe cannot be cut back: what its reader got is not known to end on a block
        complete: false,
      },
    ]);
    expect(r.isClosed).toBe(true);
    expect(r.stopped).toEqual(stops[0]);
    write(onInterface(1));
    expect(r.packetsIgnored).toBe(1);
    r.closeSync();
    await r.close();
    expect(stops).toHaveLength(1);
  });
});

describe('pcapng recorder: a full disk', () => {
  /** Runs `body` with a tmpfs of `size` mounted on a new directory, unmounted whatever happens. */
  async function onTmpfs(size: string, body: (mnt: string) => Promise<void>): Promise<void> {
    requireRoot();
    const mnt = mkdtempSync(join(dir, 'tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mnt]);
    try {
      await body(mnt);
      // every file on it closed: the pool's last write has landed
      await fdsClosedUnder(mnt);
    } finally {
      try {
        execFileSync('umount', [mnt]);
      } catch {
        execFileSync('umount', ['--lazy', mnt]); // still busy after a failure: never leave it mounted
      }
      rmSync(mnt, { recursive: true, force: true });
    }
  }

  /** Resolves once this process holds no file under `dir` open (10 s at most). */
  async function fdsClosedUnder(mnt: string): Promise<void> {
    const open = (): string[] =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(`${mnt}/`) ? [target] : [];
        } catch {
          return [];
        }
      });
    for (let i = 0; i < 1000 && open().length > 0; i++) await sleep(10);
    expect(open()).toEqual([]);
  }

  /** One packet of `caplen` bytes whose content says which it is; written through a recorder's writer. */
  function bigPacket(n: number, caplen: number): StoredPacket {
    const bytes = new Uint8Array(caplen);
    for (let k = 0; k < caplen; k++) bytes[k] = (n * 13 + k) & 0xff;
    return { interfaceId: 1, tsSec: 1_700_000_000 + n, tsNsec: n, len: caplen, bytes, direction: 0 };
  }

  /** Writes packets, letting the pool's writes land, until the recording stops; returns what was written. */
  async function fillUp(r: PcapngRecorder, caplen: number, stops: RecordingStop[]): Promise<Row[]> {
    const write = writer(r);
    const rows: Row[] = [];
    for (let n = 0; n < 100_000 && stops.length === 0; n++) {
      rows.push(write(bigPacket(n, caplen)));
      if (n % 8 === 0) await sleep(1);
    }
    expect(stops).toHaveLength(1);
    return rows;
  }

  /** The file is a pcapng tshark reads to its end, holding the first `stop.packets` packets written. */
  function expectCutBack(path: string, stop: RecordingStop, written: Row[]): void {
    expect(stop.complete).toBe(true);
    expect(statSync(path).size).toBe(stop.bytes);
    expect(tshark(path)).toEqual(written.slice(0, stop.packets));
    expect(capinfos(path)).toMatch(new RegExp(`Number of packets:\\s+${stop.packets}\\n`));
  }

  it('stops at the last whole block: the file cut back to it, onStop told, nothing thrown', async () => {
    await onTmpfs('1m', async (mnt) => {
      const path = join(mnt, 'full.pcapng');
      const stops: RecordingStop[] = [];
      const r = open({ path, bufferSize: 64 << 10, onStop: (s) => stops.push(s) });
      r.addInterface(INTERFACES[1]);
      const written = await fillUp(r, 1500, stops);
      expect(stops[0]).toMatchObject({ path, reason: 'no space left on device', code: 'ENOSPC' });
      expect(stops[0].packets).toBeGreaterThan(500);
      expectCutBack(path, stops[0], written);
      // packets keep coming: counted, not written; close() and closeSync() are quiet
      writer(r)(bigPacket(0, 100));
      await r.close();
      r.closeSync();
      expect(r.packetsWritten).toBe(stops[0].packets);
      expect(r.bytesWritten).toBe(stops[0].bytes);
      expect(stops).toHaveLength(1);
      expectCutBack(path, stops[0], written);
    });
  });

  it('packets larger than the writer buffer (written in pieces): still cut back to a whole block', async () => {
    await onTmpfs('256k', async (mnt) => {
      const path = join(mnt, 'pieces.pcapng');
      const stops: RecordingStop[] = [];
      const r = open({ path, bufferSize: 4096, onStop: (s) => stops.push(s) });
      r.addInterface(INTERFACES[1]);
      const written = await fillUp(r, 9000, stops);
      expectCutBack(path, stops[0], written);
      await r.close();
    });
  });

  it('close() that cannot write its last blocks: cut back to what landed, no throw', async () => {
    await onTmpfs('64k', async (mnt) => {
      const path = join(mnt, 'close.pcapng');
      const stops: RecordingStop[] = [];
      // everything stays in the writer's buffer until close: 100 KB for 64 KB of disk
      const r = open({ path, bufferSize: 1 << 20, flushIntervalMs: 60_000, onStop: (s) => stops.push(s) });
      r.addInterface(INTERFACES[1]);
      r.flush(); // the header and the interface block on disk
      const write = writer(r);
      const written = Array.from({ length: 100 }, (_, n) => write(bigPacket(n, 1000)));
      r.updateStats({ interfaceId: 1, received: 100, dropped: 0, final: true });
      expect(() => r.closeSync()).not.toThrow();
      expect(stops).toHaveLength(1);
      expect(stops[0].packets).toBe(0);
      expectCutBack(path, stops[0], written);
      expect(readBack(path).names).toEqual([INTERFACES[1].label]);
    });
  });

  it('a ring buffer on a full disk: the files before are complete, the last cut back', async () => {
    await onTmpfs('512k', async (mnt) => {
      const path = join(mnt, 'ring.pcapng');
      const stops: RecordingStop[] = [];
      const r = open({ path, maxSizeBytes: 100_000, bufferSize: 16 << 10, onStop: (s) => stops.push(s) });
      r.addInterface(INTERFACES[1]);
      const written = await fillUp(r, 1500, stops);
      const files = r.files;
      expect(files.length).toBeGreaterThan(3);
      expect(stops[0].path).toBe(files[files.length - 1]);
      const seen = files.flatMap((f) => tshark(f));
      expect(seen).toEqual(written.slice(0, stops[0].packets));
      expect(files.reduce((n, f) => n + statSync(f).size, 0)).toBe(stops[0].bytes);
      await r.close();
    });
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

  it('a number whose name is taken is skipped with a notice, never written over; overwrite replaces only regular files', async () => {
    for (const overwrite of [false, true]) {
      const sub = join(dir, `ring-taken-${overwrite}`);
      mkdirSync(sub);
      const path = join(sub, 'ring.pcapng');
      writeFileSync(join(sub, 'ring-2.pcapng'), 'an older ring');
      symlinkSync(join(sub, 'victim'), join(sub, 'ring-3.pcapng'));
      const notices: string[] = [];
      const r = open({ path, maxSizeBytes: 4000, overwrite, onNotice: (t) => notices.push(t) });
      const expected = record(r);
      await r.close();
      const files = r.files;
      expect(files.slice(0, 4)).toEqual(
        overwrite
          ? [path, join(sub, 'ring-1.pcapng'), join(sub, 'ring-2.pcapng'), join(sub, 'ring-4.pcapng')]
          : [path, join(sub, 'ring-1.pcapng'), join(sub, 'ring-4.pcapng'), join(sub, 'ring-5.pcapng')],
      );
      expect(notices).toEqual([
        ...(overwrite
          ? []
          : [`recording: skipped ${join(sub, 'ring-2.pcapng')} (it exists); going on with the next number`]),
        `recording: skipped ${join(sub, 'ring-3.pcapng')} (a symbolic link); going on with the next number`,
      ]);
      expect(files.flatMap((f) => tshark(f))).toEqual(expected);
      if (!overwrite) expect(readFileSync(join(sub, 'ring-2.pcapng'), 'utf8')).toBe('an older ring');
      expect(existsSync(join(sub, 'victim'))).toBe(false);
    }
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
