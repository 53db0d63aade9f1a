// Entry point of a fuzz worker thread (started by fuzz.test.ts): teaches this thread
// to import TypeScript (ts-loader.mjs), then runs the fuzz loop in worker.ts.

import { register } from 'node:module';

register('./ts-loader.mjs', import.meta.url);
process.setSourceMapsEnabled(true);
await import('./worker.ts');
