#!/usr/bin/env node
// `npm run bench`: hopscope measured against tcpdump and tshark on the same input in
// the same run, reported as ratios (absolute times depend on the machine; ratios to
// the field's tools on the same machine and file are what the budgets are about).
//   node scripts/bench.mjs [--packets N] [--big-packets N] [--pipeline-packets N] [--memory-packets N] [--runs R]
//                          [--skip-tshark] [--skip-live] [--skip-ui]
// The full pipeline (framing, decode, correlation, verdicts) is `hopscope replay`, timed
// like tcpdump -nr, on two mixes of --packets packets: gen-mixed-pcap.mjs's (every exchange
// answered) and gen-unanswered-pcap.mjs's (DNS queries nobody answers: a hundred thousand
// exchanges open at once) — the text report, --json, and --packets --json, each round
// alternating with tcpdump -nr so that the machine's other load weighs on both; its
// memory is also measured on --pipeline-packets (10M) with 1M flows, on a scan nobody answers
// (gen-scan-pcap.mjs, every packet an exchange of its own), on a flood of DNS queries
// nobody answers, each for a name of its own (gen-dnsflood-pcap.mjs), and on an unanswered
// mix of --memory-packets (5M); hopscope runs with the node flags of bin/hopscope.js. The live case
// (scripts/bench-live.mjs, sender and capture pinned to different cores) and the TUI's
// cost run last; then every budget, next to its reference from this run, with ✔ or ✘.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hopscopeNodeFlags } from './hopscope-node-flags.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PACKETS = opt('--packets', 1_000_000);
const BIG_PACKETS = opt('--big-packets', 5_000_000);
const RUNS = opt('--runs', 3);
const skipTshark = args.includes('--skip-tshark');
const skipLive = args.includes('--skip-live');
const PIPELINE_PACKETS = opt('--pipeline-packets', 10_000_000);
const MEMORY_PACKETS = opt('--memory-packets', 5_000_000);

const dir = join(tmpdir(), 'hopscope-bench');
mkdirSync(dir, { recursive: true });

/** The capture scripts/gen-`name`-pcap.mjs writes of `packets` packets, made once in the bench's directory. */
function generated(name, packets) {
  const file = join(dir, `${name}-${packets}.pcap`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} (${packets} packets)\n`);
    execFileSync(process.execPath, [join(root, `scripts/gen-${name}-pcap.mjs`), file, String(packets)], {
      stdio: 'inherit',
    });
  }
  return file;
}
/** gen-unanswered-pcap.mjs's mix (DNS queries nobody answers). */
const generateUnanswered = (packets) => generated('unanswered', packets);
/** gen-scan-pcap.mjs's scan (every packet a question nobody answers). */
const generateScan = (packets) => generated('scan', packets);
/** gen-dnsflood-pcap.mjs's flood (every packet a query nobody answers, for a name of its own). */
const generateDnsFlood = (packets) => generated('dnsflood', packets);

function generate(packets, flows) {
  const file = join(dir, `mixed-${packets}-${flows}.pcap`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} (${packets} packets, ${flows} flows)\n`);
    execFileSync(
      process.execPath,
      [
        join(root, 'scripts/gen-mixed-pcap.mjs'),
        file,
        '--packets',
        String(packets),
        '--flows',
        String(flows),
      ],
      { stdio: 'inherit' },
    );
  }
  return file;
}

/**
 * Runs a command under GNU time; returns wall seconds and peak RSS (output to /dev/null
 * unless kept). `ok`: the exit statuses that are not a failure (hopscope replay: 1 when
 * it found problem exchanges).
 */
function timed(cmd, argv, keepOutput = false, ok = [0]) {
  const stdout = keepOutput ? 'pipe' : openSync('/dev/null', 'w');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', stdout, 'pipe'],
    maxBuffer: 1 << 26,
  });
  if (typeof stdout === 'number') closeSync(stdout);
  if (!ok.includes(r.status)) throw new Error(`${cmd} failed: ${r.stderr.slice(-500)}`);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [secs, rssKb] = last.split(' ').map(Number);
  return { seconds: secs, maxRssMB: rssKb / 1024, stdout: r.stdout };
}

function best(runs, fn) {
  let bestRun = null;
  for (let i = 0; i < runs; i++) {
    const r = fn();
    if (!bestRun || r.seconds < bestRun.seconds) bestRun = r;
  }
  return bestRun;
}

function nodeBench(script, file, extra = []) {
  const r = timed(process.execPath, [join(root, 'scripts', script), file, ...extra], true);
  const inner = JSON.parse(r.stdout.trim().split('\n').pop());
  // wall time of the whole process (startup included) is what tcpdump is measured on too
  return { ...inner, wallSeconds: r.seconds, seconds: r.seconds, maxRssMB: r.maxRssMB };
}

const fmt = (n, d = 2) => n.toLocaleString('en-US', { maximumFractionDigits: d });
const rows = [];
function row(what, tool, seconds, packets, rss, reference) {
  const pps = packets / seconds;
  rows.push({ what, tool, seconds, pps, rss, ratio: reference ? reference / seconds : null });
}

const file = generate(PACKETS, 1000);
const unanswered = generateUnanswered(PACKETS);
process.stderr.write(`file: ${file} (${fmt(statSync(file).size / 1e6, 1)} MB)\n`);

const tcpdump = best(RUNS, () => timed('tcpdump', ['-nr', file]));
row('read + decode + print', 'tcpdump -nr', tcpdump.seconds, PACKETS, tcpdump.maxRssMB, null);
if (!skipTshark) {
  const tshark = timed('tshark', [
    '-r',
    file,
    '-T',
    'fields',
    '-e',
    'frame.number',
    '-e',
    'ip.src',
    '-e',
    'ip.dst',
    '-e',
    'ip.proto',
    '-e',
    'tcp.flags',
    '-e',
    'dns.qry.name',
  ]);
  row('read + decode (fields)', 'tshark -T fields', tshark.seconds, PACKETS, tshark.maxRssMB, null);
}
const decode = best(RUNS, () => nodeBench('bench-decode.mjs', file));
if (decode.packets !== PACKETS)
  throw new Error(`hopscope read ${decode.packets} packets, expected ${PACKETS}`);
row('framing + decode', 'hopscope', decode.seconds, PACKETS, decode.maxRssMB, tcpdump.seconds);
const framing = best(RUNS, () => nodeBench('bench-decode.mjs', file, ['--framing-only']));
row('framing only', 'hopscope', framing.seconds, PACKETS, framing.maxRssMB, tcpdump.seconds);
const pcapParser = best(RUNS, () => nodeBench('bench-pcap-parser.mjs', file));
if (pcapParser.packets !== PACKETS) throw new Error(`pcap-parser read ${pcapParser.packets} packets`);
row('framing only', 'pcap-parser 0.2.1', pcapParser.seconds, PACKETS, pcapParser.maxRssMB, tcpdump.seconds);

if (BIG_PACKETS > 0) {
  const big = generate(BIG_PACKETS, 100_000);
  const bigDecode = nodeBench('bench-decode.mjs', big);
  row(
    `framing + decode, ${fmt(BIG_PACKETS / 1e6, 0)}M packets`,
    'hopscope',
    bigDecode.seconds,
    BIG_PACKETS,
    bigDecode.maxRssMB,
    null,
  );
}

const hopscope = join(root, 'bin', 'hopscope.js');
// hopscope as its command runs it: node with the flags of bin/hopscope.js's first line
const hopscopeArgv = [...hopscopeNodeFlags(hopscope), hopscope];
/** Budgets of this run: what, hopscope's figure, the reference from this run, the budget, met. */
const budgets = [];
const budget = (what, value, reference, limit, met) => budgets.push({ what, value, reference, limit, met });
const MIXES = [
  { name: 'mixed', file },
  { name: 'unanswered', file: unanswered },
];
const MODES = [
  { name: 'replay', argv: [], atLeast: 5 },
  { name: 'replay --json', argv: ['--json'], atLeast: 5 },
  { name: 'replay --packets --json', argv: ['--packets', '--json'], atLeast: 1.5 },
];
for (const mix of MIXES) {
  // each round: tcpdump -nr, then every mode once; best of the rounds for each
  const bestOf = { tcpdump: null };
  let peakRss = 0;
  for (let round = 0; round < RUNS; round++) {
    const t = timed('tcpdump', ['-nr', mix.file]);
    if (bestOf.tcpdump === null || t.seconds < bestOf.tcpdump.seconds) bestOf.tcpdump = t;
    for (const m of MODES) {
      const r = timed(process.execPath, [...hopscopeArgv, 'replay', mix.file, ...m.argv], false, [0, 1]);
      if (!bestOf[m.name] || r.seconds < bestOf[m.name].seconds) bestOf[m.name] = r;
      peakRss = Math.max(peakRss, r.maxRssMB);
    }
  }
  row(
    `read + decode + print (${mix.name})`,
    'tcpdump -nr',
    bestOf.tcpdump.seconds,
    PACKETS,
    bestOf.tcpdump.maxRssMB,
    null,
  );
  for (const m of MODES) {
    const r = bestOf[m.name];
    row(
      `full pipeline (${mix.name})`,
      `hopscope ${m.name}`,
      r.seconds,
      PACKETS,
      r.maxRssMB,
      bestOf.tcpdump.seconds,
    );
    const ratio = bestOf.tcpdump.seconds / r.seconds;
    budget(
      `${m.name}, ${mix.name} mix`,
      `${fmt(r.seconds)} s`,
      `tcpdump -nr ${fmt(bestOf.tcpdump.seconds)} s (${fmt(ratio, 2)}×)`,
      `≥ ${m.atLeast}×`,
      ratio >= m.atLeast,
    );
  }
  budget(
    `peak RSS, ${mix.name} mix (every mode)`,
    `${fmt(peakRss, 0)} MB`,
    `tcpdump ${fmt(bestOf.tcpdump.maxRssMB, 0)} MB`,
    '≤ 150 MB',
    peakRss <= 150,
  );
}
/**
 * Peak RSS of the text report and of --json on `file` (each once; the time is not the
 * point), a row each as `what`, and the budget of 150 MB on the higher.
 */
function peakMemory(what, file, packets) {
  let peak = 0;
  for (const argv of [[], ['--json']]) {
    const r = timed(process.execPath, [...hopscopeArgv, 'replay', file, ...argv], false, [0, 1]);
    row(`full pipeline, ${what}`, `hopscope replay ${argv.join(' ')}`, r.seconds, packets, r.maxRssMB, null);
    peak = Math.max(peak, r.maxRssMB);
  }
  budget(`peak RSS, ${what} (text, --json)`, `${fmt(peak, 0)} MB`, '–', '≤ 150 MB', peak <= 150);
}
// Memory where most exchanges stay open until their timeout, at five times the size.
if (MEMORY_PACKETS > 0)
  peakMemory(
    `unanswered mix of ${fmt(MEMORY_PACKETS / 1e6, 0)}M packets`,
    generateUnanswered(MEMORY_PACKETS),
    MEMORY_PACKETS,
  );
// Memory where every packet is a question nobody answers (a SYN scan and a ping sweep):
// exchanges pile up to the in-flight limit and stay there.
peakMemory('scan', generateScan(PACKETS), PACKETS);
// The same where every query keeps a name, half of them longer than an exchange row holds.
peakMemory('DNS flood', generateDnsFlood(PACKETS), PACKETS);
if (PIPELINE_PACKETS > 0) {
  const huge = generate(PIPELINE_PACKETS, 1_000_000);
  // No tcpdump -nr on this file: with a million TCP flows it had not finished after ten
  // minutes (its table for relative TCP sequence numbers has a fixed number of chained
  // buckets), which says nothing about reading speed.
  const r = best(Math.min(RUNS, 2), () =>
    timed(process.execPath, [...hopscopeArgv, 'replay', huge], false, [0, 1]),
  );
  row(
    `full pipeline, ${fmt(PIPELINE_PACKETS / 1e6, 0)}M packets, 1M flows`,
    'hopscope replay',
    r.seconds,
    PIPELINE_PACKETS,
    r.maxRssMB,
    null,
  );
}

const pad = (s, n) => `${String(s).padEnd(n - 1)} `;
process.stdout.write(
  `\n${pad('measurement', 42)}${pad('tool', 34)}${pad('seconds', 10)}${pad('packets/s', 14)}${pad('peak RSS MB', 13)}× tcpdump\n`,
);
for (const r of rows) {
  process.stdout.write(
    `${pad(r.what, 42)}${pad(r.tool, 34)}${pad(fmt(r.seconds), 10)}${pad(fmt(r.pps, 0), 14)}${pad(fmt(r.rss, 0), 13)}${r.ratio ? fmt(r.ratio, 1) : ''}\n`,
  );
}
process.stdout.write(
  `\n(process wall time including Node start-up; best of ${RUNS}; ${fmt(PACKETS)} packets; ${new Date().toISOString()})\n`,
);

/**
 * Runs a bench script of its own (it prints its table), with its figures as JSON in
 * dir/NAME.json; returns them, or null (said) when the script failed.
 */
function runScript(what, script, name, extra = []) {
  process.stdout.write(`\n${what} (scripts/${script}${extra.length > 0 ? ` ${extra.join(' ')}` : ''}):\n`);
  const json = join(dir, `${name}.json`);
  rmSync(json, { force: true });
  const r = spawnSync(process.execPath, [join(root, 'scripts', script), ...extra, '--json', json], {
    stdio: 'inherit',
  });
  if (r.status !== 0 || !existsSync(json)) {
    process.stdout.write(`${what} bench failed (exit ${r.status ?? r.signal})\n`);
    return null;
  }
  return JSON.parse(readFileSync(json, 'utf8'));
}

// The terminal UI's cost: a replay paced at 50k packets/s in the TUI (in tmux) against
// the same paced replay without it (scripts/bench-ui.mjs), in every round.
if (args.includes('--skip-ui')) {
  process.stdout.write('\nTUI overhead: skipped (--skip-ui)\n');
  budget('TUI overhead at 50k pkt/s, every run', 'not run (--skip-ui)', '–', '≤ 10 % of a core', null);
} else {
  const ui = runScript('TUI overhead', 'bench-ui.mjs', 'ui');
  if (ui === null)
    budget('TUI overhead at 50k pkt/s, every run', 'bench failed', '–', '≤ 10 % of a core', false);
  else {
    const each = ui.rounds.map((r) => r.overheadPct);
    budget(
      `TUI overhead at 50k pkt/s, every run (${each.length})`,
      each.map((p) => `${fmt(p, 1)} %`).join(', '),
      `the paced replay without the TUI: ${fmt(ui.median.aloneCpu)} CPU-s`,
      '≤ 10 % of a core',
      each.every((p) => p <= ui.budgetPct),
    );
  }
}

// The live case: 4 lab interfaces under the project's own traffic generator, hopscope
// against 4 tcpdump processes at the same offered rates, the sender on one core and the
// capture on the other (scripts/bench-live.mjs --pin prints its table), 64-byte and
// 1 KiB payloads; at 64 B its last trial also measures the verdict latency.
const LIVE_BUDGETS = ['live CPU per packet', 'live drop-free rate'];
/** The 64-byte live run's verdict latency (bench-live.mjs `latency`), or null. */
let liveLatency = null;
if (skipLive || process.getuid?.() !== 0) {
  process.stdout.write(
    skipLive
      ? '\nlive capture: skipped (--skip-live)\n'
      : '\nlive capture: skipped — it needs root (it builds a lab in network namespaces and captures in them); ' +
          'run `sudo npm run bench`, or pass --skip-live\n',
  );
  for (const what of LIVE_BUDGETS) budget(what, 'not run', '–', '–', null);
} else {
  for (const size of [64, 1024]) {
    const r = runScript(`live capture, ${size}-byte UDP`, 'bench-live.mjs', `live-${size}`, [
      '--pin',
      '--size',
      String(size),
      // the verdict latency is measured once, at 64 B
      ...(size === 64 ? [] : ['--no-latency']),
    ]);
    if (r === null) {
      for (const what of LIVE_BUDGETS) budget(`${what}, ${size} B`, 'bench failed', '–', '–', false);
      continue;
    }
    if (size === 64) liveLatency = r.latency ?? null;
    const at = r.cpu.target === null ? null : r.cpu.rows.at(-1);
    budget(
      `live CPU per packet, ${size} B, equal offered rate${at ? ` (${fmt(at.target / 1e6, 2)} M pkt/s agg.)` : ''}`,
      at ? `${at.hopscopeCpuPerMillion} CPU-s per M packets (${fmt(at.ratio, 2)}×)` : r.cpu.status,
      at ? `4 × tcpdump -w ${at.tcpdumpCpuPerMillion} CPU-s per M packets` : '–',
      `≤ ${r.cpu.budget}× tcpdump`,
      at ? at.ratio <= r.cpu.budget : false,
    );
    const hs = r.dropFree.hopscope;
    const td = r.dropFree.tcpdump;
    const rateText = (b) =>
      b.unavailable !== null
        ? 'unavailable'
        : b.aggregate === 0
          ? 'drops at every rate'
          : `${b.lowerBound ? '≥ ' : ''}${fmt(b.aggregate, 0)} pkt/s`;
    // 64 B: no drop up to what the sender reaches; 1 KiB: up to tcpdump's drop-free rate,
    // the offered rates (the ladder's rungs) compared: at one rung what each tool's
    // trial measured differs by the sender's noise (199,996 and 199,999 pkt/s)
    budget(
      `live drop-free rate, ${size} B (trial from its first packet)`,
      `hopscope ${rateText(hs)}`,
      `4 × tcpdump -w ${rateText(td)}; the sender ${fmt(r.generatorMax * 4, 0)} pkt/s`,
      size === 64 ? "up to the sender's limit" : "≥ tcpdump's",
      hs.unavailable === null &&
        (size === 64
          ? hs.lowerBound
          : (hs.target !== null && (td.target === null || hs.target >= td.target)) || hs.lowerBound),
    );
  }
}
// Verdict latency: an exchange's deadline to its record, p99, at the highest drop-free
// rate — the 64-byte live run's last trial adds DNS exchanges to its stream (bench-live.mjs).
{
  const l = liveLatency;
  budget(
    `verdict latency p99 at the highest drop-free rate${l?.target ? ` (${fmt(l.target / 1e6, 2)} M pkt/s agg.)` : ''}`,
    l?.p99 != null
      ? `${fmt(l.p99, 2)} s (p50 ${fmt(l.p50, 2)} s, ${l.exchanges} exchanges${l.dropFree ? '' : ', with drops'})`
      : (l?.status ?? 'not measured'),
    l?.p99 != null ? `${l.exchangesPerSecond} DNS exchanges/s, every ${l.unansweredEvery}th unanswered` : '–',
    `≤ ${l?.budget ?? 1} s`,
    l?.p99 != null ? l.p99 <= l.budget : null,
  );
}

process.stdout.write('\nbudgets (each against its reference from this run):\n');
const widths = [58, 48, 52, 22];
for (const b of budgets) {
  const mark = b.met === null ? '–' : b.met ? '✔' : '✘';
  process.stdout.write(
    `${mark} ${pad(b.what, widths[0])}${pad(b.value, widths[1])}${pad(b.reference, widths[2])}${b.limit}\n`,
  );
}
writeFileSync(join(dir, 'budgets.json'), `${JSON.stringify(budgets, null, 2)}\n`);
