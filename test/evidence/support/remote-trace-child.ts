// A process that holds a remote drop trace (tracefs over ssh): prints the instance's
// name once tracing, then waits to be killed. `node ts-child.mjs remote-trace-child.ts SSH_CONFIG HOST`.
import { RemoteDropTrace } from '../../../src/evidence/kernel/tracefs-drops.js';

const trace = new RemoteDropTrace({ host: process.argv[4], sshConfig: process.argv[3] });
await trace.start();
process.stdout.write(`${trace.instance ?? `unavailable: ${trace.unavailable}`}\n`);
setInterval(() => undefined, 1000);
