import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default (CPUs − 1) is one worker on a 2-core machine, which leaves a core idle
    // while tests wait on child processes, sockets and the browser: two files at a time took
    // the suite from ~10 to ~6 minutes here. Tests wait on conditions, never on timing, so
    // sharing the machine must not change their outcome.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
