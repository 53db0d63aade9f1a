#!/usr/bin/env node
// Part of `npm run build`, after tsc: the compiled code of dist/ bundled, so that a
// command loads a few files instead of hundreds of modules one by one (README,
// "Dependencies": esbuild). The bundles are the same compiled code; only the module
// boundaries are gone. dist/'s own modules stay as tsc wrote them (the tests and the
// bench scripts import single ones).
//
// - The replay's decoder thread (dist/sources/file-decoder-worker.js and the ~40 modules
//   it imports): one self-contained file, written over the module. A new thread loads its
//   modules before it reads a packet, and the replay waits for it.
// - The CLI (dist/cli/main.js) into dist/app/: main.js, a file per command (each
//   command's modules load only when it runs: its dynamic import), and chunks of what
//   several share, each module in exactly one (its state is one, as unbundled). The
//   decoder thread's file is copied beside them: the CLI starts it by a path relative to
//   its own module (sources/decoder-thread-boot.ts). npm packages stay outside.
import { build } from 'esbuild';
import { copyFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = (path) => fileURLToPath(new URL(`../dist/${path}`, import.meta.url));
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' };

const worker = dist('sources/file-decoder-worker.js');
await build({ ...common, entryPoints: [worker], outfile: worker, allowOverwrite: true });

rmSync(dist('app'), { recursive: true, force: true });
await build({
  ...common,
  entryPoints: [dist('cli/main.js')],
  outdir: dist('app'),
  splitting: true,
  packages: 'external',
});
copyFileSync(worker, dist('app/file-decoder-worker.js'));
