// Runs a TypeScript file of the project in a child process (tests that kill or
// de-privilege the process holding a tracer): `node ts-child.mjs FILE.ts ARGS…`.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register('../../fuzz/ts-loader.mjs', import.meta.url);
process.setSourceMapsEnabled(true);
await import(pathToFileURL(resolve(process.argv[2])).href);
