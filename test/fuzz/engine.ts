// The fuzz loop (run inside a worker thread by worker.ts): for a bounded time, make
// input n of the run from its own generator (run seed + n, so any input can be made
// again), run it through the target, time it, and on a failure save the input,
// minimize it and report it once per distinct failure. Memory is sampled after a
// forced garbage collection so that growth means retention, not garbage.

import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CaptureReaderOptions } from '../../src/framing/index.js';
import { minimizeBytes } from './minimize.js';
import { chunkSizes, mutateFile, mutatePacket } from './mutators.js';
import {
  saveCase,
  type FailureReport,
  type MemorySample,
  type RunSummary,
  type WorkerSettings,
} from './protocol.js';
import { mixSeed, Rng } from './rng.js';
import { loadSeeds, type Seeds } from './seeds.js';
import {
  FileTarget,
  PacketTarget,
  PLAUSIBLE_LINKTYPES,
  type FileCase,
  type FuzzCase,
  type PacketCase,
  type Problem,
} from './targets.js';

export interface EngineHooks {
  /** the case about to run (kept where the test can save it if the worker hangs); also a heartbeat */
  publish(iteration: number, c: FuzzCase): void;
  /** a sign of life inside long work */
  beat(): void;
  ready(files: number, packets: number, loadMs: number): void;
  progress(iterations: number, elapsedMs: number, sample: MemorySample): void;
  failure(report: FailureReport): void;
}

export type EngineSettings = Omit<WorkerSettings, 'shared'>;

/** Mixed into the run seed so that the two targets do not walk the same stream. */
const TARGET_STREAM = { packets: 0x7061636b, files: 0x66696c65 };

/** `gc` when it can be had (V8 flag set at run time, function taken from a fresh context). */
function findGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void gc() : null;
  } catch {
    return null;
  }
}

function concat(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + c.length);
  out.set(a, 0);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  return out;
}

export function makePacketCase(rng: Rng, seeds: Seeds): PacketCase {
  const seed = rng.pick(rng.pick(seeds.packetsByFile));
  const other = (): Uint8Array => rng.pick(rng.pick(seeds.packetsByFile)).bytes;
  const packet = mutatePacket(rng, seed.bytes, seed.anchors, other);
  // the packet between random bytes: a read outside [start, end) changes the result
  const prefix = rng.chance(0.3) ? 0 : rng.range(1, 16);
  const suffix = rng.range(1, 64);
  const bytes = new Uint8Array(prefix + packet.length + suffix);
  rng.fill(bytes, 0, prefix);
  bytes.set(packet, prefix);
  rng.fill(bytes, prefix + packet.length, bytes.length);
  let start = prefix;
  let end = prefix + packet.length;
  let wireLen = packet.length;
  const w = rng.below(20);
  if (w < 3) wireLen = seed.wireLen;
  else if (w < 5) wireLen = packet.length + rng.smallSize(65536);
  else if (w === 5) wireLen = rng.pick([0, 1, 0xffff, 0xffffffff]);
  if (rng.chance(0.02)) {
    // arguments out of range, which decodePacket clamps
    const k = rng.below(4);
    if (k === 0) end = bytes.length + rng.range(1, 100);
    else if (k === 1) start = end + rng.range(1, 10);
    else if (k === 2) start = -rng.range(1, 10);
    else end = Number.NaN;
  }
  const linktypes = [seed.linktype, ...PLAUSIBLE_LINKTYPES.filter((lt) => lt !== seed.linktype)];
  return { target: 'packets', bytes, start, end, linktypes, wireLen };
}

export function makeFileCase(rng: Rng, seeds: Seeds): FileCase {
  const seed = rng.pick(seeds.files);
  const other = (): Seeds['files'][number] => rng.pick(seeds.files);
  const bytes = rng.chance(0.03) ? seed.bytes.slice() : mutateFile(rng, seed.bytes, seed.layout, other);
  const options: CaptureReaderOptions = {};
  if (rng.chance(0.1)) options.maxBlockBytes = rng.pick([12, 28, 32, 64, 128, 1024, 65536, 262144]);
  if (rng.chance(0.2)) options.packetComments = true;
  if (rng.chance(0.2)) options.unknownSectionVersion = 'skip';
  return { target: 'files', bytes, chunkSizes: chunkSizes(rng, bytes.length), options };
}

/** The bytes as hex when short enough to read in a test report; else a pointer to the file. */
function hexOf(b: Uint8Array): string {
  return b.length <= 512 ? Buffer.from(b).toString('hex') : `(${b.length} bytes: see the input file)`;
}

export function runFuzz(settings: EngineSettings, hooks: EngineHooks): RunSummary {
  const { target, seed, seconds, outDir, slowMs, maxFailures, minimizeMs } = settings;
  const gc = findGc();
  const loadStart = performance.now();
  const seeds = loadSeeds();
  const loadMs = performance.now() - loadStart;
  hooks.ready(seeds.files.length, seeds.packetCount, loadMs);

  const packets = new PacketTarget();
  const files = new FileTarget();
  const stream = mixSeed(seed, TARGET_STREAM[target]);
  const make = (rng: Rng): FuzzCase =>
    target === 'packets' ? makePacketCase(rng, seeds) : makeFileCase(rng, seeds);
  const check = (c: FuzzCase, problems: Problem[]): void => {
    if (c.target === 'packets') packets.check(c, problems);
    else files.check(c, problems, hooks.beat);
  };

  const failures = new Map<string, FailureReport>();
  let moreFailures = 0;
  const memory: MemorySample[] = [];
  const started = performance.now();
  const totalMs = seconds * 1000;
  const deadline = started + totalMs;
  const warmAt = Math.min(Math.max(1000, totalMs * 0.2), totalMs * 0.5);
  // a forced GC costs (and stalls the other worker's GC helpers): about 10 to 30 samples a run
  const sampleEvery = Math.max(1000, totalMs / 30);
  let nextSample = started;
  let iterations = 0;
  let work = 0;

  const sample = (): MemorySample => {
    gc?.();
    const m = process.memoryUsage();
    const s = { at: performance.now() - started, heapUsed: m.heapUsed, rss: m.rss };
    memory.push(s);
    return s;
  };

  const onFailure = (iteration: number, c: FuzzCase, problems: Problem[]): void => {
    const first = problems[0];
    const known = failures.get(first.signature);
    if (known !== undefined) {
      known.count++;
      return;
    }
    if (failures.size >= maxFailures) {
      moreFailures++;
      return;
    }
    const name = `${target}-seed${seed}-iter${iteration}`;
    const messages = problems.slice(0, 20).map((p) => p.message);
    const saved = saveCase(outDir, name, c, { seed, iteration, problems: messages });
    let minimized: FailureReport['minimized'] = null;
    if (!first.signature.startsWith('slow')) {
      const small = minimizeCase(c, first, performance.now() + minimizeMs);
      if (small !== null) {
        const s = saveCase(outDir, `${name}-min`, small.c, { seed, iteration, problems: [first.message] });
        minimized = { ...s, hex: hexOf(small.c.bytes), length: small.c.bytes.length, note: small.note };
      }
    }
    const report: FailureReport = {
      target,
      seed,
      iteration,
      signature: first.signature,
      problems: messages,
      ...saved,
      minimized,
      count: 1,
    };
    failures.set(first.signature, report);
    hooks.failure(report);
  };

  /** A smaller input that fails with the same signature, or null. */
  const minimizeCase = (
    c: FuzzCase,
    problem: Problem,
    until: number,
  ): { c: FuzzCase; note: string } | null => {
    const failsAs = (candidate: FuzzCase): boolean => {
      hooks.publish(-1, candidate);
      const found: Problem[] = [];
      check(candidate, found);
      return found.some((p) => p.signature === problem.signature);
    };
    if (c.target === 'files') {
      if (!failsAs(c)) return null;
      const bytes = minimizeBytes(c.bytes, (b) => failsAs({ ...c, bytes: b }), until);
      if (bytes.length === c.bytes.length) return null;
      return {
        c: { ...c, bytes },
        note: `pushed into CaptureReader in chunks of ${c.chunkSizes.join(', ')} bytes (cycled)`,
      };
    }
    const { start, end } = c;
    if (!(
      Number.isInteger(start) &&
      Number.isInteger(end) &&
      start >= 0 &&
      start <= end &&
      end <= c.bytes.length
    ))
      return null;
    const linktype = problem.linktype ?? c.linktypes[0];
    const prefix = c.bytes.subarray(0, start);
    const suffix = c.bytes.subarray(end);
    const fullWire = c.wireLen === end - start;
    const build = (p: Uint8Array, around: boolean): PacketCase => ({
      target: 'packets',
      bytes: around ? concat(prefix, p, suffix) : p.slice(),
      start: around ? prefix.length : 0,
      end: around ? prefix.length + p.length : p.length,
      linktypes: [linktype],
      wireLen: fullWire ? p.length : c.wireLen,
    });
    const packet = c.bytes.subarray(start, end);
    const around = !failsAs(build(packet, false));
    if (around && !failsAs(build(packet, true))) return null;
    const small = minimizeBytes(packet, (p) => failsAs(build(p, around)), until);
    const c2 = build(small, around);
    if (!failsAs(c2)) return null;
    const call = `decodePacket(bytes, ${c2.start}, ${c2.end}, ${linktype}, ${c2.wireLen}, rec)`;
    return { c: c2, note: around ? `${call}; the failure needs the bytes around the packet` : call };
  };

  for (;;) {
    const now = performance.now();
    if (now >= deadline) break;
    if (now >= nextSample) {
      const s = sample();
      hooks.progress(iterations, s.at, s);
      nextSample = now + sampleEvery;
    }
    const iteration = iterations++;
    const c = make(new Rng(mixSeed(stream, iteration)));
    hooks.publish(iteration, c);
    work += c.target === 'packets' ? c.linktypes.length : c.bytes.length;
    const problems: Problem[] = [];
    const t0 = performance.now();
    check(c, problems);
    const took = performance.now() - t0;
    if (took > slowMs) {
      problems.push({
        signature: `slow: one input took more than ${slowMs} ms`,
        message: `one input took ${took.toFixed(0)} ms (limit ${slowMs} ms)`,
      });
    }
    if (problems.length > 0) onFailure(iteration, c, problems);
  }
  const elapsedMs = performance.now() - started;
  sample();
  const warmSample = Math.max(
    0,
    memory.findIndex((s) => s.at >= warmAt),
  );
  return {
    target,
    seed,
    iterations,
    work,
    elapsedMs,
    seeds: { files: seeds.files.length, packets: seeds.packetCount, loadMs },
    failures: [...failures.values()],
    moreFailures,
    memory,
    warmSample,
    gcAvailable: gc !== null,
  };
}
