// `hopscope capture -i SPEC ...`: resolve the specs, capture on every
// interface at once (sources/capture-session) through the pipeline (pipeline/live.ts)
// to the sinks the options choose — the pcapng recorder (-w, pipeline/recording.ts),
// packet lines (--packets), JSON records (--json) — until --duration, Ctrl-C, SIGTERM
// or SIGHUP. Here: the options, the privileges they need, and the final report of
// counters and recordings.
import type { ContractRecord, InterfaceStats, StatsRecord, SummaryRecord } from '../../events/types.js';
import type { LineWriter } from '../../sinks/line-writer.js';
import { RecordingError } from '../../sinks/recording-error.js';
import { capturePathSpecs, pathErrorMessage } from '../../path/find.js';
import { identityTargets } from '../../path/identity.js';
import { CaptureSession, CaptureStartError } from '../../sources/capture-session.js';
import { warmUpPipeline } from '../../correlate/warm-up.js';
import { liveOutput, referenceHost, runLive } from '../../pipeline/live.js';
import { Recording } from '../../pipeline/recording.js';
import { DiscoveryError } from '../../sources/discovery.js';
import { RemoteCaptureError } from '../../sources/remote-capture.js';
import { parseSpec, SpecError, type CaptureSpec } from '../../sources/spec.js';
import { fileNameOption, numberOption, parseArgs, type OptionSpec } from '../args.js';
import { exitStatus, UserError } from '../errors.js';
import { canCapture, canEnterNamespaces } from '../privileges.js';
import { OUTPUT_OPTIONS } from '../output-options.js';
import { closeReport, openReport } from '../report-option.js';
import { EvidenceGatherer } from '../../evidence/gatherer.js';

/** Which interfaces, and how each is captured (here or on a remote host over ssh). */
const SOURCE_OPTIONS: readonly OptionSpec[] = [
  { name: 'interface', short: 'i', kind: 'list' },
  { name: 'filter', short: 'f', kind: 'string' },
  { name: 'snaplen', short: 's', kind: 'string' },
  { name: 'buffer-size', short: 'B', kind: 'string' },
  { name: 'ssh-config', kind: 'string' },
  { name: 'remote-tcpdump', kind: 'string' },
];

/** --path SRC DST: the interfaces between two addresses, found rather than named. */
const PATH_OPTIONS: readonly OptionSpec[] = [
  { name: 'path', kind: 'string' },
  { name: 'host', kind: 'list' },
  { name: 'netns', kind: 'string' },
];

/** The pcapng recording: -w FILE or --record, rotated by size. */
const RECORDING_OPTIONS: readonly OptionSpec[] = [
  { name: 'write', short: 'w', kind: 'string' },
  { name: 'record', kind: 'flag' },
  { name: 'max-size', kind: 'string' },
  { name: 'max-files', kind: 'string' },
];

const OPTIONS: readonly OptionSpec[] = [
  ...SOURCE_OPTIONS,
  ...PATH_OPTIONS,
  ...RECORDING_OPTIONS,
  ...OUTPUT_OPTIONS,
  { name: 'duration', kind: 'string' },
  { name: 'no-cause', kind: 'flag' },
  { name: 'trace-rules', kind: 'flag' },
];

interface CaptureOptions {
  specs: CaptureSpec[];
  /** --path SRC DST: the chain of interfaces between them is captured (src/path/) */
  path: { src: string; dst: string; hosts: string[]; netns: string | undefined } | null;
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
  /** --report FILE.html */
  report: string | undefined;
  /** gather the cause of each problem verdict (not --no-cause) */
  causes: boolean;
  /** --trace-rules: nftrace for the flows that break (changes the ruleset while it runs) */
  traceRules: boolean;
}

function parseOptions(argv: string[]): CaptureOptions {
  const args = parseArgs(argv, OPTIONS, 'capture');
  const pathSrc = args.values.get('path');
  // --path SRC DST: SRC is the option's value, DST the one argument after it
  if (pathSrc !== undefined && args.positionals.length !== 1)
    throw new UserError(
      'capture: --path takes two addresses, SRC and DST (hopscope capture --path 10.0.0.5 203.0.113.1)',
    );
  if (pathSrc === undefined && args.positionals.length > 0) {
    throw new UserError(
      `capture: unexpected argument '${args.positionals[0]}' (interfaces go after -i, the filter after -f)`,
    );
  }
  if (pathSrc === undefined && args.lists.has('host'))
    throw new UserError(
      'capture: --host names a host --path follows: give --path SRC DST (or -i HOST:IFACE)',
    );
  const pathNetns = args.values.get('netns');
  if (pathNetns !== undefined && pathSrc === undefined)
    throw new UserError(
      "capture: --netns narrows where --path looks: give --path SRC DST (or -i 'NETNS/IFACE')",
    );
  if (pathNetns !== undefined && (pathNetns === '' || /[\n\r/]/.test(pathNetns)))
    throw new UserError(`capture: --netns takes a namespace name or glob, got ${JSON.stringify(pathNetns)}`);
  const specTexts = args.lists.get('interface') ?? [];
  if (specTexts.length === 0 && pathSrc === undefined)
    throw new UserError(
      "capture: no interface given (use -i SPEC, e.g. -i 'tap*', or --path SRC DST; see hopscope ifaces)",
    );
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
  fileNameOption(args, 'write', 'capture', '-w');
  if (args.flags.has('overwrite') && !args.values.has('write') && !args.values.has('report'))
    throw new UserError('capture: --overwrite replaces the file of -w FILE or --report FILE: give one');
  fileNameOption(args, 'report', 'capture');
  if (maxSizeMB !== undefined && !writing)
    throw new UserError('capture: --max-size rotates a recording: give -w FILE.pcapng or --record');
  if (args.values.get('write') === '-')
    throw new UserError('capture: -w - (pcapng on stdout) is not supported; give a file name');
  const snaplen = numberOption(args, 'snaplen', 'capture', undefined, 1);
  if (snaplen !== undefined && (!Number.isInteger(snaplen) || snaplen > 262144))
    throw new UserError('capture: --snaplen must be a whole number from 1 to 262144');
  const bufferKiB = numberOption(args, 'buffer-size', 'capture', undefined, 1);
  if (args.flags.has('no-cause') && args.flags.has('trace-rules'))
    throw new UserError('capture: --trace-rules gathers causes, and --no-cause turns that off: give one');
  return {
    specs,
    path:
      pathSrc === undefined
        ? null
        : {
            src: pathSrc,
            dst: args.positionals[0],
            hosts: args.lists.get('host') ?? [],
            netns: pathNetns,
          },
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
    report: args.values.get('report'),
    causes: !args.flags.has('no-cause'),
    traceRules: args.flags.has('trace-rules'),
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
  if (opts.path !== null) {
    // Every interface of the chain between SRC and DST (and of the way back, where it differs).
    if (opts.path.hosts.length === 0 && !canEnterNamespaces())
      throw new UserError(
        'capture: --path reads every namespace: it needs root (CAP_SYS_ADMIN); run as root',
      );
    try {
      opts.specs.push(
        ...(await capturePathSpecs(opts.path.src, opts.path.dst, {
          hosts: opts.path.hosts,
          sshConfig: opts.sshConfig,
          netns: opts.path.netns,
        })),
      );
    } catch (err) {
      const message = pathErrorMessage(err);
      if (message !== null) throw new UserError(`capture: --path: ${message}`);
      throw err;
    }
  }
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

  // The report's name is checked before anything is captured, as a recording's is.
  const report = openReport(opts.report, opts.overwrite, ['hopscope', 'capture', ...argv], 'capture');
  warmUpPipeline();
  const out = liveOutput(opts.json);
  let recording: Recording;
  try {
    recording = new Recording({
      write: opts.write,
      overwrite: opts.overwrite,
      maxSizeBytes: opts.maxSizeBytes,
      maxFiles: opts.maxFiles,
      referenceHost: referenceHost(session),
      causes: opts.causes,
      out,
      json: opts.json,
    });
  } catch (err) {
    if (err instanceof RecordingError) throw new UserError(`capture: ${err.message}`);
    throw err;
  }
  let summary: SummaryRecord;
  try {
    summary = await runLive(
      session,
      {
        out,
        json: opts.json,
        packets: opts.packets,
        durationS: opts.durationS,
        recording,
        records: report,
        gatherer: opts.causes
          ? new EvidenceGatherer({
              ...(opts.sshConfig !== undefined ? { sshConfig: opts.sshConfig } : {}),
              traceRules: opts.traceRules,
            })
          : null,
      },
      {
        report: ({ finals, counts, lifecycle }) =>
          finalReport(finals, session, counts, out, opts, recording, lifecycle),
      },
    );
  } catch (err) {
    const message = userMessage(err);
    if (message !== null) throw new UserError(`capture: ${message}`);
    throw err;
  }
  closeReport(report, 'capture');
  return exitStatus(summary);
}

function finalReport(
  finals: readonly InterfaceStats[],
  session: CaptureSession,
  counts: readonly number[],
  out: LineWriter,
  opts: { json: boolean; packets: boolean },
  recording: Recording,
  lifecycle: (r: ContractRecord) => void,
): void {
  // (by id: the devices of a capture of every device took ids between the captures')
  const targets = new Map(session.targets.map((t) => [t.id, t]));
  const labelOf = (id: number): string => targets.get(id)?.label ?? String(id);
  for (const s of finals) {
    const record: StatsRecord = {
      type: 'stats',
      iface: labelOf(s.interfaceId),
      received: s.received,
      dropped: s.dropped,
      captured: counts[s.interfaceId] ?? 0,
      final: true,
    };
    lifecycle(record);
    if (opts.json) out.line(JSON.stringify(record));
  }
  if (opts.json) return;
  const total = counts.reduce((a, b) => a + (b ?? 0), 0);
  const width = Math.max(9, ...[...targets.values()].map((t) => t.label.length));
  const lines = [
    `${total} packets captured on ${targets.size} interface${targets.size === 1 ? '' : 's'}:`,
    `  ${'interface'.padEnd(width)}  captured  received   dropped`,
    ...finals.map(
      (s) =>
        `  ${labelOf(s.interfaceId).padEnd(width)}  ${String(counts[s.interfaceId] ?? 0).padStart(8)}  ${String(s.received).padStart(8)}  ${String(s.dropped).padStart(8)}`,
    ),
  ];
  for (const recorder of recording.all) lines.push(recording.reportLine(recorder));
  // The report goes to stderr when stdout carries packet lines, like tcpdump's counts.
  if (opts.packets) process.stderr.write(`${lines.join('\n')}\n`);
  else for (const line of lines) out.line(line);
}
