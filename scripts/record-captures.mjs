#!/usr/bin/env node
// Re-creates the shipped recordings in captures/ (see captures/README.md): for each lab
// scenario with its main fault, one tcpdump per capture point, inside its namespace,
// while the scenario's traffic runs once; then ONE pcapng per scenario, packets merged
// in timestamp order, interfaces named by their labels — the form a capture over the
// lab's ssh hosts gives, with the lab prefix removed so the names read like a real
// cloud's (`compute:tap7aa08012-d0`, `compute:qrouter-6f77…/qr-56c70d72-3b`) — with
// if_description the capture point's role and an ISB per interface carrying tcpdump's
// own counts.
//
//   npm run build && node scripts/record-captures.mjs [SCENARIO ...]     (as root)
//
// A recording is kept only when it is complete: every tcpdump wrote every packet the
// kernel handed it (captured = received by filter, nothing dropped) and every traffic
// command ended as the fault predicts; otherwise the scenario is recorded again (up to
// ATTEMPTS times). tcpdump runs with --immediate-mode: without it libpcap (TPACKET_V3)
// hands packets over a block at a time, and the packets of the last, unfinished block
// are lost when tcpdump is stopped — a recording would then show losses that never
// happened. The IGMP reports interfaces send when they come up are kept out (a pause
// after the lab is up, and `not igmp`; the filter cannot see inside VXLAN): they come
// and go with timing, and the recordings should be the same from run to run apart from
// timestamps, ping ids, ports, TCP sequence numbers, MACs and the odd ARP re-check.
//
// The lab (prefix `rec-`) is always taken down: after each scenario, on error, and on
// SIGINT/SIGTERM/SIGHUP. An existing file is replaced only by a complete new one.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCaptureFile } from '../dist/framing/file-source.js';
import { PcapngWriter } from '../dist/framing/pcapng-writer.js';
import { getScenario, labDown, labUp, runTraffic } from '../dist/lab/index.js';

/** Each scenario with its main fault; the output is captures/<scenario>-<fault>.pcapng. */
const MAIN_FAULTS = {
  'nova-flat': 'reply-drop-br100',
  'dvr-fip': 'sg-drop',
  'sdn-vxlan': 'mtu-mismatch',
  'dnat-local': 'no-route-localnet',
};
const PREFIX = 'rec-';
const FILTER = 'not igmp';
const MAX_BYTES = 200 * 1024;
const ATTEMPTS = 3;
/** after the lab is up, before the tcpdumps start: the IGMP reports and the like of interfaces coming up */
const SETTLE_MS = 2500;
/** after every tcpdump listens, before the traffic */
const LEAD_IN_MS = 300;
/** after the traffic, before the tcpdumps are stopped: late answers, retransmissions */
const QUIET_MS = 1000;

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * `HOST:[NETNS/]IFACE` with the lab prefix removed from the namespace; the host's own
 * namespace (the one standing for its root namespace) is left out.
 */
function labelOf(point, lab) {
  const host = lab.hosts.find((h) => h.name === point.host);
  const netns = point.netns.startsWith(lab.prefix) ? point.netns.slice(lab.prefix.length) : point.netns;
  const inHostNs = host !== undefined && host.netns === point.netns;
  return `${point.host}:${inHostNs ? '' : `${netns}/`}${point.iface}`;
}

// ---- interruption ------------------------------------------------------------------

const interrupt = new AbortController();

/** Ctrl-C and friends: stop at the next step, then take the lab down (never die with it up). */
function onSignals() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (interrupt.signal.aborted) {
        process.stderr.write(`record-captures: ${signal}: still taking the lab down, please wait\n`);
        return;
      }
      process.stderr.write(`record-captures: ${signal}: stopping, taking the lab down\n`);
      interrupt.abort(new Error(`interrupted by ${signal}`));
    });
  }
}

function checkInterrupted() {
  if (interrupt.signal.aborted) throw interrupt.signal.reason;
}

/** Sleeps, or less when interrupted. */
function pause(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    interrupt.signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      interrupt.signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

// ---- tcpdump -----------------------------------------------------------------------

/** One tcpdump inside `netns`; resolves once it says "listening on". */
function startTcpdump(netns, iface, file) {
  const argv = ['netns', 'exec', netns, 'tcpdump', '-i', iface, '-n', '-U', '--immediate-mode'];
  argv.push('-s', '262144', '--time-stamp-precision=nano', '-w', file, FILTER);
  const child = spawn('ip', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const dump = { netns, iface, file, child, stderr: '', exited: null };
  dump.exited = new Promise((resolve) => child.once('close', resolve));
  child.stderr.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new Error(`tcpdump on ${netns}/${iface} ${why}: ${dump.stderr.trim() || '(no output)'}`));
    };
    const timer = setTimeout(() => fail('did not start within 10 s'), 10_000);
    child.on('error', (err) => fail(`could not run (${err.message})`));
    child.stderr.on('data', (text) => {
      dump.stderr += text;
      if (dump.stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve(dump);
      }
    });
    dump.exited.then((code) => fail(`exited (status ${code})`));
  });
}

/** SIGINT (tcpdump then writes out what it has and prints its counts), and wait for it. */
async function stopTcpdump(dump) {
  const { child } = dump;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await dump.exited;
  clearTimeout(timer);
}

/** tcpdump's closing counts: "N packets captured / received by filter / dropped by kernel". */
function tcpdumpCounts(stderr) {
  const count = (what) => {
    const m = new RegExp(`(\\d+) packets? ${what}`).exec(stderr);
    return m === null ? null : Number(m[1]);
  };
  return {
    captured: count('captured'),
    received: count('received by filter'),
    dropped: count('dropped by kernel'),
  };
}

// ---- one recording -----------------------------------------------------------------

function wallClock() {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

/** Reads every tcpdump file (path order); the packets, copied, with their interface index. */
async function readAll(points) {
  const packets = [];
  for (const [index, point] of points.entries()) {
    let linktype = null;
    let snaplen = 0;
    const summary = await readCaptureFile(point.file, {
      onInterface(iface) {
        linktype = iface.linktype;
        snaplen = iface.snaplen;
      },
      onPacket(p) {
        packets.push({
          index,
          tsSec: p.tsSec,
          tsNsec: p.tsNsec,
          caplen: p.caplen,
          len: p.len,
          data: p.data.slice(p.offset, p.offset + p.caplen),
        });
      },
      onWarning(message) {
        throw new Error(`${point.label}: ${message}`);
      },
    });
    if (linktype === null) throw new Error(`${point.label}: tcpdump wrote no pcap header`);
    Object.assign(point, { linktype, snaplen, packets: summary.packets });
  }
  // Stable: equal timestamps keep path order, then the order tcpdump wrote them in.
  packets.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  return packets;
}

/** Why this recording is not usable, or null. */
function incomplete(points, results) {
  const problems = [];
  for (const p of points) {
    const { captured, received, dropped } = p.counts;
    if (captured !== p.packets)
      problems.push(`${p.label}: tcpdump said ${captured} captured, file has ${p.packets}`);
    if (received !== captured)
      problems.push(`${p.label}: ${received} received by filter, ${captured} captured`);
    if (dropped !== 0) problems.push(`${p.label}: ${dropped} dropped by kernel`);
  }
  for (const r of results)
    if (r.succeeded !== r.expectSuccess)
      problems.push(
        `traffic ${r.name} ${r.succeeded ? 'succeeded' : `failed (${r.exitCode})`}, fault predicts otherwise`,
      );
  return problems.length === 0 ? null : problems.join('; ');
}

async function recordOnce(scenario, fault, work) {
  const dumps = [];
  let lab = null;
  try {
    await labDown(PREFIX); // what an interrupted earlier run may have left
    lab = await labUp(scenario, { fault, prefix: PREFIX, signal: interrupt.signal });
    await pause(SETTLE_MS);
    checkInterrupted();
    const points = lab.capturePoints.map((cp, i) => ({
      ...cp,
      label: labelOf(cp, lab),
      file: join(work, `${i}.pcap`),
    }));
    const startedAt = wallClock();
    for (const p of points) dumps.push(await startTcpdump(p.netns, p.iface, p.file));
    await pause(LEAD_IN_MS);

    const results = [];
    for (const t of lab.traffic) {
      checkInterrupted();
      results.push(...(await runTraffic(lab, { only: [t.name], timeoutMs: 10_000 })));
    }
    checkInterrupted();
    await pause(QUIET_MS);
    for (const d of dumps) await stopTcpdump(d);
    const stoppedAt = wallClock();
    checkInterrupted();
    for (const [i, p] of points.entries()) p.counts = tcpdumpCounts(dumps[i].stderr);
    const packets = await readAll(points);
    return { points, packets, results, startedAt, stoppedAt, problem: incomplete(points, results) };
  } finally {
    for (const d of dumps) await stopTcpdump(d);
    await labDown(PREFIX);
  }
}

function writeRecording(out, scenario, fault, rec) {
  const partial = `${out}.partial`;
  let clock = rec.startedAt;
  const writer = PcapngWriter.toFile(partial, {
    comment: `hopscope lab ${scenario}, fault ${fault}: ${getScenario(scenario).summary}. Re-create with npm run record-captures.`,
    now: () => clock,
  });
  try {
    for (const [i, p] of rec.points.entries())
      writer.addInterface({
        id: i,
        label: p.label,
        description: p.role,
        linktype: p.linktype,
        snaplen: p.snaplen,
      });
    for (const p of rec.packets) writer.writePacket({ ...p, interfaceId: p.index, offset: 0, direction: 0 });
    clock = rec.stoppedAt;
    writer.close(
      rec.points.map((p, i) => ({
        interfaceId: i,
        received: p.counts.received,
        dropped: p.counts.dropped,
        final: true,
      })),
    );
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  const size = statSync(partial).size;
  if (size > MAX_BYTES) {
    rmSync(partial, { force: true });
    throw new Error(
      `${relative(root, out)} would be ${size} bytes, over ${MAX_BYTES}: keep the traffic smaller`,
    );
  }
  // Lab traffic, made to be shipped and replayed by anyone: readable, unlike a live recording.
  chmodSync(partial, 0o644);
  renameSync(partial, out);
  return size;
}

async function record(scenario, fault) {
  const out = join(root, 'captures', `${scenario}-${fault}.pcapng`);
  for (let attempt = 1; ; attempt++) {
    const work = mkdtempSync(join(tmpdir(), 'hopscope-rec-'));
    try {
      const rec = await recordOnce(scenario, fault, work);
      if (rec.problem !== null) {
        if (attempt < ATTEMPTS) {
          process.stderr.write(`record-captures: ${scenario}: incomplete (${rec.problem}); again\n`);
          continue;
        }
        throw new Error(`${scenario}: incomplete after ${ATTEMPTS} attempts: ${rec.problem}`);
      }
      const size = writeRecording(out, scenario, fault, rec);
      const lines = [
        `${relative(root, out)}: ${rec.packets.length} packets, ${size} bytes (${scenario}, fault ${fault})`,
      ];
      for (const p of rec.points) lines.push(`  ${String(p.packets).padStart(5)}  ${p.label}  (${p.role})`);
      for (const r of rec.results)
        lines.push(`  traffic ${r.name}: ${r.succeeded ? 'succeeded' : 'failed'}, as the fault predicts`);
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

async function main(argv) {
  const unknown = argv.filter((s) => !(s in MAIN_FAULTS));
  if (unknown.length > 0) {
    process.stderr.write(
      `record-captures: unknown scenario ${unknown.join(', ')} (scenarios: ${Object.keys(MAIN_FAULTS).join(', ')})\n`,
    );
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('record-captures: must run as root (it builds the lab and runs tcpdump)\n');
    return 2;
  }
  onSignals();
  try {
    for (const [scenario, fault] of Object.entries(MAIN_FAULTS)) {
      if (argv.length === 0 || argv.includes(scenario)) await record(scenario, fault);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`record-captures: ${err instanceof Error ? err.message : String(err)}\n`);
    return interrupt.signal.aborted ? 130 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
