// A fuzz worker thread (entry: worker-entry.mjs): runs one target's fuzz loop with
// the settings fuzz.test.ts passed, publishing each case to shared memory (so that a
// hang can be saved from outside) and reporting by messages.

import { parentPort, workerData } from 'node:worker_threads';
import { runFuzz } from './engine.js';
import { heartbeatOf, publishCase, type WorkerMessage, type WorkerSettings } from './protocol.js';

const settings = workerData as WorkerSettings;
const heartbeat = heartbeatOf(settings.shared);
const post = (message: WorkerMessage): void => parentPort?.postMessage(message);

const summary = runFuzz(
  {
    target: settings.target,
    seed: settings.seed,
    seconds: settings.seconds,
    outDir: settings.outDir,
    slowMs: settings.slowMs,
    maxFailures: settings.maxFailures,
    minimizeMs: settings.minimizeMs,
  },
  {
    publish: (iteration, c) => publishCase(settings.shared, iteration, c),
    beat: () => void Atomics.add(heartbeat, 0, 1),
    ready: (files, packets, loadMs) => post({ type: 'ready', files, packets, loadMs }),
    progress: (iterations, elapsedMs, s) =>
      post({ type: 'progress', iterations, elapsedMs, heapUsed: s.heapUsed, rss: s.rss }),
    failure: (failure) => post({ type: 'failure', failure }),
  },
);
post({ type: 'done', summary });
