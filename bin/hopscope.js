#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm run build, run by npm's pre-hooks).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'hopscope: not built yet — run `npm run setup` (or `npm test` / `npm start`) in the project first\n',
  );
  process.exit(2);
}
await import(main.href);
