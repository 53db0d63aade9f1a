// The `-w` recording sink: everything captured, all interfaces in one
// pcapng file, written by framing's PcapngWriter:
//
//   SHB, one IDB per interface (if_name = its label, docs/json-lines.md "Labels"; its addresses as
//   if_IPv4addr / if_IPv6addr; if_tsresol = its source's resolution: 9, or 6 for µs
//   stamps), EPBs with timestamps in those
//   units, and at close one ISB per interface with the
//   latest statistics given (isb_ifrecv, isb_ifdrop, isb_starttime, isb_endtime).
//
// Files are created with mode 0600 (captures hold other people's traffic), never through
// a symbolic link and never over an existing file unless `overwrite` (`--overwrite`),
// which replaces a regular file (made 0600) — see recording-file.ts.
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
// A write that fails once the recording runs (a full disk: ENOSPC, EDQUOT, EFBIG, EIO; a
// pipe whose reader left), from a packet, the flush timer, a rotation or close, never
// throws out: the recording stops, its file cut back to the end of the last whole block
// that landed (RecordingFile.stopAtLastBlock), so it stays a valid pcapng; onStop hears
// of it once (file, reason, packets and bytes kept), `stopped` keeps it, and packets
// given afterwards are not recorded. The capture goes on. Only opening the first file
// throws (RecordingError), before anything is captured.
//
// Ring buffer (`--max-size`, `--max-files`), tcpdump's -C/-W adapted: before a packet
// that would make the current file (with the ISBs its close will add) exceed
// maxSizeBytes, the file is closed complete — ISBs included — and the next one opened:
//
//   NAME.pcapng, NAME-1.pcapng, NAME-2.pcapng, ...   (the number before the extension;
//   a path without extension gets `-N` appended: rec, rec-1, rec-2, ...)
//
// Numbers only grow (tcpdump -W instead reuses names, which loses their order). A number
// whose name is taken when its turn comes (a file this recording did not make, a
// symbolic link) is not written over: the recording skips to the next number, and
// onNotice says so (with `overwrite`, a regular file of ours is replaced, as the first
// file was). With maxFiles N, opening a file deletes the oldest ones so that at most N
// remain (only files of this recording). Every
// file is a complete pcapng on its own: SHB, the IDB of every interface added so far in
// the same order (so interface ids match across files), its packets, and ISBs. A file
// always takes at least one packet, so a packet larger than maxSizeBytes gets its own
// file rather than none. The ISB counters are the capture's (cumulative since it
// started), as pcap_stats gives them.
//
// Default path: with no path, recordings go to `<directory>/hopscope-YYYYMMDD-HHMMSS.pcapng`
// (UTC; the capture gives its working directory); when a recording of that second exists
// there, `_2`, `_3`, ... is added to the name. The name is taken by creating the file
// exclusively (O_EXCL), the next suffix tried when another process got there first: two
// captures started in the same second never share a file. Another recording of the run
// (the TUI's `r`) picks its name the same way from a series (nextRecordingSeries). Paths
// are made absolute, so what the capture prints names the file wherever it is read.
//
// Buffer ownership (docs/architecture.md "Buffers"): writePacket copies the packet's bytes into the writer's
// buffer before returning — that is the one copy; nothing else is allocated per packet.

import { unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CaptureDevice, FramedPacket, InterfaceDescriptor, InterfaceStats } from '../events/types.js';
import { deviceComment, PcapngWriter, type WriterInterface } from '../framing/index.js';
import { BufferPool } from './buffer-pool.js';
import type { EpbConverter } from '../framing/epb-converter.js';
import { BatchEpbs, type RecordBatch } from './recording-batch.js';
import { errnoCode, reason, RecordingError } from './recording-error.js';
import { RecordingFile, type CutBack } from './recording-file.js';
import {
  defaultRecordingSeries,
  MAX_NAMES_TRIED,
  nameTaken,
  openFirstFree,
  recordingFilePath,
  workingDirectory,
} from './recording-names.js';

export const DEFAULT_FLUSH_INTERVAL_MS = 1000;

/** Why and where a recording stopped before it was closed (see the top of this file). */
export interface RecordingStop {
  /** the file being written then */
  path: string;
  /** what stopped it, short (`no space left on device`) */
  reason: string;
  /** errno code when the system gave one */
  code: string | null;
  /** packets and bytes in the recording's files (a ring's deleted ones included) */
  packets: number;
  bytes: number;
  /** whether the file ends on a whole block (a regular file cut back to one) */
  complete: boolean;
}

export interface PcapngRecorderOptions {
  /**
   * `-w FILE`: exactly this file (refused if it exists, unless overwrite). null/undefined:
   * the first free name of `series`, or of `hopscope-YYYYMMDD-HHMMSS.pcapng`, `_2`, … in
   * `directory`.
   */
  path?: string | null;
  /** replace an existing regular file at `path` (and at a ring's later numbers) */
  overwrite?: boolean;
  /** names to try in turn (k = 1, 2, …) when no path is given: the first free one is taken */
  series?: (k: number) => string;
  /** where recordings without a path or series go (default: the working directory) */
  directory?: string;
  /** rotate before a file would exceed this many bytes (ring buffer); none by default */
  maxSizeBytes?: number;
  /** keep at most this many files, deleting the oldest (needs maxSizeBytes) */
  maxFiles?: number;
  /** hand buffered packets to the kernel at least this often (default 1000 ms) */
  flushIntervalMs?: number;
  /** Called once when a write fails and the recording stops (see the top of this file). */
  onStop?: (stop: RecordingStop) => void;
  /**
   * Something worth saying that does not stop the recording (a ring's number skipped, an
   * old file that could not be deleted).
   */
  onNotice?: (text: string) => void;
  /** wall clock for the default file name (tests pin it) */
  now?: () => Date;
  /** bytes the writer buffers between flushes (PcapngWriter's default otherwise) */
  bufferSize?: number;
  /** the Section Header Block's comments, in every file of a ring buffer */
  comment?: string | readonly string[];
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
  /**
   * The capture addon's batch converter (native/epb.h): writeBatch() then makes a
   * batch's EPBs in one call (recording-batch.ts); without it, packet by packet.
   */
  epbs?: EpbConverter | null;
}

// Block sizes as PcapngWriter lays them out (see pcapng-writer.ts): an EPB is 28 bytes
// of header and fixed fields, the data padded to 32 bits, epb_flags (12 bytes with
// opt_endofopt) when the direction is known, and the trailing length; an ISB with its
// four 64-bit options is 76 bytes. Only the rotation threshold depends on them.
const EPB_FIXED_BYTES = 28 + 4;
const EPB_FLAGS_BYTES = 12;
const ISB_BYTES = 76;

type RecorderState = 'open' | 'closed' | 'stopped';

export class PcapngRecorder {
  /** the path given, or the default one chosen (absolute); file 0 of a ring buffer */
  readonly basePath: string;
  private readonly overwrite: boolean;
  private readonly maxSizeBytes: number | null;
  private readonly maxFiles: number | null;
  private readonly bufferSize: number | undefined;
  private readonly comment: string | readonly string[] | undefined;
  private readonly onStop: ((stop: RecordingStop) => void) | undefined;
  private readonly onNotice: ((text: string) => void) | undefined;
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
  private readonly epbs: BatchEpbs | null;
  private state: RecorderState = 'open';
  private stop: RecordingStop | null = null;

  /** Opens (creates, or replaces with `overwrite`) the first file of a recording. Throws RecordingError. */
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
    this.onStop = options.onStop;
    this.onNotice = options.onNotice;
    this.overwrite = options.overwrite === true;
    this.pool = options.pool ?? new BufferPool();
    this.epbs = options.epbs != null ? new BatchEpbs(options.epbs) : null;
    if (options.path !== null && options.path !== undefined) {
      if (options.path === '') throw new Error('pcapng recorder: an empty path');
      this.basePath = resolve(options.path);
      this.file = RecordingFile.open(this.basePath, this.pool, { overwrite: this.overwrite });
    } else {
      const series =
        options.series ??
        defaultRecordingSeries(
          options.directory ?? workingDirectory(),
          (options.now ?? (() => new Date()))(),
        );
      this.file = openFirstFree(series, this.pool);
      this.basePath = this.file.path;
    }
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

  /**
   * Bytes of every file of this recording so far, deleted ones included, buffered ones
   * included; once stopped, what the files kept.
   */
  get bytesWritten(): number {
    if (this.stop !== null) return this.stop.bytes;
    return this.closedFilesBytes + this.writer.bytesWritten;
  }

  /** Bytes of the current file so far (buffered ones included). */
  get currentFileBytes(): number {
    return this.writer.bytesWritten;
  }

  /** Packets recorded so far over all files (deleted ones included); once stopped, those kept. */
  get packetsWritten(): number {
    if (this.stop !== null) return this.stop.packets;
    return this.closedFilesPackets + this.writer.packetCount;
  }

  /** Packets given after close() or a stop (a source's last batch during shutdown): not recorded. */
  get packetsIgnored(): number {
    return this.ignored;
  }

  get isClosed(): boolean {
    return this.state !== 'open';
  }

  /** Why the recording stopped before it was closed; null while it runs or when closed complete. */
  get stopped(): RecordingStop | null {
    return this.stop;
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
      addresses: desc.addresses,
      mac: desc.mac ?? null,
      ...(desc.description !== undefined ? { description: desc.description } : {}),
      ...(desc.devices !== undefined ? { comments: desc.devices.map(deviceComment) } : {}),
    };
    this.interfaces.push(iface);
    this.known[desc.id] = true;
    try {
      this.writer.addInterface(iface);
    } catch (err) {
      this.stopAfter(err);
    }
  }

  /**
   * Records one packet (its bytes are copied before returning). Rotates first when the
   * packet would take the current file past maxSizeBytes. After close() or a stop, ignored.
   */
  writePacket(p: FramedPacket): void {
    if (this.state !== 'open') {
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
      if (this.writer.bytesWritten + epb + ISB_BYTES * this.interfaces.length > this.maxSizeBytes) {
        this.rotate();
        if (this.state !== 'open') {
          this.ignored++;
          return;
        }
      }
    }
    // (no closure here: this is the per-packet path)
    try {
      this.writer.writePacket(p);
    } catch (err) {
      this.stopAfter(err);
    }
  }

  /**
   * Records a live capture's batch, every packet of interface `interfaceId` (the addon's
   * layout; `forEach` walks it as FramedPackets): converted to EPBs in one call when the
   * recorder has the addon's converter and is not a ring buffer (a rotation is decided
   * packet by packet); else, and after close() or a stop, as writePacket would.
   */
  writeBatch(
    batch: RecordBatch & { forEach(visit: (p: FramedPacket) => void): void },
    interfaceId: number,
  ): void {
    if (this.state !== 'open') {
      this.ignored += batch.count;
      return;
    }
    const epbs = this.epbs;
    if (epbs === null || this.maxSizeBytes !== null) {
      batch.forEach((p) => this.writePacket(p));
      return;
    }
    if (this.known[interfaceId] !== true) {
      throw new Error(`pcapng recorder: packet on interface ${interfaceId}, which was not added`);
    }
    try {
      epbs.write(this.writer, batch, interfaceId);
    } catch (err) {
      this.stopAfter(err);
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
      this.stopAfter(err);
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
      this.stopAfter(err);
    }
  }

  /**
   * A device of capture `interfaceId` found after its IDB was written (a capture of every
   * device, framing/device-split.ts): named now in a statistics block, which a reader
   * meets before the device's first packet, and in the IDB of every later file.
   */
  addDevice(interfaceId: number, device: CaptureDevice): void {
    const k = this.interfaces.findIndex((i) => i.id === interfaceId);
    if (k < 0) return;
    const iface = this.interfaces[k];
    const comment = deviceComment(device);
    this.interfaces[k] = { ...iface, comments: [...(iface.comments ?? []), comment] };
    this.recordGap(interfaceId, comment);
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
    if (this.state !== 'open') return;
    try {
      this.writer.flush();
      this.file.drain();
    } catch (err) {
      this.stopAfter(err);
    }
  }

  /** closeSync() as a promise: for `await recorder.close()` in a shutdown path. */
  async close(): Promise<void> {
    this.closeSync();
  }

  /**
   * Writes an ISB for every interface that has statistics, flushes, fsyncs and closes
   * the file. Idempotent; synchronous, so usable from process.on('exit'). A write that
   * fails stops the recording as anywhere else (onStop), without throwing.
   */
  closeSync(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (this.state !== 'open') return;
    try {
      this.finishFile();
    } catch (err) {
      this.stopAfter(err);
      return;
    }
    this.state = 'closed';
  }

  private startWriter(file: RecordingFile): PcapngWriter {
    // A write of the pool that fails stops the recording at once (see recording-file.ts).
    file.onFailure = (err) => this.stopAfter(err);
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
    } catch (err) {
      this.stopAfter(err);
      return;
    }
    this.closedFilesBytes += this.writer.bytesWritten;
    this.closedFilesPackets += this.writer.packetCount;
    let path: string;
    try {
      path = this.openNextFile();
      this.writer = this.startWriter(this.file);
    } catch (err) {
      // The files so far are closed complete; the one that could not be begun holds nothing.
      this.file.abandon();
      this.stopAfter(err, { bytes: 0, packets: 0, complete: true });
      return;
    }
    this.present.push(path);
    while (this.maxFiles !== null && this.present.length > this.maxFiles) {
      const oldest = this.present.shift() as string;
      try {
        unlinkSync(oldest);
      } catch (err) {
        // Gone already (the operator removed it) is fine; anything else is worth saying
        // but not worth stopping the recording for.
        if (errnoCode(err) !== 'ENOENT')
          this.onNotice?.(`cannot delete old recording ${oldest}: ${reason(err)}`);
      }
    }
  }

  /** The ring's next file: the next number whose name is free (or ours to replace). */
  private openNextFile(): string {
    for (let tried = 0; ; tried++) {
      this.fileNumber++;
      const path = recordingFilePath(this.basePath, this.fileNumber);
      try {
        this.file = RecordingFile.open(path, this.pool, { overwrite: this.overwrite });
        return path;
      } catch (err) {
        if (!(err instanceof RecordingError) || !nameTaken(err) || tried === MAX_NAMES_TRIED) throw err;
        this.onNotice?.(`recording: skipped ${path} (${err.reason}); going on with the next number`);
      }
    }
  }

  private flushFromTimer(): void {
    if (this.state !== 'open') return;
    try {
      this.writer.flush();
    } catch (err) {
      // Nothing may escape a timer.
      this.stopAfter(err);
    }
  }

  /**
   * A file operation failed: the recording stops, its file cut back to the last whole
   * block (or `cut` when there is no file to cut), and onStop is told once. Anything but
   * a RecordingError is a bug and is thrown on.
   */
  private stopAfter(err: unknown, cut?: CutBack): void {
    if (!(err instanceof RecordingError)) throw err;
    if (this.stop !== null) return;
    this.state = 'stopped';
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    const kept = cut ?? this.file.stopAtLastBlock();
    this.stop = {
      path: this.currentPath,
      reason: err.reason,
      code: err.code,
      packets: this.closedFilesPackets + kept.packets,
      bytes: this.closedFilesBytes + kept.bytes,
      complete: kept.complete,
    };
    this.onStop?.(this.stop);
  }
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
