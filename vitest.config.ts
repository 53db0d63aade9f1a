import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Lab tests build network namespaces; files run in parallel with per-run prefixes.
    pool: 'forks',
    // Takes down the namespaces and labs of earlier runs that were killed (test/support/test-runs.ts).
    globalSetup: ['./test/support/global-setup.ts'],
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
  },
});
