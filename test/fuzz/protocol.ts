// What a fuzz worker and fuzz.test.ts share: the worker's settings, its messages, the
// shared memory through which the test sees the case being run (to save it when the
// worker hangs), and the files a failing case is saved in (and replayed from).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CaptureReaderOptions } from '../../src/framing/index.js';
import type { FuzzCase } from './targets.js';

export type TargetName = 'packets' | 'files';

export interface WorkerSettings {
  target: TargetName;
  /** run seed (HOPSCOPE_FUZZ_SEED) */
  seed: number;
  /** how long to fuzz */
  seconds: number;
  /** where failing cases are written */
  outDir: string;
  /** an iteration slower than this is a failure (quadratic blow-up, near-hang) */
  slowMs: number;
  /** distinct failures reported in full (minimized, saved); later ones are counted */
  maxFailures: number;
  /** time allowed to minimize one failure */
  minimizeMs: number;
  shared: SharedArrayBuffer;
}

export interface MemorySample {
  /** ms since the fuzz loop started */
  at: number;
  heapUsed: number;
  rss: number;
}

export interface FailureReport {
  target: TargetName;
  seed: number;
  iteration: number;
  signature: string;
  /** problem messages of the first input that showed it */
  problems: string[];
  /** the saved case: a JSON description next to the input bytes */
  casePath: string;
  inputPath: string;
  /** the minimized case, when minimization kept the failure */
  minimized: { casePath: string; inputPath: string; hex: string; length: number; note: string } | null;
  /** how many inputs failed this way in all */
  count: number;
}

export interface RunSummary {
  target: TargetName;
  seed: number;
  iterations: number;
  /** decodePacket calls (packets) or bytes pushed (files) */
  work: number;
  elapsedMs: number;
  seeds: { files: number; packets: number; loadMs: number };
  failures: FailureReport[];
  /** failures beyond maxFailures distinct signatures, not reported in full */
  moreFailures: number;
  memory: MemorySample[];
  /** index into memory of the first sample after warm-up */
  warmSample: number;
  gcAvailable: boolean;
}

export type WorkerMessage =
  | { type: 'ready'; files: number; packets: number; loadMs: number }
  | { type: 'progress'; iterations: number; elapsedMs: number; heapUsed: number; rss: number }
  | { type: 'failure'; failure: FailureReport }
  | { type: 'done'; summary: RunSummary };

// --- the case being run, in shared memory ----------------------------------------------

const META_SLOTS = 32;
const META_OFFSET = 8;
const DATA_OFFSET = META_OFFSET + META_SLOTS * 8;
const MAX_LINKTYPES = 12;
const MAX_CHUNK_SIZES = 8;
// meta slots
const M_ITERATION = 0;
const M_TARGET = 1;
const M_LENGTH = 2;
const M_START = 3;
const M_END = 4;
const M_WIRELEN = 5;
const M_MAX_BLOCK = 6;
const M_COMMENTS = 7;
const M_UNKNOWN_VERSION = 8;
const M_COUNT = 9;
const M_LIST = 10;

export function createShared(maxInputBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA_OFFSET + maxInputBytes);
}

/** The heartbeat: the worker bumps slot 0 all the time, the test watches it move. */
export function heartbeatOf(shared: SharedArrayBuffer): Int32Array {
  return new Int32Array(shared, 0, 1);
}

/** Worker side: records the case about to run (then bumps the heartbeat, which publishes it). */
export function publishCase(shared: SharedArrayBuffer, iteration: number, c: FuzzCase): void {
  const meta = new Float64Array(shared, META_OFFSET, META_SLOTS);
  const data = new Uint8Array(shared, DATA_OFFSET);
  const n = Math.min(c.bytes.length, data.length);
  data.set(c.bytes.subarray(0, n));
  meta[M_ITERATION] = iteration;
  meta[M_LENGTH] = n;
  if (c.target === 'packets') {
    meta[M_TARGET] = 0;
    meta[M_START] = c.start;
    meta[M_END] = c.end;
    meta[M_WIRELEN] = c.wireLen;
    const k = Math.min(c.linktypes.length, MAX_LINKTYPES);
    meta[M_COUNT] = k;
    for (let i = 0; i < k; i++) meta[M_LIST + i] = c.linktypes[i];
  } else {
    meta[M_TARGET] = 1;
    meta[M_MAX_BLOCK] = c.options.maxBlockBytes ?? -1;
    meta[M_COMMENTS] = c.options.packetComments === true ? 1 : 0;
    meta[M_UNKNOWN_VERSION] = c.options.unknownSectionVersion === 'skip' ? 1 : 0;
    const k = Math.min(c.chunkSizes.length, MAX_CHUNK_SIZES);
    meta[M_COUNT] = k;
    for (let i = 0; i < k; i++) meta[M_LIST + i] = c.chunkSizes[i];
  }
  Atomics.add(heartbeatOf(shared), 0, 1);
}

/** Test side: the case the worker was running (after it stopped moving). */
export function readPublishedCase(shared: SharedArrayBuffer): { iteration: number; c: FuzzCase } | null {
  Atomics.load(heartbeatOf(shared), 0);
  const meta = new Float64Array(shared, META_OFFSET, META_SLOTS);
  const n = meta[M_LENGTH];
  const bytes = new Uint8Array(shared, DATA_OFFSET, n).slice();
  const list: number[] = [];
  for (let i = 0; i < meta[M_COUNT]; i++) list.push(meta[M_LIST + i]);
  const iteration = meta[M_ITERATION];
  if (meta[M_TARGET] === 0) {
    return {
      iteration,
      c: {
        target: 'packets',
        bytes,
        start: meta[M_START],
        end: meta[M_END],
        wireLen: meta[M_WIRELEN],
        linktypes: list,
      },
    };
  }
  const options: CaptureReaderOptions = {};
  if (meta[M_MAX_BLOCK] >= 0) options.maxBlockBytes = meta[M_MAX_BLOCK];
  if (meta[M_COMMENTS] === 1) options.packetComments = true;
  if (meta[M_UNKNOWN_VERSION] === 1) options.unknownSectionVersion = 'skip';
  return { iteration, c: { target: 'files', bytes, chunkSizes: list, options } };
}

// --- saved cases ----------------------------------------------------------------------

export function defaultOutDir(): string {
  return join(tmpdir(), 'hopscope-fuzz');
}

/** The JSON written next to a failing input: enough to replay it (HOPSCOPE_FUZZ_REPLAY=<this file>). */
export interface SavedCase {
  target: TargetName;
  seed: number;
  iteration: number;
  /** the input bytes, next to this file (a .pcap/.pcapng opens in tshark) */
  input: string;
  problems: string[];
  start?: number;
  end?: number;
  linktypes?: number[];
  wireLen?: number;
  chunkSizes?: number[];
  options?: CaptureReaderOptions;
  /** the input as hex, when short */
  hex?: string;
}

function inputExtension(c: FuzzCase): string {
  if (c.target === 'packets') return 'bin';
  const b = c.bytes;
  if (b.length >= 4 && b[0] === 0x0a && b[1] === 0x0d && b[2] === 0x0d && b[3] === 0x0a) return 'pcapng';
  const m = b.length >= 4 ? ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0 : 0;
  return [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(m) ? 'pcap' : 'bin';
}

/** Writes `<dir>/<name>.json` and its input file; returns both paths. */
export function saveCase(
  dir: string,
  name: string,
  c: FuzzCase,
  meta: { seed: number; iteration: number; problems: string[] },
): { casePath: string; inputPath: string } {
  mkdirSync(dir, { recursive: true });
  const inputPath = join(dir, `${name}.${inputExtension(c)}`);
  const casePath = join(dir, `${name}.json`);
  writeFileSync(inputPath, c.bytes);
  const saved: SavedCase = {
    target: c.target,
    seed: meta.seed,
    iteration: meta.iteration,
    input: inputPath,
    problems: meta.problems,
  };
  if (c.target === 'packets') {
    Object.assign(saved, { start: c.start, end: c.end, linktypes: c.linktypes, wireLen: c.wireLen });
  } else {
    Object.assign(saved, { chunkSizes: c.chunkSizes, options: c.options });
  }
  if (c.bytes.length <= 4096) saved.hex = Buffer.from(c.bytes).toString('hex');
  writeFileSync(casePath, `${JSON.stringify(saved, null, 2)}\n`);
  return { casePath, inputPath };
}

export function loadCase(casePath: string): { saved: SavedCase; c: FuzzCase } {
  const saved = JSON.parse(readFileSync(casePath, 'utf8')) as SavedCase;
  const file = readFileSync(resolve(dirname(casePath), saved.input));
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  if (saved.target === 'packets') {
    return {
      saved,
      c: {
        target: 'packets',
        bytes,
        start: saved.start ?? 0,
        end: saved.end ?? bytes.length,
        linktypes: saved.linktypes ?? [1],
        wireLen: saved.wireLen ?? bytes.length,
      },
    };
  }
  return {
    saved,
    c: {
      target: 'files',
      bytes,
      chunkSizes: saved.chunkSizes ?? [bytes.length],
      options: saved.options ?? {},
    },
  };
}
