// `hopscope replay FILE...`: recordings through the same pipeline as live capture
// (pipeline/files.ts) — merged by time stamp, decoded, correlated — to the sinks the
// options choose; here, the options, the files checked before any is read, and the
// final report. A file may be given as LABEL=FILE or HOST:=FILE (replay-files.ts).
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { linktypeName, type StatsRecord } from '../../events/types.js';
import { CaptureReadError } from '../../framing/errors.js';
import { checkCaptureFile } from '../../framing/file-source.js';
import { InterfaceLabelError, plainFileArgument } from '../../framing/label.js';
import { runFiles, type FilesEnd, type FilesOutcome } from '../../pipeline/files.js';
import { writeAnnotatedReplay } from '../../pipeline/annotated-replay.js';
import { AnnotationTable } from '../../sinks/annotations.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { RecordingError } from '../../sinks/recording-error.js';
import { RecordingFile } from '../../sinks/recording-file.js';
import { fileNameOption, numberOption, parseArgs, type OptionSpec } from '../args.js';
import { exitStatus, UserError } from '../errors.js';
import { parseReplayFile } from '../replay-files.js';
import { OUTPUT_OPTIONS } from '../output-options.js';
import { closeReport, openReport } from '../report-option.js';

const OPTIONS: readonly OptionSpec[] = [
  ...OUTPUT_OPTIONS,
  { name: 'speed', kind: 'string' },
  { name: 'realtime', kind: 'flag' },
  { name: 'annotate', kind: 'string' },
];

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
  if (args.flags.has('overwrite') && !args.values.has('report') && !args.values.has('annotate'))
    throw new UserError(
      'replay: --overwrite replaces the file of --report FILE or --annotate FILE: give one',
    );
  const annotatePath = fileNameOption(args, 'annotate', 'replay');
  if (annotatePath !== undefined && files.some((f) => sameFile(f.path, annotatePath)))
    throw new UserError(`replay: --annotate ${annotatePath} is one of the files replayed; give another name`);
  fileNameOption(args, 'report', 'replay');
  const report = openReport(
    args.values.get('report'),
    args.flags.has('overwrite'),
    ['hopscope', 'replay', ...argv],
    'replay',
  );
  // Opened before anything is read, as -w's recording is (never through a link, never over a file).
  let annotated: RecordingFile | null;
  try {
    annotated =
      annotatePath === undefined
        ? null
        : RecordingFile.open(annotatePath, undefined, { overwrite: args.flags.has('overwrite') });
  } catch (err) {
    if (err instanceof RecordingError) throw new UserError(`replay: ${err.message}`);
    throw err;
  }
  const annotations = annotated !== null ? new AnnotationTable() : null;
  const json = args.flags.has('json');
  const printPackets = args.flags.has('packets');
  const out = new LineWriter();
  let outcome: FilesOutcome;
  try {
    outcome = await runFiles(
      files,
      {
        out,
        json,
        packets: printPackets,
        speed: speed ?? (args.flags.has('realtime') ? 1 : undefined),
        totalBytes,
        records: report,
        annotations,
      },
      { report: (end) => finalReport(end, out, json, printPackets) },
    );
  } catch (err) {
    if (annotated !== null) discard(annotated);
    // found before anything was handed on: nothing to judge
    if (err instanceof InterfaceLabelError) throw new UserError(`replay: ${err.message}`);
    throw err;
  }
  closeReport(report, 'replay');
  if (annotated !== null && annotations !== null && annotatePath !== undefined)
    await annotate(files, outcome.labels, annotated, annotations, annotatePath);
  // every packet before the fault has been judged (and printed); the file is bad from here on
  if (outcome.failure !== null) throw new UserError(`replay: ${outcome.failure}`);
  return exitStatus(outcome.summary);
}

/** The --annotate file is closed and, when it is a regular file (not a device), removed. */
function discard(file: RecordingFile): void {
  const regular = file.queues;
  file.abandon();
  if (regular) unlinkSync(file.path);
}

/** Two names of one file (a hard link, `./a` and `a`): the file --annotate would empty is one replayed. */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * --annotate: the replay's packets into the file opened for it, with the non-ok verdicts
 * as comments. A write that fails removes the file: exit 2, one line.
 */
async function annotate(
  files: Parameters<typeof writeAnnotatedReplay>[0],
  labels: readonly string[],
  file: RecordingFile,
  annotations: AnnotationTable,
  path: string,
): Promise<void> {
  // (path: as given, for the messages)
  let packets: number;
  try {
    packets = await writeAnnotatedReplay(files, labels, file, annotations);
  } catch (err) {
    if (!(err instanceof RecordingError)) throw err;
    discard(file);
    throw new UserError(`replay: cannot write ${path}: ${err.reason}; nothing left there`);
  }
  process.stderr.write(
    `hopscope: wrote ${path}: ${packets} packets of ${annotations.exchanges} non-ok exchanges annotated (frame.comment)\n`,
  );
}

/** With --json, each interface's final counters; without --packets, the text report's table. */
function finalReport(end: FilesEnd, out: LineWriter, json: boolean, printPackets: boolean): void {
  const { interfaces, counts, fileStats } = end;
  for (const iface of interfaces) {
    if (!iface) continue;
    const recorded = fileStats.get(iface.id);
    const record: StatsRecord = {
      type: 'stats',
      iface: iface.label,
      received: counts[iface.id],
      dropped: recorded?.dropped ?? 0,
      ...(recorded ? { recordedReceived: recorded.received } : {}),
      final: true,
    };
    end.lifecycle(record);
    if (json) out.line(JSON.stringify(record));
  }
  if (!json && !printPackets && !(end.failure && end.packets === 0)) {
    out.line(`${end.packets} packets on ${interfaces.filter(Boolean).length} interfaces:`);
    for (const iface of interfaces) {
      if (iface)
        out.line(
          `  ${String(counts[iface.id]).padStart(9)}  ${iface.label}  (${linktypeName(iface.linktype)}, ${iface.file})`,
        );
    }
  }
}
