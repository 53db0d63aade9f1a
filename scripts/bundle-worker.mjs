#!/usr/bin/env node
// Part of `npm run build`, after tsc: the replay's decoder thread (dist/sources/
// file-decoder-worker.js and the ~40 modules it imports) made one self-contained file.
// A thread loads its modules one by one before it reads a packet, and the replay waits
// for it: one file cuts its start-up by ~20 ms (README, "Dependencies"). The bundle is
// the same compiled code; only the module boundaries are gone.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const worker = fileURLToPath(new URL('../dist/sources/file-decoder-worker.js', import.meta.url));
await build({
  entryPoints: [worker],
  outfile: worker,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
