// `hopscope replay FILE...`: recordings through the same pipeline as live capture —
// merge by timestamp (framing), decode, then the sinks chosen by the options. A file
// may be given as LABEL=FILE or HOST:=FILE (replay-files.ts).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { decodePacket } from '../../decode/decode-packet.js';
import { describePacket } from '../../decode/packet-view.js';
import { PacketRecord } from '../../decode/record.js';
import {
  CAPTURE_BACK,
  CAPTURE_GONE,
  linktypeName,
  type FramedPacket,
  type InterfaceStats,
} from '../../events/types.js';
import { CaptureReadError, isCaptureInputError } from '../../framing/errors.js';
import { checkCaptureFile } from '../../framing/file-source.js';
import { InterfaceLabelError, plainFileArgument } from '../../framing/label.js';
import { mergeCaptureFiles } from '../../framing/merge.js';
import { formatTimestamp } from '../../shared/timestamp-text.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { formatPacketLine } from '../../sinks/packet-text.js';
import { ProgressMeter } from '../../sinks/progress.js';
import { parseClockReference } from '../../correlate/clock.js';
import { Correlator } from '../../correlate/correlator.js';
import { ExchangeOutput } from '../../sinks/exchange-output.js';
import { releaseDecoderThread } from '../../sources/decoder-thread-boot.js';
import { decodeFilesOnThread, type ThreadInterface } from '../../sources/file-decoder-thread.js';
import { TuiModel } from '../../ui/model.js';
import { numberOption, parseArgs, type OptionSpec } from '../args.js';
import { EXIT_OK, UserError } from '../errors.js';
import { parseReplayFile } from '../replay-files.js';

const OPTIONS: OptionSpec[] = [
  { name: 'packets', kind: 'flag' },
  { name: 'json', kind: 'flag' },
  { name: 'speed', kind: 'string' },
  { name: 'realtime', kind: 'flag' },
];

/** Thrown from the pacing hook when the operator quits a paced replay, or once stdout has ended. */
class ReplayStopped extends Error {}

/** The live capture's holds (capture.ts): how far packets of a recording may trail in file order. */
const REPLAY_LAG_LOCAL_MS = 600;
const REPLAY_LAG_REMOTE_MS = 2500;

/** How often a live capture reads its drop counters (sources/capture-session.ts). */
const DROP_WINDOW_NS = 250_000_000;

/** Exchanges judged at the end between two looks at stdout (a few MB of JSON). */
const FINISH_STEP = 4096;

/** Files large enough that a progress line on a terminal helps. */
const PROGRESS_ABOVE_BYTES = 32 * 1024 * 1024;

export async function runReplay(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS, 'replay');
  if (args.positionals.length === 0)
    throw new UserError('replay: no capture file given (usage: hopscope replay [LABEL=]FILE ...)');
  const files = args.positionals.map(parseReplayFile);
  const speed = numberOption(args, 'speed', 'replay', undefined, Number.MIN_VALUE);
  if (speed !== undefined && args.flags.has('realtime'))
    throw new UserError('replay: --speed and --realtime exclude each other');
  let totalBytes = 0;
  for (const { path: file, text } of files) {
    // Every file checked before any is read: `replay: FILE: cannot open: ... (EACCES)`.
    try {
      totalBytes += checkCaptureFile(file);
    } catch (err) {
      if (!(err instanceof CaptureReadError)) throw err;
      // `a=b.pcap` reads as LABEL=FILE: say how to give the file whose name it is.
      const named =
        text !== file && existsSync(text) ? ` (for the file ${text} write ${plainFileArgument(text)})` : '';
      throw new UserError(`replay: ${err.message}${named}`);
    }
  }
  const paced = speed !== undefined || args.flags.has('realtime');

  const json = args.flags.has('json');
  const printPackets = args.flags.has('packets');
  const out = new LineWriter();
  const rec = new PacketRecord();
  const interfaces: ThreadInterface[] = [];
  const counts: number[] = [];
  const fileStats = new Map<number, InterfaceStats>();
  const progress =
    process.stderr.isTTY &&
    totalBytes > PROGRESS_ABOVE_BYTES &&
    !(process.stdout.isTTY && !json && !printPackets)
      ? new ProgressMeter(process.stderr, totalBytes)
      : null;
  let n = 0;
  // On a terminal, without --json/--packets: the TUI (DESIGN §2), loaded only then.
  const model =
    process.stdout.isTTY === true && !json && !printPackets
      ? new TuiModel('replay', files.map((f) => basename(f.path)).join(' + '))
      : null;
  let quitTui: () => void = () => undefined;
  let quitting = false;
  const tuiClosed = new Promise<void>((resolve) => {
    quitTui = resolve;
  });
  const tui =
    model === null
      ? null
      : new (await import('../../ui/tui.js')).Tui(model, {
          onQuit: () => {
            quitting = true;
            quitTui();
          },
        });
  if (model !== null && paced) model.speed = speed ?? 1;
  // Pacing (--speed/--realtime): each packet waits until its time, scaled, has come; in the
  // TUI, p pauses and +/- change the speed.
  let anchorWall = 0;
  let anchorTs = -1;
  let anchorSpeed = 1;
  /** Waits while the TUI is paused, then paces (q stops the read with ReplayStopped). */
  const pausedThenPaced = async (sec: number, nsec: number): Promise<void> => {
    while (model?.paused === true) await new Promise((r) => setTimeout(r, 100));
    anchorTs = -1; // resume from here, not catching up on the pause
    await pace?.(sec, nsec);
  };
  // Called for every packet: a promise only when there is something to wait for.
  const pace = !paced
    ? undefined
    : (sec: number, nsec: number): Promise<void> | undefined => {
        // q during a paced replay: stop reading (caught below, like the end of the file)
        if (quitting) return Promise.reject(new ReplayStopped());
        const ts = sec + nsec / 1e9;
        if (model !== null) {
          model.position = ts;
          if (model.paused) return pausedThenPaced(sec, nsec);
        }
        const s = model?.speed ?? speed ?? 1;
        if (anchorTs < 0 || s !== anchorSpeed) {
          anchorTs = ts;
          anchorWall = Date.now();
          anchorSpeed = s;
          return undefined;
        }
        const wait = anchorWall + ((ts - anchorTs) * 1000) / s - Date.now();
        return wait > 1 ? new Promise((r) => setTimeout(r, wait)) : undefined;
      };
  const verdicts = new ExchangeOutput(out, { json });
  // Replay judges by packet time: a recording gives the verdicts it gave live.
  const correlator = new Correlator({
    onExchange: (ex) => {
      if (model !== null) {
        model.exchange(ex);
        tui?.changed();
      } else verdicts.exchange(ex);
    },
    wants: (status) => (model !== null ? model.wants(status) : verdicts.wants(status)),
    onClock: (c) => (model !== null ? model.clock(c) : verdicts.clock(c)),
  });
  const droppedSoFar = new Map<number, number>();

  const onInterface = (iface: ThreadInterface): void => {
    interfaces[iface.id] = iface;
    counts[iface.id] = 0;
    correlator.addInterface({
      id: iface.id,
      label: iface.label,
      host: iface.host,
      tsResolutionNs: iface.tsResolutionNs,
      addresses: iface.addresses,
    });
    // Judge as live capture did: after its hold (remote sources trail by up to 2.5 s).
    correlator.setPacketLagMs(iface.host !== null ? REPLAY_LAG_REMOTE_MS : REPLAY_LAG_LOCAL_MS);
    model?.addInterface(iface.id, iface.label);
    if (json) {
      out.line(
        JSON.stringify({
          type: 'interface',
          id: iface.id,
          label: iface.label,
          host: iface.host,
          netns: iface.netns,
          name: iface.name,
          linktype: linktypeName(iface.linktype),
          tsResolutionNs: iface.tsResolutionNs,
          addresses: iface.addresses,
          file: iface.file,
        }),
      );
    }
  };

  const onPacket = (p: FramedPacket): void => {
    n++;
    counts[p.interfaceId]++;
    const iface = interfaces[p.interfaceId];
    decodePacket(p.data, p.offset, p.offset + p.caplen, iface.linktype, p.len, rec);
    correlator.packet(rec, p.interfaceId, p.tsSec, p.tsNsec);
    model?.packet(p.interfaceId);
    if (printPackets) {
      const view = describePacket(rec, n, iface.label, formatTimestamp(p.tsSec, p.tsNsec), p.caplen, p.len);
      out.line(json ? JSON.stringify(view) : formatPacketLine(view));
    }
    progress?.advance(p.caplen + 24);
  };

  // A hopscope recording names the host its live run's time stamps were on.
  const onSection = (comments: string[]): void => {
    const reference = parseClockReference(comments);
    if (reference !== undefined) correlator.setReferenceHost(reference);
  };
  const onStats = (s: InterfaceStats): void => {
    fileStats.set(s.interfaceId, s);
    // The recorder writes a statistics block whenever a capture's drop counter grows,
    // and at the end: the drops between two blocks make verdicts of that time inconclusive.
    if (s.start !== undefined) correlator.interfaceStarted(s.interfaceId, s.start.sec, s.start.nsec);
    const before = droppedSoFar.get(s.interfaceId) ?? 0;
    if (s.end !== undefined && s.dropped > before) {
      // Live, counters are read every 250 ms: the drops happened in the 250 ms before the block.
      const from =
        s.end.nsec >= DROP_WINDOW_NS
          ? { sec: s.end.sec, nsec: s.end.nsec - DROP_WINDOW_NS }
          : { sec: s.end.sec - 1, nsec: s.end.nsec + 1e9 - DROP_WINDOW_NS };
      correlator.interfaceDropsOverall(
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
        correlator.interfaceGone(s.interfaceId, s.end.sec, s.end.nsec);
      } else if (s.comments.includes(CAPTURE_BACK))
        correlator.interfaceBack(s.interfaceId, s.end.sec, s.end.nsec);
    }
  };
  const onWarning = (message: string): void => {
    progress?.clear();
    process.stderr.write(`hopscope: warning: ${message}\n`);
  };

  // Between chunks of work: the output waits for stdout's reader (reading and decoding
  // pause while it is full), and a reader gone (| head) or a failed write stops the read.
  const waitForReader = (): Promise<void> | undefined => {
    if (out.isClosed) return Promise.reject(new ReplayStopped());
    if (!out.full) return undefined;
    return out.drained().then(() => {
      if (out.isClosed) throw new ReplayStopped();
    });
  };

  /** a damaged file's message, after every packet before the fault */
  let failure: string | null = null;
  // Paced lines come out as they happen, as live capture's do.
  const flusher = paced && model === null ? setInterval(() => out.flush(), 1000) : null;
  const onSecondThread = !paced && model === null && !printPackets;
  // Packets printed, paced or shown in the TUI are decoded here: the early thread goes.
  if (!onSecondThread) await releaseDecoderThread();
  try {
    if (onSecondThread) {
      // Only verdicts: files decoded and classified on a second thread while this one correlates.
      const end = await decodeFilesOnThread(files, {
        onInterface,
        onPacket: (c, iface, sec, nsec) => correlator.classified(c, iface, sec, nsec),
        onSection,
        onStats,
        onWarning,
        onProgress: (bytes) => progress?.advance(bytes),
        betweenSlots: waitForReader,
      });
      n = end.packets;
      for (let id = 0; id < end.counts.length; id++)
        if (end.counts[id] !== undefined) counts[id] = end.counts[id];
      failure = end.failure;
      if (end.refused !== null) throw new InterfaceLabelError(end.refused);
    } else {
      await mergeCaptureFiles(files, onInterface, onPacket, {
        onSection: (section) => onSection(section.comments),
        onStats,
        onWarning,
        betweenChunks: waitForReader,
        ...(pace !== undefined ? { pace } : {}),
      });
    }
  } catch (err) {
    if (err instanceof InterfaceLabelError) {
      // A file whose interfaces cannot be named as its argument asks: a usage error when
      // found before anything was handed on; in a later section, where the file stops.
      if (interfaces.length > 0) failure = err.message;
      else {
        tui?.destroy();
        throw new UserError(`replay: ${err.message}`);
      }
    } else if (err instanceof ReplayStopped) {
      // the operator quit, or stdout ended: what was read is judged below
    } else if (!isCaptureInputError(err)) throw err;
    else failure = err.message;
  } finally {
    progress?.done();
    if (flusher !== null) clearInterval(flusher);
  }

  // The end of the recording: where each interface's capture stopped when recorded, else
  // its host's last packet, each on its host's clock (the correlator puts them on one).
  for (const st of fileStats.values())
    if (st.end !== undefined) correlator.interfaceStopped(st.interfaceId, st.end.sec, st.end.nsec);
  // The exchanges still open (a second or more of them) are judged in steps, each
  // after stdout's reader has caught up.
  while (!correlator.finishSome(FINISH_STEP)) if (out.full) await out.drained();
  const summary = correlator.finish();
  if (model !== null && tui !== null) {
    // The whole recording is in: the operator reads it until q.
    model.finished = true;
    for (const st of fileStats.values()) model.setDropped(st.interfaceId, st.dropped);
    model.tick();
    tui.changed();
    await tuiClosed;
    if (failure) throw new UserError(`replay: ${failure}`);
    return summary.lost > 0 || summary.unanswered > 0 ? 1 : EXIT_OK;
  }
  if (json) {
    for (const iface of interfaces) {
      if (!iface) continue;
      const recorded = fileStats.get(iface.id);
      out.line(
        JSON.stringify({
          type: 'stats',
          iface: iface.label,
          received: counts[iface.id],
          dropped: recorded?.dropped ?? 0,
          ...(recorded ? { recordedReceived: recorded.received } : {}),
          final: true,
        }),
      );
    }
  } else if (!printPackets && !(failure && n === 0)) {
    out.line(`${n} packets on ${interfaces.filter(Boolean).length} interfaces:`);
    for (const iface of interfaces) {
      if (iface)
        out.line(
          `  ${String(counts[iface.id]).padStart(9)}  ${iface.label}  (${linktypeName(iface.linktype)}, ${iface.file})`,
        );
    }
  }
  const status = verdicts.summary(summary);
  await out.end();
  if (failure) {
    // every packet before the fault has been printed; the file is bad from here on
    throw new UserError(`replay: ${failure}`);
  }
  return status === 0 ? EXIT_OK : status;
}
