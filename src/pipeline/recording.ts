// The recording of a live run (-w FILE, --record, the TUI's `r`): a sink that sees every
// packet before it is decoded, every interface before its packets, and the capture's
// gaps and drop counters as they happen, so that a replay judges them as the live run
// did. A recording that cannot go on (a full disk) stops at its last whole block with
// a notice; the capture goes on, and its exit status does not change. Recordings
// without a name go to the working directory, as tcpdump's would.
import { clockReferenceComment } from '../correlate/clock.js';
import {
  CAPTURE_BACK,
  CAPTURE_GONE,
  type CaptureDevice,
  type Cause,
  type ExchangeRecord,
  type FramedPacket,
  type InterfaceDescriptor,
  type InterfaceState,
  type InterfaceStats,
} from '../events/types.js';
import { MAX_ANNOTATED_PACKETS, type AnnotationTable } from '../sinks/annotations.js';
import {
  CAUSES_SECTION_COMMENT,
  encodeCauseComment,
  MAX_CAUSE_BYTES_PER_FILE,
} from '../evidence/recording.js';
import type { LineWriter } from '../sinks/line-writer.js';
import { AnnotateError, annotateRecording } from '../sinks/pcapng-annotate.js';
import { PcapngRecorder, type RecordingStop } from '../sinks/pcapng-recorder.js';
import { nextRecordingSeries } from '../sinks/recording-names.js';
import { BufferPool, MAX_SPARE_BYTES } from '../sinks/buffer-pool.js';
import type { RecordBatch } from '../sinks/recording-batch.js';
import { nativeEpbConverter } from '../sources/native-addon.js';
import type { TuiModel } from '../ui/model.js';
import type { PacketTap } from './stages.js';

export interface RecordingOptions {
  /** -w FILE (a path), --record (null: a new name in the working directory), or no recording */
  write: string | null | undefined;
  overwrite: boolean;
  maxSizeBytes: number | undefined;
  maxFiles: number | undefined;
  /** the host whose clock time stamps are on: the recording names it, for a replay */
  referenceHost: string | null;
  /** causes are gathered: the recording says so, and carries them (cause()) */
  causes?: boolean;
  out: LineWriter;
  json: boolean;
}

export class Recording implements PacketTap {
  /** the recording being written, or null */
  recorder: PcapngRecorder | null = null;
  /** recordings stopped (the TUI's `r`, a full disk): the final report lists them too */
  readonly #done: PcapngRecorder[] = [];
  readonly #options: RecordingOptions;
  /**
   * One pool of write buffers for every recording of this capture, ready before the
   * first packet: as many as the file may queue, so a burst at the start (a capture
   * begun in the middle of a flood) finds them without page faults (recording-file.ts).
   */
  readonly #buffers = new BufferPool();
  readonly #interfaces: InterfaceDescriptor[] = [];
  /** interfaces whose capture gap is open in the recording */
  readonly #gaps = new Set<number>();
  readonly #lastDropped: number[] = [];
  /** packets annotated per recording (annotate()) */
  readonly #annotated = new Map<PcapngRecorder, number>();
  #model: TuiModel | null = null;
  /** interface ids by label (a cause is written to the statistics of the interface it is at) */
  readonly #ids = new Map<string, number>();
  /** cause comment bytes written to the current file, and which file that is (rotation starts anew) */
  #causeBytes = 0;
  #causeFile: string | null = null;
  #causesLeftOut = false;

  /** Opens -w FILE or --record's file at once (a RecordingError says why it cannot be). */
  constructor(options: RecordingOptions) {
    this.#options = options;
    if (options.write !== undefined)
      this.recorder = this.#open(options.write !== null ? { path: options.write } : {});
  }

  /** Every recording of the run, in the order they were made. */
  get all(): PcapngRecorder[] {
    return [...this.#done, ...(this.recorder !== null ? [this.recorder] : [])];
  }

  /** From here the TUI shows the notices (stderr would write over its screen). */
  showIn(model: TuiModel): void {
    this.#model = model;
  }

  interface(iface: InterfaceDescriptor): void {
    this.#interfaces[iface.id] = iface;
    this.#ids.set(iface.label, iface.id);
    this.recorder?.addInterface(iface);
  }

  /**
   * A device of capture `captureId`, a capture of every device (framing/device-split.ts):
   * recorded within the capture, so its causes go to the capture's statistics. One the
   * capture was not told of when it began (`looked`, found in its namespace) is named in
   * a statistics block now, before its first packet, and in the IDB of any later file.
   */
  device(device: InterfaceDescriptor, captureId: number, looked: CaptureDevice | null): void {
    this.#ids.set(device.label, captureId);
    const capture = this.#interfaces[captureId];
    if (looked === null || capture === undefined) return;
    this.#interfaces[captureId] = { ...capture, devices: [...(capture.devices ?? []), looked] };
    this.recorder?.addDevice(captureId, looked);
  }

  /**
   * A verdict's cause, as it is known (evidence/recording.ts): a statistics block of the
   * interface it is at, with one comment, so a replay gives the same cause. At most
   * MAX_CAUSE_BYTES_PER_FILE of them a file; the rest are left out, and said once.
   */
  cause(ex: ExchangeRecord, cause: Cause): void {
    const recorder = this.recorder;
    if (recorder === null || recorder.isClosed) return;
    const file = recorder.files.at(-1) ?? null;
    if (file !== this.#causeFile) {
      this.#causeFile = file;
      this.#causeBytes = 0;
    }
    const id =
      this.#ids.get(cause.at) ??
      this.#ids.get(ex.lost?.lastSeen ?? '') ??
      this.#ids.get(ex.stages[0]?.seen[0]?.iface ?? '');
    if (id === undefined) return;
    const comment = encodeCauseComment(ex, cause);
    const bytes = Buffer.byteLength(comment);
    if (this.#causeBytes + bytes > MAX_CAUSE_BYTES_PER_FILE) {
      if (!this.#causesLeftOut)
        this.#tell(
          `recording ${recorder.basePath}: causes beyond ${MAX_CAUSE_BYTES_PER_FILE / 1024 / 1024} MiB a file are not recorded (a replay shows none for them)`,
        );
      this.#causesLeftOut = true;
      return;
    }
    this.#causeBytes += bytes;
    recorder.recordGap(id, comment);
  }

  packet(p: FramedPacket): void {
    this.recorder?.writePacket(p);
  }

  /** A local capture's batch, every packet of interface `id` (PcapngRecorder.writeBatch). */
  batch(batch: RecordBatch & { forEach(visit: (p: FramedPacket) => void): void }, id: number): void {
    this.recorder?.writeBatch(batch, id);
  }

  /** The recording keeps the capture's gaps too, for a replay to judge them as live capture did. */
  state(id: number, state: InterfaceState): void {
    if (state === 'gone' || state === 'retrying') {
      if (!this.#gaps.has(id)) this.recorder?.recordGap(id, CAPTURE_GONE);
      this.#gaps.add(id);
    } else if (state === 'up' && this.#gaps.delete(id)) this.recorder?.recordGap(id, CAPTURE_BACK);
  }

  /** A drop is recorded when it happens (a statistics block), so a replay judges that time as live did. */
  stats(stats: InterfaceStats): void {
    if (stats.dropped > (this.#lastDropped[stats.interfaceId] ?? 0)) this.recorder?.recordStats(stats);
    else this.recorder?.updateStats(stats);
    this.#lastDropped[stats.interfaceId] = stats.dropped;
  }

  /** The TUI's `r`: stops the recording, or starts a new one (never over an existing file). */
  toggle(): void {
    const model = this.#model;
    if (model === null) return;
    if (this.recorder !== null) {
      const done = this.recorder;
      this.recorder = null;
      this.#done.push(done);
      model.recording = null;
      done.closeSync();
      // (a recording that could not be closed complete has said so itself)
      if (done.stopped === null) model.note(`recorded ${done.packetsWritten} packets to ${done.basePath}`);
      return;
    }
    try {
      // Never over an existing file: next to -w FILE as FILE.2, FILE.3, …, else a new name here.
      const write = this.#options.write;
      const next = this.#open(typeof write === 'string' ? { series: nextRecordingSeries(write) } : {});
      for (const d of this.#interfaces) if (d !== undefined) next.addInterface(d);
      for (const id of this.#gaps) next.recordGap(id, CAPTURE_GONE);
      this.recorder = next;
      model.recording = next.basePath;
      model.recordingBytes = next.bytesWritten;
      model.note(`recording to ${next.basePath}`);
    } catch (err) {
      model.note(`cannot record: ${(err as Error).message}`);
    }
  }

  /** The TUI's header shows the size as it grows. */
  showSize(): void {
    if (this.#model !== null && this.recorder !== null)
      this.#model.recordingBytes = this.recorder.bytesWritten;
  }

  /** The capture stopped: its final counters, and the file closed complete. */
  async close(finals: readonly InterfaceStats[]): Promise<void> {
    for (const s of finals) this.recorder?.updateStats(s);
    if (this.recorder !== null) await this.recorder.close();
  }

  /**
   * The capture stopped and every exchange is judged: the packets of non-ok exchanges in
   * every file of every recording get their comments (sinks/pcapng-annotate.ts). A file
   * that cannot be annotated stays as it was captured, and stderr says why.
   */
  annotate(table: AnnotationTable): void {
    if (table.exchanges === 0) return;
    for (const recorder of this.all) {
      let packets = 0;
      for (const file of recorder.files) {
        try {
          packets += annotateRecording(file, table) ?? 0;
        } catch (err) {
          if (!(err instanceof AnnotateError)) throw err;
          process.stderr.write(`hopscope: ${err.message}; the recording stays as captured\n`);
        }
      }
      this.#annotated.set(recorder, packets);
    }
    if (table.skipped > 0)
      process.stderr.write(
        `hopscope: ${table.skipped} packets of non-ok exchanges past the first ${MAX_ANNOTATED_PACKETS} were not annotated\n`,
      );
  }

  /** The final report's line for one of the recordings. */
  reportLine(recorder: PcapngRecorder): string {
    const packets = this.#annotated.get(recorder) ?? 0;
    return (
      recordingReportLine(recorder) +
      (packets > 0 ? `; ${packets} packets of non-ok exchanges annotated (frame.comment)` : '')
    );
  }

  /** Closed with what it has, at once (a second Ctrl-C, the process exiting, a failure). */
  closeSync(): void {
    if (this.recorder !== null && !this.recorder.isClosed) this.recorder.closeSync();
  }

  /** `-w FILE` (path), or the first free name of a series; with neither, a new name in the working directory. */
  #open(target: { path?: string; series?: (k: number) => string }): PcapngRecorder {
    const { out, json } = this.#options;
    return PcapngRecorder.open({
      ...target,
      overwrite: this.#options.overwrite,
      pool: this.#buffers,
      reserveBytes: MAX_SPARE_BYTES,
      // a local capture's batches become EPBs natively (recording-batch.ts)
      epbs: nativeEpbConverter(),
      maxSizeBytes: this.#options.maxSizeBytes,
      maxFiles: this.#options.maxFiles,
      comment: [
        clockReferenceComment(this.#options.referenceHost),
        ...(this.#options.causes === true ? [CAUSES_SECTION_COMMENT] : []),
      ],
      onNotice: (text) => this.#tell(text),
      onStop: (stop) => {
        // The capture goes on without it; the report lists it as incomplete.
        if (this.recorder !== null && this.recorder.isClosed) {
          this.#done.push(this.recorder);
          this.recorder = null;
        }
        this.#tell(stoppedText(stop));
        if (json) {
          out.line(
            JSON.stringify({
              type: 'state',
              recording: stop.path,
              state: 'incomplete',
              reason: stop.reason,
              packets: stop.packets,
              bytes: stop.bytes,
            }),
          );
          out.flush();
        }
      },
    });
  }

  /** A recording's notice: on stderr, or in the TUI's header once it is up. */
  #tell(text: string): void {
    const model = this.#model;
    if (model === null) {
      process.stderr.write(`hopscope: ${text}\n`);
      return;
    }
    model.note(text);
    if (this.recorder === null) model.recording = null;
  }
}

/** The final report's line for a recording: where it went, or where it stopped. */
export function recordingReportLine(recorder: PcapngRecorder): string {
  const files = recorder.files;
  const where = files.length === 1 ? files[0] : `${files.length} files: ${files.join(', ')}`;
  const stop = recorder.stopped;
  return stop === null
    ? `recorded ${recorder.packetsWritten} packets to ${where}`
    : `recording ${where} incomplete: ${stoppedAt(stop)}`;
}

/** `recording FILE stopped at N packets: REASON; the file is complete up to there` */
function stoppedText(stop: RecordingStop): string {
  return `recording ${stop.path} ${stoppedAt(stop)}`;
}

function stoppedAt(stop: RecordingStop): string {
  return (
    `stopped at ${stop.packets} packets: ${stop.reason}` +
    (stop.complete ? '; the file is complete up to there' : '')
  );
}
