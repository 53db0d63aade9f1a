// The `-w` recording sink (DESIGN §2): everything captured, all interfaces in one
// pcapng file, written by framing's PcapngWriter:
//
//   SHB, one IDB per interface (if_name = its label, DESIGN §3; if_tsresol = its
//   source's resolution: 9, or 6 for µs stamps), EPBs with timestamps in those
//   units, and at close one ISB per interface with the
//   latest statistics given (isb_ifrecv, isb_ifdrop, isb_starttime, isb_endtime).
//
// Files are created with mode 0600 (captures hold other people's traffic) and made
// 0600 after opening when they existed with another mode; like tcpdump, an existing
// file is overwritten.
//
// Crash safety: blocks are gathered in the writer's buffer and handed to the kernel
// every `flushIntervalMs` (1 s by default; an unref'd timer), when the buffer fills,
// and at rotation and close — for a regular file by ordered positional writes on the
// thread pool (RecordingFile: a slow disk must not stall the capture), otherwise
// synchronously. A killed process (SIGKILL, a crash) thus
// loses at most the last interval of packets, and what it leaves is a pcapng that ends
// on a block boundary, readable by tshark (without ISBs). The file header and the
// IDBs known at open are handed over at once, so even an empty recording is valid.
// close() / closeSync() write the ISBs, flush, fsync and close; they are idempotent
// and synchronous underneath, so they are safe in SIGINT/SIGTERM handlers and (the
// sync one) in process.on('exit'). Signals themselves belong to the capture command.
//
// Ring buffer (`--max-size`, `--max-files`), tcpdump's -C/-W adapted: before a packet
// that would make the current file (with the ISBs its close will add) exceed
// maxSizeBytes, the file is closed complete — ISBs included — and the next one opened:
//
//   NAME.pcapng, NAME-1.pcapng, NAME-2.pcapng, ...   (the number before the extension;
//   a path without extension gets `-N` appended: rec, rec-1, rec-2, ...)
//
// Numbers only grow (tcpdump -W instead reuses names, which loses their order). With
// maxFiles N, opening a file deletes the oldest ones so that at most N remain. Every
// file is a complete pcapng on its own: SHB, the IDB of every interface added so far in
// the same order (so interface ids match across files), its packets, and ISBs. A file
// always takes at least one packet, so a packet larger than maxSizeBytes gets its own
// file rather than none. The ISB counters are the capture's (cumulative since it
// started), as pcap_stats gives them.
//
// Default path: with no path, recordings go to `<capturesDir>/hopscope-YYYYMMDD-HHMMSS.pcapng`
// (UTC, the directory created 0700 if missing); when a recording of that second
// already exists there, `_2`, `_3`, ... is added to the name rather than overwriting it.
//
// Buffer ownership (STYLE 5): writePacket copies the packet's bytes into the writer's
// buffer before returning — that is the one copy; nothing else is allocated per packet.

import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FramedPacket, InterfaceDescriptor, InterfaceStats } from '../events/types.js';
import { PcapngWriter, type WriterInterface } from '../framing/index.js';
import { BufferPool, errnoCode, reason, RecordingError, RecordingFile } from './recording-file.js';

/** Creating, writing or closing a recording failed; names the file and the errno code. */
export { RecordingError };

export const DEFAULT_FLUSH_INTERVAL_MS = 1000;

export interface PcapngRecorderOptions {
  /** `-w FILE`; null/undefined → `<capturesDir>/hopscope-YYYYMMDD-HHMMSS.pcapng` */
  path?: string | null;
  /** where recordings without a path go (the project's `captures/`) */
  capturesDir: string;
  /** rotate before a file would exceed this many bytes (ring buffer); none by default */
  maxSizeBytes?: number;
  /** keep at most this many files, deleting the oldest (needs maxSizeBytes) */
  maxFiles?: number;
  /** hand buffered packets to the kernel at least this often (default 1000 ms) */
  flushIntervalMs?: number;
  /**
   * Called once when writing fails outside any call of the caller's (the flush timer);
   * the recorder then stops recording. Without it, the error is thrown by the next
   * writePacket() or close().
   */
  onError?: (err: RecordingError) => void;
  /** wall clock for the default file name (tests pin it) */
  now?: () => Date;
  /** bytes the writer buffers between flushes (PcapngWriter's default otherwise) */
  bufferSize?: number;
  /** the Section Header Block's comment, in every file of a ring buffer */
  comment?: string;
  /**
   * Where the files' write buffers come from and go back to (RecordingFile): a capture
   * gives all its recordings one, so a recording started later finds them ready.
   */
  pool?: BufferPool;
  /**
   * Buffers to have ready (pages touched) before the first packet, in bytes: a live
   * capture's first burst then costs no page faults (see recording-file.ts).
   */
  reserveBytes?: number;
}

/**
 * The path of file number `n` of a recording (0 is the path itself): `name.pcapng` →
 * `name-1.pcapng`, `name-2.pcapng`, ...; a path without extension gets `-n` appended.
 */
export function recordingFilePath(path: string, n: number): string {
  if (n === 0) return path;
  const ext = extname(path);
  const stem = ext === '' ? path : path.slice(0, -ext.length);
  return `${stem}-${n}${ext}`;
}

/**
 * The path of another recording in the same run (the TUI's `r` after a stop): next to
 * `-w name.pcapng` as `name.2.pcapng`, `name.3.pcapng`, ... — the first that does not
 * exist; null (a new timestamped name under captures/) when no path was given.
 */
export function nextRecordingPath(written: string | null): string | null {
  if (written === null || written === '') return null;
  const ext = extname(written);
  const stem = ext === '' ? written : written.slice(0, -ext.length);
  for (let n = 2; ; n++) {
    const candidate = `${stem}.${n}${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}

/** `hopscope-YYYYMMDD-HHMMSS` in UTC. */
export function defaultRecordingStem(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `hopscope-${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

const RECORDING_EXT = '.pcapng';

// Block sizes as PcapngWriter lays them out (see pcapng-writer.ts): an EPB is 28 bytes
// of header and fixed fields, the data padded to 32 bits, epb_flags (12 bytes with
// opt_endofopt) when the direction is known, and the trailing length; an ISB with its
// four 64-bit options is 76 bytes. Only the rotation threshold depends on them.
const EPB_FIXED_BYTES = 28 + 4;
const EPB_FLAGS_BYTES = 12;
const ISB_BYTES = 76;

type RecorderState = 'open' | 'closed' | 'failed';

export class PcapngRecorder {
  /** the path given, or the default one chosen; file 0 of a ring buffer */
  readonly basePath: string;
  private readonly maxSizeBytes: number | null;
  private readonly maxFiles: number | null;
  private readonly bufferSize: number | undefined;
  private readonly comment: string | undefined;
  private readonly onError: ((err: RecordingError) => void) | undefined;
  /** every interface added, in the order added (= pcapng interface index in every file) */
  private readonly interfaces: WriterInterface[] = [];
  /** caller's interface id → added? (dense: ids are small) */
  private readonly known: boolean[] = [];
  /** caller's interface id → latest statistics */
  private readonly latestStats: Array<InterfaceStats | undefined> = [];
  private writer: PcapngWriter;
  private file: RecordingFile;
  private readonly pool: BufferPool;
  private fileNumber = 0;
  private readonly present: string[] = [];
  private closedFilesBytes = 0;
  private closedFilesPackets = 0;
  private ignored = 0;
  private timer: NodeJS.Timeout | null = null;
  private state: RecorderState = 'open';
  private failure: RecordingError | null = null;
  private failureDelivered = false;

  /** Opens (creates or truncates) the first file of a recording. Throws RecordingError. */
  static open(options: PcapngRecorderOptions): PcapngRecorder {
    return new PcapngRecorder(options);
  }

  private constructor(options: PcapngRecorderOptions) {
    this.maxSizeBytes = positive(options.maxSizeBytes, 'maxSizeBytes', false);
    this.maxFiles = positive(options.maxFiles, 'maxFiles', true);
    if (this.maxFiles !== null && this.maxSizeBytes === null) {
      throw new Error('pcapng recorder: maxFiles (--max-files) needs maxSizeBytes (--max-size)');
    }
    const interval = positive(options.flushIntervalMs, 'flushIntervalMs', false) ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.bufferSize = options.bufferSize;
    this.comment = options.comment;
    this.onError = options.onError;
    this.basePath =
      options.path !== null && options.path !== undefined && options.path !== ''
        ? options.path
        : defaultPath(options.capturesDir, options.now ?? (() => new Date()));
    this.pool = options.pool ?? new BufferPool();
    this.file = RecordingFile.open(this.basePath, this.pool);
    try {
      this.writer = this.startWriter(this.file);
      if (options.reserveBytes !== undefined && this.file.queues) {
        this.pool.reserve(this.writer.bufferSize, options.reserveBytes);
      }
    } catch (err) {
      this.file.abandon();
      throw err;
    }
    this.present.push(this.basePath);
    this.timer = setInterval(() => this.flushFromTimer(), interval);
    this.timer.unref();
  }

  /** Files of this recording still on disk, oldest first (the last is being written). */
  get files(): string[] {
    return [...this.present];
  }

  /** The file being written (after close: the last one written). */
  get currentPath(): string {
    return recordingFilePath(this.basePath, this.fileNumber);
  }

  /** Bytes of every file of this recording so far, deleted ones included, buffered ones included. */
  get bytesWritten(): number {
    return this.closedFilesBytes + this.writer.bytesWritten;
  }

  /** Bytes of the current file so far (buffered ones included). */
  get currentFileBytes(): number {
    return this.writer.bytesWritten;
  }

  /** Packets recorded so far over all files (deleted ones included). */
  get packetsWritten(): number {
    return this.closedFilesPackets + this.writer.packetCount;
  }

  /** Packets given after close() (a source's last batch during shutdown): not recorded. */
  get packetsIgnored(): number {
    return this.ignored;
  }

  get isClosed(): boolean {
    return this.state !== 'open';
  }

  /**
   * Declares an interface; its IDB goes into the current file now (so before any of its
   * packets) and into every later file of a ring buffer, in the order added. Adding an
   * id twice keeps the first.
   */
  addInterface(desc: InterfaceDescriptor & { description?: string }): void {
    if (this.state !== 'open' || this.known[desc.id] === true) return;
    const iface: WriterInterface = {
      id: desc.id,
      label: desc.label,
      linktype: desc.linktype,
      snaplen: desc.snaplen,
      tsResolutionNs: desc.tsResolutionNs,
      ...(desc.description !== undefined ? { description: desc.description } : {}),
    };
    this.interfaces.push(iface);
    this.known[desc.id] = true;
    try {
      this.writer.addInterface(iface);
    } catch (err) {
      this.writeFailed(err);
    }
  }

  /**
   * Records one packet (its bytes are copied before returning). Rotates first when the
   * packet would take the current file past maxSizeBytes. After close(), ignored.
   */
  writePacket(p: FramedPacket): void {
    if (this.state !== 'open') {
      if (this.state === 'failed') this.throwFailure();
      this.ignored++;
      return;
    }
    if (this.known[p.interfaceId] !== true) {
      throw new Error(`pcapng recorder: packet on interface ${p.interfaceId}, which was not added`);
    }
    if (this.maxSizeBytes !== null && this.writer.packetCount > 0) {
      const epb =
        EPB_FIXED_BYTES +
        p.caplen +
        ((4 - (p.caplen & 3)) & 3) +
        (p.direction === 1 || p.direction === 2 ? EPB_FLAGS_BYTES : 0);
      if (this.writer.bytesWritten + epb + ISB_BYTES * this.interfaces.length > this.maxSizeBytes)
        this.rotate();
    }
    // (no closure here: this is the per-packet path)
    try {
      this.writer.writePacket(p);
    } catch (err) {
      this.writeFailed(err);
    }
  }

  /**
   * Writes an ISB now (as well as keeping the counters): the capture command does so when
   * a drop counter grows, so a replay knows when the capture lost packets, not only that
   * it did by the end.
   */
  recordStats(stats: InterfaceStats): void {
    this.updateStats(stats);
    if (this.state !== 'open' || this.known[stats.interfaceId] !== true) return;
    try {
      this.writer.writeStats(stats);
    } catch (err) {
      this.writeFailed(err);
    }
  }

  /**
   * Notes in the recording (an ISB with a comment, CAPTURE_GONE / CAPTURE_BACK) that the
   * capture of an interface stopped or resumed now, so a replay knows the gap too.
   */
  recordGap(interfaceId: number, comment: string): void {
    if (this.state !== 'open' || this.known[interfaceId] !== true) return;
    const latest = this.latestStats[interfaceId] ?? { interfaceId, received: 0, dropped: 0, final: false };
    try {
      this.writer.writeStats(latest, comment);
    } catch (err) {
      this.writeFailed(err);
    }
  }

  /** Keeps the latest counters of an interface, for the ISBs written at close and rotation. */
  updateStats(stats: InterfaceStats): void {
    if (this.state !== 'open') return;
    const kept = this.latestStats[stats.interfaceId];
    if (kept === undefined) this.latestStats[stats.interfaceId] = { ...stats };
    else {
      kept.received = stats.received;
      kept.dropped = stats.dropped;
      kept.ifDropped = stats.ifDropped;
      kept.final = stats.final;
    }
  }

  /**
   * Hands buffered packets to the kernel now, synchronously (the timer does it every
   * flushIntervalMs, without waiting for the disk).
   */
  flush(): void {
    if (this.state === 'failed') this.throwFailure();
    if (this.state !== 'open') return;
    try {
      this.writer.flush();
      this.file.drain();
    } catch (err) {
      this.writeFailed(err);
    }
  }

  /** closeSync() as a promise: for `await recorder.close()` in a shutdown path. */
  async close(): Promise<void> {
    this.closeSync();
  }

  /**
   * Writes an ISB for every interface that has statistics, flushes, fsyncs and closes
   * the file. Idempotent; synchronous, so usable from process.on('exit'). Throws a
   * write failure nobody has been told of yet (onError, an earlier throw), once.
   */
  closeSync(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (this.state === 'failed') {
      if (!this.failureDelivered) this.throwFailure();
      return;
    }
    if (this.state === 'closed') return;
    try {
      this.finishFile();
    } catch (err) {
      this.writeFailed(err);
    }
    this.state = 'closed';
  }

  private startWriter(file: RecordingFile): PcapngWriter {
    const writer = new PcapngWriter(file, {
      ...(this.bufferSize !== undefined ? { bufferSize: this.bufferSize } : {}),
      ...(this.comment !== undefined ? { comment: this.comment } : {}),
    });
    for (const iface of this.interfaces) writer.addInterface(iface);
    // The file is a valid (empty) pcapng from here on, whatever happens to the process.
    writer.flush();
    return writer;
  }

  /** ISBs, flush, fsync, close of the current file. */
  private finishFile(): void {
    const stats: InterfaceStats[] = [];
    for (const iface of this.interfaces) {
      const s = this.latestStats[iface.id];
      if (s !== undefined) stats.push(s);
    }
    this.writer.close(stats);
  }

  private rotate(): void {
    try {
      this.finishFile();
      this.closedFilesBytes += this.writer.bytesWritten;
      this.closedFilesPackets += this.writer.packetCount;
      this.fileNumber++;
      const path = recordingFilePath(this.basePath, this.fileNumber);
      this.file = RecordingFile.open(path, this.pool);
      this.writer = this.startWriter(this.file);
      this.present.push(path);
    } catch (err) {
      this.writeFailed(err);
    }
    while (this.maxFiles !== null && this.present.length > this.maxFiles) {
      const oldest = this.present.shift() as string;
      try {
        unlinkSync(oldest);
      } catch (err) {
        // Gone already (the operator removed it) is fine; anything else is worth saying
        // but not worth stopping the recording for.
        if (errnoCode(err) !== 'ENOENT') {
          this.onError?.(
            new RecordingError(
              `cannot delete old recording ${oldest}: ${reason(err)}`,
              oldest,
              errnoCode(err),
              err,
            ),
          );
        }
      }
    }
  }

  private flushFromTimer(): void {
    if (this.state !== 'open') return;
    try {
      this.writer.flush();
    } catch (err) {
      // Nothing may escape a timer: the recording stops, onError hears of it, and
      // without onError the next writePacket() or close() throws it.
      this.fail(
        err instanceof RecordingError
          ? err
          : new RecordingError(
              `cannot write recording ${this.currentPath}: ${reason(err)}`,
              this.currentPath,
              errnoCode(err),
              err,
            ),
      );
      if (this.onError !== undefined && this.failure !== null) {
        this.failureDelivered = true;
        this.onError(this.failure);
      }
    }
  }

  /** A write threw: a failing file stops the recording (its fd closed); the error is rethrown. */
  private writeFailed(err: unknown): never {
    if (!(err instanceof RecordingError)) throw err;
    this.fail(err);
    this.throwFailure();
  }

  /** Stops recording after a file error: no timer, the fd closed, the first error kept. */
  private fail(err: RecordingError): void {
    this.failure ??= err;
    this.state = 'failed';
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    this.file.abandon();
  }

  private throwFailure(): never {
    this.failureDelivered = true;
    throw this.failure as RecordingError;
  }
}

function defaultPath(capturesDir: string, now: () => Date): string {
  try {
    mkdirSync(capturesDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new RecordingError(
      `cannot create captures directory ${capturesDir}: ${reason(err, capturesDir)}`,
      capturesDir,
      errnoCode(err),
      err,
    );
  }
  const stem = defaultRecordingStem(now());
  let names: string[];
  try {
    names = readdirSync(capturesDir);
  } catch (err) {
    throw new RecordingError(
      `cannot read captures directory ${capturesDir}: ${reason(err)}`,
      capturesDir,
      errnoCode(err),
      err,
    );
  }
  // A recording of the same second (a ring buffer's numbered files included) is kept.
  const taken = (s: string): boolean =>
    names.some((n) => n === `${s}${RECORDING_EXT}` || (n.startsWith(`${s}-`) && n.endsWith(RECORDING_EXT)));
  let candidate = stem;
  for (let k = 2; taken(candidate); k++) candidate = `${stem}_${k}`;
  return join(capturesDir, `${candidate}${RECORDING_EXT}`);
}

function positive(value: number | undefined, name: string, integer: boolean): number | null {
  if (value === undefined) return null;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(
      `pcapng recorder: ${name} must be a positive ${integer ? 'integer' : 'number'}, not ${value}`,
    );
  }
  return value;
}
