// `hopscope replay FILE...`: recordings through the same pipeline as live capture
// (pipeline/files.ts) — merged by time stamp, decoded, correlated — to the sinks the
// options choose; here, the options, the files checked before any is read, and the
// final report. A file may be given as LABEL=FILE or HOST:=FILE (replay-files.ts).
import { existsSync } from 'node:fs';
import { linktypeName, type StatsRecord } from '../../events/types.js';
import { CaptureReadError } from '../../framing/errors.js';
import { checkCaptureFile } from '../../framing/file-source.js';
import { InterfaceLabelError, plainFileArgument } from '../../framing/label.js';
import { runFiles, type FilesEnd, type FilesOutcome } from '../../pipeline/files.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { numberOption, parseArgs, type OptionSpec } from '../args.js';
import { exitStatus, UserError } from '../errors.js';
import { parseReplayFile } from '../replay-files.js';
import { closeReport, openReport } from '../report-option.js';

const OPTIONS: OptionSpec[] = [
  { name: 'packets', kind: 'flag' },
  { name: 'json', kind: 'flag' },
  { name: 'speed', kind: 'string' },
  { name: 'realtime', kind: 'flag' },
  { name: 'report', kind: 'string' },
  { name: 'overwrite', kind: 'flag' },
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
  if (args.flags.has('overwrite') && !args.values.has('report'))
    throw new UserError('replay: --overwrite replaces the file of --report FILE: give --report FILE');
  if (args.values.get('report') === '')
    throw new UserError("replay: --report needs a file name, and '' was given (an unset variable?)");
  const report = openReport(
    args.values.get('report'),
    args.flags.has('overwrite'),
    ['hopscope', 'replay', ...argv],
    'replay',
  );
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
      },
      { report: (end) => finalReport(end, out, json, printPackets) },
    );
  } catch (err) {
    // found before anything was handed on: nothing to judge
    if (err instanceof InterfaceLabelError) throw new UserError(`replay: ${err.message}`);
    throw err;
  }
  closeReport(report, 'replay');
  // every packet before the fault has been judged (and printed); the file is bad from here on
  if (outcome.failure !== null) throw new UserError(`replay: ${outcome.failure}`);
  return exitStatus(outcome.summary);
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
