#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point: the compiled CLI, bundled, lives in dist/app/ (npm run build, run by npm's
// pre-hooks; scripts/bundle.mjs says why it is bundled).
// The young generation is capped at 8 MB a semi-space (V8's default lets it grow to 16):
// a long replay's garbage is short-lived, and the larger young generation only raised
// peak memory (a 5M-packet capture of unanswered queries: 155 MB → 145 MB, the same CPU).
// scripts/bench.mjs runs hopscope with the flags of this line.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/app/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'hopscope: not built yet — run `npm run setup` (or `npm test` / `npm start`) in the project first\n',
  );
  process.exit(2);
}
await import(main.href);
