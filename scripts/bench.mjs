#!/usr/bin/env node
// `npm run bench`: hopscope measured against tcpdump and tshark on the same input in
// the same run, reported as ratios (absolute times depend on the machine; ratios to
// the field's tools on the same machine and file are what the budgets are about).
//   node scripts/bench.mjs [--packets N] [--big-packets N] [--pipeline-packets N] [--runs R]
//                          [--skip-tshark] [--skip-live] [--skip-ui]
// The full pipeline (framing, decode, correlation, verdicts) is `hopscope replay`, timed
// like tcpdump -nr; its memory is measured on --pipeline-packets (10M) with 1M flows. The
// live case (scripts/bench-live.mjs) runs last, as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const dir = join(tmpdir(), 'hopscope-bench');
mkdirSync(dir, { recursive: true });

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

/** Runs a command under GNU time; returns wall seconds and peak RSS (output to /dev/null unless kept). */
function timed(cmd, argv, keepOutput = false) {
  const stdout = keepOutput ? 'pipe' : openSync('/dev/null', 'w');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', stdout, 'pipe'],
    maxBuffer: 1 << 26,
  });
  if (typeof stdout === 'number') closeSync(stdout);
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-500)}`);
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
const pipeline = best(RUNS, () => timed(process.execPath, [hopscope, 'replay', file]));
row(
  'full pipeline (replay, verdicts)',
  'hopscope replay',
  pipeline.seconds,
  PACKETS,
  pipeline.maxRssMB,
  tcpdump.seconds,
);
const pipelineJson = timed(process.execPath, [hopscope, 'replay', file, '--json']);
row(
  'full pipeline, every verdict as JSON',
  'hopscope replay --json',
  pipelineJson.seconds,
  PACKETS,
  pipelineJson.maxRssMB,
  tcpdump.seconds,
);
if (PIPELINE_PACKETS > 0) {
  const huge = generate(PIPELINE_PACKETS, 1_000_000);
  // No tcpdump -nr on this file: with a million TCP flows it had not finished after ten
  // minutes (its table for relative TCP sequence numbers has a fixed number of chained
  // buckets), which says nothing about reading speed.
  const r = best(Math.min(RUNS, 2), () => timed(process.execPath, [hopscope, 'replay', huge]));
  row(
    `full pipeline, ${fmt(PIPELINE_PACKETS / 1e6, 0)}M packets, 1M flows`,
    'hopscope replay',
    r.seconds,
    PIPELINE_PACKETS,
    r.maxRssMB,
    null,
  );
}

const pad = (s, n) => String(s).padEnd(n);
process.stdout.write(
  `\n${pad('measurement', 42)}${pad('tool', 24)}${pad('seconds', 10)}${pad('packets/s', 14)}${pad('peak RSS MB', 13)}× tcpdump\n`,
);
for (const r of rows) {
  process.stdout.write(
    `${pad(r.what, 42)}${pad(r.tool, 24)}${pad(fmt(r.seconds), 10)}${pad(fmt(r.pps, 0), 14)}${pad(fmt(r.rss, 0), 13)}${r.ratio ? fmt(r.ratio, 1) : ''}\n`,
  );
}
process.stdout.write(
  `\n(process wall time including Node start-up; best of ${RUNS}; ${fmt(PACKETS)} packets; ${new Date().toISOString()})\n`,
);

/**
 * Runs a bench script of its own (it prints its table), with its figures as JSON in
 * dir/NAME.json; returns them, or null (said) when the script failed.
 */
function runScript(what, script, name) {
  process.stdout.write(`\n${what} (scripts/${script}):\n`);
  const json = join(dir, `${name}.json`);
  rmSync(json, { force: true });
  const r = spawnSync(process.execPath, [join(root, 'scripts', script), '--json', json], {
    stdio: 'inherit',
  });
  if (r.status !== 0 || !existsSync(json)) {
    process.stdout.write(`${what} bench failed (exit ${r.status ?? r.signal})\n`);
    return null;
  }
  return JSON.parse(readFileSync(json, 'utf8'));
}

// The terminal UI's cost: a replay paced at 50k packets/s in the TUI (in tmux) against
// the same paced replay without it (scripts/bench-ui.mjs).
if (args.includes('--skip-ui')) process.stdout.write('\nTUI overhead: skipped (--skip-ui)\n');
else runScript('TUI overhead', 'bench-ui.mjs', 'ui');

// The live case: 4 lab interfaces under the project's own traffic generator, hopscope
// against 4 tcpdump processes (scripts/bench-live.mjs prints its table; its rows here).
if (skipLive) {
  process.stdout.write('\nlive capture: skipped (--skip-live)\n');
} else if (process.getuid?.() !== 0) {
  process.stdout.write(
    '\nlive capture: skipped — it needs root (it builds a lab in network namespaces and captures in them); ' +
      'run `sudo npm run bench`, or pass --skip-live\n',
  );
} else {
  const r = runScript('live capture', 'bench-live.mjs', 'live');
  if (r !== null) {
    const rate = (b) =>
      b.unavailable !== null
        ? 'unavailable'
        : b.aggregate === 0
          ? 'drops at all'
          : `${b.lowerBound ? '≥ ' : ''}${fmt(b.aggregate, 0)}`;
    const ratio =
      r.ratioKind === 'unknown' || r.ratio === null
        ? '–'
        : `${{ exact: '', 'at most': '≤ ', 'at least': '≥ ' }[r.ratioKind]}${fmt(r.ratio, 2)}`;
    const what = 'live, 4 ifaces, drop-free agg.';
    process.stdout.write(
      `\n${pad('measurement', 42)}${pad('tool', 24)}${pad('seconds', 10)}${pad('packets/s', 14)}${pad('peak RSS MB', 13)}× tcpdump\n`,
    );
    for (const [tool, b, x] of [
      ['4 × tcpdump -w', r.dropFree.tcpdump, ''],
      ['hopscope capture -w', r.dropFree.hopscope, ratio],
    ]) {
      process.stdout.write(
        `${pad(what, 42)}${pad(tool, 24)}${pad(fmt(r.seconds), 10)}${pad(rate(b), 14)}${pad(b.peakRssMB === null ? '–' : fmt(b.peakRssMB, 0), 13)}${x}\n`,
      );
    }
    process.stdout.write(
      `(live: ${r.payloadBytes}-byte UDP, packets/s summed over the 4 interfaces; ≥: never dropped, the sender was the limit; ` +
        `budget ≥ 1.5×: ${r.budget.status})\n`,
    );
  }
}
