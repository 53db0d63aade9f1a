// What the kernel drop tracer (native/drop_tracer.*) costs under a flood of drops.
//
//   node scripts/bench-drop-tracer.mjs [RATE_PPS [SECONDS [ROUNDS]]]     (as root, after npm run build)
//
// Two namespaces joined by a veth; B drops every UDP packet to port 9 (an nftables rule
// with a counter); scripts/trafficgen.c floods B from A at RATE packets/s. Three cases,
// ROUNDS times each, interleaved:
//   off         no tracer
//   unwatched   the tracer loaded, B not watched: the BPF program runs on every drop
//               and returns at its namespace check
//   watched     the tracer watching B: every drop read, copied to the ring buffer, taken
//               by the addon's thread, read into the drop store (lost: the ring or the
//               addon's queue was full)
// For each: drops/s (the rule's counter), the BPF program's own time in the kernel
// (kernel.bpf_stats_enabled is set for the run and put back after: run_time_ns and
// run_cnt of the program), this process's CPU (the addon's reader thread and the
// timer that takes its batches), events reported and lost, and the machine's CPU
// (all cores, /proc/stat, % of one core; noisy on a shared machine). Medians of the
// rounds. Namespaces are removed at the end, also on failure.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { LocalDropTracer } = await import(join(root, 'dist', 'evidence', 'kernel', 'drop-tracer.js'));

const RATE = Number(process.argv[2] ?? 100_000);
const SECONDS = Number(process.argv[3] ?? 5);
const ROUNDS = Number(process.argv[4] ?? 3);
const NS_A = `hsdt${process.pid}-a`;
const NS_B = `hsdt${process.pid}-b`;

const sh = (argv) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });
const inNs = (ns, argv) => sh(['ip', 'netns', 'exec', ns, ...argv]);

function generator() {
  const src = join(root, 'scripts', 'trafficgen.c');
  const bin = join(root, 'scripts', '.build', 'trafficgen');
  let stale = true;
  try {
    stale = statSync(bin).mtimeMs < statSync(src).mtimeMs;
  } catch {
    // not built yet
  }
  if (stale) {
    mkdirSync(dirname(bin), { recursive: true });
    sh(['cc', '-O2', '-Wall', '-pthread', '-o', bin, src]);
  }
  return bin;
}

function busyJiffies() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7];
}

function dropCounter() {
  const m = /counter packets (\d+)/.exec(inNs(NS_B, ['nft', 'list', 'table', 'inet', 'bench']));
  return m ? Number(m[1]) : 0;
}

function setUp() {
  for (const ns of [NS_A, NS_B]) {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh(['ip', '-n', NS_A, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', NS_B]);
  sh(['ip', '-n', NS_A, 'addr', 'add', '10.203.0.1/24', 'dev', 'a0']);
  sh(['ip', '-n', NS_B, 'addr', 'add', '10.203.0.2/24', 'dev', 'b0']);
  sh(['ip', '-n', NS_A, 'link', 'set', 'a0', 'up']);
  sh(['ip', '-n', NS_B, 'link', 'set', 'b0', 'up']);
  inNs(NS_B, [
    'nft',
    'add table inet bench; add chain inet bench input { type filter hook input priority 0; }; add rule inet bench input udp dport 9 counter drop',
  ]);
  // the link up and the neighbour resolved before the flood
  for (let k = 0; ; k++) {
    try {
      inNs(NS_A, ['ping', '-c', '1', '-W', '1', '10.203.0.2']);
      break;
    } catch (err) {
      if (k === 5) throw err;
    }
  }
}

function tearDown() {
  for (const ns of [NS_A, NS_B]) {
    try {
      sh(['ip', 'netns', 'del', ns]);
    } catch {
      // already gone
    }
  }
}

async function round(kind, bin) {
  let tracer = null;
  if (kind !== 'off') {
    tracer = LocalDropTracer.open();
    if (kind === 'watched') tracer.watch(`/run/netns/${NS_B}`);
  }
  const drops0 = dropCounter();
  const busy0 = busyJiffies();
  const self0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const gen = spawn(
    'ip',
    ['netns', 'exec', NS_A, bin, '10.203.0.2', '9', String(RATE), String(SECONDS), '64'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  await new Promise((resolve) => gen.once('exit', resolve));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const busy = busyJiffies() - busy0;
  const self = process.cpuUsage(self0);
  const drops = dropCounter() - drops0;
  let events = 0;
  let lost = 0;
  let bpfNsPerRun = 0;
  let bpfCpuPct = 0;
  if (tracer !== null) {
    const prog = JSON.parse(sh(['bpftool', 'prog', 'show', '-j'])).find((p) => p.name === 'hopscope_drops');
    if (prog !== undefined && prog.run_cnt > 0) {
      bpfNsPerRun = prog.run_time_ns / prog.run_cnt;
      bpfCpuPct = (prog.run_time_ns / 1e9 / elapsed) * 100;
    }
    tracer.poll();
    events = tracer.reported;
    lost = tracer.lost;
    tracer.close();
  }
  const hz = 100; // USER_HZ
  return {
    dropsPerSec: drops / elapsed,
    machineCpuPct: (busy / hz / elapsed) * 100,
    selfCpuPct: ((self.user + self.system) / 1e6 / elapsed) * 100,
    events,
    lost,
    bpfNsPerRun,
    bpfCpuPct,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const statsWas = sh(['sysctl', '-n', 'kernel.bpf_stats_enabled']).trim();
try {
  sh(['sysctl', '-q', '-w', 'kernel.bpf_stats_enabled=1']);
  const bin = generator();
  setUp();
  const results = { off: [], unwatched: [], watched: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const kind of Object.keys(results)) results[kind].push(await round(kind, bin));
  console.log(
    `flood: UDP to a dropping rule, ${RATE} packets/s asked, ${SECONDS} s, ${ROUNDS} rounds (medians)`,
  );
  console.log(
    'case        drops/s   BPF ns/run   BPF % of a core   this process %   machine %   events    lost',
  );
  for (const [kind, rs] of Object.entries(results)) {
    const m = (k) => median(rs.map((x) => x[k]));
    console.log(
      [
        kind.padEnd(10),
        m('dropsPerSec').toFixed(0).padStart(8),
        m('bpfNsPerRun').toFixed(0).padStart(12),
        m('bpfCpuPct').toFixed(1).padStart(17),
        m('selfCpuPct').toFixed(1).padStart(16),
        m('machineCpuPct').toFixed(1).padStart(11),
        String(m('events')).padStart(8),
        String(m('lost')).padStart(7),
      ].join(' '),
    );
  }
} finally {
  tearDown();
  sh(['sysctl', '-q', '-w', `kernel.bpf_stats_enabled=${statsWas}`]);
}
