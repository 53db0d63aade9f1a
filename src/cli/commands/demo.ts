// `hopscope demo` — what `npm start` runs (README: "the main job").
//
// As root: brings up the dvr-fip lab with its security-group fault, captures on all
// its interfaces at once through the native addon, runs the scenario's traffic, prints
// every packet as it is seen and then, per interface in path order, which requests and
// answers reached it — the hop after which the reply (or request) stopped appearing.
// The lab is torn down on the way out, Ctrl-C included.
// Not root: replays the shipped recording of the same incident.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodePacket } from '../../decode/decode-packet.js';
import { describePacket } from '../../decode/packet-view.js';
import { PacketRecord } from '../../decode/record.js';
import { formatTimestamp } from '../../framing/timestamp.js';
import { labDown, labUp, runTraffic, type LabView } from '../../lab/index.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { formatPacketLine } from '../../sinks/packet-text.js';
import { LocalCaptureSet } from '../../sources/local-capture-set.js';
import { numberOption, parseArgs, type OptionSpec } from '../args.js';
import { EXIT_OK, UserError } from '../errors.js';
import { runReplay } from './replay.js';

const SCENARIO = 'dvr-fip';
const FAULT = 'sg-drop';
const PREFIX = 'hsdemo-';
const RECORDING = fileURLToPath(new URL(`../../../captures/${SCENARIO}-${FAULT}.pcapng`, import.meta.url));

const OPTIONS: OptionSpec[] = [{ name: 'duration', kind: 'string' }];

/** What one interface saw of each kind of exchange step. */
interface Sightings {
  echoRequest: number;
  echoReply: number;
  syn: number;
  synAck: number;
  rst: number;
  arpRequest: number;
  arpReply: number;
  other: number;
}

function emptySightings(): Sightings {
  return { echoRequest: 0, echoReply: 0, syn: 0, synAck: 0, rst: 0, arpRequest: 0, arpReply: 0, other: 0 };
}

function count(rec: PacketRecord, s: Sightings): void {
  if (rec.arpOp === 1) s.arpRequest++;
  else if (rec.arpOp === 2) s.arpReply++;
  else if (rec.icmpType === 8) s.echoRequest++;
  else if (rec.icmpType === 0) s.echoReply++;
  else if ((rec.tcpFlags & 0x12) === 0x02) s.syn++;
  else if ((rec.tcpFlags & 0x12) === 0x12) s.synAck++;
  else if (rec.tcpFlags & 0x04) s.rst++;
  else s.other++;
}

export async function runDemo(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS, 'demo');
  const durationS = numberOption(args, 'duration', 'demo', 6, 1) ?? 6;
  if (process.getuid?.() !== 0) {
    if (!existsSync(RECORDING)) throw new UserError(`demo: not root and no recording at ${RECORDING}`);
    process.stdout.write(
      `Not root, so no live lab: replaying the recording of ${SCENARIO} with fault ${FAULT}.\n` +
        `(Run as root to build the lab and capture it live.)\n\n`,
    );
    // The verdicts of the incident (lost exchanges make replay say 1; the demo itself went fine).
    await runReplay([RECORDING]);
    return EXIT_OK;
  }
  return liveDemo(durationS);
}

async function liveDemo(durationS: number): Promise<number> {
  const out = new LineWriter();
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A demo interrupted earlier may have left its lab: it is ours (our prefix), remove it.
  await labDown(PREFIX);
  process.stdout.write(`Building lab ${SCENARIO} with fault ${FAULT} (namespaces ${PREFIX}*)…\n`);
  try {
    const lab = await labUp(SCENARIO, { fault: FAULT, prefix: PREFIX, signal: abort.signal });
    await captureWhileTrafficRuns(lab, durationS, out, abort.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await out.end();
    process.stdout.write(`Tearing the lab down…\n`);
    await labDown(PREFIX);
  }
  return EXIT_OK;
}

async function captureWhileTrafficRuns(
  lab: LabView,
  durationS: number,
  out: LineWriter,
  signal: AbortSignal,
): Promise<void> {
  const points = lab.capturePoints;
  const set = LocalCaptureSet.open(points.map((p) => ({ netns: p.netns, iface: p.iface })));
  const seen = points.map(() => emptySightings());
  const rec = new PacketRecord();
  // Packets of different interfaces arrive in separate batches; print them in time
  // order by holding each line a moment (the batches are at most ~10 ms apart).
  let pending: Array<{ sec: number; nsec: number; line: string }> = [];
  let n = 0;
  const flush = (all: boolean): void => {
    const horizon = Date.now() / 1000 - 0.3;
    pending.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
    const keep: typeof pending = [];
    for (const p of pending) {
      if (all || p.sec + p.nsec / 1e9 < horizon) out.line(p.line);
      else keep.push(p);
    }
    pending = keep;
    out.flush();
  };
  set.start({
    onBatch(batch, iface) {
      batch.forEach((p) => {
        decodePacket(p.data, p.offset, p.offset + p.caplen, iface.linktype, p.len, rec);
        count(rec, seen[iface.id]);
        const view = describePacket(
          rec,
          ++n,
          iface.label,
          formatTimestamp(p.tsSec, p.tsNsec),
          p.caplen,
          p.len,
        );
        pending.push({ sec: p.tsSec, nsec: p.tsNsec, line: formatPacketLine(view) });
      });
    },
    onGone(iface, err) {
      out.line(`hopscope: ${iface.label} is gone: ${err.message}`);
    },
  });
  const timer = setInterval(() => flush(false), 250);
  process.stdout.write(
    `Capturing on ${points.length} interfaces; running the scenario's traffic for ${durationS} s…\n\n`,
  );
  try {
    if (!signal.aborted) await runTraffic(lab, { durationMs: durationS * 1000, timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    clearInterval(timer);
    const stats = set.close();
    flush(true);
    out.line('');
    out.line(`What each interface saw, in path order (${lab.scenario}, fault ${lab.fault}):`);
    const width = Math.max(...set.interfaces.map((i) => i.label.length)) + 2;
    out.line(`  ${'interface'.padEnd(width)}echo-req echo-rep   SYN SYN-ACK   RST ARP-req ARP-rep  dropped`);
    points.forEach((_, i) => {
      const s = seen[i];
      const cells = [s.echoRequest, s.echoReply, s.syn, s.synAck, s.rst, s.arpRequest, s.arpReply].map(
        (v, j) => String(v).padStart([8, 9, 6, 8, 6, 8, 8][j]),
      );
      out.line(
        `  ${set.interfaces[i].label.padEnd(width)}${cells.join('')}${String(stats[i].dropped).padStart(9)}`,
      );
    });
    out.line('');
    out.line(
      'Read down a column: the first interface where a count falls to zero is where that packet stopped appearing.\n' +
        `Here the security group on qbr drops inbound ICMP and TCP 22: requests reach qvb…, never the tap.`,
    );
  }
}
