import { describe, expect, it } from 'vitest';
import type { Backend, GeneratedOutput } from '../../../src/backends/backend.js';
import { createCircuitBreaker } from '../../../src/backends/routing/circuit-breaker.js';
import { createRoutedBackend, type RoutingOptions } from '../../../src/backends/routing/routed-backend.js';
import { RetryableError } from '../../../src/errors/signals.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';

const spec = Object.freeze({ mode: 't2i', model: 'm', prompt: 'p', negativePrompt: undefined, width: 64, height: 64, steps: 2, cfgScale: 7, sampler: 'Euler', seed: 1, seedFixed: true, numImages: 1, hiresFix: false, priority: 0 }) as JobSpec;
const ctx = () => ({ signal: new AbortController().signal, onProgress: () => {} });
const output: GeneratedOutput = { kind: 'image', index: 0, seed: 1, width: 64, height: 64, data: Buffer.from('png') };
// Long cooldown and health interval: only an on-demand probe can bring the instance back in time.
const OPTIONS: RoutingOptions = { perInstanceConcurrency: 1, healthIntervalMs: 600_000, breaker: { failureThreshold: 2, cooldownMs: 600_000 }, timeouts: { warmupMs: 5_000, generationMs: 10_000 } };

/** One instance whose jobs and health answers the test switches, counting health checks. */
function restartable() {
  const state = { up: true, failJobs: false, healthChecks: 0, calls: 0 };
  const backend: Backend = {
    kind: 'fake',
    label: 'comfy #1',
    capabilities: { modes: ['t2i'], samplers: ['Euler'], maxWidth: 64, maxHeight: 64, maxSteps: 10, maxBatch: 1, cancel: true, preview: false, hiresFix: false },
    async generate() {
      state.calls += 1;
      if (!state.up || state.failJobs) throw new RetryableError('ECONNREFUSED', 'backend_failed');
      return [output];
    },
    async health() {
      state.healthChecks += 1;
      return state.up;
    },
  };
  return { backend, state };
}

describe('routed backend: an instance that comes back', () => {
  it('takes the first job after a restart at once: a probe on demand, not the breaker\'s cooldown', async () => {
    const { backend, state } = restartable();
    let now = 0;
    const routed = createRoutedBackend([backend], { ...OPTIONS, clock: () => now });
    state.up = false;
    for (let i = 0; i < 2; i++) await expect(routed.generate(spec, ctx())).rejects.toThrow('ECONNREFUSED');
    // Down and its circuit open: refused fast, after one probe.
    await expect(routed.generate(spec, ctx())).rejects.toThrow(/No instance of this backend is available/);
    expect(state.healthChecks).toBe(1);
    state.up = true; // the backend restarted
    now += 1_000; // probes of one instance are a second apart
    await expect(routed.generate(spec, ctx())).resolves.toEqual([output]);
    expect(routed.status()[0]!.breaker).toBe('closed');
    await routed.close?.();
  });

  it('probes at most once a second however many jobs ask while it is down', async () => {
    const { backend, state } = restartable();
    const routed = createRoutedBackend([backend], OPTIONS);
    state.up = false;
    for (let i = 0; i < 2; i++) await routed.generate(spec, ctx()).catch(() => undefined);
    const before = state.healthChecks;
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => routed.generate(spec, ctx())));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(state.healthChecks - before).toBe(1);
    await routed.close?.();
  });

  it('an instance that answers probes but fails its jobs gets one early trial, then waits out the cooldown', async () => {
    const { backend, state } = restartable();
    const routed = createRoutedBackend([backend], OPTIONS);
    state.failJobs = true;
    for (let i = 0; i < 2; i++) await routed.generate(spec, ctx()).catch(() => undefined);
    expect(state.calls).toBe(2);
    await expect(routed.generate(spec, ctx())).rejects.toThrow('ECONNREFUSED'); // the early trial
    expect(state.calls).toBe(3);
    await expect(routed.generate(spec, ctx())).rejects.toThrow(/No instance/);
    expect(state.calls).toBe(3);
    await routed.close?.();
  });
});

describe('circuit breaker: probed()', () => {
  it('makes the next request the trial once, until a success', () => {
    let now = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000 }, () => now);
    breaker.failure();
    expect(breaker.tryAcquire()).toBe(false);
    breaker.probed();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    breaker.probed(); // spent: no second shortcut
    expect(breaker.tryAcquire()).toBe(false);
    now += 1_000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
  });
});
