// The fuzz target (issue: "random mutations of corpus packets and files, bounded time:
// never throws, never hangs, memory bounded"). Two targets, each in its own worker
// thread, both at once (see targets.ts for what each checks, mutators.ts for how
// inputs are made, engine.ts for the loop):
//   packets  every packet of the corpus, mutated, decoded as every plausible link type
//   files    every corpus file, mutated, read by CaptureReader in random chunk sizes
// The test watches each worker: no sign of life for HANG_MS (one input running that
// long) is a hang; the case is saved, the worker terminated, the test failed. Memory
// is sampled by the worker after a forced GC; growth after warm-up is bounded.
// Inputs found failing before are replayed every time (regressions.ts).
//
// Environment:
//   HOPSCOPE_FUZZ_SECONDS  how long each target runs; they run side by side, so this is
//                          about the wall time too (default 10; `npm run fuzz` sets 120)
//   HOPSCOPE_FUZZ_SEED     run seed (decimal or 0x-hex); printed on every run, failures
//                          name it; the same seed makes the same inputs in the same order
//   HOPSCOPE_FUZZ_REPLAY   a saved case (.json written on a failure): run just that input,
//                          in-process, with stack traces (e.g. ...-min.json)
//   HOPSCOPE_FUZZ_OUT      where failing cases are written (default <tmpdir>/hopscope-fuzz)

import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_AVAILABLE, CORPUS_DIR } from '../decode/support/corpus.js';
import { MAX_FILE_BYTES } from './mutators.js';
import {
  createShared,
  defaultOutDir,
  heartbeatOf,
  loadCase,
  readPublishedCase,
  saveCase,
  type FailureReport,
  type RunSummary,
  type TargetName,
  type WorkerMessage,
  type WorkerSettings,
} from './protocol.js';
import { parseSeed } from './rng.js';
import { REGRESSIONS } from './regressions.js';
import { FileTarget, PacketTarget, type FuzzCase, type Problem } from './targets.js';

const SECONDS = ((): number => {
  const v = Number(process.env.HOPSCOPE_FUZZ_SECONDS ?? '');
  return Number.isFinite(v) && v > 0 ? v : 10;
})();
const SEED = parseSeed(process.env.HOPSCOPE_FUZZ_SEED);
const REPLAY = process.env.HOPSCOPE_FUZZ_REPLAY ?? '';
const OUT_DIR = process.env.HOPSCOPE_FUZZ_OUT ?? defaultOutDir();

/** No heartbeat for this long while fuzzing: a hang. */
const HANG_MS = 5000;
/** Allowed for the worker to start (TypeScript loader) and load the corpus. */
const STARTUP_MS = 60_000;
/** One input slower than this is reported (quadratic blow-up, near-hang). */
const SLOW_MS: Record<TargetName, number> = { packets: 1000, files: 3000 };
const HEAP_GROWTH_LIMIT_MB = 64;
const RSS_GROWTH_LIMIT_MB = 256;
const WORKER_HEAP_LIMIT_MB = 512;
const MB = 1024 * 1024;

interface WorkerOutcome {
  summary: RunSummary | null;
  /** failures as they were reported (also in summary when the worker finished) */
  failures: FailureReport[];
  /** why the worker did not finish (hang, crash), with the saved case */
  abort: string | null;
}

function replayHint(casePath: string): string {
  return `HOPSCOPE_FUZZ_REPLAY=${casePath} npx vitest run test/fuzz`;
}

function runWorker(target: TargetName, seconds: number): Promise<WorkerOutcome> {
  const shared = createShared(MAX_FILE_BYTES + 64 * 1024);
  const settings: WorkerSettings = {
    target,
    seed: SEED,
    seconds,
    outDir: OUT_DIR,
    slowMs: SLOW_MS[target],
    maxFailures: 20,
    minimizeMs: 3000,
    shared,
  };
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: settings,
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_LIMIT_MB },
  });
  const heartbeat = heartbeatOf(shared);
  const failures: FailureReport[] = [];
  return new Promise((resolve) => {
    let settled = false;
    let ready = false;
    let last = Atomics.load(heartbeat, 0);
    let lastChange = Date.now();
    const finish = (outcome: WorkerOutcome): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(outcome);
    };
    /** Saves the case the worker was running when it stopped; returns a sentence saying where. */
    const savePublished = (why: string): string => {
      if (!ready) return 'no case was running yet (the worker was starting)';
      const published = readPublishedCase(shared);
      if (published === null) return 'no case recorded';
      const iteration = published.iteration;
      const name = `${target}-seed${SEED}-iter${iteration < 0 ? 'minimizing' : iteration}-${why}`;
      const { casePath } = saveCase(OUT_DIR, name, published.c, { seed: SEED, iteration, problems: [why] });
      const which = iteration < 0 ? 'while minimizing a failure' : `on iteration ${iteration}`;
      return `${which}; its input is saved: ${casePath} (seed ${SEED}; ${replayHint(casePath)})`;
    };
    const watchdog = setInterval(() => {
      const now = Date.now();
      const value = Atomics.load(heartbeat, 0);
      if (value !== last) {
        last = value;
        lastChange = now;
        return;
      }
      const limit = ready ? HANG_MS : STARTUP_MS;
      if (now - lastChange <= limit) return;
      const where = savePublished('hang');
      void worker.terminate();
      finish({
        summary: null,
        failures,
        abort: `[${target}] no progress for ${limit} ms (a hang) ${where}`,
      });
    }, 250);
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        ready = true;
        lastChange = Date.now();
      } else if (message.type === 'failure') {
        failures.push(message.failure);
      } else if (message.type === 'done') {
        void worker.terminate();
        finish({ summary: message.summary, failures, abort: null });
      }
    });
    worker.on('error', (err) => {
      const where = savePublished('crash');
      finish({ summary: null, failures, abort: `[${target}] the worker died: ${String(err)} ${where}` });
    });
    worker.on('exit', (code) => {
      finish({
        summary: null,
        failures,
        abort: `[${target}] the worker exited (code ${code}) before finishing`,
      });
    });
  });
}

function describeFailure(f: FailureReport): string {
  const lines = [
    `- ${f.signature}: ${f.count} input(s)`,
    `    first: ${f.problems[0]}`,
    `    iteration ${f.iteration} of seed ${f.seed}; case ${f.casePath} (input ${f.inputPath})`,
  ];
  if (f.minimized !== null) {
    lines.push(
      `    minimized to ${f.minimized.length} bytes: ${f.minimized.note}`,
      `      bytes = ${f.minimized.hex}`,
      `      ${replayHint(f.minimized.casePath)}`,
    );
  } else {
    lines.push(`    ${replayHint(f.casePath)}`);
  }
  return lines.join('\n');
}

function failureMessage(target: TargetName, failures: FailureReport[], more: number): string {
  const head = `fuzz [${target}] seed ${SEED} (HOPSCOPE_FUZZ_SEED=${SEED} makes the same inputs): ${failures.length} distinct failure(s)${more > 0 ? ` and ${more} more not reported` : ''}`;
  return [head, ...failures.map(describeFailure)].join('\n');
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** Growth of heapUsed / rss from the first sample after warm-up to the highest one after it. */
function memoryGrowth(s: RunSummary): { heap: number; rss: number; base: RunSummary['memory'][number] } {
  const after = s.memory.slice(s.warmSample);
  const base = after[0];
  let heap = 0;
  let rss = 0;
  for (const m of after) {
    heap = Math.max(heap, m.heapUsed - base.heapUsed);
    rss = Math.max(rss, m.rss - base.rss);
  }
  return { heap, rss, base };
}

function printSummary(s: RunSummary): void {
  const secs = s.elapsedMs / 1000;
  const growth = memoryGrowth(s);
  const rate =
    s.target === 'packets'
      ? `${Math.round(s.work / secs)} decodes/s`
      : `${(s.work / secs / MB).toFixed(1)} MB of capture/s, each read twice (chunked, whole)`;
  console.log(
    [
      `fuzz [${s.target}] seed ${s.seed}: ${s.iterations} inputs in ${secs.toFixed(1)} s = ${Math.round(s.iterations / secs)} inputs/s`,
      `(${rate}; ${s.seeds.files} corpus files, ${s.seeds.packets} packets, loaded in ${s.seeds.loadMs.toFixed(0)} ms);`,
      `heap ${mb(growth.base.heapUsed)} after warm-up, +${mb(growth.heap)} at most${s.gcAvailable ? ' (after GC)' : ''};`,
      `rss ${mb(growth.base.rss)}, +${mb(growth.rss)} at most;`,
      `${s.failures.length} distinct failure(s)`,
    ].join(' '),
  );
}

async function checkOutcome(target: TargetName, running: Promise<WorkerOutcome>): Promise<void> {
  const outcome = await running;
  if (outcome.summary !== null) printSummary(outcome.summary);
  const failures = outcome.summary?.failures ?? outcome.failures;
  const more = outcome.summary?.moreFailures ?? 0;
  // a hang or crash first (with whatever failed before it)
  expect(
    outcome.abort,
    `${outcome.abort}\n${failures.length > 0 ? failureMessage(target, failures, more) : ''}`,
  ).toBeNull();
  expect(
    failures.map((f) => f.signature),
    failureMessage(target, failures, more),
  ).toEqual([]);
  const s = outcome.summary;
  expect(s).not.toBeNull();
  if (s === null) return;
  expect(s.iterations, 'the fuzzer hardly ran').toBeGreaterThan(100);
  const growth = memoryGrowth(s);
  const memoryNote = `seed ${SEED}; samples (ms, heapUsed MB, rss MB): ${s.memory
    .map((m) => `${m.at.toFixed(0)}:${(m.heapUsed / MB).toFixed(1)}/${(m.rss / MB).toFixed(1)}`)
    .join(' ')}`;
  expect(growth.heap / MB, `heap grew by ${mb(growth.heap)} after warm-up; ${memoryNote}`).toBeLessThan(
    HEAP_GROWTH_LIMIT_MB,
  );
  expect(growth.rss / MB, `rss grew by ${mb(growth.rss)} after warm-up; ${memoryNote}`).toBeLessThan(
    RSS_GROWTH_LIMIT_MB,
  );
}

const timeout = SECONDS * 1000 + STARTUP_MS + 60_000;

describe.skipIf(REPLAY !== '' || !CORPUS_AVAILABLE)(`fuzz (${SECONDS} s, corpus ${CORPUS_DIR})`, () => {
  const running = new Map<TargetName, Promise<WorkerOutcome>>();
  beforeAll(() => {
    console.log(
      `fuzz seed ${SEED}: HOPSCOPE_FUZZ_SEED=${SEED} replays this run; failing inputs go to ${OUT_DIR}`,
    );
    for (const target of ['packets', 'files'] as const) running.set(target, runWorker(target, SECONDS));
  });
  const outcome = (target: TargetName): Promise<WorkerOutcome> => {
    const p = running.get(target);
    if (p === undefined) throw new Error(`fuzz worker ${target} not started`);
    return p;
  };

  it(
    'packets: decodePacket and describePacket never throw, never hang, keep offsets inside the packet',
    () => checkOutcome('packets', outcome('packets')),
    timeout,
  );

  it(
    'files: CaptureReader throws only CaptureFormatError, delivers packets inside their bytes, never hangs',
    () => checkOutcome('files', outcome('files')),
    timeout,
  );
});

describe.skipIf(REPLAY !== '')('fuzz regressions: inputs found failing before', () => {
  it.each(REGRESSIONS.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    const problems = runCase(r.make());
    expect(problems, `${r.fault}\n${problems.join('\n')}`).toEqual([]);
  });
});

function runCase(c: FuzzCase): string[] {
  const problems: Problem[] = [];
  if (c.target === 'packets') new PacketTarget().check(c, problems);
  else new FileTarget().check(c, problems, () => {});
  return problems.map((p) => p.message);
}

if (REPLAY !== '') {
  describe('fuzz replay', () => {
    it(`replays ${REPLAY}`, () => {
      const { saved, c } = loadCase(REPLAY);
      console.log(
        `replaying ${saved.target} case of seed ${saved.seed}, iteration ${saved.iteration}: ${saved.problems.join('; ')}`,
      );
      expect(runCase(c)).toEqual([]);
    });
  });
}
