#!/usr/bin/env node
// The live case of `npm run bench`: how fast a stream of packets, crossing 4 interfaces
// of a lab, can be captured with zero kernel drops — by one `hopscope capture` on the 4
// interfaces writing one pcapng, and by 4 tcpdump processes each writing a file, in the
// same run, on the same traffic, one after the other (never at once: they would share
// the CPU).
//
// Topology: the dvr-fip lab. The project's generator (scripts/trafficgen.c, UDP with
// sendmmsg, one sender thread per core) runs in the outside router's namespace and sends
// to the fip namespace's address on fg-…, so every packet crosses
//   outside/eth0 → compute/eth1 → (br-ex) → compute/tap3c1d5e7f-a2 → fip-…/fg-3c1d5e7f-a2
// — veth pairs and a bridge, all forwarded in the kernel. (A path through the VM's tap,
// such as nova-flat's VM → external host, goes through the lab's userspace tap shuttle,
// socat, which caps it far below what the kernel forwards — near 100k packets/s on a
// 2-core machine — and drops the excess before the first capture point.)
//
// At each aggregate rate (packets/s summed over the 4 interfaces; every packet crosses all
// 4, so the generator sends a quarter of it), increasing:
//   - tcpdump: `ip netns exec NS tcpdump -i IFACE -w FILE -s 262144 -n FILTER` × 4, started
//     and "listening on", the generator, 1.5 s, SIGINT; their "captured", "received by
//     filter" and "dropped by kernel" counts;
//   - hopscope: `hopscope capture -i NS/IFACE ×4 -f FILTER -w FILE.pcapng --json --duration S`
//     (node with the flags of bin/hopscope.js's first line, as the command runs),
//     the generator once it has printed its 4 `interface` records; it ends by itself; its
//     final `stats` records.
// A trial is drop-free when every interface reports 0 kernel drops and the tool captured
// every packet the interface carried (the interface's own counter, ip -s link). A tool
// stops climbing after its second failing rate; the ladder stops when the sender cannot go
// faster. CPU: user+sys seconds of the capturing process(es) from the generator's start to
// 1 s after its end. Result: each tool's highest drop-free aggregate rate (as measured),
// and the ratio hopscope / tcpdump against the budget (≥ 1.5×). Must run as root.
//
// --pin: the sender (one thread) on the last core and the capture — the 4 tcpdumps, or
// hopscope with its threads — on core 0 (taskset), so that they never take each other's
// CPU; then CPU seconds per million captured packets, at each rate both captured without
// a drop, compare the tools at equal offered rate (budget: hopscope ≤ 1.25× tcpdump).
//
// Verdict latency: the UDP stream forms no exchanges, so a last hopscope trial, at the
// highest rate it captured without a drop, adds DNS exchanges (scripts/exchangegen.c: a
// client in the outside namespace, --exchanges a second, and a responder in the fip
// namespace that leaves every 10th query unanswered, so timeouts fire). Each exchange
// record is stamped as it arrives on hopscope's standard output; its deadline is its last
// sighting (the latest `ts` of its stages) plus its timeout, which docs/verdicts.md
// "Timeouts" defines: 1 s until the flow's RTT is known, then 8 × its smoothed RTT within
// 0.5–5 s (and at most 10 s after its first sighting). The exchanges start EXCHANGE_LEAD_S
// before the stream, so the flow's RTT is known when it starts; only exchanges that began
// with the stream or later count, each with its flow's smoothed RTT (from the rttMs of the
// records before it). Budget: p99 ≤ 1 s.
//
//   node scripts/bench-live.mjs [--rates 100000,200000,...] [--seconds S] [--size BYTES]
//                               [--threads N] [--pin] [--json FILE] [--dir DIR]
//                               [--exchanges PER_S] [--no-latency]
//                               [--hopscope BIN] (another build's bin/hopscope.js, to compare)
//                               [--capture-args '--no-cause'] (more arguments for hopscope capture)
// Diagnostics: HOPSCOPE_BENCH_STAMPS=FILE keeps the latency trial's stamped records,
// HOPSCOPE_BENCH_STDOUT=FILE its standard output as it arrived (each chunk after `@` and
// its arrival time), HOPSCOPE_BENCH_NODE_FLAGS node flags for the capture.
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hopscopeNodeFlags } from './hopscope-node-flags.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
/** Aggregate rates (packets/s over the 4 interfaces), tried in increasing order. */
const RATES = String(
  opt('--rates', '100000,200000,300000,400000,500000,600000,800000,1000000,1200000,1600000'),
)
  .split(',')
  .map(Number)
  .filter((r) => r > 0)
  .sort((a, b) => a - b);
/** Seconds of traffic per trial. */
const SECONDS = Number(opt('--seconds', 3));
/** UDP payload bytes (64: a packet-rate test; 1024: ~1 GB a trial to the recordings as well). */
const SIZE = Number(opt('--size', 64));
const PIN = args.includes('--pin');
const THREADS = Number(opt('--threads', PIN ? 1 : Math.min(availableParallelism(), 4)));
/** --pin: `taskset -c CPU` before the capture's and the sender's commands; else nothing. */
const CAPTURE_CPU = '0';
const SENDER_CPU = String(Math.max(0, availableParallelism() - 1));
const pinned = (cpu, argv) => (PIN ? ['taskset', '-c', cpu, ...argv] : argv);
/** [command, its arguments] of an argv, as start() takes them */
const command = (argv) => [argv[0], argv.slice(1)];
/** hopscope's CPU per packet against tcpdump's, at equal offered rate (--pin). */
const CPU_BUDGET = 1.25;
/** More arguments for hopscope capture (`--no-cause`: the capture without cause gathering, to compare). */
const CAPTURE_ARGS = String(opt('--capture-args', '')).split(' ').filter(Boolean);
/** The hopscope measured (another build's, to compare builds on the same lab and tcpdump). */
const HOPSCOPE_BIN = opt('--hopscope', join(root, 'bin', 'hopscope.js'));
/** hopscope measured as its command runs it (hopscope-node-flags.mjs). */
const HOPSCOPE_NODE_FLAGS = hopscopeNodeFlags(HOPSCOPE_BIN);
const JSON_OUT = opt('--json', join(tmpdir(), 'hopscope-bench', 'live.json'));
/** The capture files of a trial (deleted after it) go to a directory of this run in here. */
const WORK = join(opt('--dir', join(tmpdir(), 'hopscope-bench')), `live-${process.pid}`);
const PREFIX = `hsb${process.pid.toString(36)}-`;
/** Other work on the machine skews every figure: the 1-minute load when this run began. */
const LOAD_AT_START = Math.round(loadavg()[0] * 100) / 100;
const SCENARIO = 'dvr-fip';
const PORT = 9;
const FILTER = `udp and dst port ${PORT}`;
/** The latency trial: DNS exchanges a second alongside the stream, on this port. */
const EXCHANGES = Number(opt('--exchanges', 1000));
const LATENCY = !args.includes('--no-latency') && EXCHANGES > 0;
const DNS_PORT = 53;
const UNANSWERED_EVERY = 10;
const LATENCY_FILTER = `udp and (dst port ${PORT} or port ${DNS_PORT})`;
/** An exchange's timeout once its flow's RTT is known (docs/verdicts.md "Timeouts"), seconds. */
const RTT_TIMEOUT_FACTOR = 8;
const MIN_TIMEOUT_S = 0.5;
const MAX_TIMEOUT_S = 5;
const MAX_EXCHANGE_S = 10;
/** The exchanges begin this long before the stream: their flow's RTT is known by then (s). */
const EXCHANGE_LEAD_S = 2.5;
/** Verdict latency budget: p99 from an exchange's deadline to its record, seconds. */
const LATENCY_BUDGET_S = 1;
/** Below this share of its target the sender is the limit, not the capture. */
const SENDER_KEEPS_UP = 0.9;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => process.stderr.write(`${line}\n`);
const k = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`);
const round = (n, d) => Math.round(n * 10 ** d) / 10 ** d;
const tail = (s, n = 300) => s.trim().split('\n').slice(-3).join(' | ').slice(-n);

// ---------------------------------------------------------------------------------------
// processes

/** Every child still running, so an interruption can end them. */
const children = new Set();

/** Starts a process; `ready(io)` is checked on each output chunk. */
function start(cmd, argv, ready = () => true, timeoutMs = 20_000, name = cmd) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const io = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (io.stdout += d));
  child.stderr.on('data', (d) => (io.stderr += d));
  const exited = new Promise((resolve) => {
    child.once('error', (err) => {
      io.stderr += String(err.message);
      children.delete(child);
      resolve(127);
    });
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s: ${tail(io.stderr)}`)),
      timeoutMs,
    );
    const check = () => {
      if (ready(io)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready: ${tail(io.stderr || io.stdout)}`));
    });
  });
  started.catch(() => {}); // awaited by the caller; no unhandled rejection meanwhile
  return { child, io, exited, started };
}

/** Waits for a process to exit: true if it did; else SIGINT after `ms`, SIGKILL 5 s later. */
async function stopWithin(p, ms) {
  const timeout = Symbol('timeout');
  if ((await Promise.race([p.exited, sleep(ms).then(() => timeout)])) !== timeout) return true;
  p.child.kill('SIGINT');
  if ((await Promise.race([p.exited, sleep(5000).then(() => timeout)])) !== timeout) return false;
  p.child.kill('SIGKILL');
  await p.exited;
  return false;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** user+sys CPU seconds and peak RSS (MB) of the processes so far; null when one is gone. */
function usage(pids) {
  let cpu = 0;
  let rss = 0;
  try {
    for (const pid of pids) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpu += (Number(f[11]) + Number(f[12])) / CLK_TCK;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      rss += hwm ? Number(hwm[1]) / 1024 : 0;
    }
  } catch {
    return null;
  }
  return { cpu, rss };
}

// ---------------------------------------------------------------------------------------
// the generator

/** scripts/.build/NAME from scripts/NAME.c, compiled when missing or older than its source. */
function buildGenerator(name = 'trafficgen') {
  const src = join(root, 'scripts', `${name}.c`);
  const bin = join(root, 'scripts', '.build', name);
  let stale = true;
  try {
    stale = statSync(bin).mtimeMs < statSync(src).mtimeMs;
  } catch {
    // not built yet
  }
  if (stale) {
    mkdirSync(dirname(bin), { recursive: true });
    try {
      execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', bin, src], { stdio: 'inherit' });
    } catch (err) {
      throw new Error(`cannot build the traffic generator (cc -O2 ${src}): ${err.message}`, { cause: err });
    }
  }
  return bin;
}

/** Sends `perIface` packets/s for `seconds` from the outside namespace; what it sent. */
async function generate(path, perIface, seconds = SECONDS) {
  const p = start('ip', [
    'netns',
    'exec',
    path.senderNetns,
    ...pinned(SENDER_CPU, []),
    path.generator,
    path.dst,
    String(PORT),
    String(Math.round(perIface)),
    String(seconds),
    String(SIZE),
    String(THREADS),
  ]);
  if (!(await stopWithin(p, seconds * 1000 + 10_000))) throw new Error('the traffic generator did not stop');
  const m = /sent (\d+) elapsed ([\d.]+)/.exec(p.io.stdout);
  if (!m) throw new Error(`the traffic generator failed: ${tail(p.io.stderr || p.io.stdout)}`);
  const sent = Number(m[1]);
  const elapsed = Number(m[2]);
  return {
    target: perIface,
    sent,
    elapsed,
    rate: round(sent / elapsed, 0),
    keptUp: sent / elapsed >= SENDER_KEEPS_UP * perIface,
  };
}

/** Each capture point's packet counter in the direction the traffic crosses it. */
function counters(points) {
  return points.map((p) => {
    const out = execFileSync('ip', ['-j', '-s', '-n', p.netns, 'link', 'show', 'dev', p.iface], {
      encoding: 'utf8',
    });
    const link = JSON.parse(out)[0];
    const stats = link.stats64 ?? link.stats;
    return Number(stats[p.direction].packets);
  });
}

/**
 * What each interface carried of the generator's packets: its counter's growth, which may
 * also hold a stray ARP, capped at what was sent.
 */
const carried = (before, after, sent) => before.map((b, i) => Math.min(sent, after[i] - b));

// ---------------------------------------------------------------------------------------
// trials

/**
 * Runs the generator between two counter readings and CPU samples of the capturing
 * processes; `alongside()`, when given, starts more traffic at the same moment (awaited too).
 */
async function traffic(path, perIface, pids, alongside = null) {
  const before = counters(path.points);
  const cpu0 = usage(pids);
  const [g] = await Promise.all([generate(path, perIface), alongside?.()]);
  await sleep(1000);
  const cpu1 = usage(pids);
  const expected = carried(before, counters(path.points), g.sent);
  const window =
    cpu0 && cpu1 ? { cpuSeconds: round(cpu1.cpu - cpu0.cpu, 2), peakRssMB: round(cpu1.rss, 1) } : {};
  return { g, expected, ...window };
}

function verdict(tool, g, expected, perIface, extra) {
  const rows = perIface.map((r, i) => ({
    ...r,
    expected: expected[i],
    missing: Math.max(0, expected[i] - (r.captured ?? r.received)),
  }));
  const dropFree = rows.every((r) => r.dropped === 0 && r.missing === 0);
  return {
    tool,
    target: g.target * 4,
    sent: g.sent,
    elapsed: g.elapsed,
    senderRate: g.rate,
    senderKeptUp: g.keptUp,
    /** packets/s the 4 interfaces carried, summed */
    aggregate: round(expected.reduce((a, b) => a + b, 0) / g.elapsed, 0),
    /** packets/s the tool captured, summed */
    captured: round(rows.reduce((a, r) => a + (r.captured ?? r.received), 0) / g.elapsed, 0),
    dropFree,
    dropped: rows.reduce((a, r) => a + r.dropped, 0),
    missing: rows.reduce((a, r) => a + r.missing, 0),
    ...extra,
    perIface: rows,
  };
}

async function tcpdumpTrial(path, perIface, i) {
  const files = path.points.map((_, n) => join(WORK, `tcpdump-${i}-${n}.pcap`));
  const procs = path.points.map((p, n) =>
    start(
      ...command(
        pinned(CAPTURE_CPU, [
          'ip',
          'netns',
          'exec',
          p.netns,
          'tcpdump',
          '-i',
          p.iface,
          '-w',
          files[n],
          '-s',
          '262144',
          '-n',
          FILTER,
        ]),
      ),
      (io) => io.stderr.includes('listening on'),
    ),
  );
  try {
    await Promise.all(procs.map((p) => p.started));
    await sleep(500); // as for hopscope: a moment between "listening" and the first packet
    const t = await traffic(
      path,
      perIface,
      procs.map((p) => p.child.pid),
    );
    await sleep(500); // 1.5 s after the last packet: a ring block's timeout, so it is in the file
    for (const p of procs) p.child.kill('SIGINT');
    for (const p of procs) await stopWithin(p, 10_000);
    const perIfaceStats = procs.map((p, n) => {
      const num = (re) => {
        const m = re.exec(p.io.stderr);
        if (!m) throw new Error(`tcpdump on ${path.points[n].label} printed no counts: ${tail(p.io.stderr)}`);
        return Number(m[1]);
      };
      return {
        label: path.points[n].label,
        captured: num(/(\d+) packets? captured/),
        received: num(/(\d+) packets? received by filter/),
        dropped: num(/(\d+) packets? dropped by kernel/),
      };
    });
    return verdict('tcpdump', t.g, t.expected, perIfaceStats, {
      cpuSeconds: t.cpuSeconds ?? null,
      peakRssMB: t.peakRssMB ?? null,
    });
  } finally {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    for (const f of files) rmSync(f, { force: true });
  }
}

/** `hopscope capture` could not be measured at all (not there, failed, no final counters). */
class Unavailable extends Error {}

/**
 * The DNS exchanges of the latency trial: the client, from the outside namespace, for
 * the trial's seconds (the responder runs in the fip namespace: startResponder).
 */
async function exchanges(path, seconds) {
  const p = start('ip', [
    'netns',
    'exec',
    path.senderNetns,
    ...pinned(SENDER_CPU, []),
    path.exchangegen,
    'client',
    path.dst,
    String(DNS_PORT),
    String(EXCHANGES),
    String(seconds),
  ]);
  if (!(await stopWithin(p, seconds * 1000 + 10_000))) throw new Error('the exchange client did not stop');
  const m = /sent (\d+) answered (\d+)/.exec(p.io.stdout);
  if (!m) throw new Error(`the exchange client failed: ${tail(p.io.stderr || p.io.stdout)}`);
  return { sent: Number(m[1]), answered: Number(m[2]) };
}

/** The DNS responder in the fip namespace, until stopped (it leaves every UNANSWERED_EVERY-th query). */
async function startResponder(path) {
  const p = start(
    ...command([
      'ip',
      'netns',
      'exec',
      path.dstNetns,
      ...pinned(SENDER_CPU, []),
      path.exchangegen,
      'server',
      String(DNS_PORT),
      String(UNANSWERED_EVERY),
    ]),
    (io) => io.stdout.includes('listening'),
    10_000,
    'the DNS responder',
  );
  await p.started;
  return p;
}

/**
 * An exchange record's deadline in seconds since 1970 (a double: µs precision is plenty):
 * its last sighting plus the timeout of its flow — `srtt`, the flow's smoothed RTT in
 * seconds so far (0: not known yet) — and at most MAX_EXCHANGE_S after its first.
 */
function deadlineOf(record, srtt) {
  let first = Infinity;
  let last = 0;
  for (const stage of record.stages ?? [])
    for (const seen of stage.seen ?? []) {
      const t = Number(seen.ts);
      first = Math.min(first, t);
      last = Math.max(last, t);
    }
  const timeout = srtt > 0 ? Math.min(MAX_TIMEOUT_S, Math.max(MIN_TIMEOUT_S, RTT_TIMEOUT_FACTOR * srtt)) : 1;
  return { first, deadline: Math.min(last + timeout, first + MAX_EXCHANGE_S) };
}

/** Verdict latency figures (seconds) of the exchange records stamped as they arrived. */
function latencyFigures(stamped) {
  const lat = stamped.map((x) => x.arrived - x.deadline).sort((a, b) => a - b);
  const q = (f) =>
    lat.length === 0 ? null : round(lat[Math.min(lat.length - 1, Math.ceil(f * lat.length) - 1)], 3);
  const byStatus = {};
  for (const x of stamped) byStatus[x.status] = (byStatus[x.status] ?? 0) + 1;
  if (process.env.HOPSCOPE_BENCH_STAMPS)
    writeFileSync(process.env.HOPSCOPE_BENCH_STAMPS, JSON.stringify(stamped));
  return { exchanges: lat.length, byStatus, p50: q(0.5), p99: q(0.99), max: q(1) };
}

async function hopscopeTrial(path, perIface, i, latency = false) {
  const file = join(WORK, `hopscope-${i}.pcapng`);
  // 0.5 s to settle (the latency trial: the exchanges' lead), the traffic, 2 s to spare
  const duration = SECONDS + 2 + (latency ? EXCHANGE_LEAD_S : 0.5);
  const interfaces = (io) => (io.stdout.match(/"type"\s*:\s*"interface"/g) ?? []).length;
  const p = start(
    ...command(
      pinned(CAPTURE_CPU, [
        process.execPath,
        ...HOPSCOPE_NODE_FLAGS,
        // e.g. HOPSCOPE_BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof': profile the capture under load
        ...(process.env.HOPSCOPE_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        HOPSCOPE_BIN,
        'capture',
        ...path.points.flatMap((pt) => ['-i', pt.label]),
        '-f',
        latency ? LATENCY_FILTER : FILTER,
        '-w',
        file,
        '--json',
        '--duration',
        String(duration),
        ...CAPTURE_ARGS,
      ]),
    ),
    (io) => interfaces(io) >= path.points.length,
    20_000,
    'hopscope capture',
  );
  // The latency trial: each exchange record stamped (wall clock, s) as its line arrives,
  // with its deadline; the flows' smoothed RTTs (s) learned from the records, in order.
  const stamped = [];
  const srtt = new Map();
  if (latency) {
    let partial = '';
    p.child.stdout.on('data', (d) => {
      const arrived = (performance.timeOrigin + performance.now()) / 1000;
      if (process.env.HOPSCOPE_BENCH_STDOUT)
        appendFileSync(process.env.HOPSCOPE_BENCH_STDOUT, `@${arrived}\n${d}`);
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (!line.includes('"type":"exchange"')) continue;
        let r;
        try {
          r = JSON.parse(line);
        } catch {
          continue; // not a record
        }
        const flow = `${r.kind} ${r.flow?.src} ${r.flow?.dst}`;
        const { first, deadline } = deadlineOf(r, srtt.get(flow) ?? 0);
        stamped.push({ arrived, first, deadline, status: r.status, cause: r.cause?.code ?? null });
        if (typeof r.rttMs === 'number' && r.rttMs > 0) {
          const s = srtt.get(flow) ?? 0;
          srtt.set(flow, s === 0 ? r.rttMs / 1000 : (7 * s + r.rttMs / 1000) / 8);
        }
      }
    });
  }
  let responder = null;
  try {
    try {
      await p.started;
    } catch (err) {
      throw new Unavailable(err.message);
    }
    let dns = null;
    let client = null;
    if (latency) {
      responder = await startResponder(path);
      client = exchanges(path, EXCHANGE_LEAD_S + SECONDS).then((r) => (dns = r));
      client.catch(() => {}); // awaited below
      await sleep(EXCHANGE_LEAD_S * 1000);
    } else await sleep(500);
    const streamStart = Date.now() / 1000;
    const t = await traffic(path, perIface, [p.child.pid], client === null ? null : () => client);
    const stoppedByItself = await stopWithin(p, (duration + 15) * 1000);
    const finals = new Map();
    for (const line of p.io.stdout.split('\n')) {
      if (!line.startsWith('{') || !line.includes('final')) continue;
      try {
        const r = JSON.parse(line);
        if (r.type === 'stats' && r.final === true) finals.set(r.iface, r);
      } catch {
        // not a record
      }
    }
    const missing = path.points.filter((pt) => !finals.has(pt.label)).map((pt) => pt.label);
    if (missing.length > 0)
      throw new Unavailable(
        `no final stats record for ${missing.join(', ')} (exit ${p.child.exitCode}): ${tail(p.io.stderr)}`,
      );
    const perIfaceStats = path.points.map((pt) => {
      const f = finals.get(pt.label);
      return {
        label: pt.label,
        captured: typeof f.captured === 'number' ? f.captured : undefined,
        received: Number(f.received),
        dropped: Number(f.dropped),
      };
    });
    return verdict('hopscope', t.g, t.expected, perIfaceStats, {
      cpuSeconds: t.cpuSeconds ?? null,
      peakRssMB: t.peakRssMB ?? null,
      exitCode: p.child.exitCode,
      stoppedByItself,
      ...(latency ? { dns, latency: latencyFigures(stamped.filter((x) => x.first >= streamStart)) } : {}),
    });
  } finally {
    if (responder !== null && responder.child.exitCode === null) {
      responder.child.kill('SIGTERM');
      await stopWithin(responder, 5000);
    }
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(file, { force: true });
  }
}

// ---------------------------------------------------------------------------------------
// the lab

/** The 4 capture points of the path, found in the lab as built (names carry the prefix). */
function pathOf(view, generator, exchangegen) {
  const find = (pred, what) => {
    const i = view.interfaces.find(pred);
    if (!i) throw new Error(`the ${SCENARIO} lab has no ${what} (the scenario changed?)`);
    return i;
  };
  const fg = find((i) => i.role === 'fg', 'fg- interface');
  const fgPeer = find((i) => i.name === `tap${fg.name.slice(3)}`, `bridge end of ${fg.name}`);
  const eth1 = find((i) => i.netns === fgPeer.netns && i.name === 'eth1', 'eth1 on the compute node');
  const outside = find((i) => i.netns === `${view.prefix}outside` && i.name === 'eth0', 'outside eth0');
  const dst = fg.addresses[0]?.split('/')[0];
  if (!dst) throw new Error(`${fg.name} has no address in the ${SCENARIO} lab`);
  const point = (i, direction) => ({
    netns: i.netns,
    iface: i.name,
    label: `${i.netns}/${i.name}`,
    direction,
  });
  return {
    generator,
    exchangegen,
    senderNetns: outside.netns,
    dstNetns: fg.netns,
    dst,
    points: [point(outside, 'tx'), point(eth1, 'rx'), point(fgPeer, 'tx'), point(fg, 'rx')],
  };
}

let lab = null; // the prefix while a lab may exist
let building = null; // labUp() under way: on failure or abort it removes what it built
const abort = new AbortController();

async function teardown() {
  for (const c of children) c.kill('SIGKILL');
  await building?.catch(() => {});
  if (lab !== null) {
    const prefix = lab;
    lab = null;
    try {
      await (await import(join(root, 'dist', 'lab', 'index.js'))).labDown(prefix);
    } catch (err) {
      log(`bench-live: could not take the lab down (hopscope lab down --prefix ${prefix}): ${err.message}`);
    }
  }
  rmSync(WORK, { recursive: true, force: true });
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`bench-live: ${sig}, taking the lab down`);
    abort.abort();
    teardown().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

// ---------------------------------------------------------------------------------------
// the ladder and its report

function summarize(rows, tools, generatorAlone, path, latency) {
  const best = {};
  for (const tool of ['tcpdump', 'hopscope']) {
    const trials = rows.map((r) => r[tool]).filter((t) => t && !t.unavailable);
    const ok = trials.filter((t) => t.dropFree);
    const top = ok.reduce((a, t) => (a === null || t.aggregate > a.aggregate ? t : a), null);
    best[tool] = {
      aggregate: top?.aggregate ?? 0,
      target: top?.target ?? null,
      cpuSeconds: top?.cpuSeconds ?? null,
      peakRssMB: top?.peakRssMB ?? null,
      // no drop at or above it: the true limit is higher than what the sender reached
      lowerBound: top !== null && !trials.some((t) => !t.dropFree && t.target >= top.target),
      unavailable: tools[tool].unavailable ?? null,
      failures: tools[tool].failures,
    };
  }
  const td = best.tcpdump;
  const hs = best.hopscope;
  let ratio = null;
  let ratioKind = null;
  let budget;
  if (hs.unavailable !== null) budget = 'not measured: hopscope capture unavailable';
  else if (td.aggregate === 0 && hs.aggregate > 0) {
    budget = 'met (tcpdump dropped at every rate)';
  } else if (td.aggregate === 0) {
    budget = 'not measured: neither captured any rate without drops';
  } else if (td.lowerBound && hs.lowerBound) {
    ratioKind = 'unknown';
    budget = 'not measurable: neither dropped at any rate the sender reached';
  } else {
    ratio = round(hs.aggregate / td.aggregate, 2);
    if (!td.lowerBound && !hs.lowerBound) {
      ratioKind = 'exact';
      budget = ratio >= 1.5 ? 'met' : 'not met';
    } else if (td.lowerBound) {
      ratioKind = 'at most';
      budget = ratio >= 1.5 ? 'not measurable: tcpdump never dropped' : 'not met';
    } else {
      ratioKind = 'at least';
      budget = ratio >= 1.5 ? 'met' : 'not measurable: hopscope never dropped';
    }
  }
  // CPU per packet at equal offered rate: every rate both captured without a drop
  const perMillion = (t) =>
    t.cpuSeconds === null || t.captured === 0
      ? null
      : round(t.cpuSeconds / ((t.captured * t.elapsed) / 1e6), 3);
  const equalRate = rows
    .filter((r) => r.tcpdump?.dropFree && r.hopscope?.dropFree)
    .map((r) => {
      const td = perMillion(r.tcpdump);
      const hs = perMillion(r.hopscope);
      return {
        target: r.target,
        tcpdumpCpuPerMillion: td,
        hopscopeCpuPerMillion: hs,
        ratio: td === null || hs === null ? null : round(hs / td, 2),
      };
    });
  const top = equalRate.at(-1) ?? null;
  const cpu = {
    pinned: PIN,
    budget: CPU_BUDGET,
    rows: equalRate,
    /** at the highest rate both captured without a drop */
    ratio: top?.ratio ?? null,
    target: top?.target ?? null,
    status: !PIN
      ? 'not measured (run with --pin)'
      : top === null || top.ratio === null
        ? 'not measured: no rate both captured without a drop'
        : top.ratio <= CPU_BUDGET
          ? 'met'
          : 'not met',
  };
  const senderRates = rows.flatMap((r) => [r.tcpdump, r.hopscope]).map((t) => t?.senderRate ?? 0);
  return {
    scenario: SCENARIO,
    path: path.points.map((p) => `${p.label} (${p.direction})`),
    filter: FILTER,
    payloadBytes: SIZE,
    seconds: SECONDS,
    senderThreads: THREADS,
    cores: availableParallelism(),
    kernel: release(),
    loadAverageAtStart: LOAD_AT_START,
    /** the sender with nobody capturing (packets/s per interface) */
    generatorAlone: generatorAlone ?? null,
    /** the highest per-interface rate the sender reached in any trial or alone */
    generatorMax: Math.max(generatorAlone?.rate ?? 0, ...senderRates),
    dropFree: best,
    ratio,
    ratioKind,
    budget: { required: 1.5, status: budget },
    cpu,
    latency:
      latency === null
        ? { status: LATENCY ? 'not measured' : 'not run (--no-latency)' }
        : {
            /** aggregate packets/s of the stream during the trial (its target) */
            target: latency.target,
            exchangesPerSecond: EXCHANGES,
            unansweredEvery: UNANSWERED_EVERY,
            dropFree: latency.trial.dropFree,
            dropped: latency.trial.dropped,
            missing: latency.trial.missing,
            aggregate: latency.trial.aggregate,
            cpuSeconds: latency.trial.cpuSeconds,
            dns: latency.trial.dns,
            exchanges: latency.exchanges,
            byStatus: latency.byStatus,
            p50: latency.p50,
            p99: latency.p99,
            max: latency.max,
            budget: LATENCY_BUDGET_S,
            status:
              latency.p99 === null
                ? 'not measured: no exchange records'
                : latency.p99 <= LATENCY_BUDGET_S
                  ? 'met'
                  : 'not met',
          },
    rows,
    date: new Date().toISOString(),
  };
}

function cell(t) {
  if (!t) return ['–', '–', '–', '–', '–', 'not run'];
  if (t.unavailable) return ['–', '–', '–', '–', '–', 'hopscope capture unavailable'];
  return [
    `${k(t.senderRate)}${t.senderKeptUp ? '' : ' (sender limit)'}`,
    k(t.aggregate),
    t.perIface.map((i) => i.dropped).join('/'),
    String(t.missing),
    t.cpuSeconds === null ? '?' : t.cpuSeconds.toFixed(2),
    t.dropFree ? 'drop-free' : 'DROPS',
  ];
}

function ratioText(result) {
  if (result.ratioKind === 'unknown') return '– (neither dropped)';
  if (result.ratio === null) return '–';
  const sign = { exact: '', 'at most': '≤ ', 'at least': '≥ ' }[result.ratioKind];
  return `${sign}${result.ratio.toFixed(2)}×`;
}

function printReport(result) {
  const out = [];
  out.push(
    `live capture: ${result.scenario} lab, 4 interfaces (${result.path.join(' → ')}), ` +
      `${result.payloadBytes}-byte UDP payloads, ${result.seconds} s per trial, ${result.senderThreads} sender threads, ` +
      `${result.cpu.pinned ? 'sender and capture pinned to different cores, ' : ''}` +
      `${result.cores} cores (load average ${result.loadAverageAtStart} at start)`,
  );
  if (result.generatorAlone)
    out.push(
      `generator alone (no capture): ${k(result.generatorAlone.rate)} pkt/s per interface = ${k(result.generatorAlone.rate * 4)} aggregate`,
    );
  out.push('');
  const head = [
    'target agg. pkt/s',
    'tool',
    'sent pkt/s per iface',
    'carried agg. pkt/s',
    'kernel drops per iface',
    'missing',
    'CPU s',
    'result',
  ];
  const lines = [];
  for (const r of result.rows) {
    for (const tool of ['tcpdump', 'hopscope']) {
      if (!r[tool]) continue;
      lines.push([
        k(r.target),
        tool === 'tcpdump' ? '4 × tcpdump -w' : 'hopscope capture -w',
        ...cell(r[tool]),
      ]);
    }
  }
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmtRow = (cells) => `| ${cells.map((s, c) => s.padEnd(widths[c])).join(' | ')} |`;
  out.push(fmtRow(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmtRow));
  out.push('');
  const describe = (b) =>
    b.unavailable !== null
      ? `unavailable (${b.unavailable})`
      : b.aggregate === 0
        ? 'dropped at every rate'
        : `${b.lowerBound ? '≥ ' : ''}${k(b.aggregate)} pkt/s${b.lowerBound ? ' (never dropped; the sender was the limit)' : ''}`;
  out.push(`highest drop-free aggregate rate, hopscope:     ${describe(result.dropFree.hopscope)}`);
  out.push(`highest drop-free aggregate rate, 4 × tcpdump:  ${describe(result.dropFree.tcpdump)}`);
  out.push(`ratio hopscope / tcpdump: ${ratioText(result)}; budget ≥ 1.5×: ${result.budget.status}`);
  if (result.cpu.pinned) {
    out.push(
      'CPU-s per million captured packets at equal offered rate (capture on core 0, sender on its own core):',
    );
    for (const r of result.cpu.rows)
      out.push(
        `  ${k(r.target)} agg.: hopscope ${r.hopscopeCpuPerMillion ?? '?'}, 4 × tcpdump ${r.tcpdumpCpuPerMillion ?? '?'}` +
          `, ratio ${r.ratio ?? '?'}×`,
      );
    out.push(`  budget ≤ ${result.cpu.budget}× at the highest such rate: ${result.cpu.status}`);
  }
  const l = result.latency;
  if (l.p99 !== undefined) {
    const mark = l.status === 'met' ? '✔' : '✘';
    out.push(
      `verdict latency (deadline → record) at ${k(l.target)} pkt/s agg.${l.dropFree ? ' (drop-free)' : ' (with drops)'} ` +
        `and ${k(l.exchangesPerSecond)} DNS exchanges/s: p50 ${l.p50} s, p99 ${l.p99} s, max ${l.max} s ` +
        `over ${l.exchanges} records; budget p99 ≤ ${l.budget} s: ${l.status} ${mark}`,
    );
  } else out.push(`verdict latency: ${l.status}`);
  out.push(`(JSON: ${JSON_OUT})`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main() {
  if (process.getuid?.() !== 0) {
    log(
      'live capture bench: skipped — it needs root (it builds a lab in network namespaces and captures in them)',
    );
    return 2;
  }
  if (!existsSync(join(root, 'dist', 'lab', 'index.js'))) {
    log('live capture bench: the project is not built (npm run build)');
    return 2;
  }
  const generator = buildGenerator();
  const exchangegen = LATENCY ? buildGenerator('exchangegen') : null;
  const { labUp } = await import(join(root, 'dist', 'lab', 'index.js'));
  mkdirSync(WORK, { recursive: true });
  const rows = [];
  const tools = { tcpdump: { failures: 0 }, hopscope: { failures: 0 } };
  let generatorAlone;
  let path;
  let latency = null;
  try {
    lab = PREFIX;
    log(`live capture bench: building the ${SCENARIO} lab (prefix ${PREFIX})`);
    building = labUp(SCENARIO, { prefix: PREFIX, signal: abort.signal });
    const view = await building;
    path = pathOf(view, generator, exchangegen);
    log(`path: ${path.points.map((p) => p.label).join(' → ')}; UDP to ${path.dst}:${PORT}`);
    await generate(path, 1000, 1); // warm-up: ARP, route and neighbour caches

    let senderLimited = 0;
    for (const [i, rate] of RATES.entries()) {
      if (interrupted) break;
      const active = ['tcpdump', 'hopscope'].filter((t) => tools[t].failures < 2 && !tools[t].unavailable);
      if (active.length === 0) break;
      const row = { target: rate, perIface: rate / 4 };
      // alternate which goes first: neither always runs right after the other's disk writes
      for (const tool of i % 2 === 0 ? active : [...active].reverse()) {
        let t;
        try {
          t =
            tool === 'tcpdump'
              ? await tcpdumpTrial(path, rate / 4, i)
              : await hopscopeTrial(path, rate / 4, i);
        } catch (err) {
          if (!(err instanceof Unavailable) || interrupted) throw err;
          tools.hopscope.unavailable = err.message;
          t = { tool, unavailable: err.message };
          log(`  hopscope capture unavailable: ${err.message}`);
        }
        row[tool] = t;
        if (!t.unavailable && !t.dropFree) tools[tool].failures++;
        if (!t.unavailable)
          log(
            `  ${k(rate).padStart(6)} target: ${tool.padEnd(8)} sent ${k(t.senderRate)}/s per iface${t.senderKeptUp ? '' : ' (below target)'}, ` +
              `carried ${k(t.aggregate)}/s aggregate, drops ${t.perIface.map((x) => x.dropped).join('/')}, missing ${t.missing}, ` +
              `CPU ${t.cpuSeconds ?? '?'} s${t.dropFree ? '' : ' — DROPS'}`,
          );
        await sleep(500);
      }
      rows.push(row);
      const measured = ['tcpdump', 'hopscope'].map((t) => row[t]).filter((t) => t && !t.unavailable);
      senderLimited = measured.length > 0 && measured.every((t) => !t.senderKeptUp) ? senderLimited + 1 : 0;
      if (senderLimited >= 2) {
        log('  the sender is saturated: higher rates would not be reached');
        break;
      }
    }
    if (!interrupted && LATENCY && !tools.hopscope.unavailable) {
      // Verdict latency at the highest rate hopscope captured without a drop (else the lowest tried).
      const ok = rows.filter((r) => r.hopscope?.dropFree).map((r) => r.target);
      const target = ok.length > 0 ? Math.max(...ok) : RATES[0];
      const t = await hopscopeTrial(path, target / 4, 'latency', true);
      latency = { target, trial: t, ...t.latency };
      log(
        `  latency trial at ${k(target)} target: ${t.latency.exchanges} exchange records, ` +
          `deadline → record p50 ${t.latency.p50} s, p99 ${t.latency.p99} s${t.dropFree ? '' : ' — DROPS'}`,
      );
    }
    if (!interrupted) {
      // What the sender reaches with nobody capturing: what capturing itself costs it.
      const top = RATES[RATES.length - 1] / 4;
      generatorAlone = await generate(path, top);
      log(`generator alone (no capture): ${k(generatorAlone.rate)} pkt/s per interface (target ${k(top)})`);
    }
  } finally {
    if (!interrupted) await teardown();
  }
  if (interrupted) return 130;
  const result = summarize(rows, tools, generatorAlone, path, latency);
  mkdirSync(dirname(JSON_OUT), { recursive: true });
  writeFileSync(JSON_OUT, `${JSON.stringify(result, null, 2)}\n`);
  printReport(result);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  // interrupted: the signal handler is taking the lab down and sets the exit status
  if (!interrupted) {
    log(`live capture bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
