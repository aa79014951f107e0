import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default (CPUs − 1) is one worker on a 2-core machine, which leaves a core idle
    // while tests wait on child processes, sockets and the browser: two files at a time took
    // the suite from ~10 to ~6 minutes here. Three overloaded the cores (the CLI tests, which
    // start a process per command, took twice as long and timed out).
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: ['test/web/**'],
          // Each file used to import the server's whole module graph again (223 s of a 712 s
          // suite). Server tests share no module state: every test builds its own server,
          // database, storage and metrics registry, so one import per worker serves them all.
          isolate: false,
        },
      },
      {
        extends: true,
        // The playground's jsdom tests stub fetch, timers and module state: each file gets its own.
        test: { name: 'web', include: ['test/web/**/*.test.{ts,tsx}'] },
      },
    ],
  },
});
