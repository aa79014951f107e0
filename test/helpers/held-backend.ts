/**
 * A backend a test can hold: the built-in renderer behind a gate. Each job waits at the gate
 * (reporting one step of progress, so it shows as running) until the test releases it, then
 * renders exactly as the built-in would. Serve it with {@link heldServerOptions}.
 */
import type { Backend } from '../../src/backends/backend.js';
import { createBuiltinBackend } from '../../src/backends/builtin/builtin-backend.js';
import { UnrecoverableError } from '../../src/errors/signals.js';
import type { CreateServerOptions } from './test-server.js';

export interface HeldBackend {
  readonly backend: Backend;
  /** Jobs that reached the backend so far. */
  readonly started: number;
  /** Resolves once `n` jobs in all have reached the backend. */
  waitForStarted(n: number, timeoutMs?: number): Promise<void>;
  /** Lets every held job (and every later one) render. */
  release(): void;
  /** Holds later jobs again. */
  hold(): void;
  /** The next job to reach the backend fails at once, unrecoverably, with `message`. */
  failNext(message?: string): void;
}

export const HELD_MODEL = 'held';

function openableGate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export function createHeldBackend(): HeldBackend {
  const builtin = createBuiltinBackend();
  let open = false;
  let gate = openableGate();
  let started = 0;
  let failure: string | undefined;
  const watchers = new Set<() => void>();
  const backend: Backend = {
    kind: 'held',
    label: 'held test backend (built-in renderer behind a gate)',
    capabilities: builtin.capabilities,
    async generate(spec, ctx) {
      started++;
      for (const watch of watchers) watch();
      if (failure !== undefined) {
        const message = failure;
        failure = undefined;
        throw new UnrecoverableError(message);
      }
      ctx.onProgress({ step: 0, totalSteps: spec.steps * spec.numImages });
      if (!open) {
        const aborted = new Promise<never>((_, reject) => {
          const abort = () => reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
          if (ctx.signal.aborted) abort();
          ctx.signal.addEventListener('abort', abort, { once: true });
        });
        await Promise.race([gate.promise, aborted]);
      }
      return builtin.generate(spec, ctx);
    },
  };
  return {
    backend,
    get started() {
      return started;
    },
    waitForStarted(n, timeoutMs = 10_000) {
      if (started >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(watch);
          reject(new Error(`only ${started} of ${n} jobs reached the held backend`));
        }, timeoutMs);
        const watch = () => {
          if (started < n) return;
          clearTimeout(timer);
          watchers.delete(watch);
          resolve();
        };
        watchers.add(watch);
      });
    },
    release() {
      open = true;
      gate.open();
    },
    hold() {
      open = false;
      gate = openableGate();
    },
    failNext(message = 'failed on purpose') {
      failure = message;
    },
  };
}

/** Server options that add model `held` (t2i, i2i) on `held.backend`. */
export function heldServerOptions(held: HeldBackend): CreateServerOptions {
  return {
    backends: new Map([[HELD_MODEL, held.backend]]),
    configure: (config) => {
      config.models = [
        ...config.models,
        { name: HELD_MODEL, backend: HELD_MODEL, label: 'held', modes: ['t2i', 'i2i'], baseResolution: 256, defaultSteps: 4, defaultCfgScale: 7, defaultSampler: 'Euler' },
      ];
    },
  };
}
