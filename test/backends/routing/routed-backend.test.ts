import { describe, expect, it } from 'vitest';
import type { Backend, GenerateContext, GeneratedOutput } from '../../../src/backends/backend.js';
import { createRoutedBackend, type RoutingOptions } from '../../../src/backends/routing/routed-backend.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../../src/errors/signals.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';

const spec = Object.freeze({ mode: 't2i', model: 'm', prompt: 'p', negativePrompt: undefined, width: 64, height: 64, steps: 2, cfgScale: 7, sampler: 'Euler', seed: 1, seedFixed: true, numImages: 1, hiresFix: false, priority: 0 }) as JobSpec;
const ctx = (signal = new AbortController().signal): GenerateContext => ({ signal, onProgress: () => {} });
const OPTIONS: RoutingOptions = { perInstanceConcurrency: 1, healthIntervalMs: 60_000, breaker: { failureThreshold: 2, cooldownMs: 60_000 }, timeouts: { warmupMs: 5_000, generationMs: 10_000 } };

interface Fake extends Backend {
  calls: number;
  behave: (signal: AbortSignal) => Promise<GeneratedOutput[]>;
  healthy: boolean;
}

function fake(name: string, behave: Fake['behave'] = async () => []): Fake {
  const backend: Fake = {
    kind: 'fake',
    label: name,
    capabilities: { modes: ['t2i'], samplers: ['Euler'], maxWidth: 64, maxHeight: 64, maxSteps: 10, maxBatch: 1, cancel: true, preview: false, hiresFix: false },
    calls: 0,
    behave,
    healthy: true,
    async generate(_spec, context) {
      backend.calls++;
      context.onProgress({ step: 1, totalSteps: 1 });
      return backend.behave(context.signal);
    },
    async health() {
      return backend.healthy;
    },
  };
  return backend;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('routed backend', () => {
  it('spreads concurrent jobs over idle instances and queues the rest', async () => {
    const a = fake('a', () => sleep(50).then(() => []));
    const b = fake('b', () => sleep(50).then(() => []));
    const routed = createRoutedBackend([a, b], OPTIONS);
    const started = Date.now();
    await Promise.all([1, 2, 3, 4].map(() => routed.generate(spec, ctx())));
    expect([a.calls, b.calls]).toEqual([2, 2]);
    // Two instances, one job each at a time: two rounds of 50 ms, not one, not four.
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    await routed.close?.();
  });

  it('fails over to another instance when one fails retryably', async () => {
    const order: string[] = [];
    // Both idle: the router tries the first instance of the least busy first.
    const broken = fake('broken', async () => {
      order.push('broken');
      throw new RetryableError('connection refused');
    });
    const output: GeneratedOutput = { kind: 'image', index: 0, seed: 1, width: 64, height: 64, data: Buffer.from('from good') };
    const good = fake('good', async () => (order.push('good'), [output]));
    const routed = createRoutedBackend([broken, good], OPTIONS);
    await expect(routed.generate(spec, ctx())).resolves.toEqual([output]);
    // The same job went to the broken instance, failed there, then ran on the good one.
    expect(order).toEqual(['broken', 'good']);
    expect(routed.status().map((s) => [s.label, s.inFlight])).toEqual([
      ['broken', 0],
      ['good', 0],
    ]);
    expect(routed.healthReport?.().lastError).toMatchObject({ message: 'connection refused', instance: 'broken' });
    await routed.close?.();
  });

  it('opens the circuit of an instance that keeps failing, so it is not hammered', async () => {
    const broken = fake('broken', async () => {
      throw new RetryableError('500');
    });
    const good = fake('good');
    const routed = createRoutedBackend([broken, good], OPTIONS);
    for (let i = 0; i < 10; i++) await routed.generate(spec, ctx());
    expect(broken.calls).toBe(2);
    expect(routed.status().find((s) => s.label === 'broken')?.breaker).toBe('open');
    await routed.close?.();
  });

  it('fails fast (retryably) when every instance is down instead of waiting', async () => {
    const broken = fake('broken', async () => {
      throw new RetryableError('500');
    });
    const routed = createRoutedBackend([broken], { ...OPTIONS, breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    await expect(routed.generate(spec, ctx())).rejects.toBeInstanceOf(RetryableError);
    // It answers its health check, so it gets one early trial (a restarted backend would pass it).
    await expect(routed.generate(spec, ctx())).rejects.toThrow('500');
    const started = Date.now();
    await expect(routed.generate(spec, ctx())).rejects.toThrow(/No instance of this backend is available/);
    expect(Date.now() - started).toBeLessThan(500);
    expect(broken.calls).toBe(2);
    await routed.close?.();
  });

  it('does not retry a job elsewhere after an unrecoverable error or a cancel', async () => {
    const bad = fake('bad', async () => {
      throw new UnrecoverableError('node error');
    });
    const other = fake('other');
    const routed = createRoutedBackend([bad, other], { ...OPTIONS, perInstanceConcurrency: 1 });
    // Make 'bad' the least busy pick by occupying nothing: both idle, first wins.
    await expect(routed.generate(spec, ctx())).rejects.toBeInstanceOf(UnrecoverableError);
    expect(other.calls).toBe(0);
    await routed.close?.();
  });

  it('throws backend_timeout when the first progress never comes (warm-up limit), even if the backend ignores its signal', async () => {
    const stuck: Backend = { ...fake('stuck'), generate: () => new Promise(() => {}) };
    const routed = createRoutedBackend([stuck], { ...OPTIONS, timeouts: { warmupMs: 100, generationMs: 5_000 } });
    const started = Date.now();
    const error = await routed.generate(spec, ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('backend_timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    await routed.close?.();
  });

  it('throws backend_timeout past the generation limit', async () => {
    const slow = fake('slow', () => sleep(2_000).then(() => []));
    const routed = createRoutedBackend([slow], { ...OPTIONS, timeouts: { warmupMs: 5_000, generationMs: 150 } });
    await expect(routed.generate(spec, ctx())).rejects.toMatchObject({ code: 'backend_timeout' });
    await routed.close?.();
  });

  it('surfaces a cancel as a cancel', async () => {
    const slow = fake('slow', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new CanceledError()))));
    const routed = createRoutedBackend([slow], OPTIONS);
    const abort = new AbortController();
    const pending = routed.generate(spec, ctx(abort.signal));
    setTimeout(() => abort.abort(new CanceledError()), 20);
    await expect(pending).rejects.toBeInstanceOf(CanceledError);
    await routed.close?.();
  });

  it('skips an instance whose health check fails', async () => {
    const sick = fake('sick');
    sick.healthy = false;
    const well = fake('well');
    const routed = createRoutedBackend([sick, well], { ...OPTIONS, healthIntervalMs: 20 });
    await sleep(60);
    for (let i = 0; i < 3; i++) await routed.generate(spec, ctx());
    expect([sick.calls, well.calls]).toEqual([0, 3]);
    expect(await routed.health?.()).toBe(true);
    await routed.close?.();
  });
});
