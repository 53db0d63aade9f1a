// `hopscope capture -i SPEC ...` (DESIGN §2): resolve the specs, capture on every
// interface at once (sources/capture-session), and hand what arrives to the sinks
// the options choose — the pcapng recorder (-w), packet lines (--packets), JSON
// records (--json) — until --duration, Ctrl-C, SIGTERM or SIGHUP. Whatever ends
// the capture, the recording is closed complete (interface statistics included)
// and the final counters are printed. A recording that cannot go on (a full disk)
// stops at its last whole block with a notice; the capture goes on, and its exit
// status does not change. Recordings without a name (--record, the TUI's `r`) go to
// the working directory, as tcpdump's would.
import { decodePacket } from '../../decode/decode-packet.js';
import { describePacket } from '../../decode/packet-view.js';
import { PacketRecord } from '../../decode/record.js';
import {
  CAPTURE_BACK,
  CAPTURE_GONE,
  linktypeName,
  type InterfaceDescriptor,
  type InterfaceStats,
  type PacketView,
  type SkippedRecord,
} from '../../events/types.js';
import { formatTimestamp } from '../../shared/timestamp-text.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { formatPacketLine } from '../../sinks/packet-text.js';
import { clockReferenceComment } from '../../correlate/clock.js';
import {
  nextRecordingSeries,
  PcapngRecorder,
  RecordingError,
  type RecordingStop,
} from '../../sinks/pcapng-recorder.js';
import { BufferPool, MAX_SPARE_BYTES } from '../../sinks/recording-file.js';
import { identityTargets } from '../../path/identity.js';
import { CaptureSession, CaptureStartError } from '../../sources/capture-session.js';
import { Correlator } from '../../correlate/correlator.js';
import { warmUpPipeline } from '../../correlate/warm-up.js';
import { TuiModel } from '../../ui/model.js';
import { ExchangeOutput } from '../../sinks/exchange-output.js';
import { DiscoveryError } from '../../sources/discovery.js';
import { RemoteCaptureError } from '../../sources/remote-capture.js';
import { parseSpec, SpecError, type CaptureSpec } from '../../sources/spec.js';
import { TimeOrderBuffer } from '../../sources/time-order.js';
import { numberOption, parseArgs, type OptionSpec } from '../args.js';
import { EXIT_OK, UserError } from '../errors.js';
import { setLongTimeout } from '../long-timer.js';
import { canCapture, canEnterNamespaces } from '../privileges.js';

const OPTIONS: OptionSpec[] = [
  { name: 'interface', short: 'i', kind: 'list' },
  { name: 'filter', short: 'f', kind: 'string' },
  { name: 'write', short: 'w', kind: 'string' },
  { name: 'record', kind: 'flag' },
  { name: 'overwrite', kind: 'flag' },
  { name: 'max-size', kind: 'string' },
  { name: 'max-files', kind: 'string' },
  { name: 'json', kind: 'flag' },
  { name: 'packets', kind: 'flag' },
  { name: 'duration', kind: 'string' },
  { name: 'ssh-config', kind: 'string' },
  { name: 'snaplen', short: 's', kind: 'string' },
  { name: 'buffer-size', short: 'B', kind: 'string' },
  { name: 'remote-tcpdump', kind: 'string' },
];

/**
 * How long packet lines and verdicts wait for other interfaces' packets (local: ring
 * blocks of 10 ms and counters read every 250 ms; remote: tcpdump's 1 s buffer and ssh)
 * before they are printed in time order or judged.
 */
const HOLD_LOCAL_S = 0.6;
const HOLD_REMOTE_S = 2.5;
const JUDGE_INTERVAL_MS = 100;
const PRINT_INTERVAL_MS = 100;
/**
 * Output waiting for stdout's reader, at most (bytes): the capture and the recording
 * never wait for it; lines beyond are skipped, counted and reported.
 */
const OUTPUT_QUEUE_BYTES = 16 * 1024 * 1024;
/** Exchanges judged at the end between two looks at stdout. */
const FINISH_STEP = 4096;

interface CaptureOptions {
  specs: CaptureSpec[];
  filter: string | undefined;
  write: string | null | undefined;
  overwrite: boolean;
  maxSizeBytes: number | undefined;
  maxFiles: number | undefined;
  json: boolean;
  packets: boolean;
  durationS: number | undefined;
  sshConfig: string | undefined;
  snaplen: number | undefined;
  bufferSize: number | undefined;
  remoteTcpdump: string | undefined;
}

function parseOptions(argv: string[]): CaptureOptions {
  const args = parseArgs(argv, OPTIONS, 'capture');
  if (args.positionals.length > 0) {
    throw new UserError(
      `capture: unexpected argument '${args.positionals[0]}' (interfaces go after -i, the filter after -f)`,
    );
  }
  const specTexts = args.lists.get('interface') ?? [];
  if (specTexts.length === 0)
    throw new UserError("capture: no interface given (use -i SPEC, e.g. -i 'tap*'; see hopscope ifaces)");
  let specs: CaptureSpec[];
  try {
    specs = specTexts.map(parseSpec);
  } catch (err) {
    if (err instanceof SpecError) throw new UserError(`capture: ${err.message}`);
    throw err;
  }
  const maxSizeMB = numberOption(args, 'max-size', 'capture', undefined, Number.MIN_VALUE);
  const maxFiles = numberOption(args, 'max-files', 'capture', undefined, 1);
  if (maxFiles !== undefined && !Number.isInteger(maxFiles))
    throw new UserError('capture: --max-files must be a whole number');
  if (maxFiles !== undefined && maxSizeMB === undefined)
    throw new UserError('capture: --max-files needs --max-size (the size at which files rotate)');
  const writing = args.values.has('write') || args.flags.has('record');
  if (args.values.has('write') && args.flags.has('record'))
    throw new UserError(
      'capture: -w FILE and --record exclude each other (--record picks a name in the working directory)',
    );
  if (args.values.get('write') === '')
    throw new UserError("capture: -w needs a file name, and '' was given (an unset variable?)");
  if (args.flags.has('overwrite') && !args.values.has('write'))
    throw new UserError('capture: --overwrite replaces the file of -w FILE: give -w FILE');
  if (maxSizeMB !== undefined && !writing)
    throw new UserError('capture: --max-size rotates a recording: give -w FILE.pcapng or --record');
  if (args.values.get('write') === '-')
    throw new UserError('capture: -w - (pcapng on stdout) is not supported; give a file name');
  const snaplen = numberOption(args, 'snaplen', 'capture', undefined, 1);
  if (snaplen !== undefined && (!Number.isInteger(snaplen) || snaplen > 262144))
    throw new UserError('capture: --snaplen must be a whole number from 1 to 262144');
  const bufferKiB = numberOption(args, 'buffer-size', 'capture', undefined, 1);
  return {
    specs,
    filter: args.values.get('filter'),
    write: writing ? (args.values.get('write') ?? null) : undefined,
    overwrite: args.flags.has('overwrite'),
    maxSizeBytes: maxSizeMB === undefined ? undefined : Math.round(maxSizeMB * 1024 * 1024),
    maxFiles,
    json: args.flags.has('json'),
    packets: args.flags.has('packets'),
    durationS: numberOption(args, 'duration', 'capture', undefined, Number.MIN_VALUE),
    sshConfig: args.values.get('ssh-config'),
    snaplen,
    bufferSize: bufferKiB === undefined ? undefined : Math.round(bufferKiB * 1024),
    remoteTcpdump: args.values.get('remote-tcpdump'),
  };
}

function checkPrivileges(specs: readonly CaptureSpec[]): void {
  const local = specs.filter((s) => s.host === null);
  if (local.length === 0) return; // remote hosts: ssh and the remote tcpdump need nothing here
  const namespaced = local.find((s) => s.netns.kind !== 'root');
  if (namespaced !== undefined && !canEnterNamespaces()) {
    throw new UserError(
      `capture: entering network namespaces needs root (CAP_SYS_ADMIN) (-i ${JSON.stringify(namespaced.text)}); run as root`,
    );
  }
  if (!canCapture()) {
    throw new UserError(
      `capture: capturing on local interfaces needs root or CAP_NET_RAW (-i ${JSON.stringify(local[0].text)}); run as root`,
    );
  }
}

/** One line for an error that ends the capture before it began. */
function userMessage(err: unknown): string | null {
  if (err instanceof SpecError || err instanceof DiscoveryError || err instanceof CaptureStartError)
    return err.message;
  if (err instanceof RemoteCaptureError || err instanceof RecordingError) return err.message;
  return null;
}

export async function runCapture(argv: string[]): Promise<number> {
  const opts = parseOptions(argv);
  checkPrivileges(opts.specs);

  let session: CaptureSession;
  try {
    session = await CaptureSession.resolve(opts.specs, {
      filter: opts.filter,
      sshConfig: opts.sshConfig,
      snaplen: opts.snaplen,
      bufferSize: opts.bufferSize,
      tcpdumpPath: opts.remoteTcpdump,
      identities: identityTargets,
    });
  } catch (err) {
    const message = userMessage(err);
    if (message !== null) throw new UserError(`capture: ${message}`);
    throw err;
  }

  warmUpPipeline();
  // Time stamps are on the first named host's clock (DESIGN §3), whatever order the
  // captures start in; the recording names it, so a replay uses the same one.
  const referenceHost = session.targets[0]?.host ?? null;
  /** Where a recording's notices go (the TUI's header once it is up). */
  let tellRecording = (text: string): void => {
    process.stderr.write(`hopscope: ${text}\n`);
  };
  let recorder: PcapngRecorder | null = null;
  /** recordings stopped (the TUI's `r`, a full disk): the final report lists them too */
  const recorded: PcapngRecorder[] = [];
  const json = opts.json;
  // A reader slower than the capture: what does not fit is skipped, and said once it reads again.
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
  // One pool of write buffers for every recording of this capture, ready before the first
  // packet: as many as the file may queue, so a burst at the start (a capture begun in the
  // middle of a flood) finds them without page faults (src/sinks/recording-file.ts).
  const recordingBuffers = new BufferPool();
  /** `-w FILE` (path), or the first free name of a series; with neither, a new name in the working directory. */
  const openRecorder = (target: { path?: string; series?: (k: number) => string }): PcapngRecorder =>
    PcapngRecorder.open({
      ...target,
      overwrite: opts.overwrite,
      // (without a path or series: a new name in the working directory)
      pool: recordingBuffers,
      reserveBytes: MAX_SPARE_BYTES,
      maxSizeBytes: opts.maxSizeBytes,
      maxFiles: opts.maxFiles,
      comment: clockReferenceComment(referenceHost),
      onNotice: (text) => tellRecording(text),
      onStop: (stop) => {
        // The capture goes on without it; the report lists it as incomplete.
        if (recorder !== null && recorder.isClosed) {
          recorded.push(recorder);
          recorder = null;
        }
        tellRecording(stoppedText(stop));
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
  if (opts.write !== undefined) {
    try {
      recorder = openRecorder(opts.write !== null ? { path: opts.write } : {});
    } catch (err) {
      if (err instanceof RecordingError) throw new UserError(`capture: ${err.message}`);
      throw err;
    }
  }

  const rec = new PacketRecord();
  const interfaces: InterfaceDescriptor[] = [];
  const counts: number[] = [];
  const hold = session.hasRemote ? HOLD_REMOTE_S : HOLD_LOCAL_S;
  const ordered = new TimeOrderBuffer<PacketView>();
  // On a terminal, without --json/--packets: the TUI (loaded only then).
  const model =
    process.stdout.isTTY === true && !json && !opts.packets
      ? new TuiModel(
          'live',
          `${session.targets.length} interface${session.targets.length === 1 ? '' : 's'}`,
          Date.now(),
          recorder?.basePath ?? null,
        )
      : null;
  const stopFromTui = { stop: (): void => undefined };
  /** The TUI's `r`: stops the recording, or starts a new one (never over an existing file). */
  const toggleRecording = (): void => {
    if (model === null) return;
    if (recorder !== null) {
      const done = recorder;
      recorder = null;
      recorded.push(done);
      model.recording = null;
      done.closeSync();
      // (a recording that could not be closed complete has said so itself)
      if (done.stopped === null) model.note(`recorded ${done.packetsWritten} packets to ${done.basePath}`);
      return;
    }
    try {
      // Never over an existing file: next to -w FILE as FILE.2, FILE.3, …, else a new name here.
      const next = openRecorder(
        typeof opts.write === 'string' ? { series: nextRecordingSeries(opts.write) } : {},
      );
      for (const d of interfaces) if (d !== undefined) next.addInterface(d);
      for (const id of gaps) next.recordGap(id, CAPTURE_GONE);
      recorder = next;
      model.recording = next.basePath;
      model.recordingBytes = next.bytesWritten;
      model.note(`recording to ${next.basePath}`);
    } catch (err) {
      model.note(`cannot record: ${(err as Error).message}`);
    }
  };
  const tui =
    model === null
      ? null
      : new (await import('../../ui/tui.js')).Tui(model, {
          onQuit: () => stopFromTui.stop(),
          onRecord: toggleRecording,
        });
  if (model !== null)
    tellRecording = (text) => {
      model.note(text);
      if (recorder === null) model.recording = null;
    };
  const note = (text: string): void => {
    // The TUI shows states itself; stderr would write over its screen.
    if (json || tui !== null) return;
    process.stderr.write(`hopscope: ${text}\n`);
  };
  const lastDropped: number[] = [];
  /** interfaces whose capture gap is open in the recording */
  const gaps = new Set<number>();
  /** interfaces reported gone or retrying, so their return is reported too */
  const down = new Set<number>();
  const verdicts = new ExchangeOutput(out, { json });
  const correlator = new Correlator({
    onExchange: (ex) => {
      if (model !== null) {
        model.exchange(ex);
        tui?.changed();
      } else verdicts.exchange(ex);
    },
    wants: (status) => (model !== null ? model.wants(status) : verdicts.wants(status)),
    onClock: (c) => (model !== null ? model.clock(c) : verdicts.clock(c)),
    advanceWithPackets: false,
  });
  correlator.setReferenceHost(referenceHost);
  const wallNow = (): { sec: number; nsec: number } => {
    const ms = Date.now();
    return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
  };
  let n = 0;
  const emitPacket = (view: PacketView): void => {
    view.n = ++n;
    out.line(json ? JSON.stringify(view) : formatPacketLine(view));
  };

  let status: number;
  const stop = new AbortController();
  stopFromTui.stop = () => stop.abort('quit');
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      // A second Ctrl-C: do not wait for remote hosts; the recording still closes complete.
      recorder?.closeSync();
      process.stderr.write(`hopscope: ${signal} again, quitting without waiting for remote hosts\n`);
      process.exit(130);
    }
    stop.abort(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  // Should anything throw past us, the recording is still closed with what it has.
  const onExit = (): void => recorder?.closeSync();
  process.on('exit', onExit);
  // A file-size limit (ulimit -f) must stop the recording (EFBIG), not kill the capture.
  // Node ignores SIGXFSZ, but a signal listener that comes and goes (execa's signal-exit,
  // run for every child process) leaves it at its default, which kills: a listener of
  // ours for the whole capture keeps the write returning EFBIG.
  process.on('SIGXFSZ', ignoreSignal);

  try {
    try {
      await session.start({
        onInterface(iface) {
          interfaces[iface.id] = iface;
          model?.addInterface(iface.id, iface.label);
          counts[iface.id] ??= 0;
          recorder?.addInterface(iface);
          correlator.addInterface({
            id: iface.id,
            label: iface.label,
            host: iface.host,
            tsResolutionNs: iface.tsResolutionNs,
            addresses: iface.addresses,
          });
          const t = wallNow();
          correlator.interfaceStarted(iface.id, t.sec, t.nsec);
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
              }),
            );
            out.flush();
          }
        },
        onPacket(p, iface) {
          counts[iface.id]++;
          model?.packet(iface.id);
          recorder?.writePacket(p);
          decodePacket(p.data, p.offset, p.offset + p.caplen, iface.linktype, p.len, rec);
          correlator.packet(rec, iface.id, p.tsSec, p.tsNsec);
          // stdout not read fast enough: this packet's line is skipped now, not made and held
          if (opts.packets && out.saturated) out.skip();
          else if (opts.packets) {
            const view = describePacket(
              rec,
              0,
              iface.label,
              formatTimestamp(p.tsSec, p.tsNsec),
              p.caplen,
              p.len,
            );
            ordered.push(p.tsSec, p.tsNsec, view);
          }
        },
        onState(iface, state, reason) {
          const t = wallNow();
          if (state === 'gone' || state === 'retrying') correlator.interfaceGone(iface.id, t.sec, t.nsec);
          else if (state === 'up') correlator.interfaceBack(iface.id, t.sec, t.nsec);
          // The recording keeps the gap too, for a replay to judge it as live capture did.
          if (state === 'gone' || state === 'retrying') {
            if (!gaps.has(iface.id)) recorder?.recordGap(iface.id, CAPTURE_GONE);
            gaps.add(iface.id);
          } else if (state === 'up' && gaps.delete(iface.id)) recorder?.recordGap(iface.id, CAPTURE_BACK);
          model?.setState(iface.id, state);
          tui?.changed();
          if (json) {
            out.line(JSON.stringify({ type: 'state', iface: iface.label, state, reason }));
            out.flush();
          } else if (state !== 'up' && state !== 'stopped') {
            down.add(iface.id);
            note(`${iface.label} is ${state}${reason ? `: ${reason}` : ''}`);
          } else if (state === 'up' && down.delete(iface.id)) {
            note(`${iface.label} is back`);
          }
        },
        onStats(stats, iface) {
          // A drop is recorded when it happens (an ISB), so a replay judges that time as live did.
          if (stats.dropped > (lastDropped[stats.interfaceId] ?? 0)) recorder?.recordStats(stats);
          else recorder?.updateStats(stats);
          lastDropped[stats.interfaceId] = stats.dropped;
          const t = wallNow();
          correlator.interfaceDrops(stats.interfaceId, stats.dropped, t.sec, t.nsec);
          model?.setDropped(stats.interfaceId, stats.dropped);
          if (json && !stats.final) {
            out.line(
              JSON.stringify({
                type: 'stats',
                iface: iface.label,
                received: stats.received,
                dropped: stats.dropped,
                final: false,
              }),
            );
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
    } catch (err) {
      const message = userMessage(err);
      if (message !== null) throw new UserError(`capture: ${message}`);
      throw err;
    }

    const targets = session.targets;
    note(
      `capturing on ${targets.length} interface${targets.length === 1 ? '' : 's'}: ${targets.map((t) => t.label).join(', ')}` +
        (recorder ? `; recording to ${recorder.basePath}` : '') +
        (opts.durationS !== undefined ? `; for ${opts.durationS} s` : '; Ctrl-C to stop'),
    );

    const printer = opts.packets
      ? setInterval(() => {
          ordered.release(Date.now() / 1000 - hold, emitPacket);
          out.flush();
        }, PRINT_INTERVAL_MS)
      : null;
    const flusher = setInterval(() => {
      out.flush();
      if (model !== null && recorder !== null) model.recordingBytes = recorder.bytesWritten;
    }, 1000);
    // Verdicts for exchanges whose timeout passed longer ago than every source can lag.
    let lastTick = Date.now();
    let skipped = false;
    const judge = setInterval(() => {
      // A tick much later than due means the process was held up: packets may still wait in
      // the kernel's rings, to be read in this loop turn's poll phase. Judge on the next tick.
      const late = Date.now() - lastTick - JUDGE_INTERVAL_MS;
      lastTick = Date.now();
      if (late > 50 && !skipped) {
        skipped = true;
        return;
      }
      skipped = false;
      const t = wallNow();
      const held = t.sec + t.nsec / 1e9 - hold;
      const sec = Math.floor(held);
      correlator.advance(sec, Math.round((held - sec) * 1e9));
    }, JUDGE_INTERVAL_MS);
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener('abort', () => resolve(), { once: true });
      if (opts.durationS !== undefined) {
        const cancel = setLongTimeout(opts.durationS * 1000, () => stop.abort('duration'));
        stop.signal.addEventListener('abort', cancel, { once: true });
      }
      // An output pipe closed by its reader (`| head`), or stdout failing, ends the capture too.
      const pipeWatch = setInterval(() => {
        if (out.isClosed) stop.abort('EPIPE');
      }, 200);
      stop.signal.addEventListener('abort', () => clearInterval(pipeWatch), { once: true });
    });
    if (printer !== null) clearInterval(printer);
    clearInterval(flusher);
    clearInterval(judge);

    // The terminal is the operator's again before the final report is printed.
    tui?.destroy();
    const finals = await session.stop();
    const end = wallNow();
    ordered.drain(emitPacket);
    for (const s of finals) recorder?.updateStats(s);
    if (recorder !== null) await recorder.close();
    // Captured and recorded: from here the final records wait for stdout's reader.
    out.keepEverything();
    // Exchanges still open are judged now (before the table, after their packets).
    while (!correlator.finishSome(FINISH_STEP, end.sec, end.nsec)) if (out.full) await out.drained();
    const summary = correlator.finish(end.sec, end.nsec);
    report(finals, session, counts, out, json, opts.packets, [
      ...recorded,
      ...(recorder !== null ? [recorder] : []),
    ]);
    status = verdicts.summary(summary);
  } finally {
    tui?.destroy();
    for (const s of signals) process.removeListener(s, onSignal);
    process.removeListener('exit', onExit);
    process.removeListener('SIGXFSZ', ignoreSignal);
    if (recorder !== null && !recorder.isClosed) recorder.closeSync();
    await session.stop();
    await out.end();
  }
  return status === 0 ? EXIT_OK : status;
}

function ignoreSignal(): void {
  // see process.on('SIGXFSZ') in runCapture
}

function report(
  finals: readonly InterfaceStats[],
  session: CaptureSession,
  counts: readonly number[],
  out: LineWriter,
  json: boolean,
  packets: boolean,
  recordings: readonly PcapngRecorder[],
): void {
  const targets = session.targets;
  if (json) {
    for (const s of finals) {
      out.line(
        JSON.stringify({
          type: 'stats',
          iface: targets[s.interfaceId].label,
          received: s.received,
          dropped: s.dropped,
          captured: counts[s.interfaceId] ?? 0,
          final: true,
        }),
      );
    }
    return;
  }
  const total = counts.reduce((a, b) => a + (b ?? 0), 0);
  const width = Math.max(9, ...targets.map((t) => t.label.length));
  const lines = [
    `${total} packets captured on ${targets.length} interface${targets.length === 1 ? '' : 's'}:`,
    `  ${'interface'.padEnd(width)}  captured  received   dropped`,
    ...finals.map(
      (s) =>
        `  ${targets[s.interfaceId].label.padEnd(width)}  ${String(counts[s.interfaceId] ?? 0).padStart(8)}  ${String(s.received).padStart(8)}  ${String(s.dropped).padStart(8)}`,
    ),
  ];
  for (const recorder of recordings) {
    const files = recorder.files;
    const where = files.length === 1 ? files[0] : `${files.length} files: ${files.join(', ')}`;
    const stop = recorder.stopped;
    lines.push(
      stop === null
        ? `recorded ${recorder.packetsWritten} packets to ${where}`
        : `recording ${where} incomplete: ${stoppedAt(stop)}`,
    );
  }
  // The report goes to stderr when stdout carries packet lines, like tcpdump's counts.
  if (packets) process.stderr.write(`${lines.join('\n')}\n`);
  else for (const line of lines) out.line(line);
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
