#!/usr/bin/env node
// What the terminal UI costs: a replay paced at 50k packets/s, in the TUI in a real
// pseudo-terminal (tmux), against the same paced replay without it.
//
// The recording is the bench's synthetic mix (ICMP echo, DNS, TCP, VXLAN; every
// exchange answered, so the table churns through its 5000-row bound). 500k packets span
// 5 s at 100k packets/s; `--speed 0.5` replays them at 50k packets/s for 10 s.
//
//   TUI:   hopscope replay FILE --speed 0.5, in tmux (200×50): CPU time (utime+stime from
//          /proc) when the header says it has read to the end, over the paced wall time
//   alone: hopscope replay FILE --speed 0.5, not on a terminal (the text report): CPU time
//          of the same paced reading, decoding and correlation
//   UI overhead = (CPU TUI − CPU alone) / wall time of the paced replay, in % of one core:
//   the model, the redraws, and the verdict record of every exchange (the text report
//   builds them only for problems and the first ok ones; the table shows them all).
// Three rounds, alternating order; the median is reported.
//
//   node scripts/bench-ui.mjs [--rounds N] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hopscopeNodeFlags } from './hopscope-node-flags.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hopscope = join(root, 'bin', 'hopscope.js');
/** hopscope measured as its command runs it (hopscope-node-flags.mjs). */
const nodeFlags = hopscopeNodeFlags(hopscope);
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const ROUNDS = Number(opt('--rounds', 3));
const PACKETS = 500_000;
const SPEED = 0.5;
const RECORDED_RATE = 100_000; // gen-mixed-pcap.mjs: 10 µs apart
const RATE = RECORDED_RATE * SPEED;
const BUDGET_PCT = 10;
const dir = join(tmpdir(), 'hopscope-bench');
const JSON_OUT = opt('--json', join(dir, 'ui.json'));
const SOCKET = `hopscope-bench-ui-${process.pid}`;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

mkdirSync(dir, { recursive: true });
const file = join(dir, `mixed-${PACKETS}-1000.pcap`);
if (!existsSync(file)) {
  execFileSync(
    process.execPath,
    [join(root, 'scripts', 'gen-mixed-pcap.mjs'), file, '--packets', String(PACKETS)],
    {
      stdio: 'inherit',
    },
  );
}

const tmux = (...a) =>
  execFileSync('tmux', ['-L', SOCKET, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const killTmux = () => {
  try {
    tmux('kill-server');
  } catch {
    // not running
  }
};
process.on('exit', killTmux);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function withTui() {
  killTmux();
  const started = Date.now();
  tmux(
    'new-session',
    '-d',
    '-x',
    '200',
    '-y',
    '50',
    `exec env LANG=C.UTF-8 ${process.execPath} ${nodeFlags.join(' ')} ${hopscope} replay ${file} --speed ${SPEED}`,
  );
  const pid = Number(tmux('display-message', '-p', '#{pane_pid}').trim());
  let cpu;
  for (;;) {
    await sleep(100);
    const screen = tmux('capture-pane', '-p');
    cpu = cpuSeconds(pid);
    if (screen.includes('read to the end')) break;
    if (Date.now() - started > 120_000) throw new Error(`the TUI replay did not finish:\n${screen}`);
  }
  const wall = (Date.now() - started) / 1000;
  tmux('send-keys', 'q');
  await sleep(500);
  killTmux();
  return { cpu, wall };
}

function alone() {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%U %S %e', process.execPath, ...nodeFlags, hopscope, 'replay', file, '--speed', String(SPEED)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const [user, sys, wall] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { cpu: user + sys, wall };
}

const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  const order = i % 2 === 0 ? ['tui', 'alone'] : ['alone', 'tui'];
  const r = {};
  for (const which of order) r[which] = which === 'tui' ? await withTui() : alone();
  r.overheadPct = ((r.tui.cpu - r.alone.cpu) / r.tui.wall) * 100;
  r.ratePerS = PACKETS / r.tui.wall;
  rounds.push(r);
  process.stderr.write(
    `round ${i + 1}: TUI ${r.tui.cpu.toFixed(2)} CPU-s over ${r.tui.wall.toFixed(1)} s (${Math.round(r.ratePerS / 1000)}k pkt/s); ` +
      `without TUI ${r.alone.cpu.toFixed(2)} CPU-s; UI overhead ${r.overheadPct.toFixed(1)} % of a core\n`,
  );
}
const median = [...rounds].sort((a, b) => a.overheadPct - b.overheadPct)[Math.floor(rounds.length / 2)];
const result = {
  packets: PACKETS,
  targetRate: RATE,
  rounds,
  median: {
    overheadPct: Math.round(median.overheadPct * 10) / 10,
    tuiCpu: median.tui.cpu,
    aloneCpu: median.alone.cpu,
    wall: median.tui.wall,
    rate: Math.round(median.ratePerS),
  },
  budgetPct: BUDGET_PCT,
  met: median.overheadPct <= BUDGET_PCT,
};
writeFileSync(JSON_OUT, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `TUI overhead, replay paced at ${RATE / 1000}k pkt/s (achieved ${Math.round(median.ratePerS / 1000)}k): ` +
    `${result.median.overheadPct} % of one core (TUI ${median.tui.cpu.toFixed(2)} CPU-s, the same paced replay without it ` +
    `${median.alone.cpu.toFixed(2)} CPU-s, over ${median.tui.wall.toFixed(1)} s); budget ≤ ${BUDGET_PCT} %: ` +
    `${result.met ? 'met' : 'not met'}\n(JSON: ${JSON_OUT})\n`,
);
