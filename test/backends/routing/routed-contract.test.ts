import { createA1111Backend } from '../../../src/backends/a1111/a1111-backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { createRoutedBackend, type RoutingOptions } from '../../../src/backends/routing/routed-backend.js';
import { backendContract, type BackendFixture } from '../../contract/backend-contract.js';
import { startFakeA1111, type FakeA1111 } from '../../helpers/fake-a1111.js';

/**
 * The breaker opens only after two failures in a row, so one failed job per instance leaves
 * both usable for the next one (the contract's "the backend takes the next job").
 */
const ROUTING: RoutingOptions = {
  perInstanceConcurrency: 1,
  healthIntervalMs: 60_000,
  breaker: { failureThreshold: 2, cooldownMs: 60_000 },
  timeouts: { warmupMs: 5_000, generationMs: 10_000 },
};

backendContract('routed over two builtin renderers (least busy)', async () => {
  const backend = createRoutedBackend([createBuiltinBackend(), createBuiltinBackend()], ROUTING);
  return { backend, deterministic: true, teardown: async () => backend.close?.() };
});

interface RoutedA1111Fixture extends BackendFixture {
  readonly fakes: readonly FakeA1111[];
}

/**
 * Over two fake A1111 servers: a retryable failure is injected on both (the router fails over
 * from the first, then gives up with the last error); an unrecoverable one only on the first,
 * which the router must not fail over.
 */
backendContract<RoutedA1111Fixture>(
  'routed over two fake AUTOMATIC1111 servers (failover, circuit breaker)',
  async () => {
    const fakes = [await startFakeA1111({ stepDelayMs: 5 }), await startFakeA1111({ stepDelayMs: 5 })];
    const instances = fakes.map((fake) => createA1111Backend({ url: fake.url, timeouts: { connectMs: 1000, generationMs: 5000 }, progressPollMs: 5 }));
    const backend = createRoutedBackend(instances, ROUTING);
    return {
      fakes,
      backend,
      serverCalls: () => fakes.reduce((n, fake) => n + fake.generations().length, 0),
      teardown: async () => {
        await backend.close?.();
        await Promise.all(fakes.map((fake) => fake.close()));
      },
    };
  },
  [
    { name: 'HTTP 500 on every instance', inject: (f) => f.fakes.forEach((fake) => fake.fail({ kind: 'status', status: 500 })), expected: { code: 'backend_failed', retryable: true } },
    { name: 'connection dropped on every instance', inject: (f) => f.fakes.forEach((fake) => fake.fail({ kind: 'drop', afterSteps: 1 })), expected: { code: 'backend_failed', retryable: true } },
    { name: 'malformed answer on every instance', inject: (f) => f.fakes.forEach((fake) => fake.fail({ kind: 'malformed', what: 'not-image' })), expected: { code: 'backend_failed', retryable: true } },
    { name: '422 validation error (no failover)', inject: (f) => f.fakes[0]!.fail({ kind: 'validation', field: 'steps' }), expected: { code: 'backend_rejected', retryable: false } },
  ],
);
