import { CanceledError, RetryableError, UnrecoverableError } from '../../errors/signals.js';
import { abortReason } from '../a1111/abort-reason.js';
import type { Backend, BackendHealth, GenerateContext, GeneratedOutput, InstanceProbe } from '../backend.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import { withTimeLimits } from './time-limits.js';

export interface RoutingOptions {
  /** Jobs one instance runs at once (a GPU: 1). Further jobs wait for a free instance. */
  readonly perInstanceConcurrency: number;
  readonly healthIntervalMs: number;
  readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  /** Until the first progress event (model loading, seed 001: 300 s), then for the whole job. */
  readonly timeouts: { readonly warmupMs: number; readonly generationMs: number };
  readonly clock?: () => number;
}

interface Instance {
  readonly backend: Backend;
  readonly breaker: CircuitBreaker;
  inFlight: number;
  healthy: boolean;
  /** The instance's most recent failure, for the admin view. */
  lastError?: { message: string; at: number };
  /** An on-demand health probe in flight, and when the last one ended. */
  probing?: Promise<boolean>;
  probedAt?: number;
}

/** On-demand probes of one down instance are at least this far apart, however many jobs ask. */
const PROBE_INTERVAL_MS = 1_000;

/**
 * One backend made of several instances of the same kind (e.g. three ComfyUI boxes):
 * routes each job to the least busy healthy instance, waits when all are busy, fails over to
 * another instance when one fails retryably, and keeps a dead instance out with health
 * checks and a circuit breaker. Time limits for warm-up and generation wrap every call, so
 * adapters stay thin.
 */
export function createRoutedBackend(instances: readonly Backend[], options: RoutingOptions): Backend & { readonly status: () => InstanceStatus[] } {
  if (instances.length === 0) throw new Error('A routed backend needs at least one instance');
  const clock = options.clock ?? Date.now;
  const pool: Instance[] = instances.map((backend) => ({ backend, breaker: createCircuitBreaker(options.breaker, options.clock), inFlight: 0, healthy: true }));
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((resume) => resume());

  const healthTimer = setInterval(() => void checkHealth(), options.healthIntervalMs);
  healthTimer.unref();
  async function checkHealth(): Promise<void> {
    await Promise.all(
      pool.map(async (instance) => {
        if (!instance.backend.health) return;
        const healthy = await instance.backend.health(AbortSignal.timeout(Math.min(options.healthIntervalMs, 10_000))).catch(() => false);
        if (!healthy) instance.lastError = { message: 'Health check failed', at: clock() };
        const recovered = healthy && !instance.healthy;
        instance.healthy = healthy;
        if (recovered) wake();
      }),
    );
  }

  /**
   * Asks a down instance (unhealthy, or its circuit open) whether it answers now, because a job
   * is waiting: a backend that restarted takes work at once instead of after the next health
   * check or the breaker's cooldown. A yes makes the next job the breaker's trial.
   */
  function probe(instance: Instance): Promise<boolean> {
    if (!instance.backend.health) return Promise.resolve(false);
    if (instance.probing) return instance.probing;
    if (instance.probedAt !== undefined && clock() - instance.probedAt < PROBE_INTERVAL_MS) return Promise.resolve(false);
    instance.probing = instance.backend
      .health(AbortSignal.timeout(Math.min(options.healthIntervalMs, 10_000)))
      .catch(() => false)
      .then((answered) => {
        instance.probing = undefined;
        instance.probedAt = clock();
        if (answered) {
          instance.healthy = true;
          instance.breaker.probed();
          wake();
        }
        return answered;
      });
    return instance.probing;
  }

  /** The least busy instance that is healthy, has a free slot and a closed (or trial) breaker. */
  function pick(exclude: ReadonlySet<Instance>): Instance | undefined {
    const candidates = pool
      .filter((i) => !exclude.has(i) && i.healthy && i.inFlight < options.perInstanceConcurrency)
      .sort((a, b) => a.inFlight - b.inFlight);
    return candidates.find((i) => i.breaker.tryAcquire());
  }

  async function acquire(exclude: ReadonlySet<Instance>, signal: AbortSignal): Promise<Instance> {
    for (;;) {
      if (signal.aborted) throw abortReason(signal);
      const instance = pick(exclude);
      if (instance) {
        instance.inFlight++;
        return instance;
      }
      if (pool.every((i) => exclude.has(i))) throw new RetryableError('Every instance of this backend failed this job', 'backend_failed');
      // Wait only for instances that are merely busy; when every one left is down (unhealthy
      // or its circuit open), fail now so the job is retried later with backoff.
      const usable = pool.filter((i) => !exclude.has(i) && i.healthy && i.breaker.state !== 'open');
      if (usable.length === 0) {
        const answers = await Promise.all(pool.filter((i) => !exclude.has(i)).map(probe));
        if (answers.some(Boolean)) continue;
        throw new RetryableError('No instance of this backend is available (all unhealthy or failing)', 'backend_failed');
      }
      // Wait for a slot, a recovery or a cooldown to end (re-checked at least every 250 ms).
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 250).unref();
      });
    }
  }

  const first = instances[0]!;
  return {
    kind: first.kind,
    label: first.label,
    capabilities: first.capabilities,

    async generate(spec: JobSpec, ctx: GenerateContext): Promise<GeneratedOutput[]> {
      const tried = new Set<Instance>();
      let lastError: unknown;
      // After a failover the next instance counts from step 1 again: the job's progress holds
      // until it passes what the first had reached, so it never goes backwards.
      let reported = { step: 0, totalSteps: 0 };
      const monotonic: GenerateContext = {
        ...ctx,
        onProgress: (progress) => {
          const next = { step: Math.max(reported.step, progress.step), totalSteps: Math.max(reported.totalSteps, progress.totalSteps) };
          if (next.step === reported.step && next.totalSteps === reported.totalSteps) return;
          reported = next;
          ctx.onProgress(next);
        },
      };
      while (tried.size < pool.length) {
        const instance = await acquire(tried, ctx.signal);
        tried.add(instance);
        try {
          const outputs = await withTimeLimits((limited) => instance.backend.generate(spec, limited), monotonic, options.timeouts);
          instance.breaker.success();
          return outputs;
        } catch (error) {
          if (error instanceof CanceledError || error instanceof UnrecoverableError || ctx.signal.aborted) throw error;
          instance.breaker.failure();
          instance.lastError = { message: error instanceof Error ? error.message : String(error), at: clock() };
          lastError = error;
        } finally {
          instance.inFlight--;
          wake();
        }
      }
      throw lastError instanceof Error ? lastError : new RetryableError('Every instance of this backend failed this job');
    },

    async health() {
      return pool.some((i) => i.healthy && i.breaker.state !== 'open');
    },

    async probeInstances(signal: AbortSignal): Promise<readonly InstanceProbe[]> {
      return Promise.all(
        pool.map(async ({ backend }) => ({ label: backend.label, healthy: backend.health ? await backend.health(signal).catch(() => false) : true })),
      );
    },

    async close() {
      clearInterval(healthTimer);
      await Promise.all(pool.map((i) => i.backend.close?.()));
    },

    status: () => pool.map((i) => ({ label: i.backend.label, healthy: i.healthy, inFlight: i.inFlight, breaker: i.breaker.state })),

    healthReport(): BackendHealth {
      const up = pool.filter((i) => i.healthy && i.breaker.state !== 'open').length;
      const latest = pool
        .filter((i) => i.lastError !== undefined)
        .sort((a, b) => b.lastError!.at - a.lastError!.at)[0];
      return {
        healthy: up > 0,
        state: up === pool.length ? 'ok' : up === 0 ? 'down' : 'degraded',
        instances: { up, total: pool.length },
        inFlight: pool.reduce((n, i) => n + i.inFlight, 0),
        lastError: latest ? { message: latest.lastError!.message, at: new Date(latest.lastError!.at).toISOString(), instance: latest.backend.label } : null,
      };
    },
  };
}

export interface InstanceStatus {
  readonly label: string;
  readonly healthy: boolean;
  readonly inFlight: number;
  readonly breaker: 'closed' | 'open' | 'half-open';
}
