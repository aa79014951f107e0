import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Vitest's default (CPUs − 1) is one worker on a 2-core machine, which leaves a core idle
// while tests wait on child processes and sockets: two files at a time took the server tests
// from ~10 to ~6 minutes here. Three overloaded the cores (the CLI tests, which start a
// process per command, took twice as long and timed out).
const SERVER_WORKERS = Math.max(2, availableParallelism());
// The browser tests mostly wait — on Chromium painting, on a run finishing — and use about a
// third of two cores at two files at a time, so they run after the server tests, more at once.
const BROWSER_WORKERS = Math.max(3, availableParallelism() + 1);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: ['test/web/**', 'test/e2e/**'],
          maxWorkers: SERVER_WORKERS,
          sequence: { groupOrder: 0 },
          // Each file used to import the server's whole module graph again (223 s of a 712 s
          // suite). Server tests share no module state: every test builds its own server,
          // database, storage and metrics registry, so one import per worker serves them all.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          maxWorkers: BROWSER_WORKERS,
          sequence: { groupOrder: 1 },
          isolate: false,
        },
      },
      {
        extends: true,
        // The playground's jsdom tests stub fetch, timers and module state: each file gets its own.
        test: {
          name: 'web',
          include: ['test/web/**/*.test.{ts,tsx}'],
          setupFiles: ['test/web/setup.ts'],
          maxWorkers: BROWSER_WORKERS,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
