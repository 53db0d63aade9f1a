// vitest globalSetup: before any test file runs, what earlier test runs killed before
// their afterAll (SIGKILL, a lost machine session) left behind is taken down
// (test-runs.ts): only what their recorded prefixes name. When the run ends, its own
// records go the same way (its test processes have ended by then).
import { cleanUpDeadTestRuns } from './test-runs.js';

async function cleanUp(): Promise<void> {
  // Only root builds namespaces and labs, and only root may take them down.
  if (process.getuid?.() !== 0) return;
  const { cleaned, problems } = await cleanUpDeadTestRuns();
  for (const run of cleaned) {
    if (run.namespaces.length === 0 && run.labs.length === 0) continue;
    process.stderr.write(
      `test runs: took down what a test run that has ended left (prefix ${run.prefix}): ${run.labs.length} labs, ${run.namespaces.length} namespaces\n`,
    );
  }
  for (const problem of problems) process.stderr.write(`test runs: ${problem}\n`);
}

export default async function setup(): Promise<() => Promise<void>> {
  await cleanUp();
  return cleanUp;
}
