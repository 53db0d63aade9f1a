// A live run: a capture session as the source of the stages (stages.ts), until a stop
// condition (stop.ts) — a signal, --duration, stdout's reader gone, the TUI's q.
// Verdicts are given as the wall clock passes the hold (timing.ts); the session's
// lifecycle — interfaces up, gone, back and stopped, drop counters, warnings, notices —
// reaches the correlator (capture health), the recording, the TUI and the output here.
// Whatever ends the run, the recording is closed complete (interface statistics
// included) before the final records are written.
//
// With an evidence gatherer (capture without --no-cause), it is started with the
// captured interfaces before the first packet, told of interfaces attached later, asked
// for the cause of each problem verdict (causes.ts: asynchronous, bounded), and stopped
// once the last verdict has its cause — also when a signal ends the run. The causes go
// to the recording as their verdicts go out, so the recording then closes after them
// (waiting no longer than a cause may take).
import {
  type ContractRecord,
  type FramedPacket,
  type InterfaceDescriptor,
  type InterfaceState,
  type InterfaceStateRecord,
  type InterfaceStats,
  type SkippedRecord,
  type StatsRecord,
  type SummaryRecord,
} from '../events/types.js';
import { Kind } from '../correlate/kinds/kind.js';
import { DeviceSplit, splitsByDevice } from '../framing/index.js';
import { AnnotationTable } from '../sinks/annotations.js';
import { placeOf } from '../evidence/context.js';
import type { EvidenceGatherer } from '../evidence/gatherer.js';
import { LineWriter } from '../sinks/line-writer.js';
import type { CaptureSession } from '../sources/capture-session.js';
import type { CaptureTarget } from '../sources/spec.js';
import { TuiModel } from '../ui/model.js';
import type { Tui } from '../ui/tui.js';
import { GatheredCauses, REMOTE_CAUSE_WAIT_MS } from './causes.js';
import { type NamespaceOf, OnwardCauses } from './onward-causes.js';
import { PacketMemory } from './packet-memory.js';
import type { Recording } from './recording.js';
import { openTui, Stages, wantsTui, type RecordSink } from './stages.js';
import { RunStop } from './stop.js';
import {
  DROP_WINDOW_NS,
  FLUSH_INTERVAL_MS,
  holdMs,
  JUDGE_INTERVAL_MS,
  OVERDUE_LOOKS_PER_TICK,
  overdueMs,
  PRINT_INTERVAL_MS,
} from './timing.js';

/**
 * Output waiting for stdout's reader, at most (bytes): the capture and the recording
 * never wait for it; lines beyond are skipped, counted and reported.
 */
const OUTPUT_QUEUE_BYTES = 16 * 1024 * 1024;
/** The gatherer's first readings (every namespace's counters, remote traces) hold the capture's start at most this long (ms). */
const GATHERER_START_WAIT_MS = 10_000;
/**
 * Exchanges looked through at most for a DNS query's onward query (onward-causes.ts
 * QueriesSince): those of the last hold and timeout, at 1,000 DNS queries a second
 * and more; past it, the query waits for an onward one as if it may come.
 */
const ONWARD_LOOKS = 16_384;
/** At the end, the recording waits this long at most for the last verdicts' causes (ms). */
const FINAL_CAUSES_WAIT_MS = REMOTE_CAUSE_WAIT_MS + 1000;
/**
 * A judge tick this much later than due means the process was held up so long that
 * what it judges may not be safe (ms): packets stamped within the hold (HOLD_LOCAL_MS,
 * 600) of now may wait unread in a ring — a TPACKET_V3 block is handed over 50 ms
 * after its first packet, so those waiting are stamped after now − late − 50 ms.
 * Below 200 ms that stays well inside the hold; a ring left with packets unread is
 * covered by the session's unreadAfter, and the drop counters are read at the tick
 * itself. (It was 50 ms, which skipped ticks a busy capture could judge, and added a
 * tick to those verdicts.)
 */
const LATE_TICK_MS = 200;

export interface LiveRunOptions {
  /** standard output (liveOutput) */
  out: LineWriter;
  json: boolean;
  packets: boolean;
  durationS: number | undefined;
  /** the run's recording (-w, --record, the TUI's r) */
  recording: Recording;
  /** another sink of every record (--report) */
  records?: RecordSink | null;
  /** the evidence gatherer (causes of problem verdicts); null: --no-cause */
  gatherer?: EvidenceGatherer | null;
}

/** What the command reports once the capture has stopped. */
export interface LiveEnd {
  /** final counters, one per interface in id order */
  finals: InterfaceStats[];
  /** packets captured per capture's id (a capture of every device: all its devices') */
  counts: readonly number[];
  /** hands a record the command makes (the final counters) to the other sink of records */
  lifecycle(r: ContractRecord): void;
}

export interface LiveRunHandlers {
  /** The final report (before the summary): counters and recordings. */
  report(end: LiveEnd): void;
}

/** Standard output for a live run: never waits for its reader; what does not fit is skipped, and said. */
export function liveOutput(json: boolean): LineWriter {
  const out: LineWriter = new LineWriter(process.stdout, {
    skipAboveBytes: OUTPUT_QUEUE_BYTES,
    onSkipped: (n) => {
      if (json) {
        const skipped: SkippedRecord = { type: 'skipped', records: n, reason: 'output too slow' };
        out.line(JSON.stringify(skipped));
      }
      process.stderr.write(
        `hopscope: ${n} output ${json ? 'records' : 'lines'} skipped: standard output was not read fast enough\n`,
      );
    },
  });
  return out;
}

/**
 * Time stamps are on the first named host's clock, whatever order the
 * captures start in; the recording names it, so a replay uses the same one.
 */
export function referenceHost(session: CaptureSession): string | null {
  return session.targets[0]?.host ?? null;
}

/** The latest end of the captures' final statistics, or null when none says. */
function captureEnd(finals: readonly InterfaceStats[]): { sec: number; nsec: number } | null {
  let end: { sec: number; nsec: number } | null = null;
  for (const f of finals) {
    const e = f.end;
    if (e !== undefined && (end === null || e.sec > end.sec || (e.sec === end.sec && e.nsec > end.nsec)))
      end = e;
  }
  return end;
}

function wallNow(): { sec: number; nsec: number } {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

/**
 * Captures with `session` until a stop condition; returns the summary of the verdicts.
 * Errors starting the capture (CaptureStartError, …) are thrown after everything
 * opened is closed again.
 */
export async function runLive(
  session: CaptureSession,
  options: LiveRunOptions,
  handlers: LiveRunHandlers,
): Promise<SummaryRecord> {
  const { out, json, recording } = options;
  const gatherer = options.gatherer ?? null;
  /** interfaces reported gone or retrying, so their return is reported too */
  const down = new Set<number>();
  const stop = new RunStop({
    signals: {
      again: (signal) => {
        // A second Ctrl-C: do not wait for remote hosts; the recording still closes complete.
        recording.closeSync();
        process.stderr.write(`hopscope: ${signal} again, quitting without waiting for remote hosts\n`);
        process.exit(130);
      },
    },
    // An output pipe closed by its reader (`| head`), or stdout failing, ends the capture too.
    output: out,
  });
  // Should anything throw past us, the recording is still closed with what it has.
  const onExit = (): void => recording.closeSync();
  process.on('exit', onExit);
  // A file-size limit (ulimit -f) must stop the recording (EFBIG), not kill the capture.
  // Node ignores SIGXFSZ, but a signal listener that comes and goes (execa's signal-exit,
  // run for every child process) leaves it at its default, which kills: a listener of
  // ours for the whole capture keeps the write returning EFBIG.
  process.on('SIGXFSZ', ignoreSignal);
  let tui: Tui | null = null;
  try {
    // The gatherer reads each namespace's counters before the first packet, so they can
    // move from there (before the TUI opens: it shows a capture about to begin).
    const memory = gatherer !== null ? new PacketMemory() : null;
    // (a source it cannot read is said in each cause's evidence: the capture goes on; a
    // slow host does not hold the capture up longer than GATHERER_START_WAIT_MS)
    if (gatherer !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        gatherer.start(session.targets.map((t) => placeOf(t.label))).catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, GATHERER_START_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    const targets = session.targets.length;
    // On a terminal, without --json/--packets: the TUI.
    const model = wantsTui(json, options.packets)
      ? new TuiModel(
          'live',
          `${targets} interface${targets === 1 ? '' : 's'}`,
          Date.now(),
          recording.recorder?.basePath ?? null,
        )
      : null;
    const screen =
      model === null
        ? null
        : await openTui(model, { onQuit: () => stop.stop('quit'), onRecord: () => recording.toggle() });
    tui = screen;
    if (model !== null) recording.showIn(model);
    // A recording (or one the TUI's r may start) gets the non-ok verdicts as packet comments.
    const annotations = recording.recorder !== null || model !== null ? new AnnotationTable() : null;
    const watched = new Set(session.targets.map((t) => t.label));
    const stages: Stages = new Stages({
      live: true,
      out,
      json,
      packets: options.packets,
      tui: model === null || screen === null ? null : { model, changed: () => screen.changed() },
      // (no tap: the recording takes local batches whole, and remote packets, below)
      records: options.records ?? null,
      annotations,
      memory,
      // (a DNS forwarder's failed query upstream explains its client's: the labels' namespaces tell)
      causes:
        gatherer !== null && memory !== null
          ? new OnwardCauses(
              new GatheredCauses(gatherer, memory),
              (label): ReturnType<NamespaceOf> => stages.namespaceOf(label),
              // (the queries that began since: a packet is read within the hold of its stamp)
              (sec, nsec, visit) =>
                stages.correlator.recent.since(
                  Kind.Dns,
                  sec,
                  nsec,
                  holdMs(session.hasRemote) * 1e6,
                  ONWARD_LOOKS,
                  visit,
                ),
            )
          : null,
      onCause: (ex, cause) => recording.cause(ex, cause),
    });
    const correlator = stages.correlator;
    correlator.setReferenceHost(referenceHost(session));
    const hold = holdMs(session.hasRemote) / 1000;
    const overdue = overdueMs(session.hasRemote) / 1000;
    const note = (text: string): void => {
      // The TUI shows states itself; stderr would write over its screen.
      if (json || screen !== null) return;
      process.stderr.write(`hopscope: ${text}\n`);
    };

    const announced = (iface: InterfaceDescriptor, start: { sec: number; nsec: number }): void => {
      stages.interface(iface);
      if (gatherer !== null && !watched.has(iface.label)) {
        // a glob's new match: its namespace's counters and drops are watched from now
        watched.add(iface.label);
        gatherer.watch([placeOf(iface.label)]).catch(() => undefined);
      }
      correlator.captures.started(iface.id, start.sec, start.nsec);
    };
    // A capture of every device (`-i NS/any`) is recorded as captured, and its packets
    // are the sightings of the devices they were seen on (framing/device-split.ts): each
    // an interface of its own from its first packet, running since the capture started.
    const started: Array<{ sec: number; nsec: number }> = [];
    // A device the namespace's listing did not name (made after it: a VM's tap) is asked
    // for at its first packet, and the recording names it before that packet.
    const devices = new DeviceSplit<InterfaceDescriptor>(
      () => session.newInterfaceId(),
      (device, capture, _stats, looked) => {
        // (a cause at the device is written to its capture's statistics)
        recording.device(device, capture.id, looked);
        announced(device, started[capture.id] ?? wallNow());
      },
      (captureId, ifindex) => session.deviceAt(captureId, ifindex),
    );
    /** the interfaces a capture's lifecycle (state, drops) is about: its devices, when split */
    const interfacesOf = (id: number): readonly number[] =>
      devices.isSplit(id) ? devices.devicesOf(id) : [id];
    const packetOf = (iface: InterfaceDescriptor): ((p: FramedPacket) => void) =>
      devices.isSplit(iface.id)
        ? (p) => stages.packet(p, stages.interfaces[devices.route(iface.id, p.data, p.offset, p.caplen)])
        : (p) => stages.packet(p, iface);
    /**
     * A split capture's new devices found before its batch is recorded, so the recording
     * names a device before its first packet (routing again, below, is a Map hit).
     */
    const findDevices = (iface: InterfaceDescriptor): ((p: FramedPacket) => void) | null =>
      devices.isSplit(iface.id) ? (p) => void devices.route(iface.id, p.data, p.offset, p.caplen) : null;

    await session.start({
      onInterface(announcedIface: InterfaceDescriptor) {
        // an `any` capture knows its devices as its namespace's listing gave them (spec.ts)
        const known = session.targets.find((t) => t.id === announcedIface.id)?.devices;
        const iface = known !== undefined ? { ...announcedIface, devices: known } : announcedIface;
        recording.interface(iface);
        const t = wallNow();
        if (!splitsByDevice(iface.linktype, iface.name)) announced(iface, t);
        else if (!devices.isSplit(iface.id)) {
          // (announced again with new addresses: its devices stay)
          devices.add(iface);
          started[iface.id] = t;
        }
      },
      onPacket(p, iface) {
        // a remote packet: recorded before it is decoded, as a local batch is (its device
        // found first, so the recording names a new one before it)
        const at = devices.isSplit(iface.id)
          ? stages.interfaces[devices.route(iface.id, p.data, p.offset, p.caplen)]
          : iface;
        recording.packet(p);
        stages.packet(p, at);
      },
      onBatch(batch, iface) {
        const find = findDevices(iface);
        if (find !== null) batch.forEach(find);
        recording.batch(batch, iface.id);
        batch.forEach(packetOf(iface));
      },
      onState(iface: CaptureTarget & { id: number }, state: InterfaceState, reason: string | null) {
        const t = wallNow();
        for (const id of interfacesOf(iface.id)) {
          if (state === 'gone' || state === 'retrying') correlator.captures.gone(id, t.sec, t.nsec);
          else if (state === 'up') correlator.captures.back(id, t.sec, t.nsec);
          model?.setState(id, state);
        }
        recording.state(iface.id, state);
        screen?.changed();
        const record: InterfaceStateRecord = { type: 'state', iface: iface.label, state, reason };
        stages.lifecycle(record);
        if (json) {
          out.line(JSON.stringify(record));
          out.flush();
        } else if (state !== 'up' && state !== 'stopped') {
          down.add(iface.id);
          note(`${iface.label} is ${state}${reason ? `: ${reason}` : ''}`);
        } else if (state === 'up' && down.delete(iface.id)) {
          note(`${iface.label} is back`);
        }
      },
      onStats(stats, iface) {
        recording.stats(stats);
        const t = wallNow();
        for (const id of interfacesOf(stats.interfaceId)) {
          correlator.captures.drops(id, stats.dropped, t.sec, t.nsec, DROP_WINDOW_NS);
          model?.setDropped(id, stats.dropped);
        }
        if (!stats.final) {
          const record: StatsRecord = {
            type: 'stats',
            iface: iface.label,
            received: stats.received,
            dropped: stats.dropped,
            final: false,
          };
          stages.lifecycle(record);
          if (json) out.line(JSON.stringify(record));
        }
      },
      onWarning(message) {
        note(`warning: ${message}`);
      },
      onNotice(message) {
        // On stderr with --json too: no record carries it. The TUI shows it in its notes.
        if (model !== null) model.note(message);
        else process.stderr.write(`hopscope: ${message}\n`);
      },
    });

    if (options.durationS !== undefined) stop.after(options.durationS);
    const all = session.targets;
    note(
      `capturing on ${all.length} interface${all.length === 1 ? '' : 's'}: ${all.map((t) => t.label).join(', ')}` +
        (recording.recorder ? `; recording to ${recording.recorder.basePath}` : '') +
        (options.durationS !== undefined ? `; for ${options.durationS} s` : '; Ctrl-C to stop'),
    );

    if (options.packets) {
      stop.every(PRINT_INTERVAL_MS, () => {
        stages.releaseLines(Math.min(Date.now() / 1000 - hold, session.unreadAfter() ?? Infinity));
        out.flush();
      });
    }
    stop.every(FLUSH_INTERVAL_MS, () => {
      out.flush();
      recording.showSize();
    });
    // Verdicts for exchanges whose timeout passed longer ago than every source can lag.
    let lastTick = Date.now();
    let skipped = false;
    stop.every(JUDGE_INTERVAL_MS, () => {
      // A tick much later than due means the process was held up: packets may still wait in
      // the kernel's rings, to be read in this loop turn's poll phase. Judge on the next tick.
      const late = Date.now() - lastTick - JUDGE_INTERVAL_MS;
      lastTick = Date.now();
      if (late > LATE_TICK_MS && !skipped) {
        skipped = true;
        return;
      }
      skipped = false;
      // drops up to now are known before anything up to now less the hold is judged
      session.readCounters(true);
      const t = wallNow();
      // nothing is judged past a packet that may still wait unread in a ring
      const unread = session.unreadAfter() ?? Infinity;
      const held = Math.min(t.sec + t.nsec / 1e9 - hold, unread);
      const sec = Math.floor(held);
      correlator.advance(sec, Math.round((held - sec) * 1e9));
      if (gatherer !== null) {
        // exchanges overdue whose hold lasts: a problem's cause is read from now
        const due = Math.min(t.sec + t.nsec / 1e9 - overdue, unread);
        const dueSec = Math.floor(due);
        correlator.lookAhead(dueSec, Math.round((due - dueSec) * 1e9), OVERDUE_LOOKS_PER_TICK);
      }
      // The verdicts go out now, not at the next FLUSH_INTERVAL_MS (also those that waited
      // for their cause since the last tick): a script reading them gets each within a
      // judge interval of its hold. (A flush with nothing pending writes nothing.)
      out.flush();
    });
    await stop.stopped();

    // The terminal is the operator's again before the final report is printed.
    screen?.destroy();
    const finals = await session.stop();
    // Open exchanges are judged where the captures stopped (their final statistics'
    // end), as a replay of the recording judges them — not after the stop's own waits
    // (remote drains, discovery), which on a busy machine made a verdict lost live
    // and inconclusive in the replay.
    const end = captureEnd(finals) ?? wallNow();
    stages.drainLines();
    let finishing: Promise<SummaryRecord> | null = null;
    if (gatherer !== null) {
      // Exchanges still open are judged now, and the last verdicts' causes go to the
      // recording before it closes — unless stdout's reader holds the verdicts up: the
      // recording never waits for it longer than a cause may take.
      out.keepEverything();
      finishing = stages.finish(end.sec, end.nsec);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        finishing,
        new Promise((resolve) => (timer = setTimeout(resolve, FINAL_CAUSES_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    await recording.close(finals);
    // Captured and recorded: from here the final records wait for stdout's reader.
    out.keepEverything();
    // Exchanges still open are judged now (before the table, after their packets).
    const summary = await (finishing ?? stages.finish(end.sec, end.nsec));
    await gatherer?.stop();
    if (annotations !== null) recording.annotate(annotations);
    const counts: number[] = [];
    for (const t of session.targets)
      counts[t.id] = interfacesOf(t.id).reduce((n, id) => n + (stages.counts[id] ?? 0), 0);
    handlers.report({ finals, counts, lifecycle: (r) => stages.lifecycle(r) });
    stages.printSummary(summary);
    return summary;
  } finally {
    tui?.destroy();
    stop.dispose();
    process.removeListener('exit', onExit);
    process.removeListener('SIGXFSZ', ignoreSignal);
    recording.closeSync();
    await session.stop();
    await gatherer?.stop();
    await out.end();
  }
}

function ignoreSignal(): void {
  // see process.on('SIGXFSZ') in runLive
}
