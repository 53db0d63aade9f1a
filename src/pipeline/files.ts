// A run over recordings (`replay`): capture files merged by time stamp as the source of
// the stages (stages.ts), read to their end or until a stop condition (stop.ts) —
// stdout's reader gone, the TUI's q. Verdicts are judged by packet time, after the
// live hold (timing.ts), so a recording gives the verdicts it gave live; what the
// recorder noted of the live run — capture gaps, drop counters, where each capture
// started and stopped, the reference clock — reaches the correlator here.
//
// Two ways to read, the same records out (test/cli/replay-decoder-thread.test.ts):
// - only verdicts (no --packets, no pacing, no TUI): the files are decoded and
//   classified on a second thread while this one correlates (decodeFilesOnThread) —
//   each half of the pipeline gets a core;
// - otherwise the files are merged and decoded here, a packet at a time (pacing waits
//   between packets; --packets describes each).
// Either way, the output waits for stdout's reader between chunks: reading and
// decoding pause while it is full.
//
// Causes: a recording made while causes were gathered says so (its section comment)
// and carries each cause in a statistics block comment; its problem verdicts wait for
// theirs (causes.ts RecordedCauses), so a replay shows what the live capture showed. A
// file without them (tcpdump's, or `capture --no-cause`) has no causes, said once.
import { basename } from 'node:path';
import { parseClockReference } from '../correlate/clock.js';
import {
  CAPTURE_BACK,
  CAPTURE_GONE,
  type ContractRecord,
  type InterfaceStats,
  type SummaryRecord,
} from '../events/types.js';
import { isCaptureInputError } from '../framing/errors.js';
import { InterfaceLabelError, type CaptureFileInput } from '../framing/label.js';
import { mergeCaptureFiles } from '../framing/merge.js';
import type { AnnotationTable } from '../sinks/annotations.js';
import type { LineWriter } from '../sinks/line-writer.js';
import { ProgressMeter } from '../sinks/progress.js';
import { releaseDecoderThread } from '../sources/decoder-thread-boot.js';
import { decodeFilesOnThread, type ThreadInterface } from '../sources/file-decoder-thread.js';
import { TuiModel } from '../ui/model.js';
import type { Tui } from '../ui/tui.js';
import { CAUSES_SECTION_COMMENT } from '../evidence/recording.js';
import { RecordedCauses } from './causes.js';
import { openTui, Stages, wantsTui, type PacketTap, type RecordSink } from './stages.js';
import { RunStop } from './stop.js';
import { DROP_WINDOW_NS, FLUSH_INTERVAL_MS, holdMs } from './timing.js';
import { namesSeveralHosts, probeClocks } from './clock-probe-pass.js';

/** Files large enough that a progress line on a terminal helps. */
const PROGRESS_ABOVE_BYTES = 32 * 1024 * 1024;

/** Thrown from the reading hooks once the run is stopped (the TUI's q, stdout ended). */
class ReplayStopped extends Error {}

export interface FilesRunOptions {
  /** standard output: a replay waits for its reader */
  out: LineWriter;
  json: boolean;
  packets: boolean;
  /** paced to the recording's time: at this speed (1: as recorded), or undefined (as fast as it reads) */
  speed: number | undefined;
  /** the files' size in all (for the progress meter) */
  totalBytes: number;
  /** another sink of every record (--report) */
  records?: RecordSink | null;
  /** --annotate: the non-ok verdicts, for the packets they are about */
  annotations?: AnnotationTable | null;
}

/** What the command reports once the files are read (not in the TUI). */
export interface FilesEnd {
  /** interfaces by id, with the file each was read from */
  interfaces: readonly ThreadInterface[];
  /** packets per interface id */
  counts: readonly number[];
  packets: number;
  /** each interface's last statistics block */
  fileStats: ReadonlyMap<number, InterfaceStats>;
  /** a damaged file's message, after every packet before the fault */
  failure: string | null;
  /** hands a record the command makes (the final counters) to the other sink of records */
  lifecycle(r: ContractRecord): void;
}

export interface FilesRunHandlers {
  /** The final report (before the summary): counters per interface. */
  report(end: FilesEnd): void;
}

export interface FilesOutcome {
  summary: SummaryRecord;
  /** a damaged or unreadable file's message: every packet before the fault was judged */
  failure: string | null;
  /** the interfaces' labels by id */
  labels: string[];
}

/**
 * Reads `files` through the stages; returns the summary and a file's failure, if any.
 * A file whose interfaces cannot be named as its argument asks throws
 * InterfaceLabelError when nothing was handed on yet.
 */
export async function runFiles(
  files: readonly CaptureFileInput[],
  options: FilesRunOptions,
  handlers: FilesRunHandlers,
): Promise<FilesOutcome> {
  const { out, json, speed } = options;
  const paced = speed !== undefined;
  const stop = new RunStop({ output: out });
  const interfaces: ThreadInterface[] = [];
  const fileStats = new Map<number, InterfaceStats>();
  const progress =
    process.stderr.isTTY &&
    options.totalBytes > PROGRESS_ABOVE_BYTES &&
    !(process.stdout.isTTY && !json && !options.packets)
      ? new ProgressMeter(process.stderr, options.totalBytes)
      : null;
  // On a terminal, without --json/--packets: the TUI.
  const model = wantsTui(json, options.packets)
    ? new TuiModel('replay', files.map((f) => basename(f.path)).join(' + '))
    : null;
  let tui: Tui | null = null;
  try {
    tui = model === null ? null : await openTui(model, { onQuit: () => stop.stop('quit') });
    if (model !== null && paced) model.speed = speed;
    const screen = tui;
    const causes = new RecordedCauses();
    const stages = new Stages({
      live: false,
      out,
      json,
      packets: options.packets,
      tui: model === null || screen === null ? null : { model, changed: () => screen.changed() },
      tap: progress !== null ? progressTap(progress, causes) : causeClock(causes),
      records: options.records ?? null,
      annotations: options.annotations ?? null,
      causes,
    });
    const correlator = stages.correlator;
    const droppedSoFar = new Map<number, number>();

    const onInterface = (iface: ThreadInterface): void => {
      interfaces[iface.id] = iface;
      stages.interface(iface, iface.file);
      // Judge as live capture did: after its hold (remote sources trail by up to 2.5 s).
      correlator.setPacketLagMs(holdMs(iface.host !== null));
    };
    // A hopscope recording names the host its live run's time stamps were on.
    const onSection = (comments: string[]): void => {
      const reference = parseClockReference(comments);
      if (reference !== undefined) correlator.setReferenceHost(reference);
      if (comments.includes(CAUSES_SECTION_COMMENT)) causes.carried = true;
    };
    const onStats = (s: InterfaceStats): void => {
      if (s.comments !== undefined && s.deviceCopy !== true) causes.comments(s.comments);
      fileStats.set(s.interfaceId, s);
      // The recorder writes a statistics block whenever a capture's drop counter grows,
      // and at the end: the drops between two blocks make verdicts of that time inconclusive.
      if (s.start !== undefined) correlator.captures.started(s.interfaceId, s.start.sec, s.start.nsec);
      const before = droppedSoFar.get(s.interfaceId) ?? 0;
      if (s.end !== undefined && s.dropped > before) {
        // Live, counters are read every COUNTER_POLL_MS: the drops happened in the window before the block.
        const from =
          s.end.nsec >= DROP_WINDOW_NS
            ? { sec: s.end.sec, nsec: s.end.nsec - DROP_WINDOW_NS }
            : { sec: s.end.sec - 1, nsec: s.end.nsec + 1e9 - DROP_WINDOW_NS };
        correlator.captures.dropsOverall(
          s.interfaceId,
          s.dropped - before,
          from.sec,
          from.nsec,
          s.end.sec,
          s.end.nsec,
        );
      }
      droppedSoFar.set(s.interfaceId, Math.max(before, s.dropped));
      // A capture gap noted by the recorder: judged as live capture judged it.
      if (s.end !== undefined && s.comments !== undefined) {
        if (s.comments.includes(CAPTURE_GONE)) {
          correlator.captures.gone(s.interfaceId, s.end.sec, s.end.nsec);
        } else if (s.comments.includes(CAPTURE_BACK))
          correlator.captures.back(s.interfaceId, s.end.sec, s.end.nsec);
      }
    };
    const onWarning = (message: string): void => {
      progress?.clear();
      process.stderr.write(`hopscope: warning: ${message}\n`);
    };
    // Between chunks of work: the output waits for stdout's reader (reading and decoding
    // pause while it is full); once the run is stopped, the read stops.
    const waitForReader = (): Promise<void> | undefined => {
      if (stop.reason !== null) return Promise.reject(new ReplayStopped());
      if (!out.full) return undefined;
      return out.drained().then(() => {
        if (stop.reason !== null) throw new ReplayStopped();
      });
    };

    let failure: string | null = null;
    // Several hosts' files: their clocks first (clock-probe-pass.ts)
    const clocks = namesSeveralHosts(files) ? await probeClocks(files) : null;
    if (clocks !== null) correlator.seedClocks(clocks.offsets);
    const clockAheadNs = clocks?.clockAheadNs;
    // Paced lines come out as they happen, as live capture's do.
    if (paced && model === null) stop.every(FLUSH_INTERVAL_MS, () => out.flush());
    // --packets --json: the decoder thread writes the packet lines too (not text lines:
    // those are sinks' words, made here).
    const onSecondThread = !paced && model === null && (!options.packets || json);
    // Packets printed as text, paced or shown in the TUI are decoded here: the early thread goes.
    if (!onSecondThread) await releaseDecoderThread();
    try {
      if (onSecondThread) {
        // Files decoded and classified (and packet lines written) on a second thread while this one correlates.
        const end = await decodeFilesOnThread(
          files,
          {
            onInterface,
            onPacket: (c, iface, sec, nsec) => {
              causes.advance(sec);
              correlator.classified(c, iface, sec, nsec);
            },
            onSection,
            onStats,
            onWarning,
            onProgress: (bytes) => progress?.advance(bytes),
            onLines: (u8, start, end) => out.bytes(u8, start, end),
            betweenSlots: waitForReader,
          },
          { packetLines: options.packets && json, ...(clockAheadNs !== undefined ? { clockAheadNs } : {}) },
        );
        stages.packets = end.packets;
        for (let id = 0; id < end.counts.length; id++)
          if (end.counts[id] !== undefined) stages.counts[id] = end.counts[id];
        failure = end.failure;
        if (end.refused !== null) throw new InterfaceLabelError(end.refused);
      } else {
        const pace = paced ? pacer(speed, model, stop) : undefined;
        await mergeCaptureFiles(
          files,
          onInterface,
          (p) => stages.packet(p, stages.interfaces[p.interfaceId]),
          {
            onSection: (section) => onSection(section.comments),
            onStats,
            onWarning,
            betweenChunks: waitForReader,
            ...(pace !== undefined ? { pace } : {}),
            ...(clockAheadNs !== undefined ? { clockAheadNs } : {}),
          },
        );
      }
    } catch (err) {
      if (err instanceof InterfaceLabelError) {
        // A file whose interfaces cannot be named as its argument asks: a usage error when
        // found before anything was handed on; in a later section, where the file stops.
        if (interfaces.length > 0) failure = err.message;
        else throw err;
      } else if (err instanceof ReplayStopped) {
        // the operator quit, or stdout ended: what was read is judged below
      } else if (!isCaptureInputError(err)) throw err;
      else failure = err.message;
    } finally {
      progress?.done();
    }
    // The TUI shows the whole recording until q; otherwise the end of the files ends the run.
    if (model === null) stop.stop('end');

    // The end of the recording: where each interface's capture stopped when recorded, else
    // its host's last packet, each on its host's clock (the correlator puts them on one).
    for (const st of fileStats.values())
      if (st.end !== undefined) correlator.captures.stopped(st.interfaceId, st.end.sec, st.end.nsec);
    // (verdicts still waiting for a recorded cause have none: the recording is read)
    const summary = await stages.finish(undefined, undefined, () => causes.end());
    const causeNote = recordedCausesNote(causes, summary);
    // (the header's notice is short: it goes before the verdict counts)
    if (model !== null && causeNote !== null) model.note(causeNote.replace(/ \(.*\)$/, ''));
    if (model !== null && screen !== null) {
      // The whole recording is in: the operator reads it until q.
      model.finished = true;
      for (const st of fileStats.values()) model.setDropped(st.interfaceId, st.dropped);
      model.tick();
      screen.changed();
      stages.lifecycle(summary);
      await stop.stopped();
      return { summary, failure, labels: labelsOf(interfaces) };
    }
    handlers.report({
      interfaces,
      counts: stages.counts,
      packets: stages.packets,
      fileStats,
      failure,
      lifecycle: (r) => stages.lifecycle(r),
    });
    stages.printSummary(summary);
    await out.end();
    // (after the output: when stdout failed, the one line said is that)
    if (causeNote !== null && !out.isClosed) process.stderr.write(`hopscope: replay: ${causeNote}\n`);
    return { summary, failure, labels: labelsOf(interfaces) };
  } catch (err) {
    tui?.destroy();
    throw err;
  } finally {
    stop.dispose();
  }
}

function labelsOf(interfaces: readonly ThreadInterface[]): string[] {
  return Array.from(interfaces, (iface) => iface?.label ?? '');
}

/**
 * Said once about the causes: a recording without them that has problem verdicts (a
 * tcpdump file, a capture with --no-cause), or recorded causes that could not be read.
 */
function recordedCausesNote(causes: RecordedCauses, summary: SummaryRecord): string | null {
  if (summary.lost + summary.unanswered + summary.error > 0 && !causes.carried)
    return 'no causes: the recording carries none (made without cause gathering, or not by hopscope capture)';
  if (causes.damaged > 0)
    return `warning: ${causes.damaged} recorded cause${causes.damaged === 1 ? '' : 's'} could not be read (${causes.firstDamage ?? ''})`;
  return null;
}

/** The progress meter as a packet tap: a packet's bytes and its record header; and the replay's time for its causes. */
function progressTap(progress: ProgressMeter, causes: RecordedCauses): PacketTap {
  return {
    packet: (p) => {
      progress.advance(p.caplen + 24);
      causes.advance(p.tsSec);
    },
  };
}

/** The replay's time, for the verdicts waiting for a recorded cause. */
function causeClock(causes: RecordedCauses): PacketTap {
  return { packet: (p) => causes.advance(p.tsSec) };
}

/**
 * Pacing (--speed, --realtime): each packet waits until its time, scaled, has come; in
 * the TUI, p pauses and +/- change the speed. Called for every packet: a promise only
 * when there is something to wait for. Once the run is stopped (q), the read stops.
 */
function pacer(
  speed: number,
  model: TuiModel | null,
  stop: RunStop,
): (sec: number, nsec: number) => Promise<void> | undefined {
  let anchorWall = 0;
  let anchorTs = -1;
  let anchorSpeed = 1;
  /** Waits while the TUI is paused, then paces. */
  const pausedThenPaced = async (sec: number, nsec: number): Promise<void> => {
    while (model?.paused === true && stop.reason === null) await new Promise((r) => setTimeout(r, 100));
    anchorTs = -1; // resume from here, not catching up on the pause
    await pace(sec, nsec);
  };
  const pace = (sec: number, nsec: number): Promise<void> | undefined => {
    if (stop.reason !== null) return Promise.reject(new ReplayStopped());
    const ts = sec + nsec / 1e9;
    if (model !== null) {
      model.position = ts;
      if (model.paused) return pausedThenPaced(sec, nsec);
    }
    const s = model?.speed ?? speed;
    if (anchorTs < 0 || s !== anchorSpeed) {
      anchorTs = ts;
      anchorWall = Date.now();
      anchorSpeed = s;
      return undefined;
    }
    const wait = anchorWall + ((ts - anchorTs) * 1000) / s - Date.now();
    return wait > 1 ? new Promise((r) => setTimeout(r, wait)) : undefined;
  };
  return pace;
}
