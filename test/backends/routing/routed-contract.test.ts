import { describe, expect, it } from 'vitest';
import { createA1111Backend } from '../../../src/backends/a1111/a1111-backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { createRoutedBackend, type RoutingOptions } from '../../../src/backends/routing/routed-backend.js';
import { backendContract, contractSpec, expectImages, recorder, settle, until, type BackendFixture } from '../../contract/backend-contract.js';
import { startFakeA1111, type FakeA1111 } from '../../helpers/fake-a1111.js';
import { startConnectionProxy } from './connection-proxy.js';

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
  /** Resets every connection through the proxies in front of the fakes (they keep listening); returns how many. */
  readonly dropConnections: () => number;
}

/**
 * The router over two fake A1111 servers, each behind a TCP proxy so connections can be
 * dropped. Hooks: a rejection on the first instance (the one an idle router picks; failing
 * over would show as a second call or as outputs); a crash takes both servers down (with one
 * left the router would rightly fail over and succeed).
 *
 * A drop makes the router fail over mid-job; the job's progress holds until the next instance
 * passes the step the first had reached, so it never goes backwards (the contract's drop case).
 */
async function routedOverA1111(): Promise<RoutedA1111Fixture> {
  const fakes = [await startFakeA1111({ stepDelayMs: 5 }), await startFakeA1111({ stepDelayMs: 5 })];
  const proxies = await Promise.all(fakes.map((fake) => startConnectionProxy(fake.url)));
  const instances = proxies.map((proxy) => createA1111Backend({ url: proxy.url, timeouts: { connectMs: 1000, generationMs: 5000 }, progressPollMs: 5 }));
  const backend = createRoutedBackend(instances, ROUTING);
  const down = () => Promise.all([...proxies.map((proxy) => proxy.close()), ...fakes.map((fake) => fake.close())]);
  return {
    fakes,
    backend,
    serverCalls: () => fakes.reduce((n, fake) => n + fake.generations().length, 0),
    dropConnections: () => proxies.reduce((n, proxy) => n + proxy.dropConnections(), 0),
    rejectNext: () => fakes[0]!.fail({ kind: 'validation', field: 'steps' }),
    crashMidJob: async () => void (await down()),
    dropConnectionMidJob: () => proxies.reduce((n, proxy) => n + proxy.dropConnections(), 0),
    teardown: async () => {
      await backend.close?.();
      await down();
    },
  };
}

/**
 * Over two fake A1111 servers: a retryable failure is injected on both (the router fails over
 * from the first, then gives up with the last error); an unrecoverable one only on the first,
 * which the router must not fail over.
 */
backendContract<RoutedA1111Fixture>('routed over two fake AUTOMATIC1111 servers (failover, circuit breaker)', routedOverA1111, [
  { name: 'HTTP 500 on every instance', inject: (f) => f.fakes.forEach((fake) => fake.fail({ kind: 'status', status: 500 })), expected: { code: 'backend_failed', retryable: true } },
  { name: 'connection dropped on every instance', inject: (f) => f.fakes.forEach((fake) => fake.fail({ kind: 'drop', afterSteps: 1 })), expected: { code: 'backend_failed', retryable: true } },
  { name: 'malformed answer on every instance', inject: (f) => f.fakes.forEach((fake) => fake.fail({ kind: 'malformed', what: 'not-image' })), expected: { code: 'backend_failed', retryable: true } },
  { name: '422 validation error (no failover)', inject: (f) => f.fakes[0]!.fail({ kind: 'validation', field: 'steps' }), expected: { code: 'backend_rejected', retryable: false } },
]);
