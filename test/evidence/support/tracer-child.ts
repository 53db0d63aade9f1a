// A process that holds the drop tracer: prints `ready` once attached (or
// `unavailable: …`), then waits to be killed. `node ts-child.mjs tracer-child.ts [NETNS_PATH]`.
import { DropTracerUnavailable, LocalDropTracer } from '../../../src/evidence/kernel/drop-tracer.js';

try {
  const tracer = LocalDropTracer.open();
  tracer.watch(process.argv[3] ?? null);
  process.stdout.write('ready\n');
  setInterval(() => tracer.poll(), 1000);
} catch (err) {
  if (!(err instanceof DropTracerUnavailable)) throw err;
  process.stdout.write(`unavailable: ${err.message}\n`);
}
